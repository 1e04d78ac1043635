"""A plant's summary against the truth injected into its export, and its blocks against its census."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from site_copies import with_status_as_event_log, without_last_inverter

from client.ingest import read_event_log
from client.privacy import cap_unit_histograms
from client.site_config import SiteConfigError
from client.solar.ingest import read_solar_chunks
from client.solar.performance import MIN_PR_INSOLATION, underperforming_inverters, underperforming_since
from client.solar.report import inverter_table
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import (
    PlantSummary,
    cap_inverter_failures,
    lost_production_shares,
    solar_blocks,
    summarise_plant,
)
from client.solar.validate import validate_solar_site
from protos.census import COMMITMENT_RANDOMNESS, census_spec
from protos.codec import block_layouts
from protos.disclosure import cohort_atoms
from protos.domain import SOLAR_COMPONENTS
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import SOLAR_CELLS, BlockKey, CensusFields
from server.spec import PrivacySettings, solar_cohort, solar_spec
from simulations.solar_fleet import (
    CLIMATES,
    Outage,
    SolarPlantTruth,
    SolarSimulation,
    Underperformance,
    simulate_solar_plant_with_truth,
    solar_fleet,
    write_solar_site,
)

S = spec_pb2.Statistic
Spec = spec_pb2.BenchmarkSpec
START, END = "2022-01-01T00:00:00Z", "2024-02-01T00:00:00Z"  # RdTools asks for over two years


@pytest.fixture(scope="module")
def plant(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[SolarPlantTruth, PlantSummary, Path, spec_pb2.BenchmarkSpec]:
    """25 months of a three-inverter arid plant: -0.8 %/year, cleaned every 45 days, INV03 at 90 %, a grid outage."""
    drawn = solar_fleet(1, 2, np.random.default_rng(21))[0]
    lat, lon, elevation = CLIMATES["arid"].sites[0]
    planned = replace(
        drawn,
        module_technology="mono-Si",
        mounting="fixed",
        climate_zone="arid",
        latitude=lat,
        longitude=lon,
        elevation_m=elevation,
        tilt_deg=30.0,
        azimuth_deg=180.0,
        inverters=("INV01", "INV02", "INV03"),
        dc_capacity_kw=(1300.0,) * 3,
        ac_capacity_kw=(1000.0,) * 3,
        degradation_pct_per_year=-0.8,
        soiling_schedule="regular",
        soiling_rate_pct_per_day=0.12,
        cleaning_dates=tuple(pd.date_range("2022-02-15", "2023-12-31", freq="45D").strftime("%Y-%m-%d")),
        outages=(Outage("INV01", "2023-05-02T12:00:00Z", "2023-05-04T12:00:00Z", "grid", 2),),
        underperforming=(Underperformance("INV03", 0.9),),
        sensor_tilt_error_deg=0.0,
    )
    simulation = simulate_solar_plant_with_truth(planned, START, END, "15min", np.random.default_rng(22))
    folder = tmp_path_factory.mktemp("plant")
    write_solar_site(simulation.truth, simulation.frame, folder)
    site = load_solar_site_config(folder / "site.toml")
    spec = solar_spec("two-years", START, END, [solar_cohort("all"), solar_cohort("cdte", module_technology="CdTe")])
    return (
        simulation.truth,
        summarise_plant(lambda: read_solar_chunks(site, chunk_rows=20_000), site, spec),
        folder,
        spec,
    )


def test_the_summary_recovers_the_injected_degradation_soiling_and_clipping(plant):
    truth, summary, _, _ = plant
    assert summary.degradation is not None and summary.soiling is not None
    assert summary.degradation.rate_pct_per_year == pytest.approx(truth.degradation_pct_per_year, abs=0.2)
    assert summary.degradation.ci_low < summary.degradation.ci_high
    assert summary.soiling.loss_pct == pytest.approx(truth.soiling_loss_pct, abs=1.0)
    assert summary.clipping_share == pytest.approx(truth.clipping_share, abs=0.01)
    assert 0.7 < summary.performance_ratio < 1.0 and 0.7 < summary.performance_ratio_stc < 1.05


def test_the_underperforming_inverter_is_flagged_and_the_outage_counted_in_its_category(plant):
    _, summary, _, _ = plant
    assert list(underperforming_inverters(summary.inverter_ratio)) == [False, False, True]
    first = np.flatnonzero(summary.inverter_daily[1].sum(axis=0) > 0)[0]  # the first local day with daylight
    assert list(underperforming_since(summary.inverter_daily)) == [-1, -1, first]  # INV03: from that day on
    assert summary.inverter_ratio[2] / summary.inverter_ratio[0] == pytest.approx(0.9, abs=0.01)
    assert summary.inverter_availability[0] < 1.0 and summary.inverter_availability[1] == 1.0
    grid, others = summary.lost_energy_kwh[1], np.delete(summary.lost_energy_kwh, 1)
    assert grid > 1000.0 and not others.any()  # two sunny days of a 1000 kW inverter: MWh, not kWh


def test_the_blocks_are_the_plants_in_its_cohorts_and_the_census_counts_them(plant):
    _, summary, folder, spec = plant
    site = load_solar_site_config(folder / "site.toml")
    values, census = solar_blocks(summary, site, spec)
    assert {layout.key for layout in block_layouts(spec)} == set(values)
    assert {layout.key for layout in block_layouts(census_spec(spec))} == set(census) | {COMMITMENT_RANDOMNESS}
    np.testing.assert_array_equal(values[BlockKey("all", S.IRRADIANCE_RECORD_COUNT)], summary.curve_records)
    assert not any(np.any(block) for key, block in values.items() if key.cohort == "cdte")  # not a CdTe plant
    pr = values[BlockKey("all", S.PERFORMANCE_RATIO_HISTOGRAM)]
    grid = spec.solar.performance_ratio_bins
    assert pr.sum() == 1 and abs(grid.first_centre + grid.width * np.argmax(pr) - summary.performance_ratio) <= 0.005
    n_atoms = len(cohort_atoms(spec.cohorts))
    records = CensusFields(*census[BlockKey("", S.IRRADIANCE_CENSUS)])
    np.testing.assert_array_equal(records.total[n_atoms], summary.curve_records)  # cohort "all"'s row
    assert not records.total[n_atoms + 1].any()
    cells = CensusFields(*census[BlockKey("", S.SOLAR_CENSUS)])
    assert cells.total[n_atoms, SOLAR_CELLS.index("inverter_availability")] == 3  # inverters
    assert cells.total[n_atoms, SOLAR_CELLS.index("degradation_rate")] == 1  # one plant


def _simulated_plant(
    start: str, end: str, faults: tuple[Outage, ...] = (), inverters: int = 2, **place: float
) -> SolarSimulation:
    """A plant of ``inverters`` inverters (1300 kWp, 1000 kW each) simulated from ``start`` to ``end`` with
    ``faults``; ``place`` moves it (``latitude``, ``longitude``)."""
    planned = replace(
        solar_fleet(1, 1, np.random.default_rng(5))[0],
        inverters=tuple(f"INV{k + 1:02d}" for k in range(inverters)),
        dc_capacity_kw=(1300.0,) * inverters,
        ac_capacity_kw=(1000.0,) * inverters,
        outages=faults,
        underperforming=(),
        **place,
    )
    return simulate_solar_plant_with_truth(planned, start, end, "15min", np.random.default_rng(6))


def _march_simulation(faults: tuple[Outage, ...]) -> SolarSimulation:
    """A plant of inverters INV01 and INV02 simulated over March 2023 with ``faults``."""
    return _simulated_plant("2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", faults)


def _two_inverters_in_march(faults: tuple[Outage, ...], folder: Path) -> Path:
    """The plant of :func:`_march_simulation` written to ``folder``."""
    simulation = _march_simulation(faults)
    write_solar_site(simulation.truth, simulation.frame, folder)
    return folder / "site.toml"


def test_failures_are_the_injected_inverter_faults_counted_once_across_chunks(tmp_path):
    """Two inverter faults (one over the chunk border, one at night's end) and a grid outage, which is no failure."""
    faults = (
        Outage("INV01", "2023-03-03T10:00:00Z", "2023-03-05T09:00:00Z", "inverter_fault", 3),
        Outage("INV02", "2023-03-10T11:00:00Z", "2023-03-10T15:30:00Z", "inverter_fault", 3),
        Outage("INV02", "2023-03-12T11:00:00Z", "2023-03-12T13:00:00Z", "grid", 2),
    )
    _two_inverters_in_march(faults, tmp_path)
    site = load_solar_site_config(tmp_path / "site.toml")
    assert site.component_codes == {"inverter": (3,)}
    spec = solar_spec("march", "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", [solar_cohort("all")])
    summary = summarise_plant(lambda: read_solar_chunks(site, chunk_rows=1_000), site, spec)
    assert summary.failures is not None and summary.failure_hours is not None
    inverter = list(spec.solar.components).index("inverter")
    assert summary.failures[inverter] == 2 and summary.failures.sum() == 2
    assert summary.failure_hours[inverter] == pytest.approx(47.0 + 4.5)
    assert summary.failure_inverter_years == pytest.approx(2 * 31 / 365.25)
    values, census = solar_blocks(summary, site, spec)
    np.testing.assert_array_equal(values[BlockKey("all", S.SOLAR_FAILURE_COUNT)], summary.failures)
    n_atoms = len(cohort_atoms(spec.cohorts))
    cells = CensusFields(*census[BlockKey("", S.SOLAR_CENSUS)])
    assert cells.total[n_atoms, SOLAR_CELLS.index("failures")] == 2  # its inverters, observed for failures
    # Without [status.components] the plant observes no failures: it sends zeros and is not in the cell.
    text = (tmp_path / "site.toml").read_text()
    (tmp_path / "site.toml").write_text(text.replace("[status.components]\ninverter = [3]\n", ""))
    blind = load_solar_site_config(tmp_path / "site.toml")
    unobserved = summarise_plant(lambda: read_solar_chunks(blind), blind, spec)
    assert unobserved.failures is None
    values, census = solar_blocks(unobserved, blind, spec)
    assert not values[BlockKey("all", S.INVERTER_YEARS)].any()
    assert CensusFields(*census[BlockKey("", S.SOLAR_CENSUS)]).total[n_atoms, SOLAR_CELLS.index("failures")] == 0


def test_a_failure_split_between_chunks_counts_once(tmp_path, monkeypatch):
    """INV01's fault straddles two frames and counts once, by the inverter's last record before.

    In 1,038-row chunks the first frame owns INV01's records up to 38 before the chunk's border (the neighbours
    the stuck flags need stay for the next): up to 10:00 on 11 March, within the fault.

    Control: judged chunk by chunk it counts twice, one failure more than there was, which a private
    spec's cap would not bound (the chunks' borders fall where the other inverters' records put them).
    """
    faults = (
        Outage("INV01", "2023-03-11T08:00:00Z", "2023-03-11T12:00:00Z", "inverter_fault", 3),
        Outage("INV02", "2023-03-10T11:00:00Z", "2023-03-10T15:30:00Z", "inverter_fault", 3),
    )
    site = load_solar_site_config(_two_inverters_in_march(faults, tmp_path))
    spec = solar_spec("march", "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", [solar_cohort("all")])
    inverter = list(spec.solar.components).index("inverter")

    def failures() -> float:
        summary = summarise_plant(lambda: read_solar_chunks(site, chunk_rows=1_038), site, spec)
        assert summary.failures is not None
        return float(summary.failures[inverter])

    assert failures() == 2
    monkeypatch.setattr(
        "client.solar.summaries.continues_earlier_run", lambda events, *_: np.zeros(len(events.asset), bool)
    )
    assert failures() == 3


def test_a_blank_status_is_unknown_neither_down_nor_splitting_a_failure(tmp_path):
    """One status cell in twelve blank at random (a logger's gaps): INV01's 47-hour fault still counts once with
    its hours, and the healthy INV02 is available throughout, the blanks out of availability's denominator;
    validation warns of them.

    Control: the same export without blanks gives the same failures, hours and availability; blanks read as an
    unlisted code (down, no category) split the fault at every blank and cost INV02 their share (about 8 %).
    """
    faults = (Outage("INV01", "2023-03-03T10:00:00Z", "2023-03-05T09:00:00Z", "inverter_fault", 3),)
    simulation = _march_simulation(faults)
    frame = simulation.frame
    blank = np.random.default_rng(7).random(len(frame)) < 1 / 12
    spec = solar_spec("march", "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", [solar_cohort("all")])
    inverter = list(spec.solar.components).index("inverter")

    def summary(status: pd.Series, folder: str) -> PlantSummary:
        written = write_solar_site(simulation.truth, frame.assign(INV_St=status), tmp_path / folder)
        site = load_solar_site_config(written)
        return summarise_plant(lambda: read_solar_chunks(site, chunk_rows=1_000), site, spec)

    blanks = summary(frame["INV_St"].mask(blank), "blanks")
    whole = summary(frame["INV_St"], "whole")
    assert blanks.failures is not None and blanks.failure_hours is not None
    assert blanks.failures[inverter] == 1 and blanks.failure_hours[inverter] == pytest.approx(47.0)
    assert blanks.inverter_availability[1] == 1.0
    # INV01's share down among its known records: 1,250 daylight ones, about 0.007 its sampling error.
    np.testing.assert_allclose(blanks.inverter_availability, whole.inverter_availability, atol=0.02)
    assert whole.failures is not None and whole.failures[inverter] == 1
    unlisted = summary(frame["INV_St"].mask(blank, 999), "unlisted")
    assert unlisted.failures is not None and unlisted.failures[inverter] > 10
    assert unlisted.inverter_availability[1] == pytest.approx(11 / 12, abs=0.01)
    # Validation names the status column and the blanks' share; the export without blanks has no such finding.
    findings = validate_solar_site(tmp_path / "blanks" / "site.toml").findings
    (finding,) = [f for f in findings if "no status" in f.problem]
    assert finding.severity == "warning" and finding.column == "status"
    assert f"{blank.sum():,} of {len(frame):,} records ({blank.mean():.1%}) have no status code" in finding.problem
    assert not [f for f in validate_solar_site(tmp_path / "whole" / "site.toml").findings if "no status" in f.problem]


@pytest.mark.parametrize(("latitude", "has_pr"), [(78.22, False), (50.65, True)])
def test_a_plant_in_polar_night_has_no_performance_ratio_and_is_in_no_pr_distribution(tmp_path, latitude, has_pr):
    """Svalbard in January and February (polar night, then the sun's return): the in-plane insolation is nearly
    nil (0.005 kWh/m^2 a day), its PR, the ratio of two sums the night's consumption and the sensor's offset
    decide (-0.25 before), is NaN, and the plant sends no count to either PR distribution. Control: the same
    plant at 50.65 N has a PR in the usual range."""
    simulation = _simulated_plant("2023-01-01T00:00:00Z", "2023-03-01T00:00:00Z", latitude=latitude, longitude=15.65)
    site = load_solar_site_config(write_solar_site(simulation.truth, simulation.frame, tmp_path))
    spec = solar_spec("winter", "2023-01-01T00:00:00Z", "2023-03-01T00:00:00Z", [solar_cohort("all")])
    summary = summarise_plant(lambda: read_solar_chunks(site), site, spec)
    assert (summary.insolation_kwh_per_m2_day >= MIN_PR_INSOLATION) == has_pr
    assert math.isfinite(summary.performance_ratio) == has_pr
    assert math.isfinite(summary.performance_ratio_stc) == has_pr
    if has_pr:
        assert 0.7 < summary.performance_ratio < 1.0
    values, census = solar_blocks(summary, site, spec)
    for statistic in (S.PERFORMANCE_RATIO_HISTOGRAM, S.PERFORMANCE_RATIO_STC_HISTOGRAM):
        assert values[BlockKey("all", statistic)].sum() == float(has_pr)
    cells = CensusFields(*census[BlockKey("", S.SOLAR_CENSUS)])
    assert cells.total[len(cohort_atoms(spec.cohorts)), SOLAR_CELLS.index("performance_ratio")] == float(has_pr)


@pytest.mark.parametrize(("longitude", "last_day"), [(151.2, "2023-04-01"), (-70.6, "2023-03-31")])
def test_each_day_is_labelled_by_its_local_solar_date(tmp_path, longitude, last_day):
    """Each day's insolation is that of the records whose local solar time (UTC + longitude / 15 h) falls on the
    date its label gives, east of Greenwich (Sydney, whose solar day starts near 14:00 UTC the day before) and
    west; the report's window of March (UTC) opens on 1 March, and closes on 1 April east of Greenwich, whose
    morning of 1 April is still March in UTC. Before, the east plant's labels were the UTC evenings its days
    start on, a day early (28 February .. 31 March)."""
    simulation = _simulated_plant(
        "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", inverters=1, latitude=-33.9, longitude=longitude
    )
    site = load_solar_site_config(write_solar_site(simulation.truth, simulation.frame, tmp_path))
    spec = solar_spec("march", "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", [solar_cohort("all")])
    summary = summarise_plant(lambda: read_solar_chunks(site), site, spec)
    frame = simulation.frame
    local_date = (frame["time"] + pd.Timedelta(hours=longitude / 15.0)).dt.floor("D")
    insolation = (frame["G_i"].round(3) * 0.25).groupby(local_date).sum()
    daily = summary.daily["insolation"]
    np.testing.assert_allclose(daily.reindex(insolation.index).to_numpy(), insolation.to_numpy(), rtol=1e-9)
    assert daily.drop(insolation.index).eq(0.0).all()
    inverters = inverter_table(summary, site)
    assert inverters["recent_from"].iloc[0] == "2023-03-01"
    assert inverters["recent_to"].iloc[0] == last_day


def test_a_string_lost_mid_period_is_reported_from_its_start_undiluted(tmp_path):
    """INV03 loses 12 % of its DC power on 31 March, halfway through a 61-day period: the report's table gives its
    ratio to the plant's median since the run below began (about 0.88, as the export's own energies give over the
    same days) and what it lost over them, and the window the flag was judged over is the 61 days there are, not
    RECENT_DAYS. Control: over the whole window, as before, the days before the fault dilute the ratio to about
    0.94."""
    planned = replace(
        solar_fleet(1, 1, np.random.default_rng(5))[0],
        inverters=("INV01", "INV02", "INV03"),
        dc_capacity_kw=(1100.0,) * 3,
        ac_capacity_kw=(1000.0,) * 3,
        outages=(),
        underperforming=(Underperformance("INV03", 0.88, "2023-03-31T00:00:00Z"),),
    )
    simulation = simulate_solar_plant_with_truth(
        planned, "2023-03-01T00:00:00Z", "2023-05-01T00:00:00Z", "15min", np.random.default_rng(6)
    )
    site = load_solar_site_config(write_solar_site(simulation.truth, simulation.frame, tmp_path))
    spec = solar_spec("spring", "2023-03-01T00:00:00Z", "2023-05-01T00:00:00Z", [solar_cohort("all")])
    summary = summarise_plant(lambda: read_solar_chunks(site), site, spec)
    table = inverter_table(summary, site).set_index("inverter")
    assert table["underperforming"].tolist() == [False, False, True]
    inv03 = table.loc["INV03"]
    since = pd.Timestamp(inv03["underperforming_since"], tz="UTC")
    assert pd.Timestamp("2023-03-31", tz="UTC") <= since <= pd.Timestamp("2023-04-07", tz="UTC")
    assert inv03["shortfall_from"] == inv03["underperforming_since"]
    assert inv03["recent_days"] == (summary.inverter_daily[1].sum(axis=0) > 0).sum() <= 62
    # The export's own energies over the same days, in good light: INV03's against the median of the two others'.
    frame = simulation.frame
    local_day = (frame["time"] + pd.Timedelta(hours=site.plant.longitude / 15.0)).dt.floor("D")
    lit = frame[(local_day >= since) & (frame["G_i"] >= 200.0)]
    energy = lit.groupby("asset_id", observed=True)["P_out"].sum() * 0.25
    healthy = energy[["INV01", "INV02"]].median()
    assert inv03["ratio_to_plant_median"] == pytest.approx(energy["INV03"] / healthy, abs=0.01)
    assert inv03["ratio_to_plant_median"] == pytest.approx(0.88, abs=0.015)
    # The report counts the records the ratio reads, those whose expected power is below the AC limit: 17.0 of 18.0.
    assert inv03["lost_mwh"] == pytest.approx((healthy - energy["INV03"]) / 1000.0, rel=0.08)
    window = summary.inverter_ratio[2] / np.median(summary.inverter_ratio)
    assert window == pytest.approx(0.94, abs=0.015)


def _beside_a_frozen_logger(folder: Path, with_frozen: bool) -> Path:
    """March 2023 of INV01, its power stuck at 321 kW for 10 records from 03:45 on 6 March (local noon), in a
    time-ordered export (as SCADA writes one), beside INV02 whose logger froze at 123.4 kW for the month or alone."""
    planned = replace(
        solar_fleet(1, 1, np.random.default_rng(5))[0],
        inverters=("INV01", "INV02"),
        dc_capacity_kw=(1300.0,) * 2,
        ac_capacity_kw=(1000.0,) * 2,
        outages=(),
        underperforming=(),
    )
    simulation = simulate_solar_plant_with_truth(
        planned, "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", "15min", np.random.default_rng(6)
    )
    frame = simulation.frame.sort_values(["time", "asset_id"], kind="stable").reset_index(drop=True)
    inv01 = (frame["asset_id"] == "INV01").to_numpy()
    start = pd.Timestamp("2023-03-06T03:45:00Z")
    stuck = inv01 & frame["time"].between(start, start + 9 * pd.Timedelta(minutes=15)).to_numpy()
    frame["P_out"] = np.where(stuck, 321.0, np.where(inv01, frame["P_out"], 123.4))
    truth = simulation.truth
    if not with_frozen:
        frame = frame[inv01]
        truth = replace(truth, inverters=("INV01",), dc_capacity_kw=(1300.0,), ac_capacity_kw=(1000.0,))
    return write_solar_site(truth, frame, folder)


def test_one_inverters_frozen_logger_does_not_change_how_anothers_readings_are_judged(tmp_path, monkeypatch):
    """A private curve's noise is calibrated for one inverter moving its own capped rows only, measured.

    In the export with INV02, 1,000-row chunks cut INV01's stuck run (at its 500th record); in INV01's own
    export they do not. Each record judged beside its inverter's neighbours, INV01's run is flagged in both,
    and INV02 (all its records stuck) adds nothing: the capped curve histogram is the same with and without it.
    Control: judged without neighbours (nothing carried between chunks), the cut run goes unflagged beside
    INV02 only, so INV02's presence moves the histogram by INV01's 10 records, beyond INV02's own rows (none).
    """
    spec = solar_spec(
        "march-private",
        "2023-03-01T00:00:00Z",
        "2023-04-01T00:00:00Z",
        [solar_cohort("all")],
        privacy=PrivacySettings(10.0),
    )

    def capped(with_frozen: bool) -> np.ndarray:
        site = load_solar_site_config(_beside_a_frozen_logger(tmp_path / f"{with_frozen}-{len(moved)}", with_frozen))
        summary = summarise_plant(lambda: read_solar_chunks(site, chunk_rows=1_000), site, spec)
        assert summary.capped_curve_histogram is not None
        return summary.capped_curve_histogram

    moved: list[float] = []
    moved.append(float(np.abs(capped(True) - capped(False)).sum()))
    monkeypatch.setattr("client.solar.summaries.stuck_context", lambda *_: 0)
    moved.append(float(np.abs(capped(True) - capped(False)).sum()))
    assert moved[0] == 0.0
    assert moved[1] > 0.0


@pytest.fixture
def inv02_down_thrice(tmp_path: Path) -> tuple[Path, Path]:
    """A March of two inverters, INV01 down 2 h once and INV02 2 h three times; and the plant without INV02."""
    faults = (
        Outage("INV01", "2023-03-03T10:00:00Z", "2023-03-03T12:00:00Z", "inverter_fault", 3),
        *(
            Outage("INV02", f"2023-03-{d}T11:00:00Z", f"2023-03-{d}T13:00:00Z", "inverter_fault", 3)
            for d in (10, 14, 20)
        ),
    )
    path = _two_inverters_in_march(faults, tmp_path / "plant")
    return path, without_last_inverter(path, tmp_path / "fewer")


def blocks(site_path: Path, spec: Spec) -> dict[BlockKey, np.ndarray]:
    """The values blocks of the plant at ``site_path`` for ``spec``, from its own summary."""
    site = load_solar_site_config(site_path)
    return solar_blocks(summarise_plant(lambda: read_solar_chunks(site), site, spec), site, spec)[0]


def test_a_private_spec_counts_each_inverters_failures_up_to_its_cap_so_one_inverter_moves_them_that_much(
    inv02_down_thrice,
):
    """The sensitivity private failure rates are calibrated for (protos.privacy.failure_l2_sensitivity), measured.

    INV02 fails three times, INV01 once. With a cap of 1 failure per inverter, leaving INV02 out moves the
    plant's failures block by 1 and its inverter-years by at most the period's; control: the exact block
    moves by INV02's three failures, three times what the noise is calibrated for.
    """
    path, fewer = inv02_down_thrice
    period = ("2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z")
    privacy = PrivacySettings(10.0, distribution_share=0.5, max_failures_per_inverter=1)
    private = solar_spec("march-private", *period, [solar_cohort("all")], privacy=privacy)
    exact = solar_spec("march", *period, [solar_cohort("all")])
    failures, years = BlockKey("all", S.SOLAR_FAILURE_COUNT), BlockKey("all", S.INVERTER_YEARS)

    both, one = blocks(path, private), blocks(fewer, private)
    inverter = list(private.solar.components).index("inverter")
    assert both[failures][inverter] == 2 and one[failures][inverter] == 1  # each inverter's capped to 1
    sensitivity = {b.statistic: b.l2_sensitivity for b in private.blocks if b.cohort == "all"}
    moved = np.linalg.norm(both[failures] - one[failures])
    assert moved == pytest.approx(1.0) and moved <= sensitivity[S.SOLAR_FAILURE_COUNT]
    assert sensitivity[S.INVERTER_YEARS] == pytest.approx(31 / 365.25)
    assert 0 < (both[years] - one[years])[0] <= sensitivity[S.INVERTER_YEARS]
    # Control: the exact spec sends INV02's three failures, which the private spec's noise is not calibrated for.
    exact_both, exact_one = blocks(path, exact), blocks(fewer, exact)
    assert exact_both[failures][inverter] == 4
    assert np.linalg.norm(exact_both[failures] - exact_one[failures]) == 3 > sensitivity[S.SOLAR_FAILURE_COUNT]
    # A spec naming a component eight times: the site refuses it. Read without that check, the cap still holds,
    # since it applies over the spec's entries: one inverter moves the block by at most C. Control: capped over
    # the components first and read in the spec's order (as this code first did), INV02's three failures,
    # capped to one, would go out eight times, sqrt(8) times what the spec is charged for (read after the cap,
    # each of its eight entries is an eighth).
    doubled = Spec()
    doubled.CopyFrom(private)
    doubled.solar.components[:] = ["inverter"] * 8
    with pytest.raises(ValueError, match=r"names components \['inverter'\] more than once"):
        blocks(path, doubled)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "client.solar.summaries.in_spec_order",
            lambda values, known, wanted, _: values[[known.index(n) for n in wanted]],
        )
        moved = np.linalg.norm(blocks(path, doubled)[failures] - blocks(fewer, doubled)[failures])
    assert moved == pytest.approx(1 / math.sqrt(8)) and moved <= sensitivity[S.SOLAR_FAILURE_COUNT] == 1
    inv02 = np.zeros((1, len(SOLAR_COMPONENTS)))
    inv02[0, SOLAR_COMPONENTS.index("inverter")] = 3
    read_after_capping = cap_unit_histograms(inv02, 1, 8)[:, [SOLAR_COMPONENTS.index("inverter")] * 8]
    assert np.linalg.norm(read_after_capping) == pytest.approx(math.sqrt(8))


