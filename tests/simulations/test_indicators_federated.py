"""Round 2 against the pooled reference: models, indicator distributions and failures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from client.contribution import received_releases_dir
from client.flags import turbine_flags
from client.indicators import histogram_counts
from client.ingest import read_canonical_chunks
from client.maintenance import site_indicators
from client.site_config import load_site_config
from common.release_json import read_release_json
from protos.codec import block_layouts, decode_limb_sums, limb_sums_from_weighted_mean
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey
from server.baselines import block_values
from simulations.fleet import FleetConfig, generate_fleet
from simulations.fleet_faults import FaultConfig
from simulations.onboarding import fleet_spec, run_release_in_process
from simulations.pooled import (
    pooled_canonical_records,
    pooled_model_coefficients,
    pooled_performance_and_yaw,
    pooled_production,
    pooled_reliability,
    pooled_residuals,
    pooled_time_availability,
)

S = spec_pb2.Statistic


@pytest.fixture(scope="module")
def pooled(federated_run):
    return pooled_canonical_records(federated_run.site_configs, federated_run.spec)


def _round_two_values(run) -> dict[str, np.ndarray]:
    spec = run.release.indicator_spec
    outcome = run.indicator_outcome
    totals = decode_limb_sums(block_layouts(spec), limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites))
    return block_values(spec, totals)


def test_federated_models_equal_the_pooled_fixed_effects_regression(federated_run, pooled):
    fits = [m for m in federated_run.release.models if not m.suppressed]
    assert {m.target for m in fits} == {"WTRM_GbxBrgTmp", "WGEN_GnBrgTmp"}
    for fit in fits:
        model = next(m for m in federated_run.spec.models if m.target == fit.target)
        reference = pooled_model_coefficients(pooled, federated_run.spec, fit.cohort, model)
        np.testing.assert_allclose(fit.coefficients, reference, rtol=1e-8, atol=1e-10)
        assert fit.residual_std > 0 and fit.record_count > 1000


def test_federated_distributions_equal_the_pooled_per_turbine_indicators(federated_run, pooled):
    spec = federated_run.release.indicator_spec
    values = _round_two_values(federated_run)
    released = {(d.cohort, d.indicator): d for d in federated_run.release.distributions}
    checked = 0
    for curve in federated_run.release.curves:
        if curve.suppressed or not curve.bins:
            continue
        reference = pooled_performance_and_yaw(pooled, spec, federated_run.release, curve.cohort)
        for indicator, grid, column in (
            (S.PERFORMANCE_INDEX_HISTOGRAM, spec.indicators.performance_index_bins, "performance_index"),
            (S.YAW_MISALIGNMENT_HISTOGRAM, spec.indicators.yaw_misalignment_bins, "yaw_misalignment"),
        ):
            expected = histogram_counts(reference[column].to_numpy(), grid.first_centre, grid.width, grid.count)
            np.testing.assert_array_equal(values[BlockKey(curve.cohort, indicator)], expected)
        distribution = released[curve.cohort, "performance_index"]
        if not distribution.suppressed:
            assert sum(distribution.counts) == len(reference)
            assert distribution.p10 <= distribution.p50 <= distribution.p90
            checked += 1
    assert checked >= 1


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory):
    """A two-round release (SecAgg+ over the in-process grid) of a small fleet with every fault injected often."""
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
    outcomes = []
    release = run_release_in_process(sites, spec, on_outcome=outcomes.append)
    totals = decode_limb_sums(
        block_layouts(release.indicator_spec),
        limb_sums_from_weighted_mean(outcomes[1].mean_arrays, outcomes[1].n_sites),
    )
    values = block_values(release.indicator_spec, totals)
    return sites, release, values, pooled_canonical_records(sites, spec)


def test_failures_and_turbine_years_equal_the_pooled_status_log(faulty_run):
    _, release, values, rows = faulty_run
    spec = release.indicator_spec
    failures, downtime, years_by_operator = pooled_reliability(rows, spec, "E-82/2300")
    years = years_by_operator.sum(axis=0).to_numpy()
    assert failures.sum() >= 10  # the fleet does fail
    np.testing.assert_array_equal(values[BlockKey("E-82/2300", S.FAILURE_COUNT)], failures)
    # Fixed point at 2^-24 h per site: equal to well under a second.
    np.testing.assert_allclose(values[BlockKey("E-82/2300", S.FAILURE_DOWNTIME)], downtime, rtol=0, atol=1e-6)
    np.testing.assert_allclose(values[BlockKey("E-82/2300", S.TURBINE_YEARS)], years, rtol=1e-12)
    # One commissioning date per site: with 4 operators no age band reaches k = 3, so every
    # observed band is published suppressed, with its reason, never dropped.
    rates = [r for r in release.failure_rates if r.cohort == "E-82/2300"]
    bands = {(r.age_from_years, r.age_to_years) for r in rates}
    assert len(bands) == np.count_nonzero(years) and len(rates) == len(bands) * len(spec.indicators.components)
    assert all(r.suppressed and "fewer than 3 operators" in r.suppression_reason for r in rates)
    assert not any(r.HasField("failures") for r in rates)


def test_availability_and_residual_histograms_equal_the_pooled_reference(faulty_run):
    _, release, values, rows = faulty_run
    spec, grids = release.indicator_spec, release.indicator_spec.indicators
    availability = pooled_time_availability(rows, spec, "E-82/2300")
    grid = grids.availability_bins
    expected = histogram_counts(availability.to_numpy(), grid.first_centre, grid.width, grid.count)
    np.testing.assert_array_equal(values[BlockKey("E-82/2300", S.TIME_AVAILABILITY_HISTOGRAM)], expected)
    assert availability.min() < 0.99  # outages happened
    lost, potential, production_availability = pooled_production(rows, spec, release, "E-82/2300")
    sums = values[BlockKey("E-82/2300", S.LOST_PRODUCTION)]
    categories = list(grids.loss_categories)
    np.testing.assert_allclose(sums[:-1], lost.reindex(categories, fill_value=0.0).to_numpy(), rtol=1e-9, atol=1e-9)
    assert sums[-1] == pytest.approx(potential, rel=1e-9) and lost["forced_outage"] > 0
    grid = grids.availability_bins
    expected = histogram_counts(production_availability.to_numpy(), grid.first_centre, grid.width, grid.count)
    np.testing.assert_array_equal(values[BlockKey("E-82/2300", S.PRODUCTION_AVAILABILITY_HISTOGRAM)], expected)
    for fit in (m for m in release.models if not m.suppressed):
        residuals = pooled_residuals(rows, spec, fit)
        grid = grids.residual_bins
        expected = histogram_counts(residuals, grid.first_centre, grid.width, grid.count)
        np.testing.assert_array_equal(values[BlockKey(fit.cohort, S.NBM_RESIDUAL_HISTOGRAM, fit.target)], expected)


def test_every_site_receives_the_final_release_and_flags_its_faulty_turbines(faulty_run):
    sites, release, _, _ = faulty_run
    truth = json.loads((sites[0].parent.parent / "ground_truth.json").read_text())["operators"]
    flagged_yaw, big_yaw = 0, 0
    for operator, site_path in enumerate(sites):
        (received,) = received_releases_dir(site_path).glob("*.json")
        final = read_release_json(received)
        assert final.provenance.indicator_spec_sha256 == release.provenance.indicator_spec_sha256
        site = load_site_config(site_path)
        indicators = site_indicators(lambda site=site: read_canonical_chunks(site), site, final.indicator_spec, final)
        flags = turbine_flags(indicators, final)
        flags = flags[flags["cohort"] == "E-82/2300"].set_index(["asset_id", "indicator"])
        for turbine in truth[operator]["turbines"]:
            if abs(turbine["vane_offset_deg"]) >= 6:
                big_yaw += 1
                flagged_yaw += bool(flags.loc[(turbine["asset_id"], "yaw_misalignment"), "flagged"])
            estimate = flags.loc[(turbine["asset_id"], "yaw_misalignment"), "value"]
            assert abs(estimate - turbine["vane_offset_deg"]) < 2.0
    assert big_yaw >= 1 and flagged_yaw == big_yaw
