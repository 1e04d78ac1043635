"""Canonical solar SCADA schema: IEC 61724-1:2021 quantities, units and physically possible ranges.

One canonical row is one inverter at one time (``asset_id`` names the inverter); the plant's
meteorological channels repeat on every inverter's row (a wide export's shared columns are repeated
so when stacked). Ingest renames the operator's columns to these names, converts units and blanks
values outside the ranges.
"""

from __future__ import annotations

from client.schema import Channel
from protos.domain import MAX_INVERTER_AC_KW, SOLAR_RECORD_PERIOD

TIME = "time"
ASSET_ID = "asset_id"
STATUS = "INV_St"
"""The inverter's status code (site.toml ``[status]`` says which codes are available)."""

RECORD_PERIOD = SOLAR_RECORD_PERIOD
"""A solar record: one 15-minute mean per inverter (the contract's). Finer exports are averaged to it on site."""

CHANNELS: dict[str, Channel] = {
    c.name: c
    for c in (
        Channel("P_out", "kW", "inverter AC output power, interval mean", -100.0, MAX_INVERTER_AC_KW),
        Channel("G_i", "W/m^2", "in-plane (plane-of-array) irradiance", -20.0, 1600.0),
        Channel("G_h", "W/m^2", "global horizontal irradiance", -20.0, 1600.0),
        Channel("T_mod", "degC", "PV module (back-of-module) temperature", -50.0, 100.0),
        Channel("T_amb", "degC", "ambient air temperature", -50.0, 60.0),
        Channel("v_w", "m/s", "wind speed", 0.0, 60.0),
    )
}
"""Numeric channels a solar site reads, by IEC 61724-1 symbol."""

REQUIRED = (TIME, ASSET_ID, "P_out")
"""Columns every solar mapping gives; besides, one irradiance (``G_i`` or ``G_h``) and one temperature
(``T_mod`` or ``T_amb``)."""
