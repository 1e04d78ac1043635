"""The census: what a release's cells may carry, decided from disclosure-control inputs alone.

A release's values are summed only after a census round: every site sends, per atom (a set of
cohorts one turbine can be in at once, protos/disclosure.py), whether it has anything in each cell,
its total there (records, turbines, turbine-years) and that total squared. From the summed census
the aggregator and every site decide, in the same way (:func:`decide`), which cohort cells pass k
and dominance over linked cohorts; in the values round each site sends zeros for every other cell
(:func:`withhold_failing_cells`). So the aggregator never holds a decoded value of a cell that
fails, and no site relies on the aggregator's word for what is safe.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from protos.codec import BlockLayout, block_layouts, fixed_point, spec_sha256
from protos.disclosure import CellCensus, cohort_atoms, decide_cell
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import (
    MONTHLY_INDICATORS,
    SOLAR_CELLS,
    SOLAR_INVERTER_CELLS,
    STATISTICS,
    BlockKey,
    CensusFields,
    indicator_cells,
    spec_block,
)

S = spec_pb2.Statistic


class CensusMismatch(ValueError):
    """A census that is not the one the values round must be decided by."""


@dataclass(frozen=True)
class CohortCells:
    """One family of cohort cells: which each cohort publishes, and why it does not publish the others.

    Attributes
    ----------
    published : ndarray of bool
        (cohorts, cells): the cells the values round carries.
    filled : ndarray of bool
        (cohorts, cells): the cells some operator has anything in (a release lists these).
    reasons : dict
        (cohort index, cell index) -> why a filled cell is not published.
    """

    published: NDArray[np.bool_]
    filled: NDArray[np.bool_]
    reasons: dict[tuple[int, int], str]

    @classmethod
    def empty(cls, n_cohorts: int) -> CohortCells:
        """A family with no cells (one the spec does not ask for)."""
        none = np.zeros((n_cohorts, 0), dtype=bool)
        return cls(none, none, {})


@dataclass(frozen=True)
class Decision:
    """Which cells of a values spec pass disclosure control, by family (see :func:`decide`)."""

    cohorts: CohortCells  # one cell per cohort: the whole period (round 1)
    bins: CohortCells  # wind-speed bins (round 1)
    training: CohortCells  # one cell per model target (round 1)
    indicators: CohortCells  # protos.statistics.indicator_cells (round 2)
    age_bands: CohortCells  # turbine-age bands (round 2)
    months: CohortCells  # protos.statistics.MONTHLY_INDICATORS by month (round 2)
    irradiance_bins: CohortCells | None = None  # a solar release's irradiance bins
    solar: CohortCells | None = None  # a solar release's protos.statistics.SOLAR_CELLS

    @property
    def suppressed_cells(self) -> int:
        """Filled cells that are not published, over every family."""
        families = (self.cohorts, self.bins, self.training, self.indicators, self.age_bands, self.months)
        solar = tuple(f for f in (self.irradiance_bins, self.solar) if f is not None)
        return sum(int(np.count_nonzero(f.filled & ~f.published)) for f in (*families, *solar))


def is_round_two(spec: spec_pb2.BenchmarkSpec) -> bool:
    """Whether ``spec`` is a round-2 (indicators) spec."""
    return spec.HasField("indicators")


def is_solar(spec: spec_pb2.BenchmarkSpec) -> bool:
    """Whether ``spec`` is a solar release's (plants, not turbines)."""
    return spec.HasField("solar")


def census_statistics(spec: spec_pb2.BenchmarkSpec) -> tuple[spec_pb2.Statistic, ...]:
    """The census statistics a values spec is decided by (TRAINING_CENSUS once per model)."""
    if is_solar(spec):
        return (S.IRRADIANCE_CENSUS, S.SOLAR_CENSUS)
    if is_round_two(spec):
        return (S.INDICATOR_CENSUS, S.AGE_BAND_CENSUS, S.MONTHLY_CENSUS)
    if spec.HasField("privacy"):
        return (S.COHORT_CENSUS, S.CURVE_CENSUS)
    return (S.COHORT_CENSUS, S.CURVE_CENSUS, S.TRAINING_CENSUS)


