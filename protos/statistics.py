"""The statistics registry: for every summable statistic, its unit, fixed point, shape, bound and role.

This is the one list both ends read. The aggregator builds a spec's blocks from it
(server/spec.py); every site checks each block of a spec it receives against it before computing
anything (:func:`check_block`, called by :func:`protos.codec.block_layouts`); the proto's comments
state the same units (checked by tests/protos/test_statistics.py). A block is named by a
:class:`BlockKey`, the only way a block key is made.

Shape and bound rules read what the spec already states (its grids, ``max_turbines_per_site`` and
period), never a site's data: the largest value one site may send follows from the most turbines
it may bring times the records a period holds times the largest value a record can carry
(:mod:`protos.domain`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

import numpy as np
import pandas as pd

from protos.commitment import RANDOMNESS_LIMB_BITS, RANDOMNESS_LIMBS
from protos.disclosure import cohort_atoms
from protos.domain import (
    JULIAN_YEAR,
    JULIAN_YEAR_HOURS,
    MAX_ABS_NBM_VALUE,
    MAX_ABS_POWER,
    MAX_ABS_POWER_PER_AREA,
    MAX_ABS_POWER_PER_UNIT,
    MAX_MWH_PER_RECORD,
    MAX_WIND_SPEED,
    RECORD_PERIOD,
    SOLAR_RECORD_PERIOD,
    period_months,
)
from protos.fleetbench.v1 import spec_pb2

S = spec_pb2.Statistic
NOISE_HEADROOM_STDDEVS = 40.0
"""A noised value stays within its per-site bound unless the noise exceeds this many standard deviations
(probability below 1e-340 for a discrete Gaussian)."""


@dataclass(frozen=True, order=True)
class BlockKey:
    """The name of one block: a statistic of a cohort, and for per-target statistics, its target channel."""

    cohort: str
    statistic: spec_pb2.Statistic
    target: str = ""

    @classmethod
    def of(cls, block: spec_pb2.Block) -> BlockKey:
        """The key of a spec's block."""
        return cls(block.cohort, block.statistic, block.target)

    @property
    def name(self) -> str:
        """Printable name: ``"E-82/2300:RECORD_COUNT"``, ``"E-82/2300:NBM_GRAM:WTRM_GbxBrgTmp"``, ``"CURVE_CENSUS"``.

        For people and logs (the audit log records it); code indexes blocks by the key itself.
        """
        name = f"{self.cohort}:{S.Name(self.statistic)}" if self.cohort else S.Name(self.statistic)
        return f"{name}:{self.target}" if self.target else name

    def __str__(self) -> str:
        return self.name


Value = TypeVar("Value")


class CohortBlocks(Generic[Value]):
    """One cohort's entries of a mapping keyed by :class:`BlockKey`, looked up by statistic (and target).

    Parameters
    ----------
    values : mapping
        Block key -> value (block values, fixed-point totals, ...).
    cohort : str
        The cohort whose blocks are read.
    """

    def __init__(self, values: Mapping[BlockKey, Value], cohort: str) -> None:
        self.values, self.cohort = values, cohort

    def __call__(self, statistic: spec_pb2.Statistic, target: str = "") -> Value:
        """The cohort's block of ``statistic`` (for ``target``, a per-target statistic)."""
        return self.values[BlockKey(self.cohort, statistic, target)]


class CensusFields(NamedTuple):
    """The fields along the first axis of a census block, in payload order."""

    contributor: np.ndarray  # 1 where the site has anything in the cell, else 0
    total: np.ndarray  # the site's total in the cell (records, turbines, turbine-years)
    total_squared: np.ndarray  # that total squared, for the dominance rule


INDICATOR_CELLS = (
    "performance_index",
    "yaw_misalignment",
    "time_availability",
    "production_availability",
    "lost_production",
)
"""Round 2's disclosure-control cells per cohort, before one per model target (its residuals)."""


MONTHLY_INDICATORS = ("performance_index", "time_availability")
"""Round 2's indicators released month by month. A monthly cell is one of them in one month of the
period (:func:`protos.domain.period_months`), indicator-major: cell ``i * months + m``."""


