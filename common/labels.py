"""What a release's fields mean, in words: one wording for the command line, the dashboard and the report."""

from __future__ import annotations

from protos.fleetbench.v1 import release_pb2, spec_pb2

WIND_SPEED_REFERENCES: dict[str, spec_pb2.WindSpeedReference] = {
    "nacelle": spec_pb2.NACELLE_ANEMOMETER,
    "ntf": spec_pb2.NACELLE_TRANSFER_FUNCTION,
    "mast": spec_pb2.MET_MAST,
}
"""A cohort's wind-speed reference by its short name (the command line's and the cohort name's)."""

WIND_SPEED_REFERENCE_LABELS = {
    spec_pb2.NACELLE_ANEMOMETER: (
        "nacelle wind speed",
        "Wind speed from the nacelle anemometers, behind the rotor, as the SCADA logs it: a nacelle power curve, "
        "not an IEC 61400-12-1 measurement, so its Cp and AEP are indicative and compare with nacelle curves only.",
    ),
    spec_pb2.NACELLE_TRANSFER_FUNCTION: (
        "free-stream wind speed (NTF)",
        "Free-stream wind speed read from the nacelle anemometers through each turbine type's nacelle transfer "
        "function (IEC 61400-12-2): a nacelle power performance measurement.",
    ),
    spec_pb2.MET_MAST: (
        "free-stream wind speed (met mast)",
        "Free-stream wind speed from met masts in front of the turbines (IEC 61400-12-1).",
    ),
}
"""Per wind-speed reference: the axis's name for the wind speed, and what it means for the curve."""


def wind_speed_reference_note(curve: release_pb2.CohortCurve) -> str:
    """What the cohort curve's wind speed is, and so what it can be compared with."""
    return WIND_SPEED_REFERENCE_LABELS[curve.wind_speed_reference][1]


def wind_speed_axis(curve: release_pb2.CohortCurve) -> str:
    """The axis title of the cohort curve's wind speed, with its reference."""
    return f"{WIND_SPEED_REFERENCE_LABELS[curve.wind_speed_reference][0]}, density-normalised [m/s]"


INDICATOR_LABELS = {
    "performance_index": "performance index (energy over the cohort curve's expectation)",
    "yaw_misalignment": "static yaw misalignment",
    "time_availability": "time-based availability (IEC 61400-26-1)",
    "production_availability": "production-based availability (IEC 61400-26-2)",
    "performance_ratio": "performance ratio PR (IEC 61724-1)",
    "performance_ratio_stc": "temperature-corrected performance ratio PR_STC (IEC 61724-1)",
    "degradation_rate": "degradation rate (year on year, RdTools)",
    "degradation_interval": "width of the degradation rate's confidence interval",
    "soiling_loss": "soiling loss (RdTools stochastic rate and recovery)",
    "clipping_share": "clipping: share of daylight records at the inverter's AC limit",
    "inverter_availability": "inverter time-based availability (daylight records)",
}
"""What each indicator is, in words (its unit comes with its grid)."""

LOSS_CATEGORY_LABELS = {
    "inverter_fault": "inverter fault",
    "grid": "grid outage",
    "maintenance": "maintenance",
    "curtailment": "curtailment",
}
"""A solar release's lost-production categories (protos.domain.SOLAR_LOSS_CATEGORIES), in words; a wind
release's IEC 61400-26 categories are shown by their own names."""

IRRADIANCE_AXIS = "in-plane irradiance G_i [W/m^2]"
SPECIFIC_POWER_AXIS = "specific power P_out / P_0 [kW/kWp]"
SOLAR_CURVE_NOTE = (
    "Energy-normalised curve: each plant's AC output per kWp of its DC nameplate (P_out / P_0) against the "
    "in-plane irradiance (its sensor's, or transposed on site from global horizontal), over the records its "
    "inverters were available; 15-minute records, "
    "binned by irradiance. It compares plants of any size; at 1000 W/m^2 a plant without losses would give about "
    "1 kW/kWp less its temperature, inverter and wiring losses."
)
"""What a solar cohort's curve is, and so what it can be compared with."""


def loss_category_label(category: str) -> str:
    """A lost-production category as a reader would name it."""
    return LOSS_CATEGORY_LABELS.get(category, category)


CHANNEL_LABELS = {
    "WTRM_GbxBrgTmp": "gearbox bearing temperature",
    "WGEN_GnBrgTmp": "generator bearing temperature",
}
"""The normal-behaviour models' targets, in words."""


def indicator_label(indicator: str) -> str:
    """An indicator as a reader would name it: "residual:WTRM_GbxBrgTmp" is the gearbox bearing's residual."""
    kind, _, target = indicator.partition(":")
    if target:
        what = CHANNEL_LABELS.get(target, target)
        if kind == "residual":
            return f"{what}: residual against its normal-behaviour model"
        if kind == "max_daily_residual":
            return f"{what}: largest daily mean residual"
        if kind == "lost_production":
            return f"energy lost to {loss_category_label(target)} (share of the plant's potential)"
    return INDICATOR_LABELS.get(indicator, indicator.replace("_", " "))


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun`` in the number it takes: "1 release", "2 releases", "0 releases".

    Parameters
    ----------
    count : int
        How many.
    noun : str
        The noun in the singular.
    plural : str, optional
        Its plural, where it is not ``noun + "s"`` ("1 turbine-year", "3 analyses").
    """
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"
