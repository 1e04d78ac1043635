"""Indicator kernels against hand-computed cases and independent numpy references."""

from __future__ import annotations

import numpy as np
import pytest

from client.indicators import (
    LastRecords,
    MomentSums,
    YawSums,
    age_band,
    availability,
    bridged_records,
    centred_sums,
    continues_earlier_run,
    criticality_alarms,
    expected_power_per_unit,
    failure_events,
    histogram_counts,
    position_in_distribution,
    record_last_states,
    static_yaw_misalignment,
    turbine_intercepts,
)
from protos.normal_behaviour import residual_variance, ridge_coefficients


def test_fixed_effects_ridge_from_sums_equals_lstsq_on_demeaned_rows():
    rng = np.random.default_rng(5)
    n, turbines = 3000, 4
    asset = rng.integers(0, turbines, n)
    x = rng.normal(size=(n, 2))
    offsets = np.array([30.0, 33.0, 28.0, 35.0])
    y = offsets[asset] + x @ np.array([2.0, -1.5]) + rng.normal(0, 0.5, n)
    moments = MomentSums.zeros(turbines, 3)
    for part in np.array_split(np.arange(n), 7):  # streamed in chunks
        moments.add(asset[part], np.column_stack([x[part], y[part]]))
    gram, moment, squares, count = centred_sums(moments, np.ones(turbines, dtype=bool))
    beta = ridge_coefficients(gram, moment, count, 0.0)
    # Reference: subtract each turbine's means, then ordinary least squares.
    xc, yc = x.copy(), y.copy()
    for t in range(turbines):
        xc[asset == t] -= x[asset == t].mean(axis=0)
        yc[asset == t] -= y[asset == t].mean()
    reference, *_ = np.linalg.lstsq(xc, yc, rcond=None)
    np.testing.assert_allclose(beta, reference, rtol=1e-10)
    np.testing.assert_allclose(beta, [2.0, -1.5], atol=0.05)
    np.testing.assert_allclose(turbine_intercepts(moments, beta), offsets, atol=0.1)
    rss = np.sum((yc - xc @ beta) ** 2)
    assert residual_variance(gram, moment, squares, count, turbines, beta) == pytest.approx(rss / (n - 2 - 4))
    # A ridge penalty shrinks the coefficients.
    assert np.linalg.norm(ridge_coefficients(gram, moment, count, 1.0)) < np.linalg.norm(beta)


def test_static_yaw_misalignment_is_the_vane_angle_of_peak_performance():
    rng = np.random.default_rng(6)
    sums = YawSums.zeros(3)
    for turbine, offset in enumerate((0.0, 6.0, -10.0)):
        vane = rng.normal(offset, 7.0, 5000)
        ratio = np.cos(np.radians(vane - offset)) ** 2 * (1 + rng.normal(0, 0.03, 5000))
        sums.add(np.full(5000, turbine), vane, ratio)
    np.testing.assert_allclose(static_yaw_misalignment(sums), [0.0, 6.0, -10.0], atol=1.0)
    # Too few records, or a convex fit, give no estimate.
    assert np.isnan(static_yaw_misalignment(sums, min_records=10_000)).all()


def test_expected_power_interpolates_the_released_bins_and_nothing_beyond():
    expected = expected_power_per_unit(np.array([3.0, 4.5, 5.0, 20.0]), np.array([4.0, 5.0]), np.array([0.1, 0.3]))
    np.testing.assert_allclose(expected[1:3], [0.2, 0.3])
    assert np.isnan(expected[[0, 3]]).all()


def test_availability_by_the_iec_61400_26_definitions():
    # 900 h available, 100 h unavailable: A_t = 0.9; 1800 MWh produced, 200 MWh lost: A_p = 0.9.
    time_based, production_based = availability(
        np.array([900.0, 0.0]), np.array([100.0, 0.0]), np.array([1800.0, 0.0]), np.array([200.0, 0.0])
    )
    assert time_based[0] == pytest.approx(0.9) and production_based[0] == pytest.approx(0.9)
    assert np.isnan(time_based[1]) and np.isnan(production_based[1])


