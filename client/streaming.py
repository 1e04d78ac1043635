"""Streaming a site's export in bounded memory: chunks judged with their neighbours, and a spill for a second pass.

The site pipelines read an export as a stream of canonical chunks (:data:`ChunkSource`): wind's
round 1 (:func:`client.summaries.prepared_records`) and round 2
(:func:`client.maintenance.site_indicators`), and a solar plant's one pass
(:func:`client.solar.summaries.summarise_plant`). A filter that judges runs of equal values (a
frozen sensor, a stuck reading) needs each unit's records in time order with its neighbours
either side (:func:`chunks_with_context`, :func:`array_chunks_with_context`): a fixed number of
records per unit, so one unit's readings never change how another's are judged. A second pass
over records (the bin filter, model residuals) replays them from a :class:`RecordSpill` instead of
reading the export again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO, TypeAlias

import numpy as np
import pandas as pd

from client.filters import asset_codes

ChunkSource: TypeAlias = Callable[[], Iterable[pd.DataFrame]]
"""Returns a fresh iterable of canonical frames each time it is called."""

FAILURE_KEY = "failure_component"
"""Column :func:`with_failure_key` adds: per record, the index of the component whose failure code it carries, NaN
otherwise. A failure whose records two chunks share is joined again by
:func:`client.indicators.continues_earlier_run`."""


def with_failure_key(
    chunks: Iterable[pd.DataFrame], status_column: str, component_of_code: Mapping[int, int]
) -> Iterator[pd.DataFrame]:
    """Each chunk with a :data:`FAILURE_KEY` column, from its ``status_column`` (all NaN without one)."""
    for chunk in chunks:
        if status_column in chunk:
            key = chunk[status_column].map(component_of_code).to_numpy(dtype=np.float64)
        else:
            key = np.full(len(chunk), np.nan)
        yield chunk.assign(**{FAILURE_KEY: key})


def chunks_with_context(
    chunks: Iterable[pd.DataFrame], asset_order: pd.Index, context: int
) -> Iterator[tuple[pd.DataFrame, np.ndarray, np.ndarray]]:
    """Re-chunk so that each record is judged beside the ``context`` records of its unit either side of it.

    Yields frames sorted by unit (turbine or inverter), then time, with the index of each row's
    unit in ``asset_order`` and which rows the frame *owns*: every record is owned by exactly one
    frame, and only owned records are to be counted. Around its owned records a frame holds up to
    ``context`` records of the same unit on each side that it does not own: before them, records
    owned earlier; after them, records held back for the next frame. A flag that depends on at
    most ``context`` records either side (:func:`client.runs.long_run_context`) is therefore the
    same for an owned record as over the whole export, wherever the chunks' borders fall.

    Besides a chunk, at most 2 ``context`` records per unit are kept between frames, whatever the
    records say: one unit's readings (a sensor frozen for a year) never change where another's
    are cut, nor how they are judged. A record that comes after a later one of its unit in the
    export is left out (:func:`late_or_repeated_records`; the validator reports them): its neighbours
    may have gone already, and which had would depend on the chunks' borders. So is a repeat of its
    unit's latest time: a record written twice counts once.
    """
    carried: pd.DataFrame | None = None
    done = np.zeros(0, dtype=bool)  # the carried rows an earlier frame owned
    latest = np.full(len(asset_order), NO_TIME)
    iterator = iter(chunks)
    chunk = next(iterator, None)
    while chunk is not None:
        following = next(iterator, None)  # a look ahead: the last frame owns everything left
        stamp = chunk["time"].dt.as_unit("ns").array.asi8  # ns whatever the chunk's unit: latest spans chunks
        late = late_or_repeated_records(asset_codes(chunk["asset_id"], asset_order), stamp, latest)
        if late.any():
            chunk = chunk[~late]
        frame = chunk if carried is None else pd.concat([carried, chunk], ignore_index=True)
        owned_before = np.concatenate([done, np.zeros(len(chunk), dtype=bool)])
        chunk = following
        asset = asset_codes(frame["asset_id"], asset_order)
        # Integer nanoseconds sort fast; tz-aware timestamps as objects do not.
        order = _turbine_time_order(asset, frame["time"].array.asi8)
        if order is not None:
            frame, asset, owned_before = frame.iloc[order].reset_index(drop=True), asset[order], owned_before[order]
        if following is None:
            yield frame, asset, ~owned_before
            return
        owned, kept, done = _owned_and_carried(asset, owned_before, context)
        carried = frame[kept] if kept.any() else None
        yield frame, asset, owned


@dataclass(frozen=True)
class HeldChunk:
    """Records sorted by unit, then time: those carried from the frame before (``head``), then a chunk's (``body``).

    Both map column names, ``asset`` (unit index) and ``time`` (datetime64) among them, to
    arrays. :meth:`rows` reads across the two; only a range that spans both is copied.
    """

    head: dict[str, np.ndarray]
    body: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.head["asset"]) + len(self.body["asset"])

    def rows(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Every column of rows [start, stop)."""
        n_head = len(self.head["asset"])
        if start >= n_head:
            return {name: column[start - n_head : stop - n_head] for name, column in self.body.items()}
        if stop <= n_head:
            return {name: column[start:stop] for name, column in self.head.items()}
        return {name: np.concatenate([self.head[name][start:], self.body[name][: stop - n_head]]) for name in self.body}

    def column(self, name: str, start: int, stop: int) -> np.ndarray:
        """One column of rows [start, stop)."""
        n_head = len(self.head["asset"])
        if start >= n_head:
            return self.body[name][start - n_head : stop - n_head]
        if stop <= n_head:
            return self.head[name][start:stop]
        return np.concatenate([self.head[name][start:], self.body[name][: stop - n_head]])


