"""The operator's site.toml: where the SCADA export is, how its columns map, what the turbines are.

Example::

    [site]
    kind = "wind"                # the default; a solar site.toml is read by client/solar/site_config.py
    name = "operator-03"
    timezone = "Europe/Berlin"   # zone of timestamps that carry no UTC offset
    elevation_m = 120.0          # for air pressure when the export has none

    [source]
    files = ["scada/*.csv"]      # relative to site.toml; globs allowed
    format = "csv"               # csv | parquet
    resolution = "10min"         # "1s" or "1min" exports are averaged to 10-min means on site
    layout = "long"              # or "wide": one column per turbine per signal, named with {asset}
    only_listed_turbines = false # true: an export shared with other turbines; their rows are left out
    delimiter = ";"
    decimal = ","

    [columns]                    # canonical name = the export's column
    time = "Timestamp"
    asset_id = "Turbine"
    WTUR_W = "ActivePower"
    WMET_HorWdSpd = "WindSpeed"
    WTUR_TurSt = "Status"

    [units]                      # unit of each exported channel (canonical unit when absent)
    WTUR_W = "W"

    [sentinels]                  # values the export writes for "missing", in the export's units
    WMET_EnvTmp = [-273.2]

    [status]
    normal = [0]                 # status codes that mean normal operation (default: full_performance)

    [status.categories]          # optional: IEC 61400-26-1 information categories (client/schema.py)
    full_performance = [0]
    forced_outage = [1, 4, 41]

    [status.components]          # optional: forced-outage codes that are failures of a component
    gearbox = [41]

    [policy]                     # optional, see client/policy.py
    min_participants = 5

    [member]                     # needed to take part in rounds (protos/roster.py)
    name = "operator-03"         # the consortium member (legal operator) this site speaks for
    key = "consortium/operator-03.member.key"   # its identity key; never leaves the site
    roster = "consortium/roster.json"           # the roster the operator installed
    roster_sha256 = "5f0c..."    # the roster's fingerprint, as the operator accepted it

    [[turbines]]
    asset_id = "T01"
    model = "E-82/2300"
    rated_power_kw = 2300.0
    rotor_diameter_m = 82.0
    hub_height_m = 98.0
    regulation = "pitch"         # or "stall": how density normalisation applies
    iec_wind_class = "IIA"       # optional
    commissioning_date = 2012-05-01  # optional: age bands of failure rates
    anemometer = "nacelle"       # or "mast": where WMET_HorWdSpd is measured (cohorts never mix them)
    # optional, nacelle only: its transfer function to free stream (IEC 61400-12-2), linear between points
    nacelle_transfer_function = { nacelle_m_s = [3.0, 8.0, 16.0], free_stream_m_s = [3.3, 8.6, 17.0] }

Turbine metadata never leaves the site. Every key, its type, default and meaning: docs/site-toml.md,
generated from the declarations below (``python -m client.site_config_reference``).
"""

from __future__ import annotations

import codecs
import datetime
import math
import re
import tomllib
import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.nacelle_transfer import NacelleTransferFunction
from client.policy import POLICY_SETTINGS, SitePolicy, parse_policy
from client.schema import ASSET_ID, CHANNELS, REQUIRED, STATUS, TIME, UNIT_CONVERSIONS, Channel
from client.settings import NO_DEFAULT, Setting, component_failure_codes, read_table, unknown_keys
from protos.domain import AVAILABILITY_CATEGORIES, COMPONENTS, RECORD_PERIOD
from protos.fleetbench.v1 import spec_pb2
from protos.roster import Roster, RosterError, public_bytes, read_member_key, read_roster

FORMATS = ("csv", "parquet")
REGULATIONS = ("pitch", "stall")
ANEMOMETERS = ("nacelle", "mast")  # behind the rotor on the nacelle, or free stream on a met mast
LAYOUTS = ("long", "wide")  # one row per turbine and time, or one column per turbine and signal
MAX_HUB_HEIGHT_M = 300.0  # [m], twice the tallest hubs built: a larger value is in feet or a typo

COLUMNS: dict[str, str] = {
    TIME: "the record's timestamp; one without a UTC offset is read in `[site] timezone`",
    ASSET_ID: "the turbine's `asset_id` (a wide export has no such column: its columns carry `{asset}`)",
    STATUS: "the turbine's status code (see `[status]`)",
    **{name: channel.description for name, channel in CHANNELS.items()},
}
"""Canonical names [columns] maps to the export's columns, with what each holds."""


class SiteConfigError(ValueError):
    """A site.toml that cannot be used; the message lists every problem and its fix."""


@dataclass(frozen=True)
class Turbine:
    """Static metadata of one turbine."""

    asset_id: str
    model: str
    rated_power_kw: float
    rotor_diameter_m: float
    hub_height_m: float
    regulation: str = "pitch"  # "pitch" (active power control) or "stall"
    iec_wind_class: str = ""  # IEC 61400-1 class ("I", "II", "III", "S"), "" when unknown
    commissioning_date: pd.Timestamp | None = None  # UTC; gives the turbine's age for failure rates
    anemometer: str = "nacelle"  # where WMET_HorWdSpd is measured: "nacelle" or "mast"
    nacelle_transfer_function: NacelleTransferFunction | None = None  # nacelle only (IEC 61400-12-2)

    @property
    def wind_speed_reference(self) -> spec_pb2.WindSpeedReference:
        """The reference of the turbine's wind speed, as the spec's cohorts name it."""
        if self.anemometer == "mast":
            return spec_pb2.MET_MAST
        return spec_pb2.NACELLE_TRANSFER_FUNCTION if self.nacelle_transfer_function else spec_pb2.NACELLE_ANEMOMETER

    @property
    def swept_area_m2(self) -> float:
        """Rotor swept area A = pi D^2 / 4 [m^2]."""
        return math.pi * self.rotor_diameter_m**2 / 4.0

    @property
    def specific_power(self) -> float:
        """Rated power per swept area [W/m^2]."""
        return self.rated_power_kw * 1e3 / self.swept_area_m2


def _choices(values: tuple[str, ...]) -> str:
    """The allowed values of a string setting, as its meaning in the reference lists them."""
    return " or ".join(f'`"{value}"`' for value in values)


KINDS = ("wind", "solar")