def test_the_failure_cap_counts_only_the_components_the_spec_publishes():
    """An inverter with 1 inverter failure and 3 tracker failures, a spec of inverter failures alone, cap 2: its
    inverter failure counts whole. Control: capped over every component first it would count 0.5, the rate
    biased by failures the release does not publish."""
    privacy = PrivacySettings(10.0, distribution_share=0.5, max_failures_per_inverter=2)
    spec = solar_spec(
        "inverters-only", "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", [solar_cohort("all")], privacy=privacy
    )
    spec.solar.components[:] = ["inverter"]
    failures = np.zeros((1, len(SOLAR_COMPONENTS)))
    failures[0, SOLAR_COMPONENTS.index("inverter")], failures[0, SOLAR_COMPONENTS.index("tracker")] = 1, 3
    capped = cap_inverter_failures(failures, 8.0 * failures, np.array([31 / 365.25]), spec)
    assert capped is not None and capped.failures.tolist() == [1.0] and capped.downtime_hours is None
    assert capped.inverter_years == pytest.approx(31 / 365.25, abs=1e-11)
    assert cap_unit_histograms(failures, 2, 8)[0, SOLAR_COMPONENTS.index("inverter")] == 0.5


def test_a_private_spec_counts_each_inverters_hours_down_up_to_its_cap_so_one_inverter_moves_them_that_much(
    inv02_down_thrice,
):
    """The sensitivity private downtime is calibrated for (protos.privacy.failure_l2_sensitivity), measured.

    INV02 is down 3 x 2 h, INV01 2 h. With a cap of 4 h per inverter, leaving INV02 out moves the plant's
    downtime block by 4 h, the spec's sensitivity; the private spec without a downtime cap sends no hours.
    Control: the exact block moves by INV02's 6 h, 1.5 times what the noise is calibrated for.
    """
    path, fewer = inv02_down_thrice
    period = ("2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z")
    capped_privacy = PrivacySettings(10.0, distribution_share=0.5, max_failures_per_inverter=1)
    uncapped = solar_spec("march-private", *period, [solar_cohort("all")], privacy=capped_privacy)
    privacy = replace(capped_privacy, max_downtime_hours_per_inverter=4)
    private = solar_spec("march-private-downtime", *period, [solar_cohort("all")], privacy=privacy)
    exact = solar_spec("march", *period, [solar_cohort("all")])
    downtime = BlockKey("all", S.SOLAR_FAILURE_DOWNTIME)

    both, one = blocks(path, private), blocks(fewer, private)
    inverter = list(private.solar.components).index("inverter")
    assert both[downtime][inverter] == 6.0 and one[downtime][inverter] == 2.0  # INV02's 6 h capped to 4
    sensitivity = {b.statistic: b.l2_sensitivity for b in private.blocks if b.cohort == "all"}
    moved = np.linalg.norm(both[downtime] - one[downtime])
    assert moved == pytest.approx(4.0) and moved <= sensitivity[S.SOLAR_FAILURE_DOWNTIME] == 4.0
    assert not blocks(path, uncapped)[downtime].any()  # and the spec has no downtime block to send them in
    assert all(b.statistic != S.SOLAR_FAILURE_DOWNTIME for b in uncapped.blocks)
    # Control: the exact spec sends INV02's 6 h, which the private spec's noise is not calibrated for.
    exact_both, exact_one = blocks(path, exact), blocks(fewer, exact)
    assert exact_both[downtime][inverter] == 8.0
    assert np.linalg.norm(exact_both[downtime] - exact_one[downtime]) == 6.0 > sensitivity[S.SOLAR_FAILURE_DOWNTIME]


