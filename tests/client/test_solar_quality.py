"""Stuck power, irradiance and temperature readings: the masks against runs counted by hand and injected faults."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

import client.solar.quality as solar_quality
import client.solar.summaries as solar_summaries
import client.solar.validate as solar_validate
from client.runs import long_run_context
from client.solar.ingest import read_solar_chunks
from client.solar.irradiance import plane_of_array_irradiance
from client.solar.quality import (
    PRODUCING_SHARE,
    SHIFT_WINDOW_DAYS,
    TEMPERATURE_STUCK_MIN_DURATIONS,
    day_length,
    level_shift,
    midday_offset,
    production_edges,
    production_min_records,
    solar_noon,
    stuck_context,
    stuck_flag,
    stuck_min_records,
    stuck_readings,
    stuck_temperature,
)
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import PlantSummary, summarise_plant
from client.solar.validate import validate_solar_site
from client.streaming import chunks_with_context
from client.validate import Finding
from protos.domain import SOLAR_RECORD_PERIOD
from server.spec import solar_cohort, solar_spec
from simulations.solar_fleet import (
    CLIMATES,
    SolarPlantTruth,
    Underperformance,
    simulate_solar_plant_with_truth,
    solar_fleet,
    write_solar_site,
)

START, END = "2022-06-01T00:00:00Z", "2022-07-01T00:00:00Z"
STUCK_KW = 612.345
STUCK_FROM, STUCK_TO = "2022-06-10T09:00:00Z", "2022-06-16T15:00:00Z"  # INV02's logger repeats for 6 days


def _runs_by_hand(values: np.ndarray, inverter: np.ndarray, judged: np.ndarray, min_run: int) -> np.ndarray:
    """Split into runs (a new inverter, a record not judged or a changed value starts one); flag those >= min_run."""
    n = len(values)
    expected = np.zeros(n, dtype=bool)
    start = 0
    for i in range(1, n + 1):
        if i == n or inverter[i] != inverter[i - 1] or not (judged[i] and judged[i - 1]) or values[i] != values[i - 1]:
            expected[start:i] = i - start >= min_run and judged[start]
            start = i
    return expected


@pytest.mark.parametrize("min_run", [2, 3, 8, 13])
def test_stuck_flags_equal_the_run_lengths_definition(min_run):
    rng = np.random.default_rng(min_run)
    n = 4_000
    values = np.round(rng.uniform(0.0, 0.3, n), 1)  # coarse: runs of every length
    values[rng.random(n) < 0.03] = np.nan
    values[200:230] = 7.0
    judged = rng.random(n) > 0.05
    inverter = np.sort(rng.integers(0, 3, n))
    flags = stuck_flag(values, inverter, judged, min_run)
    np.testing.assert_array_equal(flags, _runs_by_hand(values, inverter, judged, min_run))
    assert flags[200:230].all() or not judged[200:230].all()


def test_a_tolerance_joins_readings_that_step_by_at_most_it():
    values = np.array([5.0, 5.01, 5.02, 5.0, 5.5, 5.5, 6.0])
    judged = np.ones(7, dtype=bool)
    inverter = np.zeros(7, dtype=np.int64)
    assert not stuck_flag(values, inverter, judged, 3).any()
    np.testing.assert_array_equal(stuck_flag(values, inverter, judged, 3, atol=0.02), [1, 1, 1, 1, 0, 0, 0])
    with pytest.raises(ValueError, match="min_run"):
        stuck_flag(values, inverter, judged, 1)
    with pytest.raises(ValueError, match="atol"):
        stuck_flag(values, inverter, judged, 3, atol=-1.0)


def test_night_zeros_outages_and_clipping_are_not_stuck_but_a_frozen_reading_is():
    n = 12
    inverter = np.zeros(n, dtype=np.int64)
    ac = np.full(n, 100.0)
    night = (np.zeros(n), np.zeros(n))  # power and irradiance both zero
    outage = (np.zeros(n), np.linspace(300.0, 600.0, n))  # no power in good light
    clipping = (np.full(n, 100.0), np.linspace(700.0, 1000.0, n))  # flat at the AC limit
    for power, irradiance in (night, outage, clipping):
        stuck_power, stuck_irradiance = stuck_readings(power, irradiance, inverter, ac, min_run=4)
        assert not stuck_power.any() and not stuck_irradiance.any()
    frozen_power = stuck_readings(np.full(n, 12.3), np.linspace(300.0, 600.0, n), inverter, ac, min_run=4)
    frozen_sensor = stuck_readings(np.linspace(20.0, 60.0, n), np.zeros(n), inverter, ac, min_run=4)
    assert frozen_power[0].all() and not frozen_power[1].any()
    night_after = stuck_readings(np.full(n, 12.3), np.zeros(n), inverter, ac, min_run=4)  # the stuck power runs on
    assert night_after[0].all() and not night_after[1].any()  # night's zero irradiance is not judged by it
    assert frozen_sensor[1].all() and not frozen_sensor[0].any()  # zero in-plane irradiance while producing
    # A logger frozen while clipping: its daylight records read as clipping, the night's at the limit are stuck.
    dusk = np.r_[np.linspace(900.0, 600.0, 6), np.zeros(6)]
    frozen_at_limit = stuck_readings(np.full(n, 100.0), dusk, inverter, ac, min_run=4)[0]
    np.testing.assert_array_equal(frozen_at_limit, dusk < 50.0)


def test_power_held_at_a_curtailment_setpoint_is_commanded_not_stuck():
    """50 kW for 3 h under a curtailment status: the status says why it is flat; the same without it is stuck."""
    n = 12
    inverter, ac, irradiance = np.zeros(n, dtype=np.int64), np.full(n, 100.0), np.linspace(500.0, 800.0, n)
    setpoint = np.full(n, 50.0)
    curtailed = stuck_readings(setpoint, irradiance, inverter, ac, min_run=4, commanded=np.ones(n, dtype=bool))
    assert not curtailed[0].any()
    assert stuck_readings(setpoint, irradiance, inverter, ac, min_run=4, commanded=np.zeros(n, dtype=bool))[0].all()


def _planned(*underperforming: Underperformance) -> SolarPlantTruth:
    """A fixed arid plant of two 1000 kW inverters, without outages."""
    lat, lon, elevation = CLIMATES["arid"].sites[0]
    return replace(
        solar_fleet(1, 1, np.random.default_rng(5))[0],
        mounting="fixed",
        latitude=lat,
        longitude=lon,
        elevation_m=elevation,
        tilt_deg=30.0,
        azimuth_deg=180.0,
        inverters=("INV01", "INV02"),
        dc_capacity_kw=(1200.0,) * 2,
        ac_capacity_kw=(1000.0,) * 2,
        outages=(),
        underperforming=underperforming,
        sensor_tilt_error_deg=0.0,
    )


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> tuple[SolarPlantTruth, pd.DataFrame, np.ndarray, Path, Path]:
    """June of a two-inverter plant, clean and with INV02's power stuck at 612.345 kW for 6 days (day and night)."""
    planned = _planned()
    simulation = simulate_solar_plant_with_truth(planned, START, END, "15min", np.random.default_rng(6))
    frame = simulation.frame
    injected = ((frame["asset_id"] == "INV02") & frame["time"].between(STUCK_FROM, STUCK_TO)).to_numpy()
    clean, stuck = tmp_path_factory.mktemp("clean"), tmp_path_factory.mktemp("stuck")
    write_solar_site(simulation.truth, frame, clean)
    write_solar_site(simulation.truth, frame.assign(P_out=np.where(injected, STUCK_KW, frame["P_out"])), stuck)
    return simulation.truth, frame, injected, clean, stuck


