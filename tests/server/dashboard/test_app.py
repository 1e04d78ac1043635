"""The dashboard's gate against attacks on its tokens: cross-site logins (login CSRF), guessing in bursts, and
telling token ids apart by the work a check takes (through the login form and the Bearer header).

Each defence is tested with the attack, and with a control that switches the defence off (a
monkeypatch of this test only) and shows the same attack then succeeding, so the test can fail.
"""

from __future__ import annotations

from contextlib import suppress

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.dashboard import app as dashboard_app
from server.dashboard import tokens
from server.dashboard.app import (
    FAILURES_PER_ADDRESS,
    NO_TOKEN,
    SESSION_COOKIE,
    Attempt,
    FailedLogins,
    TooManyFailures,
    create_app,
)
from server.dashboard.tokens import SCRYPT_N, SCRYPT_P, SCRYPT_R

OWN_ORIGIN = "http://testserver"  # TestClient's base URL: the dashboard's own scheme://host


@pytest.fixture
def client(dashboard) -> TestClient:
    return TestClient(dashboard.app, follow_redirects=False)


def log_in(client: TestClient, token: str, headers: dict[str, str]) -> httpx.Response:
    return client.post("/login", data={"token": token, "next": "/"}, headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Clock:
    """A clock the test moves by hand [s]."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


ATTACKER, MEMBER = "198.51.100.7", "192.0.2.10"


def client_at(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def wrong(token: str, guess: int) -> str:
    return f"{token[:-4]}{guess:04d}"


CROSS_SITE = {
    "other site": {"Origin": "https://evil.example"},
    "null origin": {"Origin": "null"},  # a sandboxed frame, or a page under Referrer-Policy no-referrer
    "other port": {"Origin": "http://testserver:8080"},
    "other scheme": {"Origin": "https://testserver"},
    "lookalike host": {"Origin": "http://testserver.evil.example"},
    "bad port": {"Origin": "http://testserver:99999"},
    "referer of other site": {"Referer": "https://evil.example/lure.html"},
    "empty origin, referer of other site": {"Origin": "", "Referer": "https://evil.example/"},
    "origin of other site, own referer": {"Origin": "https://evil.example", "Referer": f"{OWN_ORIGIN}/login"},
    "neither origin nor referer": {},
}
SAME_ORIGIN = {
    "origin": {"Origin": OWN_ORIGIN},
    "origin with the default port": {"Origin": "http://testserver:80"},
    "referer without origin": {"Referer": f"{OWN_ORIGIN}/login?next=%2F"},
}


@pytest.mark.parametrize("headers", CROSS_SITE.values(), ids=CROSS_SITE.keys())
def test_a_login_posted_from_another_origin_is_refused(dashboard, client, headers):
    response = log_in(client, dashboard.token, headers)
    assert response.status_code == 403 and "set-cookie" not in response.headers
    assert "own login page" in response.text and dashboard.token not in response.text
    assert client.get("/").status_code == 303  # still not logged in


@pytest.mark.parametrize("headers", SAME_ORIGIN.values(), ids=SAME_ORIGIN.keys())
def test_a_login_posted_from_the_dashboards_own_page_logs_in(dashboard, client, headers):
    response = log_in(client, dashboard.token, headers)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert SESSION_COOKIE in response.cookies and client.get("/").status_code == 200


def test_without_the_origin_check_another_site_logs_the_browser_in(dashboard, client, monkeypatch):
    """The control: with the check switched off, a cross-site post logs the browser in to the sender's session."""
    monkeypatch.setattr(dashboard_app, "_from_own_origin", lambda request: True)
    response = log_in(client, dashboard.token, CROSS_SITE["other site"])
    assert response.status_code == 303 and SESSION_COOKIE in response.cookies
    assert client.get("/").status_code == 200


def test_a_burst_of_failures_from_one_address_is_refused_until_they_age():
    clock = Clock()
    limiter = FailedLogins(per_address=5, overall=100, window=60, clock=clock)
    for _ in range(5):
        limiter.begin(ATTACKER)
    with pytest.raises(TooManyFailures, match="from this address: try again in 60 s") as refused:
        limiter.begin(ATTACKER)
    assert refused.value.retry_after == 60
    limiter.succeeded(limiter.begin(MEMBER))  # another address is not held up
    clock.now += 59.5
    with pytest.raises(TooManyFailures, match="try again in 1 s"):
        limiter.begin(ATTACKER)
    clock.now += 0.5  # the first failure is a window old
    limiter.begin(ATTACKER)


def test_failures_of_all_addresses_together_are_capped():
    clock = Clock()
    limiter = FailedLogins(per_address=5, overall=12, window=60, clock=clock)
    for i in range(12):  # each address stays under its own limit
        clock.now += 1
        limiter.begin(f"203.0.113.{i}")
    with pytest.raises(TooManyFailures, match="in the last minute: try again in 49 s"):
        limiter.begin(MEMBER)  # a fresh address, refused by the overall cap only
    clock.now += 49
    limiter.begin(MEMBER)


def test_checks_under_way_count_until_they_succeed_and_successes_never_count():
    limiter = FailedLogins(per_address=3, overall=100, window=60, clock=Clock())
    under_way = [limiter.begin(MEMBER) for _ in range(3)]  # three parallel checks, scrypt still running
    with pytest.raises(TooManyFailures):
        limiter.begin(MEMBER)
    limiter.succeeded(under_way[0])
    limiter.succeeded(limiter.begin(MEMBER))
    for _ in range(50):
        limiter.succeeded(limiter.begin(MEMBER))
    assert limiter.held() == (2, 1)


def test_an_ipv6_address_counts_as_its_64_and_a_mapped_ipv4_as_itself():
    limiter = FailedLogins(per_address=2, overall=100, window=60, clock=Clock())
    limiter.begin("2001:db8:1:2::1")
    limiter.begin("2001:db8:1:2:ffff::9")
    with pytest.raises(TooManyFailures):
        limiter.begin("2001:db8:1:2::abcd")  # the same /64
    limiter.begin("2001:db8:1:3::1")  # another /64
    limiter.begin("::ffff:198.51.100.7")
    limiter.begin(ATTACKER)
    with pytest.raises(TooManyFailures):
        limiter.begin(ATTACKER)


def test_the_limiter_forgets_old_failures_and_holds_no_more_than_the_overall_cap():
    clock = Clock()
    limiter = FailedLogins(per_address=3, overall=50, window=60, clock=clock)
    for minute in range(3):
        for i in range(2000):  # a flood from ever new addresses
            with suppress(TooManyFailures):
                limiter.begin(f"10.{minute}.{i // 256}.{i % 256}")
            failures, addresses = limiter.held()
            assert failures <= 50 and addresses <= 50
        assert limiter.held() == (50, 50)
        clock.now += 60
        assert limiter.held() == (0, 0)


def test_a_burst_of_wrong_tokens_at_the_login_form_is_refused_after_the_limit(dashboard):
    clock = Clock()
    app = create_app(dashboard.made.store, dashboard.tokens, failures=FailedLogins(clock=clock))
    attacker, member = client_at(app, ATTACKER), client_at(app, MEMBER)
    for guess in range(FAILURES_PER_ADDRESS):
        failed = log_in(attacker, wrong(dashboard.token, guess), {"Origin": OWN_ORIGIN})
        assert failed.status_code == 303 and failed.headers["location"].startswith("/login?failed=true")
    refused = log_in(attacker, dashboard.token, {"Origin": OWN_ORIGIN})  # not even the right token is checked now
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert "set-cookie" not in refused.headers and "try again in 60 s" in refused.text
    assert log_in(member, dashboard.token, {"Origin": OWN_ORIGIN}).status_code == 303  # other addresses log in
    assert member.get("/").status_code == 200
    clock.now += 60
    assert SESSION_COOKIE in log_in(attacker, dashboard.token, {"Origin": OWN_ORIGIN}).cookies


def test_a_burst_of_wrong_bearer_tokens_is_refused_after_the_limit_sharing_the_logins_budget(dashboard):
    clock = Clock()
    app = create_app(dashboard.made.store, dashboard.tokens, failures=FailedLogins(clock=clock))
    attacker, member = client_at(app, ATTACKER), client_at(app, MEMBER)
    assert log_in(attacker, wrong(dashboard.token, 0), {"Origin": OWN_ORIGIN}).status_code == 303
    for guess in range(1, FAILURES_PER_ADDRESS):
        assert attacker.get("/api/releases", headers=bearer(wrong(dashboard.token, guess))).status_code == 401
    refused = attacker.get("/api/releases", headers=bearer(dashboard.token))
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert refused.json() == {"detail": "too many failed token checks from this address: try again in 60 s"}
    assert attacker.get("/", headers=bearer(dashboard.token)).status_code == 429  # pages too
    assert log_in(attacker, dashboard.token, {"Origin": OWN_ORIGIN}).status_code == 429
    assert member.get("/api/releases", headers=bearer(dashboard.token)).status_code == 200
    clock.now += 60
    assert attacker.get("/api/releases", headers=bearer(dashboard.token)).status_code == 200


def test_without_the_limit_a_burst_of_wrong_tokens_is_never_refused(dashboard, monkeypatch):
    """The control: with the limiter switched off, every guess is checked, by form and by header."""
    monkeypatch.setattr(FailedLogins, "begin", lambda self, address: Attempt(address, 0.0))
    attacker = client_at(create_app(dashboard.made.store, dashboard.tokens), ATTACKER)
    for guess in range(3 * FAILURES_PER_ADDRESS):
        assert log_in(attacker, wrong(dashboard.token, guess), {"Origin": OWN_ORIGIN}).status_code == 303
        assert attacker.get("/api/releases", headers=bearer(wrong(dashboard.token, guess))).status_code == 401


def wrong_tokens(token: str) -> dict[str, str]:
    _, token_id, secret = token.split("_", 2)
    return {
        "known id, wrong secret": f"fbt_{token_id}_{secret[:-2]}xx",
        "unknown id": f"fbt_{'0' * len(token_id)}_{secret}",
        "no secret": f"fbt_{token_id}",
        "other prefix": f"xyz_{token_id}_{secret}",
    }


def answers_and_work(dashboard, scrypt_calls, path: str) -> dict[str, tuple[object, list[tuple[int, ...]]]]:
    """For each wrong token sent by ``path`` ("bearer" or "login"): the answer and the scrypt evaluations it cost."""
    app = create_app(dashboard.made.store, dashboard.tokens, failures=FailedLogins(per_address=100))
    client, seen = client_at(app, ATTACKER), {}
    for what, token in wrong_tokens(dashboard.token).items():
        scrypt_calls.clear()
        if path == "bearer":
            response = client.get("/api/releases", headers=bearer(token))
            answer: object = (response.status_code, response.json())
        else:
            response = log_in(client, token, {"Origin": OWN_ORIGIN})
            answer = (response.status_code, response.headers["location"], "set-cookie" in response.headers)
        seen[what] = (answer, list(scrypt_calls))
    return seen


@pytest.mark.parametrize("path", ["bearer", "login"])
def test_a_wrong_token_costs_one_scrypt_and_gets_one_answer_whatever_is_wrong(dashboard, scrypt_calls, path):
    seen = answers_and_work(dashboard, scrypt_calls, path)
    refusal = (401, {"detail": NO_TOKEN}) if path == "bearer" else (303, "/login?failed=true&next=%2F", False)
    assert seen == dict.fromkeys(seen, (refusal, [(16, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)]))


@pytest.mark.parametrize("path", ["bearer", "login"])
def test_without_the_stand_in_check_the_work_tells_an_unknown_id(dashboard, scrypt_calls, monkeypatch, path):
    """The control: without the stand-in scrypt, a known id costs a scrypt that an unknown one does not."""
    monkeypatch.setattr(tokens, "_check_stand_in", lambda secret: None)
    seen = answers_and_work(dashboard, scrypt_calls, path)
    assert len(seen["known id, wrong secret"][1]) == 1 and seen["unknown id"][1] == seen["other prefix"][1] == []
