"""Read a solar plant's export, chunk by chunk, into canonical 15-minute records per inverter.

The canonical frame has one row per inverter and 15-min record: ``time`` (UTC), ``asset_id``
(categorical, in ``[[inverters]]`` order), the numeric channels under their IEC 61724-1 symbols in
canonical units (NaN where missing or physically impossible) and, when mapped, the status code
``INV_St``. The files are read by the same reader as a wind export (client/ingest.py): the same
chunks, the same refusals of a missing column or a misaligned CSV row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from client.events import UnitEvents
from client.ingest import (
    CHUNK_ROWS,
    LocalClock,
    channel_values,
    event_status,
    interval_starts,
    raw_chunks,
    read_event_log,
    record_means,
    refuse_repeated_header,
)
from client.site_config import SiteConfigError
from client.solar.schema import ASSET_ID, CHANNELS, RECORD_PERIOD, STATUS, TIME
from client.solar.site_config import SolarSiteConfig
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
    ``events``: the plant's event log (:func:`client.ingest.read_event_log`), which gives each record its status.

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
    refuse_repeated_header(path, columns[ASSET_ID], names[unlisted])
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
        canonical[STATUS] = event_status(events, inverter, time, site.resolution, site.available_codes[0])
    return pd.DataFrame(canonical, index=time.index, copy=False)


def read_solar_chunks(
    site: SolarSiteConfig, chunk_rows: int = CHUNK_ROWS, progress: Progress = silent
) -> Iterator[pd.DataFrame]:
    """Yield the plant's export as canonical 15-min frames of at most about ``chunk_rows`` rows.

    Exports at a finer resolution (``[source] resolution``) are averaged to 15-min means per
    inverter first; a period's status is available only if every record in it is.
    """
    clock = LocalClock(len(site.inverters), site.resolution)
    events = None
    if site.events is not None:
        events = read_event_log(site.events, site.asset_ids, site.timezone, site.available_codes)[0]
    chunks = (
        canonicalise(raw, site, path, clock, events)
        for path in site.files
        for raw in raw_chunks(site, path, chunk_rows, progress)
    )
    if site.resolution == RECORD_PERIOD:
        yield from chunks
    else:
        yield from record_means(chunks, site.available_codes, RECORD_PERIOD, tuple(CHANNELS), STATUS)
