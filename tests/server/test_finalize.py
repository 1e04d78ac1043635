"""Finalising a release: exact statistics from totals, percentile bands, suppression."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from protos.codec import block_layouts
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey, CohortBlocks
from server.finalize import (
    CohortStatistics,
    build_release,
    cohort_statistics_from_totals,
    data_window,
    denoised_histogram,
    histogram_percentiles,
    noisy_histogram_percentiles,
    usable_cohort_turbines,
    windowed_percentiles,
)
from server.spec import PrivacySettings, power_curve_spec

S = spec_pb2.Statistic
SPEC = power_curve_spec("t", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"], k_min_operators=3)


def _totals(power: np.ndarray, wind: np.ndarray, bin_: int) -> dict[BlockKey, np.ndarray]:
    totals = {}
    for layout in block_layouts(SPEC):
        totals[layout.key] = np.zeros(layout.shape, dtype=object)
    scale = {layout.statistic: layout.scale_exponent for layout in block_layouts(SPEC)}
    block = CohortBlocks(totals, "E-82/2300")
    block(S.RECORD_COUNT)[bin_] = len(power)
    block(S.SUM_WIND_SPEED)[bin_] = sum(round(math.ldexp(w, scale[S.SUM_WIND_SPEED])) for w in wind)
    block(S.SUM_POWER)[bin_] = sum(round(math.ldexp(p, scale[S.SUM_POWER])) for p in power)
    block(S.SUM_POWER_SQUARED)[bin_] = sum(round(math.ldexp(p * p, scale[S.SUM_POWER_SQUARED])) for p in power)
    block(S.BIN_CONTRIBUTOR)[bin_] = 3
    block(S.COHORT_CONTRIBUTOR)[0] = 3
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


def _stats(operators: int, bin_operators: list[int], records_squared: list[float] | None = None) -> CohortStatistics:
    """Ten records per occupied bin, shared equally among its operators unless ``records_squared`` says."""
    n = len(bin_operators)
    counts = np.where(np.array(bin_operators) > 0, 10, 0)
    equal = [100.0 / b if b else 0.0 for b in bin_operators]
    return CohortStatistics(
        operator_count=operators,
        cohort_records_squared=int(counts.sum() ** 2 / max(operators, 1)),
        bin_operator_count=np.array(bin_operators),
        record_count=counts,
        records_squared=np.array(records_squared if records_squared is not None else equal),
        mean_wind_speed=np.arange(n, dtype=float) * 0.5,
        mean_power=np.full(n, 100.0),
        std_power=np.full(n, 5.0),
        mean_power_per_unit=np.full(n, 0.05),
        std_power_per_unit=np.full(n, 0.0025),
        mean_power_per_area=np.full(n, 20.0),
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


def test_a_bin_one_operator_dominates_is_suppressed_although_k_is_met():
    # Bin 10: 4 operators holding 7, 1, 1, 1 of 10 records: sum of squares 52, H = 0.52, s* = 0.7 > 0.6.
    # Bin 11: 4 operators holding 4, 2, 2, 2: sum of squares 28, H = 0.28, s* = 0.4 <= 0.6.
    bins = [0] * 61
    bins[10] = bins[11] = 4
    squares = [0.0] * 61
    squares[10], squares[11] = 52.0, 28.0
    release = build_release(SPEC, {"E-82/2300": _stats(4, bins, squares)}, 4, "", "pooled")
    dominated, fine = release.curves[0].bins
    assert dominated.suppressed and "more than 60%" in dominated.suppression_reason
    assert not dominated.HasField("mean_power") and not dominated.HasField("operator_count")
    assert not fine.suppressed and fine.operator_count == 4


def test_a_dominated_cohort_is_suppressed():
    stats = _stats(3, [3] * 61)
    dominated = CohortStatistics(**{**stats.__dict__, "cohort_records_squared": int(610**2 * 0.9)})
    release = build_release(SPEC, {"E-82/2300": dominated}, 3, "", "pooled")
    assert release.curves[0].suppressed and "more than 60%" in release.curves[0].suppression_reason


def test_power_coefficient_and_category_a_uncertainty_by_hand():
    bins = [0] * 61
    bins[16] = 3
    stats = _stats(3, bins)
    stats.mean_wind_speed[16] = 8.0
    stats.mean_power_per_area[16] = 150.0  # W/m^2
    cell = build_release(SPEC, {"E-82/2300": stats}, 3, "", "pooled").curves[0].bins[0]
    # Cp = (P / A) / (0.5 rho0 V^3) = 150 / (0.5 * 1.225 * 512) = 0.47832
    assert cell.power_coefficient == pytest.approx(0.478316, abs=1e-6)
    # s = sigma / sqrt(N) = 5 / sqrt(10)
    assert cell.uncertainty_power == pytest.approx(5 / np.sqrt(10))
    assert cell.uncertainty_power_per_unit == pytest.approx(0.0025 / np.sqrt(10))


def test_denoising_leaves_a_clean_histogram_alone_and_makes_a_noisy_one_non_negative_and_monotone():
    clean = np.array([0.0, 3.0, 10.0, 5.0, 0.0])
    np.testing.assert_allclose(denoised_histogram(clean), clean, atol=1e-12)
    noisy = np.array([-4.0, 3.0, 10.0, -7.0, 2.0, 1.0])
    counts = denoised_histogram(noisy)
    assert (counts >= 0).all()
    # The cumulative is the least-squares monotone fit of [-4, -1, 9, 2, 4, 5], floored at zero.
    np.testing.assert_allclose(np.cumsum(counts), [0.0, 0.0, 5.0, 5.0, 5.0, 5.0], atol=1e-12)


GRID = SPEC.normalised_power_bins  # P/P_rated from -0.1 to 1.3 in cells of 0.01
CELLS = GRID.count


def _normal_row(total: float, mean: float, spread: float) -> np.ndarray:
    """``total`` record weight spread normally over the grid's cells."""
    edges = GRID.first_centre + GRID.width * (np.arange(CELLS + 1) - 0.5)
    return total * np.diff(norm.cdf(edges, loc=mean, scale=spread))


