"""Attacks on a site's privacy budget: concurrent charges, charges for nothing, and unusable releases."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from client import privacy
from client.policy import PolicyViolation, SitePolicy
from client.preview import preview_site
from client.privacy import charge_private_spec, ledger_path, read_ledger
from protos.privacy import composed_epsilon, min_publishable_weight, spec_rho, summed_noise_stddev
from server.spec import PrivacySettings, power_curve_spec
from simulations.fleet import FleetConfig, generate_fleet
from simulations.onboarding import run_release_in_process
from simulations.pooled import pooled_capped_histograms, pooled_rows

JANUARY = ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")
NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _spec(epsilon: float = 1.0, min_noise_sites: int = 3):
    settings = PrivacySettings(epsilon, min_noise_sites=min_noise_sites)
    return power_curve_spec("private", *JANUARY, ["E-82/2300"], k_min_operators=3, privacy=settings)


def _charge_twice_at_once(site: Path, policy: SitePolicy, spec) -> list[str]:
    """Two charges that both read the ledger before either writes (when nothing stops them)."""
    both_read = threading.Barrier(2, timeout=2.0)
    read = privacy.read_ledger

    def read_then_wait(path):
        entries = read(path)
        # When the other charge is held at the lock, it reads after this one wrote: the wait times out.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return entries

    outcomes: list[str] = []

    def charge():
        try:
            charge_private_spec(site, policy, spec, NOW)
            outcomes.append("charged")
        except PolicyViolation:
            outcomes.append("refused")

    original = privacy.read_ledger
    privacy.read_ledger = read_then_wait
    try:
        threads = [threading.Thread(target=charge) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        privacy.read_ledger = original
    return sorted(outcomes)


def test_two_charges_at_once_cannot_both_pass_a_budget_for_one(tmp_path, monkeypatch):
    spec = _spec()
    budget = composed_epsilon([spec_rho(spec)], 1e-6) * 1.01  # room for one release, not two
    policy = SitePolicy(privacy_epsilon_per_year=budget)
    site = tmp_path / "site.toml"
    assert _charge_twice_at_once(site, policy, spec) == ["charged", "refused"]
    assert len(read_ledger(ledger_path(site))) == 1

    # Control: without the ledger's lock both read an empty ledger, and both pass.
    monkeypatch.setattr(privacy, "fcntl", None)
    other = tmp_path / "other" / "site.toml"
    assert _charge_twice_at_once(other, policy, spec) == ["charged", "charged"]
    assert len(read_ledger(ledger_path(other))) == 2


TRIALS = 12


def _charge_in_process(sites: list[Path], barriers: list, locked: bool, outcomes) -> None:
    """One SuperNode's process: charge each site's ledger once, the other process charging it at the same moment.

    Each read of the ledger waits for the other process to read too, so two charges that nothing
    keeps apart both read before either writes. With the lock, the other charge is held at it and
    the wait times out: briefly, since how late either process comes cannot make both pass then.
    """
    if not locked:
        privacy.fcntl = None
    wait = 0.2 if locked else 10.0
    read = privacy.read_ledger

    def read_then_wait(path):
        entries = read(path)
        with contextlib.suppress(threading.BrokenBarrierError):
            barriers[current].wait(timeout=wait)
        return entries

    privacy.read_ledger = read_then_wait
    policy = SitePolicy(privacy_epsilon_per_year=composed_epsilon([spec_rho(_spec())], 1e-6) * 1.01)
    for current, site in enumerate(sites):
        try:
            charge_private_spec(site, policy, _spec(), NOW)
            outcomes.put((current, "charged"))
        except PolicyViolation:
            outcomes.put((current, "refused"))


def _charges_by_two_processes(folder: Path, locked: bool) -> list[list[str]]:
    """Per trial, the outcomes of two processes charging one site's ledger at once (budget for one charge)."""
    context = multiprocessing.get_context("fork")  # the test's modules already imported: no second start-up
    sites = [folder / f"trial-{n}" / "site.toml" for n in range(TRIALS)]
    for site in sites:
        site.parent.mkdir(parents=True)
    barriers = [context.Barrier(2) for _ in sites]
    outcomes = context.Queue()
    processes = [context.Process(target=_charge_in_process, args=(sites, barriers, locked, outcomes)) for _ in range(2)]
    for process in processes:
        process.start()
    results: list[list[str]] = [[] for _ in sites]
    for _ in range(2 * TRIALS):
        trial, outcome = outcomes.get(timeout=60)
        results[trial].append(outcome)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return [sorted(r) for r in results]


def test_two_supernode_processes_charging_at_once_cannot_both_pass_a_budget_for_one(tmp_path):
    results = _charges_by_two_processes(tmp_path / "locked", locked=True)
    assert results == [["charged", "refused"]] * TRIALS
    ledgers = [ledger_path(tmp_path / "locked" / f"trial-{n}" / "site.toml") for n in range(TRIALS)]
    assert all(len(read_ledger(ledger)) == 1 for ledger in ledgers)

    # Control: without the lock the same two processes both pass in every trial.
    assert _charges_by_two_processes(tmp_path / "unlocked", locked=False) == [["charged", "charged"]] * TRIALS


def test_nothing_is_charged_for_a_contribution_that_fails_or_cannot_publish(tmp_path, monkeypatch):
    """A failed encoding, or a census below the size the noise needs, costs the sites nothing."""
    config = FleetConfig(operators=3, turbines_per_operator=1, months=1, seed=39, models=("E-82/2300",))
    sites = generate_fleet(config, tmp_path)
    tiny = _spec(epsilon=1.0)  # three turbines: far below the size at which any bin can be published
    # The preview tells each operator so in advance: a bin needs the weight of more sites like it than take part.
    for site in sites:
        outlook = preview_site(site, tiny).private_cohorts.set_index("cohort").loc["E-82/2300"]
        own = pooled_capped_histograms(pooled_rows([site], tiny), tiny)["E-82/2300"].sum(axis=1).max()
        assert outlook["largest_bin_weight_here"] == pytest.approx(own, rel=1e-9)
        needed = min_publishable_weight(summed_noise_stddev(tiny, "E-82/2300", 3))
        assert outlook["weight_needed_per_bin"] == pytest.approx(needed) and needed > 3 * own
        assert outlook["sites_like_this_needed"] > len(sites)
    with pytest.raises((RuntimeError, ValueError)):
        run_release_in_process(sites, tiny, indicators=False, send=False)
    assert not any(ledger_path(site).exists() for site in sites)

    # Control: a site that charged first (as before the census) spends its budget on a release that
    # publishes nothing.
    monkeypatch.setattr("client.contribution.check_private_release_usable", lambda spec, totals, participants: None)
    for site in sites:
        (site.parent / "audit.log").unlink(missing_ok=True)
    release = run_release_in_process(sites, tiny, indicators=False, send=False)
    assert all(len(read_ledger(ledger_path(site))) == 1 for site in sites)
    published = [b for curve in release.curves for b in curve.bins if b.HasField("p50_normalised_power")]
    assert len(published) <= 1  # nothing (or a bin passing by chance) for a year's share of budget
