"""A differentially private solar release: inverters capped, noise added at the sites, what differencing leaves."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from google.protobuf import json_format
from site_copies import copies_with_budget, without_last_inverter
from solar_releases import PERIODS

from client.privacy import ledger_path, read_ledger
from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import solar_blocks, summarise_plant
from fleetbench.cli import format_release, main
from protos.codec import block_layouts, decode_limb_sums, limb_sums_from_weighted_mean, spec_sha256
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import (
    PLANT_DISTRIBUTION_STATISTICS,
    PRIVATE_FAILURE_STATISTICS,
    WINDOW_PEAK_STDDEVS,
    composed_epsilon,
    failure_inverters_needed,
    min_publishable_weight,
    private_failure_statistics,
    spec_rho,
    summed_noise_stddev,
)
from protos.statistics import BlockKey
from server.secure_sum import SecureSumOutcome
from server.spec import PrivacySettings, solar_cohort, solar_spec
from simulations.onboarding import run_release_in_process
from simulations.pooled import pooled_capped_specific_power_histograms, pooled_solar_rows
from simulations.solar_fleet import simulate_solar_plant_with_truth, solar_fleet, write_solar_fleet, write_solar_site

S = spec_pb2.Statistic
COHORT = "all"
CAP = 40  # records per inverter per irradiance bin
DISTRIBUTION_SHARE = 0.5
DOWNTIME_CAP = 24  # hours down per inverter
CAPPED = BlockKey(COHORT, S.CAPPED_SPECIFIC_POWER_HISTOGRAM)
EXACT = BlockKey(COHORT, S.SPECIFIC_POWER_HISTOGRAM)


def _spec(
    epsilon: float | None,
    distribution_share: float = 0.0,
    distributions: tuple[str, ...] = (),
    max_failures_per_inverter: int = 0,
    max_downtime_hours_per_inverter: int = 0,
) -> spec_pb2.BenchmarkSpec:
    """The first period's spec for the whole fleet: private at ``epsilon``, or without privacy (None)."""
    if epsilon is None:
        return solar_spec("solar-exact", *PERIODS[0], [solar_cohort(COHORT)], 3)
    privacy = PrivacySettings(
        epsilon,
        max_records_per_turbine_per_bin=CAP,
        distribution_share=distribution_share,
        distributions=distributions,
        max_failures_per_inverter=max_failures_per_inverter,
        max_downtime_hours_per_inverter=max_downtime_hours_per_inverter,
    )
    caps = f"{max_failures_per_inverter}-{max_downtime_hours_per_inverter}"
    name = f"solar-private-{epsilon:g}-{distribution_share:g}{'-'.join(distributions)}-{caps}"
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


def _decoded(sites: list[Path], spec: spec_pb2.BenchmarkSpec, run_id: int):
    """The release, the aggregator's decoded sum of every block [block unit] and the sites summed."""
    outcomes: list[SecureSumOutcome] = []
    release = run_release_in_process(
        sites, spec, indicators=False, send=False, on_outcome=outcomes.append, run_id=run_id
    )
    totals = decode_limb_sums(
        block_layouts(spec), limb_sums_from_weighted_mean(outcomes[-1].mean_arrays, outcomes[-1].n_sites)
    )
    sums = {
        BlockKey.of(b): np.ldexp(np.asarray(totals[BlockKey.of(b)], dtype=np.float64), -b.scale_exponent)
        for b in spec.blocks
    }
    return release, sums, outcomes[-1].n_sites


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
    # The cap binds: no inverter weighs more in a bin, and its cells are rounded down to 2^-8 (by under one each).
    cells = spec.solar.specific_power_bins.count
    assert inverters * (CAP - cells / 256) < rows.max() <= inverters * CAP


