"""A site checks the release it receives against the censuses it contributed under, and flags what contradicts them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from dashboard_releases import private_release, two_releases
from solar_releases import private_solar_release

from client.audit import audit_entries
from client.contribution import receive_release
from client.release_check import census_contradictions, kept_census
from protos.census import census_totals
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import BlockKey, CensusFields
from server.spec import power_curve_spec
from simulations.fleet import FleetConfig, generate_fleet
from simulations.onboarding import run_release_in_process

A, B = "E-82/2300", "V90/2000"
S = spec_pb2.Statistic


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], release_pb2.Release]:
    """Three operators of model A and one of model B (suppressed: one operator), released and sent to every site."""
    config = FleetConfig(operators=4, turbines_per_operator=1, months=1, seed=41, models=(A, A, A, B))
    sites = generate_fleet(config, tmp_path_factory.mktemp("release-check"))
    spec = power_curve_spec("check", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", [A, B], k_min_operators=3)
    return sites, run_release_in_process(sites, spec, indicators=False)


def _rounds(site: Path, release: release_pb2.Release):
    kept = kept_census(site, release.provenance.spec_sha256)
    assert kept is not None
    return [kept]


def _events(site: Path) -> list[str]:
    return [entry["event"] for entry in audit_entries(site)]


def _copy(release: release_pb2.Release) -> release_pb2.Release:
    """A copy of ``release`` to forge."""
    forged = release_pb2.Release()
    forged.CopyFrom(release)
    return forged


def test_an_honest_release_honours_every_census(released):
    sites, release = released
    for site in sites:
        assert census_contradictions(release, _rounds(site, release)) == []
        assert "release_received" in _events(site) and "release_inconsistent" not in _events(site)


def test_a_release_that_publishes_a_suppressed_cohort_or_other_counts_is_flagged(released):
    sites, release = released
    lone = next(curve for curve in release.curves if curve.cohort == B)
    assert lone.suppressed

    forged = _copy(release)
    curve_b = next(curve for curve in forged.curves if curve.cohort == B)
    curve_b.suppressed = False
    curve_a = next(curve for curve in forged.curves if curve.cohort == A)
    cell = next(cell for cell in curve_a.bins if not cell.suppressed)
    cell.record_count += 1
    forged.provenance.participants += 1
    problems = census_contradictions(forged, _rounds(sites[0], release))
    assert f"cohort {B} published; its census suppresses it" in problems
    assert any(f"cohort {A} bin {cell.wind_speed_centre:g} m/s: {cell.record_count} records" in p for p in problems)
    assert "participants 5, census 4" in problems


def test_the_site_flags_a_contradicting_release_in_its_audit_log(released, monkeypatch):
    sites, release = released
    forged = _copy(release)
    next(curve for curve in forged.curves if curve.cohort == B).suppressed = False
    site = sites[1]
    shutil.rmtree(site.parent / "releases")  # as if the honest release had never arrived
    receive_release(site, forged.SerializeToString())
    flagged = [entry for entry in audit_entries(site) if entry["event"] == "release_inconsistent"]
    assert len(flagged) == 1 and f"cohort {B} published; its census suppresses it" in flagged[0]["contradictions"]

    # Control: a site that does not check keeps the same release without a word.
    site = sites[2]
    shutil.rmtree(site.parent / "releases")
    monkeypatch.setattr("client.contribution.census_contradictions", lambda release, rounds: [])
    receive_release(site, forged.SerializeToString())
    assert "release_inconsistent" not in _events(site)

    # A release the check cannot get through is flagged too, not waved through.
    def unreadable(release, rounds):
        raise KeyError("failures")

    site = sites[3]
    shutil.rmtree(site.parent / "releases")
    monkeypatch.setattr("client.contribution.census_contradictions", unreadable)
    receive_release(site, forged.SerializeToString())
    (flagged,) = [entry for entry in audit_entries(site) if entry["event"] == "release_inconsistent"]
    assert flagged["contradictions"] == ["the release could not be checked against its censuses: KeyError"]


def test_a_private_solar_distribution_is_checked_within_the_noise_its_spec_states():
    """The denoised bars of 2,000 plants pass their census; forged ones do not, whatever noise the release claims.

    The site recomputes the noise from the spec: bars inflated past it, a release that states more
    noise to cover them, a distribution of too few plants to stand out, and noise claimed on an exact
    spec's distribution are all flagged.
    """
    private = private_solar_release(plants=2000, epsilon=10.0)
    rounds = [(private.spec, private.census)]
    assert census_contradictions(private.release, rounds) == []

    def forged_pr(release: release_pb2.Release) -> tuple[release_pb2.Release, release_pb2.Distribution]:
        forged = _copy(release)
        return forged, next(d for d in forged.distributions if d.indicator == "performance_ratio")

    forged, d = forged_pr(private.release)
    noise = d.count_noise_stddev
    d.counts[int(np.argmax(d.counts))] += 600  # 30 % more plants than the census counted, ~110 noise widths
    (problem,) = census_contradictions(forged, rounds)
    assert "performance_ratio of cohort all" in problem and "more than noise explains (census 2000)" in problem
    d.count_noise_stddev = 50.0  # the aggregator's own word for the noise (enough to hide 600) does not widen it
    (problem,) = census_contradictions(forged, rounds)
    assert f"states noise 50 per bar, its spec's is {noise:g}" in problem
    # Control: a check that took the release's word for the noise would let the inflated bars through.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("client.release_check.summed_noise_stddev", lambda *_: d.count_noise_stddev)
        assert census_contradictions(forged, rounds) == []
    few = private_solar_release(plants=20, epsilon=10.0)  # withheld: published anyway, with made-up bars
    forged, d = forged_pr(few.release)
    d.suppressed, d.suppression_reason = False, ""
    d.counts[:] = [0] * (len(d.counts) - 1) + [20]
    (problem,) = census_contradictions(forged, [(few.spec, few.census)])
    assert "published, but its census's plants cannot stand out from its noise" in problem


def test_a_private_release_publishing_a_distribution_its_spec_does_not_noise_is_flagged():
    """A spec that noises the PR alone: a soiling distribution in its release came from no noised sum."""
    private = private_solar_release(plants=2000, epsilon=10.0, distributions=("performance_ratio",))
    rounds = [(private.spec, private.census)]
    assert census_contradictions(private.release, rounds) == []
    forged = _copy(private.release)
    pr = next(d for d in forged.distributions if d.indicator == "performance_ratio")
    soiling = forged.distributions.add()
    soiling.CopyFrom(pr)
    soiling.indicator = "soiling_loss"
    (problem,) = census_contradictions(forged, rounds)
    assert "soiling_loss of cohort all: published, but its private spec does not ask for it" in problem


def test_a_distribution_no_private_spec_noises_is_flagged_whatever_its_cell():
    """A curves-only private spec publishes no distribution, and failures are never one: both forgeries are named."""
    curves_only = private_solar_release(plants=2000, epsilon=10.0, distribution_share=0.0)
    rounds = [(curves_only.spec, curves_only.census)]
    assert census_contradictions(curves_only.release, rounds) == [] and not curves_only.release.distributions
    forged = _copy(curves_only.release)
    grid = curves_only.spec.solar.performance_ratio_bins
    made_up = forged.distributions.add(cohort="all", indicator="performance_ratio", counts_of="plants", bins=grid)
    made_up.counts.extend([0] * 50 + [2000] + [0] * 40)  # the census's 2,000 plants, so an exact check passes
    (problem,) = census_contradictions(forged, rounds)
    assert "performance_ratio of cohort all: published, but its private spec does not ask for it" in problem
    private = private_solar_release(plants=2000, epsilon=10.0)
    forged = _copy(private.release)
    forged.distributions.add(cohort="all", indicator="failures", counts_of="inverters").counts.append(2000)
    (problem,) = census_contradictions(forged, [(private.spec, private.census)])
    assert "failures of cohort all: published as a distribution, which its cell is not" in problem


def test_a_private_failure_rates_downtime_is_checked_against_its_spec_and_census():
    """Downtime in a private release: only where the spec caps it, at its noise, within the census's caps, a mean
    per failure only where the failures stand out and only the hours over them."""
    private = private_solar_release(
        plants=2000, epsilon=10.0, max_failures_per_inverter=2, max_downtime_hours_per_inverter=48
    )
    rounds = [(private.spec, private.census)]
    assert census_contradictions(private.release, rounds) == []
    inverter = next(r for r in private.release.solar_failure_rates if r.component == "inverter")
    assert inverter.mean_downtime_hours == pytest.approx(20.0, abs=3 * inverter.mean_downtime_noise_stddev)
    assert 0 < inverter.mean_downtime_noise_stddev < 5.0
    quiet = next(r for r in private.release.solar_failure_rates if r.component == "tracker")  # noise alone
    assert quiet.HasField("downtime_hours") and not quiet.HasField("mean_downtime_hours")
    forgeries = {
        "downtime_noise_stddev": (0.0, "states downtime noise 0 h, its spec's is"),
        "downtime_hours": (2000 * 48 * 2.0, "hours down, more than its census's inverters' caps allow"),
        "mean_downtime_hours": (37.25, "is not its"),
        "mean_downtime_noise_stddev": (1e-9, "states the mean downtime's noise"),
    }
    for field, (value, named) in forgeries.items():
        forged = _copy(private.release)
        rate = next(r for r in forged.solar_failure_rates if r.component == "inverter")
        setattr(rate, field, value)
        problems = census_contradictions(forged, rounds)
        assert len(problems) == 1 and named in problems[0], (field, problems)
    forged = _copy(private.release)
    rate = next(r for r in forged.solar_failure_rates if r.component == "tracker")
    rate.mean_downtime_hours = rate.downtime_hours / max(rate.failures, 1)
    (problem,) = census_contradictions(forged, rounds)
    assert "which do not stand out from their noise" in problem
    # A spec that caps failures but not downtime: its sites sent no hours, so any downtime was made up.
    capped = private_solar_release(plants=2000, epsilon=10.0, max_failures_per_inverter=2)
    forged = _copy(capped.release)
    rate = next(r for r in forged.solar_failure_rates if r.component == "inverter")
    rate.downtime_hours, rate.mean_downtime_hours = inverter.downtime_hours, inverter.mean_downtime_hours
    (problem,) = census_contradictions(forged, [(capped.spec, capped.census)])
    assert "publishes downtime_hours, mean_downtime_hours, which a private release of its spec" in problem
    # Control: a check that reads downtime as it reads the rate's exact fields before lets the made-up hours through.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("client.release_check.DOWNTIME_FIELDS", ())
        assert census_contradictions(forged, [(capped.spec, capped.census)]) == []


def test_a_private_failure_rate_is_checked_against_its_spec_and_census():
    """Failure rates in a private release: only where the spec bounds failures, at its noise, within the census."""
    private = private_solar_release(plants=2000, epsilon=10.0, max_failures_per_inverter=2)
    rounds = [(private.spec, private.census)]
    assert census_contradictions(private.release, rounds) == []
    inverter = next(r for r in private.release.solar_failure_rates if r.component == "inverter")
    assert not inverter.suppressed and inverter.failures_per_inverter_year == pytest.approx(0.1, abs=0.01)

    def forged_rate(release: release_pb2.Release) -> tuple[release_pb2.Release, release_pb2.SolarFailureRate]:
        forged = _copy(release)
        return forged, next(r for r in forged.solar_failure_rates if r.component == "inverter")

    forged, rate = forged_rate(private.release)
    noise = rate.failures_noise_stddev
    rate.failures_noise_stddev = 10 * noise
    (problem,) = census_contradictions(forged, rounds)
    assert f"failure rate of inverter in cohort all: states noise {10 * noise:g}, its spec's is {noise:g}" in problem
    forged, rate = forged_rate(private.release)
    rate.inverter_years *= 2  # twice what 2,000 inverters can observe in the period
    (problem,) = census_contradictions(forged, rounds)
    assert "inverter-years, more than its census's inverters observe" in problem
    # A reviewer's forgeries, each a single field changed, each named.
    forgeries = {
        "failures_per_inverter_year": (50.0, "per inverter-year is not its"),
        "rate_noise_stddev": (1e-9, "states the rate's noise"),
        "inverter_years_noise_stddev": (0.0, "states inverter-years noise 0, its spec's is"),
        "inverter_years": (0.001, "do not stand out from their noise"),
        "failures": (10**9, "more than its census's inverters' caps allow"),
        "mean_downtime_hours": (37.25, "publishes mean_downtime_hours"),
        "downtime_hours": (37.25, "publishes downtime_hours"),
        "operator_count": (2000, "publishes operator_count"),
        "component": ("windmill", "component not one of its spec's"),
    }
    for field, (value, named) in forgeries.items():
        forged, rate = forged_rate(private.release)
        setattr(rate, field, value)
        problems = census_contradictions(forged, rounds)
        assert len(problems) == 1 and named in problems[0], (field, problems)
    forged = _copy(private.release)
    forged.solar_failure_rates.add().CopyFrom(inverter)
    (problem,) = census_contradictions(forged, rounds)
    assert "listed twice" in problem
    # A cohort of 20 plants' inverters cannot stand out from the noise: the aggregator withholds its rates.
    few = private_solar_release(plants=20, epsilon=10.0, max_failures_per_inverter=2)
    assert all(r.suppressed for r in few.release.solar_failure_rates)
    made_up = _copy(few.release)
    rate = next(r for r in made_up.solar_failure_rates if r.component == "inverter")
    stated = (rate.failures_noise_stddev, rate.inverter_years_noise_stddev)  # the spec's, at 20 sites
    rate.CopyFrom(inverter)
    rate.failures_noise_stddev, rate.inverter_years_noise_stddev = stated
    (problem,) = census_contradictions(made_up, [(few.spec, few.census)])
    assert "its census's inverters cannot stand out from its noise" in problem
    distribution = next(d for d in forged.distributions if not d.suppressed)
    distribution.operator_count = 2000  # the census's exact count, which a private release never states
    assert any("publishes operator_count" in problem for problem in census_contradictions(forged, rounds))
    # A spec that bounds no failures: its sites sent none, so any rate in its release was made up.
    unbounded = private_solar_release(plants=2000, epsilon=10.0)
    assert not unbounded.release.solar_failure_rates
    forged = _copy(unbounded.release)
    forged.solar_failure_rates.add().CopyFrom(inverter)
    (problem,) = census_contradictions(forged, [(unbounded.spec, unbounded.census)])
    assert "published, but its private spec does not bound failures" in problem
    # Control: a check of the census alone (k and dominance) lets the made-up rate through.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("client.release_check._private_failure_rate_problems", lambda *_: [])
        assert census_contradictions(forged, [(unbounded.spec, unbounded.census)]) == []


def _forged_privacy(release: release_pb2.Release) -> release_pb2.Release:
    """A reviewer's forgery (rev7 F1): the release claims 1000 times less rho and epsilon, 1000 times more noise."""
    forged = _copy(release)
    forged.privacy.epsilon /= 1000
    forged.privacy.rho /= 1000
    for cohort in list(forged.privacy.cell_noise_stddev):
        forged.privacy.cell_noise_stddev[cohort] *= 1000
    forged.privacy.operator_epsilon[100] = 0.001
    return forged


