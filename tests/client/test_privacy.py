"""Site-side differential privacy: the record cap, the noise's distribution, and the operator's ledger.

The noise tests draw from the operating system's secure generator (no seed can be set, by design):
their bounds are five standard errors, so a correct sampler fails one about once in a million runs.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from minimal_site import write_minimal_site

from client.audit import audit_log_path
from client.contribution import PreparedContribution, contribute
from client.policy import ContributionRefused, PolicyViolation, SitePolicy, parse_policy
from client.privacy import (
    add_site_noise,
    cap_unit_histograms,
    charge_private_spec,
    discrete_gaussian_noise,
    ledger_path,
    privacy_status,
    read_ledger,
)
from fleetbench.cli import main
from protos.codec import block_layouts
from protos.privacy import composed_epsilon, spec_rho
from server.spec import PrivacySettings, power_curve_spec

PERIOD = ("2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z")
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _spec(epsilon: float = 1.0, spec_id: str = "private", min_noise_sites: int = 3):
    settings = PrivacySettings(epsilon, min_noise_sites=min_noise_sites)
    return power_curve_spec(spec_id, *PERIOD, ["E-82/2300"], privacy=settings)


def test_the_cap_scales_each_turbine_bin_to_at_most_c_records_and_keeps_its_shape():
    histograms = np.zeros((2, 2, 3))
    histograms[0, 0] = [30, 60, 30]  # 120 records: scaled by 60 / 120
    histograms[0, 1] = [10, 0, 5]  # 15 records: kept
    histograms[1, 0] = [0, 0, 61]  # 61 records: scaled to 60
    capped = cap_unit_histograms(histograms, 60, 8)
    np.testing.assert_array_equal(capped[0, 0], [15, 30, 15])
    np.testing.assert_array_equal(capped[0, 1], [10, 0, 5])
    np.testing.assert_array_equal(capped[1, 0], [0, 0, 60])
    np.testing.assert_array_equal(capped[1, 1], [0, 0, 0])


def test_a_capped_unit_moves_a_sites_encoded_sum_by_at_most_the_cap_rounding_included():
    """Three cells of 1 record each, capped at 2: 2/3 each, 170.67 in 2^-8. On the grid (floored) the unit's
    row encodes as 3 x 170 = 510 <= 2 x 256; control: rounding the site's sum instead encodes 3 x 171 = 513,
    more than the cap the noise is calibrated for."""
    unit = np.array([[[1.0, 1.0, 1.0]]])
    capped = cap_unit_histograms(unit, 2, 8)
    encoded = np.rint(np.ldexp(capped.sum(axis=0), 8))
    assert encoded.sum() == 510 <= 2 * 256
    assert np.rint(np.ldexp(unit * 2 / 3, 8)).sum() == 513 > 2 * 256


def test_a_cap_too_large_for_int64_still_bounds_the_unit_exactly():
    """A downtime cap of 350,000 h (1.4 M 15-min records) on an inverter with 1.6 M failing records, on the
    downtime's records grid (2^-22): the unit still weighs its cap, exactly. Control: in int64 (as the site
    computed before), 1.6 M x 1.4 M x 2^22 wraps and the unit weighs -1.35 M records, outside [0, cap]."""
    records, cap, exponent = 1_600_000, 1_400_000, 22
    capped = cap_unit_histograms(np.array([[float(records)]]), cap, exponent)
    assert capped[0, 0] == cap
    with np.errstate(over="ignore"):
        wrapped = np.array([records], dtype=np.int64) * np.int64(cap << exponent) // records
    assert np.ldexp(float(wrapped[0]), -exponent) < 0


def _discrete_gaussian_tail(sigma: float, k: float) -> float:
    """P(|X| > k) for X ~ N_Z(0, sigma^2), summed from the probability mass function."""
    support = np.arange(-int(40 * sigma), int(40 * sigma) + 1)
    mass = np.exp(-(support**2) / (2 * sigma**2))
    return float(mass[np.abs(support) > k].sum() / mass.sum())


def test_discrete_gaussian_noise_has_zero_mean_the_stated_variance_and_gaussian_tails():
    sigma, n = 30.0, 100_000
    noise = discrete_gaussian_noise(n, sigma)
    assert noise.dtype == np.int64 and noise.shape == (n,)
    assert abs(noise.mean()) < 5 * sigma / math.sqrt(n)
    assert noise.var() == pytest.approx(sigma**2, rel=5 * math.sqrt(2 / n))
    for k in (2 * sigma, 3 * sigma):
        p = _discrete_gaussian_tail(sigma, k)
        observed = np.mean(np.abs(noise) > k)
        assert abs(observed - p) < 5 * math.sqrt(p * (1 - p) / n), (k, observed, p)


def test_any_t_minus_1_sites_together_carry_the_noise_the_spec_states():
    spec = _spec(min_noise_sites=3)
    block = next(b for b in spec.blocks if b.noise_stddev > 0)
    zeros = {layout.key: np.zeros(layout.shape) for layout in block_layouts(spec)}
    name = next(layout.key for layout in block_layouts(spec) if layout.statistic == block.statistic)
    two_sites = add_site_noise(zeros, spec)[name] + add_site_noise(zeros, spec)[name]
    n = two_sites.size
    assert two_sites.var() == pytest.approx(block.noise_stddev**2, rel=5 * math.sqrt(2 / n))
    # The noise lives on the block's fixed-point grid and the exact blocks are left alone.
    assert np.all(np.ldexp(two_sites, block.scale_exponent) % 1 == 0)
    assert all(not add_site_noise(zeros, spec)[k].any() for k in zeros if k != name)


def test_each_private_contribution_is_charged_and_the_one_past_the_budget_is_refused(tmp_path):
    site = tmp_path / "site.toml"
    policy = SitePolicy(privacy_epsilon_per_year=4.0, privacy_delta=1e-6)
    spec = _spec(1.0)
    rho = spec_rho(spec)
    allowed = max(n for n in range(1, 40) if composed_epsilon([rho] * n, 1e-6) <= 4.0)
    for month in range(allowed):
        entry = charge_private_spec(site, policy, spec, NOW + timedelta(days=month))
        assert entry is not None and entry.rho == pytest.approx(rho)
    with pytest.raises(PolicyViolation, match="privacy_epsilon_per_year is 4"):
        charge_private_spec(site, policy, spec, NOW + timedelta(days=allowed))
    entries = read_ledger(ledger_path(site))
    assert len(entries) == allowed  # the refused release was not charged
    status = privacy_status(site, policy, NOW + timedelta(days=allowed))
    assert status["spent_epsilon_last_365_days"] == pytest.approx(composed_epsilon([rho] * allowed, 1e-6))
    assert status["left_epsilon"] == pytest.approx(4.0 - status["spent_epsilon_last_365_days"])
    # A year after the first charges, they leave the window and the site may contribute again.
    assert charge_private_spec(site, policy, spec, NOW + timedelta(days=366)) is not None


def test_a_site_that_requires_privacy_refuses_a_spec_without_noise(tmp_path):
    plain = power_curve_spec("plain", *PERIOD, ["E-82/2300"])
    assert charge_private_spec(tmp_path / "site.toml", SitePolicy(), plain, NOW) is None
    with pytest.raises(PolicyViolation, match="require_differential_privacy"):
        charge_private_spec(tmp_path / "site.toml", SitePolicy(require_differential_privacy=True), plain, NOW)
    assert not ledger_path(tmp_path / "site.toml").exists()


def test_a_spec_whose_privacy_claim_is_false_is_refused_before_anything_is_charged(tmp_path):
    spec = _spec()
    next(b for b in spec.blocks if b.noise_stddev > 0).l2_sensitivity = 1.0
    with pytest.raises(PolicyViolation, match="sites enforce"):
        charge_private_spec(tmp_path / "site.toml", SitePolicy(), spec, NOW)
    assert not ledger_path(tmp_path / "site.toml").exists()


def test_an_unreadable_ledger_refuses_every_private_contribution(tmp_path):
    site = tmp_path / "site.toml"
    charge_private_spec(site, SitePolicy(), _spec(), NOW)
    with open(ledger_path(site), "a", encoding="utf-8") as ledger:
        ledger.write("{not json\n")
    with pytest.raises(PolicyViolation, match=r"privacy-ledger.jsonl line 2 .*restore the ledger"):
        charge_private_spec(site, SitePolicy(), _spec(), NOW)
    assert json.loads(ledger_path(site).read_text().splitlines()[0])["spec_id"] == "private"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"privacy_epsilon_per_year": -1}, "privacy_epsilon_per_year"),
        ({"privacy_epsilon_per_year": "lots"}, "privacy_epsilon_per_year"),
        ({"privacy_delta": 0.5}, "privacy_delta"),
        ({"require_differential_privacy": "yes"}, "require_differential_privacy"),
    ],
)
def test_bad_privacy_policy_settings_are_named(raw, problem):
    problems: list[str] = []
    parse_policy(raw, problems)
    assert len(problems) == 1 and problem in problems[0]


def test_privacy_policy_settings_are_read():
    problems: list[str] = []
    policy = parse_policy(
        {"privacy_epsilon_per_year": 2, "privacy_delta": 1e-7, "require_differential_privacy": True}, problems
    )
    assert not problems
    assert (policy.privacy_epsilon_per_year, policy.privacy_delta, policy.require_differential_privacy) == (
        2.0,
        1e-7,
        True,
    )


def _prepared(spec) -> PreparedContribution:
    """A private round's blocks as prepared on site (zeros), ready to record, charge, noise and send."""
    layouts = block_layouts(spec)
    return PreparedContribution(
        spec, layouts, {layout.key: np.zeros(layout.shape) for layout in layouts}, SitePolicy(), "release"
    )


