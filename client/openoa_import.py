"""Write a site.toml from an NREL OpenOA plant metadata file (plant_meta.yml) and its asset table.

OpenOA's ``PlantMetaData`` maps the export's columns to the same IEC 61400-25 names FleetBench uses
(``scada: {WTUR_W: P_avg, ...}``, turbine id under ``id`` or ``asset_id``) and its asset table
holds rated power, rotor diameter, hub height and elevation. What OpenOA does not record (the
turbine model, the export's time zone and status codes) is asked for explicitly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from client.schema import CHANNELS, STATUS
from client.site_config import SiteConfigError

OPENOA_UNITS = {"WTUR_W": "kW", "WMET_EnvTmp": "degC"}  # OpenOA's schema: power in kW, temperature in C


def _read_meta(meta_path: Path) -> dict:
    text = meta_path.read_text(encoding="utf-8")
    try:
        meta = json.loads(text) if meta_path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise SiteConfigError(f"{meta_path}: not valid YAML/JSON ({error})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("scada"), dict) or not isinstance(meta.get("asset"), dict):
        raise SiteConfigError(f"{meta_path}: needs the 'scada' and 'asset' sections of an OpenOA PlantMetaData file")
    return meta


def site_toml_from_openoa(
    meta_path: Path,
    scada_files: list[str],
    asset_table: Path,
    model: str,
    timezone: str = "UTC",
    rated_power_unit: str = "kW",
    normal_status: tuple[int, ...] = (),
) -> str:
    """The site.toml text for an OpenOA-described plant.

    Parameters
    ----------
    meta_path : Path
        OpenOA plant metadata (YAML or JSON).
    scada_files : list of str
        SCADA export paths or globs, relative to where the site.toml will be written.
    asset_table : Path
        The asset table (CSV) whose columns the metadata's ``asset`` section names.
    model : str
        Turbine model of every turbine (OpenOA does not record it).
    timezone, rated_power_unit, normal_status
        The export's time zone, the asset table's rated-power unit (kW or MW), normal status codes.
    """
    meta = _read_meta(meta_path)
    scada, asset = meta["scada"], meta["asset"]
    columns = {"time": scada.get("time"), "asset_id": scada.get("asset_id", scada.get("id"))}
    columns |= {name: scada[name] for name in [*CHANNELS, STATUS] if name in scada}
    missing = [name for name in ("time", "asset_id", "WTUR_W", "WMET_HorWdSpd", "WMET_EnvTmp") if not columns.get(name)]
    if missing:
        raise SiteConfigError(f"{meta_path}: the scada section maps no column to {missing}; add them there")
    if rated_power_unit not in ("kW", "MW"):
        raise SiteConfigError(f"rated power unit {rated_power_unit!r}: use kW or MW")
    table = pd.read_csv(asset_table)
    needed = {key: asset.get(key) for key in ("rated_power", "rotor_diameter", "hub_height")}
    needed["id"] = asset.get("asset_id", asset.get("id"))
    absent = [f"{key} -> {column!r}" for key, column in needed.items() if column not in table.columns]
    if absent:
        raise SiteConfigError(f"{asset_table}: columns {absent} named in the asset section of {meta_path} are missing")
    factor = 1000.0 if rated_power_unit == "MW" else 1.0
    elevation_column = asset.get("elevation")
    elevation = float(table[elevation_column].mean()) if elevation_column in table.columns else None

    lines = ["[site]", f'name = "{Path(meta_path).resolve().parent.name}"', f'timezone = "{timezone}"']
    if elevation is not None:
        lines.append(f"elevation_m = {elevation:.1f}")
    frequency = str(scada.get("frequency", "10min")).replace("T", "min")
    lines += ["", "[source]", f"files = {json.dumps(scada_files)}", 'format = "csv"', f'resolution = "{frequency}"', ""]
    lines += ["[columns]", *[f'{name} = "{column}"' for name, column in columns.items()], ""]
    lines += ["[units]", *[f'{name} = "{unit}"' for name, unit in OPENOA_UNITS.items() if name in columns], ""]
    if STATUS in columns:
        lines += ["[status]", f"normal = {list(normal_status)}", ""]
    for _, row in table.iterrows():
        lines += [
            "[[turbines]]",
            f'asset_id = "{row[needed["id"]]}"',
            f'model = "{model}"',
            f"rated_power_kw = {float(row[needed['rated_power']]) * factor}",
            f"rotor_diameter_m = {float(row[needed['rotor_diameter']])}",
            f"hub_height_m = {float(row[needed['hub_height']])}",
            "",
        ]
    return "\n".join(lines)