def test_the_privacy_a_release_states_is_its_specs(released, tmp_path_factory):
    """A private release, solar or wind, must state the privacy its spec gives: a stronger claim is named.

    The figures are recomputed from the kept spec; a release of an exact spec states none, and one of a
    private spec must state it.
    """
    private = private_solar_release(plants=2000, epsilon=10.0, max_failures_per_inverter=2)
    rounds = [(private.spec, private.census)]
    assert census_contradictions(private.release, rounds) == []
    forged = _forged_privacy(private.release)
    assert census_contradictions(forged, rounds) == [
        "privacy: states rho, epsilon, cell_noise_stddev, operator_epsilon other than its spec gives"
    ]
    store, wind = private_release(tmp_path_factory)
    site = next((store.parent / "fleet").glob("operator-*/site.toml"))
    wind_rounds = _rounds(site, wind)
    assert census_contradictions(wind, wind_rounds) == []
    assert census_contradictions(_forged_privacy(wind), wind_rounds) == [
        "privacy: states rho, epsilon, cell_noise_stddev, operator_epsilon other than its spec gives"
    ]
    unstated = _copy(wind)
    unstated.ClearField("privacy")
    assert census_contradictions(unstated, wind_rounds) == ["the release of a private spec states no privacy"]
    _, exact = released
    claimed = _copy(exact)
    claimed.privacy.CopyFrom(wind.privacy)
    assert census_contradictions(claimed, _rounds(released[0][0], exact)) == [
        "the release states privacy, which its spec does not give"
    ]
    # Control: a check that does not compare the privacy block lets every claim through.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("client.release_check._privacy_problems", lambda *_: [])
        assert census_contradictions(forged, rounds) == []
        assert all(census_contradictions(f, wind_rounds) == [] for f in (_forged_privacy(wind), unstated))
        assert census_contradictions(claimed, _rounds(released[0][0], exact)) == []