def test_the_blocks_follow_the_specs_causes_and_components_by_name(plant):
    """A spec listing causes and components in another order gets the plant's figures in its order; an unknown one
    is refused by name."""
    _, summary, folder, spec = plant
    site = load_solar_site_config(folder / "site.toml")
    reordered = Spec()
    reordered.CopyFrom(spec)
    reordered.solar.loss_categories[:] = list(reversed(spec.solar.loss_categories))
    lost = BlockKey("all", S.SOLAR_LOST_PRODUCTION)
    ours, theirs = solar_blocks(summary, site, spec)[0][lost], solar_blocks(summary, site, reordered)[0][lost]
    np.testing.assert_array_equal(theirs, ours[::-1])
    grid = list(spec.solar.loss_categories).index("grid")
    assert np.argmax(ours[grid]) > 0  # the grid outage's share, not bin 0: the rows are told apart
    reordered.solar.components[:] = ["hydraulics", *spec.solar.components[1:]]
    with pytest.raises(ValueError, match=r"components \['hydraulics'\] this site does not know"):
        solar_blocks(summary, site, reordered)


def test_a_plant_without_a_status_column_is_in_no_lost_production_or_failure_cell(tmp_path):
    """Without a status, no cause of a lost record is known: the plant sends no share rather than 0 % to each."""
    drawn = solar_fleet(1, 1, np.random.default_rng(5))[0]
    simulation = simulate_solar_plant_with_truth(
        drawn, "2023-03-01T00:00:00Z", "2023-03-15T00:00:00Z", "15min", np.random.default_rng(6)
    )
    write_solar_site(simulation.truth, simulation.frame, tmp_path)
    text = (tmp_path / "site.toml").read_text()
    (tmp_path / "site.toml").write_text(text.replace('INV_St = "status"\n', ""))
    site = load_solar_site_config(tmp_path / "site.toml")
    assert "INV_St" not in site.columns
    spec = solar_spec("march", "2023-03-01T00:00:00Z", "2023-03-15T00:00:00Z", [solar_cohort("all")])
    summary = summarise_plant(lambda: read_solar_chunks(site), site, spec)
    assert np.isnan(lost_production_shares(summary)).all() and summary.failures is None
    values, census = solar_blocks(summary, site, spec)
    assert not values[BlockKey("all", S.SOLAR_LOST_PRODUCTION)].any()
    cells = CensusFields(*census[BlockKey("", S.SOLAR_CENSUS)]).total[len(cohort_atoms(spec.cohorts))]
    assert cells[SOLAR_CELLS.index("lost_production")] == 0 and cells[SOLAR_CELLS.index("failures")] == 0
    assert cells[SOLAR_CELLS.index("performance_ratio")] == 1  # its other figures still count


