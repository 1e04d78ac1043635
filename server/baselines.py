"""From securely summed blocks to normal-behaviour models (round 1) and industry baselines (round 2).

Which cells are released was decided from the census before any value was summed
(protos/census.py): at least ``k_min_operators`` operators, no operator that may hold more than
``dominance_max_share`` of the cell (training records for a model, measured turbines for a
distribution, turbine-years for a failure-rate age band), over linked cohorts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from protos.census import Decision
from protos.codec import block_layouts
from protos.domain import MONTH_FORMAT, period_months
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.normal_behaviour import residual_variance, ridge_coefficients
from protos.statistics import (
    MONTHLY_INDICATORS,
    BlockKey,
    CohortBlocks,
    NbmRecordCount,
    indicator_cells,
    monthly_grids,
)
from server.percentiles import histogram_percentiles

S = spec_pb2.Statistic
DISTRIBUTION_PERCENTILES = (0.10, 0.25, 0.50, 0.75, 0.90)


def block_values(spec: spec_pb2.BenchmarkSpec, totals: Mapping[BlockKey, np.ndarray]) -> dict[BlockKey, np.ndarray]:
    """Block key -> float64 values, each exact fixed-point total divided by its 2^e once."""
    out = {}
    for layout in block_layouts(spec):
        scale = 1 << layout.scale_exponent
        flat = [float(Fraction(int(v), scale)) for v in np.ravel(totals[layout.key])]
        out[layout.key] = np.array(flat, dtype=np.float64).reshape(layout.shape)
    return out


def model_fits(
    spec: spec_pb2.BenchmarkSpec, values: Mapping[BlockKey, np.ndarray], decision: Decision
) -> list[release_pb2.NormalBehaviourModelFit]:
    """Each cohort's normal-behaviour models, solved in closed form from the summed X^T X, X^T y, y^T y, n.

    The coefficients equal those of the pooled fixed-effects ridge regression over every
    operator's training records (protos/normal_behaviour.py). A model the census ``decision``
    suppresses is listed with its reason and no coefficients (its sites sent zeros).
    """
    fits = []
    for c, cohort in enumerate(spec.cohorts):
        block = CohortBlocks(values, cohort.name)
        for m, model in enumerate(spec.models):
            fit = release_pb2.NormalBehaviourModelFit(
                cohort=cohort.name,
                target=model.target,
                features=list(model.features),
                ridge_lambda=model.ridge_lambda,
            )
            fits.append(fit)
            if not decision.training.filled[c, m]:
                fit.suppressed, fit.suppression_reason = True, "no operator sent training records"
                continue
            if not decision.training.published[c, m]:
                fit.suppressed, fit.suppression_reason = True, decision.training.reasons[c, m]
                continue
            counts = NbmRecordCount(*block(S.NBM_RECORD_COUNT, model.target))
            n = counts.records
            gram, moment = block(S.NBM_GRAM, model.target), block(S.NBM_MOMENT, model.target)
            beta = ridge_coefficients(gram, moment, n, model.ridge_lambda)
            squares = float(block(S.NBM_RESPONSE_SQUARES, model.target)[0])
            variance = residual_variance(gram, moment, squares, int(n), int(counts.turbines), beta)
            fit.coefficients.extend(beta.tolist())
            fit.record_count, fit.operator_count = int(n), int(counts.contributor)
            fit.residual_std = math.sqrt(variance) if variance == variance else float("nan")
    return fits


INDICATOR_RANGES: dict[str, tuple[float, float]] = {
    "time_availability": (0.0, 1.0),
    "production_availability": (0.0, 1.0),
    "performance_index": (0.0, math.inf),
    "performance_ratio": (0.0, math.inf),
    "performance_ratio_stc": (0.0, math.inf),
    "degradation_interval": (0.0, math.inf),
    "soiling_loss": (0.0, 100.0),
    "clipping_share": (0.0, 1.0),
    "inverter_availability": (0.0, 1.0),
    "lost_production": (0.0, 100.0),  # a solar plant's, per category "lost_production:<category>" [%]
}
"""The values an indicator can take [-], by the name before any ":<target>": its percentiles stay inside,
whatever its histogram's bin edges."""


def indicator_percentiles(indicator: str, counts: np.ndarray, grid: spec_pb2.BinGrid) -> tuple[float, ...]:
    """P10, P25, P50, P75 and P90 of an indicator's histogram, within the indicator's range.

    Interpolating within a bin reaches its edges: an availability bin centred on 1 spans up to
    1.005, a value no turbine can have (:data:`INDICATOR_RANGES`).
    """
    percentiles = histogram_percentiles(counts, grid.first_centre, grid.width, DISTRIBUTION_PERCENTILES)
    return tuple(float(p) for p in np.clip(percentiles, *indicator_range(indicator)))


def indicator_range(indicator: str) -> tuple[float, float]:
    """The values ``indicator`` can take (:data:`INDICATOR_RANGES`; unbounded when it names none)."""
    return INDICATOR_RANGES.get(indicator.partition(":")[0], (-math.inf, math.inf))


