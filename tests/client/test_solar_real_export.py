"""A real PV logger's export, read as it lies: NREL's SERF West, 5 days of January 2022 (tests/data/pvanalytics).

Its quirks: a time column without a name, local standard time without an offset, stamps one minute
past each quarter hour, power in W, negative readings at night, and one inverter with no inverter
column (a wide export). The plant's DC capacity is not published with the data; the PR's reference
below uses the same P_0, so the check does not depend on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from pvdaq import SYSTEM_50, rdtools_sensor_rate, system_50_export

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


def _clock_findings(site: Path) -> list[Finding]:
    report = validate_any_site(site)
    assert report.usable, report.findings
    return [f for f in report.findings if "solar noon" in f.problem]


def test_a_logger_on_daylight_saving_time_is_found_from_the_sun(tmp_path: Path):
    (finding,) = _clock_findings(system_50_export(tmp_path / "as-exported", "as logged"))
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
    assert _clock_findings(system_50_export(tmp_path / "undone", "power undone")) == []


def test_its_stamps_read_as_the_loggers_wall_clock_put_power_and_weather_on_the_sun(tmp_path: Path):
    """The finding's fix: [source] utc_offsets = "ignore" and the zone of the logger's clock, on an export whose
    every column the logger stamped (the weather moved onto its clock too)."""
    site = system_50_export(tmp_path / "fixed", "weather on the logger's")
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
    site = system_50_export(tmp_path / "as-exported", "as logged")
    power = pd.read_parquet(SYSTEM_50)["ac_power_2"]
    assert ((power > 0) & (power < 1.0)).sum() > 1000  # the night readings, in W
    report = validate_any_site(site)
    assert report.turbines.loc["ac_power_2", "stuck_irradiance"] == 0
    assert report.turbines.loc["ac_power_2", "stuck_T_amb"] > 0
    (temperature,) = [f for f in report.findings if f.column == "temp_air"]
    assert "(the longest run: 0 degC for " in temperature.problem
    monkeypatch.setattr(solar_quality, "PRODUCING_SHARE", 0.0)  # control: any power above zero is production
    assert validate_any_site(site).turbines.loc["ac_power_2", "stuck_irradiance"] > 100


def test_its_degradation_rate_is_rdtools_sensor_workflows_on_the_same_rows(tmp_path: Path):
    """2.7 years on the sun's clock: the site's rate beside RdTools' TrendAnalysis on the same rows and expected power.

    Both read GHI transposed to the plane by the site's model and the site's expected power; the site
    divides out its own soiling profile and averages in the days after cleanings, RdTools filters
    and reads year-on-year alone. Neither is the truth (unknown for this plant); a rate that moved away
    from RdTools' own by more than 0.15 %/year, within intervals of +-0.5, would be the site's doing.
    """
    site = load_solar_site_config(system_50_export(tmp_path / "undone", "power undone"))
    spec = solar_spec("pvdaq-50", "2011-04-15T07:00:00Z", "2014-01-01T07:00:00Z", [solar_cohort("all plants")])
    summary = summarise_plant(lambda: read_solar_chunks(site), site, spec)
    assert summary.soiling is not None and summary.degradation is not None
    theirs, (low, high) = rdtools_sensor_rate(site)
    ours = summary.degradation
    assert ours.rate_pct_per_year == pytest.approx(theirs, abs=0.15)
    assert ours.ci_low < high and low < ours.ci_high