def test_snow_on_a_plant_without_status_codes_does_not_count_against_its_inverters(tmp_path, monkeypatch):
    """Three days of snow on a continental plant in January, and one inverter's fault on a cold sunny day.

    Without status codes the summary takes the snow's zero output (modules held at the snow's
    temperature) as snow, not as the inverters being out: the healthy inverter stays fully available,
    the faulted one loses its fault's hours (its modules are below 2 degC in that light, but above the
    air). With the ambient temperature alone the fault's hours are taken for snow too. Control: without
    the snow rule the snow counts against every inverter.
    """
    drawn = solar_fleet(1, 1, np.random.default_rng(5))[0]
    lat, lon, elevation = CLIMATES["continental"].sites[0]
    snow = ("2023-01-10T00:00:00Z", "2023-01-13T00:00:00Z")
    fault = Outage("INV01", "2023-01-20T15:00:00Z", "2023-01-20T20:00:00Z", "inverter_fault", 3)
    planned = replace(
        drawn,
        climate_zone="continental",
        latitude=lat,
        longitude=lon,
        elevation_m=elevation,
        mounting="fixed",
        tilt_deg=35.0,
        azimuth_deg=180.0,  # facing the winter sun
        inverters=("INV01", "INV02"),
        dc_capacity_kw=(1300.0,) * 2,
        ac_capacity_kw=(1000.0,) * 2,
        outages=(fault,),
        underperforming=(),
        snow=(snow,),
    )
    start, end = "2023-01-01T00:00:00Z", "2023-02-01T00:00:00Z"
    simulation = simulate_solar_plant_with_truth(planned, start, end, "15min", np.random.default_rng(6))
    write_solar_site(simulation.truth, simulation.frame, tmp_path)
    text = (tmp_path / "site.toml").read_text().replace('INV_St = "status"\n', "")
    spec = solar_spec("january", start, end, [solar_cohort("all")])

    def summary_of(column_left_out: str = "") -> PlantSummary:
        mapped = re.sub(rf"^{column_left_out} = .*\n", "", text, flags=re.M) if column_left_out else text
        (tmp_path / "site.toml").write_text(mapped)
        site = load_solar_site_config(tmp_path / "site.toml")
        return summarise_plant(lambda: read_solar_chunks(site, chunk_rows=5_000), site, spec)

    frame, g_poa = simulation.frame, simulation.frame["G_i"]
    good_light = frame["time"].between(pd.Timestamp(snow[0]), pd.Timestamp(snow[1]), inclusive="left") & (g_poa >= 200)
    covered_hours = good_light.groupby(frame["asset_id"]).sum().to_numpy() * 0.25
    assert covered_hours.min() > 5  # the snow fell on days with sun to show it
    faulted_in_light = (frame["asset_id"] == "INV01") & frame["time"].between(
        pd.Timestamp(fault.start), pd.Timestamp(fault.end), inclusive="left"
    )
    assert (g_poa[faulted_in_light] >= 200).sum() >= 4  # the fault's good light: the module heats, it is no snow

    summary = summary_of()
    np.testing.assert_allclose(summary.snow_hours, covered_hours)
    assert summary.inverter_availability[1] == pytest.approx(1.0)
    assert summary.inverter_availability[0] < 0.99  # the fault still counts
    by_the_air = summary_of("T_mod")
    np.testing.assert_allclose(by_the_air.snow_hours[1], covered_hours[1])
    assert by_the_air.snow_hours[0] > covered_hours[0]  # the fault's cold hours read as snow
    monkeypatch.setattr("client.solar.summaries.snow_covered", lambda no_output, *_: np.zeros_like(no_output))
    without_snow_rule = summary_of()
    assert not without_snow_rule.snow_hours.any()
    assert without_snow_rule.inverter_availability[1] < 0.97  # the snow's hours count as the inverter's


