"""A solar site.toml: the plant, its inverters, where its export is and how its columns map.

Example::

    [site]
    kind = "solar"
    name = "sun-07"
    timezone = "UTC"             # zone of timestamps that carry no UTC offset

    [plant]
    latitude = 39.74
    longitude = -105.18
    elevation_m = 1829.0
    module_technology = "mono-Si"
    mounting = "fixed"           # or "single_axis"
    tilt_deg = 30.0              # fixed plants only
    azimuth_deg = 180.0          # of the modules (fixed) or of the tracker axis (single_axis)
    climate_zone = "arid"
    gamma_pdc_per_c = -0.0037    # optional: temperature coefficient of power; default by technology
    commissioned = "2022-01-01"

    [[inverters]]
    id = "INV01"
    dc_capacity_kw = 1250.0
    ac_capacity_kw = 1000.0

    [source]                     # as a wind site's, resolution dividing 15 minutes
    files = ["scada/*.parquet"]
    format = "parquet"
    resolution = "15min"
    layout = "long"              # or "wide": no asset_id, P_out = "{asset}_ac_power_kw", shared G_i, T_mod

    [columns]                    # IEC 61724-1 symbol = the export's column
    time = "timestamp"
    asset_id = "inverter"
    P_out = "ac_power_kw"
    G_i = "poa_irradiance_wm2"   # or G_h (global horizontal), transposed on site
    T_mod = "module_temp_c"      # or T_amb
    INV_St = "status"

    [status]
    available = [0]              # codes of an inverter able to produce
    inverter_fault = [3, 5]      # one list per loss category (protos/domain.py SOLAR_LOSS_CATEGORIES)
    grid = [2]

    [status.components]          # optional: inverter-fault codes that are failures of a component
    inverter = [3]
    tracker = [5]

A plant whose status is a separate log of events instead of a column maps ``[events]``, not ``INV_St``::

    [events]
    files = ["alarms/*.csv"]
    asset_id = "Device"          # the log's columns: the inverter's id, ...
    start = "Occurred"           # ... when the event started and cleared (empty: still open) ...
    end = "Cleared"
    code = "Code"                # ... and its status code, sorted by [status] as a column's would be

Plant metadata never leaves the site; a spec's solar cohorts select plants by technology, mounting,
climate zone and DC/AC ratio, and only the site decides which it is in.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from client.policy import POLICY_SETTINGS, SitePolicy, parse_policy
from client.settings import Setting, component_failure_codes, read_table, unknown_keys
from client.site_config import (
    EVENT_SETTINGS,
    MEMBER_SETTINGS,
    SOURCE_SETTINGS,
    EventLog,
    MemberConfig,
    SiteConfigError,
    _choices,
    _member,
    _read_toml,
    _sentinels,
    _source,
    _units,
    columns_mapped_twice,
    iana_zone,
    iso_date,
    parse_event_log,
)
from client.solar.schema import ASSET_ID, CHANNELS, STATUS, TIME
from protos.domain import (
    CLIMATE_ZONES,
    MODULE_TECHNOLOGIES,
    MOUNTINGS,
    SOLAR_COMPONENTS,
    SOLAR_LOSS_CATEGORIES,
    SOLAR_RECORD_PERIOD,
)

DC_AC_RATIO = (0.5, 3.0)
"""Plausible DC/AC (inverter loading) ratios of an inverter [-]: built plants run about 1.0-1.5."""

GAMMA_PDC_PER_C: dict[str, float] = {
    "mono-Si": -0.0037,
    "multi-Si": -0.0040,
    "CdTe": -0.0028,
    "CIGS": -0.0035,
    "a-Si": -0.0020,
}
"""Typical temperature coefficient of maximum power by technology [1/degC], the default of ``gamma_pdc_per_c``
(crystalline silicon -0.37 to -0.40 %/degC, thin film less; data sheets give the module's own)."""

COLUMNS: dict[str, str] = {
    TIME: "the record's timestamp; one without a UTC offset is read in `[site] timezone`",
    ASSET_ID: "the inverter's `id` (as in `[[inverters]]`)",
    STATUS: "the inverter's status code (see `[status]`)",
    **{name: channel.description for name, channel in CHANNELS.items()},
}
"""IEC 61724-1 symbols [columns] maps to the export's columns, with what each holds."""


SOLAR_SITE_SETTINGS = (
    Setting("kind", "string", '`"solar"`'),
    Setting("name", "string", "the site's name; absent: the name of the folder holding site.toml", None),
    Setting("timezone", "string", "IANA zone of timestamps that carry no UTC offset (DST included)", "UTC"),
)
PLANT_SETTINGS = (
    Setting("latitude", "float", "the plant's latitude, north positive", unit="deg"),
    Setting("longitude", "float", "the plant's longitude, east positive", unit="deg"),
    Setting("elevation_m", "float", "elevation above sea level (clear-sky and transposition models)", 0.0, "m"),
    Setting("module_technology", "string", "the modules' technology: " + _choices(MODULE_TECHNOLOGIES)),
    Setting("mounting", "string", "how the modules are mounted: " + _choices(MOUNTINGS)),
    Setting("tilt_deg", "float", "module tilt from horizontal; fixed plants only", None, "deg"),
    Setting(
        "azimuth_deg",
        "float",
        "azimuth the modules face (fixed) or of the tracker axis (single_axis), 180 = south",
        180.0,
        "deg",
    ),
    Setting("climate_zone", "string", "Köppen-Geiger main group of the plant's climate: " + _choices(CLIMATE_ZONES)),
    Setting(
        "gamma_pdc_per_c",
        "float",
        "temperature coefficient of the modules' maximum power (a data sheet's "
        "%/degC divided by 100); absent: the technology's typical value",
        None,
        "1/degC",
    ),
    Setting("commissioned", "date", "when the plant started producing (its age)", None),
)
INVERTER_SETTINGS = (
    Setting("id", "string", "the inverter's id in the export"),
    Setting("dc_capacity_kw", "float", "DC (module) capacity at STC connected to it", unit="kW"),
    Setting("ac_capacity_kw", "float", "its rated AC output (where it clips)", unit="kW"),
)
SOLAR_STATUS_SETTINGS = (
    Setting(
        "available",
        "array of integers",
        "status codes of an inverter able to produce; needed when a status column is mapped",
        None,
    ),
    *(
        Setting(category, "array of integers", f"status codes of time lost to {category.replace('_', ' ')}", [])
        for category in SOLAR_LOSS_CATEGORIES
    ),
    Setting(
        "components",
        "table",
        "component = the inverter_fault codes that are its failures (protos/domain.py SOLAR_COMPONENTS); "
        "without it, or without a mapped status column, the plant's failures are not counted",
        {},
    ),
)
SOLAR_SOURCE_SETTINGS = {
    "resolution": Setting(
        "resolution",
        "string",
        'period of the export records, dividing 15 minutes (`"1s"`, `"1min"`, ...); finer data are '
        "averaged to 15-min means on site",
        "15min",
    ),
    "layout": Setting(
        "layout",
        "string",
        '`"long"`: one row per inverter and time; `"wide"`: one row per time, each inverter\'s column of a '
        "channel named in `[columns]` with `{asset}` (its `id`); a column without `{asset}` is the plant's, "
        "shared by every inverter (an irradiance, a temperature)",
        "long",
    ),
    "only_listed_turbines": Setting(
        "only_listed_inverters",
        "boolean",
        "true: the export is shared with other inverters (another plant's), whose rows are left out (only "
        "`[[inverters]]` are read)",
        False,
    ),
}
"""A solar [source]'s own settings in place of a wind site's, by the wind setting's key."""
SOLAR_SETTINGS: dict[str, tuple[Setting, ...]] = {
    "site": SOLAR_SITE_SETTINGS,
    "plant": PLANT_SETTINGS,
    "inverters": INVERTER_SETTINGS,
    "source": tuple(SOLAR_SOURCE_SETTINGS.get(s.key, s) for s in SOURCE_SETTINGS),
    "status": SOLAR_STATUS_SETTINGS,
    "events": EVENT_SETTINGS,
    "member": MEMBER_SETTINGS,
    "policy": POLICY_SETTINGS,
}
"""Every table of a solar site.toml whose keys are settings, with its keys."""
CHANNEL_TABLES = ("columns", "units", "sentinels")


@dataclass(frozen=True)
class Inverter:
    """One inverter and the modules behind it."""

    inverter_id: str
    dc_capacity_kw: float  # [kW], at STC
    ac_capacity_kw: float  # [kW]


@dataclass(frozen=True)
class Plant:
    """What a solar plant is: where, which modules, how mounted."""

    latitude: float  # [deg]
    longitude: float  # [deg]
    elevation_m: float  # [m]
    module_technology: str
    mounting: str
    tilt_deg: float | None  # [deg], fixed plants
    azimuth_deg: float  # [deg]
    climate_zone: str
    gamma_pdc_per_c: float  # [1/degC]
    commissioned: pd.Timestamp | None


@dataclass(frozen=True)
class SolarSiteConfig:
    """A parsed, validated solar site.toml; its export fields are those the export reader takes."""

    path: Path
    name: str
    timezone: str
    plant: Plant
    inverters: tuple[Inverter, ...]
    files: tuple[Path, ...]
    resolution: pd.Timedelta
    file_format: str
    delimiter: str
    decimal: str
    columns: dict[str, str]
    units: dict[str, str]
    sentinels: dict[str, tuple[float, ...]] = field(default_factory=dict)
    available_codes: tuple[int, ...] = ()
    loss_codes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # SOLAR_LOSS_CATEGORIES -> codes
    component_codes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # SOLAR_COMPONENTS -> failure codes
    policy: SitePolicy = field(default_factory=SitePolicy)
    member: MemberConfig | None = None
    layout: str = "long"  # or "wide": a row per time, a column per inverter of P_out (and of status)
    timestamps: str = "start"  # what a record's timestamp marks of its interval (client.site_config.TIMESTAMP_MARKS)
    time_format: str | None = None  # strftime codes of a time column not in ISO 8601
    utc_offsets: str = "read"  # read or drop the stamps' UTC offsets (client.site_config.UTC_OFFSET_USES)
    only_listed_inverters: bool = False  # leave out the export's rows of inverters not in [[inverters]]
    events: EventLog | None = None  # the status from an event log instead of a column
    thousands: str | None = None  # the character the export's numbers group thousands with; None: no grouping
    encoding: str = "utf-8"  # the export's text encoding

    @property
    def has_status(self) -> bool:
        """Whether each record has a status: a mapped status column or an event log."""
        return STATUS in self.columns or self.events is not None

    @property
    def mapped_columns(self) -> dict[str, str]:
        """IEC 61724-1 symbol -> column of the (long, or stacked wide) raw frame; wide exports stack into "asset_id"."""
        return self.columns if self.layout == "long" else {**self.columns, ASSET_ID: ASSET_ID}

    @property
    def asset_ids(self) -> tuple[str, ...]:
        """The inverters' ids, in [[inverters]] order."""
        return tuple(inverter.inverter_id for inverter in self.inverters)

    def without_units(self, asset_ids: Collection[str]) -> SolarSiteConfig:
        """The same plant without inverters ``asset_ids``: their rows of the export are left out as unlisted ones."""
        kept = tuple(inverter for inverter in self.inverters if inverter.inverter_id not in asset_ids)
        return replace(self, inverters=kept, only_listed_inverters=True)

    @property
    def dc_capacity_kw(self) -> float:
        """The plant's DC capacity [kW]."""
        return sum(inverter.dc_capacity_kw for inverter in self.inverters)

    @property
    def ac_capacity_kw(self) -> float:
        """The plant's AC capacity [kW]."""
        return sum(inverter.ac_capacity_kw for inverter in self.inverters)

    @property
    def dc_ac_ratio(self) -> float:
        """DC/AC (inverter loading) ratio [-]."""
        return self.dc_capacity_kw / self.ac_capacity_kw


def load_solar_site_config(path: Path) -> SolarSiteConfig:
    """Read and validate a solar site.toml; raise SiteConfigError listing every problem at once."""
    path = Path(path)
    raw = _read_toml(path)
    problems: list[str] = []
    for table in ("site", "plant", "source", "status", "events", "member"):
        unknown_keys(f"[{table}]", raw.get(table, {}), SOLAR_SETTINGS[table], problems)
    for table in sorted(set(raw) - {*SOLAR_SETTINGS, *CHANNEL_TABLES}):
        problems.append(
            f"[{table}] is not a section of a solar site.toml; docs/site-toml.md (Solar sites) has the format"
        )
    site = read_table(raw.get("site", {}), SOLAR_SITE_SETTINGS)
    if site["kind"] != "solar":
        problems.append(f'[site] kind = {site["kind"]!r}; a solar site.toml says kind = "solar"')
    timezone = iana_zone(site["timezone"], "[site] timezone", problems)
    plant = _plant(raw.get("plant", {}), problems)
    inverters = _inverters(raw.get("inverters"), problems)
    source = _source(
        raw.get("source", {}), path, problems, SOLAR_RECORD_PERIOD, SOLAR_SETTINGS["source"], "only_listed_inverters"
    )
    columns = {str(k): str(v) for k, v in raw.get("columns", {}).items()}
    units = {str(k): str(v) for k, v in raw.get("units", {}).items()}
    _columns_and_units(columns, units, source["layout"], len(inverters), problems)
    sentinels = _sentinels(raw.get("sentinels", {}), problems, CHANNELS)
    events = parse_event_log(raw["events"], path, columns, STATUS, problems) if "events" in raw else None
    available, loss_codes, component_codes = _status(raw.get("status", {}), columns, events is not None, problems)
    policy = parse_policy(raw.get("policy", {}), problems)
    member = _member(raw["member"], path, problems) if "member" in raw else None
    if problems or plant is None:
        raise SiteConfigError(f"{path}: {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    return SolarSiteConfig(
        path=path,
        name=str(path.parent.name if site["name"] is None else site["name"]),
        timezone=timezone,
        plant=plant,
        inverters=inverters,
        files=source["files"],
        resolution=source["resolution"],
        file_format=source["file_format"],
        delimiter=source["delimiter"],
        decimal=source["decimal"],
        thousands=source["thousands"],
        encoding=source["encoding"],
        columns=columns,
        units=units,
        sentinels=sentinels,
        available_codes=available,
        loss_codes=loss_codes,
        component_codes=component_codes,
        policy=policy,
        member=member,
        layout=source["layout"],
        timestamps=source["timestamps"],
        time_format=source["time_format"],
        utc_offsets=source["utc_offsets"],
        only_listed_inverters=source["only_listed_inverters"],
        events=events,
    )


def _number(table: dict[str, Any], key: str, where: str, problems: list[str], low: float, high: float) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        problems.append(f"{where} {key} = {value!r}; give a number from {low:g} to {high:g}")
        return math.nan
    return float(value)


def _plant(table: dict[str, Any], problems: list[str]) -> Plant | None:
    """The [plant] table; None (with the problems noted) when it cannot describe a plant."""
    before = len(problems)
    values = read_table(table, PLANT_SETTINGS)
    for setting in PLANT_SETTINGS:
        if setting.required and setting.key not in table:
            problems.append(f"[plant] {setting.key} is missing: {setting.meaning}")
    if len(problems) > before:
        return None
    choices = {"module_technology": MODULE_TECHNOLOGIES, "mounting": MOUNTINGS, "climate_zone": CLIMATE_ZONES}
    for key, allowed in choices.items():
        if values[key] not in allowed:
            problems.append(f"[plant] {key} = {values[key]!r}; use one of {list(allowed)}")
    latitude = _number(table, "latitude", "[plant]", problems, -90, 90)
    longitude = _number(table, "longitude", "[plant]", problems, -180, 180)
    elevation = _number(values, "elevation_m", "[plant]", problems, -500, 9000)
    azimuth = _number(values, "azimuth_deg", "[plant]", problems, -360, 360) % 360  # -2.5 faces as 357.5
    tilt = None
    if values["mounting"] == "fixed":
        if values["tilt_deg"] is None:
            problems.append("[plant] tilt_deg is missing: a fixed plant's module tilt from horizontal [deg]")
        else:
            tilt = _number(values, "tilt_deg", "[plant]", problems, 0, 90)
    elif values["tilt_deg"] is not None:
        problems.append("[plant] tilt_deg is for fixed plants; a single-axis tracker's tilt follows the sun: remove it")
    gamma = values["gamma_pdc_per_c"]
    if gamma is None:
        gamma = GAMMA_PDC_PER_C.get(values["module_technology"], math.nan)
    else:
        gamma = _number(values, "gamma_pdc_per_c", "[plant]", problems, -0.01, 0.0)
    commissioned = None
    try:
        # ISO 8601 only: "01.06.2021" would be read month first.
        commissioned = iso_date(values["commissioned"], "commissioned")
    except ValueError as error:
        problems.append(f"[plant] {error}")
    if len(problems) > before:
        return None
    return Plant(
        latitude=latitude,
        longitude=longitude,
        elevation_m=elevation,
        module_technology=values["module_technology"],
        mounting=values["mounting"],
        tilt_deg=tilt,
        azimuth_deg=azimuth,
        climate_zone=values["climate_zone"],
        gamma_pdc_per_c=float(gamma),
        commissioned=commissioned,
    )


def _inverters(raw: Any, problems: list[str]) -> tuple[Inverter, ...]:
    """The [[inverters]] array: at least one, ids unique, capacities positive, DC/AC from 0.5 to 3.

    No plant is built with under half the module power its inverters convert, or over three times it:
    a ratio outside that is a capacity in W for kW, or DC and AC swapped, and would put the plant in a
    wrong DC/AC cohort.
    Each inverter in range keeps the plant's ratio, their capacity-weighted mean, in range too.
    """
    if not isinstance(raw, list) or not raw:
        problems.append("[[inverters]] is missing: list each inverter with id, dc_capacity_kw and ac_capacity_kw")
        return ()
    inverters = []
    for i, table in enumerate(raw):
        where = f"[[inverters]] #{i + 1}"
        unknown_keys(where, table, INVERTER_SETTINGS, problems)
        if not isinstance(table.get("id"), str) or not table["id"]:
            problems.append(f"{where}: id is missing; give the inverter's id as the export writes it")
            continue
        where = f"[[inverters]] {table['id']}"
        dc = _number(table, "dc_capacity_kw", where, problems, 1e-3, 1e5)
        ac = _number(table, "ac_capacity_kw", where, problems, 1e-3, 1e4)
        ratio = dc / ac  # NaN when a capacity is already refused: no second problem for it
        if not math.isnan(ratio) and not DC_AC_RATIO[0] <= ratio <= DC_AC_RATIO[1]:
            problems.append(
                f"{where}: dc_capacity_kw / ac_capacity_kw = {dc:g} / {ac:g} = {ratio:.2f}, outside "
                f"{DC_AC_RATIO[0]:g}-{DC_AC_RATIO[1]:g}; check both are in kW, DC (modules at STC) and AC "
                "(the inverter's rating) the right way round"
            )
        inverters.append(Inverter(table["id"], dc, ac))
    ids = [inverter.inverter_id for inverter in inverters]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"[[inverters]] id {duplicate!r} is listed twice; each inverter once")
    return tuple(inverters)


