"""A differentially private solar release: inverters capped, noise added at the sites, what differencing leaves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import json_format
from site_copies import copies_with_budget
from solar_releases import PERIODS

from client.privacy import ledger_path, read_ledger
from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import solar_blocks, summarise_plant
from fleetbench.cli import format_release, main
from protos.codec import block_layouts, decode_limb_sums, limb_sums_from_weighted_mean, spec_sha256
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import composed_epsilon, spec_rho, summed_noise_stddev
from protos.statistics import BlockKey
from server.secure_sum import SecureSumOutcome
from server.spec import PrivacySettings, solar_cohort, solar_spec
from simulations.onboarding import run_release_in_process
from simulations.pooled import pooled_capped_specific_power_histograms, pooled_solar_rows
from simulations.solar_fleet import write_solar_fleet

S = spec_pb2.Statistic
COHORT = "all"
CAP = 40  # records per inverter per irradiance bin
CAPPED = BlockKey(COHORT, S.CAPPED_SPECIFIC_POWER_HISTOGRAM)
EXACT = BlockKey(COHORT, S.SPECIFIC_POWER_HISTOGRAM)


def _spec(epsilon: float | None) -> spec_pb2.BenchmarkSpec:
    """The first period's spec for the whole fleet: private at ``epsilon``, or without privacy (None)."""
    privacy = PrivacySettings(epsilon, max_records_per_turbine_per_bin=CAP) if epsilon is not None else None
    name = f"solar-private-{epsilon:g}" if epsilon is not None else "solar-exact"
    return solar_spec(name, *PERIODS[0], [solar_cohort(COHORT)], 3, privacy=privacy)


