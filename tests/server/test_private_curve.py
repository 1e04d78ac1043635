"""The private curve: data windows, denoising, windowed percentiles, stated P50 errors, usable cohort size."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from server.percentiles import histogram_percentiles
from server.private_curve import (
    data_window,
    denoised_histogram,
    noisy_histogram_percentiles,
    usable_cohort_units,
    windowed_percentiles,
)
from server.spec import power_curve_spec

SPEC = power_curve_spec("t", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"], k_min_operators=3)
GRID = SPEC.normalised_power_bins  # P/P_rated from -0.1 to 1.3 in cells of 0.01
CELLS = GRID.count


def test_denoising_leaves_a_clean_histogram_alone_and_makes_a_noisy_one_non_negative_and_monotone():
    clean = np.array([0.0, 3.0, 10.0, 5.0, 0.0])
    np.testing.assert_allclose(denoised_histogram(clean), clean, atol=1e-12)
    noisy = np.array([-4.0, 3.0, 10.0, -7.0, 2.0, 1.0])
    counts = denoised_histogram(noisy)
    assert (counts >= 0).all()
    # The cumulative is the least-squares monotone fit of [-4, -1, 9, 2, 4, 5], floored at zero.
    np.testing.assert_allclose(np.cumsum(counts), [0.0, 0.0, 5.0, 5.0, 5.0, 5.0], atol=1e-12)


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
    usable = usable_cohort_units(1000.0, GRID, 60)
    assert usable_cohort_units(2000.0, GRID, 60) == pytest.approx(2 * usable, rel=0.05)
    rng = np.random.default_rng(5)
    shares = []
    for turbines in (usable // 2, usable, 2 * usable):
        noisy = _normal_row(60.0 * turbines, 0.5, 0.08) + rng.normal(0.0, 1000.0, (200, CELLS))
        shares.append(np.mean(~np.isnan(windowed_percentiles(noisy, GRID, 1000.0)[0][:, 1])))
    assert shares[0] < 0.1 and 0.3 < shares[1] < 0.9 and shares[2] > 0.95
