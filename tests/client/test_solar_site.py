"""A solar site.toml and its export: parsed, read to 15-min records, validated; bad input named with its fix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from client.contribution import SiteValidationError, prepare_contribution
from client.site_config import SiteConfigError, load_site_config
from client.site_kinds import load_any_site_config, validate_any_site
from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import summarise_plant, summary_key
from protos.census import census_spec, values_spec_of
from protos.domain import SOLAR_LOSS_CATEGORIES
from server.spec import power_curve_spec, solar_cohort, solar_spec

SITE = """
[site]
kind = "solar"
name = "sun"

[plant]
latitude = 40.0
longitude = -3.7
elevation_m = 650.0
module_technology = "mono-Si"
mounting = "fixed"
tilt_deg = 30.0
azimuth_deg = 180.0
climate_zone = "arid"

[[inverters]]
id = "INV01"
dc_capacity_kw = 120.0
ac_capacity_kw = 100.0

[[inverters]]
id = "INV02"
dc_capacity_kw = 120.0
ac_capacity_kw = 100.0

[source]
files = ["export.csv"]
resolution = "5min"

[columns]
time = "Zeit"
asset_id = "WR"
P_out = "P_W"
G_i = "G_POA"
T_mod = "T_Modul"
INV_St = "Status"

[units]
P_out = "W"

