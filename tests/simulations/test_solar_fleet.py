"""The synthetic solar fleet: its ground truth is what its exports show, read back the way a site reads them."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from client.solar.ingest import read_solar_chunks
from client.solar.schema import CHANNELS
from client.solar.site_config import load_solar_site_config
from protos.domain import CLIMATE_ZONES, MODULE_TECHNOLOGIES, MOUNTINGS
from simulations.solar_fleet import (
    CEC_MODULES,
    CLIMATES,
    OUTAGE_CATEGORIES,
    SolarPlantTruth,
    simulate_solar_plant,
    simulate_solar_plant_with_truth,
    solar_fleet,
    write_solar_fleet,
    write_solar_site,
)

SEED = 7
CODES = {"inverter_fault": 3, "grid": 2, "maintenance": 4, "curtailment": 5}
"""The status codes the task's site.toml fixes for each outage category."""
CANONICAL = ["time", "asset_id", "P_out", "G_i", "G_h", "T_mod", "T_amb", "v_w", "INV_St"]


def read_site(folder: Path) -> tuple[dict, pd.DataFrame]:
    """A site's site.toml as written, and its export as the site's own parser and reader see it (15-min records)."""
    config = tomllib.loads((folder / "site.toml").read_text(encoding="utf-8"))
    site = load_solar_site_config(folder / "site.toml")
    frame = pd.concat(read_solar_chunks(site), ignore_index=True)
    frame["asset_id"] = frame["asset_id"].astype(str)
    return config, frame


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("solar")
    truths = write_solar_fleet(folder, n_plants=3, years=1, seed=SEED)
    sites = {t.name: read_site(folder / t.name) for t in truths}
    records = {t.name: pd.read_parquet(folder / t.name / "truth.parquet") for t in truths}
    return {"folder": folder, "truths": truths, "sites": sites, "records": records}


def clean_plant(fleet_truth: SolarPlantTruth, **changes) -> SolarPlantTruth:
    """A one-inverter, mono-Si, fixed-tilt plant in the arid zone with no soiling, outage or fault, unless changed."""
    lat, lon, elevation = CLIMATES["arid"].sites[0]
    plain = dict(
        module_technology="mono-Si", mounting="fixed", climate_zone="arid", latitude=lat, longitude=lon,
        elevation_m=elevation, tilt_deg=30.0, azimuth_deg=180.0, inverters=("INV01",), dc_capacity_kw=(1100.0,),
        ac_capacity_kw=(1000.0,), soiling_rate_pct_per_day=0.0, cleaning_dates=(), outages=(), underperforming=(),
        sensor_tilt_error_deg=0.0,
    )  # fmt: skip
    return replace(fleet_truth, **{**plain, **changes})


def test_the_fleet_is_varied():
    fleet = solar_fleet(6, 2, np.random.default_rng(1))
    assert {t.mounting for t in fleet} == set(MOUNTINGS)
    assert {t.soiling_schedule for t in fleet} == {"regular", "irregular"}
    assert {t.module_technology for t in fleet} <= set(MODULE_TECHNOLOGIES)
    assert len({t.module_technology for t in fleet}) == 5 and set(CLIMATE_ZONES) == {t.climate_zone for t in fleet}
    for t in fleet:
        assert 2 <= len(t.inverters) <= 6 and len(t.dc_capacity_kw) == len(t.ac_capacity_kw) == len(t.inverters)
        assert all(1.1 <= dc / ac <= 1.5 for dc, ac in zip(t.dc_capacity_kw, t.ac_capacity_kw, strict=True))
        assert -1.2 <= t.degradation_pct_per_year <= -0.3
        assert all(o.category in OUTAGE_CATEGORIES and o.start < o.end for o in t.outages) and t.outages
        assert t.soiling_loss_pct is None and t.clipping_share is None
        if t.soiling_schedule == "regular":
            gaps = np.diff(pd.to_datetime(list(t.cleaning_dates))).astype("timedelta64[D]").astype(int)
            assert len(set(gaps)) == 1 and 30 <= gaps[0] <= 120
    assert sum(len(t.underperforming) for t in fleet) == 2
    assert [t.sensor_tilt_error_deg != 0 for t in fleet] == [False] * 5 + [True]