def _break_log(log: Path, damage: str) -> None:
    if damage == "torn last line":  # a crash mid-append
        log.write_bytes(log.read_bytes()[:-20])
    elif damage == "edited last entry":
        log.write_text(log.read_text().replace('"participants":3', '"participants":30'))
    else:  # not a file the site can append to
        log.unlink()
        log.mkdir()


@pytest.mark.parametrize("damage", ["torn last line", "edited last entry", "a folder"])
def test_a_site_with_a_broken_audit_log_refuses_and_charges_nothing(tmp_path, monkeypatch, damage):
    spec = _spec()
    monkeypatch.setattr("client.contribution.prepare_contribution", lambda *args: _prepared(spec))
    site = tmp_path / "site.toml"
    # Control: with its log intact the site records, charges and sends.
    assert contribute(site, spec.SerializeToString(), participants=3)
    assert len(read_ledger(ledger_path(site))) == 1

    _break_log(audit_log_path(site), damage)
    with pytest.raises(ContributionRefused):
        contribute(site, spec.SerializeToString(), participants=3)
    assert len(read_ledger(ledger_path(site))) == 1


def test_a_contribution_that_fails_after_its_audit_entry_is_not_charged(tmp_path, monkeypatch):
    spec = _spec()
    monkeypatch.setattr("client.contribution.prepare_contribution", lambda *args: _prepared(spec))
    site = tmp_path / "site.toml"

    def noise_fails(values, spec):
        raise ValueError("noised fixed-point values exceed 2^53")

    monkeypatch.setattr("client.contribution.add_site_noise", noise_fails)
    with pytest.raises(ContributionRefused):
        contribute(site, spec.SerializeToString(), participants=3)
    assert not ledger_path(site).exists()
    # Control: the same contribution with its noise drawn is charged once.
    monkeypatch.setattr("client.contribution.add_site_noise", add_site_noise)
    assert contribute(site, spec.SerializeToString(), participants=3)
    assert len(read_ledger(ledger_path(site))) == 1