[status]
available = [0]
grid = [2]
"""


def _export(folder: Path, rows: int = 24, p_w: float = 50_000.0) -> None:
    times = pd.date_range("2024-06-01T10:00:00Z", periods=rows, freq="5min")
    frames = [
        pd.DataFrame(
            {
                "Zeit": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "WR": inverter,
                "P_W": p_w + np.arange(rows),
                # 800 W/m^2 on the whole, as 15-min means that change: a reading that does not is stuck.
                "G_POA": 800.0 + 0.3 * (-1.0) ** (np.arange(rows) // 3),
                "T_Modul": 45.0,
                "Status": 0,
            }
        )
        for inverter in ("INV01", "INV02")
    ]
    pd.concat(frames).to_csv(folder / "export.csv", index=False)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site.toml").write_text(SITE)
    _export(tmp_path)
    return tmp_path / "site.toml"


def test_a_solar_export_is_read_to_15_minute_means_per_inverter_in_canonical_units(site: Path):
    config = load_any_site_config(site)
    assert config == load_solar_site_config(site) and config.dc_ac_ratio == pytest.approx(1.2)
    assert config.plant.gamma_pdc_per_c == pytest.approx(-0.0037)  # mono-Si's default
    frame = pd.concat(read_solar_chunks(config), ignore_index=True)
    assert len(frame) == 2 * 24 * 5 // 15  # 2 inverters x 2 h of 5-min records, as 15-min means
    first = frame[frame["asset_id"] == "INV01"].iloc[0]
    assert first["time"] == pd.Timestamp("2024-06-01T10:00:00Z")
    assert first["P_out"] == pytest.approx((50_000.0 + 1.0) / 1000.0)  # mean of 50 000, +1, +2 W, in kW
    assert validate_any_site(site).usable


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (('mounting = "fixed"', 'mounting = "dual_axis"'), "[plant] mounting = 'dual_axis'; use one of"),
        (('climate_zone = "arid"', 'climate_zone = "alpine"'), "[plant] climate_zone = 'alpine'"),
        (("tilt_deg = 30.0\n", ""), "[plant] tilt_deg is missing"),
        (('G_i = "G_POA"\n', ""), "[columns] G_i (plane-of-array irradiance) or G_h"),
        (('resolution = "5min"', 'resolution = "20min"'), "must divide 15 minutes"),
        (('resolution = "5min"', 'resolution = "5min"\ntimestamps = "middle"'), "[source] timestamps = 'middle'"),
        (("grid = [2]", "grid = [0]"), "[status] code 0 is in both available and grid"),
        (('P_out = "W"', 'P_out = "GW"'), "[units] P_out = 'GW'; use one of"),
        (('T_mod = "T_Modul"', 'T_mod = "G_POA"'), '[columns] G_i and T_mod are both "G_POA": one column holds one'),
        (('asset_id = "WR"', 'asset_id = "Zeit"'), '[columns] time and asset_id are both "Zeit"'),
        (("dc_capacity_kw = 120.0", "dc_capacity_kw = 40.0"), "[[inverters]] INV01: dc_capacity_kw / ac_capacity_kw"),
        (("dc_capacity_kw = 120.0", "dc_capacity_kw = 1200.0"), "= 1200 / 100 = 12.00, outside 0.5-3; check"),
        (("ac_capacity_kw = 100.0", "ac_capacity_kw = 0.1"), "= 120 / 0.1 = 1200.00, outside 0.5-3; check both"),
        (
            ('climate_zone = "arid"', 'climate_zone = "arid"\ncommissioned = "01.06.2021"'),
            "[plant] commissioned = '01.06.2021'; give an ISO 8601 date, year first: YYYY-MM-DD",
        ),
        (('resolution = "5min"', "resolution = 5"), "[source] resolution = 5; give a text with its unit"),
        (('resolution = "5min"', 'resolution = "5min"\ndelimiter = "tab"'), "[source] delimiter = 'tab'; give one"),
        (
            ('resolution = "5min"', 'resolution = "5min"\nthousands = "."'),
            "[source] thousands and decimal are both '.'",
        ),
        (
            ("grid = [2]", "grid = [2]\ninverter_fault = [3]\n\n[status.components]\npump = [3]"),
            "[status.components] pump is not a component category",
        ),
        (
            ("grid = [2]", "grid = [2]\ninverter_fault = [3]\n\n[status.components]\ninverter = [2]"),
            "inverter = [2]; give a list of status codes that are also listed under [status] inverter_fault",
        ),
        (
            ("grid = [2]", "grid = [2]\ninverter_fault = [3]\n\n[status.components]\ninverter = [3]\ntracker = [3]"),
            "[status.components] tracker: codes [3] are another component's already",
        ),
    ],
)
def test_a_wrong_setting_is_named_with_its_fix(site: Path, edit: tuple[str, str], named: str):
    site.write_text(SITE.replace(*edit))
    with pytest.raises(SiteConfigError) as error:
        load_solar_site_config(site)
    assert named in str(error.value)
    report = validate_any_site(site)
    assert not report.usable and named in report.findings[0].problem


@pytest.mark.parametrize(("dc", "ac"), [(50.0, 100.0), (300.0, 100.0), (4.0, 3.5)])
def test_dc_ac_ratios_from_half_to_three_load(site: Path, dc: float, ac: float):
    site.write_text(
        SITE.replace("dc_capacity_kw = 120.0", f"dc_capacity_kw = {dc}", 1).replace(
            "ac_capacity_kw = 100.0", f"ac_capacity_kw = {ac}", 1
        )
    )
    assert load_solar_site_config(site).inverters[0].dc_capacity_kw / ac == pytest.approx(dc / ac)


def test_a_solar_sources_thousands_separator_and_commissioning_date_are_read(site: Path):
    config = load_solar_site_config(site)
    assert config.thousands is None and config.plant.commissioned is None
    site.write_text(
        SITE.replace(
            'resolution = "5min"', 'resolution = "5min"\ndelimiter = ";"\ndecimal = ","\nthousands = "."'
        ).replace('climate_zone = "arid"', 'climate_zone = "arid"\ncommissioned = "2021-06-01"')
    )
    config = load_solar_site_config(site)
    assert (config.delimiter, config.decimal, config.thousands) == (";", ",", ".")
    assert config.plant.commissioned == pd.Timestamp("2021-06-01", tz="UTC")


def test_an_export_whose_times_do_not_parse_is_not_usable_until_its_time_format_is_set(site: Path):
    """US-style times (6/1/2024 10:00), as two of pvanalytics' real exports write them: every record unreadable."""
    export = pd.read_csv(site.parent / "export.csv")
    export["Zeit"] = pd.to_datetime(export["Zeit"]).dt.strftime("%-m/%-d/%Y %-H:%M")
    export.to_csv(site.parent / "export.csv", index=False)
    errors = [f for f in validate_any_site(site).findings if f.severity == "error"]
    assert [f.turbine for f in errors] == ["INV01", "INV02"]
    assert all("no record has a time" in f.problem and "[source] time_format" in f.fix for f in errors)
    site.write_text(
        site.read_text().replace('resolution = "5min"', 'resolution = "5min"\ntime_format = "%m/%d/%Y %H:%M"')
    )
    assert validate_any_site(site).usable
    frame = pd.concat(read_solar_chunks(load_solar_site_config(site)), ignore_index=True)
    assert frame["time"].iloc[0] == pd.Timestamp("2024-06-01T10:00:00Z") and len(frame) == 2 * 8


