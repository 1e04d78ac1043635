"""Check a site's mapping and data before anything is computed or sent, turbine by turbine.

Every finding names the file, the column or setting, and the fix. Nothing here leaves the site.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from client.events import UnitEvents
from client.filters import TurbineArrays, frozen_sensor_context, frozen_sensor_flag
from client.ingest import (
    CHUNK_ROWS,
    AlarmCounts,
    ChannelValues,
    EventLogCounts,
    LocalClock,
    MisalignedRowsError,
    MissingColumnsError,
    canonicalise,
    channel_values,
    raw_chunks,
    read_event_log,
    states_offset,
)
from client.schema import CHANNELS, STATUS, Channel
from client.site_config import EventLog, SiteConfig, SiteConfigError, load_site_config
from client.streaming import chunks_with_context
from common.progress import Progress, silent

# Share of a turbine's power values that, impossible for its rated power, point at a unit mistake.
UNIT_SUSPICION_SHARE = 0.05

LATE_SHARE_ERROR = 0.05
"""Share of a unit's records written after a later one of its own from which the export is refused, not warned of.
The same share of a unit's timestamps that do not read refuses the export too (a second time format, say)."""

BLANKED_SHARE_ERROR = 0.5
"""Share of a channel's values that are not numbers or outside its range above which the export is refused: a
setting is wrong ([source] decimal or thousands, [units]), not some values."""

FROZEN_SENSOR = {"min_run": 3}
"""The frozen-sensor filter's parameters the validator counts with: a run of 3 identical wind speeds."""


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, what it is, how to fix it."""

    severity: str  # "error" (the site cannot take part) or "warning"
    file: str
    column: str  # the export's column, or the site.toml setting
    turbine: str
    problem: str
    fix: str


@dataclass(frozen=True)
class ValidationReport:
    """All findings and a per-turbine profile of the export."""

    site: str
    findings: tuple[Finding, ...]
    turbines: pd.DataFrame

    @property
    def usable(self) -> bool:
        """True when no finding is an error."""
        return not any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        profile = self.turbines.reset_index().astype(object).where(self.turbines.reset_index().notna(), None)
        return {
            "site": self.site,
            "usable": self.usable,
            "findings": [asdict(f) for f in self.findings],
            "turbines": profile.to_dict(orient="records"),
        }


_NAT = np.iinfo(np.int64).min  # a missing time among int64 stamps

UNREADABLE_TIME_FIX = (
    'set [source] time_format to the export\'s format (e.g. "%m/%d/%Y %H:%M" for 1/5/2022 13:45), or export ISO 8601 '
    "timestamps with UTC offsets"
)
"""The fix of timestamps that do not parse, in wind and solar exports alike."""
_COUNTS = (
    "rows",
    "bad_time",
    "duplicates",
    "gaps",
    "late",
    "frozen",
    "power_over_rated",
    "windy",
    "power_tiny_in_wind",
    "blank_status",
)


@dataclass(frozen=True)
class TimeOrder:
    """Per turbine, streamed over chunks: timestamps seen, repeated, out of order, and the first and last [ms].

    Exports list each turbine's records in time order (by turbine, or by time across turbines), so
    a repeated timestamp follows its twin: counting repeats of the latest stamp is exact, in
    constant memory. A turbine with a stamp earlier than its latest (``out_of_order``) needs the
    exact count over all its stamps instead (:func:`validate_site` makes a second pass for it).
    """

    stamped: np.ndarray
    duplicates: np.ndarray
    out_of_order: np.ndarray
    first: np.ndarray
    last: np.ndarray

    @classmethod
    def empty(cls, n_turbines: int) -> TimeOrder:
        """No stamp seen for any of ``n_turbines`` turbines."""
        return cls(
            *(np.zeros(n_turbines, dtype=np.int64) for _ in range(3)),
            np.full(n_turbines, np.iinfo(np.int64).max),
            np.full(n_turbines, _NAT),
        )

    def add(self, asset: np.ndarray, stamp: np.ndarray) -> None:
        """Add the stamps [ms since the epoch] of turbines ``asset`` (indices), in export order."""
        _time_order_kernel(
            np.ascontiguousarray(asset, dtype=np.int64),
            np.ascontiguousarray(stamp, dtype=np.int64),
            self.stamped,
            self.duplicates,
            self.out_of_order,
            self.first,
            self.last,
        )


_INDEX = numba.types.Array(numba.int64, 1, "C", readonly=True)


@numba.njit(numba.void(_INDEX, _INDEX, *([numba.int64[::1]] * 5)), cache=True)
def _time_order_kernel(
    asset: np.ndarray,
    stamp: np.ndarray,
    stamped: np.ndarray,
    duplicates: np.ndarray,
    out_of_order: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
) -> None:
    """Loop of :meth:`TimeOrder.add`: one pass, each record compared with its turbine's latest stamp."""
    for i in range(asset.shape[0]):
        a, s = asset[i], stamp[i]
        stamped[a] += 1
        if stamped[a] > 1 and s == last[a]:
            duplicates[a] += 1
        elif s < last[a]:
            out_of_order[a] += 1
        else:
            last[a] = s
        first[a] = min(first[a], s)