def test_the_data_window_is_the_run_of_boxes_above_the_noise_around_the_records_plus_a_pad():
    # Noise 1 per cell: a box of 11 cells carries noise sqrt(11) = 3.317.
    row = np.zeros(CELLS)
    row[20:23] = 100.0 / 3
    # Boxes centred on cells 15 to 27 hold records (z >= 33.3 / 3.317 = 10 > 1), the densest 30 > 4.5;
    # padded by 4 cells: cells 11 to 31.
    start, stop = data_window(row, 1.0)
    assert (start[0], stop[0]) == (11, 32)
    # A second group standing out at 7 noise standard deviations (> 5.5) belongs to the window ...
    far = row.copy()
    far[100] = 7 * math.sqrt(11)
    assert tuple(int(x[0]) for x in data_window(far, 1.0)) == (11, 95 + 11 + 4)
    # ... one at 5 (which noise alone reaches somewhere in a row about once in 10^4) does not.
    far[100] = 5 * math.sqrt(11)
    assert tuple(int(x[0]) for x in data_window(far, 1.0)) == (11, 32)
    # Nothing stands out of a row of noise: an empty window.
    start, stop = data_window(np.random.default_rng(3).normal(0.0, 1.0, (50, CELLS)), 1.0)
    assert (start == stop).all()


def test_percentiles_are_taken_over_the_window_so_noise_in_empty_cells_does_not_enter():
    row = np.zeros(CELLS)
    row[60], row[61] = 40.0, 60.0  # P50: target 50 is 10 / 60 into cell 61, whose lower edge is 0.505
    row[5], row[130] = 3.0, -3.0  # noise in cells far from the records: boxes at 0.9 < 1 noise sd
    (percentiles,), (counts,) = windowed_percentiles(row, GRID, 1.0)
    assert percentiles[1] == pytest.approx(0.505 + 0.01 / 6, abs=1e-12)
    assert counts[5] == counts[130] == 0.0 and counts.sum() == pytest.approx(100.0)
    # Over the whole row the two outliers shift the median target.
    whole = histogram_percentiles(denoised_histogram(row), GRID.first_centre, GRID.width, (0.5,))[0]
    assert abs(whole - percentiles[1]) > 1e-4


def test_a_bin_whose_window_noise_exceeds_the_share_of_its_weight_is_withheld():
    # Weight m in cells 60 and 70: boxes centred on 55 to 75 hold it, the window is 51 to 79 (w = 29);
    # noise at the median s sqrt(29) / 2 = 2.693 must be at most 0.15 m: m >= 17.95. The densest box
    # holds both cells, m / sqrt(11) > 4.5 for m > 14.9 in both cases below.
    for weight, published in ((17.0, False), (19.0, True)):
        row = np.zeros(CELLS)
        row[60] = row[70] = weight / 2
        (percentiles,), (counts,) = windowed_percentiles(row, GRID, 1.0)
        assert bool(not np.isnan(percentiles).any()) is published
        assert bool(counts.sum() > 0) is published


