"""Read a solar plant's export, chunk by chunk, into canonical 15-minute records per inverter.

The canonical frame has one row per inverter and 15-min record: ``time`` (UTC), ``asset_id``
(categorical, in ``[[inverters]]`` order), the numeric channels under their IEC 61724-1 symbols in
canonical units (NaN where missing or physically impossible) and, when mapped, the status code
``INV_St``. The files are read by the same reader as a wind export (client/ingest.py): the same
chunks, the same refusals of a missing column or a misaligned CSV row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from client.events import OPEN_END, UnitEvents, status_from_events, unit_events
from client.ingest import (
    CHUNK_ROWS,
    LocalClock,
    channel_values,
    interval_starts,
    raw_chunks,
    record_means,
    timestamps_to_utc,
)
from client.site_config import SiteConfigError
from client.solar.schema import ASSET_ID, CHANNELS, RECORD_PERIOD, STATUS, TIME
from client.solar.site_config import EventLog, SolarSiteConfig
from common.progress import Progress, silent


def canonicalise(
    raw: pd.DataFrame,
    site: SolarSiteConfig,
    path: Path,
    clock: LocalClock | None = None,
    events: UnitEvents | None = None,
) -> pd.DataFrame:
    """Rename, convert units, parse time to UTC and blank impossible values of one raw chunk.

    ``clock`` carries each inverter's latest time from the export's chunks before (None: this chunk alone).
    ``events``: the plant's event log (:func:`read_inverter_events`), which gives each record its status.

    Raises
    ------
    SiteConfigError
        If the chunk has inverters ``[[inverters]]`` does not list (named, with the fix), unless the site
        reads the listed ones only ([source] only_listed_inverters).
    """
    columns = site.mapped_columns
    known = [inverter.inverter_id for inverter in site.inverters]
    exported = raw[columns[ASSET_ID]].astype("category").cat
    names = exported.categories.astype(str)
    inverter_of_name = pd.Index(known).get_indexer(names)
    unlisted = inverter_of_name < 0
    if unlisted.any() and not site.only_listed_inverters:
        raise SiteConfigError(
            f"{path}: inverter(s) {sorted(names[unlisted])[:5]} in column {columns[ASSET_ID]!r} are not "
            f"listed in [[inverters]] of {site.path}; add each with its dc_capacity_kw and ac_capacity_kw, or set "
            "[source] only_listed_inverters = true to read the listed ones only (an export shared with another plant)"
        )
    codes = exported.codes.to_numpy()
    # A row without an inverter (an empty line), or of another plant's inverter, belongs to no one here.
    codes = np.where((codes >= 0) & unlisted[np.maximum(codes, 0)], -1, codes) if unlisted.any() else codes
    if (codes < 0).any():
        raw, codes = raw[codes >= 0], codes[codes >= 0]
    inverter = inverter_of_name[codes] if len(names) else codes.astype(np.int64)
    clock = clock if clock is not None else LocalClock(len(known), site.resolution)  # this chunk alone
    time = interval_starts(raw[columns[TIME]], inverter, site, path, clock).dt.as_unit("ns")  # one unit for all
    canonical = {TIME: time.array, ASSET_ID: pd.Categorical.from_codes(inverter, categories=known)}
    for name in CHANNELS:
        if name in columns:
            canonical[name] = channel_values(raw[columns[name]], name, site, CHANNELS).values
    if STATUS in columns:
        status = raw[columns[STATUS]]
        if not pd.api.types.is_numeric_dtype(status.dtype):
            status = pd.to_numeric(status, errors="coerce")
        canonical[STATUS] = status.to_numpy(dtype=np.float64, na_value=np.nan)
    elif events is not None:
        period = int(site.resolution / pd.Timedelta(1, "ns"))
        stamp = time.array.asi8
        status = status_from_events(inverter, stamp, period, events, site.available_codes[0]).astype(np.float64)
        canonical[STATUS] = np.where(time.isna().to_numpy(), np.nan, status)
    return pd.DataFrame(canonical, index=time.index, copy=False)


@dataclass(frozen=True)
class EventLogCounts:
    """What reading a plant's event log left out, and why [events]."""

    events: int  # rows of the log
    read: int  # events read: a listed inverter, a start, an end or none, a code
    unreadable_start: int  # no start that reads as a time: left out
    unreadable_end: int  # an end that does not read as a time (an empty one is open): left out
    ends_before_start: int  # left out
    no_code: int  # no integer status code: left out
    unlisted_inverters: tuple[str, ...]  # ids [[inverters]] does not list (up to 20): their events are left out


