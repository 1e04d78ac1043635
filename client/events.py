"""A unit's status over time from an event log: each record gets the code of the event it falls in.

Operators often export status not as a column of the SCADA records but as a separate log of events
(an inverter's or a turbine's alarms, each with its code, when it started and when it cleared). The
summaries count downtime, lost production by cause and failures from a status per record, so the
log is turned into one: a record covering [t, t + period) takes the code of the earliest-starting
event that overlaps it, the code records of a finer export would give the period they are averaged
to (:func:`client.ingest.record_means`: its first abnormal code). Pure functions over arrays; times
are int64 nanoseconds since the epoch, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

OPEN_END = np.iinfo(np.int64).max
"""The end of an event still open when the log was written [ns]: it lasts beyond every record."""


@dataclass(frozen=True)
class UnitEvents:
    """Events that take time, sorted by unit, then start; ``reach``: the latest end of the unit's events so far."""

    unit: np.ndarray  # int64, the unit's index
    start: np.ndarray  # int64 [ns]
    end: np.ndarray  # int64 [ns], OPEN_END while open
    code: np.ndarray  # int64
    reach: np.ndarray  # int64 [ns], running maximum of end within each unit


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
    order = np.lexsort((start[lasting], unit[lasting]))
    unit, start, end, code = (np.asarray(a)[lasting][order].astype(np.int64) for a in (unit, start, end, code))
    reach = pd.Series(end).groupby(unit).cummax().to_numpy(dtype=np.int64) if len(unit) else end
    return UnitEvents(unit, start, end, code, reach)


def status_from_events(
    unit: np.ndarray, time: np.ndarray, period: int, events: UnitEvents, without_event: int
) -> np.ndarray:
    """Each record's status: the code of the earliest-starting event overlapping it, else ``without_event``.

    Within a unit, the first event (by start) whose end is after the record's start is the first
    whose running latest end (``reach``) is: a binary search. It overlaps the record if it also
    started before the record's end; if it did not, no later-starting event did either.

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
        The status of a record no event overlaps (an available code).

    Returns
    -------
    ndarray of int64
        One status code per record.
    """
    status = np.full(len(unit), without_event, dtype=np.int64)
    by_unit = np.argsort(unit, kind="stable")
    units, starts = np.unique(unit[by_unit], return_index=True)
    for u, rows in zip(units, np.split(by_unit, starts[1:]), strict=True):
        lo, hi = np.searchsorted(events.unit, [u, u + 1])
        if lo == hi:
            continue
        found = lo + np.searchsorted(events.reach[lo:hi], time[rows], side="right")
        inside = found < hi
        rows, found = rows[inside], found[inside]
        overlaps = events.start[found] < time[rows] + period
        status[rows[overlaps]] = events.code[found[overlaps]]
    return status
