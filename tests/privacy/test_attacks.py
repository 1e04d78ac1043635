"""The red-team review's attacks, each run against the defence and, as a control, with the defence switched off.

Every attack uses only what its attacker holds: the aggregator, what it decodes (the sums SecAgg+
hands it) and which sites answer; a member, the published release and its own data. The control
switches one defence off (a test-only monkeypatch of the defending function) and shows the same
attack succeeding, so each test can fail.
"""

from __future__ import annotations

import contextlib
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from linking_off import per_cohort_rule
from site_copies import without_last_inverter

from client import contribution as client_contribution
from client.contribution import PreparedContribution, SiteValidationError, prepare_contribution, sendable_arrays
from client.ingest import read_canonical_chunks
from client.policy import SitePolicy
from client.release_check import census_contradictions, kept_census
from client.site_config import load_site_config
from client.solar.site_config import load_solar_site_config
from client.summaries import summarise_site
from protos import census as census_module
from protos.census import COMMITMENT_RANDOMNESS, census_spec
from protos.codec import block_layouts, clip_to_bounds, decode_limb_sums, limb_sums_from_weighted_mean
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import BlockKey, site_noise_stddev
from server.secure_sum import SecureSumOutcome
from server.spec import PrivacySettings, band_cohort, power_curve_spec, solar_cohort, solar_spec
from simulations.fleet import FleetConfig, generate_fleet
from simulations.onboarding import fleet_spec, run_release_in_process
from simulations.solar_fleet import write_solar_fleet

S = spec_pb2.Statistic
A, B, C = "E-82/2300", "V90/2000", "N117/2400"  # rated 2300, 2000, 2400 kW: all inside [1500, 3000)
JANUARY = ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")


def _fleet(tmp_path: Path, models: tuple[str, ...], seed: int) -> list[Path]:
    """One turbine per operator, operator i running models[i], one month of healthy data."""
    config = FleetConfig(operators=len(models), turbines_per_operator=1, months=1, seed=seed, models=models)
    return generate_fleet(config, tmp_path)


def _decoded(sites, spec) -> tuple[release_pb2.Release | None, dict[BlockKey, np.ndarray]]:
    """A release in process, and the values sums the aggregator decoded on the way (round 1)."""
    outcomes: list[SecureSumOutcome] = []
    try:
        release = run_release_in_process(sites, spec, indicators=False, send=False, on_outcome=outcomes.append)
    except (RuntimeError, ValueError):
        release = None
    if not outcomes:
        return release, {}
    outcome = outcomes[0]
    return release, decode_limb_sums(
        block_layouts(spec), limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites)
    )


# 1. The aggregator decodes one operator's exact sums -------------------------------------------


def test_the_aggregator_never_decodes_the_cohort_of_a_lone_operator(tmp_path, monkeypatch):
    """One operator is the only one with its model: the aggregator must hold nothing of that cohort."""
    sites = _fleet(tmp_path, (A, A, A, B, B, B, C), seed=31)
    spec = power_curve_spec("lone", *JANUARY, [A, B, C], k_min_operators=3)
    lone = load_site_config(sites[-1])
    own = summarise_site(lambda: read_canonical_chunks(lone), lone, spec).values
    c_blocks = [key for key in own if key.cohort == C]

    release, decoded = _decoded(sites, spec)
    assert release is not None and next(c for c in release.curves if c.cohort == C).suppressed
    assert all(not np.any(decoded[key]) for key in c_blocks)  # every element of the lone cohort: zero

    # Control: sites that send every cell (no withholding) hand the aggregator the operator's exact sums.
    monkeypatch.setattr("client.contribution.withhold_failing_cells", lambda values, spec, decision: dict(values))
    for site in sites:
        (site.parent / "audit.log").unlink(missing_ok=True)
    _, leaked = _decoded(sites, spec)
    record_count = BlockKey(C, S.RECORD_COUNT)
    np.testing.assert_array_equal(leaked[record_count].astype(float), own[record_count])
    assert own[record_count].sum() > 1000


