"""Read an operator's SCADA export, chunk by chunk, into the canonical frame.

The canonical frame has one row per turbine and 10-min record: ``time`` (UTC), ``asset_id``
(str), numeric channels under their IEC 61400-25 names in canonical units (NaN where missing or
physically impossible) and, when mapped, the status code ``WTUR_TurSt``.
"""

from __future__ import annotations

import difflib
import io
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from pandas.io.common import infer_compression

from client.events import OPEN_END, UnitEvents, pair_alarms, status_from_events, unit_events
from client.nacelle_transfer import free_stream_wind_speed
from client.schema import ASSET_ID, CHANNELS, STATUS, TIME, UNIT_CONVERSIONS, Channel
from client.site_config import EVENT_COLUMNS, NUMERIC_TIME_FORMATS, EventLog, SiteConfig, SiteConfigError
from client.streaming import NO_TIME, late_or_repeated_records
from common.progress import Progress, Stage, silent
from protos.domain import RECORD_PERIOD

CHUNK_ROWS = 500_000


class ExportMapping(Protocol):
    """What reading an export needs of a site.toml, wind's (SiteConfig) or solar's (SolarSiteConfig)."""

    path: Path
    timezone: str
    resolution: pd.Timedelta
    timestamps: str
    time_format: str | None
    utc_offsets: str
    layout: str
    file_format: str
    delimiter: str
    decimal: str
    thousands: str | None
    encoding: str
    columns: dict[str, str]
    units: dict[str, str]
    sentinels: dict[str, tuple[float, ...]]

    @property
    def mapped_columns(self) -> dict[str, str]:
        """Canonical name -> the column of the (long) raw frame that holds it."""
        ...

    @property
    def asset_ids(self) -> tuple[str, ...]:
        """The site's turbines' (inverters') ids, in site.toml's order."""
        ...


def asset_column(column: str, asset_id: str) -> str:
    """A wide export's column of one asset: ``{asset}`` in the mapping replaced by its id (none: a shared column)."""
    return column.replace("{asset}", asset_id)


def exported_columns(site: ExportMapping) -> list[str]:
    """The export's columns the mapping reads (wide layouts: each asset's column of each per-asset signal)."""
    if site.layout == "long":
        return list(site.columns.values())
    columns = [asset_column(c, a) for a in site.asset_ids for name, c in site.columns.items() if name != TIME]
    return [site.columns[TIME], *dict.fromkeys(columns)]  # a shared column (a plant's irradiance) once