def test_records_written_twice_count_once_in_every_sum(tmp_path, monkeypatch):
    """An exporter that writes some records twice (every record of INV02's 2-hour grid outage about local noon and
    5 % of the others, each repeat right after its record) sends the blocks of the export written once.

    Control: with repeats kept (the export is in time order, so nothing else is left out), the outage's lost energy
    doubles and the curve's records grow by the repeats."""
    faults = (Outage("INV02", "2023-03-12T02:00:00Z", "2023-03-12T04:00:00Z", "grid", 2),)
    once = _two_inverters_in_march(faults, tmp_path / "once")
    twice = _two_inverters_in_march(faults, tmp_path / "twice")
    (export,) = (twice.parent / "scada").glob("*.parquet")
    frame = pd.read_parquet(export)
    times = pd.to_datetime(frame["timestamp"], utc=True)
    outage = (frame["inverter"] == "INV02") & (times >= "2023-03-12T02:00Z") & (times < "2023-03-12T04:00Z")
    repeated = outage.to_numpy() | (np.random.default_rng(3).random(len(frame)) < 0.05)
    frame.iloc[np.sort(np.concatenate([np.arange(len(frame)), np.flatnonzero(repeated)]), kind="stable")].to_parquet(
        export, index=False
    )
    spec = solar_spec("march", "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", [solar_cohort("all")])
    grid = list(spec.solar.loss_categories).index("grid")

    def summary(path: Path) -> tuple[dict[BlockKey, np.ndarray], float, float]:
        site = load_solar_site_config(path)
        plant = summarise_plant(lambda: read_solar_chunks(site, chunk_rows=997), site, spec)
        return solar_blocks(plant, site, spec)[0], float(plant.lost_energy_kwh[grid]), float(plant.curve_records.sum())

    blocks_once, lost_once, records_once = summary(once)
    blocks_twice = summary(twice)[0]
    assert lost_once > 100.0  # kWh: the outage is in daylight
    assert blocks_once.keys() == blocks_twice.keys()
    for key, block in blocks_once.items():
        np.testing.assert_allclose(blocks_twice[key], block, rtol=1e-12, atol=1e-9, err_msg=str(key))  # chunks differ
    monkeypatch.setattr("client.streaming.late_or_repeated_records", lambda asset, *_: np.zeros(len(asset), bool))
    _, lost_kept, records_kept = summary(twice)
    assert lost_kept == pytest.approx(2 * lost_once, rel=0.05)
    assert records_kept > records_once + 0.02 * len(frame) / 2