# 2. Overlapping cohorts difference in the public release ---------------------------------------


def _band_minus_models(release: release_pb2.Release, band: str, models: list[str]) -> dict[float, tuple[int, float]]:
    """Per wind-speed bin where band and every model are published: (records, summed power [kW]) of the rest."""
    curves = {curve.cohort: curve for curve in release.curves}
    published = {
        name: {b.wind_speed_centre: b for b in curves[name].bins if not b.suppressed}
        for name in (band, *models)
        if not curves[name].suppressed
    }
    if band not in published or any(m not in published for m in models):
        return {}
    rest = {}
    for centre, cell in published[band].items():
        if all(centre in published[m] for m in models):
            records = cell.record_count - sum(published[m][centre].record_count for m in models)
            power = cell.mean_power * cell.record_count - sum(
                published[m][centre].mean_power * published[m][centre].record_count for m in models
            )
            rest[centre] = (records, power)
    return rest


def test_a_member_cannot_recover_another_members_curve_by_differencing_cohorts(tmp_path, monkeypatch):
    """Models A, B (3 operators each) and C (2): band - A - B leaves C; one C operator subtracts its own."""
    sites = _fleet(tmp_path, (A, A, A, B, B, B, C, C), seed=32)
    spec = power_curve_spec("overlap", *JANUARY, [A, B, C, band_cohort((1500.0, 3000.0))], k_min_operators=3)
    band = spec.cohorts[-1].name
    attacker, victim = (load_site_config(path) for path in sites[-2:])
    mine = summarise_site(lambda: read_canonical_chunks(attacker), attacker, spec).values
    theirs = summarise_site(lambda: read_canonical_chunks(victim), victim, spec).values
    centres = spec.wind_speed_bins.first_centre + spec.wind_speed_bins.width * np.arange(spec.wind_speed_bins.count)

    def recovered(release: release_pb2.Release) -> int:
        """Bins where band - A - B - the attacker's own records equals the victim's record count exactly."""
        hits = 0
        for centre, (records, _) in _band_minus_models(release, band, [A, B]).items():
            i = int(np.flatnonzero(np.isclose(centres, centre))[0])
            own, target = mine[BlockKey(C, S.RECORD_COUNT)][i], theirs[BlockKey(C, S.RECORD_COUNT)][i]
            hits += target > 0 and records - own == target
        return hits

    release, _ = _decoded(sites, spec)
    assert release is not None
    assert recovered(release) == 0 and _band_minus_models(release, band, [A, B]) == {}

    # Control: each cohort judged alone (k on its own operators, no linked suppression).
    monkeypatch.setattr(census_module, "decide_cell", per_cohort_rule)
    for site in sites:
        (site.parent / "audit.log").unlink(missing_ok=True)
    leaked, _ = _decoded(sites, spec)
    assert recovered(leaked) >= 20  # the victim's record count in most bins of its curve


def test_two_nested_bands_do_not_isolate_the_operators_between_them(tmp_path, monkeypatch):
    """[1500, 3000) and [1500, 2350): their difference is the two N117/2400 operators (rated 2400 kW)."""
    sites = _fleet(tmp_path, (A, A, A, B, B, B, C, C), seed=33)
    wide, narrow = band_cohort((1500.0, 3000.0)), band_cohort((1500.0, 2350.0))
    spec = power_curve_spec("nested", *JANUARY, [wide, narrow], k_min_operators=3)

    def difference_bins(release) -> int:
        return len(_band_minus_models(release, wide.name, [narrow.name]))

    release, _ = _decoded(sites, spec)
    assert release is not None and difference_bins(release) == 0

    monkeypatch.setattr(census_module, "decide_cell", per_cohort_rule)
    for site in sites:
        (site.parent / "audit.log").unlink(missing_ok=True)
    leaked, _ = _decoded(sites, spec)
    assert difference_bins(leaked) >= 20