def array_chunks_with_context(
    chunks: Iterable[dict[str, np.ndarray]], n_units: int, context: int
) -> Iterator[tuple[HeldChunk, np.ndarray | None]]:
    """:func:`chunks_with_context` over chunks of numpy columns (``asset``: unit index; ``time``: datetime64).

    ``asset`` indexes ``n_units`` units; a late or repeated record (:func:`late_or_repeated_records`) is left out
    here too.

    Yields each chunk behind the records carried from the one before, sorted by unit, then time,
    and which rows it owns (None: all). A chunk is copied only when its records (with the carried
    ones before them) are not in order.
    """
    head: dict[str, np.ndarray] | None = None
    done = np.zeros(0, dtype=bool)
    latest = np.full(n_units, NO_TIME)
    iterator = iter(chunks)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        late = late_or_repeated_records(
            current["asset"], current["time"].astype("datetime64[ns]").view(np.int64), latest
        )
        if late.any():
            current = {name: column[~late] for name, column in current.items()}
        chunk, order = _sorted_behind(head, current)
        owned_before = np.concatenate([done, np.zeros(len(current["asset"]), dtype=bool)])
        if order is not None:
            owned_before = owned_before[order]
        current = following
        if following is None:
            yield chunk, (~owned_before if owned_before.any() else None)
            return
        owned, kept, done = _owned_and_carried(chunk.column("asset", 0, len(chunk)), owned_before, context)
        rows = np.flatnonzero(kept)
        head = {name: _take(chunk, name, rows) for name in chunk.body}
        yield chunk, (None if owned.all() else owned)


NO_TIME = np.iinfo(np.int64).min
"""A unit's latest time before any record of it [ns]; NaT reads as this too."""


def late_or_repeated_records(asset: np.ndarray, time: np.ndarray, latest: np.ndarray) -> np.ndarray:
    """Which records come, in export order, after a later record of their unit or repeat its latest time.

    ``asset``: each record's unit index (-1: not a listed unit, never late); ``time``: int64
    nanoseconds, in export order; ``latest``: each unit's latest time so far [ns], updated in place.
    The rule reads each unit's own records in export order only, so the records it finds never
    depend on where chunks' borders fall, nor on another unit's records. They are the records the
    validator's :class:`client.validate.TimeOrder` counts as ``out_of_order`` and as repeats of
    the unit's latest time (its ``duplicates`` before any exact recount): a repeated time keeps
    its first record, so an exporter that writes a record twice does not count it twice (as
    production, downtime or weight) in any sum.
    """
    late = np.zeros(len(asset), dtype=bool)
    listed = np.flatnonzero(asset >= 0)
    if len(listed) == 0:
        return late
    order = listed[np.argsort(asset[listed], kind="stable")]  # by unit, each in export order
    unit, stamp = asset[order], time[order]
    running = pd.Series(stamp).groupby(unit).cummax().to_numpy()
    first = np.ones(len(order), dtype=bool)
    first[1:] = unit[1:] != unit[:-1]
    before = np.maximum(np.where(first, NO_TIME, np.roll(running, 1)), latest[unit])
    late[order] = (stamp < before) | ((stamp == before) & (before != NO_TIME))
    last = np.append(first[1:], True)
    latest[unit[last]] = np.maximum(latest[unit[last]], running[last])
    return late