SITE_SETTINGS = (
    Setting(
        "kind",
        "string",
        f"what the site is: {_choices(KINDS)}; a solar site.toml has its own tables (docs/site-toml.md, Solar sites)",
        "wind",
    ),
    Setting("name", "string", "the site's name; absent: the name of the folder holding site.toml", None),
    Setting("timezone", "string", "IANA zone of timestamps that carry no UTC offset (DST included)", "UTC"),
    Setting(
        "elevation_m",
        "float",
        "elevation above sea level, for air pressure (ISO standard atmosphere); required when no pressure column "
        "(`WMET_EnvPres`) is mapped",
        None,
        "m",
    ),
)
ENCODING_SETTING = Setting(
    "encoding",
    "string",
    'the files\' text encoding: `"cp1252"` for a Windows export (Excel\'s CSV), `"latin-1"`, `"utf-16"`, ... '
    "(a UTF-8 byte-order mark is read either way)",
    "utf-8",
)
SOURCE_SETTINGS = (
    Setting(
        "files",
        "string or array of strings",
        "the SCADA export: paths or globs relative to site.toml, each matching at least one file, read in turn "
        "(a glob's matches in natural order, export_9 before export_10): list them in time order",
    ),
    Setting("format", "string", "the files' format: " + _choices(FORMATS), "csv"),
    Setting("delimiter", "string", 'CSV column delimiter, one character (`"\\t"` for a tab)', ","),
    Setting("decimal", "string", 'CSV decimal mark, one character (`","` for a decimal comma)', "."),
    ENCODING_SETTING,
    Setting(
        "thousands",
        "string",
        'the one character the export groups thousands with: `"."` in 1.234,5 (with `decimal = ","`), `","` in '
        '1,234.5 (quoted, "1,234.5", where it is the delimiter too); not the decimal mark; absent: numbers have no '
        "thousands separator",
        None,
    ),
    Setting(
        "resolution",
        "string",
        'period of the export records, dividing 10 minutes (`"1s"`, `"1min"`, ...); finer data are averaged to '
        "10-min means on site",
        "10min",
    ),
    Setting(
        "layout",
        "string",
        '`"long"`: one row per turbine and time; `"wide"`: one column per turbine and signal, each named in '
        "`[columns]` with `{asset}`",
        "long",
    ),
    Setting(
        "only_listed_turbines",
        "boolean",
        "true: the export is shared with other turbines, whose rows are left out (only `[[turbines]]` are read)",
        False,
    ),
    Setting(
        "time_format",
        "string",
        'the time column\'s format when it is not ISO 8601, in strftime codes: `"%m/%d/%Y %H:%M"` for '
        '1/5/2022 13:45, `"%d.%m.%Y %H:%M"` for 05.01.2022 13:45 (`%z` for an offset); times written as numbers: '
        '`"unix"` (seconds since 1970-01-01 UTC), `"unix_ms"` (milliseconds), `"excel"` (Excel\'s serial days, in '
        "the site's local time); absent: ISO 8601",
        None,
    ),
    Setting(
        "timestamps",
        "string",
        '`"start"`: a record\'s timestamp marks the start of the interval its values cover (10:00 for 10:00-10:10); '
        '`"end"`: its end (10:10, as many loggers write), read as the start by moving it back one `resolution`',
        "start",
    ),
    Setting(
        "utc_offsets",
        "string",
        '`"read"`: a timestamp\'s UTC offset says when it was; `"ignore"`: the offsets are not the logger\'s clock\'s '
        "(a clock on daylight saving time stamped with one fixed offset): they are dropped and the wall-clock time "
        "read in `[site] timezone`",
        "read",
    ),
)
TIMESTAMP_MARKS = ("start", "end")
"""What a record's timestamp marks of the interval it covers ([source] timestamps)."""
UTC_OFFSET_USES = ("read", "ignore")
"""What the UTC offsets an export's timestamps state are taken for ([source] utc_offsets)."""
STATUS_SETTINGS = (
    Setting(
        "normal",
        "array of integers",
        "status codes that mean normal operation; needed when a status column is mapped; absent: the codes of "
        "`[status.categories] full_performance`",
        None,
    ),
    Setting("categories", "table", "IEC 61400-26-1 information category = its status codes (below)", {}),
    Setting("components", "table", "component = the forced-outage codes that are its failures (below)", {}),
)
EVENT_COLUMNS = ("asset_id", "start", "end", "transition", "code")
"""The columns an event log maps: the unit's id, when the event started and when it cleared (or whether a row
raises or clears an alarm), its status code."""
_EVENT_COLUMN_WHAT = {
    "asset_id": "the unit's id",
    "start": "when an event started",
    "end": "when it cleared",
    "transition": "whether a row raises or clears its alarm",
    "code": "its status code",
}
_OPTIONAL_EVENT_COLUMNS = ("end", "transition")
RAISED = ("raised", "on", "active", "set", "came", "kommt")
"""[events] raised by default: transitions of a row that raises its alarm (lower case)."""
CLEARED = ("cleared", "off", "inactive", "reset", "went", "geht")
"""[events] cleared by default."""
IGNORED = ("acknowledged", "ack", "comment", "quittiert", "quit")
"""[events] ignored by default: transitions of a row that does neither."""
EVENT_SETTINGS = (
    Setting(
        "files",
        "string or array of strings",
        "the units' event (alarm) log, instead of a mapped status column: paths or globs relative to site.toml; "
        "each event marks the records it overlaps with its code, the latest-starting event where several "
        "overlap; a record no event overlaps has the first normal (available) code of `[status]`",
    ),
    Setting("format", "string", "the files' format: " + _choices(FORMATS), "csv"),
    Setting("delimiter", "string", 'CSV column delimiter, one character (`"\\t"` for a tab)', ","),
    ENCODING_SETTING,
    Setting(
        "time_format",
        "string",
        'the start and end columns\' format when not ISO 8601, in strftime codes, or `"unix"`, `"unix_ms"` or '
        '`"excel"` as for `[source] time_format`',
        None,
    ),
    Setting(
        "timezone",
        "string",
        "IANA zone of the log's times that carry no UTC offset (a log kept in UTC beside an export in local "
        "time); absent: `[site] timezone`",
        None,
    ),
    Setting("asset_id", "string", "column of the unit's id (as site.toml lists the unit)"),
    Setting("start", "string", "column of when the event started (with `transition`: of each row's time)"),
    Setting(
        "end",
        "string",
        "column of when it cleared; empty: still open, it lasts to the export's end. Absent: the log lists state "
        "changes, each row's code holding until its unit's next row (the last to the export's end), a normal "
        "code ending a fault",
        None,
    ),
    Setting(
        "transition",
        "string",
        "for a log of one row per alarm raised and another per alarm cleared (no `end`): the column that says "
        "which; `start` is then each row's time, and a raise lasts until the first clear of its unit and code",
        None,
    ),
    Setting(
        "raised",
        "array of strings",
        "the `transition` values of a row that raises its alarm (any case)",
        list(RAISED),
    ),
    Setting(
        "cleared",
        "array of strings",
        "the `transition` values of a row that clears its alarm (any case)",
        list(CLEARED),
    ),
    Setting(
        "ignored",
        "array of strings",
        "the `transition` values of a row that does neither, skipped (an acknowledgement, a comment)",
        list(IGNORED),
    ),
    Setting("code", "string", "column of its integer status code, sorted by `[status]`"),
)
MEMBER_SETTINGS = (
    Setting("name", "string", "the consortium member (legal operator) this site speaks for, as the roster names it"),
    Setting("key", "string", "path of the member's identity key (PEM), relative to site.toml; never leaves the site"),
    Setting("roster", "string", "path of the roster the operator installed, relative to site.toml"),
    Setting("roster_sha256", "string", "the roster's SHA-256 fingerprint, as the operator accepted it"),
)
TURBINE_SETTINGS = (
    Setting("asset_id", "string", "the turbine's id in the export"),
    Setting("model", "string", "the turbine model, as the spec's cohorts name it (e.g. `E-82/2300`)"),
    Setting("rated_power_kw", "float", "rated power", unit="kW"),
    Setting(
        "rotor_diameter_m", "float", "rotor diameter (rated power per swept area must be 100-2000 W/m^2)", unit="m"
    ),
    Setting("hub_height_m", "float", "hub height", unit="m"),
    Setting("regulation", "string", "how density normalisation applies: " + _choices(REGULATIONS), Turbine.regulation),
    Setting(
        "iec_wind_class",
        "string",
        'IEC 61400-1 class (`"I"`, `"IIA"`, `"S"`, ...); `""`: unknown',
        Turbine.iec_wind_class,
    ),
    Setting(
        "commissioning_date",
        "date",
        "gives the turbine's age band for failure rates; absent: its failures and turbine-years count in no age band",
        Turbine.commissioning_date,
    ),
    Setting(
        "anemometer",
        "string",
        f"where `WMET_HorWdSpd` is measured: {_choices(ANEMOMETERS)}; cohorts never mix them",
        Turbine.anemometer,
    ),
    Setting(
        "nacelle_transfer_function",
        "inline table",
        "nacelle only: `{ nacelle_m_s = [...], free_stream_m_s = [...] }`, its transfer function to free stream "
        "(IEC 61400-12-2), linear between the points, none outside them",
        Turbine.nacelle_transfer_function,
        "m/s",
    ),
)
SETTINGS: dict[str, tuple[Setting, ...]] = {
    "site": SITE_SETTINGS,
    "source": SOURCE_SETTINGS,
    "status": STATUS_SETTINGS,
    "events": EVENT_SETTINGS,
    "member": MEMBER_SETTINGS,
    "turbines": TURBINE_SETTINGS,
    "policy": POLICY_SETTINGS,
}
"""Every table of site.toml whose keys are settings, with its keys (the parser of each reads its tuple)."""
CHANNEL_TABLES = ("columns", "units", "sentinels")
"""The tables whose keys are canonical names (COLUMNS; CHANNELS for units and sentinels)."""