def _stamps(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A canonical frame's turbine indices (site.toml's order) and timestamps [ms since the epoch, _NAT if missing]."""
    return frame["asset_id"].cat.codes.to_numpy().astype(np.int64), frame["time"].dt.as_unit("ms").array.asi8


def _profile_chunk(
    frame: pd.DataFrame,
    power_out_of_range: np.ndarray,
    rated_kw: np.ndarray,
    counts: dict[str, np.ndarray],
    times: TimeOrder,
) -> None:
    asset, stamp = _stamps(frame)
    bad_time = stamp == _NAT
    per_unit = frame["WTUR_W"].to_numpy() / rated_kw[asset]
    windy = frame["WMET_HorWdSpd"].to_numpy() > 10.0
    with np.errstate(invalid="ignore"):
        tiny = np.abs(per_unit) < 0.005
        over = (per_unit > 1.5) | power_out_of_range
    blank_status = frame[STATUS].isna().to_numpy() & ~bad_time if STATUS in frame else np.zeros(len(frame), bool)
    n = len(rated_kw)
    for name, rows in (
        ("rows", slice(None)),
        ("bad_time", bad_time),
        ("power_over_rated", over),
        ("windy", windy),
        ("power_tiny_in_wind", windy & tiny),
        ("blank_status", blank_status),
    ):
        counts[name] += np.bincount(asset[rows], minlength=n)
    times.add(asset[~bad_time], stamp[~bad_time])


def checked_event_log(
    log: EventLog, asset_ids: tuple[str, ...], timezone: str, normal_codes: tuple[int, ...]
) -> tuple[UnitEvents | None, EventLogCounts | None, list[Finding]]:
    """A site's event log read (:func:`client.ingest.read_event_log`), or None twice and why it cannot be.

    Parameters
    ----------
    log : EventLog
        The site's [events] table.
    asset_ids : tuple of str
        The site's units, in site.toml's order.
    timezone : str
        [site] timezone, for times without a UTC offset.
    normal_codes : tuple of int
        The site's normal (available) status codes.

    Returns
    -------
    events : UnitEvents or None
        The events that mark records.
    counts : EventLogCounts or None
        What reading left out, for :func:`event_log_findings`.
    findings : list of Finding
        Why the log could not be read, if it could not.
    """
    try:
        events, counts = read_event_log(log, asset_ids, timezone, normal_codes)
    except READ_ERRORS as error:
        files = ", ".join(str(file) for file in log.files)
        if isinstance(error, UnicodeDecodeError):
            problem = f"cannot read the event log: {_not_in_encoding(error)}"
            fix = 'set [events] encoding to the log\'s ("cp1252" for most Windows exports), or save it as UTF-8'
            return None, None, [Finding("error", files, "[events]", "", problem, fix)]
        return None, None, [Finding("error", files, "[events]", "", str(error), "fix [events] in site.toml")]
    return events, counts, []


EVENT_LOG_MARGIN = pd.Timedelta(days=30)
"""How far the export may run before a log's first event or after its last before validation warns [d]."""