def _summary(folder: Path, chunk_rows: int = 100_000) -> PlantSummary:
    site = load_solar_site_config(folder / "site.toml")
    spec = solar_spec("june", START, END, [solar_cohort("all")])
    return summarise_plant(lambda: read_solar_chunks(site, chunk_rows=chunk_rows), site, spec)


def test_the_mask_finds_exactly_the_injected_stuck_run_across_chunk_borders(plant):
    _, frame, injected, _, stuck = plant
    site = load_solar_site_config(stuck / "site.toml")
    ids = pd.Index([inverter.inverter_id for inverter in site.inverters])
    found, records = set(), 0
    # 1,000-row chunks: the 6-day run (601 records) is cut by a border of the export's chunks.
    for chunk, inverter, owned in chunks_with_context(read_solar_chunks(site, chunk_rows=1_000), ids, stuck_context(8)):
        power, irradiance = chunk["P_out"].to_numpy(), chunk["G_i"].to_numpy()
        flags = stuck_readings(power, irradiance, inverter, np.full(len(chunk), 1000.0), 8)[0] & owned
        found |= set(zip(ids[inverter[flags]], chunk["time"][flags], strict=True))
        records += int(owned.sum())
    assert records == len(frame)
    assert injected.sum() == 601 >= stuck_min_records(SOLAR_RECORD_PERIOD) == 8
    first = np.flatnonzero(injected)[0]
    assert first // 1_000 != (first + 600) // 1_000  # the run straddles a chunk border
    assert found == set(zip(frame["asset_id"][injected], frame["time"][injected], strict=True))