@dataclass(frozen=True)
class MemberConfig:
    """The [member] table: who this site speaks for, and the roster it pinned (checked when read)."""

    name: str
    key_path: Path  # the member's Ed25519 identity key (PEM)
    roster_path: Path
    roster_sha256: str

    def identity(self) -> tuple[Ed25519PrivateKey, Roster]:
        """The member's private key and the pinned roster.

        Raises
        ------
        RosterError
            If either file changed since the site was configured (a new roster needs a new pin).
        """
        return read_member_key(self.key_path), read_roster(self.roster_path, self.roster_sha256)


@dataclass(frozen=True)
class EventLog:
    """Where a site's event (alarm) log is and how it reads (``[events]``): the units' status instead of a column."""

    files: tuple[Path, ...]
    file_format: str
    delimiter: str
    time_format: str | None
    columns: dict[str, str]  # EVENT_COLUMNS -> the log's column
    timezone: str | None = None  # of its times without a UTC offset; None: [site] timezone
    encoding: str = "utf-8"  # of its text (CSV)
    raised: tuple[str, ...] = RAISED  # transition values (lower case) of a row that raises its alarm
    cleared: tuple[str, ...] = CLEARED  # ... and of one that clears it
    ignored: tuple[str, ...] = IGNORED  # ... and of one that does neither (an acknowledgement)


@dataclass(frozen=True)
class SiteConfig:
    """A parsed, validated site.toml."""

    path: Path
    name: str
    timezone: str
    elevation_m: float | None
    files: tuple[Path, ...]
    resolution: pd.Timedelta
    layout: str
    file_format: str
    delimiter: str
    decimal: str
    columns: dict[str, str]
    units: dict[str, str]
    normal_status_codes: tuple[int, ...]
    turbines: tuple[Turbine, ...]
    sentinels: dict[str, tuple[float, ...]] = field(default_factory=dict)
    status_categories: dict[str, tuple[int, ...]] = field(default_factory=dict)  # IEC 61400-26 category -> codes
    status_components: dict[str, tuple[int, ...]] = field(default_factory=dict)  # component -> failure codes
    policy: SitePolicy = field(default_factory=SitePolicy)
    member: MemberConfig | None = None  # None: the site can validate, preview and compare, not take part
    only_listed_turbines: bool = False  # [source]: leave out the export's rows of turbines not in [[turbines]]
    timestamps: str = "start"  # [source]: what a record's timestamp marks of its interval, TIMESTAMP_MARKS
    time_format: str | None = None  # [source]: strftime codes of a time column not in ISO 8601
    utc_offsets: str = "read"  # [source]: whether the stamps' UTC offsets are read or dropped, UTC_OFFSET_USES
    events: EventLog | None = None  # [events]: the status from an event log instead of a column
    thousands: str | None = None  # [source]: the character numbers group thousands with; None: no grouping
    encoding: str = "utf-8"  # [source]: the files' text encoding

    @property
    def mapped_columns(self) -> dict[str, str]:
        """Canonical name -> column of the (long, or stacked wide) raw frame; wide exports stack into "asset_id"."""
        return self.columns if self.layout == "long" else {**self.columns, "asset_id": "asset_id"}

    @property
    def has_status(self) -> bool:
        """Whether each record has a status: a mapped status column or an event log."""
        return STATUS in self.columns or self.events is not None

    def with_channels(self, channels: Collection[str]) -> SiteConfig:
        """The same site, mapping only ``channels`` (and time and turbine) of its export.

        A round reads only what its statistics need: an export's other mapped columns are then
        never decoded.
        """
        kept = {name: column for name, column in self.columns.items() if name in (TIME, ASSET_ID, *channels)}
        return replace(self, columns=kept, events=self.events if STATUS in channels else None)

    @property
    def asset_ids(self) -> tuple[str, ...]:
        """The turbines' ids, in [[turbines]] order."""
        return tuple(turbine.asset_id for turbine in self.turbines)

    def without_units(self, asset_ids: Collection[str]) -> SiteConfig:
        """The same site without turbines ``asset_ids``: their rows of the export are left out as unlisted ones."""
        kept = tuple(turbine for turbine in self.turbines if turbine.asset_id not in asset_ids)
        return replace(self, turbines=kept, only_listed_turbines=True)

    def turbine(self, asset_id: str) -> Turbine:
        """Metadata of turbine ``asset_id``."""
        for turbine in self.turbines:
            if turbine.asset_id == asset_id:
                return turbine
        raise KeyError(asset_id)


