"""Check a solar site's mapping and data before anything is computed or sent, inverter by inverter.

The same report as a wind site's (client/validate.py): every finding names the file, the column
or setting, and the fix; nothing here leaves the site.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from client.ingest import CHUNK_ROWS, EventLogCounts, LocalClock, channel_values, raw_chunks
from client.site_config import SiteConfigError
from client.solar.availability import CLIPPING_THRESHOLD
from client.solar.ingest import canonicalise
from client.solar.quality import (
    CLOCK_TOLERANCE_MINUTES,
    DAYLIGHT_IRRADIANCE,
    PRODUCING_SHARE,
    SHIFT_MIN_DROP,
    SHIFT_WINDOW_DAYS,
    TEMPERATURE_STUCK_MIN_DURATIONS,
    about_their_circular_mean,
    day_length,
    irradiance_channel,
    level_shift,
    midday_offset,
    production_edges,
    production_min_records,
    solar_day,
    stuck_context,
    stuck_min_records,
    stuck_readings,
    stuck_temperature,
)
from client.solar.schema import ASSET_ID, CHANNELS, STATUS, TIME
from client.solar.site_config import SolarSiteConfig, load_solar_site_config
from client.streaming import chunks_with_context
from client.validate import (
    LATE_SHARE_ERROR,
    READ_ERRORS,
    UNIT_SUSPICION_SHARE,
    UNREADABLE_TIME_FIX,
    Finding,
    TimeOrder,
    ValidationReport,
    blank_status_findings,
    blanked_tally,
    blanked_values_findings,
    checked_event_log,
    event_log_findings,
    late_records_finding,
    read_error_finding,
    states_utc_offsets,
)
from common.progress import Progress, silent

_COUNTS = ("rows", "bad_time", "duplicates", "gaps", "late", "power_over_ac", "unlisted_status", "blank_status")
NO_RECORDS = "no records for this inverter"


def validate_solar_site(path: Path, chunk_rows: int = CHUNK_ROWS, progress: Progress = silent) -> ValidationReport:
    """Validate the solar site.toml at ``path`` and its export; never raises for bad input.

    One pass over the export in chunks, memory independent of its size. The profile (the report's
    ``turbines`` frame) has one row per inverter: rows, unreadable times, repeated times, gaps at the
    export's resolution, power above 120 % of the AC capacity, records whose status code site.toml does not
    list, records without a status code (blank), the first and last record, and records whose AC power or
    irradiance is stuck (:func:`client.solar.quality.stuck_readings`, over
    :data:`client.solar.quality.STUCK_MIN_DURATION`), and the records of each mapped temperature that is
    stuck in daylight (:func:`client.solar.quality.stuck_temperature`). Findings also name an inverter's
    level shift against its peers and the months whose production is centred away from solar noon (a clock
    on the wrong zone or on daylight saving time: :func:`client.solar.quality.midday_offset`).
    """
    try:
        site = load_solar_site_config(path)
    except SiteConfigError as error:
        finding = Finding("error", str(path), "site.toml", "", str(error), "fix each listed setting in site.toml")
        return ValidationReport(str(path), (finding,), pd.DataFrame())
    ids = pd.Index([inverter.inverter_id for inverter in site.inverters], name="asset_id")
    ac_kw = np.array([inverter.ac_capacity_kw for inverter in site.inverters])
    profiled = _Profile.empty(site)
    findings: list[Finding] = []
    measured, min_run = irradiance_channel(site.columns), stuck_min_records(site.resolution)
    temperature_runs = {
        name: stuck_min_records(site.resolution, duration)
        for name, duration in TEMPERATURE_STUCK_MIN_DURATIONS.items()
        if name in site.columns
    }
    temperatures = list(temperature_runs)
    stuck = {name: _StuckRuns.empty(len(ids)) for name in ("P_out", measured, *temperatures)}
    # Stuck readings are judged over each inverter's records in time order, beside its neighbours either side.
    frames = _canonical_frames(site, chunk_rows, progress, profiled, findings)
    daily, spans = _DailySums(len(ids)), _ProductionSpans(len(ids), site.plant.longitude)
    context = max(stuck_context(min_run, temperature_runs.values()), production_min_records(site.resolution))
    for frame, frame_asset, owned in chunks_with_context(frames, ids, context):
        readings = [frame[name].to_numpy(dtype=np.float64) for name in stuck]
        commanded = ~frame[STATUS].isin(site.available_codes).to_numpy() if STATUS in frame else None
        flags = stuck_readings(readings[0], readings[1], frame_asset, ac_kw[frame_asset], min_run, commanded)
        frame_stamp = frame[TIME].dt.as_unit("ms").array.asi8
        producing_kw = PRODUCING_SHARE * ac_kw[frame_asset]
        edges = production_edges(readings[0], producing_kw, frame_asset, frame_stamp, site.resolution)
        with np.errstate(invalid="ignore"):
            edges = ((readings[0] > producing_kw) & (frame_stamp != _NAT_MS), *edges)
        sensor = np.where(flags[1], np.nan, readings[1])
        for temperature, run in zip(readings[2:], temperature_runs.values(), strict=True):
            flags += (stuck_temperature(temperature, frame_asset, sensor, run),)
        asset, stamp = frame_asset[owned], frame_stamp[owned]
        readings, flags = [values[owned] for values in readings], tuple(flag[owned] for flag in flags)
        power, irradiance = readings[:2]
        day = solar_day(stamp, site.plant.longitude)
        spans.add(asset, stamp, *(edge[owned] for edge in edges))
        for runs, values, flagged in zip(stuck.values(), readings, flags, strict=True):
            runs.add(asset, values, stamp, flagged)
        with np.errstate(invalid="ignore"):
            # Producing below the AC limit in daylight, neither reading stuck: an outage or clipping is no shift.
            counted = (power > 0.0) & (power < CLIPPING_THRESHOLD * ac_kw[asset]) & (irradiance >= DAYLIGHT_IRRADIANCE)
        counted &= ~(flags[0] | flags[1]) & (stamp != _NAT_MS)
        daily.add(asset[counted], day[counted], power[counted], irradiance[counted])
    counts, times, blanked = profiled.counts, profiled.times, profiled.blanked
    distinct = times.stamped - times.duplicates
    counts["duplicates"] = times.duplicates
    counts["late"] = times.out_of_order
    seen = times.stamped > 0
    step = int(site.resolution / pd.Timedelta(milliseconds=1))
    counts["gaps"] = np.maximum(np.where(seen, (times.last - times.first) // step + 1, 0) - distinct, 0)
    profile = pd.DataFrame(counts, index=ids)
    profile["first"] = pd.to_datetime(np.where(seen, times.first, np.iinfo(np.int64).min), unit="ms", utc=True)
    profile["last"] = pd.to_datetime(np.where(seen, times.last, np.iinfo(np.int64).min), unit="ms", utc=True)
    profile["stuck_power"], profile["stuck_irradiance"] = stuck["P_out"].records, stuck[measured].records
    for name in temperatures:
        profile[f"stuck_{name}"] = stuck[name].records
    if site.events is not None and profiled.event_log is not None:
        first, last = profile["first"].min(), profile["last"].max()
        findings += event_log_findings(site.events, profiled.event_log, "[[inverters]]", first, last)
    unread = any(f.severity == "error" for f in findings)
    if not unread:
        findings += _findings(site, profile, blanked, profiled.with_offsets, sorted(profiled.unlisted_codes))
        findings += _stuck_findings(site, stuck)
        findings += _shift_findings(site, *daily.ratio(np.array([i.dc_capacity_kw for i in site.inverters])))
        clock = spans.offsets(site.plant.latitude, site.resolution)
        span = (profile["last"].max() - profile["first"].min()) if seen.any() else pd.Timedelta(0)
        findings += _clock_findings(site, clock, profiled.with_offsets, span)
    return ValidationReport(str(site.path), tuple(findings), profile)


_EXACT_PEERS = 100
"""Inverters up to which each one's peers are the others exactly (the cost grows as their square)."""
_HOUR_MS = 3_600_000
_DAY_STARTS = (0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0)
"""Hours after solar midnight (by the stamps) at which the clock check may start its days."""
CLOCK_MIN_DAYS = 10
"""Days with a rise and a set at least :data:`CLOCK_MIN_SPAN` apart a month needs to be judged (per inverter, its
own days)."""
CLOCK_MIN_SPAN = pd.Timedelta(hours=4)
"""A day's shortest span from its rise to its set that centres it: the few producing hours of a polar winter day
move with clouds and the records' steps (a synthetic plant at 78 deg N read -33 min in February with any span)."""
CLOCK_MAX_DAY_LENGTH = 20.0
"""Longest day (:func:`client.solar.quality.day_length`) whose rise and set are the sun's [h]: under the midnight
sun a tracker's output dips with clouds, not with a sunset (synthetic polar trackers read up to 25 min in June)."""
_NAT_MS = np.iinfo(np.int64).min