def event_log_findings(
    log: EventLog, counts: EventLogCounts, units: str, export_first: pd.Timestamp, export_last: pd.Timestamp
) -> list[Finding]:
    """What reading the event log left out, and whether it covers the export's records (UTC, first and last).

    Errors where every record would read as normal although the log says nothing of them: no
    events, none read, none that marks a record, none within the export's period, or more than
    :data:`LATE_SHARE_ERROR` of the listed units' events left out (a file in another time format,
    say).

    Parameters
    ----------
    log : EventLog
        The site's [events] table.
    counts : EventLogCounts
        What reading it left out (:func:`checked_event_log`).
    units : str
        The table that lists the site's units, ``[[turbines]]`` or ``[[inverters]]``.
    export_first, export_last : pandas.Timestamp
        The export's first and last record (UTC; NaT when it has none).
    """
    files = ", ".join(str(file) for file in log.files)
    alarms = counts.alarms
    clears = 0 if alarms is None else alarms.clears
    rows = counts.listed - counts.ignored  # acknowledgements are neither read nor left out
    unread = rows - counts.read - clears  # a clear is read into the event it ends
    severity = "error" if unread > LATE_SHARE_ERROR * rows else "warning"
    noun = "events" if alarms is None else "rows"
    out = []
    for n, column, problem, fix in (
        (counts.unreadable_start, "start", "have no start that reads as a time", "set [events] time_format"),
        (counts.unreadable_end, "end", "have an end that does not read as a time", "set [events] time_format"),
        (counts.ends_before_start, "end", "end before they start", "check the log's start and end columns"),
        (counts.no_code, "code", "have no integer status code", "set [events] code to the column of the codes"),
    ):
        if n:
            problem = f"{n} {noun} {problem}: they are left out"
            out.append(Finding(severity, files, log.columns[column], "", problem, fix))
    if alarms is not None:
        out += _alarm_findings(log, alarms, files, severity)
    elif counts.state_normal_rows is not None and counts.state_normal_rows < STATE_NORMAL_SHARE * counts.read:
        problem = (
            f"only {counts.state_normal_rows} of the log's {counts.read} rows read are of a normal code: read as state "
            "changes, each fault holds until its unit's next row"
        )
        fix = (
            "if the log has one row per alarm raised and one per alarm cleared, map [events] transition to the column "
            "that says which; if its rows are events, map [events] end"
        )
        out.append(Finding("warning", files, log.columns["code"], "", problem, fix))
    if counts.unlisted_units:
        out.append(
            Finding(
                "warning" if counts.listed else "error",
                files,
                log.columns["asset_id"],
                "",
                f"events of units {units} does not list are left out: {list(counts.unlisted_units)}",
                f"list each of the site's units in {units} by the id the log gives it (as the export does)",
            )
        )
    if counts.repeated_hour:
        out.append(
            Finding(
                "warning",
                files,
                ", ".join(_time_columns(log)),
                "",
                f"{counts.repeated_hour} {noun} have a time without UTC offset in the hour clocks repeat in autumn: "
                + (
                    "rows are paired as its first pass, a clear that then ends nothing as its second"
                    if alarms is not None
                    else "a start is read as the first pass, an end as the first not before its start"
                ),
                "export the log with UTC offsets",
            )
        )
    every_normal = "every record would read as normal"
    if not counts.events:
        out.append(Finding("error", files, "[events]", "", f"the log holds no events: {every_normal}", _LOG_FIX))
    elif counts.listed and counts.ignored == counts.listed:
        problem = f"the log's {counts.listed} rows of listed units are all of [events] ignored: {every_normal}"
        out.append(Finding("error", files, log.columns["transition"], "", problem, _LOG_FIX))
    elif counts.listed and not counts.read:
        problem = f"none of the log's {counts.listed} {noun} of listed units can be read: {every_normal}"
        out.append(Finding("error", files, "[events]", "", problem, _LOG_FIX))
    elif counts.read and not counts.lasting:
        problem = (
            f"none of the log's {counts.read} events read is both of a code other than normal and longer than an "
            f"instant: {every_normal}"
        )
        fix = (
            "check that [events] code is the column of the alarms' status codes and raised / cleared their values"
            if alarms is not None
            else "map [events] start and end to the columns of when an event began and when it cleared; for a log "
            "of one row per alarm raised and one per alarm cleared, map [events] transition to the column that says "
            "which"
        )
        out.append(Finding("error", files, ", ".join(_time_columns(log)), "", problem, fix))
    elif counts.first_start is not None and export_first <= export_last:
        last = export_last if counts.last_time is None else counts.last_time  # an open event lasts to the end
        span = f"the log's events span {counts.first_start:%Y-%m-%d} to {last:%Y-%m-%d}"
        export = f"the export's records {export_first:%Y-%m-%d} to {export_last:%Y-%m-%d}"
        if last < export_first or counts.first_start > export_last:
            out.append(Finding("error", files, "[events]", "", f"{span}, {export}: {every_normal}", _LOG_FIX))
        elif counts.first_start - export_first > EVENT_LOG_MARGIN or export_last - last > EVENT_LOG_MARGIN:
            problem = f"{span}, {export}: records outside the log's span read as normal"
            out.append(Finding("warning", files, "[events]", "", problem, _LOG_FIX))
    return out


