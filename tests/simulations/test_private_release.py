"""A differentially private release end to end: capped sums, site noise under SecAgg+, ledgers, finalisation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from site_copies import copies_with_budget

from client.audit import audit_log_path
from client.ingest import read_canonical_chunks
from client.privacy import ledger_path, read_ledger
from client.site_config import load_site_config
from client.summaries import summarise_site
from protos.codec import block_layouts, decode_limb_sums, limb_sums_from_weighted_mean
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import composed_epsilon, spec_rho
from protos.statistics import BlockKey
from server.percentiles import histogram_percentiles
from server.publish import release_from_secure_sum
from server.secure_sum import SecureSumOutcome
from server.spec import PrivacySettings, power_curve_spec
from simulations.fleet import FleetConfig, generate_fleet
from simulations.onboarding import run_release_in_process
from simulations.pooled import pooled_capped_histograms, pooled_rows

CONFIG = FleetConfig(operators=4, turbines_per_operator=3, months=2, seed=41, models=("E-82/2300",))
COHORT = "E-82/2300"
CAPPED = BlockKey(COHORT, spec_pb2.Statistic.CAPPED_POWER_HISTOGRAM)


def _spec(epsilon: float, min_noise_sites: int = 3):
    settings = PrivacySettings(epsilon, max_records_per_turbine_per_bin=40, min_noise_sites=min_noise_sites)
    return power_curve_spec(
        f"private-{epsilon:g}", CONFIG.start, CONFIG.period_end, [COHORT], k_min_operators=3, privacy=settings
    )


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    return generate_fleet(CONFIG, tmp_path_factory.mktemp("private-fleet"))


@pytest.fixture
def generous_fleet(fleet, tmp_path: Path):
    """The same exports, at sites with no history whose policies allow (hardly private) releases up to epsilon 1e5.

    A fresh copy for each test: a site keeps one release per period, and each test runs its own.
    """
    return copies_with_budget(fleet, tmp_path)


@pytest.fixture(scope="module")
def noiseless(fleet):
    """The pooled capped histogram a trusted party would compute (pandas group-by per record)."""
    return pooled_capped_histograms(pooled_rows(fleet, _spec(1.0)), _spec(1.0))[COHORT]


def _private_run(sites, spec):
    outcomes: list[SecureSumOutcome] = []
    release = run_release_in_process(sites, spec, send=False, on_outcome=outcomes.append, run_id=11)
    totals = decode_limb_sums(
        block_layouts(spec), limb_sums_from_weighted_mean(outcomes[0].mean_arrays, outcomes[0].n_sites)
    )
    return release, totals, outcomes


def test_sites_cap_each_turbine_exactly_as_the_pooled_reference_does(fleet, noiseless):
    spec = _spec(1.0)
    summed = sum(
        summarise_site(lambda s=site: read_canonical_chunks(s), site, spec).values[CAPPED]
        for site in (load_site_config(path) for path in fleet)
    )
    np.testing.assert_allclose(summed, noiseless, rtol=1e-12, atol=1e-9)
    rows = noiseless.sum(axis=1)
    assert rows.max() <= CONFIG.operators * CONFIG.turbines_per_operator * 40 + 1e-9
    assert rows.max() == pytest.approx(CONFIG.operators * CONFIG.turbines_per_operator * 40)  # the cap binds


def test_the_secure_sum_is_the_capped_histogram_plus_noise_of_the_stated_variance(generous_fleet, noiseless):
    # Epsilon 100: twelve turbines hold enough weight for the noise to let bins through, so the sites take part.
    spec = _spec(100.0)
    release, totals, outcomes = _private_run(generous_fleet, spec)
    block = next(b for b in spec.blocks if b.noise_stddev > 0)
    noise = np.ldexp(np.array(totals[CAPPED], dtype=np.float64), -block.scale_exponent)
    noise -= noiseless
    n = noise.size
    # All 4 sites survived, each adding sigma / sqrt(t - 1): variance 4 / 2 sigma^2.
    expected = block.noise_stddev**2 * outcomes[0].n_sites / (spec.privacy.min_noise_sites - 1)
    assert noise.var() == pytest.approx(expected, rel=5 * math.sqrt(2 / n))
    assert abs(noise.mean()) < 5 * math.sqrt(expected / n)
    # Every site charged its ledger the cost it recomputed from the spec, before sending; the census cost nothing.
    for site in generous_fleet:
        (entry,) = read_ledger(ledger_path(site))
        assert entry.rho == pytest.approx(spec_rho(spec)) and entry.spec_id == spec.spec_id
        audited = [json.loads(line) for line in audit_log_path(site).read_text().splitlines()]
        census, values = (e for e in audited if e["event"] == "contribution")
        assert census["privacy_rho"] is None and values["privacy_rho"] == pytest.approx(entry.rho)
    # The release states its privacy and publishes nothing exact about any bin.
    assert release.privacy.epsilon == pytest.approx(100.0, rel=1e-6)
    assert release.privacy.operator_epsilon[10] == pytest.approx(composed_epsilon([spec_rho(spec) * 100], 1e-6))
    assert not release.models and not release.distributions  # no second round under DP
    (curve,) = release.curves
    assert not curve.HasField("operator_count") and curve.completeness.hours == 0  # weights are not counts
    released = [cell for cell in curve.bins if not cell.suppressed]
    assert released
    for cell in released:
        assert not cell.HasField("record_count") and not cell.HasField("operator_count")
        assert not cell.HasField("mean_power") and not cell.HasField("power_coefficient")
        assert cell.HasField("noisy_record_weight")
        if cell.HasField("p50_normalised_power"):
            assert cell.p10_normalised_power <= cell.p50_normalised_power <= cell.p90_normalised_power
            assert cell.HasField("p50_noise_stddev") and cell.HasField("mean_power_per_unit")
        else:  # dominated by noise: nothing but the noisy weight
            assert not cell.HasField("p50_noise_stddev") and not cell.HasField("mean_power_per_unit")


def test_with_little_noise_the_private_p50_is_within_its_stated_error_of_the_noiseless_one(generous_fleet, noiseless):
    spec = _spec(20000.0, min_noise_sites=4)
    release, _, _ = _private_run(generous_fleet, spec)
    grid = spec.normalised_power_bins
    centres = spec.wind_speed_bins.first_centre + spec.wind_speed_bins.width * np.arange(spec.wind_speed_bins.count)
    checked = 0
    for cell in release.curves[0].bins:
        if cell.suppressed or not cell.HasField("p50_normalised_power"):
            continue
        row = noiseless[int(np.argmin(np.abs(centres - cell.wind_speed_centre)))]
        (truth,) = histogram_percentiles(row, grid.first_centre, grid.width, (0.5,))
        # Every published bin, those whose records sit in one cell (rated power) included.
        assert abs(cell.p50_normalised_power - truth) <= 5 * cell.p50_noise_stddev + grid.width, cell
        checked += 1
    assert checked >= 10


def test_a_private_sum_over_fewer_sites_than_the_noise_needs_is_not_published():
    spec = _spec(1.0, min_noise_sites=5)
    census = spec_pb2.Census(participants=4)
    with pytest.raises(ValueError, match="needs at least 5"):
        release_from_secure_sum(spec, SecureSumOutcome(n_sites=4, mean_arrays=[]), census, flower_run_id="1")