# 3. Overlapping periods difference ---------------------------------------------------------------


def test_sites_refuse_a_release_whose_period_overlaps_one_they_contributed_to(tmp_path, monkeypatch):
    """Jan 1 - Feb 1, then Jan 2 - Feb 1: the difference would be one day of every operator."""
    sites = _fleet(tmp_path, (A, A, A), seed=34)
    first = power_curve_spec("jan", *JANUARY, [A], k_min_operators=3)
    later = power_curve_spec("jan-less-a-day", "2025-01-02T00:00:00Z", JANUARY[1], [A], k_min_operators=3)
    january, _ = _decoded(sites, first)
    assert january is not None
    refused, decoded = _decoded(sites, later)
    assert refused is None and decoded == {}  # no site sent anything: the aggregator decoded nothing

    # Control: without the calendar, the two releases' counts difference to the first day's records.
    monkeypatch.setattr("client.audit.check_release_calendar", lambda entries, fields: None)
    shorter, _ = _decoded(sites, later)
    assert shorter is not None
    day = sum(
        a.record_count - b.record_count
        for a, b in zip(january.curves[0].bins, shorter.curves[0].bins, strict=False)
        if not a.suppressed and not b.suppressed and a.wind_speed_centre == b.wind_speed_centre
    )
    assert day > 0


def test_sites_refuse_to_unmask_a_round_again_over_other_members(tmp_path, monkeypatch):
    """The same spec over operators {0, 1, 2, 3}, then {0, 1, 2, 4}: the two sums differ by operator 3's blocks
    less operator 4's, so an aggregator colluding with 4 gets 3's exactly (a red-team review did it with solar
    plants). Operators 0-2 refuse the second unmask: nothing of it is decoded, not even its census. Control: with
    the calendar comparing the number of survivors only (as it did), 3's blocks come out to the fixed point."""
    from client import audit

    sites = _fleet(tmp_path, (A,) * 5, seed=39)
    spec = power_curve_spec("rerun", *JANUARY, [A], k_min_operators=3)
    first, first_sums = _decoded(sites[:4], spec)
    assert first is not None
    swapped = [*sites[:3], sites[4]]
    assert _decoded(swapped, spec) == (None, {})

    members_unrecorded = audit.check_unmask_calendar
    monkeypatch.setattr(
        audit,
        "check_unmask_calendar",
        lambda entries, fields: members_unrecorded([{**e, "survivor_members": None} for e in entries], fields),
    )
    again, second_sums = _decoded(swapped, spec)
    assert again is not None
    own = []
    for site in (sites[3], sites[4]):
        config = load_site_config(site)
        own.append(summarise_site(lambda config=config: read_canonical_chunks(config), config, spec).values)
    scale = {layout.key: layout.scale_exponent for layout in block_layouts(spec)}
    compared = 0
    for key, total in first_sums.items():
        both = (total != 0) & (second_sums[key] != 0)
        recovered = np.ldexp((total - second_sums[key]).astype(float), -scale[key]) + own[1][key]
        np.testing.assert_allclose(recovered[both], own[0][key][both], atol=4 * 2.0 ** -scale[key])
        compared += int(both.sum())
    assert compared > 20


# 4. A refusal is a data-dependent yes/no the aggregator controls ---------------------------------


def test_whether_a_site_takes_part_does_not_depend_on_its_data(tmp_path, monkeypatch):
    """A bound only the big operator's counts exceed: with clipping every site still takes part."""
    config = FleetConfig(operators=4, months=1, seed=35, models=(A,), turbines_by_operator=(6, 1, 1, 1))
    sites = generate_fleet(config, tmp_path)
    spec = fleet_spec(config, k_min_operators=3)
    spec.ClearField("blocks")
    tight = power_curve_spec(spec.spec_id, spec.period.start, spec.period.end, [A], max_turbines_per_site=1)
    release, _ = _decoded(sites, tight)
    assert release is not None and release.provenance.participants == 4

    # Control: a site that refuses instead of clipping tells the aggregator its counts exceed the bound.
    monkeypatch.setattr(
        "client.contribution.clip_to_bounds",
        lambda layouts, values, headroom=None: (dict(values), {key: 0 for key in values}),
    )
    for site in sites:
        (site.parent / "audit.log").unlink(missing_ok=True)
    without_it, _ = _decoded(sites, tight)
    assert without_it is not None and without_it.provenance.participants == 3  # the big operator refused


