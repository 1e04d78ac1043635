"""Clipping share, time-based availability and lost energy on small arrays computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from client.solar.availability import availability_terms, clipping_terms, lost_energy_by_category, snow_covered


def test_clipping_terms_by_hand():
    p_out = np.array([0.0, 50.0, 97.9, 98.0, 100.0, np.nan, 99.0, 100.0])
    daylight = np.array([False, True, True, True, True, True, True, False])
    ac, one = np.full(8, 100.0), np.zeros(8, dtype=np.int64)
    # AC 100 kW, threshold 0.98: daylight records 1..6 (6); at or above 98 kW: 3, 4 and 6 -> 3 of 6.
    assert [list(t) for t in clipping_terms(p_out, ac, daylight, one, 1, threshold=0.98)] == [[3.0], [6.0]]
    assert [list(t) for t in clipping_terms(p_out, ac, daylight, one, 1, threshold=0.99)] == [[2.0], [6.0]]
    assert [list(t) for t in clipping_terms(p_out, ac, daylight, one, 1)] == [[1.0], [6.0]]  # 0.995: 100 kW only
    # Two inverters of 100 and 200 kW: the second's 99 and 100 kW are not its limit.
    two, rated = np.array([0, 0, 0, 0, 1, 1, 1, 1]), np.array([100.0] * 4 + [200.0] * 4)
    assert [list(t) for t in clipping_terms(p_out, rated, daylight, two, 2, 0.98)] == [[1.0, 0.0], [3.0, 3.0]]
    with pytest.raises(ValueError, match="threshold"):
        clipping_terms(p_out, ac, daylight, one, 1, threshold=0.0)


def test_availability_counts_only_daylight():
    daylight = np.array([False, False, True, True, True, True])
    available = np.array([False, True, True, False, True, True])  # the night outage does not count
    one, two = np.zeros(6, dtype=np.int64), np.array([0, 0, 0, 1, 1, 1])
    assert [list(t) for t in availability_terms(daylight, available, one, 1)] == [[3.0], [4.0]]
    assert [list(t) for t in availability_terms(daylight, available, two, 2)] == [[1.0, 2.0], [1.0, 3.0]]
    assert [list(t) for t in availability_terms(np.zeros(6, dtype=bool), available, one, 1)] == [[0.0], [0.0]]


def test_lost_energy_by_category_by_hand():
    p_expected = np.array([10.0, 20.0, 30.0, 40.0, 50.0, np.nan, 60.0])
    p_out = np.array([10.0, 5.0, np.nan, 45.0, 20.0, 0.0, 0.0])
    category = np.array([-1, 0, 0, 1, 2, 2, -1])
    # tau = 0.25 h: category 0 = (15 + 30) * 0.25 = 11.25; 1 = max(40 - 45, 0) = 0; 2 = 30 * 0.25 = 7.5
    # (NaN expected adds nothing); category 3 has no record; the available records (-1) count nowhere.
    lost = lost_energy_by_category(p_expected, p_out, category, 4, 0.25)
    assert lost.shape == (4,)
    assert lost == pytest.approx([11.25, 0.0, 7.5, 0.0], abs=1e-12)
    with pytest.raises(ValueError, match="category"):
        lost_energy_by_category(p_expected, p_out, category, 2, 0.25)


def test_snow_is_zero_output_at_a_module_held_at_the_snows_temperature_and_a_fault_is_not():
    """Covered: at or below 0 degC and no warmer than the air. An inverter off in sun: its module above the air."""
    no_output = np.array([True, True, True, True, False, True])
    # covered on a freezing day; faulted in sun at -10 degC air (module -4); unread; covered under a thaw (air 5);
    # producing; faulted in sun on a mild day
    module = np.array([-3.0, -4.0, np.nan, 0.0, -1.0, 14.0])
    ambient = np.array([-3.5, -10.0, -3.0, 5.0, -3.0, 5.0])
    np.testing.assert_array_equal(snow_covered(no_output, module, ambient), [True, False, False, True, False, False])
    # One channel alone: at or below 2 degC decides (the air alone takes a freezing day's fault for snow).
    np.testing.assert_array_equal(snow_covered(no_output, None, ambient), [True, True, True, False, False, False])
    np.testing.assert_array_equal(snow_covered(no_output, module, None), [True, True, False, True, False, False])
    assert not snow_covered(no_output, None, None).any()
