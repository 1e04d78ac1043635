"""Canonical SCADA schema: IEC 61400-25 names (as NREL OpenOA uses them), units and ranges.

One declaration, read by ingest (unit conversion, validation) and by the quality flags. The ranges
of power and wind speed are the contract's (protos/domain.py): every per-site bound derives from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from protos.domain import MAX_ABS_POWER, MAX_WIND_SPEED


@dataclass(frozen=True)
class Channel:
    """One canonical SCADA signal."""

    name: str
    unit: str
    description: str
    # Physically possible range, inclusive, in `unit`; values outside become NaN at ingest.
    valid_min: float
    valid_max: float


TIME = "time"
ASSET_ID = "asset_id"
STATUS = "WTUR_TurSt"

CHANNELS: dict[str, Channel] = {
    c.name: c
    for c in (
        Channel("WTUR_W", "kW", "active power, 10-min mean", -1.0e4, MAX_ABS_POWER),
        Channel("WMET_HorWdSpd", "m/s", "nacelle wind speed, 10-min mean", 0.0, MAX_WIND_SPEED),
        Channel("WMET_HorWdDir", "deg", "wind direction", 0.0, 360.0),
        Channel("WMET_EnvTmp", "degC", "ambient temperature", -50.0, 60.0),
        Channel("WMET_EnvPres", "Pa", "ambient air pressure", 5.0e4, 1.1e5),
        Channel("WMET_EnvHum", "1", "relative humidity", 0.0, 1.0),
        Channel("WROT_BlPthAngVal", "deg", "blade pitch angle", -10.0, 95.0),
        Channel("WMET_HorWdDirRel", "deg", "wind direction relative to the nacelle (vane), 10-min mean", -180.0, 180.0),
        Channel("WTRM_GbxBrgTmp", "degC", "gearbox (high-speed shaft) bearing temperature", -50.0, 200.0),
        Channel("WGEN_GnBrgTmp", "degC", "generator bearing temperature", -50.0, 200.0),
    )
}
"""Numeric channels FleetBench reads, by canonical name."""

REQUIRED = (TIME, ASSET_ID, "WTUR_W", "WMET_HorWdSpd", "WMET_EnvTmp")
"""Columns every site mapping must provide (temperature for the air density)."""

# Conversions from the units operators export to the canonical unit: value * factor + offset.
UNIT_CONVERSIONS: dict[str, dict[str, tuple[float, float]]] = {
    "kW": {"W": (1e-3, 0.0), "kW": (1.0, 0.0), "MW": (1e3, 0.0)},
    "m/s": {"m/s": (1.0, 0.0), "km/h": (1 / 3.6, 0.0)},
    "deg": {"deg": (1.0, 0.0)},
    "degC": {"degC": (1.0, 0.0), "K": (1.0, -273.15)},
    "Pa": {"Pa": (1.0, 0.0), "hPa": (100.0, 0.0), "mbar": (100.0, 0.0), "kPa": (1000.0, 0.0)},
    "1": {"1": (1.0, 0.0), "%": (0.01, 0.0)},
    "W/m^2": {"W/m^2": (1.0, 0.0), "kW/m^2": (1e3, 0.0)},
}
