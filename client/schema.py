"""Canonical SCADA schema: IEC 61400-25 names (as NREL OpenOA uses them), units and ranges.

One declaration, read by ingest (unit conversion, validation) and by the quality flags.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        Channel("WTUR_W", "kW", "active power, 10-min mean", -1.0e4, 3.0e4),
        Channel("WMET_HorWdSpd", "m/s", "nacelle wind speed, 10-min mean", 0.0, 60.0),
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
}


# IEC 61400-26-1:2019 information categories a status code can map to, and whether time in each
# counts as available (True), unavailable (False) or is excluded from time-based availability (None).
AVAILABILITY_CATEGORIES: dict[str, bool | None] = {
    "full_performance": True,
    "partial_performance": True,
    "technical_standby": True,
    "out_of_environmental_specification": True,
    "requested_shutdown": True,
    "out_of_electrical_specification": True,
    "scheduled_maintenance": False,
    "planned_corrective_action": False,
    "forced_outage": False,
    "suspended": False,
    "force_majeure": None,
    "information_unavailable": None,
}


COMPONENTS = ("gearbox", "generator", "pitch_system", "converter", "yaw_system", "blades", "other")
"""Component categories a forced-outage status code can name, for failure rates (reliability)."""