def monthly_grids(spec: spec_pb2.BenchmarkSpec) -> dict[str, tuple[spec_pb2.Statistic, spec_pb2.BinGrid]]:
    """Each of :data:`MONTHLY_INDICATORS`: the statistic of its monthly histogram and the round-2 spec's grid of it."""
    ind = spec.indicators
    return {
        "performance_index": (S.MONTHLY_PERFORMANCE_INDEX_HISTOGRAM, ind.monthly_performance_index_bins),
        "time_availability": (S.MONTHLY_TIME_AVAILABILITY_HISTOGRAM, ind.monthly_availability_bins),
    }


def indicator_cells(spec: spec_pb2.BenchmarkSpec) -> tuple[str, ...]:
    """The names of round 2's cells per cohort: :data:`INDICATOR_CELLS`, then ``residual:<target>`` per model."""
    return (*INDICATOR_CELLS, *(f"residual:{model.target}" for model in spec.models))


SOLAR_CELLS = (
    "performance_ratio",
    "performance_ratio_stc",
    "degradation_rate",
    "degradation_interval",
    "soiling_loss",
    "clipping_share",
    "inverter_availability",
    "lost_production",
    "failures",
)
"""A solar release's disclosure-control cells per cohort besides its irradiance bins: the plants'
distributions (counted in plants), the inverters' availability (in inverters), the plants' lost
production by category (in plants: one cell for every category, each plant is in all of them), and
the failure rates by component (in inverters observed for failures: one cell for every component)."""

SOLAR_INDICATORS = SOLAR_CELLS[: SOLAR_CELLS.index("lost_production")]
"""A solar release's distributions (performance ratio .. inverter availability), in the order pages and the
report show them: SOLAR_CELLS less lost production (a distribution per category) and failures (rates)."""

SOLAR_INVERTER_CELLS = ("inverter_availability", "failures")
"""The solar cells whose census counts inverters; the others count plants."""

MAX_SPECIFIC_POWER = 2.0
"""Largest |P_out / P_0| of a solar record [kW/kWp]: an AC output twice the DC capacity is no plant's."""


SOLAR_DISTRIBUTIONS: dict[str, spec_pb2.Statistic] = {
    "performance_ratio": S.PERFORMANCE_RATIO_HISTOGRAM,
    "performance_ratio_stc": S.PERFORMANCE_RATIO_STC_HISTOGRAM,
    "degradation_rate": S.DEGRADATION_RATE_HISTOGRAM,
    "degradation_interval": S.DEGRADATION_INTERVAL_HISTOGRAM,
    "soiling_loss": S.SOILING_LOSS_HISTOGRAM,
    "clipping_share": S.CLIPPING_SHARE_HISTOGRAM,
    "inverter_availability": S.INVERTER_AVAILABILITY_HISTOGRAM,
    "lost_production": S.SOLAR_LOST_PRODUCTION,
}
"""Each solar distribution cell (SOLAR_CELLS less failures) and the statistic of its histogram (lost production:
one histogram per cause), in payload order."""


def solar_histograms(solar: spec_pb2.SolarSpec) -> dict[str, tuple[spec_pb2.Statistic, spec_pb2.BinGrid]]:
    """Each solar distribution cell but lost production: the statistic of its histogram and the solar spec's grid."""
    grids = {
        "performance_ratio": solar.performance_ratio_bins,
        "performance_ratio_stc": solar.performance_ratio_bins,
        "degradation_rate": solar.degradation_bins,
        "degradation_interval": solar.degradation_interval_bins,
        "soiling_loss": solar.soiling_loss_bins,
        "clipping_share": solar.clipping_share_bins,
        "inverter_availability": solar.availability_bins,
    }
    return {cell: (SOLAR_DISTRIBUTIONS[cell], grid) for cell, grid in grids.items()}


class NbmRecordCount(NamedTuple):
    """The fields of an NBM_RECORD_COUNT block, in payload order [-]."""

    records: float  # n, training records
    turbines: float  # turbines with training records
    contributor: float  # 1 when the site has any training record, else 0


