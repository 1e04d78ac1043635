"""NREL PVDAQ system 50, a real multi-year export, as an operator would map it (tests/data/pvanalytics).

Used by tests/client/test_solar_real_export.py and bench/solar_real_export.py.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from client.solar.ingest import read_solar_chunks
from client.solar.irradiance import cell_temperature, plant_plane_of_array
from client.solar.performance import expected_ac_power, expected_dc_power
from client.solar.site_config import SolarSiteConfig

# NREL PVDAQ system 50 (Golden, Colorado): one inverter's AC power, 15-min, 2011-04-15 to 2013-12-31, stamped at a
# fixed UTC-07:00 while the logger kept Mountain daylight time in summer; and the NSRDB PSM3 satellite weather of the
# place (30-min GHI and air temperature, correctly stamped). Both from pvanalytics 0.2.2 (tests/data/pvanalytics).
DATA = Path(__file__).parent / "data" / "pvanalytics"
SYSTEM_50 = DATA / "system_50_ac_power_2_full_DST.parquet"
SYSTEM_50_WEATHER = DATA / "system_50_ac_power_2_full_DST_psm3.parquet"
SYSTEM_50_SITE = """
[site]
kind = "solar"
name = "pvdaq-50"

[plant]
latitude = 39.7406
longitude = -105.1775
elevation_m = 1800.0
module_technology = "mono-Si"
mounting = "fixed"
tilt_deg = 45.0
azimuth_deg = 158.0
climate_zone = "arid"

[[inverters]]
id = "ac_power_2"
dc_capacity_kw = 4.0
ac_capacity_kw = 3.5

[source]
files = ["export.csv"]
layout = "wide"

[columns]
time = "measured_on"
P_out = "{asset}"
G_h = "ghi"
T_amb = "temp_air"

[units]
P_out = "W"
"""
# The tilt and azimuth are pvanalytics' stated truth for the system; its ratings are not published (the largest
# reading is 3.37 kW), so these are assumed: the clock check uses the AC rating only for its 2 % production threshold.


def system_50_export(folder: Path, clock: str) -> Path:
    """The logger's power beside the satellite weather joined on their stamps, as an operator would export it.

    ``clock``: "as logged"; "power undone" (each record's power the one stamped an hour later while
    Denver keeps summer time: the power on the stamps' clock); "weather on the logger's" (each
    record's weather the one stamped an hour earlier then: both on the logger's clock).
    """
    power = pd.read_parquet(SYSTEM_50).set_index("measured_on")["ac_power_2"]
    weather = pd.read_parquet(SYSTEM_50_WEATHER).set_index("index")[["ghi", "temp_air"]]
    weather = weather.reindex(weather.index.union(power.index)).interpolate(limit=1).reindex(power.index)
    summer = np.array([t.dst() != pd.Timedelta(0) for t in power.index.tz_convert("America/Denver")])
    if clock == "power undone":
        power = power.where(~summer, power.shift(-4))
    elif clock == "weather on the logger's":
        weather = weather.where(np.repeat(~summer[:, None], weather.shape[1], axis=1), weather.shift(4))
    export = weather.assign(ac_power_2=power.to_numpy()).rename_axis("measured_on").reset_index()
    folder.mkdir()
    export.to_csv(folder / "export.csv", index=False)  # stamps as 2011-04-15 00:00:00-07:00
    (folder / "site.toml").write_text(SYSTEM_50_SITE)
    return folder / "site.toml"


def rdtools_sensor_rate(site: SolarSiteConfig) -> tuple[float, tuple[float, float]]:
    """RdTools' TrendAnalysis sensor workflow on the site's rows: its year-on-year rate [%/year] and 68.2 % interval.

    The site's own plane-of-array irradiance (GHI transposed), cell temperature and expected AC
    power, so that only the degradation methods differ.
    """
    import rdtools

    frame = pd.concat(read_solar_chunks(site))
    index = pd.DatetimeIndex(frame["time"])
    plant, (inverter,) = site.plant, site.inverters
    g_poa = plant_plane_of_array(plant, index, frame["G_h"].to_numpy())
    t_cell = cell_temperature(g_poa, t_amb=frame["T_amb"].to_numpy())
    p_dc = expected_dc_power(g_poa, t_cell, np.full(len(frame), inverter.dc_capacity_kw), plant.gamma_pdc_per_c)
    analysis = rdtools.TrendAnalysis(
        pd.Series(frame["P_out"].to_numpy(), index=index),
        poa_global=pd.Series(g_poa, index=index),
        power_expected=pd.Series(expected_ac_power(p_dc, inverter.ac_capacity_kw), index=index),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis.sensor_analysis(analyses=["yoy_degradation"])
    result = analysis.results["sensor"]["yoy_degradation"]
    low, high = result["rd_confidence_interval"]
    return float(result["p50_rd"]), (float(low), float(high))
