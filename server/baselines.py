"""From securely summed blocks to normal-behaviour models (round 1) and industry baselines (round 2).

Every released cell follows the power curve's disclosure control: at least ``k_min_operators``
operators, and no operator that may hold more than ``dominance_max_share`` of the cell (records
for a model, turbines for a distribution).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from protos.codec import block_layouts
from protos.disclosure import below_k_operators, dominated
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.normal_behaviour import residual_variance, ridge_coefficients
from protos.statistics import BlockKey, CohortBlocks, NbmRecordCount
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


def _reason(operators: int, squares: float, total: float, k: int, p: float, unit: str) -> str:
    if below_k_operators(np.array([operators]), k)[0]:
        return f"fewer than {k} operators"
    if dominated(np.array([squares]), np.array([total]), np.array([operators]), p)[0]:
        return f"one operator may hold more than {p:.0%} of the {unit}"
    return ""


def model_fits(
    spec: spec_pb2.BenchmarkSpec, values: Mapping[BlockKey, np.ndarray]
) -> list[release_pb2.NormalBehaviourModelFit]:
    """Each cohort's normal-behaviour models, solved in closed form from the summed X^T X, X^T y, y^T y, n.

    The coefficients equal those of the pooled fixed-effects ridge regression over every
    operator's training records (protos/normal_behaviour.py).
    """
    fits = []
    for cohort in spec.cohorts:
        block = CohortBlocks(values, cohort.name)
        for model in spec.models:
            counts = NbmRecordCount(*block(S.NBM_RECORD_COUNT, model.target))
            fit = release_pb2.NormalBehaviourModelFit(
                cohort=cohort.name,
                target=model.target,
                features=list(model.features),
                ridge_lambda=model.ridge_lambda,
            )
            fits.append(fit)
            operators, n = int(counts.contributor), counts.records
            if operators == 0:
                fit.suppressed, fit.suppression_reason = True, "no operator sent training records"
                continue
            reason = _reason(
                operators, counts.records_squared, n, spec.k_min_operators, spec.dominance_max_share, "training records"
            )
            if reason:
                fit.suppressed, fit.suppression_reason = True, reason
                continue
            gram, moment = block(S.NBM_GRAM, model.target), block(S.NBM_MOMENT, model.target)
            beta = ridge_coefficients(gram, moment, n, model.ridge_lambda)
            squares = float(block(S.NBM_RESPONSE_SQUARES, model.target)[0])
            variance = residual_variance(gram, moment, squares, int(n), int(counts.turbines), beta)
            fit.coefficients.extend(beta.tolist())
            fit.record_count, fit.operator_count = int(n), operators
            fit.residual_std = math.sqrt(variance) if variance == variance else float("nan")
    return fits


def indicator_baselines(
    spec: spec_pb2.BenchmarkSpec, values: Mapping[BlockKey, np.ndarray], release: release_pb2.Release
) -> int:
    """Add round 2's industry baselines to ``release``; return the number of suppressed cells.

    Distributions (performance index, yaw misalignment, availabilities: over turbines; model
    residuals: over records) are released per cohort with percentiles; failure rates per component
    and age band, each band needing k operators; lost production as shares of the potential.
    """
    ind, k, p = spec.indicators, spec.k_min_operators, spec.dominance_max_share
    suppressed = 0
    grids = {
        "performance_index": (S.PERFORMANCE_INDEX_HISTOGRAM, ind.performance_index_bins, "turbines"),
        "yaw_misalignment": (S.YAW_MISALIGNMENT_HISTOGRAM, ind.yaw_misalignment_bins, "turbines"),
        "time_availability": (S.TIME_AVAILABILITY_HISTOGRAM, ind.availability_bins, "turbines"),
        "production_availability": (S.PRODUCTION_AVAILABILITY_HISTOGRAM, ind.availability_bins, "turbines"),
    }
    for cohort in spec.cohorts:
        block = CohortBlocks(values, cohort.name)
        operators = int(block(S.COHORT_CONTRIBUTOR)[0])
        if operators == 0:
            continue
        reason = _reason(
            operators, float(block(S.SQUARED_TURBINE_COUNT)[0]), float(block(S.TURBINE_COUNT)[0]), k, p, "turbines"
        )
        histograms = {
            indicator: (block(statistic), grid, counts_of) for indicator, (statistic, grid, counts_of) in grids.items()
        }
        for model in spec.models:
            histograms[f"residual:{model.target}"] = (
                block(S.NBM_RESIDUAL_HISTOGRAM, model.target),
                ind.residual_bins,
                "records",
            )
        for indicator, (counts, grid, counts_of) in histograms.items():
            d = release.distributions.add(cohort=cohort.name, indicator=indicator, counts_of=counts_of, bins=grid)
            if reason or counts.sum() == 0:
                d.suppressed, d.suppression_reason = True, reason or "no data"
                suppressed += bool(reason)
                continue
            d.counts.extend(int(c) for c in np.rint(counts))
            d.operator_count = operators
            p10, p25, p50, p75, p90 = histogram_percentiles(
                counts, grid.first_centre, grid.width, DISTRIBUTION_PERCENTILES
            )
            d.p10, d.p25, d.p50, d.p75, d.p90 = p10, p25, p50, p75, p90
        lost = block(S.LOST_PRODUCTION)
        for category, energy in zip(ind.loss_categories, lost[:-1], strict=True):
            cell = release.lost_production.add(cohort=cohort.name, category=category)
            if reason or lost[-1] <= 0:
                cell.suppressed, cell.suppression_reason = True, reason or "no production"
                continue
            cell.share_of_potential = float(energy / lost[-1])
        band_operators = block(S.AGE_BAND_CONTRIBUTOR)
        years = block(S.TURBINE_YEARS)
        squares = block(S.SQUARED_TURBINE_YEARS)
        edges = list(ind.age_band_edges)
        for j, component in enumerate(ind.components):
            for b, low in enumerate(edges):
                if band_operators[b] == 0:
                    continue
                high = edges[b + 1] if b + 1 < len(edges) else 0.0
                rate = release.failure_rates.add(
                    cohort=cohort.name, component=component, age_from_years=low, age_to_years=high
                )
                if band_operators[b] < k:
                    rate.suppressed, rate.suppression_reason = True, f"fewer than {k} operators in the age band"
                    suppressed += 1
                    continue
                if dominated(squares[b : b + 1], years[b : b + 1], band_operators[b : b + 1], p)[0]:
                    rate.suppressed = True
                    rate.suppression_reason = f"one operator may hold more than {p:.0%} of the age band's turbine-years"
                    suppressed += 1
                    continue
                failures = int(np.rint(block(S.FAILURE_COUNT)[j, b]))
                rate.failures, rate.turbine_years = failures, float(years[b])
                rate.failures_per_turbine_year = failures / float(years[b])
                rate.operator_count = int(band_operators[b])
                if failures:
                    rate.mean_downtime_hours = float(block(S.FAILURE_DOWNTIME)[j, b] / failures)
    return suppressed