def test_site_toml_has_the_documented_tables_and_the_plant(fleet):
    for truth in fleet["truths"]:
        config, frame = fleet["sites"][truth.name]
        # [member] first: write_solar_fleet enrols each plant as a consortium member
        assert list(config) == ["member", "site", "plant", "inverters", "source", "columns", "status"]
        assert config["site"] == {"name": truth.name, "kind": "solar", "timezone": "UTC"}
        plant = config["plant"]
        keys = ["latitude", "longitude", "elevation_m", "module_technology", "mounting", "tilt_deg", "azimuth_deg"]
        keys += ["climate_zone", "gamma_pdc_per_c", "commissioned"]
        assert list(plant) == [k for k in keys if k != "tilt_deg" or truth.mounting == "fixed"]
        assert (plant["latitude"], plant["longitude"], plant["module_technology"]) == (
            truth.latitude,
            truth.longitude,
            truth.module_technology,
        )
        module = pvlib.pvsystem.retrieve_sam("CECMod")[CEC_MODULES[truth.module_technology]]
        assert plant["gamma_pdc_per_c"] == pytest.approx(module["gamma_r"] / 100, rel=1e-5)
        assert -0.006 < plant["gamma_pdc_per_c"] < -0.0015
        assert config["inverters"] == [
            {"id": i, "dc_capacity_kw": dc, "ac_capacity_kw": ac}
            for i, dc, ac in zip(truth.inverters, truth.dc_capacity_kw, truth.ac_capacity_kw, strict=True)
        ]
        assert config["source"] == {"files": ["scada/*.parquet"], "format": "parquet", "resolution": "15min"}
        assert config["status"] == {
            "available": [0],
            "inverter_fault": [3],
            "grid": [2],
            "maintenance": [4],
            "curtailment": [5],
            "components": {"inverter": [3]},  # an inverter fault is the inverter's failure
        }
        assert list(frame.columns) == CANONICAL and set(config["columns"]) == set(CANONICAL)
        assert set(CHANNELS) <= set(config["columns"])
        assert str(frame["time"].dt.tz) == "UTC" and sorted(frame["asset_id"].unique()) == list(truth.inverters)
        assert len(frame) == len(truth.inverters) * 365 * 96


def test_ground_truth_json_holds_the_realised_truths(fleet):
    written = json.loads((fleet["folder"] / "ground_truth.json").read_text())
    assert written["seed"] == SEED and written["resolution"] == "15min"
    for plant, truth in zip(written["plants"], fleet["truths"], strict=True):
        assert plant == json.loads(json.dumps({**asdict(truth), "gamma_pdc_per_c": truth.gamma_pdc_per_c}))
        assert truth.soiling_loss_pct is not None and truth.soiling_loss_pct > 0.5
        assert truth.clipping_share is not None


def test_night_rows_are_kept_and_read_zero(fleet):
    for truth in fleet["truths"]:
        frame = fleet["sites"][truth.name][1]
        night = fleet["records"][truth.name]["poa_wm2"].to_numpy() == 0
        assert 0.25 < night.mean() < 0.75
        assert frame.loc[night, "G_i"].abs().max() < 6.0
        assert (frame.loc[night, "P_out"] <= 0).all() and (
            frame.loc[night, "P_out"] > -0.01 * max(truth.ac_capacity_kw)
        ).all()


def test_an_outage_reads_zero_power_and_its_status_code(fleet):
    lit = 0  # outages with daylight records (one may fall into a polar night)
    for truth in fleet["truths"]:
        frame = fleet["sites"][truth.name][1]
        off = np.zeros(len(frame), dtype=bool)
        for outage in truth.outages:
            inside = (
                (frame["asset_id"] == outage.inverter)
                & (frame["time"] >= pd.Timestamp(outage.start))
                & (frame["time"] < pd.Timestamp(outage.end))
            ).to_numpy()
            assert inside.sum() >= 4
            lit += int((frame.loc[inside, "G_i"] > 100).sum() >= 4)
            assert (frame.loc[inside, "P_out"] == 0).all()
            assert (frame.loc[inside, "INV_St"] == CODES[outage.category]).all()
            off |= inside
        assert (frame.loc[~off, "INV_St"] == 0).all()
        assert (frame.loc[~off & (frame["G_i"] > 100).to_numpy(), "P_out"] > 0).all()
    assert lit >= 3


