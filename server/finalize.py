"""From securely summed blocks to a published industry power-curve release."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from protos.codec import CONTRACT, block_layouts, spec_sha256
from protos.fleetbench.v1 import release_pb2, spec_pb2
from server.disclosure import below_k_operators

S = spec_pb2.Statistic
PERCENTILES = (0.10, 0.50, 0.90)


@dataclass(frozen=True)
class CohortStatistics:
    """Industry statistics of one cohort, per wind-speed bin (NaN where undefined)."""

    operator_count: int
    bin_operator_count: np.ndarray
    record_count: np.ndarray
    mean_wind_speed: np.ndarray  # [m/s]
    mean_power: np.ndarray  # [kW]
    std_power: np.ndarray  # [kW], sample standard deviation (N - 1)
    histogram: np.ndarray  # records per (wind-speed bin, normalised-power bin)


def _exact_ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def cohort_statistics_from_totals(
    spec: spec_pb2.BenchmarkSpec, totals: Mapping[str, np.ndarray]
) -> dict[str, CohortStatistics]:
    """Means and standard deviations from the exact fixed-point totals of each cohort.

    With N records, S1 = sum P and S2 = sum P^2, the sample variance is
    (N S2 - S1^2) / (N (N - 1)); it is evaluated in exact integer arithmetic on the fixed-point
    totals, so there is no cancellation error, and rounded to float once.

    Parameters
    ----------
    spec : BenchmarkSpec
        The spec the totals were summed for.
    totals : mapping
        Block name -> object array of Python ints, as :func:`protos.codec.decode_limb_sums` returns.
    """
    exponent = {layout.name: layout.scale_exponent for layout in block_layouts(spec)}
    by_cohort: dict[str, dict[int, np.ndarray]] = {}
    for layout in block_layouts(spec):
        if exponent[layout.name] < 0:
            raise ValueError(f"block {layout.name}: negative scale_exponent is not supported")
        by_cohort.setdefault(layout.cohort, {})[layout.statistic] = totals[layout.name]
    e = {layout.statistic: layout.scale_exponent for layout in block_layouts(spec)}

    result = {}
    for cohort, blocks in by_cohort.items():
        n = [int(x) >> e[S.RECORD_COUNT] for x in blocks[S.RECORD_COUNT]]
        s_ws = [int(x) for x in blocks[S.SUM_WIND_SPEED]]
        s_p = [int(x) for x in blocks[S.SUM_POWER]]
        s_p2 = [int(x) for x in blocks[S.SUM_POWER_SQUARED]]
        e1, e2 = e[S.SUM_POWER], e[S.SUM_POWER_SQUARED]
        variance = [
            _exact_ratio(ni * p2 * (1 << (2 * e1)) - p * p * (1 << e2), ni * (ni - 1) << (e2 + 2 * e1))
            if ni > 1
            else math.nan
            for ni, p, p2 in zip(n, s_p, s_p2, strict=True)
        ]
        result[cohort] = CohortStatistics(
            operator_count=int(blocks[S.COHORT_CONTRIBUTOR][0]),
            bin_operator_count=np.array([int(x) for x in blocks[S.BIN_CONTRIBUTOR]], dtype=np.int64),
            record_count=np.array(n, dtype=np.int64),
            mean_wind_speed=np.array(
                [_exact_ratio(s, ni << e[S.SUM_WIND_SPEED]) for s, ni in zip(s_ws, n, strict=True)]
            ),
            mean_power=np.array([_exact_ratio(s, ni << e1) for s, ni in zip(s_p, n, strict=True)]),
            std_power=np.sqrt(np.maximum(np.array(variance), 0.0)),
            histogram=np.array([[int(x) for x in row] for row in blocks[S.NORMALISED_POWER_HISTOGRAM]], dtype=np.int64),
        )
    return result


def histogram_percentiles(
    counts: np.ndarray, first_centre: float, width: float, quantiles: tuple[float, ...]
) -> np.ndarray:
    """Quantiles of a binned distribution, interpolating linearly within the bin that holds each.

    The cumulative count is taken as linear across each bin, so a quantile is exact to within
    one bin width. NaN when the histogram is empty.

    Parameters
    ----------
    counts : ndarray
        Counts per bin on the grid.
    first_centre, width : float
        Grid of the bins: bin i is centred on first_centre + i * width.
    quantiles : tuple of float
        Quantiles in [0, 1].
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return np.full(len(quantiles), np.nan)
    cumulative = np.concatenate(([0.0], np.cumsum(counts)))
    lower_edges = first_centre - width / 2 + width * np.arange(len(counts) + 1)
    targets = np.asarray(quantiles) * total
    # First bin whose upper cumulative count reaches the target, skipping empty bins.
    j = np.clip(np.searchsorted(cumulative[1:], targets, side="left"), 0, len(counts) - 1)
    fraction = np.where(counts[j] > 0, (targets - cumulative[j]) / np.where(counts[j] > 0, counts[j], 1.0), 0.0)
    return lower_edges[j] + np.clip(fraction, 0.0, 1.0) * width


def build_release(
    spec: spec_pb2.BenchmarkSpec,
    statistics: Mapping[str, CohortStatistics],
    participants: int,
    flower_run_id: str,
    method: str,
) -> release_pb2.Release:
    """Assemble the release: cohort curves with bands, and k-operator suppression, marked.

    A cohort with fewer than ``k_min_operators`` operators is released as suppressed with no
    bins; within a released cohort, each bin with fewer than k operators keeps its centre and is
    marked suppressed, with every statistic absent. Bins no operator filled are left out.
    """
    k = spec.k_min_operators
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    release = release_pb2.Release(
        contract=CONTRACT,
        spec_id=spec.spec_id,
        period=spec.period,
        k_min_operators=k,
        percentile_resolution=pg.width,
    )
    suppressed_cells = 0
    for cohort in spec.cohorts:
        stats = statistics[cohort.name]
        curve = release.curves.add(cohort=cohort.name, turbine_model=cohort.turbine_model)
        if below_k_operators(np.array([stats.operator_count]), k)[0]:
            curve.suppressed = True
            curve.suppression_reason = f"fewer than {k} operators in the cohort"
            suppressed_cells += 1
            continue
        curve.operator_count = stats.operator_count
        suppressed = below_k_operators(stats.bin_operator_count, k)
        for i in np.flatnonzero(stats.bin_operator_count > 0):
            cell = curve.bins.add(wind_speed_centre=ws.first_centre + i * ws.width)
            if suppressed[i]:
                cell.suppressed = True
                cell.suppression_reason = f"fewer than {k} operators in the bin"
                suppressed_cells += 1
                continue
            cell.record_count = int(stats.record_count[i])
            cell.operator_count = int(stats.bin_operator_count[i])
            cell.mean_wind_speed = float(stats.mean_wind_speed[i])
            cell.mean_power = float(stats.mean_power[i])
            if np.isfinite(stats.std_power[i]):
                cell.std_power = float(stats.std_power[i])
            p10, p50, p90 = histogram_percentiles(stats.histogram[i], pg.first_centre, pg.width, PERCENTILES)
            cell.p10_normalised_power, cell.p50_normalised_power, cell.p90_normalised_power = p10, p50, p90
    release.provenance.CopyFrom(
        release_pb2.Provenance(
            spec_sha256=spec_sha256(spec),
            participants=participants,
            suppressed_cells=suppressed_cells,
            flower_run_id=flower_run_id,
            created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
            method=method,
        )
    )
    return release