COMMITMENT_RANDOMNESS = BlockKey("", S.CENSUS_COMMITMENT_RANDOMNESS)
"""The census block that carries each site's commitment randomness (protos/commitment.py), last in every census."""


def census_spec(spec: spec_pb2.BenchmarkSpec) -> spec_pb2.BenchmarkSpec:
    """The census spec of values spec ``spec``: its fields, the census blocks, and the hash of ``spec``."""
    census = spec_pb2.BenchmarkSpec()
    census.CopyFrom(spec)
    del census.blocks[:]
    census.census_of_sha256 = spec_sha256(spec)
    for statistic in census_statistics(spec):
        targets = [model.target for model in spec.models] if STATISTICS[statistic].per_target else [""]
        for target in targets:
            census.blocks.append(spec_block(census, "", statistic, target))
    census.blocks.append(spec_block(census, "", COMMITMENT_RANDOMNESS.statistic))
    return census


def values_spec_of(census: spec_pb2.BenchmarkSpec) -> spec_pb2.BenchmarkSpec:
    """The fields of the values spec a census spec decides (its blocks are not needed to compute the census)."""
    values = spec_pb2.BenchmarkSpec()
    values.CopyFrom(census)
    del values.blocks[:]
    values.ClearField("census_of_sha256")
    return values


def census_message(
    census: spec_pb2.BenchmarkSpec,
    totals: Mapping[BlockKey, np.ndarray],
    participants: int,
    commitments: Sequence[spec_pb2.CensusCommitment] = (),
) -> spec_pb2.Census:
    """The census every site of the values round receives: the exact totals of ``census``'s blocks.

    With the members' signed ``commitments`` (protos/commitment.py), in member order, which every site
    checks the totals against.
    """
    message = spec_pb2.Census(census_spec_sha256=spec_sha256(census), participants=participants)
    for layout in block_layouts(census):
        message.totals.add(values=[str(int(v)) for v in np.ravel(totals[layout.key])])
    message.commitments.extend(sorted(commitments, key=lambda c: c.member))
    return message


def census_commitments_sha256(commitments: Sequence[spec_pb2.CensusCommitment]) -> str:
    """SHA-256 of a census's commitments, by member: what a site saw before unmasking, to check its census by."""
    digest = hashlib.sha256()
    for entry in sorted(commitments, key=lambda c: c.member):
        serialised = entry.SerializeToString(deterministic=True)
        digest.update(len(serialised).to_bytes(4, "big") + serialised)
    return digest.hexdigest()


def committed_census(census: spec_pb2.BenchmarkSpec, integers: Mapping[BlockKey, Sequence[int]]) -> list[int]:
    """The census vector a commitment covers: every census block's fixed-point integers but the randomness's.

    In ``census``'s block order, row-major, as a site sends them and the census message sums them.
    """
    return [
        int(v)
        for layout in block_layouts(census)
        if layout.key != COMMITMENT_RANDOMNESS
        for v in np.ravel(np.asarray(integers[layout.key], dtype=object))
    ]


def fixed_point_integers(
    layouts: Sequence[BlockLayout], values: Mapping[BlockKey, np.ndarray]
) -> dict[BlockKey, list[int]]:
    """Each block's values as the integers :func:`protos.codec.encode_blocks` sends, round(value * 2^e)."""
    return {layout.key: [int(v) for v in fixed_point(layout, values[layout.key])] for layout in layouts}