def _columns_and_units(
    columns: dict[str, str], units: dict[str, str], layout: str, n_inverters: int, problems: list[str]
) -> None:
    """[columns]: time, asset_id, P_out, an irradiance and a temperature; [units]: convertible to the canonical.

    A wide export has no inverter column; of a plant with more than one inverter, its P_out (and
    status) columns carry ``{asset}``, since one column shared by every inverter would give each the
    plant's power.
    """
    for canonical in (TIME, ASSET_ID, "P_out"):
        if canonical not in columns and not (layout == "wide" and canonical == ASSET_ID):
            problems.append(f"[columns] {canonical} is missing; map it to the export's column name")
    if layout == "wide" and ASSET_ID in columns:
        problems.append(f"[columns] {ASSET_ID}: a wide export has no inverter column; leave it out")
    for canonical in ("P_out", STATUS) if layout == "wide" and n_inverters > 1 else ():
        if canonical in columns and "{asset}" not in columns[canonical]:
            problems.append(
                f'[columns] {canonical} = "{columns[canonical]}": in a wide export of {n_inverters} inverters name '
                'each inverter\'s column with {asset}, e.g. "{asset}_ac_power_kw"'
            )
    if "G_i" not in columns and "G_h" not in columns:
        problems.append("[columns] G_i (plane-of-array irradiance) or G_h (global horizontal) is needed; map one")
    if "T_mod" not in columns and "T_amb" not in columns:
        problems.append("[columns] T_mod (module temperature) or T_amb (ambient temperature) is needed; map one")
    for canonical in sorted(set(columns) - set(COLUMNS)):
        problems.append(f"[columns] {canonical} is not a solar channel; use one of {sorted(COLUMNS)}")
    columns_mapped_twice(columns, problems)
    _units(units, CHANNELS, problems)


