"""A unit's status over time from an event log: each record gets the code of the event it falls in.

Operators often export status not as a column of the SCADA records but as a separate log of events
(an inverter's or a turbine's alarms, each with its code, when it started and when it cleared). The
summaries count downtime, lost production by cause and failures from a status per record, so the
log is turned into one: a record covering [t, t + period) takes the code of the latest-starting
event that overlaps it, the unit's newest state while it lasts. A fault inside a long curtailment
shows for as long as it lasts, and an event left open by mistake hides no later one while that one
lasts. Pure functions over arrays; times are int64 nanoseconds since the epoch, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

OPEN_END = np.iinfo(np.int64).max
"""The end of an event still open when the log was written [ns]: it lasts beyond every record."""


@dataclass(frozen=True)
class UnitEvents:
    """Events that take time, sorted by unit, then start, and the latest of their ends.

    ``reach[i]``: the latest end of the unit's events up to i; ``latest_end[j][i]``: the latest end
    of events i .. i + 2^j - 1 (a sparse table), so the latest end over any run of events is the
    larger of two entries.
    """

    unit: np.ndarray  # int64, the unit's index
    start: np.ndarray  # int64 [ns]
    end: np.ndarray  # int64 [ns], OPEN_END while open
    code: np.ndarray  # int64
    reach: np.ndarray  # int64 [ns], the latest end of the unit's events up to each
    latest_end: tuple[np.ndarray, ...]

    def latest_end_over(self, first: np.ndarray, stop: np.ndarray) -> np.ndarray:
        """The latest end of events ``first`` .. ``stop`` - 1 (``stop`` > ``first``, elementwise) [ns]."""
        level = np.floor(np.log2(np.maximum(stop - first, 1))).astype(np.int64)
        out = np.empty(len(first), dtype=np.int64)
        for j in np.unique(level):
            rows = level == j
            table = self.latest_end[j]
            out[rows] = np.maximum(table[first[rows]], table[stop[rows] - (1 << j)])
        return out


def unit_events(unit: np.ndarray, start: np.ndarray, end: np.ndarray, code: np.ndarray) -> UnitEvents:
    """The events of a log that take time, in the order :func:`status_from_events` searches them.

    An event without duration (``end`` at or before ``start``) marks no record: no time was lost.

    Parameters
    ----------
    unit : ndarray of int
        Each event's unit (inverter or turbine index).
    start, end : ndarray of int64
        When each event started and cleared [ns since the epoch, UTC]; :data:`OPEN_END` for an open one.
    code : ndarray of int
        Each event's status code.
    """
    lasting = end > start
    order = np.lexsort((start[lasting], unit[lasting]))  # stable: equal starts keep the log's order
    unit, start, end, code = (np.asarray(a)[lasting][order].astype(np.int64) for a in (unit, start, end, code))
    table = [end]
    while (1 << len(table)) <= len(end):  # level j covers 2^j events
        half = 1 << (len(table) - 1)
        table.append(np.maximum(table[-1][:-half], table[-1][half:]))
    reach = pd.Series(end).groupby(unit).cummax().to_numpy(dtype=np.int64) if len(end) else end
    return UnitEvents(unit, start, end, code, reach, tuple(table))


def status_from_events(
    unit: np.ndarray, time: np.ndarray, period: int, events: UnitEvents, without_event: int
) -> np.ndarray:
    """Each record's status: the code of the latest-starting event overlapping it, else ``without_event``.

    Among its unit's events that start before the record ends (the first ``stop``, by start), none
    overlaps it if their latest end (``reach``) is not after its start. Else the one that overlaps
    it and started last is the last whose own end, and so the latest end from it on, is after the
    record's start: most often the last of them; if not, a binary search over the latest end of
    each run of events ending at ``stop``. Equal starts: the one the log lists last.

    Parameters
    ----------
    unit : ndarray of int
        Each record's unit index.
    time : ndarray of int64
        Each record's start [ns since the epoch, UTC].
    period : int
        The records' length [ns]: a record covers [time, time + period).
    events : UnitEvents
        The log (:func:`unit_events`).
    without_event : int
        The status of a record no event overlaps (a normal or available code).

    Returns
    -------
    ndarray of int64
        One status code per record.
    """
    status = np.full(len(unit), without_event, dtype=np.int64)
    # Within a unit events are sorted by start: its events first .. stop - 1 start before the record ends.
    first, stop = np.zeros(len(unit), dtype=np.int64), np.zeros(len(unit), dtype=np.int64)
    by_unit = np.argsort(unit, kind="stable")
    units, starts = np.unique(unit[by_unit], return_index=True)
    for u, rows in zip(units, np.split(by_unit, starts[1:]), strict=True):
        lo, hi = np.searchsorted(events.unit, [u, u + 1])
        if hi > lo:
            first[rows] = lo
            stop[rows] = lo + np.searchsorted(events.start[lo:hi], time[rows] + period, side="left")
    overlapped = np.flatnonzero(stop > first)
    last = stop[overlapped] - 1
    overlapped, last = overlapped[events.reach[last] > time[overlapped]], last[events.reach[last] > time[overlapped]]
    # Mostly the last event to start before the record ends is still on: it is the one.
    on = events.end[last] > time[overlapped]
    status[overlapped[on]] = events.code[last[on]]
    # Else an earlier one still is: the last i before it whose latest end over i .. stop - 2 is after t.
    rest, stop_rest = overlapped[~on], last[~on]
    lo, hi, t = first[rest], stop_rest - 1, time[rest]
    while (lo < hi).any():
        mid = (lo + hi + 1) // 2
        later = events.latest_end_over(mid, stop_rest) > t
        lo, hi = np.where(later, mid, lo), np.where(later, hi, mid - 1)
    status[rest] = events.code[lo]
    return status


def pair_alarms(
    unit: np.ndarray, code: np.ndarray, time: np.ndarray, raised: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For a log of one row per alarm raised and one per alarm cleared: the row that clears each raise.

    An alarm is a unit's code, on from a raise until a clear. A raise ends at the first clear of its
    alarm after it; at one time, a clear first ends a raise already on (the alarm stays on, raised
    again), and a raise while the alarm is off ends at a clear of that same time (an event without
    duration, not one lasting to the next clear). A raise repeated while the alarm is on adds an
    event ending at the same clear, which marks no record differently. A clear repeated after the
    alarm cleared ends nothing.

    Parameters
    ----------
    unit, code : ndarray of int
        Each row's unit index and alarm (status) code.
    time : ndarray of int64
        Each row's time [ns since the epoch, UTC].
    raised : ndarray of bool
        True where the row raises its alarm, False where it clears it.

    Returns
    -------
    clearing : ndarray of int64
        For each raising row, the index of the row that clears it (-1: still on when the log ends);
        -1 for each clearing row.
    raised_before_log : ndarray of bool
        Clearing rows that come first of their alarm's rows (none at the same time raises it): the
        alarm was raised before the log began.
    """
    n = len(unit)
    order = np.lexsort((~raised, time, code, unit))  # within an alarm by time, raises before clears
    u, c, t, r = unit[order], code[order], time[order], raised[order]
    position = np.arange(n)
    first_of_alarm = np.ones(n, dtype=bool)
    first_of_alarm[1:] = (u[1:] != u[:-1]) | (c[1:] != c[:-1])
    alarm = np.cumsum(first_of_alarm) - 1
    first_at_time = first_of_alarm.copy()
    first_at_time[1:] |= t[1:] != t[:-1]
    group_first = np.maximum.accumulate(np.where(first_at_time, position, 0))
    group_last = np.minimum.accumulate(np.where(np.r_[first_at_time[1:], True], position, n)[::-1])[::-1]
    # A time of raises only turns its alarm on, of clears only off; one of both leaves it as it was (on:
    # the clear ends it and the raise starts it again; off: an event without duration).
    time_starts = np.flatnonzero(first_at_time)
    raises_at, clears_at = (np.logical_or.reduceat(x, time_starts) if n else x for x in (r, ~r))
    last_one_sided = np.maximum.accumulate(np.where(raises_at != clears_at, np.arange(len(time_starts)), -1))
    alarm_at = alarm[time_starts]
    on_after = (last_one_sided >= 0) & (alarm_at[np.maximum(last_one_sided, 0)] == alarm_at)
    on_after &= raises_at[np.maximum(last_one_sided, 0)]
    time_index = np.cumsum(first_at_time) - 1
    on_before = ~first_of_alarm[group_first] & on_after[np.maximum(time_index - 1, 0)]
    clears = np.flatnonzero(~r)
    clearing_sorted = np.full(n, -1, dtype=np.int64)
    if len(clears):
        after = np.where(on_before, group_last, position)  # a raise while on: not the clear of its own time
        candidate = clears[np.minimum(np.searchsorted(clears, after, side="right"), len(clears) - 1)]
        matched = r & (candidate > after) & (alarm[candidate] == alarm)
        clearing_sorted[matched] = order[candidate[matched]]
    clearing = np.full(n, -1, dtype=np.int64)
    clearing[order] = clearing_sorted
    raised_before_log = np.zeros(n, dtype=bool)
    raised_before_log[order] = first_of_alarm & ~r
    return clearing, raised_before_log