def test_a_solar_source_without_a_resolution_is_read_at_15_minutes(site: Path):
    site.write_text(site.read_text().replace('resolution = "5min"\n', ""))
    assert load_solar_site_config(site).resolution == pd.Timedelta(minutes=15)  # wind's 10 min would not divide it


def test_an_end_stamped_export_reads_to_the_records_of_the_start_stamped_one(site: Path):
    """5-min means stamped at their end (10:05 covers 10:00-10:05) average into the same 15-min records."""
    export = pd.read_csv(site.parent / "export.csv")
    by_start = pd.concat(read_solar_chunks(load_solar_site_config(site)), ignore_index=True)
    export["Zeit"] = (pd.to_datetime(export["Zeit"]) + pd.Timedelta(minutes=5)).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    export.to_csv(site.parent / "export.csv", index=False)
    site.write_text(site.read_text().replace('resolution = "5min"', 'resolution = "5min"\ntimestamps = "end"'))
    by_end = pd.concat(read_solar_chunks(load_solar_site_config(site)), ignore_index=True)
    pd.testing.assert_frame_equal(by_end, by_start)


def _wide(site: Path, power_column: str = "{asset} P_W", status_column: str = "{asset} Status") -> Path:
    """The fixture's export written wide, as many loggers do: a row per time, a column per inverter, the plant's
    irradiance and temperature once; its site.toml beside, mapping the same channels."""
    long = pd.read_csv(site.parent / "export.csv")
    wide = long.pivot(index="Zeit", columns="WR", values=["P_W", "Status"])
    wide.columns = [f"{inverter} {channel}" for channel, inverter in wide.columns]
    shared = long[long["WR"] == "INV01"].set_index("Zeit")[["G_POA", "T_Modul"]]
    folder = site.parent / "wide"
    folder.mkdir()
    wide.join(shared).reset_index().to_csv(folder / "export.csv", index=False)
    mapping = '[source]\nlayout = "wide"\n'
    text = (
        SITE.replace('asset_id = "WR"\n', "")
        .replace('P_out = "P_W"', f'P_out = "{power_column}"')
        .replace('INV_St = "Status"', f'INV_St = "{status_column}"')
        .replace("[source]\n", mapping)
    )
    (folder / "site.toml").write_text(text)
    return folder / "site.toml"


def test_a_wide_export_reads_to_the_same_records_as_the_long_one(site: Path):
    """Each inverter's power and status from its own column, the plant's irradiance and temperature shared."""
    wide = _wide(site)
    config = load_solar_site_config(wide)
    assert config.layout == "wide" and config.mapped_columns["asset_id"] == "asset_id"
    read = [pd.concat(read_solar_chunks(load_solar_site_config(s)), ignore_index=True) for s in (site, wide)]
    by_inverter_and_time = [frame.sort_values(["asset_id", "time"], ignore_index=True) for frame in read]
    pd.testing.assert_frame_equal(*by_inverter_and_time)
    assert validate_any_site(wide).usable
    long_summary, wide_summary = (_summary(s) for s in (site, wide))
    assert wide_summary.curve_records.sum() == long_summary.curve_records.sum() > 0
    np.testing.assert_array_equal(wide_summary.curve_histogram, long_summary.curve_histogram)
    assert wide_summary.performance_ratio == long_summary.performance_ratio