def read_inverter_events(site: SolarSiteConfig) -> tuple[UnitEvents, EventLogCounts]:
    """The plant's event log ([events]) as the events :func:`canonicalise` marks records with, and what it left out.

    Times without a UTC offset are read in ``[site] timezone``. Event logs are small (one row per
    alarm), so each file is read whole.

    Raises
    ------
    SiteConfigError
        If a file lacks a mapped column or cannot be read as the format [events] states (named, with the fix).
    """
    log = site.events
    if log is None:
        raise ValueError(f"{site.path}: no [events] table")
    names = [log.columns[name] for name in ("inverter", "start", "end", "code")]
    frames = [_event_file(log, file, names) for file in log.files]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=names)
    known = pd.Index(site.asset_ids)
    ids = frame[names[0]].astype("string").str.strip()
    inverter = known.get_indexer(ids)
    clock = LocalClock(len(known), site.resolution)
    assets = np.maximum(inverter, 0)
    start = _event_times(frame[names[1]], assets, site, log, names[1], clock)
    end_text = frame[names[2]].astype("string").str.strip()
    end = _event_times(frame[names[2]], assets, site, log, names[2], LocalClock(len(known), site.resolution))
    open_end = end_text.isna().to_numpy() | (end_text == "").fillna(False).to_numpy()
    code = pd.to_numeric(frame[names[3]], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    integer = np.isfinite(code) & (code == np.round(code))
    start_ns = start.dt.as_unit("ns").array.asi8
    end_ns = np.where(open_end, OPEN_END, end.dt.as_unit("ns").array.asi8)
    readable_start, readable_end = start.notna().to_numpy(), end.notna().to_numpy() | open_end
    ordered = ~(readable_start & readable_end) | (end_ns >= start_ns)
    kept = (inverter >= 0) & readable_start & readable_end & ordered & integer
    kept_codes = code[kept].astype(np.int64)
    abnormal = ~np.isin(kept_codes, site.available_codes)
    events = unit_events(
        inverter[kept][abnormal], start_ns[kept][abnormal], end_ns[kept][abnormal], kept_codes[abnormal]
    )
    counts = EventLogCounts(
        events=len(frame),
        read=int(kept.sum()),
        unreadable_start=int((~readable_start).sum()),
        unreadable_end=int((~readable_end).sum()),
        ends_before_start=int((~ordered).sum()),
        no_code=int((~integer).sum()),
        unlisted_inverters=tuple(sorted(set(ids[inverter < 0].dropna())))[:20],
    )
    return events, counts


def _event_file(log: EventLog, file: Path, names: list[str]) -> pd.DataFrame:
    """One file of an event log: its mapped columns as text (times and codes are parsed after)."""
    if log.file_format == "parquet":
        found = list(pq.ParquetFile(file).schema_arrow.names)
    else:
        found = list(pd.read_csv(file, sep=log.delimiter, nrows=0).columns)
    absent = [name for name in names if name not in found]
    if absent:
        settings = [key for key, column in log.columns.items() if column in absent]
        raise SiteConfigError(
            f"{file}: [events] {', '.join(settings)} = {absent} not a column of the event log (it has {found[:12]}); "
            "set each to the log's column"
        )
    if log.file_format == "parquet":
        return pd.read_parquet(file, columns=names)
    return pd.read_csv(file, sep=log.delimiter, usecols=names, dtype=str, index_col=False)


def _event_times(
    raw: pd.Series, assets: np.ndarray, site: SolarSiteConfig, log: EventLog, column: str, clock: LocalClock
) -> pd.Series:
    """An event log's time column in UTC (NaT where it does not read as a time, or is empty)."""
    where = ", ".join(str(file) for file in log.files)
    text = raw if pd.api.types.is_datetime64_any_dtype(raw.dtype) else raw.astype(str)
    try:
        return timestamps_to_utc(text, assets, site.timezone, Path(where), column, log.time_format, clock)
    except SiteConfigError:
        raise SiteConfigError(
            f"{where}: column {column!r} of the event log holds no times; set [events] start and end to the log's "
            "time columns, with [events] time_format if they are not ISO 8601"
        ) from None


def read_solar_chunks(
    site: SolarSiteConfig, chunk_rows: int = CHUNK_ROWS, progress: Progress = silent
) -> Iterator[pd.DataFrame]:
    """Yield the plant's export as canonical 15-min frames of at most about ``chunk_rows`` rows.

    Exports at a finer resolution (``[source] resolution``) are averaged to 15-min means per
    inverter first; a period's status is available only if every record in it is.
    """
    clock = LocalClock(len(site.inverters), site.resolution)
    events = read_inverter_events(site)[0] if site.events is not None else None
    chunks = (
        canonicalise(raw, site, path, clock, events)
        for path in site.files
        for raw in raw_chunks(site, path, chunk_rows, progress)
    )
    if site.resolution == RECORD_PERIOD:
        yield from chunks
    else:
        yield from record_means(chunks, site.available_codes, RECORD_PERIOD, tuple(CHANNELS), STATUS)
