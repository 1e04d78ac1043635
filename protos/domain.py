"""Domain facts both ends of the contract must agree on: the record, the year, IEC categories, bounds.

A site computes and bounds its blocks with these values and the aggregator builds specs and
finalises releases with the same ones, so they live in the contract package, once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RECORD_PERIOD = pd.Timedelta(minutes=10)
"""The SCADA record every statistic counts: one 10-minute mean (IEC 61400-12-1:2017, 8.2)."""

RECORD_HOURS = RECORD_PERIOD / pd.Timedelta(hours=1)
"""One record's duration [h]."""

JULIAN_YEAR = pd.Timedelta(days=365.25)
"""The year of turbine-years and failure rates [d]."""

JULIAN_YEAR_HOURS = JULIAN_YEAR / pd.Timedelta(hours=1)
"""Hours in a turbine-year [h]."""

KWH_PER_MWH = 1000.0
"""[kWh / MWh]: a record of P [kW] produces P * RECORD_HOURS / KWH_PER_MWH [MWh]."""

MIN_RECORDS_PER_BIN = 3
"""Records a wind-speed bin needs for a complete database (IEC 61400-12-1:2017, 8.3) [-]."""

MIN_DATABASE_HOURS = 180.0
"""Hours of records a complete database needs (IEC 61400-12-1:2017, 8.3) [h]."""

# Largest |value| a single 10-min record may carry, matching the canonical channels' physical ranges
# (client/schema.py reads them from here): every per-site bound of the contract derives from them.
REFERENCE_AIR_DENSITY = 1.225  # [kg/m^3], the industry-wide rho0 (IEC 61400-12-1, 9.1.5)
MAX_WIND_SPEED = 60.0  # [m/s]
MAX_ABS_POWER = 3.0e4  # [kW]
MAX_ABS_POWER_PER_UNIT = 2.0  # [-], the range filter's limit on P / P_rated
MAX_ABS_POWER_PER_AREA = 4000.0  # [W/m^2]
MAX_ABS_NBM_VALUE = 250.0  # [degC or -]: largest |centred value| of a model's features and targets
MAX_MWH_PER_RECORD = MAX_ABS_POWER * RECORD_HOURS / KWH_PER_MWH  # [MWh]

AVAILABILITY_CATEGORIES: dict[str, bool | None] = {
    "full_performance": True,
    "partial_performance": True,
    "technical_standby": True,
    "out_of_environmental_specification": True,
    "requested_shutdown": True,
    "out_of_electrical_specification": True,
    "scheduled_maintenance": False,
    "planned_corrective_action": False,
    "forced_outage": False,
    "suspended": False,
    "force_majeure": None,
    "information_unavailable": None,
}
"""IEC 61400-26-1:2019 information categories a status code can map to, and whether time in each
counts as available (True), unavailable (False) or is excluded from time-based availability (None)."""

LOSS_CATEGORIES = tuple(c for c, available in AVAILABILITY_CATEGORIES.items() if available is not None)
"""The categories lost production is counted in (the excluded ones carry no availability)."""

COMPONENTS = ("gearbox", "generator", "pitch_system", "converter", "yaw_system", "blades", "other")
"""Component categories a forced-outage status code can name, for failure rates (reliability)."""

AGE_BAND_EDGES = (0.0, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0)
"""Turbine-age band edges [year]: infant, early, mid-life, wear-out; the last band is open."""

NBM_FEATURES = ("power_per_unit", "power_per_unit_squared", "ambient_temperature")
"""Regressors a normal-behaviour model may name: P / P_rated [-], its square [-], ambient temperature [degC]."""


MONTH_FORMAT = "%Y-%m"
"""How a month of a monthly statistic is named, in releases and on site (strftime)."""


def period_months(start: str, end: str) -> pd.DatetimeIndex:
    """The calendar months (UTC) the period [start, end) overlaps, as their first instants.

    Monthly statistics have one entry per month, partial first and last months included.

    Parameters
    ----------
    start, end : str
        The period's bounds, UTC timestamps (ISO 8601).
    """
    first = pd.Timestamp(start).tz_convert("UTC").tz_localize(None).to_period("M")
    last = (pd.Timestamp(end).tz_convert("UTC").tz_localize(None) - pd.Timedelta(1, "ns")).to_period("M")
    return pd.period_range(first, last, freq="M").to_timestamp().tz_localize("UTC")


def month_index(time: pd.Series, months: pd.DatetimeIndex) -> np.ndarray:
    """Index into ``months`` (:func:`period_months`) of each UTC timestamp; -1 before or after them."""
    ends = months + pd.offsets.MonthBegin(1)
    edges = np.append(months.asi8, ends.asi8[-1:])
    index = np.searchsorted(edges, time.array.as_unit(months.unit).asi8, side="right") - 1
    return np.where(index < len(months), index, -1)


SITE_KINDS = ("wind", "solar")
"""What a site serves (site.toml ``[site] kind``, wind when absent); a release asks only sites of its spec's kind."""

SOLAR_RECORD_PERIOD = pd.Timedelta(minutes=15)
"""The solar record every solar statistic counts: one 15-minute mean per inverter."""

SOLAR_RECORD_HOURS = SOLAR_RECORD_PERIOD / pd.Timedelta(hours=1)
"""One solar record's duration [h]."""

SOLAR_LOSS_CATEGORIES = ("inverter_fault", "grid", "maintenance", "curtailment")
"""Why a solar inverter was unavailable: a site maps its status codes to these (site.toml [status]);
lost production is released by category."""

SOLAR_COMPONENTS = ("inverter", "transformer", "tracker", "combiner_box", "modules", "communication", "other")
"""What fails in a solar plant: a site names the fault status codes that are each one's failures
(site.toml [status.components]); failure rates are released by component."""

MAX_INVERTER_AC_KW = 1.0e4
"""Largest AC output of one inverter [kW] (the P_out channel's range)."""

MODULE_TECHNOLOGIES = ("mono-Si", "multi-Si", "CdTe", "CIGS", "a-Si")
"""Module technologies a solar plant declares and a solar cohort selects."""

MOUNTINGS = ("fixed", "single_axis")
"""How a plant's modules are mounted."""

CLIMATE_ZONES = ("tropical", "arid", "temperate", "continental", "polar")
"""Köppen-Geiger main climate groups (A to E)."""