def load_site_config(path: Path) -> SiteConfig:
    """Read and validate ``path``; raise SiteConfigError listing every problem at once.

    Each table has its parser, which appends a message to ``problems`` for every bad entry and
    carries on, so one error names them all.
    """
    path = Path(path)
    raw = _read_toml(path)
    problems: list[str] = []
    _unknown_settings_and_tables(raw, problems)
    columns = {str(k): str(v) for k, v in raw.get("columns", {}).items()}
    units = {str(k): str(v) for k, v in raw.get("units", {}).items()}
    site = _site(raw.get("site", {}), path, columns, problems)
    source = _source(raw.get("source", {}), path, problems)
    _columns_and_units(columns, units, source["layout"], problems)
    sentinels = _sentinels(raw.get("sentinels", {}), problems)
    events = parse_event_log(raw["events"], path, columns, STATUS, problems) if "events" in raw else None
    normal, status_categories, status_components = _status(raw.get("status", {}), columns, events, problems)
    turbines = _turbines(raw.get("turbines"), problems)
    policy = parse_policy(raw.get("policy", {}), problems)
    member = _member(raw["member"], path, problems) if "member" in raw else None
    if problems:
        raise SiteConfigError(f"{path}: {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    return SiteConfig(
        path=path,
        **site,
        **source,
        columns=columns,
        units=units,
        normal_status_codes=tuple(int(c) for c in normal),
        turbines=turbines,
        sentinels=sentinels,
        status_categories=status_categories,
        status_components=status_components,
        policy=policy,
        member=member,
        events=events,
    )


def parse_event_log(
    table: dict[str, Any], path: Path, columns: dict[str, str], status: str, problems: list[str]
) -> EventLog:
    """The [events] table: the event log's files, format and columns; a ``status`` column mapped too is refused."""
    values = read_table(table, EVENT_SETTINGS)
    file_format = str(values["format"]).lower()
    if file_format not in FORMATS:
        problems.append(f"[events] format = {file_format!r}; use one of {list(FORMATS)}")
    if values["files"] is NO_DEFAULT or values["files"] == []:
        problems.append("[events] files: list the event log's files (paths or globs relative to site.toml)")
    time_format = values["time_format"]
    if time_format is not None and not _time_format(time_format):
        problems.append(
            f'[events] time_format = {time_format!r}; give strftime codes, e.g. "%d/%m/%Y %H:%M:%S", or one of '
            f"{list(NUMERIC_TIME_FORMATS)}"
        )
        time_format = None
    mapped = {}
    for name in EVENT_COLUMNS:
        if name in _OPTIONAL_EVENT_COLUMNS and values[name] is None:
            continue  # neither: a log of state changes, each row's code holding until its unit's next row
        if values[name] is NO_DEFAULT or not isinstance(values[name], str) or not values[name]:
            problems.append(f"[events] {name}: name the log's column of {_EVENT_COLUMN_WHAT[name]}")
        else:
            mapped[name] = values[name]
    if status in columns:
        problems.append(f"[columns] {status} and [events] both give the status; keep the one that holds it")
    if mapped.get("start") is not None and mapped.get("start") == mapped.get("end"):
        problems.append(
            f"[events] start and end are both {mapped['start']!r}: every event would last an instant and mark no "
            "record; map end to the column of when an event cleared, or leave end out for a log of state changes "
            "(each row's code holding until its unit's next row)"
        )
    if "end" in mapped and "transition" in mapped:
        problems.append(
            "[events] end and transition are both mapped: a log of raised and cleared rows has one time column; "
            "map it as start and leave end out, or leave transition out for a log of events with their ends"
        )
    transitions = {name: _transition_values(values, name, problems) for name in ("raised", "cleared", "ignored")}
    if "transition" not in mapped and (given := [name for name in transitions if name in table]):
        problems.append(
            f"[events] {', '.join(given)} set, but transition is not mapped: map transition to the column that says "
            "whether a row raises or clears its alarm, or leave them out"
        )
    for name, other in (("raised", "cleared"), ("raised", "ignored"), ("cleared", "ignored")):
        if both := sorted(set(transitions[name]) & set(transitions[other])):
            problems.append(
                f"[events] {name} and {other} both hold {both}: a row does one or the other; keep each value in one"
            )
    timezone = None if values["timezone"] is None else iana_zone(values["timezone"], "[events] timezone", problems)
    dialect = _csv_dialect(values, "[events]", problems)
    return EventLog(
        matched_files(values["files"], path, "[events]", problems),
        file_format,
        dialect["delimiter"],
        time_format,
        mapped,
        timezone,
        dialect["encoding"],
        transitions["raised"],
        transitions["cleared"],
        transitions["ignored"],
    )


def _transition_values(values: dict[str, Any], name: str, problems: list[str]) -> tuple[str, ...]:
    """[events] raised, cleared or ignored, stripped and in lower case (a log's transition column is read so)."""
    given = values[name]
    empty = not given and name != "ignored"  # every row may have to raise or clear
    if not isinstance(given, list) or empty or not all(isinstance(v, str) and v.strip() for v in given):
        problems.append(f'[events] {name} = {given!r}; give the log\'s values as an array of texts, e.g. ["ON"]')
        return ()
    return tuple(v.strip().lower() for v in given)