@pytest.mark.parametrize(
    ("power", "status", "named"),
    [
        ("P_W", "{asset} Status", '[columns] P_out = "P_W": in a wide export of 2 inverters name each'),
        ("{asset} P_W", "Status", '[columns] INV_St = "Status": in a wide export of 2 inverters name each'),
    ],
)
def test_a_wide_export_of_several_inverters_needs_a_power_column_per_inverter(
    site: Path, power: str, status: str, named: str
):
    with pytest.raises(SiteConfigError, match=re.escape(named)):
        load_solar_site_config(_wide(site, power, status))


def test_a_wide_export_missing_an_inverters_column_is_refused_naming_it(site: Path):
    wide = _wide(site)
    export = pd.read_csv(wide.parent / "export.csv").drop(columns=["INV02 P_W"])
    export.to_csv(wide.parent / "export.csv", index=False)
    with pytest.raises(
        SiteConfigError, match=re.escape("[columns] P_out = '{asset} P_W': 'INV02 P_W' is not a column of the export")
    ):
        list(read_solar_chunks(load_solar_site_config(wide)))


def test_a_wind_reader_given_a_solar_site_says_what_it_is(site: Path):
    with pytest.raises(SiteConfigError, match="read it as a solar site"):
        load_site_config(site)


def test_an_inverter_the_site_does_not_list_is_refused_naming_the_column(site: Path):
    rows = pd.read_csv(site.parent / "export.csv")
    listed = pd.concat(read_solar_chunks(load_solar_site_config(site)), ignore_index=True)
    shared = pd.concat([rows, rows.assign(WR="INV09")])  # an export shared with another plant's inverter
    shared.to_csv(site.parent / "export.csv", index=False)
    report = validate_any_site(site)
    assert not report.usable
    assert "INV09" in report.findings[0].problem and "'WR'" in report.findings[0].problem
    assert "only_listed_inverters = true" in report.findings[0].problem
    site.write_text(
        site.read_text().replace('resolution = "5min"', 'resolution = "5min"\nonly_listed_inverters = true')
    )
    assert validate_any_site(site).usable
    read = pd.concat(read_solar_chunks(load_solar_site_config(site)), ignore_index=True)
    pd.testing.assert_frame_equal(read, listed)  # the listed inverters' records, as before; INV09's left out


def test_power_in_the_wrong_unit_fails_validation_and_nothing_is_computed(site: Path):
    _export(site.parent, p_w=500_000.0)  # 500 kW on a 100 kW inverter: the export is in W, say, but x10
    report = validate_any_site(site)
    assert not report.usable
    finding = next(f for f in report.findings if f.severity == "error")
    assert finding.column == "P_W" and "[units] P_out" in finding.fix
    spec = solar_spec("s", "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", [solar_cohort("all")])
    with pytest.raises(SiteValidationError, match="above 120 %"):
        prepare_contribution(site, spec)


def test_a_solar_site_refuses_a_wind_spec(site: Path):
    wind = power_curve_spec("w", "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", ["E-82/2300"])
    with pytest.raises(ValueError, match="is not for a solar site"):
        prepare_contribution(site, census_spec(wind))


