"""The disclosure attacks on a solar release, each against the defence and, as a control, with it switched off.

Four plants; cohorts of every plant, of the three with the lowest DC/AC ratio, and of the one
above them. The aggregator holds what SecAgg+ hands it; a member holds the release. Each control
switches one defence off (a test-only monkeypatch) and shows the attack recovering the lone
plant's figures, so each test can fail.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from linking_off import per_cohort_rule

from client import membership
from client.release_check import census_contradictions, kept_census
from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import solar_blocks, summarise_plant
from protos import census as census_module
from protos import commitment
from protos.census import COMMITMENT_RANDOMNESS, census_commitments_sha256, census_message, committed_census
from protos.codec import block_layouts, decode_limb_sums, limb_sums_from_weighted_mean, spec_sha256
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.roster import census_commitment_statement
from protos.statistics import SOLAR_CELLS, SOLAR_DISTRIBUTIONS, BlockKey
from server.publish import decoded_totals
from server.secure_sum import SecureSumOutcome
from server.spec import solar_cohort, solar_spec
from simulations.onboarding import run_release_in_process
from simulations.solar_fleet import write_solar_fleet

S = spec_pb2.Statistic
PERIOD = ("2022-04-01T00:00:00Z", "2022-06-01T00:00:00Z")


@pytest.fixture(scope="module")
def plants(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], spec_pb2.BenchmarkSpec, Path]:
    """The four plants, a spec whose "low" cohort holds three of them and "high" the fourth, and that fourth."""
    folder = tmp_path_factory.mktemp("solar-attacks")
    truths = write_solar_fleet(folder, n_plants=4, years=1, seed=5)
    sites = [folder / truth.name / "site.toml" for truth in truths]
    ratios = sorted((load_solar_site_config(site).dc_ac_ratio, site) for site in sites)
    cut = (ratios[2][0] + ratios[3][0]) / 2
    cohorts = [solar_cohort("all"), solar_cohort("low", dc_ac_ratio_max=cut), solar_cohort("high", dc_ac_ratio_min=cut)]
    return sites, solar_spec("solar-attacks", *PERIOD, cohorts, k_min_operators=3), ratios[3][1]


@pytest.fixture(scope="module")
def defended(plants) -> tuple[release_pb2.Release, dict[BlockKey, np.ndarray]]:
    """The release with every defence on, and what the aggregator decoded on the way."""
    return _run(*plants[:2])


def _run(sites: list[Path], spec: spec_pb2.BenchmarkSpec) -> tuple[release_pb2.Release, dict[BlockKey, np.ndarray]]:
    """A fresh release in process (the sites forget the last one), and the values sums the aggregator decoded."""
    for site in sites:
        (site.parent / "audit.log").unlink(missing_ok=True)
    outcomes: list[SecureSumOutcome] = []
    release = run_release_in_process(sites, spec, indicators=False, send=False, on_outcome=outcomes.append)
    sums = outcomes[0]
    return release, decode_limb_sums(block_layouts(spec), limb_sums_from_weighted_mean(sums.mean_arrays, sums.n_sites))


def _own_blocks(site_toml: Path, spec: spec_pb2.BenchmarkSpec) -> dict[BlockKey, np.ndarray]:
    site = load_solar_site_config(site_toml)
    return solar_blocks(summarise_plant(lambda: read_solar_chunks(site), site, spec), site, spec)[0]


def _all_minus_low(release: release_pb2.Release, indicator: str) -> np.ndarray | None:
    """What a member reads off the release for the plant outside "low": all's histogram minus low's."""
    found = {d.cohort: d for d in release.distributions if d.indicator == indicator and not d.suppressed}
    if "all" not in found or "low" not in found:
        return None
    return np.array(found["all"].counts) - np.array(found["low"].counts)


def test_the_aggregator_never_decodes_the_cohort_of_a_lone_plant(plants, defended, monkeypatch):
    sites, spec, lone = plants
    own = _own_blocks(lone, spec)
    high = [key for key in own if key.cohort == "high"]
    assert sum(float(np.sum(own[key])) for key in high) > 0

    release, decoded = defended
    assert all(d.suppressed for d in release.distributions if d.cohort == "high")
    assert all(not np.any(decoded[key]) for key in high)  # every element of the lone plant's cohort: zero
    # An aggregator that publishes the lone plant's cohort anyway is caught by that plant's own census.
    forged = release_pb2.Release()
    forged.CopyFrom(release)
    pr = next(d for d in forged.distributions if d.cohort == "high" and d.indicator == "performance_ratio")
    pr.suppressed = False
    census = [kept_census(lone, release.provenance.spec_sha256)]
    assert census_contradictions(release, census) == []
    assert "performance_ratio of cohort high published; its census suppresses it" in census_contradictions(
        forged, census
    )
    rate = next(r for r in forged.solar_failure_rates if r.cohort == "high" and r.component == "inverter")
    rate.suppressed = False
    assert "failure rate of inverter in cohort high published; its census suppresses it" in census_contradictions(
        forged, census
    )
    # A published cell with other counts than the census's: a plant added to a bar, an operator to a rate.
    padded = release_pb2.Release()
    padded.CopyFrom(release)
    pr = next(d for d in padded.distributions if d.indicator == "performance_ratio" and not d.suppressed)
    plants = sum(pr.counts)
    pr.counts[0] += 1
    pr.count_noise_stddev = 1e4  # claiming noise does not loosen an exact spec's check: the site reads its spec
    rate = next(r for r in padded.solar_failure_rates if r.cohort == pr.cohort and r.component == "inverter")
    rate.operator_count += 1
    padded.lost_production.add(cohort=pr.cohort, category="grid", share_of_potential=0.1)
    problems = census_contradictions(padded, census)
    assert f"performance_ratio of cohort {pr.cohort}: {plants + 1} plants, census {plants}" in problems
    counted = rate.operator_count - 1
    assert f"failure rate of inverter in cohort {pr.cohort}: {counted + 1} operators, census {counted}" in problems
    assert "the release of a solar spec carries lost_production, which a solar release has not" in problems

    # Control: sites that send every cell hand the aggregator the lone plant's exact figures.
    monkeypatch.setattr("client.contribution.withhold_failing_cells", lambda values, spec, decision: dict(values))
    _, leaked = _run(sites, spec)
    scales = {layout.key: layout.scale_exponent for layout in block_layouts(spec)}

    def value(key: BlockKey) -> np.ndarray:
        return np.ldexp(leaked[key].astype(float), -scales[key])  # the fixed point undone

    pr_key = BlockKey("high", S.PERFORMANCE_RATIO_HISTOGRAM)
    np.testing.assert_array_equal(value(pr_key), own[pr_key])  # its performance ratio's bin
    records = BlockKey("high", S.IRRADIANCE_RECORD_COUNT)
    np.testing.assert_array_equal(value(records), own[records])  # its records, bin by bin
    losses = BlockKey("high", S.SOLAR_LOST_PRODUCTION)
    np.testing.assert_array_equal(value(losses), own[losses])  # its share lost to each cause
    years = BlockKey("high", S.INVERTER_YEARS)
    assert own[years][0] > 0  # its size: inverters x the period
    np.testing.assert_allclose(value(years), own[years], rtol=1e-9)


def test_sites_refuse_a_census_the_aggregator_altered(plants, monkeypatch, caplog):
    """The aggregator claims the lone plant's atom (and cohort high) as three equal operators: three contributors,
    three times its records and squares pass k = 3 and dominance, and every site, the lone plant included, would
    send its cells of the lone cohort (a red-team review, 2026-12-01). Every site checks the totals against the
    members' signed commitments (protos/commitment.py) and refuses: no values round is summed. With a colluding
    member (a review of that fix) the aggregator makes, once it has decoded the census, the colluder's commitment
    the one that opens the altered totals, signed by the colluder: the sites refuse it too, since it is not the one
    they saw before unmasking. Controls: without those checks the aggregator decodes the lone plant's records per
    irradiance bin, exactly."""
    from server import server_app

    sites, spec, lone = plants
    atoms = cohort_atoms(spec.cohorts)
    lone_rows = [atoms.index((0, 2)), len(atoms) + 2]  # the lone plant's atom (cohorts all, high) and cohort high
    colluder = next(site for site in sites if site != lone)
    colluding = {"with": False}

    def tripled(census: spec_pb2.BenchmarkSpec, outcome: SecureSumOutcome) -> spec_pb2.Census:
        totals = decoded_totals(census, outcome)
        for statistic in (S.IRRADIANCE_CENSUS, S.SOLAR_CENSUS):  # (fields, atoms + cohorts, cells)
            key = BlockKey("", statistic)
            totals[key] = totals[key].copy()
            totals[key][:, lone_rows] *= 3
        commitments = list(outcome.census_commitments)
        if colluding["with"]:
            commitments = _colluders_commitment_opening(census, totals, commitments, colluder)
        return census_message(census, totals, outcome.n_sites, commitments)

    monkeypatch.setattr(server_app, "census_from_secure_sum", tripled)
    with pytest.raises(RuntimeError, match="round 1 values"):
        _run(sites, spec)
    assert "the census's totals are not the sum of what its members committed to" in caplog.text
    colluding["with"] = True
    caplog.clear()
    with pytest.raises(RuntimeError, match="round 1 values"):
        _run(sites, spec)
    assert "other commitments than this site saw before it unmasked the census round" in caplog.text

    records = BlockKey("high", S.IRRADIANCE_RECORD_COUNT)
    own = _own_blocks(lone, spec)[records]
    checked = membership.check_census_commitments

    def forgetful(census, spec, members, seen):  # as if each site took the census's own list
        checked(census, spec, members, {census_commitments_sha256(census.commitments)})

    monkeypatch.setattr("client.guard.check_census_commitments", forgetful)
    _, decoded = _run(sites, spec)  # the colluder's made-up commitment opens the altered totals
    assert own.sum() > 100 and np.array_equal(decoded[records].astype(np.int64), own.astype(np.int64))
    colluding["with"] = False
    monkeypatch.setattr("client.guard.check_census_commitments", lambda *args: None)
    _, decoded = _run(sites, spec)
    assert np.array_equal(decoded[records].astype(np.int64), own.astype(np.int64))


def _colluders_commitment_opening(
    census: spec_pb2.BenchmarkSpec,
    totals: dict[BlockKey, np.ndarray],
    commitments: list[spec_pb2.CensusCommitment],
    colluder: Path,
) -> list[spec_pb2.CensusCommitment]:
    """``commitments`` with the colluder's replaced by the one whose product with the others opens ``totals``."""
    member = load_solar_site_config(colluder).member
    assert member is not None
    key, _ = member.identity()
    integers = {block: [int(v) for v in np.ravel(total)] for block, total in totals.items()}
    randomness = commitment.randomness_from_limb_sums(integers[COMMITMENT_RANDOMNESS])
    target = commitment.commit(committed_census(census, integers), randomness)
    others = 1
    for entry in commitments:
        if entry.member != member.name:
            others = others * commitment.from_bytes(entry.commitment) % commitment.MODULUS
    forged = commitment.to_bytes(target * pow(others, -1, commitment.MODULUS) % commitment.MODULUS)
    statement = census_commitment_statement(7, spec_sha256(census), member.name, forged)  # run_release_in_process's run
    made_up = spec_pb2.CensusCommitment(member=member.name, commitment=forged, signature=key.sign(statement))
    return [entry for entry in commitments if entry.member != member.name] + [made_up]