class _DailySums:
    """Per inverter and day, streamed over chunks: sum of P_out [kW] and of irradiance [W/m^2] over counted records."""

    def __init__(self, n_inverters: int) -> None:
        self._n = n_inverters
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, asset: np.ndarray, day: np.ndarray, power: np.ndarray, irradiance: np.ndarray) -> None:
        """Add records of inverters ``asset`` on days ``day`` (days since 1970-01-01)."""
        cells, cell = np.unique(day * self._n + asset, return_inverse=True)
        self._parts.append((cells, np.bincount(cell, power), np.bincount(cell, irradiance)))

    def ratio(self, dc_capacity_kw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The first day (days since 1970-01-01) and per inverter and day from it, sum P_out / (P_dc sum G / 1000) [-].

        A daily performance ratio of the counted records (IEC 61724-1 PR's form, its time step
        cancelling); NaN on a day without any.
        """
        parts = [np.concatenate([part[i] for part in self._parts]) for i in range(3)] if self._parts else []
        if not parts or not len(parts[0]):
            return np.zeros(0, dtype=np.int64), np.zeros((self._n, 0))
        cells, cell = np.unique(parts[0], return_inverse=True)
        power, irradiance = np.bincount(cell, parts[1]), np.bincount(cell, parts[2])
        day, asset = np.divmod(cells, self._n)
        first = day.min()
        sums = np.zeros((2, self._n, int(day.max() - first) + 1))
        sums[0, asset, day - first], sums[1, asset, day - first] = power, irradiance
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.arange(first, first + sums.shape[2]), sums[0] / (dc_capacity_kw[:, None] * sums[1] / 1000.0)


class ClockOffsets(NamedTuple):
    """Median :func:`client.solar.quality.midday_offset` per calendar month [min], of the plant and of each inverter."""

    plant: pd.Series  # by month: the median over days of each day's median over the inverters
    inverters: pd.DataFrame  # months x inverters (their index in site.toml): each one's median over its days


class _ProductionSpans:
    """Per inverter and day, streamed over chunks: its first rise into production and its last set [ms].

    Days are local solar days (by the stamps) starting at each of :data:`_DAY_STARTS` hours after
    solar midnight, and each inverter's producing records are counted by month and the stamps' solar
    hour: at the end each inverter-month's days start at solar midnight, or, where the hours around
    another start hold less than half as many, there, so that a day's production stays in one day
    even when an inverter's stamps are half a day off the sun, for part of the export or all of it.
    """

    def __init__(self, n_inverters: int, longitude: float) -> None:
        self._n, self._longitude = n_inverters, longitude
        self._rises: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in _DAY_STARTS]
        self._sets: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in _DAY_STARTS]
        self._hours: list[tuple[np.ndarray, np.ndarray]] = []  # (month, inverter, solar hour) keys and counts

    def add(
        self, asset: np.ndarray, stamp: np.ndarray, producing: np.ndarray, rises: np.ndarray, sets: np.ndarray
    ) -> None:
        """Add records of inverters ``asset`` (stamps in ms): which produce, and which rise into or set out of it."""
        solar_ms = stamp[producing] + self._longitude / 15.0 * _HOUR_MS
        hour = np.floor(solar_ms / _HOUR_MS % 24.0).astype(np.int64)
        cell = self._month_cell(solar_day(stamp[producing], self._longitude), asset[producing])
        self._hours.append(np.unique(cell * 24 + hour, return_counts=True))
        for k, start in enumerate(_DAY_STARTS):
            for edges, found, reduce in ((rises, self._rises, np.minimum), (sets, self._sets, np.maximum)):
                day = solar_day(stamp[edges], self._longitude, start)
                found[k].append(_extreme(day * self._n + asset[edges], stamp[edges], reduce))

    def _month_cell(self, day: np.ndarray, inverter: np.ndarray) -> np.ndarray:
        """A key per inverter and calendar month of ``day`` (days since 1970-01-01)."""
        month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        return month * self._n + inverter

    def _starts(self) -> tuple[np.ndarray, np.ndarray]:
        """Per inverter-month key (sorted), the index into :data:`_DAY_STARTS` its days start at."""
        keys = np.concatenate([np.zeros(0, dtype=np.int64), *(part[0] for part in self._hours)])
        counts = np.concatenate([np.zeros(0, dtype=np.int64), *(part[1] for part in self._hours)])
        keys, at = np.unique(keys, return_inverse=True)
        counts = np.bincount(at, counts)
        cells, cell = np.unique(keys // 24, return_inverse=True)
        by_hour = np.zeros((len(cells), 24))
        by_hour[cell, keys % 24] = counts
        quiet = np.stack([by_hour[:, int(start) - 1] + by_hour[:, int(start)] for start in _DAY_STARTS], axis=1)
        # Solar midnight by the stamps unless another start is clearly quieter: a few spikes at night must not
        # move the day's edge off the middle of the night, where they fall on either side alike.
        chosen = np.where(quiet.min(axis=1) < quiet[:, 0] / 2, quiet.argmin(axis=1), 0)
        return cells, chosen

    def offsets(self, latitude: float, resolution: pd.Timedelta) -> ClockOffsets:
        """The monthly medians of the inverter-days with a rise and a set, each month of :data:`CLOCK_MIN_DAYS` days.

        A day is judged when its rise and set are :data:`CLOCK_MIN_SPAN` or more apart and the sun
        sets on it (:data:`CLOCK_MAX_DAY_LENGTH`): a day whose dawn or dusk fell in a gap in the
        data has no span to centre, nor a day without a night. The plant's day is the median of its
        inverters', so that one day of many inverters does not make a month; each inverter's offsets
        are taken about their own circular mean.
        """
        month_cells, chosen = self._starts()
        first, last, inverter = [], [], []
        for k in range(len(_DAY_STARTS)):
            merged = []
            for parts, reduce in ((self._rises[k], np.minimum), (self._sets[k], np.maximum)):
                cells = np.concatenate([np.zeros(0, dtype=np.int64), *(part[0] for part in parts)])
                stamps = np.concatenate([np.zeros(0, dtype=np.int64), *(part[1] for part in parts)])
                merged.append(_extreme(cells, stamps, reduce))
            (rise_cells, rise), (set_cells, set_) = merged
            cells, in_rises, in_sets = np.intersect1d(rise_cells, set_cells, return_indices=True)
            key = self._month_cell(cells // self._n, cells % self._n)  # the month of the day this one begins on
            at = np.clip(np.searchsorted(month_cells, key), 0, max(len(month_cells) - 1, 0))
            mine = (month_cells[at] == key) & (chosen[at] == k) if len(month_cells) else np.zeros(len(key), bool)
            first.append(rise[in_rises][mine])
            last.append(set_[in_sets][mine])
            inverter.append(cells[mine] % self._n)
        first_ms, last_ms, unit = (np.concatenate(values) for values in (first, last, inverter))
        day = solar_day((first_ms + last_ms) / 2.0, self._longitude)
        judged = (last_ms - first_ms >= CLOCK_MIN_SPAN / pd.Timedelta(milliseconds=1)) & (
            day_length(day, latitude) <= CLOCK_MAX_DAY_LENGTH
        )
        days = pd.DataFrame(
            {
                "month": day[judged].astype("datetime64[D]").astype("datetime64[M]"),
                "day": day[judged],
                "inverter": unit[judged],
                "offset": midday_offset(first_ms[judged], last_ms[judged], self._longitude, resolution),
            }
        )
        days["offset"] = days.groupby("inverter")["offset"].transform(about_their_circular_mean)
        daily = days.groupby(["month", "day"])["offset"].median().groupby("month")
        plant = daily.median()[daily.size() >= CLOCK_MIN_DAYS]
        own = days.groupby(["month", "inverter"])["offset"]
        inverters = own.median()[own.size() >= CLOCK_MIN_DAYS].unstack("inverter")
        return ClockOffsets(plant, inverters)


def _extreme(cell_of: np.ndarray, stamp: np.ndarray, reduce: np.ufunc) -> tuple[np.ndarray, np.ndarray]:
    """Per (day, inverter) cell, the earliest (``np.minimum``) or latest (``np.maximum``) stamp."""
    cells, cell = np.unique(cell_of, return_inverse=True)
    times = np.zeros(len(cells), dtype=np.int64)
    times[cell] = stamp  # any one of the cell's stamps, then the extreme of them all
    reduce.at(times, cell, stamp)
    return cells, times


@dataclass
class _StuckRuns:
    """Per inverter, over chunks: stuck records, the longest stuck run (records, value, first, last [ms]).

    A run open at an inverter's last record so far (``open_records`` of ``open_value`` from
    ``open_first``; 0 records: none) goes on in the next chunk when its first record is stuck at
    the same value.
    """

    records: np.ndarray
    longest: np.ndarray
    value: np.ndarray
    first: np.ndarray
    last: np.ndarray
    open_records: np.ndarray
    open_value: np.ndarray
    open_first: np.ndarray

    @classmethod
    def empty(cls, n_inverters: int) -> _StuckRuns:
        """No stuck record seen for any of ``n_inverters`` inverters."""
        zeros = [np.zeros(n_inverters, dtype=np.int64) for _ in range(6)]
        nan = [np.full(n_inverters, np.nan) for _ in range(2)]
        return cls(zeros[0], zeros[1], nan[0], zeros[2], zeros[3], zeros[4], nan[1], zeros[5])

    def add(self, asset: np.ndarray, values: np.ndarray, stamp: np.ndarray, flagged: np.ndarray) -> None:
        """Add a chunk's records and stuck flags (by inverter, then time; after the last chunk's), stamps in ms."""
        self.records += np.bincount(asset[flagged], minlength=len(self.records))
        rows = np.flatnonzero(flagged)
        # A stuck run: flagged rows one after the other, of one inverter, at one value.
        starts = np.ones(len(rows), dtype=bool)
        starts[1:] = (np.diff(rows) != 1) | (np.diff(asset[rows]) != 0) | (values[rows[1:]] != values[rows[:-1]])
        begin = np.flatnonzero(starts)
        first_row = np.ones(len(asset), dtype=bool)  # each inverter's first record in the chunk
        first_row[1:] = asset[1:] != asset[:-1]
        last_row = np.roll(first_row, -1)
        for b, e in itertools.pairwise([*begin, len(rows)]):
            inverter, value = asset[rows[b]], values[rows[b]]
            records, first = e - b, stamp[rows[b]]
            if first_row[rows[b]] and self.open_records[inverter] and self.open_value[inverter] == value:
                records, first = records + self.open_records[inverter], self.open_first[inverter]
            if records > self.longest[inverter]:
                self.longest[inverter], self.value[inverter] = records, value
                self.first[inverter], self.last[inverter] = first, stamp[rows[e - 1]]
            if last_row[rows[e - 1]]:
                self.open_records[inverter], self.open_value[inverter] = records, value
                self.open_first[inverter] = first
        # An inverter whose last record here is not stuck has no run open.
        seen = asset[last_row]
        self.open_records[seen] = np.where(flagged[last_row], self.open_records[seen], 0)


@dataclass
class _Profile:
    """What one pass tallies per inverter (``counts`` by name of _COUNTS), and about the export as a whole."""

    counts: dict[str, np.ndarray]
    times: TimeOrder
    blanked: dict[str, np.ndarray]  # per channel: values not numbers, outside its range, all (blanked_tally)
    unlisted_codes: set[int]
    with_offsets: bool  # every timestamp states its UTC offset
    event_log: EventLogCounts | None = None  # what reading [events] left out, when it could be read

    @classmethod
    def empty(cls, site: SolarSiteConfig) -> _Profile:
        """Nothing read yet."""
        n = len(site.inverters)
        counts = {name: np.zeros(n, dtype=np.int64) for name in _COUNTS}
        blanked = {name: np.zeros(4, dtype=np.int64) for name in CHANNELS if name in site.columns}
        return cls(counts, TimeOrder.empty(n), blanked, set(), True)


def _canonical_frames(
    site: SolarSiteConfig, chunk_rows: int, progress: Progress, profiled: _Profile, findings: list[Finding]
) -> Iterator[pd.DataFrame]:
    """The export's canonical chunks, profiled (in export order) as they pass; a file that cannot be read, a finding."""
    ac_kw = np.array([inverter.ac_capacity_kw for inverter in site.inverters])
    listed = np.array([*site.available_codes, *(c for codes in site.loss_codes.values() for c in codes)], dtype=float)
    counts, n = profiled.counts, len(site.inverters)
    clock = LocalClock(n, site.resolution)
    events = None
    if site.events is not None:
        events, profiled.event_log, unread = checked_event_log(
            site.events, site.asset_ids, site.timezone, site.available_codes
        )
        findings += unread
    for file in site.files:
        try:
            for i, raw in enumerate(raw_chunks(site, file, chunk_rows, progress)):
                if i == 0:
                    read = site.utc_offsets == "read"  # "ignore": read as if stated without
                    profiled.with_offsets &= read and states_utc_offsets(raw[site.columns[TIME]])
                frame = canonicalise(raw, site, file, clock, events)
                for name in profiled.blanked:
                    values = channel_values(raw[site.columns[name]], name, site, CHANNELS)
                    profiled.blanked[name] += blanked_tally(values)
                asset = frame[ASSET_ID].cat.codes.to_numpy().astype(np.int64)
                stamp = frame[TIME].dt.as_unit("ms").array.asi8
                bad_time = frame[TIME].isna().to_numpy()
                with np.errstate(invalid="ignore"):
                    over = frame["P_out"].to_numpy() > 1.2 * ac_kw[asset]
                unlisted = blank = np.zeros(len(frame), dtype=bool)
                if STATUS in frame:
                    status = frame[STATUS].to_numpy()
                    blank = np.isnan(status) & ~bad_time
                    unlisted = np.isfinite(status) & ~np.isin(status, listed)
                    profiled.unlisted_codes.update(int(code) for code in np.unique(status[unlisted])[:20])
                for name, rows in (
                    ("rows", slice(None)),
                    ("bad_time", bad_time),
                    ("power_over_ac", over),
                    ("unlisted_status", unlisted),
                    ("blank_status", blank),
                ):
                    counts[name] += np.bincount(asset[rows], minlength=n)
                profiled.times.add(asset[~bad_time], stamp[~bad_time])
                yield frame
        except READ_ERRORS as error:
            findings.append(
                read_error_finding(file, error, site.file_format, "fix [[inverters]] or [columns] in site.toml")
            )


