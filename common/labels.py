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
}
"""What each indicator is, in words (its unit comes with its grid)."""

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