def summed_integers(census: spec_pb2.Census, layouts: Sequence[BlockLayout]) -> dict[BlockKey, list[int]]:
    """The census message's totals as exact integers per block of its census spec's ``layouts``.

    Raises
    ------
    CensusMismatch
        If the census has not the census blocks' number or sizes.
    """
    if len(census.totals) != len(layouts):
        raise CensusMismatch(f"the census has {len(census.totals)} blocks; its census spec has {len(layouts)}")
    out = {}
    for layout, total in zip(layouts, census.totals, strict=True):
        if len(total.values) != layout.size:
            raise CensusMismatch(f"census block {layout.name} has {len(total.values)} values, not {layout.size}")
        out[layout.key] = [int(v) for v in total.values]
    return out


def census_totals(census: spec_pb2.Census, spec: spec_pb2.BenchmarkSpec) -> dict[BlockKey, np.ndarray]:
    """The census's totals per block, as real values (fixed point undone), checked against values spec ``spec``.

    Every block but the commitment randomness: the disclosure-control inputs.

    Raises
    ------
    CensusMismatch
        If the census was not taken for ``spec``, or its totals do not have the census blocks' shapes.
    """
    expected = census_spec(spec)
    if census.census_spec_sha256 != spec_sha256(expected):
        raise CensusMismatch(f"the census was not taken for spec {spec.spec_id}: its census spec hash differs")
    layouts = block_layouts(expected)
    integers = summed_integers(census, layouts)
    out = {}
    for layout in layouts:
        if layout.key == COMMITMENT_RANDOMNESS:  # the commitments' (client/membership.py), no disclosure input
            continue
        if any(v < 0 for v in integers[layout.key]):
            raise CensusMismatch(f"census block {layout.name} holds negative totals")
        values = np.ldexp(np.array(integers[layout.key], dtype=np.float64), -layout.scale_exponent)
        out[layout.key] = values.reshape(layout.shape)
    return out


def census_sha256(census: spec_pb2.Census) -> str:
    """SHA-256 of a census's deterministic serialisation (hex), as the audit log records it."""
    return hashlib.sha256(census.SerializeToString(deterministic=True)).hexdigest()


def _family(
    atoms: tuple[tuple[int, ...], ...],
    block: np.ndarray,
    candidates: np.ndarray,
    spec: spec_pb2.BenchmarkSpec,
    unit: str,
) -> CohortCells:
    """Decide every cell of one census block, shape (3, atoms + cohorts, cells), for every cohort."""
    n_cohorts, n_cells = len(spec.cohorts), block.shape[2]
    published = np.zeros((n_cohorts, n_cells), dtype=bool)
    filled = np.zeros((n_cohorts, n_cells), dtype=bool)
    reasons: dict[tuple[int, int], str] = {}
    member = np.zeros((len(atoms), n_cohorts), dtype=bool)
    for a, members in enumerate(atoms):
        member[a, list(members)] = True
    fields = CensusFields(*block)
    n_atoms = len(atoms)
    for cell in range(n_cells):
        census = CellCensus(*(field[:n_atoms, cell] for field in fields))
        whole_cohorts = CellCensus(*(field[n_atoms:, cell] for field in fields))
        decision = decide_cell(
            atoms,
            census,
            candidates[:, cell],
            spec.k_min_operators,
            spec.dominance_max_share,
            unit,
            whole_cohorts,
        )
        present = (census.contributors > 0) | (census.totals > 0)
        filled[:, cell] = (member & present[:, None]).any(axis=0)
        published[:, cell] = decision.published
        reasons.update(((cohort, cell), why) for cohort, why in decision.reasons.items())
    return CohortCells(published, filled, reasons)