def _findings(
    site: SolarSiteConfig,
    profile: pd.DataFrame,
    blanked: dict[str, np.ndarray],
    with_offsets: bool,
    unlisted: list[int],
) -> list[Finding]:
    files = ", ".join(str(f) for f in site.files)
    out = []
    if not profile["rows"].sum():
        problem = "the export holds no records of the inverters [[inverters]] lists"
        fix = "export the inverters' records, and list each by the id the export gives it"
        return [Finding("error", files, site.mapped_columns[ASSET_ID], "", problem, fix)]
    for inverter, row in profile.iterrows():
        rows = int(row["rows"])
        if rows == 0:
            fix = "check the inverter's id in [[inverters]] against the export"
            out.append(Finding("warning", files, site.mapped_columns[ASSET_ID], str(inverter), NO_RECORDS, fix))
            continue
        share = row["power_over_ac"] / rows
        if share > UNIT_SUSPICION_SHARE:
            out.append(
                Finding(
                    "error",
                    files,
                    site.columns["P_out"],
                    str(inverter),
                    f"AC power is above 120 % of the inverter's ac_capacity_kw in {share:.0%} of records: the unit "
                    "or the capacity looks wrong",
                    "set [units] P_out (W, kW or MW) or the inverter's ac_capacity_kw in [[inverters]]",
                )
            )
        if row["bad_time"]:
            out.append(
                Finding(
                    "error" if row["bad_time"] > LATE_SHARE_ERROR * rows else "warning",
                    files,
                    site.columns[TIME],
                    str(inverter),
                    f"{int(row['bad_time'])} of {rows} records have no readable time and are left out"
                    + (": no record has a time" if row["bad_time"] == rows else ""),
                    UNREADABLE_TIME_FIX,
                )
            )
        if row["duplicates"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.columns[TIME],
                    str(inverter),
                    f"{int(row['duplicates'])} records repeat a time of the same inverter: only the first record "
                    "of each time is kept",
                    "export each inverter's record once per time",
                )
            )
        out += late_records_finding(files, site.columns[TIME], "inverter", str(inverter), row["late"], rows)
    named = {f.column for f in out if f.severity == "error"}  # a wrong unit, say: its values need no second error
    for name, tally in blanked.items():
        if site.columns[name] not in named:
            unit = site.units.get(name, CHANNELS[name].unit)
            out += blanked_values_findings(files, site.columns[name], name, CHANNELS[name], unit, tally)
    if unlisted:
        out.append(
            Finding(
                "warning",
                files if site.events is None else ", ".join(str(file) for file in site.events.files),
                site.columns[STATUS] if site.events is None else site.events.columns["code"],
                "",
                f"status codes {unlisted} are neither available nor a loss category in [status]: their records count "
                "as unavailable without a category",
                "list each code under [status] available or its loss category",
            )
        )
    if STATUS in site.columns:
        read = int(profile["rows"].sum() - profile["bad_time"].sum())
        out += blank_status_findings(files, site.columns[STATUS], int(profile["blank_status"].sum()), read)
    if not with_offsets and site.timezone == "UTC":
        out.append(
            Finding(
                "warning",
                files,
                site.columns[TIME],
                "",
                "timestamps state no UTC offset and [site] timezone is UTC",
                "set [site] timezone to the zone the export's clock runs in, if it is not UTC",
            )
        )
    return out