def test_control_without_privacy_differencing_the_sum_recovers_a_plant_exactly(plants, generous):
    """The attack: the aggregator and the other three members subtract their own blocks from the decoded sum.

    Without privacy it hands them the plant's specific-power histogram, cell for cell, and the bar of
    its performance ratio and of its lost production to each cause.
    """
    exact_spec = _spec(None)
    exact_release, sums, _ = _decoded(generous, exact_spec, run_id=21)
    rows = _released_rows(exact_release, exact_spec)  # the census withholds the others: the sites send zeros there
    others = sum(_own(path, exact_spec, EXACT) for path in plants[1:])
    recovered = (sums[EXACT] - others)[rows]
    np.testing.assert_array_equal(recovered, _own(plants[0], exact_spec, EXACT)[rows])  # the plant's, exactly
    assert recovered.sum() > 1000
    for statistic in (S.PERFORMANCE_RATIO_HISTOGRAM, S.SOLAR_LOST_PRODUCTION):
        key = BlockKey(COHORT, statistic)
        plant = sums[key] - sum(_own(path, exact_spec, key) for path in plants[1:])
        np.testing.assert_array_equal(plant, _own(plants[0], exact_spec, key))
        assert np.all(plant.sum(axis=-1) == 1)  # one bar: the plant's PR to 0.01, its loss to each cause to 0.1 %
    # and its failures and hours down over its inverters' time: the third plant's inverter fault, a week down
    victim, others = plants[2], plants[:2] + plants[3:]
    for statistic in (S.SOLAR_FAILURE_COUNT, S.SOLAR_FAILURE_DOWNTIME, S.INVERTER_YEARS):
        key = BlockKey(COHORT, statistic)
        plant = sums[key] - sum(_own(path, exact_spec, key) for path in others)
        np.testing.assert_allclose(plant, _own(victim, exact_spec, key), rtol=0, atol=1e-9)
    assert _own(victim, exact_spec, BlockKey(COHORT, S.INVERTER_YEARS))[0] > 0.5
    assert _own(victim, exact_spec, BlockKey(COHORT, S.SOLAR_FAILURE_COUNT)).sum() == 1
    assert _own(victim, exact_spec, BlockKey(COHORT, S.SOLAR_FAILURE_DOWNTIME)).sum() > 6 * DOWNTIME_CAP