NUMERIC_TIME_FORMATS = {
    "unix": "seconds since 1970-01-01 00:00 UTC (Unix time)",
    "unix_ms": "milliseconds since 1970-01-01 00:00 UTC",
    "excel": "days since 1899-12-30 (Excel's serial dates) in the site's local time",
}
"""``time_format`` names of time columns written as numbers, and what the numbers count."""


def _time_format(value: Any) -> bool:
    """Whether ``value`` is a time format: strftime codes a time parses by, or a :data:`NUMERIC_TIME_FORMATS` name."""
    return value in NUMERIC_TIME_FORMATS or _strftime_codes(value)


def _strftime_codes(value: Any) -> bool:
    """Whether ``value`` is a format of strftime codes a time can be parsed by (each code one Python knows)."""
    if not isinstance(value, str) or "%" not in value:
        return False
    try:
        datetime.datetime.strptime("", value)
    except ValueError as error:  # "time data '' does not match format" is the one a good format gives
        return "bad directive" not in str(error) and "stray %" not in str(error)
    return True


def iana_zone(value: Any, setting: str, problems: list[str]) -> str:
    """``value`` as the name of an IANA time zone; a message in ``problems`` (naming ``setting``) if it is none."""
    zone = str(value)
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f'{setting} = {zone!r} is not an IANA zone; use e.g. "Europe/Berlin" or "UTC"')
    return zone