_TEMPERATURE_FALLBACK = " (its cell temperature, hence expected power, then comes from the other temperature, if any)"


def _stuck_findings(site: SolarSiteConfig, stuck: dict[str, _StuckRuns]) -> list[Finding]:
    """A finding per inverter whose AC power is stuck, and one per plant sensor (irradiance, temperatures)."""
    files = ", ".join(str(f) for f in site.files)
    (power, runs), (measured, sensor), *temperatures = stuck.items()
    out = []

    def where(runs: _StuckRuns, i: int) -> str:
        first, last = (pd.Timestamp(int(t), unit="ms", tz="UTC") for t in (runs.first[i], runs.last[i]))
        hours = (last - first + site.resolution) / pd.Timedelta(hours=1)
        span = f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
        return f"{span} from {first:%Y-%m-%d %H:%M} UTC"

    for i, inverter in enumerate(site.inverters):
        if runs.records[i]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.columns[power],
                    inverter.inverter_id,
                    f"AC power is stuck in {runs.records[i]} records (the longest run: {runs.value[i]:g} kW for "
                    f"{where(runs, i)}); the plant's summary leaves them out",
                    "check the inverter's logger or meter for frozen readings",
                )
            )
    # The plant's sensors repeat on every inverter's row: one finding each, from the inverter with the longest run.
    sensors = {
        measured: ("irradiance is stuck", "W/m^2", "", "the irradiance sensor"),
        "T_mod": ("module temperature is stuck in daylight", "degC", _TEMPERATURE_FALLBACK, "the temperature sensor"),
        "T_amb": ("ambient temperature is stuck in daylight", "degC", _TEMPERATURE_FALLBACK, "the temperature sensor"),
    }
    for name, frozen in [(measured, sensor), *temperatures]:
        if frozen.records.any():
            i = int(np.argmax(frozen.longest))
            what, unit, note, device = sensors[name]
            out.append(
                Finding(
                    "warning",
                    files,
                    site.columns[name],
                    "",
                    f"{what} in up to {frozen.records.max()} records of an inverter (the longest run: "
                    f"{frozen.value[i]:g} {unit} for {where(frozen, i)}); the plant's summary leaves them out{note}",
                    f"check {device} and its logger for frozen readings",
                )
            )
    return out