STATE_NORMAL_SHARE = 0.1
"""The share of a state-change log's rows of a normal code below which validation warns that its faults may
never end: a unit returns to operation with a row of a normal code, and a log of alarms raised and cleared
read as state changes has none."""


def _alarm_findings(log: EventLog, alarms: AlarmCounts, files: str, severity: str) -> list[Finding]:
    """What pairing a log of alarms raised and cleared left out or left on ([events] transition).

    An alarm never cleared is on to the export's end: an error where clears were left out (unreadable,
    or of transitions not listed), which may be its clear, else a warning naming the earliest.
    """
    column = log.columns["transition"]
    out = []
    if alarms.unknown:
        problem = f"{alarms.unknown} rows neither raise nor clear an alarm ({list(alarms.unknown_values)}): left out"
        fix = "list each of the log's values in [events] raised, cleared or ignored"
        out.append(Finding(severity, files, column, "", problem, fix))
    if alarms.left_on:
        problem = (
            f"{_alarms(alarms.left_on)} raised and never cleared in the log (the earliest: {alarms.left_on_example}): "
            "each reads as on to the export's end"
        )
        if alarms.left_on_maybe_cleared:
            problem += (
                f"; rows left out (a clear whose time or code does not read, or of a transition not listed) may have "
                f"cleared {alarms.left_on_maybe_cleared} of them"
            )
            fix = "make every clear readable ([events] time_format, code, cleared); nothing leaves the site till then"
        else:
            fix = "if they were cleared, export the log to a later end"
        out.append(Finding("error" if alarms.left_on_maybe_cleared else "warning", files, column, "", problem, fix))
    if alarms.cleared_unraised:
        problem = (
            f"{_alarms(alarms.cleared_unraised)} cleared with no earlier raise in the log (the first: "
            f"{alarms.cleared_unraised_example}): each reads as on from the log's first time to its clear"
        )
        fix = "export the log from before the export's first record, so that it holds their raises"
        out.append(Finding("warning", files, column, "", problem, fix))
    return out


def _alarms(n: int) -> str:
    """'1 alarm is' or 'n alarms are'."""
    return "1 alarm is" if n == 1 else f"{n} alarms are"


def _time_columns(log: EventLog) -> list[str]:
    """The event log's time columns: start, and end if it has one."""
    return [log.columns[name] for name in ("start", "end") if name in log.columns]


_LOG_FIX = "export the units' event log over the export's period, and map its columns in [events]"