def long_from_wide(raw: pd.DataFrame, site: ExportMapping) -> pd.DataFrame:
    """Stack a wide chunk (a column per asset and signal, shared ones repeated) into long rows named by the mapping."""
    frames = []
    for asset in site.asset_ids:
        frame = pd.DataFrame({site.columns[TIME]: raw[site.columns[TIME]].to_numpy(), "asset_id": asset})
        for name, column in site.columns.items():
            if name != TIME:
                frame[column] = raw[asset_column(column, asset)].to_numpy()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def raw_chunks(
    site: ExportMapping, path: Path, chunk_rows: int = CHUNK_ROWS, progress: Progress = silent
) -> Iterator[pd.DataFrame]:
    """The mapped columns of one export file, as exported (wide ones stacked), in chunks of ~``chunk_rows`` rows.

    ``progress`` hears, after each chunk, how far into the file the reading is: rows, and of a CSV
    the bytes read of its size; of a Parquet file the rows of its rows. It hears when the file ends.
    """
    if site.layout == "wide":
        for raw in _file_chunks(site, path, max(1, chunk_rows // len(site.asset_ids)), progress):
            yield long_from_wide(raw, site)
    else:
        yield from _file_chunks(site, path, chunk_rows, progress)


class MissingColumnsError(SiteConfigError):
    """Columns site.toml maps that the export lacks; the message suggests the export's closest names."""

    def __init__(self, site: ExportMapping, path: Path, absent: list[str], found: list[str]) -> None:
        self.absent = absent
        assets = site.asset_ids if site.layout == "wide" else ("",)
        # Each column the export should have -> its setting and the mapping that names it (a wide one, each asset's).
        mapping = {asset_column(c, asset): (name, c) for name, c in site.columns.items() for asset in assets}
        fixes = []
        for column in absent:
            setting, mapped = mapping.get(column, (column, column))
            guess = difflib.get_close_matches(column, found, n=1, cutoff=0.6) or _only_containing(column, found)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            if mapped == column:
                fixes.append(f"[columns] {setting} = {column!r} is not a column of the export{hint}")
                self.fix = f'set {setting} = "{guess[0]}" in [columns]' if guess else "fix the mapping in [columns]"
            else:  # one turbine's (inverter's) column of a wide export
                fixes.append(f"[columns] {setting} = {mapped!r}: {column!r} is not a column of the export{hint}")
                self.fix = f"fix [columns] {setting}, or the id in site.toml that {{asset}} stands for"
        if len(absent) > 1:
            self.fix = "fix each mapping in [columns]"
        single = len(found) == 1 and site.file_format == "csv"
        delimiter = f"; the header reads as one column: is the delimiter {site.delimiter!r} right?" if single else ""
        super().__init__(f"{path}: " + "; ".join(fixes) + f" (it has {list(found)[:12]}){delimiter}")


class MisalignedRowsError(SiteConfigError):
    """Rows of a CSV export with more fields than its header: their values do not belong to the header's names.

    A decimal comma in a comma-separated export splits a number in two (1234,5), and every value
    after it moves one column to the right; read by name, the row would give wrong numbers, and a
    first row like it made pandas take the time column for an index and shift every column.
    """

    def __init__(self, site: ExportMapping, path: Path, rows: list[str], header_fields: int) -> None:
        self.rows = rows
        self.fix = (
            'quote such fields ("1234,5"), export numbers with a decimal point, or export with another delimiter '
            'and set [source] delimiter (with decimal = "," for a decimal comma)'
        )
        line = _line_number(path, rows[0], site.encoding)
        where = f"line {line}" if line is not None else "a row"
        more = f" (and {len(rows) - 1} more rows like it)" if len(rows) > 1 else ""
        if all(row.rstrip("\r\n").endswith(site.delimiter) for row in rows):  # an empty last field, no split number
            cause = "they end with a delimiter the header does not"
            self.fix = "export without the delimiter at the end of each row, or with a name for the last column"
        else:
            cause = f"with delimiter {site.delimiter!r}, is a decimal comma splitting a number in two?"
        super().__init__(
            f"{path}: {where} has more fields than the header's {header_fields}: {rows[0]!r}{more}; {cause}"
        )


def _rows_longer_than_header(delimiter: str, path: Path, fields: int, encoding: str) -> list[str]:
    """The rows of a CSV export with more than ``fields`` fields, as text.

    Arrow's CSV reader counts every row's fields (pandas does not when it reads some columns
    only); it decodes one column, as bytes, so the check costs a fraction of the read itself.
    """
    found: list[str] = []

    def note(row: pa_csv.InvalidRow) -> str:
        if row.actual_columns > row.expected_columns:  # a short row is read with blanks: nothing moves
            found.append(row.text)
        return "skip"

    names = [f"f{i}" for i in range(fields)]
    # A row must fit in one of Arrow's blocks: a row longer than the default (1 MiB) is read again in blocks of
    # 64 MiB, which cost time and memory on every other file.
    for block_size in (None, 64 << 20):
        found.clear()
        try:
            with pa.input_stream(str(path), compression="detect") as stream:
                reader = pa_csv.open_csv(
                    stream,
                    read_options=pa_csv.ReadOptions(
                        column_names=names, skip_rows=1, block_size=block_size, encoding=encoding
                    ),
                    parse_options=pa_csv.ParseOptions(
                        delimiter=delimiter, newlines_in_values=True, invalid_row_handler=note
                    ),
                    convert_options=pa_csv.ConvertOptions(
                        include_columns=names[:1], column_types={names[0]: pa.binary()}
                    ),
                )
                for _ in reader:
                    pass
            return found
        except pa.ArrowInvalid:
            if block_size is not None:
                raise
    return found


def _line_number(path: Path, text: str, encoding: str) -> int | None:
    """The 1-based line of the export that reads ``text`` (an error's detail only: the file is read again)."""
    with pa.input_stream(str(path), compression="detect") as stream:
        for number, line in enumerate(io.TextIOWrapper(stream, encoding=encoding, errors="replace"), start=1):
            if line.rstrip("\r\n") == text:
                return number
    return None


def _only_containing(name: str, found: list[str]) -> list[str]:
    """The one column whose name contains ``name`` (any case), when exactly one does ("v" in "v_mean")."""
    containing = [column for column in found if name.lower() in str(column).lower()]
    return containing if len(containing) == 1 else []


def _file_chunks(site: ExportMapping, path: Path, chunk_rows: int, progress: Progress) -> Iterator[pd.DataFrame]:
    wanted = exported_columns(site)
    stage, rows = Stage(progress, f"reading {path.name}"), 0
    if site.file_format == "parquet":
        parquet = pq.ParquetFile(path)
        absent = [c for c in wanted if c not in parquet.schema_arrow.names]
        if absent:
            raise MissingColumnsError(site, path, absent, parquet.schema_arrow.names)
        # Turbine ids repeat on every row: read them as a dictionary (a categorical), not as strings.
        # pre_buffer would read (and keep) the whole file's column chunks ahead: memory grew with the file.
        parquet = pq.ParquetFile(path, read_dictionary=_string_columns(parquet, wanted), pre_buffer=False)
        total = parquet.metadata.num_rows
        for batch in parquet.iter_batches(batch_size=chunk_rows, columns=wanted):
            rows += batch.num_rows
            stage.update(f"{rows:,} of {total:,} rows ({rows / max(total, 1):.0%})")
            yield batch.to_pandas(split_blocks=True)  # one array per column: no consolidating copy
        stage.done(f"{rows:,} rows")
        return
    empty = f"{path}: the file is empty; export it with its header and records"
    header = _csv_header(path, site.delimiter, site.encoding, empty)
    absent = [c for c in wanted if c not in header]
    if absent:
        raise MissingColumnsError(site, path, absent, list(header))
    # pandas reads the named columns of a row with more fields than the header by position, and
    # says nothing when it reads only some columns: such rows are refused first, whichever columns
    # the reader asks for (validation and a round alike).
    long_rows = _rows_longer_than_header(site.delimiter, path, len(header), site.encoding)
    if long_rows:
        raise MisalignedRowsError(site, path, long_rows, len(header))
    # Read through our own handle, whose position is how far the parser has read; given a handle,
    # pandas no longer infers the compression from the file's name, so it is told.
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        for chunk in pd.read_csv(
            handle,
            sep=site.delimiter,
            decimal=site.decimal,
            thousands=site.thousands,
            encoding=site.encoding,
            usecols=wanted,
            index_col=False,  # a first row with an extra field is no index (refused above in any case)
            chunksize=chunk_rows,
            # As text: a category column's ids would be read as numbers where all look like them ("01" as 1).
            dtype={site.columns[ASSET_ID]: "string"} if site.layout == "long" else None,
            compression=infer_compression(str(path), "infer"),
        ):
            rows += len(chunk)
            read = handle.tell()
            stage.update(f"{rows:,} rows, {_byte_size(read)} of {_byte_size(size)} ({read / max(size, 1):.0%})")
            yield chunk
    stage.done(f"{rows:,} rows, {_byte_size(size)}")


def _csv_header(path: Path, delimiter: str, encoding: str, empty: str) -> list[str]:
    """A CSV file's column names; SiteConfigError ``empty`` for a file without a header (no byte, or blank lines)."""
    try:
        return list(pd.read_csv(path, sep=delimiter, nrows=0, encoding=encoding).columns)
    except pd.errors.EmptyDataError:
        raise SiteConfigError(empty) from None


def _byte_size(n: int) -> str:
    """``n`` bytes for a person: "820 kB", "52.1 MB", "9.80 GB" (powers of 1000)."""
    if n < 1_000_000:
        return f"{n / 1000:.0f} kB"
    if n < 1_000_000_000:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e9:.2f} GB"


def _string_columns(parquet: pq.ParquetFile, columns: list[str]) -> list[str]:
    schema = parquet.schema_arrow
    return [
        c for c in columns if pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type)
    ]


class LocalClock:
    """Each unit's latest UTC time read so far [ns], carried from one chunk of an export to the next.

    A naive local-time export repeats its wall-clock hour when clocks go back; which pass a record
    belongs to is read from its unit's own records in export order (:func:`timestamps_to_utc`), so
    it never depends on where a chunk ends, nor on another unit's rows.
    """

    def __init__(self, n_units: int, resolution: pd.Timedelta = RECORD_PERIOD) -> None:
        self.latest = np.full(n_units, NO_TIME)
        # An hourly export writes the repeated hour's 02:00 twice, once per pass; a finer one repeats a
        # time of one pass only by duplicating its record.
        self.hourly = resolution >= pd.Timedelta(hours=1)


def _localise_by_order(times: pd.Series, assets: np.ndarray, timezone: str, clock: LocalClock) -> pd.Series:
    """Naive local times of units ``assets`` (in export order) to UTC, the repeated hour resolved by order.

    A wall-clock time of the repeated hour is summer time unless its unit already has a record after
    that instant (at it, for an hourly export): the first 02:xx is summer time, the second winter
    time. One with no earlier record of its unit, whose pass cannot be told, and wall-clock times
    that do not exist (clocks going forward) become NaT.
    """
    summer, winter = (
        times.dt.tz_localize(timezone, ambiguous=np.full(len(times), first), nonexistent="NaT")
        .dt.tz_convert("UTC")
        .dt.as_unit("ns")
        .array.asi8
        for first in (True, False)
    )
    resolved = summer.copy()
    ambiguous = np.flatnonzero(summer != winter)
    # Each unit's latest unambiguous time before each record, then the ambiguous ones in turn.
    fixed = pd.Series(np.where(summer != winter, NO_TIME, summer))
    before = fixed.groupby(assets).cummax().groupby(assets).shift(1, fill_value=NO_TIME).to_numpy()
    latest = clock.latest.copy()
    for i in ambiguous.tolist():
        a = assets[i]
        seen = max(latest[a], before[i])
        if seen == NO_TIME:
            resolved[i] = NO_TIME
        elif summer[i] < seen or (summer[i] == seen and clock.hourly):
            resolved[i] = winter[i]
        latest[a] = max(latest[a], resolved[i])
    known = resolved != NO_TIME
    np.maximum.at(clock.latest, assets[known], resolved[known])
    return pd.Series(pd.to_datetime(resolved, utc=True, unit="ns"), index=times.index).dt.as_unit(times.dt.unit)