def _shift_findings(site: SolarSiteConfig, days: np.ndarray, daily_ratio: np.ndarray) -> list[Finding]:
    """A finding per inverter whose daily performance ratio falls by SHIFT_MIN_DROP or more against its peers'.

    Each inverter's daily ratio is divided by the median of the other inverters' on the day (of all
    of them beyond :data:`_EXACT_PEERS` inverters, where one cannot move it): the plant's weather,
    season and soiling cancel, and an inverter that was low all along does not hide another's
    fall; what is left is the inverter's own (:func:`level_shift`). A plant of one inverter has no
    peers and no shift finding.
    """
    n = len(site.inverters)
    if n < 2:
        return []
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a day no peer has a ratio on: NaN, as it should be
        if n <= _EXACT_PEERS:
            peers = np.array([np.nanmedian(np.delete(daily_ratio, i, axis=0), axis=0) for i in range(n)])
        else:
            peers = np.nanmedian(daily_ratio, axis=0)
        relative = daily_ratio / peers
    files = ", ".join(str(f) for f in site.files)
    out = []
    for inverter, ratio in zip(site.inverters, relative, strict=True):
        day, step = level_shift(ratio)
        if day >= 0 and step <= -SHIFT_MIN_DROP:
            date = pd.Timestamp(int(days[day]), unit="D")
            out.append(
                Finding(
                    "warning",
                    files,
                    site.columns["P_out"],
                    inverter.inverter_id,
                    f"its daily energy over the irradiance falls by {-step:.0%} against the plant's other inverters "
                    f"from {date:%Y-%m-%d} (median of the {SHIFT_WINDOW_DAYS} days from then over the "
                    f"{SHIFT_WINDOW_DAYS} before): strings or a fuse lost, or a fault",
                    "check the inverter's strings, fuses and trackers around that day",
                )
            )
    return out