# 5. DP noise below what the site is charged for --------------------------------------------------


def test_a_private_round_with_fewer_sites_than_its_noise_needs_is_refused_before_anything_leaves(
    tmp_path, monkeypatch, caplog
):
    """min_noise_sites = 1000 with 5 participants: each site's share of the noise is far below the claim.

    The aggregator here does not wait for, nor decline without, the sites the noise needs (the honest one
    does: tests/server/test_server_app.py); each site refuses the round itself.
    """
    sites = _fleet(tmp_path, (A,) * 5, seed=36)
    settings = PrivacySettings(1.0, min_noise_sites=1000)
    spec = power_curve_spec("private", *JANUARY, [A], k_min_operators=3, privacy=settings)
    for module in ("server.server_app", "server.secure_sum"):
        monkeypatch.setattr(f"{module}.private_round_sites", lambda spec, colluding_members: 0)
    release, decoded = _decoded(sites, spec)
    assert release is None and decoded == {}
    assert not any((site.parent / "privacy-ledger.jsonl").exists() for site in sites)  # nothing charged
    # The aggregator names each site that left with the reason it sent, which names nothing of its data.
    left = [r.getMessage() for r in caplog.records if "left the round" in r.getMessage()]
    assert len(left) == 5 and all(
        "the site refused to contribute; the reason is in the site's own log" in m for m in left
    )

    # Control: sites that skip the check hand the aggregator a sum with a sliver of the stated noise.
    monkeypatch.setattr("client.guard.check_private_sampling", lambda policy, spec, state: None)
    monkeypatch.setattr("client.guard.check_survivors", lambda state, survivors: None)
    monkeypatch.setattr("client.contribution.check_private_release_usable", lambda spec, totals, participants: None)
    for site in sites:
        (site.parent / "audit.log").unlink(missing_ok=True)
    _, leaked = _decoded(sites, spec)
    block = next(b for b in spec.blocks if b.noise_stddev > 0)
    sigma_in_sum = block.noise_stddev * math.sqrt(5 / 999)
    assert leaked and sigma_in_sum < block.noise_stddev / 10  # decoded, with 7 % of the noise it claims


# Also found: the checks every stage repeats -----------------------------------------------------


def test_sites_refuse_to_unmask_over_fewer_survivors_than_their_policy(tmp_path, monkeypatch):
    """Two sites drop after key sharing: the four survivors must not unmask a sum their policy forbids."""
    from flwr.app import Context, RecordDict
    from flwr.common.secure_aggregation.secaggplus_constants import Stage

    from client.client_app import build_client_app
    from server import server_app
    from simulations.loopback import LoopbackGrid

    sites = _fleet(tmp_path, (A,) * 6, seed=37)
    for site in sites:
        site.write_text(site.read_text().split("\n[policy]")[0] + "\n[policy]\nmin_participants = 5\n")
    spec = power_curve_spec("drops", *JANUARY, [A], k_min_operators=3)

    unmasked: list[SecureSumOutcome] = []  # every sum the aggregator decoded, census rounds included
    secure_sum = server_app.run_secure_sum

    def recording(*args, **kwargs):
        outcome = secure_sum(*args, **kwargs)
        unmasked.append(outcome)
        return outcome

    monkeypatch.setattr(server_app, "run_secure_sum", recording)

    def run(drop) -> list[SecureSumOutcome]:
        unmasked.clear()
        grid = LoopbackGrid(build_client_app(sites), 6, drop_at=dict.fromkeys(drop, Stage.COLLECT_MASKED_VECTORS))
        context = Context(run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config={})
        with contextlib.suppress(RuntimeError, ValueError):
            server_app.run_release(grid, context, spec, 3, indicators=False)
        return list(unmasked)

    assert run([4, 5]) == []  # not even the census is unmasked over 4 < 5

    monkeypatch.setattr("client.guard.check_survivors", lambda state, survivors: None)
    for site in sites:
        (site.parent / "audit.log").unlink(missing_ok=True)
    assert [outcome.n_sites for outcome in run([4, 5])] == [4]