@pytest.fixture(scope="module")
def plants(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("private-solar")
    truths = write_solar_fleet(root / "fleet", n_plants=4, years=1, seed=5)
    return [root / "fleet" / truth.name / "site.toml" for truth in truths]


@pytest.fixture
def generous(plants: list[Path], tmp_path: Path) -> list[Path]:
    """The same plants, without history, whose policies allow (hardly private) releases up to epsilon 1e5."""
    return copies_with_budget(plants, tmp_path)


_OWN: dict[tuple[Path, str], dict[BlockKey, np.ndarray]] = {}


def _own(path: Path, spec: spec_pb2.BenchmarkSpec, key: BlockKey) -> np.ndarray:
    """What the plant at ``path`` puts in block ``key`` before any noise: its own summary's block (computed once)."""
    if (path, spec_sha256(spec)) not in _OWN:
        site = load_solar_site_config(path)
        values, _ = solar_blocks(summarise_plant(lambda: read_solar_chunks(site), site, spec), site, spec)
        _OWN[path, spec_sha256(spec)] = values
    return _OWN[path, spec_sha256(spec)][key]


def _decoded(sites: list[Path], spec: spec_pb2.BenchmarkSpec, key: BlockKey, run_id: int):
    """The release, the aggregator's decoded sum of block ``key`` [block unit] and the sites summed."""
    outcomes: list[SecureSumOutcome] = []
    release = run_release_in_process(
        sites, spec, indicators=False, send=False, on_outcome=outcomes.append, run_id=run_id
    )
    totals = decode_limb_sums(
        block_layouts(spec), limb_sums_from_weighted_mean(outcomes[-1].mean_arrays, outcomes[-1].n_sites)
    )
    exponent = next(b.scale_exponent for b in spec.blocks if BlockKey.of(b) == key)
    return release, np.ldexp(np.asarray(totals[key], dtype=np.float64), -exponent), outcomes[-1].n_sites


def _released_rows(release, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    """The irradiance bins the release publishes (not suppressed) [bin index]."""
    grid = spec.solar.irradiance_bins
    centres = [cell.irradiance_centre for cell in release.solar_curves[0].bins if not cell.suppressed]
    return np.rint((np.array(centres) - grid.first_centre) / grid.width).astype(int)


def test_sites_cap_each_inverter_exactly_as_the_pooled_reference_does(plants):
    spec = _spec(100.0)
    summed = sum(_own(path, spec, CAPPED) for path in plants)
    pooled = pooled_capped_specific_power_histograms(pooled_solar_rows(plants, spec), spec)[COHORT]
    np.testing.assert_allclose(summed, pooled, rtol=1e-12, atol=1e-9)
    inverters = sum(len(load_solar_site_config(path).inverters) for path in plants)
    rows = pooled.sum(axis=1)
    assert rows.max() == pytest.approx(inverters * CAP)  # the cap binds: no inverter weighs more in a bin


def test_control_without_privacy_differencing_the_sum_recovers_a_plant_exactly(plants, generous):
    """The attack: the aggregator and the other three members subtract their own blocks from the decoded sum.

    Without privacy it hands them the plant's specific-power histogram, cell for cell.
    """
    exact_spec = _spec(None)
    exact_release, exact_sum, _ = _decoded(generous, exact_spec, EXACT, run_id=21)
    rows = _released_rows(exact_release, exact_spec)  # the census withholds the others: the sites send zeros there
    others = sum(_own(path, exact_spec, EXACT) for path in plants[1:])
    recovered = (exact_sum - others)[rows]
    np.testing.assert_array_equal(recovered, _own(plants[0], exact_spec, EXACT)[rows])  # the plant's, exactly
    assert recovered.sum() > 1000


def test_differencing_the_private_sum_leaves_a_plant_under_the_stated_noise(plants, generous, capsys):
    """The same attack on a private release: every cell of the coalition's estimate is off by the stated noise."""
    spec = _spec(100.0)  # four plants hold too little weight for any bin to stand out at smaller epsilon
    release, noisy_sum, n_sites = _decoded(generous, spec, CAPPED, run_id=22)
    rows = _released_rows(release, spec)
    others = sum(_own(path, spec, CAPPED) for path in plants[1:])
    error = (noisy_sum - others - _own(plants[0], spec, CAPPED))[rows]
    stated = summed_noise_stddev(spec, COHORT, n_sites)
    assert stated > 0 and error.std() == pytest.approx(stated, rel=5 * math.sqrt(2 / error.size))
    assert abs(error.mean()) < 5 * stated / math.sqrt(error.size)
    # Each site charged its own ledger per inverter what it recomputed from the spec, before sending.
    for site in generous:
        (entry,) = (e for e in read_ledger(ledger_path(site)) if e.spec_id == spec.spec_id)
        assert entry.privacy_unit == "inverter" and entry.rho == pytest.approx(spec_rho(spec))
    # The operator's command says what it spent, per inverter; the release's text says what it means.
    assert main(["privacy", "status", "--site", str(generous[0]), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["privacy_unit"] == "inverter" and status["spent_epsilon_last_365_days"] == pytest.approx(100.0)
    text = format_release(release)
    assert "differentially private: epsilon 100 at delta 1e-06 per inverter" in text and "+-P50" in text
    # The release states its privacy and publishes nothing exact: no counts, no plant distributions.
    assert release.privacy.privacy_unit == "inverter"
    assert release.privacy.epsilon == pytest.approx(100.0, rel=1e-6)
    assert release.privacy.operator_epsilon[10] == pytest.approx(composed_epsilon([spec_rho(spec) * 100], 1e-6))
    assert not release.distributions and not release.solar_failure_rates
    released = [cell for cell in release.solar_curves[0].bins if not cell.suppressed]
    assert released and any(cell.HasField("p50_specific_power") for cell in released)
    for cell in released:
        assert not cell.HasField("record_count") and not cell.HasField("operator_count")
        assert cell.HasField("noisy_record_weight")
        if cell.HasField("p50_specific_power"):
            assert cell.p10_specific_power <= cell.p50_specific_power <= cell.p90_specific_power
            assert cell.HasField("p50_noise_stddev")


def test_a_private_spec_too_noisy_for_the_fleet_is_declined_before_anything_is_charged(generous, tmp_path, capsys):
    """At epsilon 1 no bin of four plants can stand out from the noise: every site declines, nothing is charged.

    The plant's preview says so beforehand: the weight a bin needs, and how many plants like it that takes.
    """
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json_format.MessageToJson(_spec(1.0)))
    capsys.readouterr()
    assert main(["preview", "--site", str(generous[0]), "--spec", str(spec_path)]) == 0
    printed = capsys.readouterr().out
    assert "would charge epsilon 1.000 at delta 1e-06 per inverter" in printed and "sites_like_this_needed" in printed
    with pytest.raises(RuntimeError, match="no release was written"):
        run_release_in_process(generous, _spec(1.0), indicators=False, send=False, run_id=23)
    assert not any(read_ledger(ledger_path(site)) for site in generous)
