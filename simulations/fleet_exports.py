"""How operators write their SCADA data: export styles, the export itself and the site.toml.

Each operator's SCADA system names its columns, picks its units, delimiter, decimal mark and
time zone, and codes turbine states its own way (:class:`ExportStyle`; :func:`export_style` says
which one an operator uses). :func:`to_export` turns canonical records (UTC, kW, degC, deg) into
that export, :func:`site_toml` writes the site.toml that tells FleetBench how to read it back, and
:func:`write_operator_files` writes both with the operator's truth.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from protos.domain import AVAILABILITY_CATEGORIES, COMPONENTS
from simulations.fleet_faults import FAILURE_COMPONENTS
from simulations.fleet_turbines import TurbineType, turbine_type

if TYPE_CHECKING:
    from simulations.fleet import FleetConfig

STATUS_CATEGORIES: dict[str, str] = {
    "normal": "full_performance",
    "curtailed": "partial_performance",
    "fault": "forced_outage",
    "maintenance": "scheduled_maintenance",
    **dict.fromkeys(FAILURE_COMPONENTS, "forced_outage"),
}
"""IEC 61400-26-1 information category of each status an export writes; site.toml reads this one list."""


@dataclass(frozen=True)
class ExportQuirks:
    """What a real export does that a clean one does not (each seen in a public multi-year 10-min export)."""

    nacelle_wind_speed_factor: float = 0.93  # [-], the nacelle anemometer reads the wind the rotor has slowed
    idle_consumption_kw: float = 5.0  # [kW], an idle turbine draws up to this from the grid: negative power
    temperature_sentinel: float = -273.2  # [degC], written for a missing temperature
    sentinel_fraction: float = 0.01  # [-], share of temperature values written as the sentinel
    empty_row_fraction: float = 0.005  # [-], rows with a time and a turbine and every channel empty
    repeat_spring_forward_hour: bool = True  # the exporter writes the hour after the spring DST change twice


@dataclass(frozen=True)
class ExportStyle:
    """How one operator's SCADA system writes its export.

    ``status_codes`` holds one code per key of :data:`STATUS_CATEGORIES`: normal, fault (generic
    downtime), curtailed, maintenance and a forced-outage code per component of
    :data:`FAILURE_COMPONENTS`.
    """

    file_format: str
    columns: dict[str, str]
    units: dict[str, str]
    delimiter: str = ","
    decimal: str = "."
    timezone: str = "UTC"
    status_codes: dict[str, int] = field(
        default_factory=lambda: {
            "normal": 0,
            "fault": 1,
            "curtailed": 2,
            "maintenance": 3,
            "gearbox": 11,
            "generator": 12,
            "pitch_system": 13,
            "converter": 14,
        }
    )
    quirks: ExportQuirks | None = None


EXPORT_STYLES = (
    ExportStyle(
        "csv",
        {
            "time": "Timestamp",
            "asset_id": "Turbine",
            "WTUR_W": "ActivePower_kW",
            "WMET_HorWdSpd": "WindSpeed_ms",
            "WTUR_TurSt": "Status",
            "WMET_EnvTmp": "AmbientTemp_C",
            "WMET_EnvPres": "AirPressure_hPa",
            "WMET_HorWdDirRel": "NacelleVane_deg",
            "WTRM_GbxBrgTmp": "GearboxBearingTemp_C",
            "WGEN_GnBrgTmp": "GeneratorBearingTemp_C",
        },
        {"WMET_EnvPres": "hPa"},
    ),
    ExportStyle(
        "csv",
        {
            "time": "Zeitstempel",
            "asset_id": "Anlage",
            "WTUR_W": "Wirkleistung",
            "WMET_HorWdSpd": "Windgeschwindigkeit",
            "WTUR_TurSt": "Betriebszustand",
            "WMET_EnvTmp": "Aussentemperatur",
            "WMET_HorWdDirRel": "Windrichtung_Gondel",
            "WTRM_GbxBrgTmp": "Temperatur_Getriebelager",
            "WGEN_GnBrgTmp": "Temperatur_Generatorlager",
        },
        {"WTUR_W": "W", "WMET_EnvTmp": "K", "WTRM_GbxBrgTmp": "K", "WGEN_GnBrgTmp": "K"},
        delimiter=";",
        decimal=",",
        timezone="Europe/Berlin",
        status_codes={
            "normal": 100,
            "fault": 400,
            "curtailed": 210,
            "maintenance": 300,
            "gearbox": 410,
            "generator": 420,
            "pitch_system": 430,
            "converter": 440,
        },
    ),
    ExportStyle(
        "parquet",
        {
            "time": "ts",
            "asset_id": "wtg",
            "WTUR_W": "p_mw",
            "WMET_HorWdSpd": "ws",
            "WTUR_TurSt": "state",
            "WMET_EnvTmp": "t_amb",
            "WMET_HorWdDirRel": "yaw_misalign",
            "WTRM_GbxBrgTmp": "t_gbx_bearing",
            "WGEN_GnBrgTmp": "t_gen_bearing",
        },
        {"WTUR_W": "MW"},
        status_codes={
            "normal": 1,
            "fault": 5,
            "curtailed": 3,
            "maintenance": 4,
            "gearbox": 51,
            "generator": 52,
            "pitch_system": 53,
            "converter": 54,
        },
    ),
    # A SCADA export with no status codes at all, but the blade pitch angle: the site's status
    # filter then judges records by signature (client/filters.py: status_flag).
    ExportStyle(
        "csv",
        {
            "time": "Date_Time",
            "asset_id": "WTG",
            "WTUR_W": "Power_kW",
            "WMET_HorWdSpd": "Wind_ms",
            "WROT_BlPthAngVal": "Pitch_deg",
            "WMET_EnvTmp": "Temp_C",
        },
        {},
        status_codes={},
    ),
    # A real export's quirks (ExportQuirks): no status codes, local time with UTC offsets, a nacelle
    # anemometer reading low, negative idle power, temperature sentinels, empty rows, a repeated hour.
    ExportStyle(
        "csv",
        {
            "time": "# Date and time",
            "asset_id": "Turbine",
            "WTUR_W": "Power (kW)",
            "WMET_HorWdSpd": "Wind speed (m/s)",
            "WROT_BlPthAngVal": "Blade angle (pitch position) A (deg)",
            "WMET_EnvTmp": "Ambient temperature (converter) (degC)",
            "WTRM_GbxBrgTmp": "Gear bearing temperature, rotor side (degC)",
            "WGEN_GnBrgTmp": "Generator bearing front temperature (degC)",
        },
        {},
        timezone="Europe/London",
        status_codes={},
        quirks=ExportQuirks(),
    ),
)
"""Styles 0-2 are the default fleets' (with status codes); style 3 has none, and a pitch channel;
style 4 is style 3 with a real export's quirks."""