def test_failure_events_are_runs_of_one_component_per_turbine_broken_by_long_gaps():
    time = np.datetime64("2025-01-01T00:00") + np.array(
        [0, 10, 20, 30, 40, 60, 70, 150, 160, 0, 10], dtype="timedelta64[m]"
    )
    asset = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    component = np.array([-1, 2, 2, 1, 1, 1, -1, 1, 1, 2, 2])
    events = failure_events(asset, time, component)
    # Component 2 (two records); component 1 across a missing record (four records from 00:30 to 01:00), ended by
    # a record without failure; component 1 again after it; turbine 1's.
    np.testing.assert_array_equal(events.asset, [0, 0, 0, 1])
    np.testing.assert_array_equal(events.component, [2, 1, 1, 2])
    np.testing.assert_array_equal(events.records, [2, 4, 2, 2])
    # Over a gap longer than UNKNOWN_STATUS_BRIDGE_SECONDS (the hour) the same code starts a new failure.
    long_gap = failure_events(np.zeros(3, dtype=np.int64), time[[3, 4, 8]], np.array([1, 1, 1]))
    np.testing.assert_array_equal(long_gap.records, [2, 1])


def test_a_blank_status_inside_a_failure_continues_it_a_known_good_record_ends_it():
    """Records of 10 min: code 3, blank, blank, code 3, then seven blanks (70 min) and code 3 again.

    The two blanks are unknown, the failure runs through them (four records); the 70 minutes are longer than
    the hour a failure bridges, so the last record starts another (six blanks, an hour, would not). Control:
    one of the two blanks known available (-1) splits the failure there.
    """
    time = np.datetime64("2025-01-01T00:00") + np.arange(13).astype("timedelta64[m]") * 10
    asset = np.zeros(13, dtype=np.int64)
    component = np.array([-1, 3, -1, -1, 3, -1, -1, -1, -1, -1, -1, -1, 3])
    known = np.isin(np.arange(13), [0, 1, 4, 12])
    events = failure_events(asset, time, component, known=known)
    np.testing.assert_array_equal(events.records, [4, 1])
    np.testing.assert_array_equal(events.start, time[[1, 12]])
    fifth = np.arange(13) == 5
    hour = failure_events(asset, time, np.where(fifth, 3, component), known=known | fifth)
    np.testing.assert_array_equal(hour.records, [12])
    split = failure_events(asset, time, component, known=known | (np.arange(13) == 2))
    np.testing.assert_array_equal(split.records, [1, 1, 1])


def test_a_failure_split_by_a_chunk_border_within_blank_status_continues_with_the_blanks_counted():
    """A chunk ends on two blank records after a failure's record; the next opens with the same code: one
    failure, whose span gains the two blanks. Control: the last known record available, it is a new failure."""
    t0 = np.datetime64("2025-01-01T00:00")
    minutes = np.timedelta64(10, "m")
    first_time = t0 + np.arange(3) * minutes
    last = record_last_states(
        LastRecords.none(1), np.zeros(3, dtype=np.int64), first_time, np.array([3, -1, -1]), np.array([1, 0, 0], bool)
    )
    events = failure_events(np.zeros(2, dtype=np.int64), t0 + np.arange(3, 5) * minutes, np.array([3, 3]))
    assert continues_earlier_run(events, last, 600).tolist() == [True]
    assert bridged_records(events, last, 600).tolist() == [2]
    known_good = record_last_states(
        LastRecords.none(1), np.zeros(3, dtype=np.int64), first_time, np.array([3, -1, -1]), None
    )
    assert continues_earlier_run(events, known_good, 600).tolist() == [False]


def test_age_bands_and_histograms_clip_to_their_grids():
    np.testing.assert_array_equal(
        age_band(np.array([-0.5, 0.0, 0.99, 1.0, 25.0]), np.array([0.0, 1.0, 5.0])), [-1, 0, 0, 1, 2]
    )
    counts = histogram_counts(np.array([-5.0, 0.0, 0.24, 0.26, 9.0, np.nan]), 0.0, 0.5, 3)
    np.testing.assert_array_equal(counts, [3, 1, 1])  # 0.26 rounds to bin 1 (0.25 is its lower edge)
    assert position_in_distribution(0.5, counts, 0.0, 0.5) == pytest.approx((3 + 0.5) / 5)


def test_one_hot_day_never_alarms_a_sustained_drift_does():
    np.testing.assert_array_equal(criticality_alarms(np.array([1, 0, 1, 0, 1, 0]), 2), [0] * 6)
    np.testing.assert_array_equal(criticality_alarms(np.array([1, 1, 1, 0, 0, 0]), 2), [0, 1, 1, 1, 0, 0])
