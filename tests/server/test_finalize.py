"""Finalising a release: exact statistics from totals, percentile bands, suppression."""

from __future__ import annotations

import math

import numpy as np
import pytest

from protos.codec import block_layouts
from server.finalize import CohortStatistics, build_release, cohort_statistics_from_totals, histogram_percentiles
from server.spec import power_curve_spec

SPEC = power_curve_spec("t", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"], k_min_operators=3)


def _totals(power: np.ndarray, wind: np.ndarray, bin_: int) -> dict[str, np.ndarray]:
    totals = {}
    for layout in block_layouts(SPEC):
        totals[layout.name] = np.zeros(layout.shape, dtype=object)
    scale = {layout.statistic: layout.scale_exponent for layout in block_layouts(SPEC)}
    name = "E-82/2300:"
    totals[name + "RECORD_COUNT"][bin_] = len(power)
    totals[name + "SUM_WIND_SPEED"][bin_] = sum(round(math.ldexp(w, scale[2])) for w in wind)
    totals[name + "SUM_POWER"][bin_] = sum(round(math.ldexp(p, scale[3])) for p in power)
    totals[name + "SUM_POWER_SQUARED"][bin_] = sum(round(math.ldexp(p * p, scale[4])) for p in power)
    totals[name + "BIN_CONTRIBUTOR"][bin_] = 3
    totals[name + "COHORT_CONTRIBUTOR"][0] = 3
    return totals


def test_mean_and_sample_std_from_totals_match_numpy_without_cancellation():
    # A rated-power bin: large mean, small spread, where the naive float formula loses digits.
    rng = np.random.default_rng(5)
    power = 2300.0 + rng.normal(0, 0.01, size=1000)
    wind = rng.uniform(14.75, 15.25, size=1000)
    stats = cohort_statistics_from_totals(SPEC, _totals(power, wind, 30))["E-82/2300"]
    assert stats.record_count[30] == 1000
    assert stats.mean_power[30] == pytest.approx(power.mean(), rel=1e-12)
    assert stats.mean_wind_speed[30] == pytest.approx(wind.mean(), rel=1e-12)
    assert stats.std_power[30] == pytest.approx(power.std(ddof=1), rel=1e-6)
    assert np.isnan(stats.mean_power[0]) and np.isnan(stats.std_power[0])


def test_histogram_percentiles_by_hand():
    # 10 records: 4 in [0, 1), 6 in [1, 2). The median (target 5) is 1/6 into the second bin.
    counts = np.array([4, 6, 0])
    p10, p50, p90 = histogram_percentiles(counts, 0.5, 1.0, (0.1, 0.5, 0.9))
    assert p10 == pytest.approx(0.25)
    assert p50 == pytest.approx(1.0 + 1 / 6)
    assert p90 == pytest.approx(1.0 + 5 / 6)
    # Empty bins are skipped: a quantile never lands in a bin with no records.
    assert histogram_percentiles(np.array([0, 5, 0, 5]), 0.5, 1.0, (0.5,))[0] == pytest.approx(2.0)
    assert np.isnan(histogram_percentiles(np.zeros(3), 0.5, 1.0, (0.5,))).all()


def _stats(operators: int, bin_operators: list[int]) -> CohortStatistics:
    n = len(bin_operators)
    return CohortStatistics(
        operator_count=operators,
        bin_operator_count=np.array(bin_operators),
        record_count=np.full(n, 10),
        mean_wind_speed=np.arange(n, dtype=float) * 0.5,
        mean_power=np.full(n, 100.0),
        std_power=np.full(n, 5.0),
        histogram=np.ones((n, 141), dtype=np.int64),
    )


def test_release_suppresses_and_marks_cells_below_k():
    bins = [0] * 61
    bins[10], bins[11], bins[12] = 3, 2, 5
    release = build_release(SPEC, {"E-82/2300": _stats(5, bins)}, participants=5, flower_run_id="7", method="secagg+")
    (curve,) = release.curves
    assert [b.wind_speed_centre for b in curve.bins] == [5.0, 5.5, 6.0]  # empty bins are not cells
    released, suppressed, also_released = curve.bins
    assert released.operator_count == 3 and released.HasField("mean_power")
    assert suppressed.suppressed and "fewer than 3" in suppressed.suppression_reason
    assert not any(
        suppressed.HasField(f) for f in ("record_count", "operator_count", "mean_power", "p50_normalised_power")
    )
    assert also_released.record_count == 10
    assert release.provenance.suppressed_cells == 1 and release.provenance.participants == 5


def test_release_suppresses_a_cohort_below_k_entirely():
    release = build_release(SPEC, {"E-82/2300": _stats(2, [2] * 61)}, participants=9, flower_run_id="", method="pooled")
    (curve,) = release.curves
    assert curve.suppressed and not curve.bins and not curve.HasField("operator_count")
    assert release.provenance.suppressed_cells == 1