@dataclass(frozen=True)
class SpecExtent:
    """What a spec states about the size of one site's contribution: the grids and the most records.

    Parameters
    ----------
    spec : BenchmarkSpec
        Any spec (round 1, round 2 or private).
    """

    wind_speed_bins: int
    power_per_unit_bins: int
    max_turbines: int
    max_records: int  # per site in the period: max_turbines x records the period holds
    max_turbine_years: float  # [year], per site in the period
    features: Mapping[str, int]  # model target -> number of features
    indicator_bins: Mapping[spec_pb2.Statistic, int]  # histogram statistic -> bins of its grid (round 2)
    loss_categories: int
    components: int
    age_bands: int
    max_records_per_turbine_per_bin: int  # private specs, else 0
    min_noise_sites: int  # private specs, else 0
    atoms: int  # sets of cohorts one turbine can be in at once (protos/disclosure.py)
    cohorts: int
    indicator_cells: int  # round 2's disclosure-control cells per cohort
    months: int  # calendar months the period overlaps
    monthly_bins: Mapping[spec_pb2.Statistic, int]  # monthly histogram statistic -> bins of its grid (round 2)
    max_inverters: int  # solar specs, else 0
    max_solar_records: int  # per site in the period: max_inverters x 15-min records the period holds
    max_inverter_years: float  # [year], per site in the period
    max_years_per_inverter: float  # [year]: the 15-min records the period holds
    max_failures_per_inverter: int  # a private solar spec's failure cap, else 0
    max_downtime_hours_per_inverter: int  # [h] a private solar spec's downtime cap, else 0
    irradiance_bins: int
    specific_power_bins: int
    solar_bins: Mapping[spec_pb2.Statistic, int]  # solar histogram statistic -> bins of its grid
    solar_loss_categories: int
    solar_lost_production_bins: int
    solar_components: int

    @classmethod
    def of(cls, spec: spec_pb2.BenchmarkSpec) -> SpecExtent:
        """The extent of ``spec``.

        Raises
        ------
        ValueError
            If the period is not two UTC timestamps with start < end.
        """
        start, end = pd.Timestamp(spec.period.start), pd.Timestamp(spec.period.end)
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            raise ValueError(
                f"spec {spec.spec_id}: period must be two UTC timestamps with start < end, "
                f"got {spec.period.start!r}, {spec.period.end!r}"
            )
        max_records = spec.max_turbines_per_site * math.ceil((end - start) / RECORD_PERIOD)
        years_per_inverter = math.ceil((end - start) / SOLAR_RECORD_PERIOD) * (SOLAR_RECORD_PERIOD / JULIAN_YEAR)
        ind, solar = spec.indicators, spec.solar
        return cls(
            wind_speed_bins=spec.wind_speed_bins.count,
            power_per_unit_bins=spec.normalised_power_bins.count,
            max_turbines=spec.max_turbines_per_site,
            max_records=max_records,
            max_turbine_years=max_records * RECORD_PERIOD / JULIAN_YEAR,
            features={m.target: len(m.features) for m in spec.models},
            indicator_bins={
                S.PERFORMANCE_INDEX_HISTOGRAM: ind.performance_index_bins.count,
                S.YAW_MISALIGNMENT_HISTOGRAM: ind.yaw_misalignment_bins.count,
                S.TIME_AVAILABILITY_HISTOGRAM: ind.availability_bins.count,
                S.PRODUCTION_AVAILABILITY_HISTOGRAM: ind.availability_bins.count,
                S.NBM_RESIDUAL_HISTOGRAM: ind.residual_bins.count,
            },
            loss_categories=len(ind.loss_categories),
            components=len(ind.components),
            age_bands=len(ind.age_band_edges),
            max_records_per_turbine_per_bin=spec.privacy.max_records_per_turbine_per_bin,
            min_noise_sites=spec.privacy.min_noise_sites,
            atoms=len(cohort_atoms(spec.cohorts)),
            cohorts=len(spec.cohorts),
            indicator_cells=len(indicator_cells(spec)),
            months=len(period_months(spec.period.start, spec.period.end)),
            monthly_bins={
                S.MONTHLY_PERFORMANCE_INDEX_HISTOGRAM: ind.monthly_performance_index_bins.count,
                S.MONTHLY_TIME_AVAILABILITY_HISTOGRAM: ind.monthly_availability_bins.count,
            },
            max_inverters=solar.max_inverters_per_site,
            max_solar_records=solar.max_inverters_per_site * math.ceil((end - start) / SOLAR_RECORD_PERIOD),
            max_inverter_years=solar.max_inverters_per_site * years_per_inverter,
            max_years_per_inverter=years_per_inverter,
            max_failures_per_inverter=spec.privacy.max_failures_per_inverter,
            max_downtime_hours_per_inverter=spec.privacy.max_downtime_hours_per_inverter,
            irradiance_bins=solar.irradiance_bins.count,
            specific_power_bins=solar.specific_power_bins.count,
            solar_bins={statistic: grid.count for statistic, grid in solar_histograms(solar).values()},
            solar_loss_categories=len(solar.loss_categories),
            solar_lost_production_bins=solar.lost_production_bins.count,
            solar_components=len(solar.components),
        )