def test_the_command_line_writes_a_solar_spec_and_previews_what_the_plant_would_send(site: Path, capsys):
    from fleetbench.cli import main

    spec_path = site.parent / "spec.json"
    argv = [
        "spec",
        "new",
        "--solar",
        "--id",
        "june",
        "--start",
        "2024-06-01T00:00:00Z",
        "--end",
        "2024-07-01T00:00:00Z",
    ]
    assert main([*argv, "--mounting", "fixed", "--technology", "CdTe", "--out", str(spec_path)]) == 0
    capsys.readouterr()
    assert main(["preview", "--site", str(site), "--spec", str(spec_path), "--json"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert {c["cohort"]: c["member"] for c in preview["cohorts"]} == {"all plants": True, "fixed": True, "CdTe": False}
    records = {b["block"]: b["total"] for b in preview["blocks"]}
    assert records["all plants:IRRADIANCE_RECORD_COUNT"] == 2 * 8  # 2 inverters x 8 records of 15 min
    assert records["CdTe:IRRADIANCE_RECORD_COUNT"] == 0
    cells = {c["cell"]: c for c in preview["cells"]}
    assert cells["inverter_availability"]["census_count"] == 2 and cells["degradation_rate"]["census_count"] == 0


def _summary(site: Path):
    config = load_solar_site_config(site)
    spec = solar_spec("june", "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", [solar_cohort("all")])
    return summarise_plant(lambda: read_solar_chunks(config), config, spec)


def test_messy_status_temperature_and_power_are_read_as_the_site_toml_says(site: Path):
    """An unlisted status and a blank one, a blank temperature and a blank power during a grid outage."""
    rows = pd.read_csv(site.parent / "export.csv")
    inv01 = rows.index[rows["WR"] == "INV01"]
    rows.loc[inv01[:3], "Status"] = 7  # the first 15-min record of INV01: a code [status] does not list
    rows.loc[inv01[3:6], "Status"] = np.nan  # its second: no status at all
    rows.loc[inv01[6:9], ["Status", "P_W"]] = [2, np.nan]  # its third: a grid outage that logged no power
    rows.loc[rows.index[rows["WR"] == "INV02"][:3], "T_Modul"] = np.nan  # INV02's first: no temperature
    rows.to_csv(site.parent / "export.csv", index=False)
    report = validate_any_site(site)
    assert report.usable
    assert any("status codes [7]" in f.problem for f in report.findings)
    summary = _summary(site)
    # INV01: 8 daylight records, the blank one unknown (left out), 2 of the other 7 not available (unlisted, grid);
    # INV02: all 8.
    assert list(summary.inverter_availability) == [5 / 7, 1.0]
    assert summary.lost_energy_kwh[SOLAR_LOSS_CATEGORIES.index("grid")] > 0  # the blank power produced nothing
    assert summary.lost_energy_kwh[SOLAR_LOSS_CATEGORIES.index("inverter_fault")] == 0
    # PR over the records with power: 15 of 16; PR_STC over those with a temperature too: 14.
    mean_kw = {"INV01": (50.001 + 4 * 0.003), "INV02": (50.001 + 4 * 0.003)}
    assert summary.performance_ratio == pytest.approx(mean_kw["INV01"] / (120.0 * 0.8), rel=2e-3)
    gamma, t_cell = -0.0037, 45.0 + 800.0 / 1000.0 * 3.0  # SAPM: module + G/1000 x 3 degC
    assert summary.performance_ratio_stc == pytest.approx(
        mean_kw["INV01"] / (120.0 * 0.8 * (1 + gamma * (t_cell - 25.0))), rel=2e-3
    )


def test_the_census_and_values_rounds_summarise_the_same_spec():
    spec = solar_spec("june", "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", [solar_cohort("all")])
    assert summary_key(values_spec_of(census_spec(spec))) == summary_key(spec)
    other = solar_spec("july", "2024-07-01T00:00:00Z", "2024-08-01T00:00:00Z", [solar_cohort("all")])
    assert summary_key(other) != summary_key(spec)


def test_power_in_watts_read_as_kilowatts_and_an_empty_export_are_errors(site: Path):
    """P_out in W with [units] P_out left at kW: every value is outside the channel's range, an error naming
    [units] (it was a warning, and the plant usable with no power). An export of its header alone: an error.
    Control: the export as site.toml says, usable."""
    assert validate_any_site(site).usable
    site.write_text(site.read_text().replace('P_out = "W"', 'P_out = "kW"'))
    report = validate_any_site(site)
    [finding] = [f for f in report.findings if f.column == "P_W" and f.severity == "error"]
    assert (
        "48 of 48 values of P_out" in finding.problem
        and finding.fix == "set [units] P_out to the export's unit (now kW)"
    )
    site.write_text(site.read_text().replace('P_out = "kW"', 'P_out = "W"'))
    (site.parent / "export.csv").write_text((site.parent / "export.csv").read_text().splitlines()[0] + "\n")
    report = validate_any_site(site)
    assert [f.problem for f in report.findings if f.severity == "error"] == [
        "the export holds no records of the inverters [[inverters]] lists"
    ]