def indicator_baselines(
    spec: spec_pb2.BenchmarkSpec,
    values: Mapping[BlockKey, np.ndarray],
    release: release_pb2.Release,
    decision: Decision,
) -> int:
    """Add round 2's industry baselines to ``release``, as the census ``decision`` allows; return the suppressed cells.

    Distributions (performance index, yaw misalignment, availabilities: over turbines; model
    residuals: over records) are released per cohort with percentiles, each an indicator cell of
    the census (the turbines it measured); lost production as shares of the potential; failure
    rates per component and age band, each age band a cell. A cell no operator filled is left out;
    a cell the decision suppresses is listed with its reason and no figures. The performance index
    and time availability are released month by month too, each month a cell.
    """
    ind = spec.indicators
    cells = indicator_cells(spec)
    grids = {
        "performance_index": (S.PERFORMANCE_INDEX_HISTOGRAM, ind.performance_index_bins),
        "yaw_misalignment": (S.YAW_MISALIGNMENT_HISTOGRAM, ind.yaw_misalignment_bins),
        "time_availability": (S.TIME_AVAILABILITY_HISTOGRAM, ind.availability_bins),
        "production_availability": (S.PRODUCTION_AVAILABILITY_HISTOGRAM, ind.availability_bins),
    }
    suppressed = 0
    for c, cohort in enumerate(spec.cohorts):
        block = CohortBlocks(values, cohort.name)
        operators = block(S.INDICATOR_CONTRIBUTOR)
        histograms = {name: (block(statistic), grid, "turbines") for name, (statistic, grid) in grids.items()}
        for model in spec.models:
            histograms[f"residual:{model.target}"] = (
                block(S.NBM_RESIDUAL_HISTOGRAM, model.target),
                ind.residual_bins,
                "records",
            )
        for indicator, (counts, grid, counts_of) in histograms.items():
            i = cells.index(indicator)
            if not decision.indicators.filled[c, i]:
                continue
            d = release.distributions.add(cohort=cohort.name, indicator=indicator, counts_of=counts_of, bins=grid)
            if not decision.indicators.published[c, i]:
                d.suppressed, d.suppression_reason = True, decision.indicators.reasons[c, i]
                suppressed += 1
                continue
            d.counts.extend(int(n) for n in np.rint(counts))
            d.operator_count = int(operators[i])
            d.p10, d.p25, d.p50, d.p75, d.p90 = indicator_percentiles(indicator, counts, grid)
        lost, i = block(S.LOST_PRODUCTION), cells.index("lost_production")
        if decision.indicators.filled[c, i]:
            for category, energy in zip(ind.loss_categories, lost[:-1], strict=True):
                cell = release.lost_production.add(cohort=cohort.name, category=category)
                if not decision.indicators.published[c, i]:
                    cell.suppressed, cell.suppression_reason = True, decision.indicators.reasons[c, i]
                    continue
                cell.share_of_potential = float(energy / lost[-1])
        suppressed += _failure_rates(spec, block, decision, c, release)
        suppressed += _monthly_distributions(spec, block, decision, c, release)
    return suppressed


def _failure_rates(
    spec: spec_pb2.BenchmarkSpec,
    block: CohortBlocks[np.ndarray],
    decision: Decision,
    c: int,
    release: release_pb2.Release,
) -> int:
    """Add cohort ``c``'s failure rates by component and age band [1 / turbine-year]; return how many are suppressed."""
    ind, suppressed = spec.indicators, 0
    band_operators, years = block(S.AGE_BAND_CONTRIBUTOR), block(S.TURBINE_YEARS)
    edges = list(ind.age_band_edges)
    for j, component in enumerate(ind.components):
        for b, low in enumerate(edges):
            if not decision.age_bands.filled[c, b]:
                continue
            high = edges[b + 1] if b + 1 < len(edges) else 0.0
            rate = release.failure_rates.add(
                cohort=spec.cohorts[c].name, component=component, age_from_years=low, age_to_years=high
            )
            if not decision.age_bands.published[c, b]:
                rate.suppressed, rate.suppression_reason = True, decision.age_bands.reasons[c, b]
                suppressed += 1
                continue
            failures = int(np.rint(block(S.FAILURE_COUNT)[j, b]))
            rate.failures, rate.turbine_years = failures, float(years[b])
            rate.failures_per_turbine_year = failures / float(years[b])
            rate.operator_count = int(band_operators[b])
            if failures:
                rate.mean_downtime_hours = float(block(S.FAILURE_DOWNTIME)[j, b] / failures)
    return suppressed


def _monthly_distributions(
    spec: spec_pb2.BenchmarkSpec,
    block: CohortBlocks[np.ndarray],
    decision: Decision,
    c: int,
    release: release_pb2.Release,
) -> int:
    """Add cohort ``c``'s monthly distributions (:data:`MONTHLY_INDICATORS`); return how many are suppressed."""
    suppressed = 0
    months = period_months(spec.period.start, spec.period.end).strftime(MONTH_FORMAT)
    operators = block(S.MONTHLY_CONTRIBUTOR)
    grids = monthly_grids(spec)
    for i, indicator in enumerate(MONTHLY_INDICATORS):
        statistic, grid = grids[indicator]
        for m, month in enumerate(months):
            cell = i * len(months) + m
            if not decision.months.filled[c, cell]:
                continue
            d = release.monthly_distributions.add(
                cohort=spec.cohorts[c].name, indicator=indicator, counts_of="turbines", bins=grid, month=month
            )
            if not decision.months.published[c, cell]:
                d.suppressed, d.suppression_reason = True, decision.months.reasons[c, cell]
                suppressed += 1
                continue
            counts = block(statistic)[m]
            d.counts.extend(int(n) for n in np.rint(counts))
            d.operator_count = int(operators[cell])
            d.p10, d.p25, d.p50, d.p75, d.p90 = indicator_percentiles(indicator, counts, grid)
    return suppressed