def _census_bin(spec, census, cohort: int, statistic, b: int) -> tuple[int, int]:
    """The records and operators the census counts in bin ``b`` of cohort ``cohort`` (after the atoms' rows)."""
    rows = CensusFields(*census_totals(census, spec)[BlockKey("", statistic)])
    atoms = len(cohort_atoms(spec.cohorts))
    return int(rows.total[atoms + cohort, b]), int(rows.contributor[atoms + cohort, b])


def test_a_private_curve_bin_carries_no_exact_count_and_states_its_p50s_error(released, tmp_path_factory):
    """A private bin, solar or wind, publishes no records, operators or other exact figure, and a P50 only with
    its error (reviewer's forgeries F2, F3): each forgery is one problem naming the bin and the field."""
    private = private_solar_release(epsilon=30.0)  # 6 of its 10 bins stand out from the noise
    rounds = [(private.spec, private.census)]
    grid = private.spec.solar.irradiance_bins

    def forged_bin(release: release_pb2.Release) -> tuple[release_pb2.Release, release_pb2.SolarCurveBin, str]:
        forged = _copy(release)
        cell = next(b for b in forged.solar_curves[0].bins if not b.suppressed and b.HasField("p50_specific_power"))
        return forged, cell, f"cohort all bin {cell.irradiance_centre:g} W/m^2: publishes"

    forged, cell, where = forged_bin(private.release)
    b = round((cell.irradiance_centre - grid.first_centre) / grid.width)
    cell.record_count, cell.operator_count = _census_bin(private.spec, private.census, 0, S.IRRADIANCE_CENSUS, b)
    solar_forgeries = [forged]
    assert census_contradictions(forged, rounds) == [
        f"{where} record_count, operator_count, which a private release of its spec does not have"
    ]
    forged, cell, where = forged_bin(private.release)  # F3: a made-up P50 with no error, and an exact-looking std
    cell.p50_specific_power, cell.p50_noise_stddev, cell.std_specific_power = 0.123, 0.0, 0.01
    solar_forgeries.append(forged)
    assert census_contradictions(forged, rounds) == [
        f"{where} std_specific_power, which a private release of its spec does not have"
    ]
    forged, cell, where = forged_bin(private.release)
    cell.ClearField("p50_noise_stddev")
    solar_forgeries.append(forged)
    assert census_contradictions(forged, rounds) == [f"{where} percentiles without a p50_noise_stddev above 0"]

    store, wind = private_release(tmp_path_factory)
    site = next((store.parent / "fleet").glob("operator-*/site.toml"))
    wind_rounds = _rounds(site, wind)
    ((spec, census),) = wind_rounds
    forged = _copy(wind)
    curve = forged.curves[0]
    cell = next(b for b in curve.bins if not b.suppressed)
    b = round((cell.wind_speed_centre - spec.wind_speed_bins.first_centre) / spec.wind_speed_bins.width)
    cell.record_count, _ = _census_bin(spec, census, 0, S.CURVE_CENSUS, b)
    cell.uncertainty_power = 0.1
    wind_forgeries = [forged]
    assert census_contradictions(forged, wind_rounds) == [
        f"cohort {curve.cohort} bin {cell.wind_speed_centre:g} m/s: publishes record_count, uncertainty_power, "
        "which a private release of its spec does not have"
    ]
    forged = _copy(wind)
    forged.curves[0].operator_count, forged.curves[0].completeness.hours = 4, 1440.0
    wind_forgeries.append(forged)
    assert census_contradictions(forged, wind_rounds) == [
        f"cohort {curve.cohort}: publishes operator_count, completeness.hours, which a private release of its spec "
        "does not have"
    ]
    # Control: without the private bin and curve checks every forgery passes (the census's counts among them).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("client.release_check._private_bin_problems", lambda *_: [])
        patch.setattr("client.release_check._private_curve_problems", lambda *_: [])
        assert all(census_contradictions(forged, rounds) == [] for forged in solar_forgeries)
        assert all(census_contradictions(forged, wind_rounds) == [] for forged in wind_forgeries)