def interval_starts(
    raw: pd.Series, assets: np.ndarray, site: ExportMapping, path: Path, clock: LocalClock
) -> pd.Series:
    """The UTC start of the interval each record covers, so that start- and end-stamped exports average alike.

    The timestamp itself, or one ``resolution`` before it when the export stamps the end
    ([source] timestamps = "end").

    Raises
    ------
    SiteConfigError
        If the time column holds no timestamps (named with the fix).
    """
    column, time_format = site.mapped_columns[TIME], site.time_format
    dropped = site.utc_offsets == "ignore"
    if dropped:
        raw, time_format = wall_clock(raw, time_format)
    times = timestamps_to_utc(raw, assets, site.timezone, path, column, time_format, clock, dropped)
    return times - site.resolution if site.timestamps == "end" else times


_TIME_OF_DAY_ENDS = "|".join(
    [r"(?<=\d\d:\d\d)", r"(?<=[AaPp][Mm])", *(rf"(?<=\d\d:\d\d[.,]\d{{{n}}})" for n in range(1, 10))]
)
UTC_OFFSET_TEXT = rf"(?:{_TIME_OF_DAY_ENDS})\s*(?:[Zz]|(?:UTC|GMT)?[+-]\d\d(?::?\d\d)?|UTC|GMT)\s*$"
"""A timestamp's stated UTC offset at the end of its text, right after its time of day (seconds with up to 9
decimals, or AM/PM): "Z", +hh:mm, +hhmm, +hh (as PostgreSQL writes it), "UTC" or "GMT" with or without one;
"-1340" in "20220101-1340" is no offset."""


def states_offset(raw: pd.Series) -> np.ndarray:
    """Which timestamps, as text, state a UTC offset (:data:`UTC_OFFSET_TEXT`) [bool]."""
    return raw.astype("string").str.contains(UTC_OFFSET_TEXT, regex=True).to_numpy(dtype=bool, na_value=False)


def wall_clock(raw: pd.Series, time_format: str | None) -> tuple[pd.Series, str | None]:
    """An export's time column without the UTC offsets it states, and its format without them (``%z``, ``%Z``).

    For [source] utc_offsets = "ignore": a logger on daylight saving time that stamps one fixed
    offset (PVDAQ's -07:00 all year in Colorado) writes its summer an hour off; without the
    offsets its stamps are the wall-clock time, read in [site] timezone with its DST.
    """
    if isinstance(raw.dtype, pd.DatetimeTZDtype):  # Parquet timestamps with a zone: the time they read there
        return raw.dt.tz_localize(None), time_format
    if pd.api.types.is_datetime64_dtype(raw.dtype):  # naive already
        return raw, time_format
    text = raw.astype("string").str.replace(UTC_OFFSET_TEXT, "", regex=True)
    return text, None if time_format is None else time_format.replace("%z", "").replace("%Z", "").rstrip()


def _zone_left(path: Path, column: str) -> SiteConfigError:
    """The error of stamps that still state a zone once [source] utc_offsets = "ignore" dropped what it could."""
    return SiteConfigError(
        f'{path}: column {column!r} (time): [source] utc_offsets = "ignore", but some stamps state a zone it cannot '
        'drop; write them with a +hh:mm offset, "Z", "UTC" or none'
    )


def timestamps_to_utc(
    raw: pd.Series,
    assets: np.ndarray,
    timezone: str,
    path: Path,
    column: str,
    time_format: str | None,
    clock: LocalClock,
    offsets_dropped: bool = False,
) -> pd.Series:
    """An export's time column as UTC timestamps: offsets honoured, naive times read in ``timezone`` per asset.

    Text is read as ISO 8601, or by the strftime codes ``time_format``; a value that does not parse is NaT.
    ``offsets_dropped``: the stated offsets were stripped ([source] utc_offsets = "ignore", :func:`wall_clock`),
    so a zone left in the text is one it could not strip.

    Raises
    ------
    SiteConfigError
        If the column holds no timestamps, or, with ``offsets_dropped``, stamps that still state a zone
        (named with the fix).
    """
    no_times = f"{path}: column {column!r} (time) is not a timestamp; map [columns] time to the timestamp column"
    zone_left = _zone_left(path, column) if offsets_dropped else None
    times, naive = _parse_stamps(
        raw, time_format or "ISO8601", f"{path}: column {column!r}", "[source] time_format", no_times, zone_left
    )
    if times.dt.tz is not None:  # stamps that state no offset amid ones that do are read in the zone
        if naive.any():
            times[naive] = timestamps_to_utc(raw[naive], assets[naive], timezone, path, column, time_format, clock)
        return times
    if times.empty:
        return times.dt.tz_localize("UTC")
    try:
        # Without a repeated hour (always so in UTC) one call localises every turbine alike.
        local = times.dt.tz_localize(timezone, ambiguous="raise", nonexistent="NaT").dt.tz_convert("UTC")
    except ValueError:
        return _localise_by_order(times, assets, timezone, clock)
    if len(local):
        known = local.notna().to_numpy()
        np.maximum.at(clock.latest, assets[known], local.dt.as_unit("ns").array.asi8[known])
    return local