def test_the_summary_leaves_out_the_stuck_records_and_without_the_mask_they_bias_it(plant, tmp_path, monkeypatch):
    truth, frame, injected, clean, stuck = plant
    masked = _summary(stuck)
    chunked = _summary(stuck, chunk_rows=1_000)  # borders inside the run: judged the same, summed in another order
    assert chunked.performance_ratio == pytest.approx(masked.performance_ratio, rel=1e-12)
    np.testing.assert_array_equal(chunked.curve_records, masked.curve_records)
    # The reference: the clean export with the same records blank, as a stuck reading counts as missing.
    write_solar_site(truth, frame.assign(P_out=np.where(injected, np.nan, frame["P_out"])), tmp_path)
    blanked = _summary(tmp_path)
    assert masked.performance_ratio == blanked.performance_ratio
    np.testing.assert_array_equal(masked.curve_records, blanked.curve_records)
    np.testing.assert_array_equal(masked.curve_sum, blanked.curve_sum)
    assert masked.produced_kwh == blanked.produced_kwh
    reference = _summary(clean)
    # Six days fewer of one of two inverters: the June PR moves by 0.0014.
    assert masked.performance_ratio == pytest.approx(reference.performance_ratio, abs=0.003)
    # The control: without the mask, 6 nights of 612 kW that never were raise the PR by 0.10 and the energy by 48 MWh.
    monkeypatch.setattr(solar_summaries, "stuck_readings", lambda p, g, *_, **__: (np.zeros_like(p, bool),) * 2)
    unmasked = _summary(stuck)
    assert unmasked.performance_ratio - reference.performance_ratio > 0.05
    assert unmasked.produced_kwh - reference.produced_kwh > 20_000.0


def test_the_validator_says_which_inverter_is_stuck_at_what_from_when(plant):
    _, _, _, clean, stuck = plant
    assert validate_solar_site(clean / "site.toml").findings == ()
    for chunk_rows in (100_000, 1_000):  # with chunk borders inside the run too
        report = validate_solar_site(stuck / "site.toml", chunk_rows=chunk_rows)
        assert list(report.turbines["stuck_power"]) == [0, 601] and not report.turbines["stuck_irradiance"].any()
        (finding,) = report.findings
        assert (finding.turbine, finding.column, finding.severity) == ("INV02", "ac_power_kw", "warning")
        assert finding.problem == (
            "AC power is stuck in 601 records (the longest run: 612.345 kW for 6.3 days from 2022-06-10 09:00 UTC); "
            "the plant's summary leaves them out"
        )