def _forgeries_each_named(release: release_pb2.Release, rounds, forgeries) -> None:
    """Each forgery (a function that changes a copy of ``release``) gives one problem, containing its name."""
    for named, forge in forgeries.items():
        forged = _copy(release)
        forge(forged)
        problems = census_contradictions(forged, rounds)
        assert len(problems) == 1 and named in problems[0], (named, problems)


def test_items_the_spec_does_not_know_and_suppressed_items_with_figures_are_flagged(tmp_path_factory):
    """Items the census has no cell for (a cohort, indicator, component, age band, month or model the spec does
    not have) and suppressed items that carry figures are named, solar and wind (reviewer's forgeries F5), one
    problem each."""
    private = private_solar_release(plants=2000, epsilon=10.0, max_failures_per_inverter=2)
    rounds = [(private.spec, private.census)]

    def pr(release: release_pb2.Release) -> release_pb2.Distribution:
        return next(d for d in release.distributions if d.indicator == "performance_ratio")

    def added_copy(items, item):
        added = items.add()
        added.CopyFrom(item)
        return added

    def ghost_pr(release: release_pb2.Release) -> None:  # a trailing space: not the spec's cohort "all"
        ghost = added_copy(release.distributions, pr(release))
        ghost.cohort, ghost.operator_count = "all ", 3

    def made_up_indicator(release: release_pb2.Release) -> None:
        added_copy(release.distributions, pr(release)).indicator = "performance_ratio_exact"

    def made_up_category(release: release_pb2.Release) -> None:
        added_copy(release.distributions, pr(release)).indicator = "lost_production:theft"

    def suppressed_with_figures(release: release_pb2.Release) -> None:
        withheld = next(d for d in release.distributions if d.suppressed)
        withheld.counts.extend([7] * withheld.bins.count)
        withheld.p50, withheld.operator_count = 0.5, 2

    def rate_of_another_cohort(release: release_pb2.Release) -> None:
        rate = added_copy(release.solar_failure_rates, release.solar_failure_rates[0])
        rate.cohort, rate.mean_downtime_hours, rate.operator_count = "ALL", 12.5, 3

    def curve_of_another_cohort(release: release_pb2.Release) -> None:
        curve = release.solar_curves.add(cohort="ALL")
        curve.bins.add(irradiance_centre=75.0, record_count=3, operator_count=1, mean_specific_power=0.42)

    forgeries = {
        "performance_ratio of cohort all : cohort not one of its spec's": ghost_pr,
        "performance_ratio_exact of cohort all: indicator not one of its spec's": made_up_indicator,
        "lost_production:theft of cohort all: indicator not one of its spec's": made_up_category,
        ": suppressed, but publishes counts, operator_count, p50": suppressed_with_figures,
        "failure rate of inverter in cohort ALL: cohort not one of its spec's": rate_of_another_cohort,
        "curve of cohort ALL: cohort not one of its spec's": curve_of_another_cohort,
    }
    assert census_contradictions(private.release, rounds) == []
    _forgeries_each_named(private.release, rounds, forgeries)
    few = private_solar_release(plants=20, epsilon=10.0, max_failures_per_inverter=2)  # every rate withheld

    def suppressed_rate_with_figures(release: release_pb2.Release) -> None:
        rate = next(rate for rate in release.solar_failure_rates if rate.component == "inverter")
        rate.failures, rate.inverter_years = 4, 20.0

    named = "failure rate of inverter in cohort all: suppressed, but publishes failures, inverter_years"
    _forgeries_each_named(few.release, [(few.spec, few.census)], {named: suppressed_rate_with_figures})

    # Wind, both rounds: a fleet whose bins and age bands three operators do not all fill are suppressed.
    fleet = two_releases(tmp_path_factory)
    wind = fleet.releases[0]
    site = fleet.site_configs[0]
    wind_rounds = [
        kept_census(site, wind.provenance.spec_sha256),
        kept_census(site, wind.provenance.indicator_spec_sha256),
    ]
    assert census_contradictions(wind, wind_rounds) == []
    cohort = wind.curves[0].cohort

    def suppressed_bin_with_records(release: release_pb2.Release) -> None:
        cell = next(b for curve in release.curves for b in curve.bins if b.suppressed)
        cell.record_count, cell.mean_power = 2, 800.0

    def curve_of_another_cohort_wind(release: release_pb2.Release) -> None:
        added_copy(release.curves, release.curves[0]).cohort = "E-82"

    def model_of_another_target(release: release_pb2.Release) -> None:
        added_copy(release.models, release.models[0]).target = "WTRM_Secret"

    def rate_of_another_component(release: release_pb2.Release) -> None:
        added_copy(release.failure_rates, release.failure_rates[0]).component = "windmill"

    def month_outside_the_period(release: release_pb2.Release) -> None:
        added_copy(release.monthly_distributions, release.monthly_distributions[0]).month = "2024-12"

    def suppressed_rate_with_downtime(release: release_pb2.Release) -> None:
        rate = next(rate for rate in release.failure_rates if rate.suppressed)
        rate.failures, rate.mean_downtime_hours = 1, 30.0

    wind_forgeries = {
        "m/s: suppressed, but publishes record_count, mean_power": suppressed_bin_with_records,
        "cohort E-82: cohort not one of its spec's": curve_of_another_cohort_wind,
        f"model {cohort}/WTRM_Secret: target not one of its spec's": model_of_another_target,
        "/windmill from 5 years: component not one of its spec's": rate_of_another_component,
        "/2024-12: month not one of its spec's": month_outside_the_period,
        "years: suppressed, but publishes failures, mean_downtime_hours": suppressed_rate_with_downtime,
    }
    _forgeries_each_named(wind, wind_rounds, wind_forgeries)
    # Control: the check as it was, which skipped what its census has no cell for and took "suppressed" at its word.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "client.release_check._unchecked",
            lambda where, item, **known: [] if not all(known.values()) or getattr(item, "suppressed", False) else None,
        )
        for release, checked_rounds, forged_ones in (
            (private.release, rounds, forgeries),
            (few.release, [(few.spec, few.census)], {named: suppressed_rate_with_figures}),
            (wind, wind_rounds, wind_forgeries),
        ):
            for forge in forged_ones.values():
                forged = _copy(release)
                forge(forged)
                assert census_contradictions(forged, checked_rounds) == [], forge.__name__


