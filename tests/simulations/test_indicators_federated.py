"""Round 2 against the pooled reference: models, indicator distributions and failures.

Each turbine is measured once, against its own cohort (the first of its cohorts with a released
curve, or model); a cohort's distribution gathers its member turbines that the indicator measured.
Where the census withholds a cell, the sites send zeros for it.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from site_copies import with_status_as_event_log
from test_pooled import assert_blocks_equal, assert_census_equal, run_recording_censuses, summed_values

from client.contribution import received_releases_dir
from client.flags import turbine_flags
from client.indicators import failure_events, histogram_counts
from client.ingest import read_canonical_chunks
from client.maintenance import site_indicators
from client.site_config import load_site_config
from common.release_json import read_release_json
from protos.census import census_totals
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import STATISTICS, BlockKey, CensusFields
from server.spec import indicator_spec, power_curve_spec
from simulations.fleet import FleetConfig, generate_fleet
from simulations.fleet_faults import FaultConfig
from simulations.onboarding import fleet_spec
from simulations.pooled import (
    pooled_canonical_records,
    pooled_model_coefficients,
    pooled_monthly_indicators,
    pooled_own_cohorts,
    pooled_performance_and_yaw,
    pooled_production,
    pooled_reliability,
    pooled_residuals,
    pooled_round_two,
    pooled_time_availability,
    pooled_turbines,
    released_curves,
)

S = spec_pb2.Statistic


@pytest.fixture(scope="module")
def pooled(federated_run):
    return pooled_canonical_records(federated_run.site_configs, federated_run.spec)


def assert_carried(
    values: dict[BlockKey, np.ndarray],
    release: release_pb2.Release,
    key: BlockKey,
    indicator: str,
    expected: np.ndarray,
) -> bool:
    """The block of a distribution holds the pooled counts where the release publishes it, zeros where withheld.

    A distribution nothing measured is not listed. Returns whether it is published.
    """
    listed = [d for d in release.distributions if (d.cohort, d.indicator) == (key.cohort, indicator)]
    if not listed:
        assert not expected.any() and not values[key].any(), f"{key.name}: measured, but not listed"
        return False
    (distribution,) = listed
    if distribution.suppressed:
        assert expected.any() and not values[key].any(), f"{key.name}: withheld, yet sent"
        return False
    np.testing.assert_array_equal(values[key], expected, err_msg=key.name)
    assert list(distribution.counts) == expected.astype(np.int64).tolist()
    return True


def test_federated_models_equal_the_pooled_fixed_effects_regression(federated_run, pooled):
    fits = [m for m in federated_run.release.models if not m.suppressed]
    assert {m.target for m in fits} == {"WTRM_GbxBrgTmp", "WGEN_GnBrgTmp"}
    for fit in fits:
        model = next(m for m in federated_run.spec.models if m.target == fit.target)
        reference = pooled_model_coefficients(pooled, federated_run.spec, fit.cohort, model)
        np.testing.assert_allclose(fit.coefficients, reference, rtol=1e-8, atol=1e-10)
        assert fit.residual_std > 0 and fit.record_count > 1000


def test_federated_distributions_equal_the_pooled_per_turbine_indicators(federated_run, pooled):
    release = federated_run.release
    spec = release.indicator_spec
    values = summed_values(spec, federated_run.indicator_outcome)
    turbines = pooled_turbines(pooled, spec)
    own = pooled_own_cohorts(turbines, spec, released_curves(release))
    reference = pooled_performance_and_yaw(pooled, spec, release)
    # Every turbine with an own cohort is measured against its curve, and no other.
    assert set(reference.index) == set(own.index[own != ""])
    checked = 0
    for cohort in spec.cohorts:
        members = reference[turbines[cohort.name].reindex(reference.index)]
        for statistic, grid, column in (
            (S.PERFORMANCE_INDEX_HISTOGRAM, spec.indicators.performance_index_bins, "performance_index"),
            (S.YAW_MISALIGNMENT_HISTOGRAM, spec.indicators.yaw_misalignment_bins, "yaw_misalignment"),
        ):
            expected = histogram_counts(members[column].to_numpy(), grid.first_centre, grid.width, grid.count)
            checked += assert_carried(values, release, BlockKey(cohort.name, statistic), column, expected)
    assert checked >= 4


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory):
    """A two-round release (SecAgg+ over the in-process grid) of a small fleet with every fault injected often.

    Returns its sites, the release, round 2's summed values and census, and the pooled canonical records.
    """
    config = FleetConfig(
        operators=4,
        turbines_per_operator=3,
        months=4,
        seed=31,
        models=("E-82/2300",),
        faults=FaultConfig(
            underperformance_probability=0.3,
            yaw_probability=0.3,
            bearing_fault_probability=0.3,
            earliest_drift_fraction=0.34,
            failure_rates=(("gearbox", 2.0), ("generator", 2.0), ("pitch_system", 4.0), ("converter", 3.0)),
        ),
    )
    sites = generate_fleet(config, tmp_path_factory.mktemp("faulty"))
    spec = fleet_spec(config, k_min_operators=3)
    release, outcomes, censuses = run_recording_censuses(sites, spec, send=True)
    values = summed_values(release.indicator_spec, outcomes[1])
    return sites, release, values, censuses[1], pooled_canonical_records(sites, spec)


@pytest.fixture(scope="module")
def kept_on_site(faulty_run):
    """What each site keeps of round 2, measured against the final release it received."""
    sites, release, *_ = faulty_run
    kept = []
    for site_path in sites:
        (received,) = received_releases_dir(site_path).glob("*.json")
        final = read_release_json(received)
        assert final.provenance.indicator_spec_sha256 == release.provenance.indicator_spec_sha256
        site = load_site_config(site_path)
        kept.append(site_indicators(lambda site=site: read_canonical_chunks(site), site, final.indicator_spec, final))
    return kept


def test_every_round_two_block_and_the_census_equal_the_pooled_reference(faulty_run):
    _, release, values, census, rows = faulty_run
    spec = release.indicator_spec
    second = pooled_round_two(rows, spec, release)
    assert_census_equal(spec, census, second)
    assert len(second.values) == len(spec.blocks)
    assert_blocks_equal(spec, values, second.values)


def test_failures_and_turbine_years_equal_the_pooled_status_log(faulty_run, kept_on_site):
    _, release, values, census, rows = faulty_run
    spec = release.indicator_spec
    failures, downtime, years_by_operator = pooled_reliability(rows, spec, "E-82/2300")
    years = years_by_operator.sum(axis=0).to_numpy()
    assert failures.sum() >= 10  # the fleet does fail
    # The failures each site keeps (its failure table) are the pooled status log's, run by run.
    edges, components = np.array(spec.indicators.age_band_edges), list(spec.indicators.components)
    kept_failures, kept_downtime = np.zeros_like(failures), np.zeros_like(downtime)
    for table in (indicators.failures for indicators in kept_on_site):
        band = np.searchsorted(edges, table["age_years"].to_numpy(dtype=np.float64), side="right") - 1
        component = [components.index(name) for name in table["component"]]
        np.add.at(kept_failures, (component, band), 1)
        np.add.at(kept_downtime, (component, band), table["downtime_h"].to_numpy(dtype=np.float64))
    np.testing.assert_array_equal(kept_failures, failures)
    np.testing.assert_allclose(kept_downtime, downtime, rtol=0, atol=1e-9)
    # The census holds the cohort's turbine-years per age band (all its turbines are in one atom,
    # with the band's), summed over operators at the census's fixed point.
    (atom,) = [a for a, members in enumerate(cohort_atoms(spec.cohorts)) if members == (0, 1)]
    age_bands = CensusFields(*census_totals(census, spec)[BlockKey("", S.AGE_BAND_CENSUS)])
    step = 2.0 ** -STATISTICS[S.AGE_BAND_CENSUS].scale_exponent
    np.testing.assert_allclose(age_bands.total[atom], years, rtol=0, atol=len(years_by_operator) * step)
    np.testing.assert_array_equal(age_bands.contributor[atom], (years_by_operator > 0).sum(axis=0))
    # One commissioning date per site: with 4 operators no age band reaches k = 3, so the sites
    # withheld every band (they sent zeros) and every observed band is published suppressed, with
    # its reason, never dropped.
    for statistic in (S.FAILURE_COUNT, S.FAILURE_DOWNTIME, S.TURBINE_YEARS, S.AGE_BAND_CONTRIBUTOR):
        assert not values[BlockKey("E-82/2300", statistic)].any()
    rates = [r for r in release.failure_rates if r.cohort == "E-82/2300"]
    bands = {(r.age_from_years, r.age_to_years) for r in rates}
    assert len(bands) == np.count_nonzero(years) and len(rates) == len(bands) * len(spec.indicators.components)
    assert all(r.suppressed and r.suppression_reason == "fewer than 3 operators" for r in rates)
    assert not any(r.HasField("failures") for r in rates)


def test_availability_lost_production_and_residuals_equal_the_pooled_reference(faulty_run):
    _, release, values, _, rows = faulty_run
    spec, grids = release.indicator_spec, release.indicator_spec.indicators
    turbines = pooled_turbines(rows, spec)
    time_availability = pooled_time_availability(rows, spec)
    production = pooled_production(rows, spec, release)
    residuals = {m.target: pooled_residuals(rows, spec, release, m.target) for m in spec.models}
    assert time_availability.min() < 0.99  # outages happened
    grid = grids.availability_bins
    categories = [f"lost:{category}" for category in grids.loss_categories]
    published = 0
    for cohort in spec.cohorts:
        members = turbines.index[turbines[cohort.name]]
        for statistic, indicator, per_turbine in (
            (S.TIME_AVAILABILITY_HISTOGRAM, "time_availability", time_availability),
            (S.PRODUCTION_AVAILABILITY_HISTOGRAM, "production_availability", production["production_availability"]),
        ):
            measured = per_turbine.reindex(members).to_numpy()  # NaN: not measured, not counted
            expected = histogram_counts(measured, grid.first_centre, grid.width, grid.count)
            published += assert_carried(values, release, BlockKey(cohort.name, statistic), indicator, expected)
        # Lost production of the members with a potential production; each measured against its own curve.
        assert not any(x.suppressed for x in release.lost_production if x.cohort == cohort.name)
        mine = production.reindex(members)[lambda frame: frame["potential"] > 0]
        lost = mine[categories].sum(axis=0).to_numpy()
        sums = values[BlockKey(cohort.name, S.LOST_PRODUCTION)]
        np.testing.assert_allclose(sums[:-1], lost, rtol=1e-9, atol=1e-9)
        assert sums[-1] == pytest.approx(mine["actual"].sum() + lost.sum(), rel=1e-9)
        assert lost[list(grids.loss_categories).index("forced_outage")] > 0
        for model in spec.models:
            records = residuals[model.target]
            mine = records["residual"][records["turbine"].isin(members)].to_numpy()
            bins = grids.residual_bins
            expected = histogram_counts(mine, bins.first_centre, bins.width, bins.count)
            key = BlockKey(cohort.name, S.NBM_RESIDUAL_HISTOGRAM, model.target)
            published += assert_carried(values, release, key, f"residual:{model.target}", expected)
    assert published == len(spec.cohorts) * (2 + len(spec.models))


def test_every_site_receives_the_final_release_and_flags_its_faulty_turbines(faulty_run, kept_on_site):
    sites, release, *_ = faulty_run
    truth = json.loads((sites[0].parent.parent / "ground_truth.json").read_text())["operators"]
    flagged_yaw, big_yaw = 0, 0
    for operator, (site_path, indicators) in enumerate(zip(sites, kept_on_site, strict=True)):
        (received,) = received_releases_dir(site_path).glob("*.json")
        final = read_release_json(received)
        assert final.provenance.indicator_spec_sha256 == release.provenance.indicator_spec_sha256
        flags = turbine_flags(indicators, final)
        flags = flags[flags["cohort"] == "E-82/2300"].set_index(["asset_id", "indicator"])
        for turbine in truth[operator]["turbines"]:
            if abs(turbine["vane_offset_deg"]) >= 6:
                big_yaw += 1
                flagged_yaw += bool(flags.loc[(turbine["asset_id"], "yaw_misalignment"), "flagged"])
            estimate = flags.loc[(turbine["asset_id"], "yaw_misalignment"), "value"]
            assert abs(estimate - turbine["vane_offset_deg"]) < 2.0
    assert big_yaw >= 1 and flagged_yaw == big_yaw


def test_the_energy_each_site_expects_of_its_turbines_equals_the_pooled_reference(faulty_run, kept_on_site):
    """expected_mwh (the report's MWh lost per flag) is the pooled expected energy over the scored records."""
    _, release, *_, rows = faulty_run
    reference = pooled_performance_and_yaw(rows, release.indicator_spec, release)
    checked = 0
    for operator, indicators in enumerate(kept_on_site):  # the pooled reference numbers operators in site order
        own = indicators.turbines.drop_duplicates("asset_id")  # the same curve's expectation in every cohort row
        for row in own.itertuples():
            turbine = f"{operator}/{row.asset_id}"
            if turbine in reference.index:
                expected_mwh = reference.loc[turbine, "expected"] * (10 / 60) / 1000  # kW per 10-min record
                assert row.expected_mwh == pytest.approx(expected_mwh, rel=1e-9), turbine
                checked += 1
    assert checked >= 6


def test_what_each_site_keeps_month_by_month_equals_the_pooled_reference(faulty_run, kept_on_site):
    """The report's monthly performance index and time availability per turbine are the pooled month's."""
    _, release, *_, rows = faulty_run
    reference = pooled_monthly_indicators(rows, release.indicator_spec, release)
    months = {d.month for d in release.monthly_distributions}
    assert len(months) == 4  # the four months of the period, each released
    checked = 0
    for operator, indicators in enumerate(kept_on_site):
        kept = indicators.monthly.assign(turbine=f"{operator}/" + indicators.monthly["asset_id"])
        kept = kept.set_index(["turbine", "month"])
        for column in ("performance_index", "time_availability"):
            ours = kept[column].dropna()
            theirs = reference[column].dropna()
            theirs = theirs[theirs.index.get_level_values("turbine").str.startswith(f"{operator}/")]
            assert set(ours.index) == set(theirs.index), column
            np.testing.assert_allclose(ours.sort_index(), theirs.sort_index(), rtol=1e-9)
            checked += len(ours)
    assert checked >= 4 * 12  # every turbine, every month, at least one indicator


def test_each_month_s_time_availability_is_the_share_of_the_month_no_injected_stop_took(faulty_run, kept_on_site):
    """Ground truth: a month's time availability is 1 - the records an injected fault or outage stopped."""
    sites, *_ = faulty_run
    dips = 0
    for site_path, indicators in zip(sites, kept_on_site, strict=True):
        truth = pd.read_parquet(site_path.parent / "truth.parquet")
        stopped = truth["fault"] | (truth["failure_component"] != "") | truth["maintenance"]
        month = truth["time"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
        injected = 1.0 - stopped.groupby([truth["asset_id"].astype(str), month]).mean()
        measured = indicators.monthly.set_index(["asset_id", "month"])["time_availability"].dropna()
        if measured.empty:
            continue  # a site without a status channel measures no availability
        np.testing.assert_allclose(measured, injected.reindex(measured.index), atol=0.002)
        dips += int((measured < 0.97).sum())
    assert dips >= 3  # outages struck some months, which the monthly view shows


def test_a_site_keeps_the_same_failures_whatever_its_chunks(faulty_run, kept_on_site, monkeypatch):
    """Read in 500-row chunks, a site finds the same failures, run by run with their downtime, as read whole: a
    failure split between chunks is one, its downtime added to the event that began it. Control: judged chunk by
    chunk, split failures count twice."""
    sites, *_ = faulty_run
    site = load_site_config(sites[0])
    (received,) = received_releases_dir(sites[0]).glob("*.json")
    final = read_release_json(received)
    whole = kept_on_site[0].failures.reset_index(drop=True)

    def failures() -> pd.DataFrame:
        chunked = site_indicators(
            lambda: read_canonical_chunks(site, chunk_rows=500), site, final.indicator_spec, final
        )
        return chunked.failures.reset_index(drop=True)

    assert len(whole) >= 3
    pd.testing.assert_frame_equal(failures(), whole)
    monkeypatch.setattr(
        "client.maintenance.continues_earlier_run", lambda events, *_: np.zeros(len(events.asset), bool)
    )
    assert len(failures()) > len(whole)


def test_a_site_whose_status_is_an_event_log_keeps_what_its_status_column_gives(faulty_run, kept_on_site, tmp_path):
    """The first site with a status column, its status rewritten as a separate alarm log (wall-clock times in its
    zone, newest first, an open event, an informational one, one of a turbine it does not list) and the column no
    longer mapped: the same failures with their downtime and the same monthly indicators.

    Control: the log without its events leaves every record normal, and the failures go."""
    sites, *_ = faulty_run
    index = next(i for i, path in enumerate(sites) if load_site_config(path).has_status)
    site = load_site_config(sites[index])
    (received,) = received_releases_dir(sites[index]).glob("*.json")
    final = read_release_json(received)
    records = pd.concat(read_canonical_chunks(site))
    normal = site.normal_status_codes[0]
    logged, log = with_status_as_event_log(
        sites[index], tmp_path, records, "WTUR_TurSt", normal, pd.Timedelta("10min"), site.timezone
    )
    from_log = load_site_config(logged)
    assert from_log.events is not None and "WTUR_TurSt" not in from_log.columns and len(log) > 10

    def indicators() -> tuple[pd.DataFrame, pd.DataFrame]:
        kept = site_indicators(lambda: read_canonical_chunks(from_log), from_log, final.indicator_spec, final)
        return kept.failures.reset_index(drop=True), kept.monthly.reset_index(drop=True)

    failures, monthly = indicators()
    assert len(failures) >= 3
    pd.testing.assert_frame_equal(failures, kept_on_site[index].failures.reset_index(drop=True))
    pd.testing.assert_frame_equal(monthly, kept_on_site[index].monthly.reset_index(drop=True))
    (logged.parent / "alarms.csv").write_text("Device;Occurred;Cleared;Code\n")
    assert indicators()[0].empty


def test_the_pooled_status_log_bridges_unknown_status_as_the_site_does():
    """One turbine's gearbox failure: code, blank, code, a missing record, code (10-min records), then normal, then
    the code again after 70 minutes of blanks. The pooled reference counts what the site's kernel counts: two
    failures, the first of five records' span, the second of one. Control: read as before (every record known,
    runs of consecutive records), the blanks and the missing record would split the first into three."""
    spec = indicator_spec(
        power_curve_spec("t", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"]), "0" * 64
    )
    minutes = np.array([0, 10, 20, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140])
    status = np.array([5, np.nan, 5, 5, 0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 5, 0])
    time = pd.Timestamp("2025-01-10T00:00:00Z") + pd.to_timedelta(minutes, unit="min")
    rows = pd.DataFrame(
        {
            "operator": "op",
            "turbine": "op/T01",
            "time": time,
            "WTUR_TurSt": status,
            "component": np.where(status == 5, "gearbox", None),
            "commissioned": pd.Timestamp("2020-01-01"),
            "failures_measured": True,
            "E-82/2300": True,
        }
    )
    failures, downtime, _ = pooled_reliability(rows, spec, "E-82/2300")
    gearbox = list(spec.indicators.components).index("gearbox")
    assert failures[gearbox].sum() == 2 and downtime[gearbox].sum() == pytest.approx((5 + 1) / 6)
    asset, stamps, component = np.zeros(len(rows), dtype=np.int64), time.tz_convert(None).to_numpy(), status == 5
    events = failure_events(asset, stamps, np.where(component, 0, -1), known=np.isfinite(status))
    assert events.records.tolist() == [5, 1]
    as_before = failure_events(asset, stamps, np.where(component, 0, -1), bridge_seconds=0)
    assert as_before.records.tolist() == [1, 1, 1, 1]