def decide(spec: spec_pb2.BenchmarkSpec, totals: Mapping[BlockKey, np.ndarray]) -> Decision:
    """Which cells of values spec ``spec`` may be published, from its census ``totals`` (:func:`census_totals`).

    Round 1: each cohort as a whole (its records over the period) first; the bins of a cohort
    suppressed as a whole are not candidates; each model's training records on their own. Round 2:
    each indicator cell (turbines whose indicator was measured), each age band (turbine-years) and
    each monthly cell (turbines measured in the month).
    """
    atoms = cohort_atoms(spec.cohorts)
    n = len(spec.cohorts)
    everywhere = np.ones((n, 1), dtype=bool)
    if is_solar(spec):
        return _solar_decision(spec, totals, atoms)
    if is_round_two(spec):
        cells = len(indicator_cells(spec))
        bands = len(spec.indicators.age_band_edges)
        monthly = totals[BlockKey("", S.MONTHLY_CENSUS)]
        return Decision(
            cohorts=CohortCells.empty(n),
            bins=CohortCells.empty(n),
            training=CohortCells.empty(n),
            indicators=_family(
                atoms, totals[BlockKey("", S.INDICATOR_CENSUS)], np.ones((n, cells), bool), spec, "turbines"
            ),
            age_bands=_family(
                atoms, totals[BlockKey("", S.AGE_BAND_CENSUS)], np.ones((n, bands), bool), spec, "turbine-years"
            ),
            months=_family(atoms, monthly, np.ones((n, monthly.shape[2]), bool), spec, "turbines"),
        )
    cohorts = _family(atoms, totals[BlockKey("", S.COHORT_CENSUS)][..., None], everywhere, spec, "records")
    n_bins = spec.wind_speed_bins.count
    bins = _family(
        atoms, totals[BlockKey("", S.CURVE_CENSUS)], np.repeat(cohorts.published, n_bins, axis=1), spec, "records"
    )
    training = CohortCells.empty(n)
    if spec.models:
        per_model = [
            _family(
                atoms, totals[BlockKey("", S.TRAINING_CENSUS, model.target)][..., None], everywhere, spec, "records"
            )
            for model in spec.models
        ]
        training = CohortCells(
            np.hstack([f.published for f in per_model]),
            np.hstack([f.filled for f in per_model]),
            {(cohort, m): why for m, f in enumerate(per_model) for (cohort, _), why in f.reasons.items()},
        )
    return Decision(cohorts, bins, training, CohortCells.empty(n), CohortCells.empty(n), CohortCells.empty(n))


def _solar_decision(
    spec: spec_pb2.BenchmarkSpec, totals: Mapping[BlockKey, np.ndarray], atoms: tuple[tuple[int, ...], ...]
) -> Decision:
    """A solar release: each irradiance bin (records), each plant cell (plants) and inverter cell (inverters)."""
    n = len(spec.cohorts)
    irradiance = totals[BlockKey("", S.IRRADIANCE_CENSUS)]
    cells = totals[BlockKey("", S.SOLAR_CENSUS)]
    by_plant = [i for i, cell in enumerate(SOLAR_CELLS) if cell not in SOLAR_INVERTER_CELLS]
    by_inverter = [i for i, cell in enumerate(SOLAR_CELLS) if cell in SOLAR_INVERTER_CELLS]
    plants = _family(atoms, cells[..., by_plant], np.ones((n, len(by_plant)), bool), spec, "plants")
    inverters = _family(atoms, cells[..., by_inverter], np.ones((n, len(by_inverter)), bool), spec, "inverters")
    order = np.argsort(by_plant + by_inverter)  # back to SOLAR_CELLS' order
    reasons = {(c, by_plant[i]): why for (c, i), why in plants.reasons.items()}
    reasons.update({(c, by_inverter[i]): why for (c, i), why in inverters.reasons.items()})
    solar = CohortCells(
        np.hstack([plants.published, inverters.published])[:, order],
        np.hstack([plants.filled, inverters.filled])[:, order],
        reasons,
    )
    empty = CohortCells.empty(n)
    return Decision(
        empty,
        empty,
        empty,
        empty,
        empty,
        empty,
        irradiance_bins=_family(atoms, irradiance, np.ones((n, irradiance.shape[2]), bool), spec, "records"),
        solar=solar,
    )


# How each values statistic's block maps onto the decision's cells: a function of (decision, cohort
# index, block key, spec) returning the block's mask of elements the values round may carry.
Withhold = Callable[[Decision, int, BlockKey, spec_pb2.BenchmarkSpec], np.ndarray]