def test_differencing_the_private_sum_leaves_a_plant_under_the_stated_noise(plants, generous, capsys):
    """The same attack on a private release: every cell of the coalition's estimate is off by the stated noise.

    The spec gives half its budget to the plants' distributions and failure rates: their bars, failures,
    hours down and inverter-years are as noisy as stated too.
    """
    # Four plants hold too little weight for any curve bin to stand out at smaller epsilon: with half the
    # budget on the distributions, 200 gives the curve the noise 100 gave it alone (the sites' noise is unseeded).
    spec = _spec(200.0, DISTRIBUTION_SHARE, max_failures_per_inverter=2, max_downtime_hours_per_inverter=DOWNTIME_CAP)
    release, sums, n_sites = _decoded(generous, spec, run_id=22)
    rows = _released_rows(release, spec)
    others = sum(_own(path, spec, CAPPED) for path in plants[1:])
    error = (sums[CAPPED] - others - _own(plants[0], spec, CAPPED))[rows]
    stated = summed_noise_stddev(spec, COHORT, n_sites)
    assert stated > 0 and error.std() == pytest.approx(stated, rel=5 * math.sqrt(2 / error.size))
    assert abs(error.mean()) < 5 * stated / math.sqrt(error.size)
    # No census cell of the distributions is withheld by k or dominance, so the sites sent every bar of every
    # distribution block: the plants' own counts plus noise (the aggregator withholds too few plants for the
    # noise after the sum, from the same census).
    assert release.distributions
    # No plant has a degradation rate from a year (two are needed); its distributions are listed all the same.
    listed_empty = {"degradation_rate", "degradation_interval"}
    for d in release.distributions:
        no_plant = d.indicator in listed_empty and d.suppression_reason == "fewer than 3 operators"
        assert d.HasField("count_noise_stddev") or "than it takes" in d.suppression_reason or no_plant
    keys = [BlockKey(COHORT, s) for s in (*PLANT_DISTRIBUTION_STATISTICS, *PRIVATE_FAILURE_STATISTICS)]
    bars = np.concatenate([np.ravel(sums[key] - sum(_own(path, spec, key) for path in plants)) for key in keys])
    # The failures, inverter-years and hours down alone (8 of the bars, 7 hours): noise of the stated size, not
    # exact values; the hours' noise is H / C times the failures' (server/spec.py: _noise_scale).
    hours = BlockKey(COHORT, S.SOLAR_FAILURE_DOWNTIME)
    hours_noise = summed_noise_stddev(spec, COHORT, n_sites, S.SOLAR_FAILURE_DOWNTIME)
    assert private_failure_statistics(spec.privacy) == (*PRIVATE_FAILURE_STATISTICS, S.SOLAR_FAILURE_DOWNTIME)
    assert hours_noise == pytest.approx(summed_noise_stddev(spec, COHORT, n_sites, S.INVERTER_YEARS) * DOWNTIME_CAP / 2)
    residual = np.concatenate(
        [np.ravel(sums[key] - sum(_own(path, spec, key) for path in plants)) for key in keys[-2:]]
        + [(sums[hours] - sum(_own(path, spec, hours) for path in plants)) * 2 / DOWNTIME_CAP]
    )
    chi_square = float(np.sum(residual**2)) / summed_noise_stddev(spec, COHORT, n_sites, S.INVERTER_YEARS) ** 2
    assert residual.size == 15 and keys[-2:] == [BlockKey(COHORT, s) for s in PRIVATE_FAILURE_STATISTICS]
    assert _own(plants[2], spec, hours).sum() == DOWNTIME_CAP  # the week-long fault sends the cap, not 160 h
    assert scipy.stats.chi2.ppf(1e-4, 15) < chi_square < scipy.stats.chi2.ppf(1 - 1e-4, 15)
    stated = summed_noise_stddev(spec, COHORT, n_sites, S.PERFORMANCE_RATIO_HISTOGRAM)
    assert stated > 0.3 and bars.std() == pytest.approx(stated, rel=5 * math.sqrt(2 / bars.size))
    assert abs(bars.mean()) < 5 * stated / math.sqrt(bars.size)
    # Each site charged its own ledger per inverter what it recomputed from the spec, before sending.
    for site in generous:
        (entry,) = (e for e in read_ledger(ledger_path(site)) if e.spec_id == spec.spec_id)
        assert entry.privacy_unit == "inverter" and entry.rho == pytest.approx(spec_rho(spec))
    # Its preview said beforehand how many plants a cohort's distribution needs at the fewest sites' noise.
    spec_path = generous[0].parent / "spec.json"
    spec_path.write_text(json_format.MessageToJson(spec))
    capsys.readouterr()
    assert main(["preview", "--site", str(generous[0]), "--spec", str(spec_path), "--json"]) == 0
    (outlook,) = json.loads(capsys.readouterr().out)["private_cohorts"]
    noise = summed_noise_stddev(spec, COHORT, 3, S.PERFORMANCE_RATIO_HISTOGRAM)
    assert outlook["plants_needed_per_distribution"] == math.ceil(min_publishable_weight(noise)) > 4
    assert outlook["inverters_needed_for_failure_rates"] == failure_inverters_needed(spec, COHORT, 3) > 4
    # The operator's command says what it spent, per inverter; the release's text says what it means.
    assert main(["privacy", "status", "--site", str(generous[0]), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["privacy_unit"] == "inverter" and status["spent_epsilon_last_365_days"] == pytest.approx(200.0)
    text = format_release(release)
    assert "differentially private: epsilon 200 at delta 1e-06 per inverter" in text and "+-P50" in text
    # The release states its privacy and publishes nothing exact: no counts, failure rates and distributions
    # only where the noise lets them through (the sites' noise is unseeded: which ones varies).
    assert release.privacy.privacy_unit == "inverter"
    assert release.privacy.epsilon == pytest.approx(200.0, rel=1e-6)
    assert release.privacy.operator_epsilon[10] == pytest.approx(composed_epsilon([spec_rho(spec) * 100], 1e-6))
    years = sum(_own(path, spec, BlockKey(COHORT, S.INVERTER_YEARS))[0] for path in plants)
    assert len(release.solar_failure_rates) == len(spec.solar.components)
    for rate in release.solar_failure_rates:
        assert rate.failures_noise_stddev == pytest.approx(stated) and not rate.HasField("operator_count")
        assert rate.downtime_noise_stddev == pytest.approx(hours_noise)
        if rate.suppressed:
            assert "stand out from the noise" in rate.suppression_reason and not rate.HasField("downtime_hours")
            continue
        assert abs(rate.inverter_years - years) < 5 * stated and rate.HasField("rate_noise_stddev")
        assert rate.HasField("downtime_hours")
        # A mean per failure only where the noisy failures stand out from their noise, with its noise stated.
        stands_out = rate.failures_per_inverter_year * rate.inverter_years >= WINDOW_PEAK_STDDEVS * stated
        assert rate.HasField("mean_downtime_hours") == rate.HasField("mean_downtime_noise_stddev") == stands_out
    assert "Failure rates count each inverter's failures in the period up to 2" in release.privacy.note
    assert f"hours down in the period up to {DOWNTIME_CAP} h in all" in release.privacy.note
    published = [r for r in release.solar_failure_rates if not r.suppressed]
    text = format_release(release)
    assert f"solar failure rates: {len(published)} cells released" in text
    for rate in published:
        assert f"{rate.component}: {rate.failures_per_inverter_year:.3f} per inverter-year +-" in text
    for d in release.distributions:
        assert not d.HasField("operator_count") and not d.HasField("p25")
        if d.suppressed:
            reason = "fewer than 3 operators" if d.indicator in listed_empty else "stand out from the noise"
            assert reason in d.suppression_reason and not d.counts
        else:
            assert d.p10 <= d.p50 <= d.p90 and d.HasField("p50_noise_stddev")
    assert "The plants' distributions (performance_ratio, performance_ratio_stc, " in release.privacy.note
    released = [cell for cell in release.solar_curves[0].bins if not cell.suppressed]
    assert released and any(cell.HasField("p50_specific_power") for cell in released)
    for cell in released:
        assert not cell.HasField("record_count") and not cell.HasField("operator_count")
        assert cell.HasField("noisy_record_weight")
        if cell.HasField("p50_specific_power"):
            assert cell.p10_specific_power <= cell.p50_specific_power <= cell.p90_specific_power
            assert cell.HasField("p50_noise_stddev")


def test_a_private_spec_of_named_distributions_carries_and_publishes_those_alone(plants, generous):
    """Through the federation: the sites send, noise and charge the named distributions' blocks only, at their
    stated noise, and the release lists no other distribution."""
    named = ("performance_ratio", "inverter_availability")
    spec = _spec(200.0, DISTRIBUTION_SHARE, named)
    release, sums, n_sites = _decoded(generous, spec, run_id=24)
    keys = [BlockKey(COHORT, S.PERFORMANCE_RATIO_HISTOGRAM), BlockKey(COHORT, S.INVERTER_AVAILABILITY_HISTOGRAM)]
    assert [key for key in sums if key.statistic in PLANT_DISTRIBUTION_STATISTICS] == keys
    assert {d.indicator for d in release.distributions} <= set(named)
    bars = np.concatenate([sums[key] - sum(_own(path, spec, key) for path in plants) for key in keys])
    stated = summed_noise_stddev(spec, COHORT, n_sites, S.PERFORMANCE_RATIO_HISTOGRAM)
    assert bars.std() == pytest.approx(stated, rel=5 * math.sqrt(2 / bars.size))
    for site in generous:
        (entry,) = (e for e in read_ledger(ledger_path(site)) if e.spec_id == spec.spec_id)
        assert entry.rho == pytest.approx(spec_rho(spec)) and entry.epsilon == pytest.approx(200.0, rel=1e-6)


def test_one_inverter_moves_each_row_of_its_plants_distributions_by_at_most_one_count(plants, tmp_path):
    """The sensitivity the distribution noise is calibrated for, measured on the site's own summaries.

    protos.privacy.distribution_l2_sensitivity: one inverter more or less moves its plant's count in
    each row (a distribution; lost production: one per cause) at most from one bar to another.
    """
    spec = _spec(100.0, DISTRIBUTION_SHARE)
    changed = 0
    for path in plants:
        if len(load_solar_site_config(path).inverters) < 2:
            continue
        fewer = without_last_inverter(path, tmp_path)
        for block in spec.blocks:
            if block.statistic not in PLANT_DISTRIBUTION_STATISTICS:
                continue
            key = BlockKey.of(block)
            change = np.atleast_2d(_own(fewer, spec, key) - _own(path, spec, key))
            assert np.all(np.linalg.norm(change, axis=1) <= math.sqrt(2) + 1e-12), key
            assert np.linalg.norm(change) <= block.l2_sensitivity + 1e-12
            changed += np.count_nonzero(np.abs(change).sum(axis=1))
    assert changed >= 2  # at least two plants of several inverters, each with one inverter fewer to count


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


def test_one_inverter_can_move_a_plant_across_a_dc_ac_band_so_a_private_spec_has_none(tmp_path):
    """The attack on the per-inverter bound: bands by DC/AC ratio, which one inverter changes.

    Control (a spec that bands, without privacy): a six-inverter plant at DC/AC 1.17 leaves its last
    inverter out and is at 1.30, so all its inverters' availability counts leave the low band's cohort
    for the high one's, six times the sqrt(2) a private spec calibrates for. The defence: a private
    spec with a DC/AC band is refused, by the aggregator's builder and by every site's own accounting.
    """
    drawn = solar_fleet(1, 1, np.random.default_rng(5))[0]
    n = 6
    planned = replace(
        drawn,
        inverters=tuple(f"INV{i:02d}" for i in range(1, n + 1)),
        dc_capacity_kw=(1300.0,) * (n - 1) + (500.0,),
        ac_capacity_kw=(1000.0,) * n,
        outages=(),
        underperforming=(),
    )
    start, end = "2023-06-01T00:00:00Z", "2023-07-01T00:00:00Z"
    simulation = simulate_solar_plant_with_truth(planned, start, end, "15min", np.random.default_rng(6))
    write_solar_site(simulation.truth, simulation.frame, tmp_path / "plant")
    bands = [solar_cohort("low", dc_ac_ratio_max=1.2), solar_cohort("high", dc_ac_ratio_min=1.2)]
    banded = solar_spec("banded", start, end, bands, 3)
    path = tmp_path / "plant" / "site.toml"
    fewer = without_last_inverter(path, tmp_path / "fewer")
    assert load_solar_site_config(path).dc_ac_ratio < 1.2 <= load_solar_site_config(fewer).dc_ac_ratio
    for cohort in ("low", "high"):
        key = BlockKey(cohort, S.INVERTER_AVAILABILITY_HISTOGRAM)
        moved = np.linalg.norm(_own(fewer, banded, key) - _own(path, banded, key))
        assert moved >= n - 1 > math.sqrt(2)  # every inverter's count, not one
    private = PrivacySettings(10.0, max_records_per_turbine_per_bin=CAP, distribution_share=DISTRIBUTION_SHARE)
    with pytest.raises(ValueError, match=r"band plants by DC/AC ratio.*cannot have a DC/AC band"):
        solar_spec("banded-private", start, end, bands, 3, privacy=private)
    forged = _spec(10.0, DISTRIBUTION_SHARE)  # an aggregator that adds a band after calibrating
    forged.cohorts[0].dc_ac_ratio_max = 1.2
    with pytest.raises(ValueError, match="cannot have a DC/AC band"):
        spec_rho(forged)  # what each site recomputes before it charges or sends anything
