"""Site policy: parsing and the rules a round and a spec must pass."""

from __future__ import annotations

import pytest

from client.policy import PolicyViolation, SitePolicy, check_round, check_spec, check_unmask_request, parse_policy
from server.spec import power_curve_spec

SPEC = power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["A"], k_min_operators=4)


def test_parse_policy_defaults_and_errors():
    problems: list[str] = []
    assert parse_policy({}, problems) == SitePolicy() and problems == []
    policy = parse_policy({"min_participants": 7, "allowed_statistics": ["RECORD_COUNT"]}, problems)
    assert policy.min_participants == 7 and policy.allowed_statistics == frozenset({"RECORD_COUNT"})
    parse_policy({"min_participants": 0, "allowed_statistics": ["RAW_ROWS"], "trust_server": True}, problems)
    assert any("min_participants = 0" in p for p in problems)
    assert any("RAW_ROWS" in p for p in problems)
    assert any("trust_server is not a policy setting" in p for p in problems)


@pytest.mark.parametrize(
    ("participants", "neighbours", "threshold", "message"),
    [
        (4, 4, 3, "min_participants is 5"),
        (9, 9, 1, "min_reconstruction_threshold"),
        (9, 9, 4, "not a strict majority"),
        (20, 10, 5, "not a strict majority"),
    ],
)
def test_check_round_refuses(participants, neighbours, threshold, message):
    policy = SitePolicy(min_participants=5, min_reconstruction_threshold=2)
    with pytest.raises(PolicyViolation, match=message):
        check_round(policy, participants, neighbours, threshold)


def test_check_round_accepts_a_majority_threshold():
    check_round(SitePolicy(min_participants=5), 20, 11, 6)


def test_check_spec():
    check_spec(SitePolicy(min_k_operators=4), SPEC)
    with pytest.raises(PolicyViolation, match="min_k_operators is 5"):
        check_spec(SitePolicy(min_k_operators=5), SPEC)
    with pytest.raises(PolicyViolation, match="SUM_POWER_SQUARED"):
        check_spec(SitePolicy(allowed_statistics=frozenset({"RECORD_COUNT", "SUM_POWER"})), SPEC)


def test_check_unmask_request():
    check_unmask_request(1, [1, 2, 3], [4])
    with pytest.raises(PolicyViolation, match=r"\[3\]"):
        check_unmask_request(1, [1, 2, 3], [3])
    with pytest.raises(PolicyViolation, match=r"\[1\]"):
        check_unmask_request(1, [2, 3], [1])