def _status_as_event_log(site_path: Path, folder: Path) -> tuple[Path, pd.DataFrame]:
    """A copy of the plant under ``folder`` whose status is an alarm log in Sydney's wall-clock time (11 h ahead)."""
    site = load_solar_site_config(site_path)
    records = pd.concat(read_solar_chunks(site))
    return with_status_as_event_log(site_path, folder, records, "INV_St", 0, pd.Timedelta("15min"), "Australia/Sydney")


def _summary(path: Path, spec: Spec) -> PlantSummary:
    site = load_solar_site_config(path)
    return summarise_plant(lambda: read_solar_chunks(site, chunk_rows=1_000), site, spec)


def _same_summaries_and_blocks(column: Path, logged: Path, spec: Spec) -> PlantSummary:
    """Assert that the plant with its status as a log gives the failures, lost energy and blocks of the one with
    its status column (two failures); the latter's summary."""
    by_column, by_log = _summary(column, spec), _summary(logged, spec)
    assert by_column.failures is not None and by_column.failures.sum() == 2
    np.testing.assert_array_equal(by_log.failures, by_column.failures)
    np.testing.assert_allclose(by_log.lost_energy_kwh, by_column.lost_energy_kwh, rtol=1e-12)
    blocks_column, blocks_log = blocks(column, spec), blocks(logged, spec)
    for key, block in blocks_column.items():
        np.testing.assert_allclose(blocks_log[key], block, rtol=1e-12, atol=1e-9, err_msg=str(key))
    return by_column