def _by_bin(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    return np.asarray(decision.bins.published[c])


def _by_cohort(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    return np.asarray(decision.cohorts.published[c])


def _by_model(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    m = [model.target for model in spec.models].index(key.target)
    return np.asarray(decision.training.published[c, m : m + 1])


def _by_indicator(cell: str) -> Withhold:
    def carried(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
        name = f"residual:{key.target}" if cell == "residual" else cell
        i = indicator_cells(spec).index(name)
        return np.asarray(decision.indicators.published[c, i : i + 1])

    return carried


def _by_indicator_cells(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    return np.asarray(decision.indicators.published[c])


def _by_month(indicator: str) -> Withhold:
    def carried(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
        return np.asarray(
            np.split(decision.months.published[c], len(MONTHLY_INDICATORS))[MONTHLY_INDICATORS.index(indicator)]
        )

    return carried


def _by_monthly_cells(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    return np.asarray(decision.months.published[c])


def _by_age_band(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    return np.asarray(decision.age_bands.published[c])


def _by_irradiance_bin(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    if decision.irradiance_bins is None:
        raise ValueError(f"block {key} is a solar statistic; spec {spec.spec_id} is not a solar spec")
    return np.asarray(decision.irradiance_bins.published[c])


def _by_solar_cell(cell: str) -> Withhold:
    def carried(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
        if decision.solar is None:
            raise ValueError(f"block {key} is a solar statistic; spec {spec.spec_id} is not a solar spec")
        i = SOLAR_CELLS.index(cell)
        return np.asarray(decision.solar.published[c, i : i + 1])

    return carried


def _by_solar_cells(decision: Decision, c: int, key: BlockKey, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    if decision.solar is None:
        raise ValueError(f"block {key} is a solar statistic; spec {spec.spec_id} is not a solar spec")
    return np.asarray(decision.solar.published[c])


CARRIED: dict[spec_pb2.Statistic, tuple[Withhold, int]] = {
    # statistic -> (its cells' mask, the axis of the block the mask runs along; -1 for a whole-block cell)
    S.RECORD_COUNT: (_by_bin, 0),
    S.SUM_WIND_SPEED: (_by_bin, 0),
    S.SUM_POWER: (_by_bin, 0),
    S.SUM_POWER_SQUARED: (_by_bin, 0),
    S.NORMALISED_POWER_HISTOGRAM: (_by_bin, 0),
    S.BIN_CONTRIBUTOR: (_by_bin, 0),
    S.SUM_POWER_PER_UNIT: (_by_bin, 0),
    S.SUM_POWER_PER_UNIT_SQUARED: (_by_bin, 0),
    S.SUM_POWER_PER_AREA: (_by_bin, 0),
    S.CAPPED_POWER_HISTOGRAM: (_by_bin, 0),
    S.COHORT_CONTRIBUTOR: (_by_cohort, -1),
    S.NBM_GRAM: (_by_model, -1),
    S.NBM_MOMENT: (_by_model, -1),
    S.NBM_RESPONSE_SQUARES: (_by_model, -1),
    S.NBM_RECORD_COUNT: (_by_model, -1),
    S.PERFORMANCE_INDEX_HISTOGRAM: (_by_indicator("performance_index"), -1),
    S.YAW_MISALIGNMENT_HISTOGRAM: (_by_indicator("yaw_misalignment"), -1),
    S.TIME_AVAILABILITY_HISTOGRAM: (_by_indicator("time_availability"), -1),
    S.PRODUCTION_AVAILABILITY_HISTOGRAM: (_by_indicator("production_availability"), -1),
    S.LOST_PRODUCTION: (_by_indicator("lost_production"), -1),
    S.NBM_RESIDUAL_HISTOGRAM: (_by_indicator("residual"), -1),
    S.INDICATOR_CONTRIBUTOR: (_by_indicator_cells, 0),
    S.FAILURE_COUNT: (_by_age_band, 1),
    S.FAILURE_DOWNTIME: (_by_age_band, 1),
    S.TURBINE_YEARS: (_by_age_band, 0),
    S.AGE_BAND_CONTRIBUTOR: (_by_age_band, 0),
    S.MONTHLY_PERFORMANCE_INDEX_HISTOGRAM: (_by_month("performance_index"), 0),
    S.MONTHLY_TIME_AVAILABILITY_HISTOGRAM: (_by_month("time_availability"), 0),
    S.MONTHLY_CONTRIBUTOR: (_by_monthly_cells, 0),
    S.IRRADIANCE_RECORD_COUNT: (_by_irradiance_bin, 0),
    S.SUM_SPECIFIC_POWER: (_by_irradiance_bin, 0),
    S.SUM_SPECIFIC_POWER_SQUARED: (_by_irradiance_bin, 0),
    S.SPECIFIC_POWER_HISTOGRAM: (_by_irradiance_bin, 0),
    S.CAPPED_SPECIFIC_POWER_HISTOGRAM: (_by_irradiance_bin, 0),
    S.IRRADIANCE_BIN_CONTRIBUTOR: (_by_irradiance_bin, 0),
    S.PERFORMANCE_RATIO_HISTOGRAM: (_by_solar_cell("performance_ratio"), -1),
    S.PERFORMANCE_RATIO_STC_HISTOGRAM: (_by_solar_cell("performance_ratio_stc"), -1),
    S.DEGRADATION_RATE_HISTOGRAM: (_by_solar_cell("degradation_rate"), -1),
    S.DEGRADATION_INTERVAL_HISTOGRAM: (_by_solar_cell("degradation_interval"), -1),
    S.SOILING_LOSS_HISTOGRAM: (_by_solar_cell("soiling_loss"), -1),
    S.CLIPPING_SHARE_HISTOGRAM: (_by_solar_cell("clipping_share"), -1),
    S.INVERTER_AVAILABILITY_HISTOGRAM: (_by_solar_cell("inverter_availability"), -1),
    S.SOLAR_LOST_PRODUCTION: (_by_solar_cell("lost_production"), -1),
    S.SOLAR_FAILURE_COUNT: (_by_solar_cell("failures"), -1),
    S.SOLAR_FAILURE_DOWNTIME: (_by_solar_cell("failures"), -1),
    S.INVERTER_YEARS: (_by_solar_cell("failures"), -1),
    S.SOLAR_CONTRIBUTOR: (_by_solar_cells, 0),
}
"""Every values statistic, and which cells of the decision its elements belong to."""


def carried_mask(decision: Decision, spec: spec_pb2.BenchmarkSpec, key: BlockKey, shape: tuple[int, ...]) -> np.ndarray:
    """Which elements of block ``key`` (of ``shape``) the values round may carry: those of published cells.

    Raises
    ------
    ValueError
        If the statistic has no cells in the decision (it could escape disclosure control).
    """
    if key.statistic not in CARRIED:
        raise ValueError(f"block {key} belongs to no disclosure-control cell; a values round cannot carry it")
    cells, axis = CARRIED[key.statistic]
    c = [cohort.name for cohort in spec.cohorts].index(key.cohort)
    mask = np.asarray(cells(decision, c, key, spec), dtype=bool)
    if axis < 0:
        return np.broadcast_to(mask.all(), shape)
    along = [1] * len(shape)
    along[axis] = shape[axis]
    return np.broadcast_to(mask.reshape(along), shape)


def withhold_failing_cells(
    values: Mapping[BlockKey, np.ndarray], spec: spec_pb2.BenchmarkSpec, decision: Decision
) -> dict[BlockKey, np.ndarray]:
    """The values with every element of a cell that fails disclosure control set to zero (sent as zeros)."""
    return {
        key: np.where(carried_mask(decision, spec, key, np.shape(value)), value, 0.0) for key, value in values.items()
    }