def test_privacy_status_warns_when_the_ledger_is_overspent(tmp_path, capsys):
    site = write_minimal_site(tmp_path, "privacy_epsilon_per_year = 4.0")
    first = charge_private_spec(site, SitePolicy(), _spec(1.0, "q1"))
    charge_private_spec(site, SitePolicy(), _spec(1.0, "q2"))
    # Control: two releases within the budget.
    assert main(["privacy", "status", "--site", str(site)]) == 0
    assert "WARNING" not in capsys.readouterr().out

    # The budget lowered below what the last 365 days spent.
    write_minimal_site(tmp_path, "privacy_epsilon_per_year = 1.2")
    assert main(["privacy", "status", "--site", str(site)]) == 1
    out = capsys.readouterr().out
    spent = composed_epsilon([spec_rho(_spec(1.0))] * 2, 1e-6)
    back = (datetime.fromisoformat(first.time_utc) + timedelta(days=365)).isoformat(timespec="seconds")
    assert "left: 0.000" in out
    assert f"WARNING: overspent by epsilon {spent - 1.2:.3f}" in out
    assert f"every private contribution is refused until {back}" in out  # when q1 leaves the window
    assert main(["privacy", "status", "--site", str(site), "--json"]) == 1
    status = json.loads(capsys.readouterr().out)
    assert status["overspent_epsilon"] == pytest.approx(spent - 1.2) and status["within_budget_from"] == back
    with pytest.raises(PolicyViolation, match=r"privacy_epsilon_per_year is 1\.2"):
        charge_private_spec(site, SitePolicy(privacy_epsilon_per_year=1.2), _spec(1.0, "q3"))