def test_an_event_log_gives_the_blocks_its_status_column_gives(tmp_path):
    """The status as a separate alarm log (local wall-clock times, newest first, an open event, an informational
    one, one of another plant's inverter) instead of a column: the same blocks, failures and lost energy.

    Control: the log read as UTC instead of the plant's zone (Sydney, 11 h ahead) moves the outages off their
    records, and the blocks differ."""
    faults = (
        Outage("INV01", "2023-03-03T01:00:00Z", "2023-03-05T09:00:00Z", "inverter_fault", 3),
        Outage("INV02", "2023-03-10T02:00:00Z", "2023-03-10T05:30:00Z", "inverter_fault", 3),
        Outage("INV02", "2023-03-12T02:00:00Z", "2023-03-12T04:00:00Z", "grid", 2),
        Outage("INV02", "2023-03-30T02:00:00Z", "2023-04-01T00:00:00Z", "maintenance", 4),
    )
    column = _two_inverters_in_march(faults, tmp_path / "column")
    logged, log = _status_as_event_log(column, tmp_path / "logged")
    assert (log["Cleared"] == "").sum() == 3  # the maintenance till the end, the two events added
    spec = solar_spec("march", "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", [solar_cohort("all")])
    site = load_solar_site_config(logged)
    assert site.events is not None and site.has_status and "INV_St" not in site.columns
    _, counts = read_event_log(site.events, site.asset_ids, site.timezone, site.available_codes)
    assert counts.unlisted_units == ("NOT-OURS",) and counts.events == len(log) and counts.read == len(log) - 1

    by_column = _same_summaries_and_blocks(column, logged, spec)
    assert (by_column.lost_energy_kwh > 100.0).sum() >= 3  # kWh: inverter fault, grid and maintenance
    logged.write_text(logged.read_text().replace('timezone = "Australia/Sydney"', 'timezone = "UTC"'))
    off_by_eleven_hours = _summary(logged, spec)
    assert not np.allclose(off_by_eleven_hours.lost_energy_kwh, by_column.lost_energy_kwh, rtol=0.05)


