"""A real PV logger's export, read as it lies: NREL's SERF West, 5 days of January 2022 (tests/data/pvanalytics).

Its quirks: a time column without a name, local standard time without an offset, stamps one minute
past each quarter hour, power in W, negative readings at night, and one inverter with no inverter
column (a wide export). The plant's DC capacity is not published with the data; the PR's reference
below uses the same P_0, so the check does not depend on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import client.solar.quality as solar_quality
from client.site_kinds import validate_any_site
from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import summarise_plant
from client.validate import Finding
from server.spec import solar_cohort, solar_spec

EXPORT = Path(__file__).parents[1] / "data" / "pvanalytics" / "serf_west_15min.csv"
DC_CAPACITY_KW = 6.0

SITE = f"""
[site]
kind = "solar"
name = "serf-west"
timezone = "Etc/GMT+7"

[plant]
latitude = 39.742
longitude = -105.173
elevation_m = 1829.0
module_technology = "mono-Si"
mounting = "fixed"
tilt_deg = 40.0
azimuth_deg = 180.0
climate_zone = "arid"

[[inverters]]
id = "SERF-W"
dc_capacity_kw = {DC_CAPACITY_KW}
ac_capacity_kw = 5.7

[source]
files = ["{EXPORT.as_posix()}"]
resolution = "15min"
layout = "wide"

[columns]
time = "Unnamed: 0"
P_out = "ac_power__773"
G_i = "poa_irradiance__771"
T_mod = "module_temp_1__781"
T_amb = "ambient_temp__780"

[units]
P_out = "W"
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site.toml").write_text(SITE)
    return tmp_path / "site.toml"


def test_the_real_export_validates_with_every_record_in_local_standard_time(site: Path):
    report = validate_any_site(site)
    assert report.usable, report.findings
    profile = report.turbines.loc["SERF-W"]
    assert profile["rows"] == 480 and profile["gaps"] == 0 and profile["duplicates"] == 0
    assert profile["first"] == pd.Timestamp("2022-01-02T07:01:00Z")  # 00:01 MST
    assert profile["last"] == pd.Timestamp("2022-01-07T06:46:00Z")


def test_its_performance_ratio_is_the_iec_formula_over_its_raw_rows(site: Path):
    """PR = sum P_out tau / sum (P_0 G_i / 1000 W/m^2 tau) (IEC 61724-1:2021), from the CSV by pandas alone."""
    raw = pd.read_csv(EXPORT)
    reference = (raw["ac_power__773"] / 1000.0).sum() / (DC_CAPACITY_KW * raw["poa_irradiance__771"].sum() / 1000.0)
    config = load_solar_site_config(site)
    spec = solar_spec("serf", "2022-01-02T00:00:00Z", "2022-01-08T00:00:00Z", [solar_cohort("all plants")])
    summary = summarise_plant(lambda: read_solar_chunks(config), config, spec)
    assert summary.performance_ratio == pytest.approx(reference, rel=1e-9)
    assert summary.inverter_records.sum() == 480


# NREL PVDAQ system 50 (Golden, Colorado): one inverter's AC power, 15-min, 2011-04-15 to 2013-12-31, stamped at a
# fixed UTC-07:00 while the logger kept Mountain daylight time in summer; and the NSRDB PSM3 satellite weather of the
# place (30-min GHI and air temperature, correctly stamped). Both from pvanalytics 0.2.2 (tests/data/pvanalytics).
SYSTEM_50 = EXPORT.parent / "system_50_ac_power_2_full_DST.parquet"
SYSTEM_50_WEATHER = EXPORT.parent / "system_50_ac_power_2_full_DST_psm3.parquet"
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


def _system_50_export(folder: Path, clock: str) -> Path:
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


def _clock_findings(site: Path) -> list[Finding]:
    report = validate_any_site(site)
    assert report.usable, report.findings
    return [f for f in report.findings if "solar noon" in f.problem]


def test_a_logger_on_daylight_saving_time_is_found_from_the_sun(tmp_path: Path):
    (finding,) = _clock_findings(_system_50_export(tmp_path / "as-exported", "as logged"))
    periods = re.findall(r"(\d{4}-\d\d) to (\d{4}-\d\d) \(\+(\d+) min\)", finding.problem)
    assert [(first, last) for first, last, _ in periods] == [
        ("2011-04", "2011-10"),
        ("2012-03", "2012-10"),
        ("2013-03", "2013-10"),
    ]  # US daylight saving time: March (April, where the data begin) to early November
    assert all(40 <= int(minutes) <= 65 for _, _, minutes in periods), finding.problem
    other = int(re.search(r"; ([+-]\d+) min in the other months", finding.problem).group(1))
    assert abs(other) <= 10
    assert "daylight saving time" in finding.fix and 'utc_offsets = "ignore"' in finding.fix
    # Control: the same export with summer's power moved back one hour is on the sun's clock throughout.
    assert _clock_findings(_system_50_export(tmp_path / "undone", "power undone")) == []


def test_its_stamps_read_as_the_loggers_wall_clock_put_power_and_weather_on_the_sun(tmp_path: Path):
    """The finding's fix: [source] utc_offsets = "ignore" and the zone of the logger's clock, on an export whose
    every column the logger stamped (the weather moved onto its clock too)."""
    site = _system_50_export(tmp_path / "fixed", "weather on the logger's")
    fixed = (
        site.read_text()
        .replace('name = "pvdaq-50"', 'name = "pvdaq-50"\ntimezone = "America/Denver"')
        .replace('layout = "wide"', 'layout = "wide"\nutc_offsets = "ignore"')
    )
    site.write_text(fixed)
    assert _clock_findings(site) == []
    report = validate_any_site(site)
    # The stamps of each spring-forward night's 02:00-02:45 (2012, 2013) never show on a wall clock: left out.
    assert report.turbines.loc["ac_power_2", "bad_time"] == 8
    # Control: the same export with its offsets read has its summers an hour late.
    site.write_text(fixed.replace('utc_offsets = "ignore"', 'utc_offsets = "read"'))
    (finding,) = _clock_findings(site)
    assert "2012-03 to 2012-10" in finding.problem


def test_its_loggers_night_readings_of_a_few_watts_leave_the_night_irradiance_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The inverter reads 0.05-0.3 W on many nights; a zero irradiance then is no stuck sensor, as it was when any
    power above zero counted as producing. The satellite air temperature, never below 0 degC in Colorado winters, is."""
    site = _system_50_export(tmp_path / "as-exported", "as logged")
    power = pd.read_parquet(SYSTEM_50)["ac_power_2"]
    assert ((power > 0) & (power < 1.0)).sum() > 1000  # the night readings, in W
    report = validate_any_site(site)
    assert report.turbines.loc["ac_power_2", "stuck_irradiance"] == 0
    assert report.turbines.loc["ac_power_2", "stuck_T_amb"] > 0
    (temperature,) = [f for f in report.findings if f.column == "temp_air"]
    assert "(the longest run: 0 degC for " in temperature.problem
    monkeypatch.setattr(solar_quality, "PRODUCING_SHARE", 0.0)  # control: any power above zero is production
    assert validate_any_site(site).turbines.loc["ac_power_2", "stuck_irradiance"] > 100