def blank_status_findings(files: str, status_column: str, blank: int, rows: int) -> list[Finding]:
    """The warning for ``blank`` of ``rows`` records without a status code, if any (wind and solar alike).

    Their status is unknown, information unavailable (IEC 61400-26-1): neither available nor not, and a
    failure goes on across a short stretch of them (:func:`client.indicators.failure_events`).
    """
    if not blank:
        return []
    problem = (
        f"{blank:,} of {rows:,} records ({blank / rows:.1%}) have no status code: their status is unknown, counted "
        "neither for nor against availability, and a failure continues across up to an hour of them between two "
        "of its codes"
    )
    fix = "nothing to fix if the logger missed them; otherwise export every record's status"
    return [Finding("warning", files, status_column, "", problem, fix)]


def late_records_finding(files: str, time_column: str, unit: str, asset: str, late: int, rows: int) -> list[Finding]:
    """The finding for ``late`` of a ``unit``'s ``rows`` records written after a later one of its own, if any.

    The summaries leave such records out (:func:`client.streaming.late_or_repeated_records`): judged beside
    neighbours that had gone by, their flags would depend on where chunks end. An error when they
    are more than :data:`LATE_SHARE_ERROR` of the unit's records (files read out of order, most likely).
    """
    if not late:
        return []
    severity = "error" if late > LATE_SHARE_ERROR * rows else "warning"
    problem = f"{int(late)} records come after a later record of this {unit} in the export: they are left out"
    fix = (
        "list [source] files in time order (each entry is read in turn, a glob's matches in natural order: "
        "export_9 before export_10), or export each unit's records in time order"
    )
    return [Finding(severity, files, time_column, asset, problem, fix)]


def _all_stamps(site: SiteConfig, turbines: np.ndarray, chunk_rows: int, progress: Progress) -> dict[int, np.ndarray]:
    """Every valid timestamp [ms] of the given turbines (indices), read again: time and turbine columns only."""
    times_only = site.with_channels(())
    parts: dict[int, list[np.ndarray]] = {int(t): [] for t in turbines}
    clock = LocalClock(len(site.turbines), site.resolution)
    for file in site.files:
        for raw in raw_chunks(times_only, file, chunk_rows, progress):
            asset, stamp = _stamps(canonicalise(raw, times_only, file, clock))
            for t in parts:
                parts[t].append(stamp[(asset == t) & (stamp != _NAT)])
    return {t: np.concatenate(p) if p else np.zeros(0, dtype=np.int64) for t, p in parts.items()}