def _energy_ratio(frame: pd.DataFrame, inverter: str, twin: str, ac_kw: float, since=None, until=None) -> float:
    """Energy of ``inverter`` over its twin's, on records where both run and the twin is unclipped."""
    wide = frame.pivot(index="time", columns="asset_id", values="P_out")
    status = frame.pivot(index="time", columns="asset_id", values="INV_St")
    keep = (status[inverter] == 0) & (status[twin] == 0) & wide[twin].between(0.1 * ac_kw, 0.9 * ac_kw)
    if since is not None:
        keep &= wide.index >= pd.Timestamp(since, tz="UTC")
    if until is not None:
        keep &= wide.index < pd.Timestamp(until, tz="UTC")
    return float(wide.loc[keep, inverter].sum() / wide.loc[keep, twin].sum())


def test_an_underperforming_inverter_yields_its_factor_of_a_healthy_twins_energy(fleet):
    cases = [(t, case) for t in fleet["truths"] for case in t.underperforming]
    assert len(cases) == 2 and {case.start is None for _, case in cases} == {True, False}
    for truth, case in cases:
        frame = fleet["sites"][truth.name][1]
        twin = next(i for i in truth.inverters if i != case.inverter)
        ac_kw = truth.ac_capacity_kw[truth.inverters.index(twin)]
        assert _energy_ratio(frame, case.inverter, twin, ac_kw, since=case.start) == pytest.approx(
            case.factor, rel=0.01
        )
        if case.start is not None:
            assert _energy_ratio(frame, case.inverter, twin, ac_kw, until=case.start) == pytest.approx(1.0, rel=0.01)


def test_the_recorded_soiling_loss_is_the_insolation_weighted_loss_of_the_ratio_series(fleet):
    for truth in fleet["truths"]:
        records = fleet["records"][truth.name]
        one = records["asset_id"] == truth.inverters[0]
        ratio, poa = records.loc[one, "soiling_ratio"].to_numpy(), records.loc[one, "poa_wm2"].to_numpy()
        assert truth.soiling_loss_pct == pytest.approx(100 * (1 - np.sum(ratio * poa) / np.sum(poa)), abs=1e-9)
        # The same loss from the export's own irradiance, where the sensor shares the modules' plane.
        if truth.sensor_tilt_error_deg == 0:
            g_i = fleet["sites"][truth.name][1].loc[one, "G_i"].clip(lower=0).to_numpy()
            assert truth.soiling_loss_pct == pytest.approx(100 * (1 - np.sum(ratio * g_i) / np.sum(g_i)), abs=0.05)
        # The ratio falls at the plant's rate and is back to 1 on each cleaning day.
        times = records.loc[one, "time"].reset_index(drop=True)
        for date in truth.cleaning_dates[:5]:
            first = int(np.searchsorted(times, pd.Timestamp(date, tz="UTC")))
            assert ratio[first] == pytest.approx(1 - truth.soiling_rate_pct_per_day / 100 * 7.5 / 1440, abs=1e-9)
        steps = np.diff(ratio)
        assert np.median(steps) == pytest.approx(-truth.soiling_rate_pct_per_day / 100 / 96, rel=1e-6)
        assert (steps > 0).sum() == sum(date < "2023-01-01" for date in truth.cleaning_dates)


def test_soiling_dims_the_cells_and_not_the_sensor(fleet):
    soiled = clean_plant(fleet["truths"][0], soiling_rate_pct_per_day=0.2, cleaning_dates=("2022-02-01",))
    simulation = simulate_solar_plant_with_truth(soiled, "2022-01-01", "2022-03-01", "15min", np.random.default_rng(3))
    clean = simulate_solar_plant(
        clean_plant(fleet["truths"][0]), "2022-01-01", "2022-03-01", "15min", np.random.default_rng(3)
    )
    pd.testing.assert_series_equal(simulation.frame["G_i"], clean["G_i"])
    bright = (clean["G_i"] > 600) & (clean["P_out"] < 900)
    measured = simulation.frame.loc[bright, "P_out"] / clean.loc[bright, "P_out"]
    ratio = simulation.records.loc[bright, "soiling_ratio"]
    assert ratio.min() < 0.95
    assert np.abs(measured - ratio).max() < 0.004


