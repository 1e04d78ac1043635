"""A unit's status from an event log, against a record-by-record search of every event."""

from __future__ import annotations

import numpy as np

from client.events import OPEN_END, pair_alarms, status_from_events, unit_events

MINUTE = 60 * 10**9
PERIOD = 15 * MINUTE


def _latest_overlapping(unit, time, events_unit, start, end, code, without_event):
    """Each record's status by looking at every event: the latest-starting (then last listed) that overlaps it."""
    status = np.full(len(unit), without_event)
    for i, (u, t) in enumerate(zip(unit, time, strict=True)):
        overlapping = np.flatnonzero((events_unit == u) & (end > start) & (start < t + PERIOD) & (end > t))
        if len(overlapping):
            latest = overlapping[start[overlapping] == start[overlapping].max()]
            status[i] = code[latest[-1]]
    return status


def test_each_record_takes_the_code_of_the_latest_starting_event_overlapping_it():
    """Overlapping, nested, open, instantaneous and reversed events of four units, records of five (one without
    events), in any order: the same status as a search of every event."""
    rng = np.random.default_rng(1)
    n = 400
    unit = rng.integers(0, 4, n)
    start = rng.integers(0, 3000, n) * MINUTE
    end = start + rng.integers(-5, 600, n) * MINUTE  # some end before they start, some at their start
    end[rng.random(n) < 0.02] = OPEN_END
    code = rng.permutation(n) + 1  # each event its own code: which event won is seen
    records_unit = rng.integers(0, 5, 6000)
    records_time = rng.integers(-20, 220, 6000) * PERIOD
    found = status_from_events(records_unit, records_time, PERIOD, unit_events(unit, start, end, code), 0)
    expected = _latest_overlapping(records_unit, records_time, unit, start, end, code, 0)
    np.testing.assert_array_equal(found, expected)
    assert 0.3 < (found != 0).mean() < 0.95  # the records are not all inside or all outside events
    assert (records_unit == 4).any() and not found[records_unit == 4].any()


def test_an_event_marks_every_record_it_overlaps_and_no_other():
    """An event from 10:05 to 10:35 marks the records of 10:00, 10:15 and 10:30, not 09:45 nor 10:45; one that
    ends at a record's start does not mark it; one without duration marks none; one left open hides a later one
    only while that one lasts, and one inside another shows for its duration."""
    t = np.arange(9 * 4, 12 * 4) * PERIOD  # 09:00 .. 11:45
    events = unit_events(
        np.array([0, 0, 0]),
        np.array([605, 660, 700]) * MINUTE,
        np.array([635, 675, 700]) * MINUTE,  # 10:05-10:35, 11:00-11:15, 11:40 instantaneous
        np.array([3, 4, 5]),
    )
    status = status_from_events(np.zeros(len(t), dtype=np.int64), t, PERIOD, events, 0)
    marked = {int(s // MINUTE): int(c) for s, c in zip(t, status, strict=True) if c}
    assert marked == {600: 3, 615: 3, 630: 3, 660: 4}
    nested = unit_events(
        np.array([0, 0, 0]),
        np.array([550, 600, 650]) * MINUTE,
        np.array([OPEN_END, 630 * MINUTE, 680 * MINUTE]),  # 09:10 left open; 10:00-10:30; 10:50-11:20
        np.array([7, 3, 4]),
    )
    status = status_from_events(np.zeros(len(t), dtype=np.int64), t, PERIOD, nested, 0)
    marked = {int(s // MINUTE): int(c) for s, c in zip(t, status, strict=True)}
    assert [marked[m] for m in (540, 585, 600, 615, 630, 645, 660, 675, 690, 705)] == [7, 7, 3, 3, 7, 4, 4, 4, 7, 7]


def _clears_by_search(unit, code, time, raised):
    """For each raise, the time of the clear that ends it (-1: none), time by time: the first clear of its unit and
    code after it, or at its time if the alarm was off before (a time of raises only turns it on, of clears only
    off, of both leaves it); for each clear, whether it comes first of its alarm's rows (a raise of its time first)."""
    clear_time = np.full(len(unit), -1)
    before_log = np.zeros(len(unit), dtype=bool)
    for i in range(len(unit)):
        alarm = np.flatnonzero((unit == unit[i]) & (code == code[i]))
        if raised[i]:
            on = False
            for t in np.unique(time[alarm][time[alarm] < time[i]]):
                at = alarm[time[alarm] == t]
                if raised[at].all() or not raised[at].any():
                    on = bool(raised[at].all())
            later = alarm[~raised[alarm] & ((time[alarm] > time[i]) | (not on) & (time[alarm] == time[i]))]
            clear_time[i] = time[later].min() if len(later) else -1
        else:
            ranked = sorted(alarm, key=lambda k: (time[k], not raised[k], k))
            before_log[i] = ranked[0] == i
    return clear_time, before_log


def test_each_raise_ends_at_the_first_clear_of_its_alarm_after_it():
    """Rows of three units and four codes raised and cleared at random (repeats, clears with nothing on, raises
    and clears at one time, in any row order): the clears a search of every row finds."""
    rng = np.random.default_rng(5)
    n = 2000
    unit, code = rng.integers(0, 3, n), rng.integers(1, 5, n)
    time = rng.integers(0, 1000, n) * MINUTE  # many equal times
    raised = rng.random(n) < 0.5
    clearing, before_log = pair_alarms(unit, code, time, raised)
    expected_time, expected_before_log = _clears_by_search(unit, code, time, raised)
    np.testing.assert_array_equal(np.where(clearing >= 0, time[np.maximum(clearing, 0)], -1), expected_time)
    matched = clearing >= 0
    assert (~raised[clearing[matched]]).all() and (unit[clearing[matched]] == unit[matched]).all()
    assert (code[clearing[matched]] == code[matched]).all()
    assert (clearing[~raised] == -1).all()
    np.testing.assert_array_equal(before_log, expected_before_log)
    assert 0 < before_log.sum() < (~raised).sum() and 0 < (raised & ~matched).sum() < raised.sum()
    same_time = matched & (time[np.maximum(clearing, 0)] == time)
    assert 0 < same_time.sum() < matched.sum()  # raises ended at their own time, and ones that were not


def test_a_clear_and_a_raise_at_one_time_end_the_alarm_that_was_on_and_start_another():
    """Raised 10:00, cleared and raised again at 11:00 and at 12:00, cleared 13:00: 10:00-11:00, 11:00-12:00 and
    12:00-13:00; without the 13:00 clear the last is still on. Control: with the alarm off before 11:00, the raise
    and clear of 11:00 are one event without duration."""
    unit, code = np.zeros(6, dtype=np.int64), np.full(6, 3)
    time = np.array([10, 11, 11, 12, 12, 13]) * 60 * MINUTE
    raised = np.array([True, False, True, False, True, False])
    clearing, _ = pair_alarms(unit, code, time, raised)
    assert list(clearing) == [1, -1, 3, -1, 5, -1]
    clearing, _ = pair_alarms(unit[:5], code[:5], time[:5], raised[:5])
    assert list(clearing) == [1, -1, 3, -1, -1]
    clearing, _ = pair_alarms(unit[1:4], code[1:4], time[1:4], raised[1:4])
    assert list(clearing) == [-1, 0, -1]