def _parse_stamps(
    raw: pd.Series,
    form: str,
    where: str,
    setting: str,
    no_times: str,
    zone_left: SiteConfigError | None = None,
) -> tuple[pd.Series[pd.Timestamp], np.ndarray]:
    """Timestamps in UTC if any states an offset (those stating none read as UTC), else naive; and which state none.

    Text is read by ``form``, "ISO8601", strftime codes or a :data:`NUMERIC_TIME_FORMATS` name (NaT where it does
    not parse). Raises SiteConfigError ``no_times`` if the column holds no times, and ``zone_left``, when given, if
    the text states a zone; and one naming ``where`` (the file and column) if offsets differ between rows in a form
    :data:`UTC_OFFSET_TEXT` misses, or if most stamps are numbers ``form`` does not read (with the ``setting`` that
    would).
    """
    if isinstance(raw.dtype, pd.DatetimeTZDtype):  # Parquet timestamps with a zone: nothing to parse
        return raw.dt.tz_convert("UTC"), np.zeros(len(raw), dtype=bool)
    if form in NUMERIC_TIME_FORMATS:
        return _numeric_stamps(raw, form)
    if pd.api.types.is_numeric_dtype(raw.dtype):  # pandas is to read numbers given a format as epochs: text
        whole = raw.dropna()
        raw = (raw.astype("Int64") if bool((whole % 1 == 0).all()) else raw).astype("string")  # 202501011310.0
    try:
        times = pd.to_datetime(raw, errors="coerce", format=form)
    except ValueError:
        if zone_left is not None:
            raise zone_left from None
        # Offsets that differ between rows (DST in local time) only parse straight to UTC, which reads a
        # stamp that states none as UTC: the caller reads such stamps in the zone, as without offsets.
        naive = ~states_offset(raw)
        if naive.all():  # offsets in a form not recognised: the stamps "stating none" would be read again, forever
            raise SiteConfigError(
                f"{where}: its stamps state UTC offsets that differ between rows, in a form not read here (e.g. "
                f"{raw.dropna().iloc[0]!r}); write each offset as +hh:mm after the time of day, e.g. "
                "2025-07-01T13:00+02:00"
            ) from None
        return pd.to_datetime(raw, errors="coerce", utc=True, format=form), naive
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        if zone_left is not None:
            raise zone_left
        # A stamp that did not parse and states no offset (24:00 without one) is the caller's to read in the zone.
        unread = times.isna().to_numpy() & raw.notna().to_numpy()
        naive = np.zeros(len(raw), dtype=bool)
        naive[unread] = ~states_offset(raw[unread])
        return _with_hour_24(raw, times.dt.tz_convert("UTC"), form), naive
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        raise SiteConfigError(no_times)
    _refuse_numbers(raw, times, where, setting)
    return _with_hour_24(raw, times, form), np.ones(len(raw), dtype=bool)


def _numeric_stamps(raw: pd.Series, form: str) -> tuple[pd.Series[pd.Timestamp], np.ndarray]:
    """Times written as numbers, by their :data:`NUMERIC_TIME_FORMATS` name: Unix time in UTC, Excel's naive.

    Unix times are rounded to the millisecond and Excel's serial days to the second (a float's last digits are
    no part of the stamp); a value that is no number is NaT.
    """
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    values = values.where(np.isfinite(values))
    if form == "excel":
        times = pd.to_datetime(values, unit="D", origin=EXCEL_EPOCH, errors="coerce").dt.round("s")
        return times, np.ones(len(raw), dtype=bool)
    times = pd.to_datetime(values, unit="ms" if form == "unix_ms" else "s", utc=True, errors="coerce").dt.round("ms")
    return times, np.zeros(len(raw), dtype=bool)


EXCEL_EPOCH = pd.Timestamp("1899-12-30")
"""Day 0 of Excel's serial dates (1900 date system, whose serial 60 is the 29 February 1900 that never was)."""

_NUMBER_FORMS = (("excel", 2e4, 8e4), ("unix", 1e8, 4e9), ("unix_ms", 1e11, 4e12))
"""The numeric time formats by the range of their numbers from 1954 to 2096 (a guess to name in a message)."""


def _refuse_numbers(raw: pd.Series, times: pd.Series, where: str, setting: str) -> None:
    """SiteConfigError if most stamps that did not read are numbers: a time column of Unix or Excel times.

    The message names ``setting`` with the format the numbers' size suggests.
    """
    unread = times.isna().to_numpy() & raw.notna().to_numpy()
    if unread.sum() * 2 <= raw.notna().sum():
        return
    numbers = pd.to_numeric(raw[unread], errors="coerce").astype("float64")
    numbers = numbers[np.isfinite(numbers)]
    if len(numbers) * 2 <= unread.sum():
        return
    typical = float(numbers.median())
    guess = next((name for name, low, high in _NUMBER_FORMS if low <= abs(typical) < high), None)
    reads_as = (
        f'they look like {NUMERIC_TIME_FORMATS[guess]}: set {setting} = "{guess}"'
        if guess
        else f"set {setting} to what they count, one of {list(NUMERIC_TIME_FORMATS)}"
    )
    raise SiteConfigError(
        f"{where}: the time column holds numbers, not timestamps (e.g. {raw[unread].iloc[0]}); {reads_as}"
    )


HOUR_24 = r"(?<![\d.:])24:00"
"""The time of day some loggers stamp a day's last interval end with, the midnight after it."""


def _with_hour_24(raw: pd.Series, times: pd.Series, form: str) -> pd.Series:
    """``times`` with the stamps of 24:00 that did not parse (NaT) read as 00:00 of the next day.

    Any time format reads them so: the text is parsed with 00:00 in place of 24:00, a day added.
    """
    if pd.api.types.is_datetime64_any_dtype(raw.dtype) or not times.isna().any():
        return times
    text = raw.astype("string")
    late = times.isna().to_numpy() & text.str.contains(HOUR_24, regex=True).to_numpy(dtype=bool, na_value=False)
    if not late.any():
        return times
    try:
        midnight = pd.to_datetime(text[late].str.replace(HOUR_24, "00:00", regex=True), errors="coerce", format=form)
    except ValueError:  # offsets that differ between these rows: left unread
        return times
    if isinstance(midnight.dtype, pd.DatetimeTZDtype) != isinstance(times.dtype, pd.DatetimeTZDtype):
        return times  # some state an offset and some not: left unread
    if isinstance(midnight.dtype, pd.DatetimeTZDtype):
        midnight = midnight.dt.tz_convert("UTC")
    times = times.copy()
    times[late] = midnight + pd.Timedelta(days=1)
    return times


@dataclass(frozen=True)
class ChannelValues:
    """One channel of a raw chunk in canonical units, and why values were blanked."""

    values: np.ndarray  # canonical unit; NaN where missing, a sentinel or impossible
    not_numeric: np.ndarray  # present in the export but not a number
    garbled: np.ndarray  # of those, texts with digits: a number written otherwise than the settings read
    sentinel: np.ndarray  # one of the site's declared "missing" codes
    out_of_range: np.ndarray  # outside the channel's physical range


def channel_values(
    raw: pd.Series, name: str, site: ExportMapping, channels: Mapping[str, Channel] = CHANNELS
) -> ChannelValues:
    """Convert one exported column to channel ``name`` of ``channels`` in its canonical unit, blanking bad values."""
    channel = channels[name]
    if pd.api.types.is_numeric_dtype(raw.dtype):  # Parquet and clean CSV columns: nothing to parse
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        not_numeric = garbled = np.zeros(len(values), dtype=bool)
    else:  # a column pandas left as text (one value that is no number keeps the whole chunk's as text)
        text = raw.astype("string")
        if site.decimal != "." and site.thousands != ".":  # 1.953 is no number with a decimal comma
            text = text.mask(text.str.contains(".", regex=False))
        if site.thousands:
            text = text.str.replace(site.thousands, "", regex=False)
        if site.decimal != ".":
            text = text.str.replace(site.decimal, ".", regex=False)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        not_numeric = np.isnan(values) & raw.notna().to_numpy()
        digits = raw.astype("string").str.contains(r"\d", regex=True).to_numpy(dtype=bool, na_value=False)
        garbled = not_numeric & digits
    infinite = np.isinf(values)
    if infinite.any():  # "inf", "1e400": no measurement
        values, not_numeric = np.where(infinite, np.nan, values), not_numeric | infinite
    codes = site.sentinels.get(name, ())
    sentinel = np.isin(values, codes) if len(codes) else np.zeros(len(values), dtype=bool)
    factor, offset = UNIT_CONVERSIONS[channel.unit][site.units.get(name, channel.unit)]
    converted = factor != 1.0 or offset != 0.0
    if converted:
        values = values * factor + offset
    with np.errstate(invalid="ignore"):
        out_of_range = (values < channel.valid_min) | (values > channel.valid_max)
    if len(codes):
        out_of_range &= ~sentinel
        blank = sentinel | out_of_range
    else:
        blank = out_of_range
    if blank.any():
        values = values if converted else values.copy()  # never write into the export's own buffer
        values[blank] = np.nan
    return ChannelValues(values, not_numeric, garbled, sentinel, out_of_range)