BoundRule = Callable[[SpecExtent, spec_pb2.Block], float]
ShapeRule = Callable[[SpecExtent, spec_pb2.Block], tuple[int, ...]]


@dataclass(frozen=True)
class StatisticEntry:
    """How one statistic is sent: unit, fixed point, shape and per-site bound, and what it is for."""

    statistic: spec_pb2.Statistic
    unit: str
    scale_exponent: int  # fixed point: the integer sent is round(value * 2^scale_exponent)
    shape: ShapeRule
    bound: BoundRule  # largest |value| of any element one site may send, in `unit`
    census: bool  # a census input (protos/census.py): decides suppression, never published
    per_target: bool = False  # one block per normal-behaviour model target
    fields: type[tuple[float, ...]] | None = None  # a composite block's named elements
    spec_wide: bool = False  # one block for the whole spec (cohort ""), not one per cohort

    @property
    def name(self) -> str:
        """The statistic's enum name, e.g. ``"RECORD_COUNT"``."""
        return S.Name(self.statistic)


def _wind_speed_bins(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.wind_speed_bins,)


def _power_histogram(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.wind_speed_bins, e.power_per_unit_bins)


def _one(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (1,)


def _features_squared(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.features.get(b.target, 0),) * 2


def _features(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.features.get(b.target, 0),)


def _nbm_record_count(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (len(NbmRecordCount._fields),)


def _indicator_grid(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.indicator_bins[b.statistic],)


def _monthly_grid(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.months, e.monthly_bins[b.statistic])


def _monthly_cells(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (len(MONTHLY_INDICATORS) * e.months,)


def _losses_and_potential(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.loss_categories + 1,)


def _components_by_age(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.components, e.age_bands)


def _age_bands(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.age_bands,)


def _irradiance_bins(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.irradiance_bins,)


def _specific_power_histogram(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.irradiance_bins, e.specific_power_bins)


def _solar_grid(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.solar_bins[b.statistic],)


def _solar_loss_grids(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.solar_loss_categories, e.solar_lost_production_bins)


def _solar_components(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.solar_components,)


def _solar_cells(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (len(SOLAR_CELLS),)


def _census_of(cells: ShapeRule) -> ShapeRule:
    """Shape of a census block: its three fields, per atom and then per cohort, per cell of ``cells``."""
    return lambda e, b: (len(CensusFields._fields), e.atoms + e.cohorts, *cells(e, b))


def _no_cells(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return ()


def _indicator_cells(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (e.indicator_cells,)


def _records_times(value: float) -> BoundRule:
    """Bound: the most records a site may have, each carrying at most ``value``."""
    return lambda e, b: e.max_records * value


def _records(e: SpecExtent, b: spec_pb2.Block) -> float:
    return float(e.max_records)


def _records_squared(e: SpecExtent, b: spec_pb2.Block) -> float:
    return float(e.max_records) ** 2


def _indicator(e: SpecExtent, b: spec_pb2.Block) -> float:
    return 1.0


def _commitment_limbs(e: SpecExtent, b: spec_pb2.Block) -> tuple[int, ...]:
    return (RANDOMNESS_LIMBS,)


def _commitment_limb(e: SpecExtent, b: spec_pb2.Block) -> float:
    return float((1 << RANDOMNESS_LIMB_BITS) - 1)


def _turbines(e: SpecExtent, b: spec_pb2.Block) -> float:
    return float(e.max_turbines)


def _turbines_squared(e: SpecExtent, b: spec_pb2.Block) -> float:
    return float(e.max_turbines) ** 2


def _turbine_years(e: SpecExtent, b: spec_pb2.Block) -> float:
    return e.max_turbine_years


def _turbine_years_squared(e: SpecExtent, b: spec_pb2.Block) -> float:
    return e.max_turbine_years**2


def _turbine_hours(e: SpecExtent, b: spec_pb2.Block) -> float:
    return e.max_turbine_years * JULIAN_YEAR_HOURS


def site_noise_stddev(noise_stddev: float, min_noise_sites: int) -> float:
    """Standard deviation of one site's share of a block's noise [block unit].

    The contract's split of distributed noise (spec.proto, DifferentialPrivacy): each site adds
    sigma / sqrt(t - 1), so the noise of any t - 1 sites together has variance sigma^2 and the sum
    keeps it when one participant (knowing its own noise) subtracts its share.

    Parameters
    ----------
    noise_stddev : float
        sigma, the noise the spec states for the sum [block unit].
    min_noise_sites : int
        t, the fewest sites a release is finalised with (at least 2).
    """
    if min_noise_sites < 2:
        raise ValueError(f"min_noise_sites must be at least 2, got {min_noise_sites}")
    return noise_stddev / math.sqrt(min_noise_sites - 1)


def _solar_records(e: SpecExtent, b: spec_pb2.Block) -> float:
    return float(e.max_solar_records)


def _solar_failures(e: SpecExtent, b: spec_pb2.Block) -> float:
    if e.max_failures_per_inverter and b.noise_stddev:  # a private spec's: each inverter's capped
        return float(e.max_inverters * e.max_failures_per_inverter) + _noise_headroom(e, b)
    return _solar_records(e, b)  # at most one a record


def _inverter_years(e: SpecExtent, b: spec_pb2.Block) -> float:
    return e.max_inverter_years + _noise_headroom(e, b)


def _inverter_hours(e: SpecExtent, b: spec_pb2.Block) -> float:
    if e.max_downtime_hours_per_inverter and b.noise_stddev:  # a private spec's: each inverter's capped
        return float(e.max_inverters * e.max_downtime_hours_per_inverter) + _noise_headroom(e, b)
    return e.max_inverter_years * JULIAN_YEAR_HOURS


def _solar_records_times(value: float) -> BoundRule:
    """Bound: the most solar records a site may have, each carrying at most ``value``."""
    return lambda e, b: e.max_solar_records * value


def _solar_records_squared(e: SpecExtent, b: spec_pb2.Block) -> float:
    return float(e.max_solar_records) ** 2


def noise_headroom(block: spec_pb2.Block, min_noise_sites: int) -> float:
    """What a noised block's per-site bound allows above the value: NOISE_HEADROOM_STDDEVS of a site's noise.

    A site clips its value to the bound less this before adding its noise, and never after: clipping a noised
    value would cut its noise one-sided wherever the value sits at the bound (0 for a block without noise).
    """
    if not block.noise_stddev:
        return 0.0
    return NOISE_HEADROOM_STDDEVS * site_noise_stddev(block.noise_stddev, min_noise_sites)


def _noise_headroom(e: SpecExtent, b: spec_pb2.Block) -> float:
    return noise_headroom(b, e.min_noise_sites)


def _plant(e: SpecExtent, b: spec_pb2.Block) -> float:
    return 1.0 + _noise_headroom(e, b)  # a solar site is one plant


def _inverters(e: SpecExtent, b: spec_pb2.Block) -> float:
    return float(e.max_inverters) + _noise_headroom(e, b)


def _inverters_squared(e: SpecExtent, b: spec_pb2.Block) -> float:
    return float(e.max_inverters) ** 2


def _capped_weight(e: SpecExtent, b: spec_pb2.Block) -> float:
    units = e.max_inverters if b.statistic == S.CAPPED_SPECIFIC_POWER_HISTOGRAM else e.max_turbines
    return units * e.max_records_per_turbine_per_bin + _noise_headroom(e, b)


# The plants' distributions and failures count in 2^-8: a private spec's noise is drawn on the fixed-point integers,
# and the distributed discrete Gaussian costs extra privacy (protos.privacy.block_rho's tau) unless each
# site's share spans many of them; with hundreds of noise sites a share is a fraction of a count.
_COUNT_NOISE_EXPONENT = 8
_VALUE = False  # summed in a values round, for the cells the census lets through
_CENSUS = True  # summed in the census round, before any value: decides suppression, never published

STATISTICS: dict[spec_pb2.Statistic, StatisticEntry] = {
    entry.statistic: entry
    for entry in (
        # Power curves (round 1), per cohort and wind-speed bin. Fixed-point exponents: finer than the
        # float64 resolution of any sum above 2^13 in its unit, so the secure sum matches a pooled
        # float64 computation to ~1e-12 relative.
        StatisticEntry(S.RECORD_COUNT, "1", 0, _wind_speed_bins, _records, _VALUE),
        StatisticEntry(S.SUM_WIND_SPEED, "m/s", 40, _wind_speed_bins, _records_times(MAX_WIND_SPEED), _VALUE),
        StatisticEntry(S.SUM_POWER, "kW", 40, _wind_speed_bins, _records_times(MAX_ABS_POWER), _VALUE),
        StatisticEntry(S.SUM_POWER_SQUARED, "kW^2", 32, _wind_speed_bins, _records_times(MAX_ABS_POWER**2), _VALUE),
        StatisticEntry(S.NORMALISED_POWER_HISTOGRAM, "1", 0, _power_histogram, _records, _VALUE),
        StatisticEntry(S.BIN_CONTRIBUTOR, "1", 0, _wind_speed_bins, _indicator, _VALUE),
        StatisticEntry(S.COHORT_CONTRIBUTOR, "1", 0, _one, _indicator, _VALUE),
        StatisticEntry(S.SUM_POWER_PER_UNIT, "1", 48, _wind_speed_bins, _records_times(MAX_ABS_POWER_PER_UNIT), _VALUE),
        StatisticEntry(
            S.SUM_POWER_PER_UNIT_SQUARED, "1", 48, _wind_speed_bins, _records_times(MAX_ABS_POWER_PER_UNIT**2), _VALUE
        ),
        StatisticEntry(
            S.SUM_POWER_PER_AREA, "W/m^2", 40, _wind_speed_bins, _records_times(MAX_ABS_POWER_PER_AREA), _VALUE
        ),
        # Normal-behaviour models (round 1), per cohort and model target.
        StatisticEntry(
            S.NBM_GRAM,
            "feature^2",
            24,
            _features_squared,
            _records_times(MAX_ABS_NBM_VALUE**2),
            _VALUE,
            per_target=True,
        ),
        StatisticEntry(
            S.NBM_MOMENT,
            "feature x target",
            24,
            _features,
            _records_times(MAX_ABS_NBM_VALUE**2),
            _VALUE,
            per_target=True,
        ),
        StatisticEntry(
            S.NBM_RESPONSE_SQUARES, "target^2", 24, _one, _records_times(MAX_ABS_NBM_VALUE**2), _VALUE, per_target=True
        ),
        StatisticEntry(
            S.NBM_RECORD_COUNT,
            "1",
            0,
            _nbm_record_count,
            _records,
            _VALUE,
            per_target=True,
            fields=NbmRecordCount,
        ),
        # Indicators (round 2), per cohort.
        StatisticEntry(S.PERFORMANCE_INDEX_HISTOGRAM, "1", 0, _indicator_grid, _turbines, _VALUE),
        StatisticEntry(S.YAW_MISALIGNMENT_HISTOGRAM, "1", 0, _indicator_grid, _turbines, _VALUE),
        StatisticEntry(S.NBM_RESIDUAL_HISTOGRAM, "1", 0, _indicator_grid, _records, _VALUE, per_target=True),
        StatisticEntry(S.TIME_AVAILABILITY_HISTOGRAM, "1", 0, _indicator_grid, _turbines, _VALUE),
        StatisticEntry(S.PRODUCTION_AVAILABILITY_HISTOGRAM, "1", 0, _indicator_grid, _turbines, _VALUE),
        StatisticEntry(S.LOST_PRODUCTION, "MWh", 24, _losses_and_potential, _records_times(MAX_MWH_PER_RECORD), _VALUE),
        StatisticEntry(S.FAILURE_COUNT, "1", 0, _components_by_age, _records, _VALUE),
        StatisticEntry(S.FAILURE_DOWNTIME, "h", 24, _components_by_age, _turbine_hours, _VALUE),
        StatisticEntry(S.TURBINE_YEARS, "year", 40, _age_bands, _turbine_years, _VALUE),
        StatisticEntry(S.AGE_BAND_CONTRIBUTOR, "1", 0, _age_bands, _indicator, _VALUE),
        StatisticEntry(S.INDICATOR_CONTRIBUTOR, "1", 0, _indicator_cells, _indicator, _VALUE),
        StatisticEntry(S.MONTHLY_PERFORMANCE_INDEX_HISTOGRAM, "1", 0, _monthly_grid, _turbines, _VALUE),
        StatisticEntry(S.MONTHLY_TIME_AVAILABILITY_HISTOGRAM, "1", 0, _monthly_grid, _turbines, _VALUE),
        StatisticEntry(S.MONTHLY_CONTRIBUTOR, "1", 0, _monthly_cells, _indicator, _VALUE),
        # Solar plants, per cohort: the energy-normalised curve per irradiance bin, then each plant's
        # distributions (one count per plant; inverters for availability) and lost production.
        StatisticEntry(S.IRRADIANCE_RECORD_COUNT, "1", 0, _irradiance_bins, _solar_records, _VALUE),
        StatisticEntry(
            S.SUM_SPECIFIC_POWER, "kW/kWp", 40, _irradiance_bins, _solar_records_times(MAX_SPECIFIC_POWER), _VALUE
        ),
        StatisticEntry(
            S.SUM_SPECIFIC_POWER_SQUARED,
            "(kW/kWp)^2",
            40,
            _irradiance_bins,
            _solar_records_times(MAX_SPECIFIC_POWER**2),
            _VALUE,
        ),
        StatisticEntry(S.SPECIFIC_POWER_HISTOGRAM, "1", 0, _specific_power_histogram, _solar_records, _VALUE),
        StatisticEntry(S.IRRADIANCE_BIN_CONTRIBUTOR, "1", 0, _irradiance_bins, _indicator, _VALUE),
        StatisticEntry(S.PERFORMANCE_RATIO_HISTOGRAM, "1", _COUNT_NOISE_EXPONENT, _solar_grid, _plant, _VALUE),
        StatisticEntry(S.PERFORMANCE_RATIO_STC_HISTOGRAM, "1", _COUNT_NOISE_EXPONENT, _solar_grid, _plant, _VALUE),
        StatisticEntry(S.DEGRADATION_RATE_HISTOGRAM, "1", _COUNT_NOISE_EXPONENT, _solar_grid, _plant, _VALUE),
        StatisticEntry(S.DEGRADATION_INTERVAL_HISTOGRAM, "1", _COUNT_NOISE_EXPONENT, _solar_grid, _plant, _VALUE),
        StatisticEntry(S.SOILING_LOSS_HISTOGRAM, "1", _COUNT_NOISE_EXPONENT, _solar_grid, _plant, _VALUE),
        StatisticEntry(S.CLIPPING_SHARE_HISTOGRAM, "1", _COUNT_NOISE_EXPONENT, _solar_grid, _plant, _VALUE),
        StatisticEntry(S.INVERTER_AVAILABILITY_HISTOGRAM, "1", _COUNT_NOISE_EXPONENT, _solar_grid, _inverters, _VALUE),
        StatisticEntry(S.SOLAR_LOST_PRODUCTION, "1", _COUNT_NOISE_EXPONENT, _solar_loss_grids, _plant, _VALUE),
        StatisticEntry(S.SOLAR_FAILURE_COUNT, "1", _COUNT_NOISE_EXPONENT, _solar_components, _solar_failures, _VALUE),
        StatisticEntry(S.SOLAR_FAILURE_DOWNTIME, "h", 24, _solar_components, _inverter_hours, _VALUE),
        StatisticEntry(S.INVERTER_YEARS, "year", 40, _one, _inverter_years, _VALUE),
        StatisticEntry(S.SOLAR_CONTRIBUTOR, "1", 0, _solar_cells, _indicator, _VALUE),
        # Differentially private curves: wind power and solar specific power.
        StatisticEntry(S.CAPPED_POWER_HISTOGRAM, "record weight", 8, _power_histogram, _capped_weight, _VALUE),
        StatisticEntry(
            S.CAPPED_SPECIFIC_POWER_HISTOGRAM, "record weight", 8, _specific_power_histogram, _capped_weight, _VALUE
        ),
        # The census, spec-wide, per atom: its bound is the largest field's, the total squared.
        StatisticEntry(S.CURVE_CENSUS, "1", 0, _census_of(_wind_speed_bins), _records_squared, _CENSUS, spec_wide=True),
        StatisticEntry(S.COHORT_CENSUS, "1", 0, _census_of(_no_cells), _records_squared, _CENSUS, spec_wide=True),
        StatisticEntry(
            S.TRAINING_CENSUS, "1", 0, _census_of(_no_cells), _records_squared, _CENSUS, per_target=True, spec_wide=True
        ),
        StatisticEntry(
            S.INDICATOR_CENSUS, "1", 0, _census_of(_indicator_cells), _turbines_squared, _CENSUS, spec_wide=True
        ),
        StatisticEntry(
            S.MONTHLY_CENSUS, "1", 0, _census_of(_monthly_cells), _turbines_squared, _CENSUS, spec_wide=True
        ),
        StatisticEntry(
            S.AGE_BAND_CENSUS, "year", 32, _census_of(_age_bands), _turbine_years_squared, _CENSUS, spec_wide=True
        ),
        StatisticEntry(
            S.IRRADIANCE_CENSUS,
            "1",
            0,
            _census_of(_irradiance_bins),
            _solar_records_squared,
            _CENSUS,
            spec_wide=True,
        ),
        StatisticEntry(S.SOLAR_CENSUS, "1", 0, _census_of(_solar_cells), _inverters_squared, _CENSUS, spec_wide=True),
        StatisticEntry(
            S.CENSUS_COMMITMENT_RANDOMNESS, "1", 0, _commitment_limbs, _commitment_limb, _CENSUS, spec_wide=True
        ),
    )
}
"""Every statistic of the contract, by its spec_pb2.Statistic value."""


def statistic(value: spec_pb2.Statistic) -> StatisticEntry:
    """The registry entry of a statistic.

    Raises
    ------
    ValueError
        If the contract declares no such statistic.
    """
    try:
        return STATISTICS[value]
    except KeyError:
        raise ValueError(
            f"statistic {value} is not in this build's contract; known: {[e.name for e in STATISTICS.values()]}"
        ) from None


def spec_block(
    spec: spec_pb2.BenchmarkSpec, cohort: str, value: spec_pb2.Statistic, target: str = "", noise_stddev: float = 0.0
) -> spec_pb2.Block:
    """The block of ``value`` for ``cohort`` (and ``target``) as this contract defines it for ``spec``.

    Unit, fixed point, shape and per-site bound come from the registry; ``noise_stddev`` is the
    noise a private spec calibrated for the block (its l2_sensitivity is set by the caller).
    """
    return _contract_block(SpecExtent.of(spec), cohort, value, target, noise_stddev)


def _contract_block(
    extent: SpecExtent, cohort: str, value: spec_pb2.Statistic, target: str, noise_stddev: float
) -> spec_pb2.Block:
    entry = statistic(value)
    if entry.spec_wide != (cohort == ""):
        scope = "spec-wide (cohort '')" if entry.spec_wide else "per cohort"
        raise ValueError(f"{entry.name} is {scope}, got cohort {cohort!r}")
    if entry.per_target != bool(target):
        raise ValueError(f"{entry.name} {'needs' if entry.per_target else 'takes no'} target channel, got {target!r}")
    block = spec_pb2.Block(
        cohort=cohort,
        statistic=value,
        unit=entry.unit,
        scale_exponent=entry.scale_exponent,
        target=target,
        noise_stddev=noise_stddev,
    )
    block.shape.extend(entry.shape(extent, block))
    block.per_site_bound = float(entry.bound(extent, block))
    return block


def check_block(extent: SpecExtent, block: spec_pb2.Block) -> None:
    """Refuse a spec block whose unit, fixed point, shape or bound is not the contract's.

    A site checks every block of a spec it receives, so a spec cannot ask for a statistic in
    another unit or resolution than the registry states, nor let one site send more than what
    the spec's own turbines and period allow.

    Parameters
    ----------
    extent : SpecExtent
        The extent of the spec that declares ``block``.
    block : Block
        One of its blocks.

    Raises
    ------
    ValueError
        Naming the block and the field that differs.
    """
    key = BlockKey.of(block)
    expected = _contract_block(extent, block.cohort, block.statistic, block.target, block.noise_stddev)
    for field in ("unit", "scale_exponent"):
        if getattr(block, field) != getattr(expected, field):
            raise ValueError(
                f"block {key}: {field} {getattr(block, field)!r}, the contract says {getattr(expected, field)!r}"
            )
    if tuple(block.shape) != tuple(expected.shape):
        raise ValueError(f"block {key}: shape {list(block.shape)}, the contract says {list(expected.shape)} here")
    if not math.isclose(block.per_site_bound, expected.per_site_bound, rel_tol=1e-12):
        raise ValueError(
            f"block {key}: per_site_bound {block.per_site_bound:g}, the contract says {expected.per_site_bound:g} "
            "for this spec's max_turbines_per_site and period"
        )