_DST_MINUTES = (CLOCK_TOLERANCE_MINUTES, 90.0)
"""Offsets of the months off the sun that read as daylight saving time where the other months are right [min]:
late by about an hour, a month in which the clocks change half-way by less."""
_SUMMER_MONTHS, _WINTER_MONTHS = (3, 4, 5, 6, 7, 8, 9, 10, 11), (11, 12, 1, 2, 3)
"""Months in which the northern hemisphere's clocks may keep daylight saving time, and those in which they may not
(all or most of the month): a right one of the latter beside months off in the former reads as DST."""
CLOCK_CHECK_MIN_SPAN = pd.Timedelta(days=60)
"""An export this long whose clock could not be checked says so."""


def _clock_findings(
    site: SolarSiteConfig, clock: ClockOffsets, with_offsets: bool, span: pd.Timedelta
) -> list[Finding]:
    """Findings when months of the export centre the plant's, or one inverter's, production away from solar noon.

    Months beyond :data:`client.solar.quality.CLOCK_TOLERANCE_MINUTES` from the sun are named, as
    runs of consecutive months: the plant's where no judged inverter is right, else each inverter's
    that is off while another is right (one logger on its own clock; two that disagree are both
    named, each with its own minutes). Where the plant's other months are right, every month off is
    about an hour late and lies in the hemisphere's summer, and some right month in its winter, the
    logger keeps daylight saving time. An export of two months or more whose clock could not be
    judged at all says so.
    """
    files = ", ".join(str(f) for f in site.files)
    monthly = clock.plant
    if monthly.empty:
        if span < CLOCK_CHECK_MIN_SPAN:
            return []
        problem = (
            "the clock could not be checked against the sun: no month has "
            f"{CLOCK_MIN_DAYS} days whose production rises above {PRODUCING_SHARE:.0%} of the AC rating "
            "from a record below it and sets again"
        )
        fix = "export the night's records (or those below that power) as well, or check the logger's clock by hand"
        return [Finding("warning", files, site.columns[TIME], "", problem, fix)]
    out = []
    # Each inverter's months against the sun; a month in which some judged inverter is right is no plant's.
    inverters_off = clock.inverters.abs() > CLOCK_TOLERANCE_MINUTES
    some_right = (clock.inverters.notna() & ~inverters_off).any(axis=1).reindex(monthly.index, fill_value=False)
    off = (monthly.abs() > CLOCK_TOLERANCE_MINUTES) & ~some_right
    consequence = (
        "the plant's summary cuts its days at the wrong hours"
        if "G_i" in site.columns  # the sensor's stamps keep the same clock: only the days' edges move
        else "the plant's summary transposes its global irradiance with the sun's position at them"
    )
    if off.any():
        others = f"; {monthly[~off].median():+.0f} min in the other months" if (~off).any() else ""
        problem = (
            f"the plant's production is centred off solar noon in {_runs(monthly, off)} (monthly medians of the "
            f"middle between each day's rise into production and its set{others}): the stamps are off the sun's "
            f"clock then, and {consequence}"
        )
        out.append(
            Finding("warning", files, site.columns[TIME], "", problem, _clock_fix(site, monthly, off, with_offsets))
        )
    if len(site.inverters) < 2:
        return out
    for i, inverter in enumerate(site.inverters):
        if i not in clock.inverters:
            continue
        own = clock.inverters[i].dropna()
        alone = inverters_off[i].reindex(own.index, fill_value=False) & ~off.reindex(own.index, fill_value=False)
        if alone.any():
            out.append(
                Finding(
                    "warning",
                    files,
                    site.columns[TIME],
                    inverter.inverter_id,
                    f"its production is centred off solar noon in {_runs(own, alone)} (monthly medians of its own "
                    "days), while another inverter's is on it: its records are stamped by another clock",
                    "check the clock of the inverter's logger, or the time column its rows take",
                )
            )
    return out