def export_style(config: FleetConfig, operator: int) -> ExportStyle:
    """The export style operator ``operator`` writes."""
    if config.export_styles:
        return EXPORT_STYLES[config.export_styles[operator % len(config.export_styles)]]
    return EXPORT_STYLES[(operator // len(config.models)) % 3]


TEMPERATURE_CHANNELS = ("WMET_EnvTmp", "WTRM_GbxBrgTmp", "WGEN_GnBrgTmp")


def to_export(records: pd.DataFrame, style: ExportStyle) -> pd.DataFrame:
    """Canonical records -> the operator's own export columns, units and local time."""
    factors = {"W": 1e3, "MW": 1e-3}
    out = pd.DataFrame()
    local = records["time"].dt.tz_convert(style.timezone)
    out[style.columns["time"]] = local if style.file_format == "parquet" else local.map(lambda t: t.isoformat())
    out[style.columns["asset_id"]] = records["asset_id"]
    out[style.columns["WTUR_W"]] = records["WTUR_W"] * factors.get(style.units.get("WTUR_W", "kW"), 1.0)
    out[style.columns["WMET_HorWdSpd"]] = records["WMET_HorWdSpd"].round(3)
    for name in ("WTUR_TurSt", "WROT_BlPthAngVal"):
        if name in style.columns:
            out[style.columns[name]] = records[name].round(2) if name == "WROT_BlPthAngVal" else records[name]
    for name in TEMPERATURE_CHANNELS:
        if name in style.columns:
            kelvin = 273.15 if style.units.get(name) == "K" else 0.0
            out[style.columns[name]] = (records[name] + kelvin).round(2)
    if "WMET_EnvPres" in style.columns:
        out[style.columns["WMET_EnvPres"]] = (records["WMET_EnvPres"] / 100.0).round(2)  # hPa
    if "WMET_HorWdDirRel" in style.columns:
        out[style.columns["WMET_HorWdDirRel"]] = records["WMET_HorWdDirRel"].round(2)
    return out


def with_export_quirks(records: pd.DataFrame, quirks: ExportQuirks, rng: np.random.Generator) -> pd.DataFrame:
    """Canonical records as an exporter with ``quirks`` writes them (still UTC, kW, degC).

    Draws from ``rng`` in this order: idle consumption, sentinels per temperature channel, empty rows.
    """
    out = records.copy()
    out["WMET_HorWdSpd"] = out["WMET_HorWdSpd"] * quirks.nacelle_wind_speed_factor
    idle = (out["WTUR_W"] <= 0).to_numpy()
    out.loc[idle, "WTUR_W"] = -rng.uniform(0.0, quirks.idle_consumption_kw, int(idle.sum()))
    for name in TEMPERATURE_CHANNELS:
        if name in out:
            out.loc[rng.random(len(out)) < quirks.sentinel_fraction, name] = quirks.temperature_sentinel
    channels = [c for c in out.columns if c not in ("time", "asset_id")]
    out.loc[rng.random(len(out)) < quirks.empty_row_fraction, channels] = np.nan
    if quirks.repeat_spring_forward_hour:
        repeated = out[np.isin(out["time"].dt.floor("h"), spring_forward_hours(out["time"]))]
        out = pd.concat([out, repeated]).sort_values(["asset_id", "time"], kind="stable", ignore_index=True)
    return out


def spring_forward_hours(times: pd.Series) -> list[pd.Timestamp]:
    """The first hour (UTC) of European summer time in each year ``times`` span: last Sunday of March, 01:00 UTC."""
    hours = []
    for year in range(times.min().year, times.max().year + 1):
        march_31 = pd.Timestamp(year=year, month=3, day=31, hour=1, tz="UTC")
        hours.append(march_31 - pd.Timedelta(days=(march_31.weekday() + 1) % 7))
    return hours


def _toml_list(codes: list[int]) -> str:
    return "[" + ", ".join(str(c) for c in codes) + "]"


def site_toml(
    name: str,
    data_file: str,
    style: ExportStyle,
    kind: TurbineType,
    asset_ids: list[str],
    elevation_m: float,
    commissioning_dates: Mapping[str, str] | None = None,
) -> str:
    """The site.toml an operator would write for this export.

    Status codes map to IEC 61400-26-1 categories through :data:`STATUS_CATEGORIES`; each
    component's forced-outage code is listed under ``[status.components]``.
    ``commissioning_dates`` (asset id -> ISO date) become TOML dates.
    """
    categories: dict[str, list[int]] = {}
    for status, code in style.status_codes.items():
        categories.setdefault(STATUS_CATEGORIES[status], []).append(code)
    lines = [
        "[site]",
        f'name = "{name}"',
        f'timezone = "{style.timezone}"',
        f"elevation_m = {elevation_m:.0f}",
        "",
        "[source]",
        f'files = ["{data_file}"]',
        f'format = "{style.file_format}"',
        f'delimiter = "{style.delimiter}"',
        f'decimal = "{style.decimal}"',
        "",
        "[columns]",
        *[f'{canonical} = "{column}"' for canonical, column in style.columns.items()],
        "",
        "[units]",
        *[f'{canonical} = "{unit}"' for canonical, unit in style.units.items()],
        "",
    ]
    if style.quirks is not None:
        sentinel = style.quirks.temperature_sentinel
        lines += ["[sentinels]", *[f"{c} = [{sentinel}]" for c in TEMPERATURE_CHANNELS if c in style.columns], ""]
    if style.status_codes:
        lines += [
            "[status]",
            f"normal = [{style.status_codes['normal']}]",
            "",
            "[status.categories]",
            *[f"{c} = {_toml_list(categories[c])}" for c in AVAILABILITY_CATEGORIES if c in categories],
            "",
            "[status.components]",
            *[f"{c} = [{style.status_codes[c]}]" for c in COMPONENTS if c in style.status_codes],
            "",
        ]
    for asset_id in asset_ids:
        lines += [
            "[[turbines]]",
            f'asset_id = "{asset_id}"',
            f'model = "{kind.model}"',
            f"rated_power_kw = {kind.rated_power_kw}",
            f"rotor_diameter_m = {kind.rotor_diameter_m}",
            f"hub_height_m = {kind.hub_height_m}",
            f'iec_wind_class = "{kind.iec_wind_class}"',
        ]
        if commissioning_dates and asset_id in commissioning_dates:
            lines.append(f"commissioning_date = {commissioning_dates[asset_id]}")
        lines.append("")
    return "\n".join(lines)


def write_operator_files(
    site_dir: Path, style: ExportStyle, records: pd.DataFrame, truth_records: pd.DataFrame, truth: Mapping
) -> Path:
    """Write one operator's export, site.toml and truth into ``site_dir``; return the site.toml.

    Parameters
    ----------
    site_dir : pathlib.Path
        The operator's folder; created if missing. It receives ``scada.csv`` or ``scada.parquet``
        (as ``style`` says), ``site.toml``, ``truth.parquet`` and ``turbines.json``.
    style : ExportStyle
        How the operator writes its export.
    records : pandas.DataFrame
        Canonical records (UTC, kW, degC, deg), as :func:`simulations.fleet_operator.simulate_operator` returns them.
    truth_records : pandas.DataFrame
        Per-record truth, written to ``truth.parquet``.
    truth : Mapping
        The operator's truth: ``model``, ``elevation_m`` [m] and ``turbines`` (per-turbine truth,
        written to ``turbines.json``; its commissioning dates go into the site.toml).
    """
    site_dir.mkdir(exist_ok=True)
    export = to_export(records, style)
    data_file = f"scada.{style.file_format}"
    if style.file_format == "parquet":
        export.to_parquet(site_dir / data_file, index=False)
    else:
        export.to_csv(site_dir / data_file, sep=style.delimiter, decimal=style.decimal, index=False)
    truth_records.to_parquet(site_dir / "truth.parquet", index=False)
    (site_dir / "turbines.json").write_text(json.dumps(truth["turbines"], indent=1))
    kind = turbine_type(truth["model"])
    asset_ids = sorted(records["asset_id"].unique())
    dates = {t["asset_id"]: t["commissioning_date"] for t in truth["turbines"]}
    text = site_toml(site_dir.name, data_file, style, kind, asset_ids, truth["elevation_m"], dates)
    (site_dir / "site.toml").write_text(text)
    return site_dir / "site.toml"