def _time_profile(
    site: SiteConfig,
    times: TimeOrder,
    counts: dict[str, np.ndarray],
    reread: bool,
    chunk_rows: int,
    progress: Progress,
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Fill duplicates and gaps (at the site's resolution); the first and last timestamps per turbine.

    With ``reread``, turbines whose records are out of time order get their exact count of
    distinct stamps from a second pass; without (the export could not be read), a lower bound.
    """
    distinct = times.stamped - times.duplicates
    unordered = np.flatnonzero(times.out_of_order)
    for t, stamps in _all_stamps(site, unordered, chunk_rows, progress).items() if reread and len(unordered) else ():
        distinct[t] = len(np.unique(stamps))
    counts["duplicates"] = times.stamped - distinct
    counts["late"] = times.out_of_order
    seen = times.stamped > 0
    step = int(site.resolution / pd.Timedelta(milliseconds=1))
    expected = np.where(seen, (times.last - times.first) // step + 1, 0)
    counts["gaps"] = np.maximum(expected - distinct, 0)
    first = pd.to_datetime(np.where(seen, times.first, _NAT), unit="ms", utc=True)
    last = pd.to_datetime(np.where(seen, times.last, _NAT), unit="ms", utc=True)
    return first, last


def validate_site(path: Path, chunk_rows: int = CHUNK_ROWS, progress: Progress = silent) -> ValidationReport:
    """Validate the site.toml at ``path`` and its export; never raises for bad input.

    One pass over the export in chunks, memory independent of its size; a second pass over the
    time and turbine columns only if some turbine's records are not in time order. ``progress``
    hears how far into each file each pass is (:func:`client.ingest.raw_chunks`).
    """
    try:
        site = load_site_config(path)
    except SiteConfigError as error:
        finding = Finding("error", str(path), "site.toml", "", str(error), "fix each listed setting in site.toml")
        return ValidationReport(str(path), (finding,), pd.DataFrame())

    ids = pd.Index([t.asset_id for t in site.turbines], name="asset_id")
    rated_kw = np.array([t.rated_power_kw for t in site.turbines], dtype=np.float64)
    counts = {name: np.zeros(len(ids), dtype=np.int64) for name in _COUNTS}
    blanked = {name: np.zeros(4, dtype=np.int64) for name in CHANNELS if name in site.columns}
    findings: list[Finding] = []
    times = TimeOrder.empty(len(ids))
    rows_without_turbine = 0
    with_offsets = True  # every timestamp states its UTC offset (or is a zoned datetime)

    def canonical_frames() -> Iterator[pd.DataFrame]:
        """The export's canonical chunks, profiled (in export order) as they pass; an unreadable file, a finding."""
        nonlocal rows_without_turbine, with_offsets
        clock = LocalClock(len(ids), site.resolution)
        for file in site.files:
            try:
                for i, raw in enumerate(raw_chunks(site, file, chunk_rows, progress)):
                    if i == 0:  # an exporter writes one time format per file: its first chunk says which
                        read = site.utc_offsets == "read"  # "ignore": read as if stated without
                        with_offsets &= read and states_utc_offsets(raw[site.mapped_columns["time"]])
                    frame = canonicalise(raw, site, file, clock)
                    rows_without_turbine += len(raw) - len(frame)
                    raw = raw[raw[site.mapped_columns["asset_id"]].astype(str).isin(ids)]  # the rows canonicalise kept
                    converted = {name: channel_values(raw[site.mapped_columns[name]], name, site) for name in blanked}
                    for name, values in converted.items():
                        blanked[name] += blanked_tally(values)
                    _profile_chunk(frame, converted["WTUR_W"].out_of_range, rated_kw, counts, times)
                    yield frame
            except READ_ERRORS as error:
                findings.append(read_error_finding(file, error, site.file_format, "fix the mapping in site.toml"))

    # A frozen wind speed is judged over each turbine's records in time order, beside its neighbours either side.
    site_arrays = TurbineArrays.of(site)
    for chunk, asset, owned in chunks_with_context(canonical_frames(), ids, frozen_sensor_context(FROZEN_SENSOR)):
        flags = frozen_sensor_flag(chunk, site_arrays.select(asset), FROZEN_SENSOR) & owned
        counts["frozen"] += np.bincount(asset[flags], minlength=len(ids))

    first, last = _time_profile(site, times, counts, reread=not findings, chunk_rows=chunk_rows, progress=progress)
    if site.events is not None:  # read to name its problems: no check of the export above needs the status
        _, logged, unread = checked_event_log(site.events, site.asset_ids, site.timezone, site.normal_status_codes)
        findings += unread
        if logged is not None:
            findings += event_log_findings(site.events, logged, "[[turbines]]", first.min(), last.max())
    profile = pd.DataFrame(counts, index=ids)
    profile["first"], profile["last"] = first, last
    unread = any(f.severity == "error" for f in findings)
    # A file that could not be read explains its turbines' missing records; they are not findings of their own.
    findings += [
        f for f in _findings(site, profile, blanked, with_offsets) if not (unread and f.problem in NO_RECORDS_FOUND)
    ]
    if rows_without_turbine:
        findings.append(
            Finding(
                "warning",
                ", ".join(map(str, site.files)),
                site.mapped_columns["asset_id"],
                "",
                f"{rows_without_turbine} rows have no turbine id"
                + (" or one not in [[turbines]]" if site.only_listed_turbines else "")
                + " and are left out",
                "nothing to fix if they are empty lines or other turbines' rows; otherwise fill the turbine column",
            )
        )
    return ValidationReport(str(site.path), tuple(findings), profile)


READ_ERRORS = (ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError)
"""What reading an export may raise that is the export's or the mapping's fault (site.toml errors are ValueErrors)."""


def read_error_finding(file: Path, error: Exception, file_format: str, mapping_fix: str) -> Finding:
    """The finding of an export file that could not be read: which columns, which row, or which setting to fix."""
    if isinstance(error, MissingColumnsError):
        return Finding("error", str(file), ", ".join(error.absent), "", str(error), error.fix)
    if isinstance(error, MisalignedRowsError):
        return Finding("error", str(file), "", "", str(error), error.fix)
    if isinstance(error, SiteConfigError):
        return Finding("error", str(file), "", "", str(error), mapping_fix)
    if isinstance(error, UnicodeDecodeError):
        problem = f"cannot read the file: {_not_in_encoding(error)}"
        fix = 'set [source] encoding to the file\'s ("cp1252" for most Windows exports), or save it as UTF-8'
        return Finding("error", str(file), "", "", problem, fix)
    return Finding(
        "error",
        str(file),
        "",
        "",
        f"cannot read the file: {error}",
        f"check [source] format = {file_format!r}, delimiter and decimal, or repair the file",
    )


def _not_in_encoding(error: UnicodeDecodeError) -> str:
    """Why a file not in its encoding cannot be read: the encoding, and the first byte it does not decode."""
    return f"it is not {error.encoding} text (byte {error.object[error.start : error.end]!r})"


def _record_period(resolution: pd.Timedelta) -> str:
    """How findings name the export's record interval: "10-min", "1-min", "1-s"."""
    seconds = int(resolution.total_seconds())
    return f"{seconds // 60}-min" if seconds % 60 == 0 else f"{seconds}-s"


NO_RECORDS = "no records for this turbine"
NO_RECORDS_AT_ALL = "the export holds no records of the turbines [[turbines]] lists"
NO_RECORDS_FOUND = (NO_RECORDS, NO_RECORDS_AT_ALL)


def states_utc_offsets(times: pd.Series) -> bool:
    """Whether every timestamp of an export column states its UTC offset (ISO 8601 "Z" or +hh:mm), or is zoned."""
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        return True
    return bool(states_offset(times.dropna()).all())


def blanked_tally(values: ChannelValues) -> np.ndarray:
    """A chunk's counts of one channel's values: not numbers, texts with digits, outside its range, and all."""
    tally = (values.not_numeric.sum(), values.garbled.sum(), values.out_of_range.sum(), len(values.values))
    return np.array(tally, dtype=np.int64)


def blanked_values_findings(
    files: str, column: str, name: str, channel: Channel, unit: str, tally: np.ndarray
) -> list[Finding]:
    """The finding for a channel's values that are not numbers or outside its range (:func:`blanked_tally`), if any.

    An error when numbers written otherwise than the settings read (texts with digits) and values
    outside the range are more than :data:`BLANKED_SHARE_ERROR` of its values: the fix is then the
    setting that reads them ([source] decimal and thousands, or [units]), named by which of the two
    most values are. Texts without digits ("---", "n.a.") are an export's marks for a missing value,
    however many: a warning.
    """
    not_numeric, garbled, out_of_range, values = (int(n) for n in tally)
    if not not_numeric + out_of_range:
        return []
    problem = (
        f"{not_numeric + out_of_range:,} of {values:,} values of {name} are not numbers ({not_numeric:,}, "
        f"{garbled:,} of them with digits) or outside {channel.valid_min:g}..{channel.valid_max:g} {channel.unit} "
        f"({out_of_range:,}): they are left out"
    )
    if garbled + out_of_range <= BLANKED_SHARE_ERROR * values:
        fix = "nothing to fix if they mark missing values; otherwise check [source] decimal and thousands, and [units]"
        return [Finding("warning", files, column, "", problem, fix)]
    if garbled >= out_of_range:
        fix = 'set [source] decimal and thousands to the export\'s (decimal = ",", thousands = "." for 1.234,5)'
    else:
        fix = f"set [units] {name} to the export's unit (now {unit})"
    return [Finding("error", files, column, "", problem, fix)]


def _findings(
    site: SiteConfig, counts: pd.DataFrame, blanked: dict[str, np.ndarray], with_offsets: bool
) -> list[Finding]:
    files = ", ".join(str(f) for f in site.files)
    period = _record_period(site.resolution)
    power_column = site.mapped_columns["WTUR_W"]
    out = []
    if not counts["rows"].sum():
        fix = "export the turbines' records, and list each by the id the export gives it"
        return [Finding("error", files, site.mapped_columns["asset_id"], "", NO_RECORDS_AT_ALL, fix)]
    for asset, row in counts.iterrows():
        rows = int(row["rows"])
        if rows == 0:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns["asset_id"],
                    asset,
                    NO_RECORDS,
                    "check the turbine's asset_id in [[turbines]] against the export",
                )
            )
            continue
        suspicious = (row["power_over_rated"]) / rows
        if suspicious > UNIT_SUSPICION_SHARE:
            out.append(
                Finding(
                    "error",
                    files,
                    power_column,
                    asset,
                    f"power is above 150 % of rated in {suspicious:.0%} of records: the unit looks wrong",
                    f"set [units] WTUR_W to the export's unit (W, kW or MW); now {site.units.get('WTUR_W', 'kW')}",
                )
            )
        if row["windy"] and row["power_tiny_in_wind"] > row["windy"] / 2:
            out.append(
                Finding(
                    "error",
                    files,
                    power_column,
                    asset,
                    "power stays below 0.5 % of rated at wind speeds above 10 m/s: the unit looks too large",
                    f"set [units] WTUR_W to the export's unit (W, kW or MW); now {site.units.get('WTUR_W', 'kW')}",
                )
            )
        if row["duplicates"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns["time"],
                    asset,
                    f"{int(row['duplicates'])} duplicated timestamps"
                    + (" although they state their UTC offsets" if with_offsets else " (e.g. at a DST change)")
                    + ": only the first record of each time is kept",
                    "the exporter repeats these instants (often a bug at the spring DST change): ask for a fixed export"
                    if with_offsets
                    else "export with UTC offsets, or set [site] timezone to the export's zone",
                )
            )
        out += late_records_finding(files, site.mapped_columns["time"], "turbine", str(asset), row["late"], rows)
        if row["duplicates"] > rows / 2:
            out.append(
                Finding(
                    "error",
                    files,
                    site.mapped_columns["time"],
                    asset,
                    f"more than one record per {period} period: the export is not {period} data",
                    f"set [source] resolution to the export's record interval, or export {period} means",
                )
            )
        if row["bad_time"]:
            out.append(
                Finding(
                    "error" if row["bad_time"] > LATE_SHARE_ERROR * rows else "warning",
                    files,
                    site.mapped_columns["time"],
                    asset,
                    f"{int(row['bad_time'])} of {rows} timestamps unreadable or missing in local time (DST)"
                    + (": no record has a time" if row["bad_time"] == rows else ""),
                    UNREADABLE_TIME_FIX,
                )
            )
        if row["gaps"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns["time"],
                    asset,
                    f"{int(row['gaps'])} missing {period} records between first and last",
                    "nothing to fix if the turbine was offline; otherwise re-export the gap",
                )
            )
        if row["frozen"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns["WMET_HorWdSpd"],
                    asset,
                    f"{int(row['frozen'])} records in runs of >= {FROZEN_SENSOR['min_run']} identical wind speeds "
                    "(frozen sensor)",
                    "they are left out of every benchmark; check the anemometer",
                )
            )
    named = {f.column for f in out if f.severity == "error"}  # a wrong unit, say: its values need no second error
    for name, tally in blanked.items():
        if site.mapped_columns[name] not in named:
            unit = site.units.get(name, CHANNELS[name].unit)
            out += blanked_values_findings(files, site.mapped_columns[name], name, CHANNELS[name], unit, tally)
    if STATUS in site.columns:
        read = int(counts["rows"].sum() - counts["bad_time"].sum())
        out += blank_status_findings(files, site.mapped_columns[STATUS], int(counts["blank_status"].sum()), read)
    return out