@pytest.mark.parametrize("forged", ["another spec", "an overwrite"])
def test_a_site_keeps_only_releases_of_specs_it_contributed_to_and_never_overwrites_one(tmp_path, forged):
    from client.contribution import receive_release, received_releases_dir
    from client.policy import ContributionRefused

    sites = _fleet(tmp_path, (A, A, A), seed=38)
    spec = power_curve_spec("kept", *JANUARY, [A], k_min_operators=3)
    release = run_release_in_process(sites, spec, indicators=False, send=True)
    kept = received_releases_dir(sites[0]) / "kept.json"
    original = kept.read_bytes()
    fake = release_pb2.Release()
    fake.CopyFrom(release)
    if forged == "another spec":
        fake.provenance.spec_sha256 = "f" * 64
        fake.spec_id = "../../site"
    else:
        fake.curves[0].bins[0].mean_power = 1.0
    with pytest.raises(ContributionRefused) as refused:
        receive_release(sites[0], fake.SerializeToString())
    assert str(refused.value) == str(ContributionRefused()) and str(sites[0].parent) not in str(refused.value)
    assert kept.read_bytes() == original and sorted(p.name for p in kept.parent.iterdir()) == ["kept.json"]


# 6. A month only one operator covers ------------------------------------------------------------


def test_the_aggregator_never_decodes_a_month_only_one_operator_covers(tmp_path, monkeypatch):
    """Three operators' exports end in January, the fourth's runs through February: February is one operator's."""
    config = FleetConfig(operators=4, turbines_per_operator=2, months=2, seed=34, models=(A,), export_styles=(0,))
    sites = generate_fleet(config, tmp_path)
    for site in sites[:3]:
        export = site.parent / "scada.csv"
        rows = pd.read_csv(export)
        january = pd.to_datetime(rows["Timestamp"], utc=True) < pd.Timestamp("2025-01-30T00:00Z")
        rows[january].to_csv(export, index=False)
    spec = fleet_spec(config, k_min_operators=3)

    def round_two_decoded() -> tuple[release_pb2.Release, dict[BlockKey, np.ndarray]]:
        """The final release, and round 2's values sums as the aggregator decoded them."""
        for site in sites:
            (site.parent / "audit.log").unlink(missing_ok=True)
        outcomes: list[SecureSumOutcome] = []
        release = run_release_in_process(sites, spec, send=False, on_outcome=outcomes.append)
        round_two = release.indicator_spec
        assert len(outcomes) == 2 and round_two.spec_id, "round 2 must have run"
        mean = outcomes[1]
        return release, decode_limb_sums(
            block_layouts(round_two), limb_sums_from_weighted_mean(mean.mean_arrays, mean.n_sites)
        )

    release, decoded = round_two_decoded()
    listed = {(d.indicator, d.month): d for d in release.monthly_distributions if d.cohort == A}
    assert not listed["performance_index", "2025-01"].suppressed  # January: four operators
    assert "fewer than 3 operators" in listed["performance_index", "2025-02"].suppression_reason
    assert not decoded[BlockKey(A, S.MONTHLY_PERFORMANCE_INDEX_HISTOGRAM)][1].any()  # February: zeros
    assert not decoded[BlockKey(A, S.MONTHLY_TIME_AVAILABILITY_HISTOGRAM)][1].any()
    # An aggregator that publishes February anyway is caught by the lone operator's own census.
    rounds = [kept_census(sites[3], release.provenance.spec_sha256)]
    rounds.append(kept_census(sites[3], release.provenance.indicator_spec_sha256))
    assert census_contradictions(release, rounds) == []
    forged = release_pb2.Release()
    forged.CopyFrom(release)
    month = next(d for d in forged.monthly_distributions if (d.cohort, d.month) == (A, "2025-02"))
    month.suppressed = False
    assert f"monthly distribution {A}/{month.indicator}/2025-02 published; its census suppresses it" in (
        census_contradictions(forged, rounds)
    )

    # Control: sites that send every cell hand the aggregator the lone operator's February, turbine by turbine.
    monkeypatch.setattr("client.contribution.withhold_failing_cells", lambda values, spec, decision: dict(values))
    _, leaked = round_two_decoded()
    assert leaked[BlockKey(A, S.MONTHLY_PERFORMANCE_INDEX_HISTOGRAM)][1].sum() == 2  # its two turbines' indices
    assert leaked[BlockKey(A, S.MONTHLY_CONTRIBUTOR)][1] == 1  # and that they are one operator's