def test_items_of_the_other_kind_are_flagged_as_the_release_kinds_fields(released, monkeypatch):
    """A solar release carrying wind items (a failure rate by age band with exact operators, a monthly
    distribution, a model, a curve by turbine model) and a wind release carrying solar items would pass every
    check of its own kind's items (a reviewer's forgeries): each is named as a field its kind has not. Control:
    without the check, both pass."""
    private = private_solar_release(plants=2000, epsilon=10.0, max_failures_per_inverter=2)
    solar_rounds = [(private.spec, private.census)]
    sites, wind = released
    wind_rounds = _rounds(sites[0], wind)
    solar = _copy(private.release)
    solar.failure_rates.add(cohort="all", component="inverter", failures=412, operator_count=2000)
    solar.monthly_distributions.add(cohort="all", indicator="performance_index", month="2022-01", operator_count=3)
    solar.models.add(cohort="all", target="P_out")
    solar.curves.add(cohort="all").bins.add(wind_speed_centre=5.0, record_count=1200, operator_count=3)
    forged_wind = _copy(wind)
    forged_wind.solar_curves.add(cohort=A).bins.add(irradiance_centre=525.0, record_count=1200, operator_count=3)
    forged_wind.solar_failure_rates.add(cohort=A, component="inverter", failures=4, operator_count=3)
    assert census_contradictions(private.release, solar_rounds) == [] == census_contradictions(wind, wind_rounds)
    assert census_contradictions(solar, solar_rounds) == [
        "the release of a solar spec carries curves, failure_rates, models, monthly_distributions, which a solar "
        "release has not"
    ]
    assert census_contradictions(forged_wind, wind_rounds) == [
        "the release of a wind spec carries solar_curves, solar_failure_rates, which a wind release has not"
    ]
    monkeypatch.setattr("client.release_check._kind_problems", lambda release, spec: [])
    assert census_contradictions(solar, solar_rounds) == [] == census_contradictions(forged_wind, wind_rounds)
