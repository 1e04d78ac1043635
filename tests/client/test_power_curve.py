"""Method-of-bins kernels against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from client.power_curve import (
    BINNED_SUMS,
    bin_index,
    bin_power_curve,
    binned_sums,
    clipped_bin_index,
    power_histogram,
)


def test_bins_are_centred_on_multiples_of_half_a_metre_per_second():
    # IEC 61400-12-1:2017, 9.1: bin 2 is centred on 1.0 m/s and covers [0.75, 1.25).
    values = np.array([0.0, 0.2499, 0.25, 0.74, 0.75, 1.0, 1.2499, 1.25, 30.2, 30.25, -0.1, -0.26, np.nan])
    expected = np.array([0, 0, 1, 1, 2, 2, 2, 3, 60, -1, 0, -1, -1])
    np.testing.assert_array_equal(bin_index(values, 0.0, 0.5, 61), expected)


def test_clipped_bins_put_outliers_in_the_end_bins():
    np.testing.assert_array_equal(clipped_bin_index(np.array([-5.0, 0.0, 0.0149, 99.0]), 0.005, 0.01, 3), [0, 0, 1, 2])


def test_bin_power_curve_sums_by_hand():
    ws = np.array([4.9, 5.1, 5.2, 7.0, 99.0])
    power = np.array([100.0, 110.0, 130.0, 400.0, 0.0])
    index = bin_index(ws, 0.0, 0.5, 61)
    count, s_ws, s_p, s_p2 = bin_power_curve(index, ws, power, 61)
    assert count[10] == 3 and count[14] == 1 and count.sum() == 4
    assert s_ws[10] == 4.9 + 5.1 + 5.2
    assert s_p[10] == 340.0
    assert s_p2[10] == 100.0**2 + 110.0**2 + 130.0**2
    assert s_p2[14] == 160000.0


def test_power_histogram_counts_each_record_once():
    ws_bin = np.array([0, 0, 1, -1, 1])
    p_bin = np.array([2, 2, 0, 1, 3])
    hist = power_histogram(ws_bin, p_bin, 2, 4)
    np.testing.assert_array_equal(hist, [[0, 0, 2, 0], [1, 0, 0, 1]])


def test_binned_sums_by_hand():
    # Turbines 0 and 2 form group 0, turbine 1 group 1, turbine 3 no group; wind-speed bins 0..2, power bins 0..3.
    group_of_turbine = np.array([0, 1, 0, 2])
    asset = np.array([0, 1, 2, 3, 2, 1])
    ws_bin = np.array([2, 0, 2, 1, 2, -1])  # the last record lies outside the wind-speed grid
    power_bin = np.array([3, 0, 3, 1, 1, 2])
    ws, power = np.array([8.0, 5.0, 8.5, 7.0, 8.2, 30.0]), np.array([1000.0, 200.0, 1200.0, 9.0, 800.0, 5.0])
    per_unit, per_area = power / 2000.0, power * 1e3 / 5281.0
    sums, histogram = binned_sums(asset, group_of_turbine, 2, ws_bin, 3, power_bin, 4, ws, power, per_unit, per_area)
    assert BINNED_SUMS[0] == "count" and sums.shape == (7, 2, 3) and histogram.shape == (2, 3, 4)
    np.testing.assert_array_equal(sums[:, 1, 0], [1, 5.0, 200.0, 200.0**2, 0.1, 0.1**2, 200e3 / 5281.0])
    p = np.array([1000.0, 1200.0, 800.0])
    np.testing.assert_array_equal(
        sums[:, 0, 2],
        [3, 8.0 + 8.5 + 8.2, p.sum(), np.sum(p * p), 0.5 + 0.6 + 0.4, 0.25 + 0.36 + 0.16, sum(p * 1e3 / 5281.0)],
    )
    assert sums[0].sum() == 4
    expected = np.zeros((2, 3, 4))
    expected[0, 2, 3], expected[0, 2, 1], expected[1, 0, 0] = 2, 1, 1
    np.testing.assert_array_equal(histogram, expected)


def test_binned_sums_equal_the_bincount_sums_to_the_bit():
    # The one-pass kernel adds in record order, as np.bincount does: the same floats, not just close ones.
    rng = np.random.default_rng(5)
    n, n_turbines, n_groups, n_ws, n_p = 50_000, 9, 3, 61, 141
    group_of_turbine = np.array([0, 1, 2, 0, 1, 2, 3, 0, 3])  # group 3: no cohort
    asset = rng.integers(0, n_turbines, n)
    ws = rng.uniform(-1.0, 32.0, n)
    power = rng.uniform(-50.0, 2400.0, n)
    per_unit, per_area = power / 2300.0, power * 1e3 / 5281.0
    ws_bin = bin_index(ws, 0.0, 0.5, n_ws)
    power_bin = clipped_bin_index(per_unit, -0.1, 0.01, n_p)
    sums, histogram = binned_sums(
        asset, group_of_turbine, n_groups, ws_bin, n_ws, power_bin, n_p, ws, power, per_unit, per_area
    )
    group = group_of_turbine[asset]
    cell = np.where((ws_bin >= 0) & (group < n_groups), group * n_ws + ws_bin, -1)
    count, s_ws, s_p, s_p2 = bin_power_curve(cell, ws, power, n_groups * n_ws)
    _, s_area, s_pu, s_pu2 = bin_power_curve(cell, per_area, per_unit, n_groups * n_ws)
    expected = np.stack([count, s_ws, s_p, s_p2, s_pu, s_pu2, s_area]).reshape(7, n_groups, n_ws)
    np.testing.assert_array_equal(sums, expected)
    np.testing.assert_array_equal(
        histogram, power_histogram(cell, power_bin, n_groups * n_ws, n_p).reshape(n_groups, n_ws, n_p)
    )
    # Turbine indices spilled as int32 give the same sums.
    as_int32 = binned_sums(
        asset.astype(np.int32), group_of_turbine, n_groups, ws_bin, n_ws, power_bin, n_p, ws, power, per_unit, per_area
    )
    np.testing.assert_array_equal(as_int32[0], sums)
    np.testing.assert_array_equal(as_int32[1], histogram)


def test_binned_sums_refuse_indices_outside_their_arrays():
    one = np.ones(1)
    with pytest.raises(ValueError, match=r"power bin 4 outside \[0, 4\)"):
        binned_sums(np.array([0]), np.array([0]), 1, np.array([0]), 1, np.array([4]), 4, one, one, one, one)
    with pytest.raises(ValueError, match=r"turbine 1 outside group_of_turbine \(length 1\)"):
        binned_sums(np.array([1]), np.array([0]), 1, np.array([0]), 1, np.array([0]), 4, one, one, one, one)