def test_a_reader_cannot_tell_which_figures_a_suppressed_lone_plant_has(plants, defended):
    """A release listed a suppressed distribution only where some plant of the cohort had the figure, and which
    figures a plant has depends on its data (a soiling loss needs a valid soiling interval, a degradation rate two
    years of usable days, lost production by cause its outages): a reader learnt them for the lone plant. Every
    cohort now lists every distribution the spec defines. Control: the census the sites hold does tell the lone
    plant's figures: some of its cohort's cells are empty, which a listing that followed it left out."""
    _, spec, lone = plants
    release, _ = defended
    listed = {
        name: sorted(d.indicator for d in release.distributions if d.cohort == name) for name in ("all", "low", "high")
    }
    assert listed["high"] == listed["low"] == listed["all"] and len(listed["high"]) > 10
    assert all(d.suppressed for d in release.distributions if d.cohort == "high")

    kept = kept_census(lone, release.provenance.spec_sha256)
    assert kept is not None
    filled = census_module.decide(spec, census_module.census_totals(kept[1], spec)).solar.filled
    lone_cells = filled[[c.name for c in spec.cohorts].index("high")]
    distributions = {*SOLAR_DISTRIBUTIONS, "lost_production"}
    lacking = {cell for cell, has in zip(SOLAR_CELLS, lone_cells, strict=True) if not has} & distributions
    assert lacking  # what a listing by the census would have left out for the lone plant
    assert lacking <= {indicator.split(":")[0] for indicator in listed["high"]}


def test_a_member_cannot_difference_two_cohorts_down_to_one_plant(plants, defended, monkeypatch):
    sites, spec, lone = plants
    victim = _own_blocks(lone, spec)[BlockKey("all", S.PERFORMANCE_RATIO_HISTOGRAM)]
    assert victim.sum() == 1

    assert _all_minus_low(defended[0], "performance_ratio") is None  # never both published

    # Control: each cohort judged alone publishes both, and their difference is the lone plant's ratio bin.
    monkeypatch.setattr(census_module, "decide_cell", per_cohort_rule)
    leaked, _ = _run(sites, spec)
    np.testing.assert_array_equal(_all_minus_low(leaked, "performance_ratio"), victim)