def test_private_percentiles_are_monotone_and_a_row_of_noise_publishes_nothing():
    rng = np.random.default_rng(11)
    noisy = _normal_row(8000.0, 0.4, 0.07) + rng.normal(0.0, 100.0, (400, CELLS))
    percentiles, counts = windowed_percentiles(noisy, GRID, 100.0)
    shown = ~np.isnan(percentiles[:, 1])
    assert shown.mean() > 0.95 and (counts >= 0).all()
    assert (np.diff(percentiles[shown], axis=1) >= 0).all()
    result = noisy_histogram_percentiles(rng.normal(0.0, 100.0, CELLS), GRID, 100.0, rng)
    assert np.isnan(result.percentiles).all() and math.isnan(result.mean) and math.isnan(result.p50_noise_stddev)


@pytest.mark.parametrize(
    ("row", "calibrated"),
    [
        (_normal_row(6000.0, 0.5, 0.06), True),  # a bin on the steep part of the curve: 60 noise sd of weight
        (np.where(np.arange(CELLS) == 110, 2500.0, 0.0), False),  # every record at rated power (cell 110)
    ],
    ids=["spread", "point mass at rated"],
)
def test_the_stated_p50_error_matches_the_error_over_seeded_noise_draws(row, calibrated):
    (truth,) = histogram_percentiles(row, GRID.first_centre, GRID.width, (0.5,))
    noise, bootstrap = np.random.default_rng(1), np.random.default_rng(2)
    results = [
        noisy_histogram_percentiles(row + noise.normal(0.0, 100.0, CELLS), GRID, 100.0, bootstrap) for _ in range(100)
    ]
    shown = [r for r in results if not math.isnan(r.mean)]
    assert len(shown) >= 95
    z = np.array([(r.percentiles[1] - truth) / r.p50_noise_stddev for r in shown])
    if calibrated:
        assert 0.8 <= z.std() <= 1.25
    else:
        # All records in one cell: the bootstrap's truth, the denoised row, spreads them over
        # neighbouring cells, so the stated error is conservative, never several times too small.
        assert z.std() <= 1.0 and np.abs(z).max() < 3
        assert max(r.p50_noise_stddev for r in shown) < GRID.width


def test_the_usable_cohort_size_is_where_the_widest_bins_start_to_be_published():
    usable = usable_cohort_turbines(1000.0, GRID, 60)
    assert usable_cohort_turbines(2000.0, GRID, 60) == pytest.approx(2 * usable, rel=0.05)
    rng = np.random.default_rng(5)
    shares = []
    for turbines in (usable // 2, usable, 2 * usable):
        noisy = _normal_row(60.0 * turbines, 0.5, 0.08) + rng.normal(0.0, 1000.0, (200, CELLS))
        shares.append(np.mean(~np.isnan(windowed_percentiles(noisy, GRID, 1000.0)[0][:, 1])))
    assert shares[0] < 0.1 and 0.3 < shares[1] < 0.9 and shares[2] > 0.95


def test_a_private_release_withholds_the_percentiles_of_a_bin_dominated_by_noise():
    private = power_curve_spec(
        "p",
        "2025-01-01T00:00:00Z",
        "2025-02-01T00:00:00Z",
        ["E-82/2300"],
        k_min_operators=3,
        privacy=PrivacySettings(1.0, max_records_per_turbine_per_bin=60, min_noise_sites=3),
    )
    noise = next(b.noise_stddev for b in private.blocks if b.noise_stddev > 0) * math.sqrt(3 / 2)
    bins = [0] * 61
    bins[20] = bins[21] = 3
    stats = _stats(3, bins)
    histogram = np.zeros((61, CELLS))
    histogram[20, 60] = 100 * noise  # every record in cell 60: P50 0.5
    stats = CohortStatistics(**{**stats.__dict__, "histogram": histogram})
    release = build_release(private, {"E-82/2300": stats}, participants=3, flower_run_id="", method="secagg+")
    shown, withheld = release.curves[0].bins
    assert shown.p50_normalised_power == pytest.approx(0.5, abs=1e-9) and shown.p50_noise_stddev < 1e-3
    assert withheld.HasField("noisy_record_weight") and not withheld.suppressed
    assert not any(
        withheld.HasField(f)
        for f in ("p10_normalised_power", "p50_normalised_power", "p90_normalised_power", "mean_power_per_unit")
    )
    assert not withheld.HasField("p50_noise_stddev")
    assert "(1 of 2 bins here)" in release.privacy.note
    assert f"about {usable_cohort_turbines(noise, GRID, 60)} turbines" in release.privacy.note