def _runs(monthly: pd.Series, off: pd.Series) -> str:
    """The months ``off`` as runs of consecutive months of one sign, with medians: "2011-04 to 2011-10 (+50 min)"."""
    months = monthly.index.to_numpy().astype("datetime64[M]").astype(np.int64)
    flags, sign = off.to_numpy(), np.sign(monthly.to_numpy())
    run = np.cumsum(np.r_[True, (np.diff(months) != 1) | (flags[1:] != flags[:-1]) | (sign[1:] != sign[:-1])])
    periods = []
    for _, group in monthly[flags].groupby(run[flags]):
        first, last = (pd.Timestamp(group.index[i]).strftime("%Y-%m") for i in (0, -1))
        periods.append(f"{first if first == last else f'{first} to {last}'} ({group.median():+.0f} min)")
    return ", ".join(periods[:6]) + (f" and {len(periods) - 6} more periods" if len(periods) > 6 else "")


def _clock_fix(site: SolarSiteConfig, monthly: pd.Series, off: pd.Series, with_offsets: bool) -> str:
    """What to change for the plant's months off the sun: daylight saving time, or the zone, or the clock."""
    low, high = _DST_MINUTES
    summer, winter = _SUMMER_MONTHS, _WINTER_MONTHS
    if site.plant.latitude < 0:  # the seasons six months on
        summer, winter = (tuple((m + 5) % 12 + 1 for m in months) for months in (summer, winter))
    month = pd.DatetimeIndex(monthly.index).month
    summer_hour = bool(monthly[off].between(low, high).all()) and bool(np.isin(month[off.to_numpy()], summer).all())
    daylight_saving = summer_hour and bool(np.isin(month[~off.to_numpy()], winter).any())
    dst_fix = (
        'set [source] utc_offsets = "ignore" and [site] timezone to its IANA zone (e.g. "America/Denver")'
        if with_offsets
        else f'set [site] timezone (now {site.timezone!r}) to its IANA zone, which has it (e.g. "Europe/Berlin")'
    )
    if daylight_saving:
        return (
            f"the logger keeps daylight saving time{' but the stamps state fixed offsets' if with_offsets else ''}: "
            + dst_fix
        )
    if summer_hour and not (~off).any():  # an export of summer months only: no winter month to tell
        return "if the logger keeps daylight saving time, " + dst_fix + "; else check its clock"
    if with_offsets:
        return "check the logger's clock and the UTC offsets its stamps state"
    return f"set [site] timezone (now {site.timezone!r}) to the zone the logger's clock keeps, or check the clock"
