"""A real PV logger's export, read as it lies: NREL's SERF West, 5 days of January 2022 (tests/data/pvanalytics).

Its quirks: a time column without a name, local standard time without an offset, stamps one minute
past each quarter hour, power in W, negative readings at night, and one inverter with no inverter
column (a wide export). The plant's DC capacity is not published with the data; the PR's reference
below uses the same P_0, so the check does not depend on it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from client.site_kinds import validate_any_site
from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import summarise_plant
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