@dataclass(frozen=True)
class AlarmCounts:
    """How the rows of a log of alarms raised and cleared ([events] transition) paired into events."""

    unknown: int  # rows of listed units whose transition is none of [events] raised, cleared, ignored: left out
    unknown_values: tuple[str, ...]  # those transitions, in lower case (up to 10)
    clears: int  # rows that clear an alarm, or clear it again: read into the events they end
    cleared_unraised: int  # clears of an alarm not raised before them: on from the log's first time
    cleared_unraised_example: str  # the first of them: unit, code, time (UTC)
    left_on: int  # alarms (unit, code) other than normal raised and never cleared: on to the export's end
    left_on_example: str  # the earliest raise of them: unit, code, time (UTC)
    left_on_maybe_cleared: int  # of those, ones a row left out (unreadable, or of an unknown transition) may clear


@dataclass(frozen=True)
class EventLogCounts:
    """What reading a site's event log ([events]) left out, and why; and the time its events span."""

    events: int  # rows of the log
    listed: int  # rows of the units site.toml lists
    read: int  # events read: a listed unit, a start, an end or none, a code
    unreadable_start: int  # no start that reads as a time: left out
    unreadable_end: int  # an end that does not read as a time (an empty one is open): left out
    ends_before_start: int  # left out
    no_code: int  # no integer status code: left out
    ignored: int  # rows of [events] ignored transitions (acknowledgements): no events
    alarms: AlarmCounts | None  # a log of alarms raised and cleared ([events] transition): how they paired
    state_normal_rows: int | None  # a log of state changes: its rows of a normal code (None: another log)
    unlisted_units: tuple[str, ...]  # ids site.toml does not list (up to 20): their events are left out
    repeated_hour: int  # events with a naive time in the hour clocks repeat in autumn (read as below)
    lasting: int  # events read of a code other than normal that take time: those that mark records
    first_start: pd.Timestamp | None  # of the events read (UTC)
    last_time: pd.Timestamp | None  # the latest start or end of the events read (UTC); None: one is still open