@pytest.mark.parametrize("degradation", [-0.4, -1.1])
def test_degradation_is_the_yearly_fall_of_temperature_corrected_performance(fleet, degradation):
    truth = clean_plant(fleet["truths"][0], degradation_pct_per_year=degradation)
    frame = simulate_solar_plant(truth, "2022-01-01", "2025-01-01", "15min", np.random.default_rng(11))
    config_gamma = truth.gamma_pdc_per_c
    bright = frame[frame["G_i"].between(700, 1000) & (frame["P_out"] < 970)]
    temp_cell = bright["T_mod"] + bright["G_i"] / 1000 * 3.0  # SAPM open rack, glass/polymer: deltaT 3 degC
    performance = bright["P_out"] / (1100 * bright["G_i"] / 1000 * (1 + config_gamma * (temp_cell - 25)))
    years = (bright["time"] - pd.Timestamp("2022-01-01", tz="UTC")) / pd.Timedelta(days=365.25)
    slope, intercept = np.polyfit(years, performance, 1)
    assert 100 * slope / intercept == pytest.approx(degradation, abs=0.1)


def test_the_clipping_share_is_what_the_export_shows(fleet):
    truths = list(fleet["truths"])
    clipping = simulate_solar_plant_with_truth(
        clean_plant(truths[0], dc_capacity_kw=(1500.0,)), "2022-01-01", "2023-01-01", "15min", np.random.default_rng(5)
    )
    cases = [(t, fleet["sites"][t.name][1]) for t in truths] + [(clipping.truth, clipping.frame)]
    assert clipping.truth.clipping_share > 0.05
    for truth, frame in cases:
        ac_kw = frame["asset_id"].map(dict(zip(truth.inverters, truth.ac_capacity_kw, strict=True)))
        daylight = frame["G_i"] > 50
        measured = (frame.loc[daylight, "P_out"] >= 0.997 * ac_kw[daylight]).mean()
        assert measured == pytest.approx(truth.clipping_share, rel=0.1, abs=0.002)


def test_a_tilted_sensor_changes_g_i_and_not_the_power(fleet):
    tilted = next(t for t in fleet["truths"] if t.sensor_tilt_error_deg != 0)
    level = replace(tilted, sensor_tilt_error_deg=0.0)
    frames = [
        simulate_solar_plant(t, "2022-06-01", "2022-07-01", "15min", np.random.default_rng(2)) for t in (tilted, level)
    ]
    pd.testing.assert_series_equal(frames[0]["P_out"], frames[1]["P_out"])
    bright = frames[1]["G_i"] > 300
    assert abs(np.median(frames[0].loc[bright, "G_i"] / frames[1].loc[bright, "G_i"]) - 1) > 0.01


def test_the_same_seed_gives_the_same_frame_and_another_seed_another(fleet):
    truth = fleet["truths"][1]
    frames = [
        simulate_solar_plant(truth, "2022-03-01", "2022-03-15", "15min", np.random.default_rng(seed))
        for seed in (4, 4, 5)
    ]
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert not np.allclose(frames[0]["P_out"], frames[2]["P_out"])
    assert not np.allclose(frames[0]["G_i"], frames[2]["G_i"])


def test_one_minute_records_and_a_csv_export(fleet, tmp_path):
    truth = fleet["truths"][0]
    frame = simulate_solar_plant(truth, "2022-06-01", "2022-06-03", "1min", np.random.default_rng(1))
    assert len(frame) == len(truth.inverters) * 2 * 1440
    assert (frame.groupby("asset_id")["time"].diff().dropna() == pd.Timedelta(minutes=1)).all()
    write_solar_site(truth, frame, tmp_path, file_format="csv")
    config, read = read_site(tmp_path)
    assert config["source"] == {"files": ["scada/*.csv"], "format": "csv", "resolution": "1min"}
    # The site averages 1-min records to 15-min means per inverter.
    means = frame.groupby(["asset_id", frame["time"].dt.floor("15min")])[["P_out", "G_i"]].mean().reset_index()
    assert len(read) == len(means) == len(truth.inverters) * 2 * 96
    read = read.sort_values(["asset_id", "time"]).reset_index(drop=True)
    assert (read["time"] == means["time"]).all()
    assert np.allclose(read["P_out"], means["P_out"], atol=1e-3) and np.allclose(read["G_i"], means["G_i"], atol=1e-3)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("module_technology", "perovskite"), ("mounting", "dual_axis"), ("climate_zone", "alpine"), ("inverters", ("X",))],
)
def test_a_wrong_setting_is_named(setting, value):
    truth = replace(solar_fleet(1, 1, np.random.default_rng(0))[0], **{setting: value})
    with pytest.raises(ValueError, match=setting.rstrip("s") if setting == "inverters" else setting):
        simulate_solar_plant(truth, "2022-01-01", "2022-01-02", "15min", np.random.default_rng(0))