def _status(
    table: dict[str, Any], columns: dict[str, str], has_events: bool, problems: list[str]
) -> tuple[tuple[int, ...], dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """The [status] table: available codes, loss category -> codes, component -> failure codes.

    A code is in one list at most; a component's failure codes are inverter_fault codes.
    """
    values = read_table(table, SOLAR_STATUS_SETTINGS)
    seen: dict[int, str] = {}
    lists: dict[str, tuple[int, ...]] = {}
    for key in ("available", *SOLAR_LOSS_CATEGORIES):
        codes = values[key] if values[key] is not None else []
        if not isinstance(codes, list | tuple) or not all(
            isinstance(c, int) and not isinstance(c, bool) for c in codes
        ):
            problems.append(f"[status] {key} = {codes!r}; give a list of integer status codes")
            continue
        for code in codes:
            if code in seen:
                problems.append(f"[status] code {code} is in both {seen[code]} and {key}; a code means one thing")
            seen[code] = key
        lists[key] = tuple(codes)
    if (STATUS in columns or has_events) and not lists.get("available"):
        problems.append("[status] available: list the status codes of an inverter able to produce, e.g. [0]")
    faults = set(lists.get("inverter_fault", ()))
    components = component_failure_codes(
        values["components"], SOLAR_COMPONENTS, faults, "[status] inverter_fault", problems
    )
    return lists.get("available", ()), {c: lists.get(c, ()) for c in SOLAR_LOSS_CATEGORIES}, components