# 7. A per-site bound below a large site's values cuts that site's noise ---------------------------


def test_a_spec_whose_per_site_bound_a_large_plant_exceeds_leaves_its_noise_whole(monkeypatch):
    """A spec saying one inverter per site: a plant of 60 always-available inverters exceeds the bound of its
    availability histogram's top bar and of its inverter-years. Clipped before its noise, to the bound less the
    noise's headroom, the plant still sends its whole share of noise (positive half the time, of the stated
    spread), which the other plants' inverters rely on. Control: clipped again after the noise (as the site did
    before), its share is cut at zero: it never adds noise above the bound, and half its draws carry none.
    """
    privacy = PrivacySettings(3.0, min_noise_sites=200, distribution_share=0.5, max_failures_per_inverter=2)
    period = ("2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z")
    full = solar_spec("pv", *period, [solar_cohort("all")], max_inverters_per_site=1, privacy=privacy)
    keys = [BlockKey("all", S.INVERTER_AVAILABILITY_HISTOGRAM), BlockKey("all", S.INVERTER_YEARS)]
    spec = spec_pb2.BenchmarkSpec()
    spec.CopyFrom(full)
    del spec.blocks[:]
    spec.blocks.extend(b for b in full.blocks if BlockKey.of(b) in keys)
    layouts = block_layouts(spec)
    inverters = 60
    values = {keys[0]: np.zeros(spec.solar.availability_bins.count), keys[1]: np.array([60 * (365 / 365.25)])}
    values[keys[0]][-1] = inverters
    monkeypatch.setattr("client.contribution.charge_private_spec", lambda *_: None)

    def shares(draws: int = 300) -> np.ndarray:
        """What the plant sends in the top bar minus what it would send without noise, over fresh draws."""
        clipped, counted = client_contribution.clip_before_noise(spec, layouts, values)
        assert counted[keys[0]] == 1  # the bar exceeds the bound: the plant is clipped
        prepared = PreparedContribution(spec, layouts, clipped, SitePolicy(), "release")
        sent = []
        for _ in range(draws):
            decoded = decode_limb_sums(layouts, sendable_arrays(Path("site.toml"), prepared))
            sent.append(float(decoded[keys[0]][-1]) / 2.0 ** layouts[0].scale_exponent - clipped[keys[0]][-1])
        return np.array(sent)

    stated = site_noise_stddev(spec.blocks[0].noise_stddev, spec.privacy.min_noise_sites)
    share = shares()
    assert 0.4 < np.mean(share > 0) < 0.6 and share.std() == pytest.approx(stated, rel=0.15)

    # Control: the site's old steps, the full bound before the noise and again after it.
    noise = client_contribution.add_site_noise
    monkeypatch.setattr(
        "client.contribution.clip_before_noise", lambda spec, layouts, values: clip_to_bounds(layouts, values)
    )
    monkeypatch.setattr(
        "client.contribution.add_site_noise", lambda values, spec: clip_to_bounds(layouts, noise(values, spec))[0]
    )
    cut = shares()  # at the bound "no noise" reads as the bound's rounding to the fixed point: 0.0017 here
    assert np.mean(cut > 0.01) == 0 and np.mean(np.abs(cut) < 0.01) > 0.4 and cut.std() < 0.7 * stated