def test_a_dead_irradiance_sensor_is_one_finding_for_the_plant(plant, tmp_path):
    truth, frame, _, _, _ = plant
    dead = frame["time"].between("2022-06-20T00:00:00Z", "2022-06-21T00:00:00Z").to_numpy()  # reads 0 all day
    write_solar_site(truth, frame.assign(G_i=np.where(dead, 0.0, frame["G_i"])), tmp_path)
    report = validate_solar_site(tmp_path / "site.toml")
    ac_kw = frame["asset_id"].map(dict(zip(truth.inverters, truth.ac_capacity_kw, strict=True))).to_numpy()
    producing = dead & (frame["P_out"] > PRODUCING_SHARE * ac_kw).to_numpy()  # judged while producing: one run a day
    assert list(report.turbines["stuck_irradiance"]) == [producing[: len(frame) // 2].sum()] * 2
    assert not report.turbines["stuck_power"].any()
    (finding,) = report.findings
    assert (finding.turbine, finding.column) == ("", "poa_irradiance_wm2")
    assert "(the longest run: 0 W/m^2 for " in finding.problem


def test_the_minimum_run_spans_two_hours_at_any_resolution():
    assert [stuck_min_records(pd.Timedelta(r)) for r in ("15min", "5min", "1min", "2h", "1D")] == [8, 24, 120, 2, 2]
    # Temperatures over their longer spans: 6 h of module temperature, 8 h of air temperature at 15 min.
    assert [stuck_min_records(SOLAR_RECORD_PERIOD, TEMPERATURE_STUCK_MIN_DURATIONS[t]) for t in ("T_mod", "T_amb")] == [
        24,
        32,
    ]


def test_a_level_shift_is_the_largest_fall_between_two_windows_of_medians():
    rng = np.random.default_rng(3)
    ratio = 0.85 * (1.0 + 0.02 * rng.standard_normal(90))
    ratio[50:] *= 0.9  # a string lost on day 50
    ratio[rng.random(90) < 0.1] = np.nan  # days without a ratio (an outage, a blank export)
    ratio[[20, 70]] = 0.2  # two days of snow
    day, step = level_shift(ratio)
    assert day == 50 and step == pytest.approx(-0.10, abs=0.015)
    rising = np.linspace(0.8, 0.9, 60)  # soiling washed off, then cleaner each day: no fall to report
    assert level_shift(rising) == (-1, pytest.approx(np.nan, nan_ok=True))
    assert level_shift(ratio[: 2 * SHIFT_WINDOW_DAYS - 1])[0] == -1
    with pytest.raises(ValueError, match="window"):
        level_shift(ratio, window=0)


def test_the_validator_finds_the_day_an_inverter_lost_a_tenth_of_its_power(tmp_path):
    planned = _planned(Underperformance("INV02", 0.9, "2022-06-20T00:00:00Z"))
    simulation = simulate_solar_plant_with_truth(
        planned, START, "2022-07-20T00:00:00Z", "15min", np.random.default_rng(7)
    )
    write_solar_site(simulation.truth, simulation.frame, tmp_path)
    (finding,) = validate_solar_site(tmp_path / "site.toml").findings
    assert finding.turbine == "INV02" and finding.column == "ac_power_kw"
    assert finding.problem.startswith(
        "its daily energy over the irradiance falls by 10% against the plant's other inverters from 2022-06-20 "
    )


COLD_DEGC = 12.0
FROZEN_FROM, FROZEN_TO = "2022-06-05T00:00:00Z", "2022-06-08T00:00:00Z"  # the module temperature logger repeats


def _frozen(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The frozen records, and those of them in runs of 6 h of daylight (24 records), counted by hand."""
    frozen = frame["time"].between(FROZEN_FROM, FROZEN_TO, inclusive="left").to_numpy()
    inverter = pd.factorize(frame["asset_id"])[0]
    values = np.where(frozen, COLD_DEGC, frame["T_mod"].to_numpy())
    return frozen, _runs_by_hand(values, inverter, (frame["G_i"] >= 50.0).to_numpy(), 24)


def test_a_module_temperature_stuck_in_daylight_is_found_and_a_whole_degree_sensor_is_not(plant, tmp_path):
    truth, frame, _, _, _ = plant
    frozen, in_runs = _frozen(frame)
    # The ambient sensor logs whole degrees: steady for an hour or two, never for 8 h of daylight.
    write_solar_site(
        truth, frame.assign(T_mod=np.where(frozen, COLD_DEGC, frame["T_mod"]), T_amb=frame["T_amb"].round()), tmp_path
    )
    report = validate_solar_site(tmp_path / "site.toml")
    # Judged in daylight only: each day's run of daylight records (a cloud's dip below 50 W/m^2 ends one).
    assert in_runs.sum() > 100 and not (in_runs & ~frozen).any()
    assert list(report.turbines["stuck_T_mod"]) == [in_runs[: len(frame) // 2].sum()] * 2
    assert not report.turbines["stuck_T_amb"].any() and not report.turbines["stuck_power"].any()
    (finding,) = report.findings
    assert (finding.turbine, finding.column) == ("", "module_temp_c")
    assert finding.problem.startswith("module temperature is stuck in daylight in up to ")
    assert "(the longest run: 12 degC for " in finding.problem


def test_the_summary_leaves_out_a_stuck_temperature_and_without_the_mask_it_biases_normalised_energy(
    plant, tmp_path, monkeypatch
):
    truth, frame, _, clean, _ = plant
    frozen, in_runs = _frozen(frame)
    write_solar_site(truth, frame.assign(T_mod=np.where(frozen, COLD_DEGC, frame["T_mod"])), tmp_path / "stuck")
    # The reference: the same export with the flagged records blank (the cell's temperature then comes from T_amb).
    stuck = np.where(frozen, COLD_DEGC, frame["T_mod"])
    write_solar_site(truth, frame.assign(T_mod=np.where(in_runs, np.nan, stuck)), tmp_path / "blank")
    masked, blanked, reference = _summary(tmp_path / "stuck"), _summary(tmp_path / "blank"), _summary(clean)
    assert masked.performance_ratio_stc == blanked.performance_ratio_stc
    np.testing.assert_array_equal(masked.daily["expected"], blanked.daily["expected"])
    assert masked.performance_ratio_stc == pytest.approx(reference.performance_ratio_stc, abs=0.002)
    # The control: without the mask the frozen days' cells read 12 degC, not 40-60: their normalised energy falls by
    # more than 0.03 and the month's PR_STC by more than 0.005 (measured: 0.009).
    monkeypatch.setattr(solar_summaries, "stuck_temperature", lambda t, *_: np.zeros(len(t), dtype=bool))
    unmasked = _summary(tmp_path / "stuck")
    days = unmasked.daily.index[(unmasked.daily.index >= FROZEN_FROM) & (unmasked.daily.index < "2022-06-07")]
    unmasked_ne, masked_ne, reference_ne = (x.daily.loc[days, "normalised"] for x in (unmasked, masked, reference))
    assert (unmasked_ne < reference_ne - 0.03).all()  # measured: 0.955 and 0.959 against 1.010 and 1.013
    assert (abs(masked_ne - reference_ne) < 0.01).all()  # the ambient temperature's model instead: 1.015, 1.016
    assert reference.performance_ratio_stc - unmasked.performance_ratio_stc > 0.005


def _stuck_flags(frame: pd.DataFrame, inverter: np.ndarray) -> np.ndarray:
    """Power, irradiance and module-temperature flags of ``frame`` (runs of 3, 3 and 5), as a summary chains them."""
    irradiance = frame["G_i"].to_numpy()
    flags = stuck_readings(frame["P_out"].to_numpy(), irradiance, inverter, np.full(len(frame), 10.0), 3)
    temperature = stuck_temperature(frame["T_mod"].to_numpy(), inverter, np.where(flags[1], np.nan, irradiance), 5)
    return np.column_stack([*flags, temperature])


def _coarse_readings() -> pd.DataFrame:
    """Three inverters' records in time order with readings so coarse that runs of every length abound."""
    rng = np.random.default_rng(8)
    n = 600
    return pd.DataFrame(
        {
            "time": np.repeat(pd.date_range("2023-06-01", periods=n // 3, freq="15min", tz="UTC"), 3),
            "asset_id": np.tile(["INV01", "INV02", "INV03"], n // 3),
            "P_out": rng.choice([0.0, 4.0, 5.0], n, p=[0.2, 0.4, 0.4]),
            "G_i": rng.choice([0.0, 600.0, 700.0], n, p=[0.2, 0.4, 0.4]),
            "T_mod": rng.choice([20.0, 21.0], n, p=[0.3, 0.7]),
        }
    )


def _streamed_stuck_flags(frame: pd.DataFrame, chunk_rows: int, context: int) -> np.ndarray:
    ids = pd.Index(["INV01", "INV02", "INV03"])
    out = []
    chunks = [frame.iloc[i : i + chunk_rows] for i in range(0, len(frame), chunk_rows)]
    for chunk, inverter, owned in chunks_with_context(chunks, ids, context):
        out.append(chunk[["asset_id", "time"]][owned].assign(flags=list(_stuck_flags(chunk, inverter)[owned])))
    flags = pd.concat(out).sort_values(["asset_id", "time"])["flags"]
    return np.array(flags.tolist())


def test_stuck_readings_streamed_with_their_context_are_flagged_as_in_the_whole_export():
    """Irradiance is judged by power's flag, temperature by irradiance's: each record needs its neighbours'
    neighbours (stuck_context: 4 + 2 records either side here). Control: with power's context alone, some
    chunking judges a record otherwise."""
    frame = _coarse_readings()
    whole = _streamed_stuck_flags(frame, len(frame), 0)
    assert stuck_context(3, [5]) == 6 and whole.any(axis=0).all()
    differs = 0
    for chunk_rows in (5, 7, 11, 16, 25, 37):
        np.testing.assert_array_equal(_streamed_stuck_flags(frame, chunk_rows, stuck_context(3, [5])), whole)
        differs += not np.array_equal(_streamed_stuck_flags(frame, chunk_rows, long_run_context(3)), whole)
    assert differs > 0


@pytest.mark.parametrize("latitude", [39.7, -30.0, 60.0])
def test_clear_sky_production_is_centred_on_solar_noon_whatever_the_planes_orientation(latitude):
    """Production as the plane's clear-sky irradiance: each day's rise and set straddle solar noon within 5 min."""
    times = pd.date_range("2022-03-01", "2022-04-01", freq="15min", tz="UTC", inclusive="left")
    middle = times + pd.Timedelta(minutes=7.5)
    longitude = 20.0
    ghi = pvlib.location.Location(latitude, longitude).get_clearsky(middle)["ghi"].to_numpy()
    stamp = times.as_unit("ms").asi8
    day = (stamp + int(longitude / 15.0 * 3_600_000)) // 86_400_000
    equator = 0.0 if latitude < 0 else 180.0
    for mounting, tilt, azimuth in [
        ("fixed", 25.0, equator),
        ("fixed", 20.0, 90.0),
        ("fixed", 20.0, 270.0),
        ("fixed", 45.0, equator - 22.0),
        ("single_axis", None, 180.0),
    ]:
        power = plane_of_array_irradiance(middle, ghi, latitude, longitude, 0.0, mounting, tilt, azimuth) / 1000.0
        for late in (pd.Timedelta(0), pd.Timedelta(hours=1)):  # control: the same day an hour late
            shifted = np.interp(stamp - late / pd.Timedelta(milliseconds=1), stamp, power)
            rises, sets = production_edges(
                shifted,
                np.full(len(power), PRODUCING_SHARE),
                np.zeros(len(power), int),
                stamp,
                pd.Timedelta(minutes=15),
            )
            first = pd.Series(stamp[rises]).groupby(day[rises]).min()
            last = pd.Series(stamp[sets]).groupby(day[sets]).max()
            both = first.index.intersection(last.index)
            assert len(both) >= 29
            offset = midday_offset(first[both], last[both], longitude, pd.Timedelta(minutes=15))
            assert np.median(offset) == pytest.approx(late / pd.Timedelta(minutes=1), abs=5.0), (mounting, azimuth)


def test_solar_noon_is_pvlibs_transit_within_a_minute():
    days = np.arange(19_000, 19_365, 7)  # days since 1970-01-01 through 2022
    for latitude, longitude in [(39.7, -105.2), (-33.9, 18.4), (64.1, -21.9)]:
        # Near each day's solar noon in UTC, so that pvlib takes the same date.
        times = pd.DatetimeIndex(pd.to_datetime(days, unit="D", utc=True) + pd.Timedelta(hours=12 - longitude / 15.0))
        transit = pvlib.solarposition.sun_rise_set_transit_spa(times, latitude, longitude)["transit"]
        expected = transit.dt.tz_convert("UTC").dt.as_unit("ms").astype("int64").to_numpy()
        np.testing.assert_allclose(solar_noon(days, longitude), expected, atol=60_000)


def test_stamps_read_two_hours_late_are_one_finding_that_names_the_timezone(tmp_path):
    """A logger on UTC+2 whose stamps, without an offset, are read as UTC: every month is 120 min late."""
    # (The validator also says that stamps without an offset are read as UTC, whether or not they are.)
    planned = _planned()
    simulation = simulate_solar_plant_with_truth(
        planned, START, "2022-08-01T00:00:00Z", "15min", np.random.default_rng(3)
    )
    write_solar_site(simulation.truth, simulation.frame, tmp_path)
    assert not [f for f in validate_solar_site(tmp_path / "site.toml").findings if "solar noon" in f.problem]  # control
    local = simulation.frame.assign(time=(simulation.frame["time"] + pd.Timedelta(hours=2)).dt.tz_localize(None))
    write_solar_site(simulation.truth, local, tmp_path)
    (finding,) = [f for f in validate_solar_site(tmp_path / "site.toml").findings if "solar noon" in f.problem]
    assert re.search(r"in 2022-06 to 2022-07 \(\+1[12]\d min\)", finding.problem), finding.problem
    assert "[site] timezone (now 'UTC')" in finding.fix


def test_day_length_is_pvlibs_sunrise_to_sunset_and_0_or_24_h_beyond_the_polar_circles():
    days = np.arange(19_000, 19_365, 11)
    for latitude, longitude in [(0.0, 0.0), (39.7, -105.2), (-33.9, 18.4), (60.0, 10.0)]:
        times = pd.DatetimeIndex(pd.to_datetime(days, unit="D", utc=True) + pd.Timedelta(hours=12 - longitude / 15.0))
        sun = pvlib.solarposition.sun_rise_set_transit_spa(times, latitude, longitude)
        hours = (sun["sunset"] - sun["sunrise"]).dt.total_seconds().to_numpy() / 3600.0
        # pvlib's sunrise and sunset are the upper limb's, refracted: about 8 min longer a day, 23 at 60 deg.
        np.testing.assert_allclose(day_length(days, latitude), hours, atol=0.25 if abs(latitude) < 45 else 0.45)
    svalbard = day_length(np.array([19_160, 19_340]), 78.2)  # 2022-06-18 and 2022-12-15
    np.testing.assert_array_equal(svalbard, [24.0, 0.0])


def _clock_site(
    tmp_path: Path,
    late: Callable[[pd.DataFrame], pd.Series],
    inverters: int = 4,
    power: Callable[[pd.DataFrame], pd.Series] | None = None,
    period: tuple[str, str] = ("2022-01-01T00:00:00Z", "2023-01-01T00:00:00Z"),
    **plant: object,
) -> list[Finding]:
    """Clock findings of a plant over ``period``, its stamps moved by ``late(frame)``, its power ``power(frame)``."""
    truth = replace(
        _planned(),
        inverters=tuple(f"INV{i + 1:02d}" for i in range(inverters)),
        dc_capacity_kw=(1200.0,) * inverters,
        ac_capacity_kw=(1000.0,) * inverters,
        **plant,
    )
    simulation = simulate_solar_plant_with_truth(truth, *period, "15min", np.random.default_rng(11))
    frame = simulation.frame.assign(time=simulation.frame["time"] + late(simulation.frame))
    if power is not None:
        frame = frame.assign(P_out=power(frame))
    write_solar_site(simulation.truth, frame, tmp_path)
    report = validate_solar_site(tmp_path / "site.toml")
    return [f for f in report.findings if "solar noon" in f.problem or "clock" in f.fix]


def _minutes(finding: Finding) -> list[int]:
    return [int(m) for m in re.findall(r"\(([+-]\d+) min\)", finding.problem)]


def test_stamps_half_a_day_off_are_found_in_every_month(tmp_path, monkeypatch):
    """Local time of UTC+11 written as UTC: production crosses solar midnight by the stamps, yet every month is +660."""
    (finding,) = _clock_site(tmp_path / "a", lambda frame: pd.Series(pd.Timedelta(hours=11), index=frame.index))
    assert "2022-01 to 2022-12" in finding.problem and all(650 <= m <= 670 for m in _minutes(finding))
    # Control: days cut at solar midnight by the stamps split each day's production in two.
    monkeypatch.setattr(solar_validate, "_DAY_STARTS", (0.0,))
    found = _clock_site(tmp_path / "b", lambda frame: pd.Series(pd.Timedelta(hours=11), index=frame.index))
    assert not any(650 <= m <= 670 for f in found for m in _minutes(f))


def test_a_clock_that_jumps_half_a_day_mid_export_is_read_month_by_month(tmp_path):
    """Every inverter 12 h late from July: each inverter-month starts its days where its own nights are."""

    def late_from_july(frame: pd.DataFrame) -> pd.Series:
        later = frame["time"] >= pd.Timestamp("2022-07-01T00:00:00Z")
        return pd.Series(np.where(later, pd.Timedelta(hours=12), pd.Timedelta(0)), frame.index)

    (finding,) = _clock_site(tmp_path, late_from_july)
    assert re.search(r"in 2022-07 to 2022-12 \([+-]7[12]\d min\)", finding.problem), finding.problem  # +-12 h alike
    assert "2022-06" not in finding.problem


def test_one_inverter_half_a_day_off_is_named_in_every_month(tmp_path):
    def inv04_late(frame: pd.DataFrame) -> pd.Series:
        return pd.Series(np.where(frame["asset_id"] == "INV04", pd.Timedelta(hours=12), pd.Timedelta(0)), frame.index)

    (finding,) = _clock_site(tmp_path, inv04_late)
    assert finding.turbine == "INV04" and "2022-01 to 2022-12" in finding.problem
    assert all(700 <= abs(m) <= 740 for m in _minutes(finding))


def test_an_inverter_whose_logger_keeps_another_clock_is_named(tmp_path):
    """INV04's records an hour late: one inverter of four cannot move the plant's median, so it is named itself."""

    def inv04_late(frame: pd.DataFrame) -> pd.Series:
        return pd.Series(np.where(frame["asset_id"] == "INV04", pd.Timedelta(hours=1), pd.Timedelta(0)), frame.index)

    (finding,) = _clock_site(tmp_path, inv04_late)
    assert finding.turbine == "INV04" and "while another inverter's is on it" in finding.problem
    assert "2022-01 to 2022-12" in finding.problem and all(55 <= m <= 65 for m in _minutes(finding))


@pytest.mark.parametrize("inverters", [2, 3])
def test_the_inverters_on_the_suns_clock_are_not_named_beside_the_one_off_it(tmp_path, inverters):
    """The last inverter two hours late: it alone is named, with its own minutes, and no plant finding."""

    def last_late(frame: pd.DataFrame) -> pd.Series:
        off = frame["asset_id"] == f"INV{inverters:02d}"
        return pd.Series(np.where(off, pd.Timedelta(hours=2), pd.Timedelta(0)), frame.index)

    (finding,) = _clock_site(tmp_path, last_late, inverters=inverters)
    assert finding.turbine == f"INV{inverters:02d}" and all(115 <= m <= 125 for m in _minutes(finding))


@pytest.mark.parametrize("share", [0.02, 0.2])
def test_spikes_at_night_leave_a_right_clock_alone(tmp_path, monkeypatch, share):
    """2 % or 20 % of night records read 3-5 % of the AC rating: production that comes and goes is no sunrise (a
    review's cases). Control, at 20 %: production that has to last one record beyond the rise (the rule before)
    reads pairs of spikes as days and names a right clock."""

    def spikes(frame: pd.DataFrame) -> pd.Series:
        rng = np.random.default_rng(3)
        spiked = (frame["P_out"].fillna(0.0) <= 1.0) & (rng.random(len(frame)) < share)
        return frame["P_out"].mask(spiked, pd.Series(rng.uniform(30.0, 50.0, len(frame)), index=frame.index))

    def right_clock(folder: Path) -> list[Finding]:
        no_offset = lambda frame: pd.Series(pd.Timedelta(0), index=frame.index)  # noqa: E731
        return _clock_site(folder, no_offset, 2, spikes, latitude=47.99, longitude=7.85)

    assert right_clock(tmp_path / "now") == []
    if share == 0.2:
        monkeypatch.setattr(solar_quality, "PRODUCTION_MIN_DURATION", pd.Timedelta("30min"))
        assert right_clock(tmp_path / "before") != []


def test_a_clock_that_steps_an_hour_once_is_not_read_as_daylight_saving_time(tmp_path):
    def late_from_mid_june(frame: pd.DataFrame) -> pd.Series:
        later = frame["time"] >= pd.Timestamp("2022-06-15T00:00:00Z")
        return pd.Series(np.where(later, pd.Timedelta(hours=1), pd.Timedelta(0)), frame.index)

    (finding,) = _clock_site(tmp_path, late_from_mid_june)
    assert re.search(r"in 2022-0[67] to 2022-12 \(\+\d+ min\)", finding.problem), finding.problem  # June: half
    assert "daylight saving" not in finding.fix


def test_a_southern_logger_on_daylight_saving_time_is_read_as_such(tmp_path):
    """Sydney: clocks an hour ahead from October to early April; the summer months are named, with the DST fix."""

    def sydney_summer(frame: pd.DataFrame) -> pd.Series:
        local = frame["time"].dt.tz_convert("Australia/Sydney")
        return pd.Series([t.dst() for t in local], index=frame.index)

    (finding,) = _clock_site(tmp_path, sydney_summer, latitude=-33.9, longitude=151.2, azimuth_deg=0.0)
    assert "2022-01 to 2022-03" in finding.problem and "2022-10 to 2022-12" in finding.problem
    assert "daylight saving time" in finding.fix


def test_a_summer_only_export_an_hour_late_offers_the_daylight_saving_fix_as_a_possibility(tmp_path):
    """A Berlin logger on DST exported April to September: no winter month to tell DST from a clock an hour late."""

    def berlin_summer(frame: pd.DataFrame) -> pd.Series:
        return pd.Series([t.dst() for t in frame["time"].dt.tz_convert("Europe/Berlin")], index=frame.index)

    period = ("2022-04-01T00:00:00Z", "2022-10-01T00:00:00Z")
    (finding,) = _clock_site(tmp_path, berlin_summer, 2, None, period, latitude=47.99, longitude=7.85)
    assert "2022-04 to 2022-09" in finding.problem
    assert (
        finding.fix.startswith("if the logger keeps daylight saving time, ") and "else check its clock" in finding.fix
    )


def test_an_export_without_a_sunrise_says_its_clock_was_not_checked(tmp_path):
    """Power below 2 % of the AC rating blanked: no record rises from below it, so no day is judged; control: kept."""
    planned = _planned()
    simulation = simulate_solar_plant_with_truth(
        planned, START, "2022-09-01T00:00:00Z", "15min", np.random.default_rng(4)
    )
    low = simulation.frame["P_out"] < 20.0
    write_solar_site(simulation.truth, simulation.frame.assign(P_out=simulation.frame["P_out"].mask(low)), tmp_path)
    (finding,) = [
        f for f in validate_solar_site(tmp_path / "site.toml").findings if "could not be checked" in f.problem
    ]
    assert finding.turbine == "" and "export the night's records" in finding.fix
    write_solar_site(simulation.truth, simulation.frame, tmp_path)
    assert not [f for f in validate_solar_site(tmp_path / "site.toml").findings if "could not be checked" in f.problem]


def test_a_rise_and_a_set_are_found_between_stamps_that_jitter_by_seconds():
    stamp = np.arange(8) * 900_000 + np.array([0, 3_000, -2_000, 4_000, 0, -5_000, 1_000, 0])  # 15 min +- 5 s
    power = np.array([0.0, 0.0, 5.0, 9.0, 9.0, 5.0, 0.0, 0.0])
    period = pd.Timedelta("15min")
    rises, sets = production_edges(power, np.full(8, 1.0), np.zeros(8, dtype=np.int64), stamp, period)
    np.testing.assert_array_equal(np.flatnonzero(rises), [2])
    np.testing.assert_array_equal(np.flatnonzero(sets), [5])
    blip = production_edges(np.array([0.0, 0.0, 5.0, 0.0]), np.ones(4), np.zeros(4, dtype=np.int64), stamp[:4], period)
    assert not blip[0].any() and not blip[1].any()  # a lone producing record: neither
    gap = np.r_[stamp[:2], stamp[2:] + 900_000]  # a record missing before the rise: no rise
    assert not production_edges(power, np.full(8, 1.0), np.zeros(8, dtype=np.int64), gap, pd.Timedelta("15min"))[
        0
    ].any()


@pytest.mark.parametrize("missing", [2, 70])
def test_a_rises_edge_depends_on_the_hour_after_it_only(missing):
    """A rise (15-min records), then readings missing for ``missing`` records, then production for 2 h: bridged
    across 30 min, not across 17.5 h; either way the series cut production_min_records after the rise reads the
    same (a review's case: a run of missing readings of any length was bridged, and chunks' borders mattered)."""
    power = np.r_[0.0, 0.0, 5.0, np.full(missing, np.nan), np.full(8, 5.0), 0.0, 0.0]
    stamp = np.arange(len(power)) * 900_000
    period = pd.Timedelta("15min")
    whole = production_edges(power, np.ones(len(power)), np.zeros(len(power), dtype=np.int64), stamp, period)[0]
    assert whole[2] == (missing == 2)
    cut = 3 + production_min_records(period)
    head = production_edges(power[:cut], np.ones(cut), np.zeros(cut, dtype=np.int64), stamp[:cut], period)[0]
    assert head[2] == whole[2]


def test_a_day_of_many_inverters_is_one_day_of_a_month():
    """Twelve inverters on one snowy day do not make a month; the plant's day is the median of its inverters'."""
    spans = solar_validate._ProductionSpans(12, 0.0)
    day = 19_000  # 2022-01-08
    asset = np.repeat(np.arange(12), 2)
    rise, set_ = day * 86_400_000 + 10 * 3_600_000, day * 86_400_000 + 16 * 3_600_000  # centred 13:07: +71 min
    stamp = np.tile([rise, set_], 12)
    spans.add(asset, stamp, np.ones(24, dtype=bool), np.tile([True, False], 12), np.tile([False, True], 12))
    assert spans.offsets(45.0, pd.Timedelta("15min")).plant.empty