def read_event_log(
    log: EventLog, asset_ids: Sequence[str], timezone: str, normal_codes: Sequence[int]
) -> tuple[UnitEvents, EventLogCounts]:
    """A site's event log ([events]) as the events :func:`event_status` marks records with, and what it left out.

    A log reads one of three ways: rows of events with their start and end ([events] end); rows of
    alarms raised and cleared ([events] transition), each raise an event until the first clear of its
    unit and code (:func:`client.events.pair_alarms`); or rows of state changes (neither), each row's
    code holding until its unit's next row.

    Events of ``normal_codes`` (informational ones) are left out: they mark no record. Times without
    a UTC offset are read in the log's own zone ([events] timezone), else ``timezone``; in the hour
    clocks repeat in autumn a start is read as the first pass and an end as the first pass not
    before its start (logs list events in either order, so the order of the rows says nothing); a
    time in the hour clocks skip in spring is read as the hour after it. Event logs are small (one
    row per alarm), so each file is read whole.

    Parameters
    ----------
    log : EventLog
        The [events] table.
    asset_ids : sequence of str
        The site's units, in site.toml's order: an event's unit is its index here.
    timezone : str
        IANA zone of times without a UTC offset ([site] timezone), unless the log states its own.
    normal_codes : sequence of int
        The site's normal (available) status codes.

    Returns
    -------
    events : UnitEvents
        The events read, of codes other than ``normal_codes`` (:func:`client.events.unit_events`).
    counts : EventLogCounts
        What was left out, and why.

    Raises
    ------
    SiteConfigError
        If a file is empty, lacks a mapped column, has a CSV row with more fields than its header or
        cannot be read as the format [events] states (named, with the fix).
    """
    names = {name: log.columns[name] for name in EVENT_COLUMNS if name in log.columns}
    frame = pd.concat([_event_file(log, file, list(names.values())) for file in log.files], ignore_index=True)
    ids = frame[names["asset_id"]].astype("string").str.strip()
    unit = pd.Index(asset_ids).get_indexer(ids)
    zone = log.timezone or timezone
    start, start_later = _event_times(frame[names["start"]], zone, log, names["start"])
    in_repeated_hour = (start != start_later) & start.notna()
    code = pd.to_numeric(frame[names["code"]], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        integer = np.isfinite(code) & (code == np.round(code)) & (np.abs(code) < 2**31)
    event_row = np.ones(len(frame), dtype=bool)  # a row that clears an alarm is no event of its own
    skipped = np.zeros(len(frame), dtype=bool)  # rows that neither raise nor clear an alarm (acknowledgements)
    alarms, normal_rows = None, None
    if "end" in names:
        end_first, end_later = _event_times(frame[names["end"]], zone, log, names["end"])
        end_text = frame[names["end"]].astype("string").str.strip()
        open_end = (end_text.isna() | (end_text == "")).to_numpy(dtype=bool, na_value=True)
    elif "transition" in names:
        alarms = _paired_alarms(frame[names["transition"]], log, unit, code, integer, start, start_later)
        start, end_first, end_later = alarms.start, alarms.end, alarms.end
        open_end, event_row, skipped = alarms.open_end, alarms.event_row, alarms.ignored
    else:
        open_end, end_first = _state_ends(unit, start)
        end_later = end_first
        normal_rows = _normal_rows(unit, start, code, normal_codes)
    end = end_first.where(end_first.isna() | start.isna() | (end_first >= start), end_later)
    start_ns = start.dt.as_unit("ns").array.asi8
    end_ns = np.where(open_end, OPEN_END, end.dt.as_unit("ns").array.asi8)
    readable_start, readable_end = start.notna().to_numpy(), end.notna().to_numpy() | open_end
    ordered = ~(readable_start & readable_end) | (end_ns >= start_ns)
    kept = (unit >= 0) & readable_start & readable_end & ordered & integer & event_row
    kept_codes = code[kept].astype(np.int64)
    abnormal = ~np.isin(kept_codes, normal_codes)
    events = unit_events(unit[kept][abnormal], start_ns[kept][abnormal], end_ns[kept][abnormal], kept_codes[abnormal])
    repeated = (in_repeated_hour | ((end_first != end_later) & end_first.notna())) & (unit >= 0) & ~skipped
    times = pd.concat([start[kept], end[kept & ~open_end]])
    counts = EventLogCounts(
        events=len(frame),
        listed=int((unit >= 0).sum()),
        read=int(kept.sum()),
        unreadable_start=int((~readable_start & ~skipped).sum()),
        unreadable_end=int((~readable_end & event_row).sum()),
        ends_before_start=int((~ordered).sum()),
        no_code=int((~integer & ~skipped).sum()),
        ignored=int((skipped & (unit >= 0)).sum()),
        alarms=None if alarms is None else alarms.counts(asset_ids, unit, code, normal_codes),
        state_normal_rows=normal_rows,
        unlisted_units=tuple(sorted(set(ids[unit < 0].dropna())))[:20],
        repeated_hour=int(repeated.fillna(False).sum()),
        lasting=len(events.start),
        first_start=start[kept].min() if kept.any() else None,
        last_time=times.max() if kept.any() and not open_end[kept].any() else None,
    )
    return events, counts


@dataclass(frozen=True)
class _PairedAlarms:
    """A log of alarms raised and cleared, row by row, as events: each raise until the clear that ends it."""

    start: pd.Series  # each row's time; a clear of an alarm on when the log began: the log's first time
    end: pd.Series  # of each event row: its clear's time (NaT: none)
    open_end: np.ndarray  # raises never cleared
    event_row: np.ndarray  # raises, and clears of alarms on when the log began
    ignored: np.ndarray  # rows of [events] ignored transitions
    raised: np.ndarray
    unknown: pd.Series  # the transitions of listed units' rows that are none of the three
    paired: np.ndarray  # the rows paired: listed, with a readable time and code, raised or cleared
    lost: np.ndarray  # rows of listed units that may have cleared an alarm: a clear without a readable time or
    # code, or a transition none of the three

    def counts(
        self, asset_ids: Sequence[str], unit: np.ndarray, code: np.ndarray, normal_codes: Sequence[int]
    ) -> AlarmCounts:
        """What pairing left out and left on, for the validator."""
        rows = self.paired
        cleared_unraised = rows[self.event_row[rows] & ~self.raised[rows]]
        left_on = rows[self.open_end[rows] & ~np.isin(code[rows], normal_codes)]
        left_on = left_on[np.argsort(self.start.iloc[left_on].to_numpy(), kind="stable")]  # each alarm's earliest:
        left_on = left_on[np.unique(_alarm_key(unit[left_on], code[left_on]), return_index=True)[1]]  # once each

        def earliest(found: np.ndarray, times: pd.Series, what: str) -> str:
            if not len(found):
                return ""
            row = found[int(np.argmin(times.iloc[found].to_numpy()))]
            return f"{asset_ids[unit[row]]}, code {int(code[row])}, {what} {times.iloc[row]:%Y-%m-%d %H:%M} UTC"

        return AlarmCounts(
            unknown=len(self.unknown),
            unknown_values=tuple(sorted(set(self.unknown.fillna("(empty)"))))[:10],
            clears=int((~self.raised[rows]).sum()) - len(cleared_unraised),
            cleared_unraised=len(cleared_unraised),
            cleared_unraised_example=earliest(cleared_unraised, self.end, "cleared"),
            left_on=len(left_on),
            left_on_example=earliest(left_on, self.start, "raised"),
            left_on_maybe_cleared=int(self._maybe_cleared(left_on, unit, code).sum()),
        )

    def _maybe_cleared(self, left_on: np.ndarray, unit: np.ndarray, code: np.ndarray) -> np.ndarray:
        """Which raises ``left_on`` a row left out may have cleared.

        Such a row is of the raise's unit, of its code or of none that reads, and at or after it or at
        no time that reads: so the latest such row of the unit and code, or of the unit without a code,
        decides (a row without a time counts as the latest of all).
        """
        lost = self.lost
        lost_time = self.start.iloc[lost].dt.as_unit("ns").array.asi8
        lost_time = np.where(lost_time == np.iinfo(np.int64).min, np.iinfo(np.int64).max, lost_time)  # NaT: any
        latest = pd.DataFrame({"unit": unit[lost], "code": code[lost], "time": lost_time})
        by_code = latest.dropna(subset="code").groupby(["unit", "code"])["time"].max()
        without_code = latest[latest["code"].isna()].groupby("unit")["time"].max()
        never = np.iinfo(np.int64).min  # no such row
        raises = pd.MultiIndex.from_arrays([unit[left_on], code[left_on]], names=["unit", "code"])
        of_code = by_code.reindex(raises, fill_value=never).to_numpy(dtype=np.int64)
        of_unit = without_code.reindex(unit[left_on], fill_value=never).to_numpy(dtype=np.int64)
        raise_time = self.start.iloc[left_on].dt.as_unit("ns").array.asi8
        return (np.maximum(of_code, of_unit) >= raise_time) & (np.maximum(of_code, of_unit) > never)


def _alarm_key(unit: np.ndarray, code: np.ndarray) -> np.ndarray:
    """One number per alarm (a unit's code), exact in float64: units < 2^20, |codes| < 2^31."""
    return unit * 2.0**32 + code


def _paired_alarms(
    transition: pd.Series,
    log: EventLog,
    unit: np.ndarray,
    code: np.ndarray,
    integer: np.ndarray,
    start: pd.Series,
    start_later: pd.Series,
) -> _PairedAlarms:
    """A log of one row per alarm raised and one per alarm cleared as events (:func:`client.events.pair_alarms`).

    Rows are paired by their first pass through the hour clocks repeat in autumn; a clear of that hour
    that then ends nothing is read as its second pass (written after the clocks went back) where it
    then ends a raise. A clear of an alarm not raised before it was on when the log began: it is an
    event from the log's first time (its first row of a listed unit).
    """
    said = transition.astype("string").str.strip().str.lower()
    raised, cleared, ignored = (
        said.isin(values).to_numpy(dtype=bool, na_value=False) for values in (log.raised, log.cleared, log.ignored)
    )
    listed = unit >= 0
    readable = start.notna().to_numpy() & integer
    rows = np.flatnonzero(listed & readable & (raised | cleared))
    first, second = (times.dt.as_unit("ns").array.asi8[rows] for times in (start, start_later))
    alarm_unit, alarm_code, alarm_raised = unit[rows], code[rows].astype(np.int64), raised[rows]
    clearing, before_log = pair_alarms(alarm_unit, alarm_code, first, alarm_raised)
    time = first.copy()
    moved = ~alarm_raised & (second != first) & ~np.isin(np.arange(len(rows)), clearing)
    if moved.any():  # re-pair the alarms of such clears only: the rest cannot change
        key = _alarm_key(alarm_unit, alarm_code)
        sub = np.flatnonzero(np.isin(key, key[moved]))
        for _ in range(2):  # a clear read as its second pass that still ends nothing keeps its first
            time[sub] = np.where(moved[sub], second[sub], first[sub])
            sub_clearing, sub_before_log = pair_alarms(alarm_unit[sub], alarm_code[sub], time[sub], alarm_raised[sub])
            ends_a_raise = np.isin(np.arange(len(sub)), sub_clearing)
            if (ends_a_raise | ~moved[sub]).all():
                break
            moved[sub] &= ends_a_raise
        clearing[sub] = np.where(sub_clearing >= 0, sub[np.maximum(sub_clearing, 0)], -1)
        before_log[sub] = sub_before_log
    log_start = start[listed].min()  # the log's first time: a listed unit's row, an acknowledgement's too
    paired_start, end = start.dt.as_unit("ns").copy(), pd.Series(pd.NaT, index=start.index, dtype="datetime64[ns, UTC]")
    paired_start.iloc[rows] = pd.to_datetime(time, utc=True)
    paired_start.iloc[rows[before_log]] = log_start
    cleared_at = np.where(clearing >= 0, time[np.maximum(clearing, 0)], np.iinfo(np.int64).min)  # min: NaT
    end.iloc[rows] = pd.to_datetime(np.where(before_log, time, cleared_at), utc=True)
    event_row, open_end = np.zeros(len(unit), dtype=bool), np.zeros(len(unit), dtype=bool)
    event_row[rows] = alarm_raised | before_log
    open_end[rows] = alarm_raised & (clearing < 0)
    unknown = ~raised & ~cleared & ~ignored & listed
    return _PairedAlarms(
        start=paired_start,
        end=end,
        open_end=open_end,
        event_row=event_row,
        ignored=ignored,
        raised=raised,
        unknown=said[unknown],
        paired=rows,
        lost=np.flatnonzero((cleared & listed & ~readable) | unknown),
    )


def _normal_rows(unit: np.ndarray, start: pd.Series, code: np.ndarray, normal_codes: Sequence[int]) -> int:
    """How many rows of listed units with a readable time are of a normal code (a log of state changes)."""
    return int(((unit >= 0) & start.notna().to_numpy() & np.isin(code, normal_codes)).sum())


def _state_ends(unit: np.ndarray, start: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """A log of state changes' ends: each row's state lasts until its unit's next row, the last one open.

    Returns whether each row is open (its unit's last, or unreadable), and each end (NaT where open).
    """
    rows = np.flatnonzero((unit >= 0) & start.notna().to_numpy())
    stamp = start.dt.as_unit("ns").array.asi8
    order = rows[np.lexsort((stamp[rows], unit[rows]))]
    ends = np.full(len(unit), OPEN_END)
    ends[order[:-1]] = np.where(unit[order][1:] == unit[order][:-1], stamp[order][1:], OPEN_END)
    open_end = ends == OPEN_END
    end = pd.Series(pd.to_datetime(np.where(open_end, np.iinfo(np.int64).min, ends), utc=True), index=start.index)
    return open_end, end.dt.as_unit(start.dt.unit)


def _event_file(log: EventLog, file: Path, names: list[str]) -> pd.DataFrame:
    """One file of an event log: its mapped columns (text, from a CSV; times and codes are parsed after)."""
    if log.file_format == "parquet":
        found = list(pq.ParquetFile(file).schema_arrow.names)
    else:
        empty = f"{file}: the event log is empty; export it with its header and events, or fix [events]"
        found = _csv_header(file, log.delimiter, log.encoding, empty)
    absent = [name for name in names if name not in found]
    if absent:
        settings = [key for key, column in log.columns.items() if column in absent]
        raise SiteConfigError(
            f"{file}: [events] {', '.join(settings)} = {absent} not a column of the event log (it has {found[:12]}); "
            "set each to the log's column"
        )
    if log.file_format == "parquet":
        return pd.read_parquet(file, columns=names)
    long_rows = _rows_longer_than_header(log.delimiter, file, len(found), log.encoding)
    if long_rows:
        raise SiteConfigError(
            f"{file}: {len(long_rows)} row(s) of the event log have more fields than its header's {len(found)}, "
            f"e.g. {long_rows[0]!r}: a text with the delimiter {log.delimiter!r} in it would move every value after "
            "it; export the log with such texts quoted, or with another delimiter and set [events] delimiter"
        )
    return pd.read_csv(file, sep=log.delimiter, usecols=names, dtype=str, index_col=False, encoding=log.encoding)


def _event_times(raw: pd.Series, timezone: str, log: EventLog, column: str) -> tuple[pd.Series, pd.Series]:
    """An event log's time column in UTC, read twice where a naive time is in the hour clocks repeat [UTC].

    Returns the first and the second pass's reading (the same elsewhere); NaT where it does not
    read as a time, or is empty. A naive time the clocks skip is read as the hour after it.
    """
    files = ", ".join(str(file) for file in log.files)
    no_times = (
        f"{files}: column {column!r} of the event log holds no times; set [events] start and end to the log's time "
        "columns, with [events] time_format if they are not ISO 8601"
    )
    text = raw if pd.api.types.is_datetime64_any_dtype(raw.dtype) else raw.astype("string").str.strip()
    times, naive = _parse_stamps(
        text, log.time_format or "ISO8601", f"{files}: column {column!r}", "[events] time_format", no_times
    )
    if times.dt.tz is not None:  # stamps that state no offset amid ones that do are read in the zone
        passes = (times, times.copy())
        if naive.any():
            for read, local in zip(passes, _event_times(text[naive], timezone, log, column), strict=True):
                read[naive] = local
        return passes
    passes = [
        times.dt.tz_localize(timezone, ambiguous=np.full(len(times), first), nonexistent="shift_forward")
        for first in (True, False)
    ]
    return passes[0].dt.tz_convert("UTC"), passes[1].dt.tz_convert("UTC")


def event_status(
    events: UnitEvents, unit: np.ndarray, time: pd.Series, resolution: pd.Timedelta, without_event: int
) -> np.ndarray:
    """The status column an event log gives records of units ``unit`` starting at UTC ``time`` (NaN where NaT).

    A record covers ``resolution`` from its start (:func:`client.events.status_from_events`).
    """
    period = int(resolution / pd.Timedelta(1, "ns"))
    status = status_from_events(unit, time.dt.as_unit("ns").array.asi8, period, events, without_event)
    return np.where(time.isna().to_numpy(), np.nan, status.astype(np.float64))


def refuse_repeated_header(path: Path, column: str, unlisted: pd.Index) -> None:
    """Refuse a chunk one of whose unit ids not listed is the id column's own name: a header row inside the file.

    Raises
    ------
    SiteConfigError
        Naming the file, the column and the fix.
    """
    if column in set(unlisted):
        raise SiteConfigError(
            f"{path}: a row reads {column!r} in column {column!r}: the header repeats inside the file (two exports "
            "joined?); remove the repeated header rows, or list each export as a file of its own"
        )


def canonicalise(
    raw: pd.DataFrame,
    site: SiteConfig,
    path: Path,
    clock: LocalClock | None = None,
    events: UnitEvents | None = None,
) -> pd.DataFrame:
    """Rename, convert units, parse time to UTC and blank impossible values of one raw chunk.

    ``clock`` carries each turbine's latest time from the export's chunks before (None: this chunk alone).
    ``events``: the site's event log (:func:`read_event_log`), which gives each record its status.
    """
    columns = site.mapped_columns
    known = [t.asset_id for t in site.turbines]
    exported = raw[columns[ASSET_ID]].astype("category").cat
    names = exported.categories.astype(str)
    turbine_of_name = pd.Index(known).get_indexer(names)
    unlisted = turbine_of_name < 0
    refuse_repeated_header(path, columns[ASSET_ID], names[unlisted])
    if unlisted.any() and not site.only_listed_turbines:
        raise SiteConfigError(
            f"{path}: turbine(s) {sorted(names[unlisted])[:5]} in column {columns[ASSET_ID]!r} are not "
            f"listed in [[turbines]] of {site.path}; add them, or set [source] only_listed_turbines = true "
            "to take the listed ones only (an export shared with other turbines)"
        )
    codes = exported.codes.to_numpy()
    # A row without a turbine (an empty line, say), or of a turbine the site leaves out, belongs to
    # no one here: it is dropped, and counted by validation.
    codes = np.where((codes >= 0) & unlisted[np.maximum(codes, 0)], -1, codes) if unlisted.any() else codes
    if (codes < 0).any():
        raw, codes = raw[codes >= 0], codes[codes >= 0]
    turbine = turbine_of_name[codes] if len(names) else codes.astype(np.int64)
    clock = clock if clock is not None else LocalClock(len(known), site.resolution)  # this chunk alone
    time = interval_starts(raw[columns[TIME]], turbine, site, path, clock).dt.as_unit("ns")  # one unit for all
    canonical = {
        TIME: time.array,
        # Categories in site.toml's order: the codes index site.turbines directly.
        ASSET_ID: pd.Categorical.from_codes(turbine, categories=known),
    }
    for name in CHANNELS:
        if name in columns:
            canonical[name] = channel_values(raw[columns[name]], name, site).values
    if STATUS in columns:
        status = raw[columns[STATUS]]
        if not pd.api.types.is_numeric_dtype(status.dtype):
            status = pd.to_numeric(status, errors="coerce")
        canonical[STATUS] = status.to_numpy(dtype=np.float64, na_value=np.nan)
    elif events is not None:
        canonical[STATUS] = event_status(events, turbine, time, site.resolution, site.normal_status_codes[0])
    return pd.DataFrame(canonical, index=time.index, copy=False)  # one frame, no copies of the columns


def read_canonical_chunks(
    site: SiteConfig, chunk_rows: int = CHUNK_ROWS, progress: Progress = silent
) -> Iterator[pd.DataFrame]:
    """Yield the site's export as canonical 10-min frames of at most about ``chunk_rows`` rows.

    Exports at a finer resolution (``[source] resolution``) are averaged to 10-min means first.
    A turbine with a nacelle transfer function has its 10-min mean wind speed read through it
    (free stream, IEC 61400-12-2), so that every statistic of the site sees one wind speed.
    ``progress`` hears how far into each file the reading is (:func:`raw_chunks`).
    """
    clock = LocalClock(len(site.turbines), site.resolution)
    events = None
    if site.events is not None:
        events = read_event_log(site.events, site.asset_ids, site.timezone, site.normal_status_codes)[0]
    chunks = (
        canonicalise(raw, site, path, clock, events)
        for path in site.files
        for raw in raw_chunks(site, path, chunk_rows, progress)
    )
    means = chunks if site.resolution == RECORD_PERIOD else record_means(chunks, site.normal_status_codes)
    corrected = [(i, t.nacelle_transfer_function) for i, t in enumerate(site.turbines) if t.nacelle_transfer_function]
    for chunk in means:
        if corrected and "WMET_HorWdSpd" in chunk:
            turbine = chunk[ASSET_ID].cat.codes.to_numpy()
            wind_speed = chunk["WMET_HorWdSpd"].to_numpy(dtype=np.float64, copy=True)
            for i, ntf in corrected:
                own = turbine == i
                wind_speed[own] = free_stream_wind_speed(wind_speed[own], ntf)
            chunk["WMET_HorWdSpd"] = wind_speed
        yield chunk


def record_means(
    chunks: Iterable[pd.DataFrame],
    normal_status_codes: tuple[int, ...],
    record_period: pd.Timedelta = RECORD_PERIOD,
    channels: Collection[str] = tuple(CHANNELS),
    status: str = STATUS,
) -> Iterator[pd.DataFrame]:
    """Average finer records to ``record_period`` means per asset, streaming.

    Wind records are 10-min means (IEC 61400-12-1), solar ones 15-min means per inverter. A period
    is stamped with its start. Numeric ``channels`` are averaged over the records present; the
    ``status`` of a period is normal only if every record in it is normal (otherwise the first
    abnormal code). Each asset's last, possibly incomplete, period of a chunk is held back and
    completed with the next chunk, so chunk boundaries change nothing. A record that comes after a
    later one of its asset, or repeats its time (:func:`client.streaming.late_or_repeated_records`), is
    left out first: its period may have gone by, and whether it had would depend on where chunks end.
    """
    held: pd.DataFrame | None = None
    latest: np.ndarray | None = None
    for chunk in chunks:
        chunk = chunk[chunk[TIME].notna()]
        asset = chunk[ASSET_ID].cat.codes.to_numpy(dtype=np.int64)
        latest = np.full(len(chunk[ASSET_ID].cat.categories), NO_TIME) if latest is None else latest
        late = late_or_repeated_records(asset, chunk[TIME].dt.as_unit("ns").array.asi8, latest)
        if late.any():
            chunk = chunk[~late]
        frame = chunk if held is None else pd.concat([held, chunk], ignore_index=True)
        period = frame[TIME].dt.floor(record_period)
        last = period.groupby(frame[ASSET_ID], observed=True).transform("max")
        open_period = (period == last).to_numpy()
        held = frame[open_period]
        if (~open_period).any():
            yield _period_means(frame[~open_period], period[~open_period], normal_status_codes, channels, status)
    if held is not None and len(held):
        yield _period_means(held, held[TIME].dt.floor(record_period), normal_status_codes, channels, status)


def _period_means(
    frame: pd.DataFrame,
    period: pd.Series,
    normal_status_codes: tuple[int, ...],
    channels: Collection[str],
    status: str,
) -> pd.DataFrame:
    keys = [frame[ASSET_ID], period.rename(TIME)]
    numeric = [name for name in channels if name in frame]
    means = frame[numeric].groupby(keys, observed=True).mean()
    if status in frame:
        abnormal = frame[status].where(~frame[status].isin(normal_status_codes))
        first_abnormal = abnormal.groupby(keys, observed=True).first()
        normal = frame[status].groupby(keys, observed=True).first()
        means[status] = first_abnormal.fillna(normal)
    out = means.reset_index()
    out[ASSET_ID] = out[ASSET_ID].astype(frame[ASSET_ID].dtype)
    return out
