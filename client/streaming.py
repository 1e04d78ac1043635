"""Streaming a site's export in bounded memory: chunks re-cut at run boundaries, and a spill for a second pass.

Both site pipelines read an export as a stream of canonical chunks (:data:`ChunkSource`), round 1
(:func:`client.summaries.prepared_records`) and round 2 (:func:`client.maintenance.site_indicators`).
A filter that judges runs of equal values needs each turbine's records in time order with no run
split between chunks (:func:`hold_back_open_runs`, :func:`hold_back_open_run_arrays`); a second
pass over records (the bin filter, model residuals) replays them from a :class:`RecordSpill`
instead of reading the export again.
"""

from __future__ import annotations

import itertools
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
otherwise. As a key of :func:`hold_back_open_runs` it keeps a failure's records in one chunk."""


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


def hold_back_open_runs(
    chunks: Iterable[pd.DataFrame],
    asset_order: pd.Index,
    max_held: int = 100_000,
    keys: tuple[str, ...] = ("WMET_HorWdSpd",),
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Re-chunk so that no run of equal values of a turbine (in any column of ``keys``) is split.

    Yields each chunk sorted by turbine, then time, with the index of each row's turbine in
    ``asset_order``. The trailing run of each turbine is held back and prepended to the next
    chunk, where it may continue; at most ``max_held`` rows are held (a run longer than that is
    frozen by any definition and is released as it stands). NaN never forms a run, so a key
    column that is NaN except where runs matter (failure codes, say) holds back little.
    """
    held: pd.DataFrame | None = None
    iterator = iter(chunks)
    chunk = next(iterator, None)
    while chunk is not None:
        following = next(iterator, None)  # a look ahead: the last chunk holds nothing back
        frame = chunk if held is None else pd.concat([held, chunk], ignore_index=True)
        chunk = following
        asset = asset_codes(frame["asset_id"], asset_order)
        # Integer nanoseconds sort fast; tz-aware timestamps as objects do not.
        order = _turbine_time_order(asset, frame["time"].array.asi8)
        if order is not None:
            frame, asset = frame.iloc[order].reset_index(drop=True), asset[order]
        if following is None:
            yield frame, asset
            return
        columns = {"asset": asset, **{key: frame[key].to_numpy() for key in keys}}
        hold = _open_runs(HeldChunk({name: column[:0] for name, column in columns.items()}, columns), keys, max_held)
        n_held = int(hold.sum())
        if n_held == 0 or hold[len(hold) - n_held :].all():
            # One turbine per chunk (or nothing held): the held rows are the tail, so slice, not copy.
            cut = len(hold) - n_held
            held = frame.iloc[cut:]
            yield frame.iloc[:cut], asset[:cut]
        else:
            held = frame[hold]
            yield frame[~hold], asset[~hold]


@dataclass(frozen=True)
class HeldChunk:
    """Records sorted by turbine, then time: the rows held back before (``head``), then a chunk's (``body``).

    Both map column names, ``asset`` (turbine index) and ``time`` (datetime64) among them, to
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


def hold_back_open_run_arrays(
    chunks: Iterable[dict[str, np.ndarray]],
    max_held: int = 100_000,
    keys: tuple[str, ...] = ("WMET_HorWdSpd",),
) -> Iterator[tuple[HeldChunk, np.ndarray | None]]:
    """:func:`hold_back_open_runs` over chunks of numpy columns (``asset``: turbine index; ``time``: datetime64).

    Yields each chunk behind the rows held back from the one before, sorted by turbine, then
    time, and which rows it releases (None: all). The rows it does not release are the trailing
    runs, held back: they come again at the head of the next chunk. A chunk is copied only when
    its records (with the held rows before them) are not in order.
    """
    head: dict[str, np.ndarray] | None = None
    iterator = iter(chunks)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        chunk = _sorted_behind(head, current)
        current = following
        if following is None:
            yield chunk, None
            return
        hold = _open_runs(chunk, keys, max_held)
        rows = np.flatnonzero(hold)
        head = {name: _take(chunk, name, rows) for name in chunk.body}
        yield chunk, (~hold if len(rows) else None)


def _sorted_behind(head: dict[str, np.ndarray] | None, body: dict[str, np.ndarray]) -> HeldChunk:
    empty = {name: column[:0] for name, column in body.items()}
    if head is None or not len(head["asset"]):
        order = _turbine_time_order(body["asset"], body["time"].view(np.int64))
        return HeldChunk(empty, body if order is None else {name: column[order] for name, column in body.items()})
    asset, time = body["asset"], body["time"].view(np.int64)
    last_asset, last_time = head["asset"][-1], head["time"].view(np.int64)[-1]
    joins = len(asset) == 0 or asset[0] > last_asset or (asset[0] == last_asset and time[0] >= last_time)
    if joins and _turbine_time_order(asset, time) is None:
        return HeldChunk(head, body)  # the held rows go first, the chunk stays where it is
    joined = {name: np.concatenate([head[name], column]) for name, column in body.items()}
    order = _turbine_time_order(joined["asset"], joined["time"].view(np.int64))
    return HeldChunk(empty, joined if order is None else {name: column[order] for name, column in joined.items()})


def _take(chunk: HeldChunk, name: str, rows: np.ndarray) -> np.ndarray:
    n_head = len(chunk.head["asset"])
    in_head = rows[rows < n_head]
    return np.concatenate([chunk.head[name][in_head], chunk.body[name][rows[len(in_head) :] - n_head]])


def _turbine_time_order(asset: np.ndarray, time: np.ndarray) -> np.ndarray | None:
    """The order that sorts records by turbine, then time; None when they already are."""
    in_order = np.all((asset[1:] > asset[:-1]) | ((asset[1:] == asset[:-1]) & (time[1:] >= time[:-1])))
    return None if in_order else np.lexsort((time, asset))


def _open_runs(chunk: HeldChunk, keys: tuple[str, ...], max_held: int) -> np.ndarray:
    """Rows of each turbine's trailing run in any of ``keys`` (sorted records); none if more than ``max_held``."""
    n_head = len(chunk.head["asset"])
    hold = np.zeros(len(chunk), dtype=bool)
    if len(chunk) == 0:
        return hold
    # Turbine boundaries: within the head, within the body, and between them.
    head, body = chunk.head["asset"], chunk.body["asset"]
    ends = [np.flatnonzero(head[1:] != head[:-1]) + 1]
    if n_head and len(body) and head[-1] != body[0]:
        ends.append(np.array([n_head]))
    ends.append(np.flatnonzero(body[1:] != body[:-1]) + 1 + n_head)
    bounds = [0, *np.concatenate(ends).tolist(), len(chunk)]
    spans = []
    for first, end in itertools.pairwise(bounds):
        # Each key's trailing run is a suffix of the turbine's rows: their union is the longest.
        spans.append((min(_trailing_run_start(chunk, key, first, end) for key in keys), end))
    if sum(end - start for start, end in spans) <= max_held:
        for start, end in spans:
            hold[start:end] = True
    return hold


def _trailing_run_start(chunk: HeldChunk, key: str, first: int, end: int) -> int:
    """First row of the run of equal ``key`` values that ends at row ``end`` - 1 (it starts at ``first`` at most)."""
    last = chunk.column(key, end - 1, end)[0]
    start, step = end - 1, 8
    if np.isnan(last):  # NaN never forms a run
        return start
    while start > first:
        low = max(first, start - step)
        different = np.flatnonzero(chunk.column(key, low, start) != last)
        if len(different):
            return low + int(different[-1]) + 1
        start, step = low, step * 2
    return first


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