# 8. One unit's records decide whether its whole site takes part ------------------------------------


@pytest.mark.usefixtures("fixed_commitment_randomness")
def test_a_private_round_leaves_out_a_unit_that_fails_validation_so_its_records_cannot_remove_the_site(
    tmp_path, monkeypatch
):
    """One inverter's January written at the end of the export: 8.5 % of its records come late, which the
    validator calls an error. Under a spec private per inverter the plant still takes part, as the same plant
    without that inverter would: the published participants do not move with one unit's records. Control:
    refusing on the error (as the site did before) takes the whole plant, every inverter and its share of the
    noise, out of the round. A spec without privacy still refuses, naming the inverter, so its operator fixes it.
    """
    (truth,) = write_solar_fleet(tmp_path / "fleet", 1, 1, seed=5)
    plant = tmp_path / "fleet" / truth.name / "site.toml"
    site = load_solar_site_config(plant)
    last = site.inverters[-1].inverter_id
    late = tmp_path / "late"
    shutil.copytree(plant.parent, late)
    export = late / site.files[0].relative_to(plant.parent)
    records = pd.read_parquet(export)
    january = (records[site.columns["asset_id"]] == last) & (records[site.columns["time"]] < "2022-02-01T00:00:00Z")
    assert 0.05 < january.sum() / (records[site.columns["asset_id"]] == last).sum() < 0.1
    pd.concat([records[~january], records[january]]).to_parquet(export)
    fewer = without_last_inverter(plant, tmp_path / "fewer")
    privacy = PrivacySettings(3.0, distribution_share=0.5, max_failures_per_inverter=2)
    spec = solar_spec("pv", "2022-01-01T00:00:00Z", "2023-01-01T00:00:00Z", [solar_cohort("all")], privacy=privacy)
    census = census_spec(spec)

    taking_part = prepare_contribution(late / "site.toml", census)
    without = prepare_contribution(fewer, census)
    assert taking_part.values.keys() == without.values.keys()
    for key, value in taking_part.values.items():
        np.testing.assert_array_equal(value, without.values[key])
    exact = solar_spec("pv-exact", "2022-01-01T00:00:00Z", "2023-01-01T00:00:00Z", [solar_cohort("all")])
    with pytest.raises(SiteValidationError, match=f"{last}: .*come after a later record"):
        prepare_contribution(late / "site.toml", census_spec(exact))
    # Every inverter's January late: the plant still takes part, with nothing of its own (a reviewer's one-inverter
    # plant refused here, its empty plant dividing by zero).
    all_late = tmp_path / "all-late"
    shutil.copytree(plant.parent, all_late)
    january = records[site.columns["time"]] < "2022-02-01T00:00:00Z"
    pd.concat([records[~january], records[january]]).to_parquet(all_late / export.relative_to(late))
    empty = prepare_contribution(all_late / "site.toml", census)
    assert empty.values.keys() == without.values.keys()
    assert not any(v.any() for key, v in empty.values.items() if key != COMMITMENT_RANDOMNESS)  # but its commitment's

    # Control: a site that refuses on any error leaves the round with all its inverters.
    monkeypatch.setattr("client.contribution.units_left_out", lambda errors, spec: frozenset())
    with pytest.raises(SiteValidationError, match="come after a later record"):
        prepare_contribution(late / "site.toml", census)
