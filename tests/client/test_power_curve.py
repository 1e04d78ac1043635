"""Method-of-bins kernels against hand-computed cases."""

from __future__ import annotations

import numpy as np

from client.power_curve import bin_index, bin_power_curve, clipped_bin_index, power_histogram


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
