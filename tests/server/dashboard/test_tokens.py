"""Checking a member token costs the same work whether its id exists or not, so timing tells no token ids.

Wall-clock timings are too noisy to test, so the tests count the scrypt evaluations (and their cost
parameters) each check makes, by wrapping ``hashlib.scrypt`` (the ``scrypt_calls`` fixture).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server.dashboard import tokens
from server.dashboard.tokens import SCRYPT_N, SCRYPT_P, SCRYPT_R, MemberTokens, create_token


@pytest.fixture
def member_tokens(tmp_path: Path) -> tuple[MemberTokens, str]:
    """A tokens file of two members, and the first member's token."""
    path = tmp_path / "tokens.json"
    token = create_token(path, "north-wind")
    create_token(path, "south-wind")
    return MemberTokens(path), token


def wrong_tokens(token: str) -> dict[str, str]:
    """Tokens an attacker might try, next to the real ``token``: what each is."""
    _, token_id, secret = token.split("_", 2)
    return {
        "known id, wrong secret": f"fbt_{token_id}_{secret[:-2]}xx",
        "unknown id": f"fbt_{'0' * len(token_id)}_{secret}",
        "known id, empty secret": f"fbt_{token_id}_",
        "no secret": f"fbt_{token_id}",
        "other prefix": f"xyz_{token_id}_{secret}",
        "empty": "",
        "not ascii": f"fbt_{token_id}\u00e9_{secret}",
    }


def work_of_each(
    member_tokens: MemberTokens, token: str, scrypt_calls: list[tuple[int, ...]]
) -> dict[str, list[tuple[int, ...]]]:
    """The scrypt evaluations checking each wrong token (and the right one) makes; each check must say no (or yes)."""
    work = {}
    for what, attempt in {"right token": token, **wrong_tokens(token)}.items():
        scrypt_calls.clear()
        assert (member_tokens.verify(attempt) is not None) == (what == "right token"), what
        work[what] = list(scrypt_calls)
    return work


def test_every_token_check_costs_one_scrypt_of_the_same_cost_whatever_is_wrong(member_tokens, scrypt_calls):
    checker, token = member_tokens
    work = work_of_each(checker, token, scrypt_calls)
    one_check = [(16, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)]
    assert work == dict.fromkeys(work, one_check)


def test_without_the_stand_in_check_an_unknown_id_is_told_by_its_work(member_tokens, scrypt_calls, monkeypatch):
    """The control: with the stand-in scrypt switched off, the counts above tell which ids exist."""
    checker, token = member_tokens
    monkeypatch.setattr(tokens, "_check_stand_in", lambda secret: None)
    work = work_of_each(checker, token, scrypt_calls)
    assert len(work["known id, wrong secret"]) == 1 and work["unknown id"] == [] and work["other prefix"] == []


def test_ids_are_compared_in_constant_time(member_tokens, monkeypatch):
    checker, token = member_tokens
    token_id = token.split("_")[1]
    compared: list[tuple[bytes, bytes]] = []
    real = tokens.hmac.compare_digest

    def recorded(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", recorded)
    assert checker.verify(f"fbt_{token_id}_wrong") is None
    # Both stored ids are compared with the wanted one (whichever matches), then the hashes.
    assert [b for _, b in compared[:2]] == [token_id.encode()] * 2 and len(compared) == 3
    compared.clear()
    assert checker.verify("fbt_000000000000_wrong") is None
    assert [b for _, b in compared[:2]] == [b"000000000000"] * 2 and len(compared) == 3