def _read_toml(path: Path) -> dict[str, Any]:
    """The tables of ``path``; SiteConfigError when it is missing, not UTF-8 or not TOML.

    A UTF-8 byte order mark (Windows editors write one) is skipped; TOML itself allows none.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SiteConfigError(f"{path}: file not found; pass the path of the site's site.toml") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SiteConfigError(
            f"{path}: not UTF-8 (byte {data[exc.start]:#04x} on line {line}, as Windows-1252 or Latin-1 write "
            "umlauts); save site.toml as UTF-8 (in the editor's Save as, encoding UTF-8)"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError(f"{path}: not valid TOML ({exc}); fix the syntax at the position given") from None


def _unknown_settings_and_tables(raw: dict[str, Any], problems: list[str]) -> None:
    """Report unknown settings of [site], [source], [status], [events] and [member], and unknown tables.

    [policy] and [[turbines]] entries are checked by their own parsers.
    """
    for table in ("site", "source", "status", "events", "member"):
        unknown_keys(f"[{table}]", raw.get(table, {}), SETTINGS[table], problems)
    for table in sorted(set(raw) - {*SETTINGS, *CHANNEL_TABLES}):
        problems.append(f"[{table}] is not a section of site.toml; see docs/site-toml.md for the format")


def _site(table: dict[str, Any], path: Path, columns: dict[str, str], problems: list[str]) -> dict[str, Any]:
    """The [site] table as SiteConfig fields: name (default: the folder of site.toml), timezone, elevation_m [m].

    The elevation is required only when no pressure column is mapped: air density needs one or the other.
    """
    values = read_table(table, SITE_SETTINGS)
    if values["kind"] != "wind":
        problems.append(
            f"[site] kind = {values['kind']!r}: this reader takes wind sites; "
            + (
                "read it as a solar site (fleetbench site validate does)"
                if values["kind"] == "solar"
                else f"use one of {list(KINDS)}"
            )
        )
    elevation = values["elevation_m"]
    if elevation is not None and (
        isinstance(elevation, bool) or not isinstance(elevation, int | float) or not -500 <= elevation <= 9000
    ):
        # Beyond -500..9000 m no site stands (the Dead Sea shore is -430 m): a value in feet or a typo.
        problems.append(
            f"[site] elevation_m = {elevation!r}; give the site's elevation above sea level in m, from -500 to 9000"
        )
        elevation = None
    elif elevation is None and "WMET_EnvPres" not in columns:
        problems.append("[site] elevation_m is needed for air density when no pressure column (WMET_EnvPres) is mapped")
    timezone = iana_zone(values["timezone"], "[site] timezone", problems)
    return {
        "name": str(path.parent.name if values["name"] is None else values["name"]),
        "timezone": timezone,
        "elevation_m": None if elevation is None else float(elevation),
    }


def _member(table: dict[str, Any], path: Path, problems: list[str]) -> MemberConfig | None:
    """The [member] table: the member's name and key, and the roster it pinned, checked against each other.

    The roster must have the pinned fingerprint and list ``name`` with the public half of ``key``.
    """
    missing = [setting.key for setting in MEMBER_SETTINGS if not isinstance(setting.read(table), str)]
    if missing:
        problems.append(
            f"[member] {', '.join(missing)} missing; give name, key, roster and roster_sha256 (fleetbench consortium "
            "pinned shows what a site has pinned)"
        )
        return None
    member = MemberConfig(
        name=table["name"],
        key_path=path.parent / table["key"],
        roster_path=path.parent / table["roster"],
        roster_sha256=table["roster_sha256"].lower(),
    )
    try:
        key, roster = member.identity()
        if roster.member(member.name).public_key != public_bytes(key):
            raise RosterError(
                f"{member.key_path} is not the key the roster lists for {member.name!r}; use the member's own key"
            )
    except RosterError as error:
        problems.append(f"[member] {error}")
        return None
    return member


def _natural_order(file: Path) -> list[str | int]:
    """A file's sort key with its numbers as numbers: export_9 before export_10, 2023-2 before 2023-10.

    The summaries read files in turn and leave out a record that comes after a later one of its
    unit (:func:`client.streaming.late_or_repeated_records`), so files named by period must be read in it.
    """
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(file))]


def matched_files(patterns: Any, path: Path, table: str, problems: list[str]) -> tuple[Path, ...]:
    """The files a table's ``files`` (a path or glob, or a list of them, relative to site.toml ``path``) name.

    Each pattern must match at least one file; a glob's matches come in natural order (export_9 before export_10).
    A pattern that is not a string (``files = 5``, ``files = [5]``) is a problem, not a crash of the glob.
    """
    patterns = [] if patterns is NO_DEFAULT else [patterns] if isinstance(patterns, str) else patterns
    if not isinstance(patterns, list):
        problems.append(
            f"{table} files = {patterns!r}; give a path or glob relative to site.toml as a string, or an array of "
            'them, e.g. ["scada/*.csv"]'
        )
        return ()
    files: list[Path] = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            problems.append(
                f'{table} files: {pattern!r} is not a path; write each path or glob as a string, e.g. "scada/*.csv"'
            )
            continue
        globbed = any(ch in pattern for ch in "*?[")
        matched = sorted(path.parent.glob(pattern), key=_natural_order) if globbed else [path.parent / pattern]
        existing = [m for m in matched if m.is_file()]
        if not existing:
            problems.append(f"{table} files: {pattern!r} matches no file next to {path}; fix the path or glob")
        files.extend(existing)
    return tuple(files)


def _source(
    table: dict[str, Any],
    path: Path,
    problems: list[str],
    record_period: pd.Timedelta = RECORD_PERIOD,
    settings: tuple[Setting, ...] = SOURCE_SETTINGS,
    only_listed_key: str = "only_listed_turbines",
) -> dict[str, Any]:
    """The [source] table as SiteConfig fields: the export's files, resolution, format, CSV dialect and layout.

    ``files`` are paths or globs relative to site.toml, each of which must match an existing file;
    the resolution must divide ``record_period``, the record the site's statistics count (10 min
    for wind, 15 min for solar). ``settings`` declare the keys and defaults (a solar site's own), among
    them ``only_listed_key``, whether an export shared with other assets is read for the listed ones.
    """
    values = read_table(table, settings)
    resolution = _resolution(values["resolution"], record_period, problems)
    file_format = str(values["format"]).lower()
    if file_format not in FORMATS:
        problems.append(f"[source] format = {file_format!r}; use one of {list(FORMATS)}")
    files = matched_files(values["files"], path, "[source]", problems)
    if values["files"] is NO_DEFAULT or values["files"] == []:
        problems.append("[source] files: list the SCADA export files (paths or globs relative to site.toml)")
    layout = str(values["layout"])
    if layout not in LAYOUTS:
        problems.append(f"[source] layout = {layout!r}; use one of {list(LAYOUTS)}")
    only_listed = values[only_listed_key]
    if not isinstance(only_listed, bool):
        problems.append(f"[source] {only_listed_key} = {only_listed!r}; use true or false")
        only_listed = False
    time_format = values["time_format"]
    if time_format is not None and not _time_format(time_format):
        problems.append(
            f'[source] time_format = {time_format!r}; give strftime codes, e.g. "%d/%m/%Y %H:%M" for 05/01/2022 13:45, '
            f"or one of {list(NUMERIC_TIME_FORMATS)}"
        )
        time_format = None
    timestamps = str(values["timestamps"])
    if timestamps not in TIMESTAMP_MARKS:
        problems.append(
            f"[source] timestamps = {timestamps!r}; use one of {list(TIMESTAMP_MARKS)}: what a record's timestamp "
            "marks of the interval it covers"
        )
    utc_offsets = str(values["utc_offsets"])
    if utc_offsets not in UTC_OFFSET_USES:
        problems.append(
            f'[source] utc_offsets = {utc_offsets!r}; use one of {list(UTC_OFFSET_USES)}: "ignore" when the offsets '
            "the stamps state are not the logger's clock's"
        )
    return {
        only_listed_key: only_listed,
        "files": files,
        "resolution": resolution,
        "layout": layout,
        "timestamps": timestamps,
        "time_format": time_format,
        "utc_offsets": utc_offsets,
        "file_format": file_format,
        **_csv_dialect(values, "[source]", problems),
    }


def _resolution(value: Any, record_period: pd.Timedelta, problems: list[str]) -> pd.Timedelta:
    """[source] resolution as a period of at least 1 s dividing ``record_period``; ``record_period`` if it is none.

    A bare number is refused rather than read: pandas takes ``10`` (or ``"10"``) as 10 nanoseconds, and no
    SCADA logger records faster than once a second.
    """
    minutes = f"{record_period / pd.Timedelta(minutes=1):g} minutes"
    if not isinstance(value, str):
        problems.append(f'[source] resolution = {value!r}; give a text with its unit, e.g. "1s", "1min" or "{minutes}"')
        return record_period
    try:
        resolution = pd.Timedelta(value)
    except ValueError:
        problems.append(f'[source] resolution = {value!r}; use e.g. "1s", "1min" or "{minutes}"')
        return record_period
    if resolution < pd.Timedelta(seconds=1):
        problems.append(
            f'[source] resolution = {value!r} is under 1 s; give the records\' period with its unit, e.g. "1s", "1min" '
            f'or "{minutes}" ("10" alone is 10 nanoseconds)'
        )
        return record_period
    if record_period % resolution != pd.Timedelta(0):
        problems.append(f'[source] resolution = {value!r} must divide {minutes}, e.g. "1s" or "1min"')
    return resolution


_ESCAPES = {"\\t": "\t"}
"""A tab written as a TOML literal string ('\\t', a backslash and a t), read as the tab it means."""


def _one_character(value: Any, setting: str, fix: str, problems: list[str]) -> str | None:
    """``value`` as the single character a CSV dialect setting must be; None (with a problem naming it) if not.

    pandas takes a longer delimiter for a regular expression ("tab" would split at the letters t, a, b) and
    pyarrow refuses it, and an empty one is no delimiter at all, so each is refused here with ``fix``.
    """
    if isinstance(value, str):
        value = _ESCAPES.get(value, value)
    if isinstance(value, str) and len(value) == 1:
        return value
    problems.append(f"{setting} = {value!r}; give one character, {fix}")
    return None


def _encoding(values: dict[str, Any], table: str, problems: list[str]) -> str:
    """A table's text encoding, as Python names it; "utf-8" (a problem noted) if it names none."""
    name = values["encoding"]
    try:
        if isinstance(name, str):
            return codecs.lookup(name).name
    except LookupError:
        pass
    problems.append(f'{table} encoding = {name!r} is not a text encoding; e.g. "utf-8", "cp1252" or "latin-1"')
    return "utf-8"


def _csv_dialect(values: dict[str, Any], table: str, problems: list[str]) -> dict[str, Any]:
    """A table's delimiter (and, where declared, decimal and thousands), each one character.

    The same character as delimiter and decimal mark would split every number in two, as decimal mark
    and thousands separator would make numbers ambiguous; a thousands separator that is the delimiter
    is read within quotes. ``thousands`` is None when the export groups no thousands.
    """
    delimiter = _one_character(
        values["delimiter"], f"{table} delimiter", 'e.g. ";" or "\\t" for a tab (written with the backslash)', problems
    )
    dialect = {"delimiter": "," if delimiter is None else delimiter, "encoding": _encoding(values, table, problems)}
    if "decimal" not in values:
        return dialect
    decimal = _one_character(values["decimal"], f"{table} decimal", '"." or "," for a decimal comma', problems)
    if delimiter is not None and delimiter == decimal:
        problems.append(
            f"{table} delimiter and decimal are both {delimiter!r}: every number would split in two; set the "
            'delimiter the export separates columns with (e.g. ";" with decimal = ",")'
        )
    thousands = values["thousands"]
    if thousands is not None:
        thousands = _one_character(
            thousands, f"{table} thousands", '"." in 1.234,5 or "," in 1,234.5 (leave it out for none)', problems
        )
        # The same as the delimiter is read within quotes ("1,953.5" in a comma-separated export).
        if thousands is not None and thousands == decimal:
            problems.append(
                f"{table} thousands and decimal are both {thousands!r}; give the character numbers group "
                "thousands with, another than the decimal mark, or leave thousands out"
            )
    return {**dialect, "decimal": "." if decimal is None else decimal, "thousands": thousands}


def _columns_and_units(columns: dict[str, str], units: dict[str, str], layout: str, problems: list[str]) -> None:
    """Check [columns] (canonical name = the export's column) and [units] (canonical name = the export's unit).

    Every required channel is mapped (a wide export has no turbine column: its columns carry
    ``{asset}``), every name is canonical, and every unit converts to the channel's canonical unit.
    """
    for canonical in REQUIRED:
        if canonical not in columns and not (layout == "wide" and canonical == "asset_id"):
            problems.append(f"[columns] {canonical} is missing; map it to the export's column name")
    if layout == "wide":
        for canonical, column in columns.items():
            if canonical != "time" and "{asset}" not in column:
                problems.append(
                    f'[columns] {canonical} = "{column}": in a wide export name each turbine\'s column with '
                    '{asset}, e.g. "{asset}_ActivePower"'
                )
    for canonical in sorted(set(columns) - set(COLUMNS)):
        problems.append(f"[columns] {canonical} is not a canonical name; use one of {sorted(COLUMNS)}")
    columns_mapped_twice(columns, problems)
    _units(units, CHANNELS, problems)


def columns_mapped_twice(columns: Mapping[str, str], problems: list[str]) -> None:
    """Append a problem for every export column that two canonical names of ``columns`` map to.

    One column cannot hold two channels (or a channel and the time or the unit's id): one of the two
    would be read from the other's values. A wide export's ``{asset}`` patterns are compared as written,
    so two channels named by the same pattern are refused too.
    """
    by_column: dict[str, list[str]] = {}
    for canonical, column in columns.items():
        by_column.setdefault(column, []).append(canonical)
    for column, names in by_column.items():
        if len(names) > 1:
            both = "both" if len(names) == 2 else "all"
            problems.append(
                f'[columns] {", ".join(names[:-1])} and {names[-1]} are {both} "{column}": one column holds one '
                "channel; map each to its own column of the export, or leave out the one the export does not have"
            )


def _units(units: dict[str, str], channels: Mapping[str, Channel], problems: list[str]) -> None:
    """Check [units]: each key one of ``channels``, each unit one that converts to the channel's canonical unit."""
    for canonical, unit in units.items():
        channel = channels.get(canonical)
        if channel is None:
            problems.append(f"[units] {canonical} is not a numeric channel; use one of {sorted(channels)}")
        elif unit not in UNIT_CONVERSIONS[channel.unit]:
            problems.append(f"[units] {canonical} = {unit!r}; use one of {sorted(UNIT_CONVERSIONS[channel.unit])}")


def _sentinels(
    table: dict[str, Any], problems: list[str], channels: Mapping[str, Channel] = CHANNELS
) -> dict[str, tuple[float, ...]]:
    """The [sentinels] table: numeric channel of ``channels`` -> the values the export writes for "missing"."""
    sentinels: dict[str, tuple[float, ...]] = {}
    for canonical, codes in table.items():
        if canonical not in channels:
            problems.append(f"[sentinels] {canonical} is not a numeric channel; use one of {sorted(channels)}")
        elif not isinstance(codes, list) or not all(isinstance(c, int | float) for c in codes):
            problems.append(f"[sentinels] {canonical} = {codes!r}; give a list of numbers, e.g. [-273.2, -999]")
        else:
            sentinels[canonical] = tuple(float(c) for c in codes)
    return sentinels


def _status(
    table: dict[str, Any], columns: dict[str, str], events: EventLog | None, problems: list[str]
) -> tuple[Any, dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """The [status] table: normal codes, IEC 61400-26 category -> codes, component -> failure codes.

    A code belongs to one category at most, and a component's failure codes must be forced-outage
    codes. The normal codes are returned as written; load_site_config makes them integers once the
    whole file is valid.
    """
    values = read_table(table, STATUS_SETTINGS)
    status_categories: dict[str, tuple[int, ...]] = {}
    seen_codes: dict[int, str] = {}
    for category, codes in values["categories"].items():
        if category not in AVAILABILITY_CATEGORIES:
            problems.append(
                f"[status.categories] {category} is not an IEC 61400-26 category; "
                f"use one of {list(AVAILABILITY_CATEGORIES)}"
            )
            continue
        if not isinstance(codes, list) or not all(isinstance(c, int) for c in codes):
            problems.append(f"[status.categories] {category} = {codes!r}; give a list of integer status codes")
            continue
        for code in codes:
            if code in seen_codes:
                problems.append(f"[status.categories] code {code} is in both {seen_codes[code]} and {category}")
            seen_codes[code] = category
        status_categories[category] = tuple(codes)

    forced_outage = set(status_categories.get("forced_outage", ()))
    status_components = component_failure_codes(
        values["components"], COMPONENTS, forced_outage, "[status.categories] forced_outage", problems
    )

    # Normal operation defaults to the IEC "full performance" codes.
    normal = values["normal"]
    if normal is None:
        normal = list(status_categories.get("full_performance", ()))
    if (STATUS in columns or events is not None) and not normal:
        problems.append("[status] normal: list the status codes that mean normal operation, e.g. normal = [0]")
    return normal, status_categories, status_components


def _transfer_function(value: Any) -> NacelleTransferFunction | None:
    """A turbine's nacelle_transfer_function table ({nacelle_m_s = [...], free_stream_m_s = [...]})."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"nacelle_m_s", "free_stream_m_s"}:
        raise ValueError("'nacelle_transfer_function' (give { nacelle_m_s = [...], free_stream_m_s = [...] })")
    return NacelleTransferFunction(
        tuple(float(v) for v in value["nacelle_m_s"]), tuple(float(v) for v in value["free_stream_m_s"])
    )


def _anemometer_problems(turbine: Turbine) -> list[str]:
    """What is wrong with a turbine's anemometer and transfer function, with the fix."""
    where = f"[[turbines]] {turbine.asset_id}"
    if turbine.anemometer not in ANEMOMETERS:
        return [f"{where}: anemometer = {turbine.anemometer!r}; use one of {ANEMOMETERS} (where it measures)"]
    if turbine.nacelle_transfer_function is None:
        return []
    if turbine.anemometer != "nacelle":
        return [f"{where}: a nacelle_transfer_function corrects a nacelle anemometer; remove it or set anemometer"]
    ntf = turbine.nacelle_transfer_function
    return [f"{where}: nacelle_transfer_function: {problem}" for problem in ntf.problems()]


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
"""An ISO 8601 date, optionally with a time and offset: 2012-05-01, 2012-05-01T08:00, 2012-05-01 08:00:00+02:00."""


def iso_date(value: Any, setting: str) -> pd.Timestamp | None:
    """A TOML date or datetime, or an ISO 8601 text, as a UTC timestamp (None for None).

    Only ISO 8601 is read: pandas takes "01.03.2012" month first, as 3 January, where a German
    operator means 1 March, so any other form raises ValueError naming ``setting`` and the value.
    """
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else value  # TOML dates arrive as datetime objects
    try:
        if not isinstance(text, str) or not ISO_DATE.fullmatch(text.strip()):
            raise ValueError
        stamp = pd.Timestamp(text.strip())
    except ValueError:
        raise ValueError(
            f"{setting} = {value!r}; give an ISO 8601 date, year first: YYYY-MM-DD, e.g. 2012-05-01"
        ) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _not_a_number(value: Any) -> bool:
    """Whether a given setting is not a TOML number (a text, a boolean); a missing one is the caller's to name."""
    return value is not NO_DEFAULT and (isinstance(value, bool) or not isinstance(value, int | float))


def _turbines(raw: Any, problems: list[str]) -> tuple[Turbine, ...]:
    """The [[turbines]] array: at least one, unique asset_ids, 100-2000 W/m^2 of rated power per swept area."""
    if not isinstance(raw, list) or not raw:
        required = ", ".join(setting.key for setting in TURBINE_SETTINGS if setting.required)
        problems.append(f"[[turbines]]: list at least one turbine ({required})")
        return ()
    turbines = []
    required = [setting.key for setting in TURBINE_SETTINGS if setting.required]
    for i, entry in enumerate(raw):
        where = f"[[turbines]] entry {i + 1}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: {entry!r} is not a table; give {', '.join(required)}")
            continue
        unknown_keys(f"{where}:", entry, TURBINE_SETTINGS, problems)
        values = read_table(entry, TURBINE_SETTINGS)
        # A text ("2300") or a boolean (true, read as 1) where a measure belongs is a slip, not a number.
        named = values["asset_id"] if isinstance(values["asset_id"], str) else where
        measures = {"rated_power_kw": "kW", "rotor_diameter_m": "m", "hub_height_m": "m"}
        not_numbers = [key for key in measures if _not_a_number(values[key])]
        if not_numbers:
            problems += [
                f"[[turbines]] {named}: {key} = {values[key]!r}; give a number, in {measures[key]}"
                for key in not_numbers
            ]
            continue
        try:
            missing = [key for key in required if values[key] is NO_DEFAULT]
            if missing:
                raise KeyError(missing[0])
            turbine = Turbine(
                asset_id=str(values["asset_id"]),
                model=str(values["model"]),
                rated_power_kw=float(values["rated_power_kw"]),
                rotor_diameter_m=float(values["rotor_diameter_m"]),
                hub_height_m=float(values["hub_height_m"]),
                regulation=str(values["regulation"]),
                iec_wind_class=str(values["iec_wind_class"]),
                commissioning_date=None,
                anemometer=str(values["anemometer"]),
                nacelle_transfer_function=_transfer_function(values["nacelle_transfer_function"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{where}: missing or invalid {exc}; give {', '.join(required)}")
            continue
        try:
            # Read apart from the required keys, so that the message says what a date is, not what is required.
            turbine = replace(turbine, commissioning_date=iso_date(values["commissioning_date"], "commissioning_date"))
        except ValueError as exc:
            problems.append(f"[[turbines]] {turbine.asset_id}: {exc}")
        if turbine.rated_power_kw <= 0 or turbine.rotor_diameter_m <= 0:
            problems.append(
                f"[[turbines]] {turbine.asset_id}: rated_power_kw and rotor_diameter_m must be positive, "
                f"got {turbine.rated_power_kw} and {turbine.rotor_diameter_m}"
            )
        elif not 100.0 <= turbine.specific_power <= 2000.0:
            problems.append(
                f"[[turbines]] {turbine.asset_id}: rated power per swept area is {turbine.specific_power:.0f} W/m^2, "
                "outside 100-2000; check rated_power_kw (in kW) and rotor_diameter_m (in m)"
            )
        if not 0.0 < turbine.hub_height_m <= MAX_HUB_HEIGHT_M:
            # A hub at or below the ground, or above 300 m (the tallest built are about 170 m), is a sign or unit slip.
            problems.append(
                f"[[turbines]] {turbine.asset_id}: hub_height_m = {turbine.hub_height_m:g}; give the hub's height "
                f"above ground in m, above 0 and at most {MAX_HUB_HEIGHT_M:g}"
            )
        if turbine.regulation not in REGULATIONS:
            problems.append(
                f"[[turbines]] {turbine.asset_id}: regulation = {turbine.regulation!r}; use one of {REGULATIONS}"
            )
        problems.extend(_anemometer_problems(turbine))
        turbines.append(turbine)
    ids = [t.asset_id for t in turbines]
    duplicates = sorted({a for a in ids if ids.count(a) > 1})
    if duplicates:
        problems.append(f"[[turbines]]: asset_id listed twice: {duplicates}")
    return tuple(turbines)