def _sorted_behind(
    head: dict[str, np.ndarray] | None, body: dict[str, np.ndarray]
) -> tuple[HeldChunk, np.ndarray | None]:
    """``head`` then ``body`` as one sorted :class:`HeldChunk`, and the order applied to their rows (None: none)."""
    empty = {name: column[:0] for name, column in body.items()}
    if head is None or not len(head["asset"]):
        order = _turbine_time_order(body["asset"], body["time"].view(np.int64))
        return HeldChunk(empty, _reordered(body, order)), order
    asset, time = body["asset"], body["time"].view(np.int64)
    last_asset, last_time = head["asset"][-1], head["time"].view(np.int64)[-1]
    joins = len(asset) == 0 or asset[0] > last_asset or (asset[0] == last_asset and time[0] >= last_time)
    if joins and _turbine_time_order(asset, time) is None:
        return HeldChunk(head, body), None  # the carried rows go first, the chunk stays where it is
    joined = {name: np.concatenate([head[name], column]) for name, column in body.items()}
    order = _turbine_time_order(joined["asset"], joined["time"].view(np.int64))
    return HeldChunk(empty, _reordered(joined, order)), order


def _reordered(columns: dict[str, np.ndarray], order: np.ndarray | None) -> dict[str, np.ndarray]:
    return columns if order is None else {name: column[order] for name, column in columns.items()}


def _take(chunk: HeldChunk, name: str, rows: np.ndarray) -> np.ndarray:
    n_head = len(chunk.head["asset"])
    in_head = rows[rows < n_head]
    return np.concatenate([chunk.head[name][in_head], chunk.body[name][rows[len(in_head) :] - n_head]])


def _turbine_time_order(asset: np.ndarray, time: np.ndarray) -> np.ndarray | None:
    """The order that sorts records by unit, then time; None when they already are."""
    in_order = np.all((asset[1:] > asset[:-1]) | ((asset[1:] == asset[:-1]) & (time[1:] >= time[:-1])))
    return None if in_order else np.lexsort((time, asset))


def _owned_and_carried(
    asset: np.ndarray, owned_before: np.ndarray, context: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a frame sorted by unit: the rows it owns, the rows it carries to the next, and which of those are owned.

    A frame owns every row not owned before but each unit's last ``context`` (held back as the
    next frame's look-ahead), and carries each unit's last 2 ``context`` rows (its look-behind too).
    """
    to_end = _records_to_unit_end(asset)
    owned = ~owned_before & (to_end >= context)
    kept = to_end < 2 * context
    return owned, kept, (owned_before | owned)[kept]


def _records_to_unit_end(asset: np.ndarray) -> np.ndarray:
    """For records sorted by unit, how many records of the same unit follow each one (0 for a unit's last)."""
    if len(asset) == 0:
        return np.zeros(0, dtype=np.int64)
    last = np.flatnonzero(np.append(asset[1:] != asset[:-1], True))
    unit = np.repeat(np.arange(len(last)), np.diff(last, prepend=-1))
    return last[unit] - np.arange(len(asset))


class RecordSpill:
    """Arrays kept in memory up to a budget, beyond it in an unnamed site-local temporary file, read back in order.

    A second pass (the bin filter, model residuals) replays compact records from here instead of
    reading and converting the export again; memory stays bounded (``memory_bytes`` plus one
    chunk) whatever the export's size. The file holds raw bytes; each array's dtype and length
    stay in memory.
    """

    def __init__(self, memory_bytes: int = 64 << 20) -> None:
        self._memory_bytes = memory_bytes
        self._held: list[tuple[np.ndarray, ...]] = []
        self._held_bytes = 0
        self._file: BinaryIO | None = None
        self._layouts: list[tuple[tuple[np.dtype, tuple[int, ...]], ...]] = []

    def write(self, arrays: tuple[np.ndarray, ...]) -> None:
        """Append one chunk's arrays (the same number, in the same order, every time)."""
        arrays = tuple(np.ascontiguousarray(array) for array in arrays)
        if self._file is None:
            self._held.append(arrays)
            self._held_bytes += sum(array.nbytes for array in arrays)
            if self._held_bytes <= self._memory_bytes:
                return
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by replay()
            held, self._held = self._held, []
            for chunk in held:
                self._write_file(chunk)
            return
        self._write_file(arrays)

    def _write_file(self, arrays: tuple[np.ndarray, ...]) -> None:
        self._layouts.append(tuple((array.dtype, array.shape) for array in arrays))
        for array in arrays:
            self._file.write(array.reshape(-1).view(np.uint8).data)

    def replay(self) -> Iterator[tuple[np.ndarray, ...]]:
        """The chunks in the order written; memory and file are released (the file is gone) afterwards."""
        if self._file is None:
            held, self._held = self._held, []
            held.reverse()
            while held:
                yield held.pop()
            return
        with self._file:
            self._file.seek(0)
            for layout in self._layouts:
                yield tuple(_read_array(self._file, dtype, shape) for dtype, shape in layout)


def _read_array(file: BinaryIO, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    array = np.empty(shape, dtype=dtype)
    if array.nbytes and file.readinto(array.reshape(-1).view(np.uint8).data) != array.nbytes:
        raise OSError("the spill file ended early")
    return array