def test_a_log_of_raised_and_cleared_rows_gives_the_blocks_its_status_column_gives(tmp_path):
    """The same alarm log written as one row per alarm raised ("Kommt") and one per alarm cleared ("Geht"), in
    no order, mapped with [events] transition: the status column's blocks, failures and lost energy. A raise
    repeated while its alarm is on and a clear repeated after it cleared change nothing.

    Control: the same rows read as a log of state changes (no transition) keep each clear's fault code on
    until the inverter's next row, and the lost energy differs."""
    faults = (
        Outage("INV01", "2023-03-03T01:00:00Z", "2023-03-05T09:00:00Z", "inverter_fault", 3),
        Outage("INV02", "2023-03-10T02:00:00Z", "2023-03-10T05:30:00Z", "inverter_fault", 3),
        Outage("INV02", "2023-03-12T02:00:00Z", "2023-03-12T04:00:00Z", "grid", 2),
    )
    column = _two_inverters_in_march(faults, tmp_path / "column")
    logged, log = _status_as_event_log(column, tmp_path / "logged")
    wall = "%d/%m/%Y %H:%M:%S"
    raises = pd.DataFrame({"Device": log["Device"], "Time": log["Occurred"], "Action": "Kommt", "Code": log["Code"]})
    closed = log[log["Cleared"] != ""]
    clears = pd.DataFrame(
        {"Device": closed["Device"], "Time": closed["Cleared"], "Action": "GEHT", "Code": closed["Code"]}
    )
    fault = raises[(raises["Device"] == "INV01") & (raises["Code"] == 3)].iloc[:1]
    later = pd.to_datetime(fault["Time"], format=wall) + pd.Timedelta("1h")
    repeated_raise = fault.assign(Time=later.dt.strftime(wall))
    repeated_clear = clears.iloc[:1].assign(
        Time=(pd.to_datetime(clears["Time"].iloc[:1], format=wall) + pd.Timedelta("2h")).dt.strftime(wall)
    )
    rows = pd.concat([raises, clears, repeated_raise, repeated_clear], ignore_index=True)
    rows.sample(frac=1.0, random_state=np.random.default_rng(3)).to_csv(
        logged.parent / "alarms.csv", index=False, sep=";"
    )
    logged.write_text(
        logged.read_text().replace('start = "Occurred"\nend = "Cleared"\n', 'start = "Time"\ntransition = "Action"\n')
    )
    spec = solar_spec("march", "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z", [solar_cohort("all")])
    site = load_solar_site_config(logged)
    _, counts = read_event_log(site.events, site.asset_ids, site.timezone, site.available_codes)
    assert counts.alarms is not None and (counts.alarms.clears, counts.alarms.cleared_unraised) == (len(clears) + 1, 0)
    assert (counts.alarms.unknown, counts.alarms.left_on) == (0, 0)  # the open informational event is normal

    by_column = _same_summaries_and_blocks(column, logged, spec)
    logged.write_text(logged.read_text().replace('transition = "Action"\n', ""))
    as_state_changes = _summary(logged, spec)
    assert as_state_changes.lost_energy_kwh.sum() > 1.3 * by_column.lost_energy_kwh.sum()  # 34,057 against 24,804 kWh


@pytest.fixture
def logged_plant(tmp_path: Path) -> Path:
    """The March plant with an inverter fault and a grid outage, its status as an alarm log in Sydney time."""
    faults = (
        Outage("INV01", "2023-03-03T01:00:00Z", "2023-03-05T09:00:00Z", "inverter_fault", 3),
        Outage("INV02", "2023-03-12T02:00:00Z", "2023-03-12T04:00:00Z", "grid", 2),
    )
    return _status_as_event_log(_two_inverters_in_march(faults, tmp_path / "column"), tmp_path / "logged")[0]


def test_a_plant_with_an_event_log_validates_naming_what_the_log_left_out(logged_plant):
    report = validate_solar_site(logged_plant)
    assert report.usable
    assert [(f.severity, f.column) for f in report.findings if "units [[inverters]] does not list" in f.problem] == [
        ("warning", "Device")
    ]
    assert "NOT-OURS" in str(report.findings) and not report.turbines["unlisted_status"].any()
    # A code [status] does not list reaches each record it marks, and is named as a status column's would be.
    log = logged_plant.parent / "alarms.csv"
    log.write_text(log.read_text().replace(";2\n", ";9\n"))
    report = validate_solar_site(logged_plant)
    assert report.turbines.loc["INV02", "unlisted_status"] == 8  # the 2-hour grid outage's records
    assert report.turbines.loc["INV01", "unlisted_status"] == 0
    assert any(f.column == "Code" and "status codes [9]" in f.problem for f in report.findings)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (('code = "Code"', 'code = "Alarm code"'), "[events] code = ['Alarm code'] not a column of the event log"),
        (('time_format = "%d/%m/%Y %H:%M:%S"', 'time_format = "%m/%d/%Y %H:%M"'), "none of the log's"),
    ],
)
def test_an_event_log_that_cannot_be_read_makes_the_plant_unusable(logged_plant, edit, named):
    """A mapped column the log lacks, or times in another format: an error naming [events], nothing summarised."""
    logged_plant.write_text(logged_plant.read_text().replace(*edit))
    report = validate_solar_site(logged_plant)
    assert not report.usable
    assert any(f.severity == "error" and named in f.problem for f in report.findings), report.findings


def test_a_status_column_and_an_event_log_together_are_refused(logged_plant):
    text = logged_plant.read_text().replace('P_out = "ac_power_kw"', 'P_out = "ac_power_kw"\nINV_St = "status"')
    logged_plant.write_text(text)
    with pytest.raises(SiteConfigError, match=r"\[columns\] INV_St and \[events\] both give the status"):
        load_solar_site_config(logged_plant)
