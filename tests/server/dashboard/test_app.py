"""The dashboard's gate against attacks on its login: cross-site logins (login CSRF).

Each defence is tested with the attack, and with a control that switches the defence off (a
monkeypatch of this test only) and shows the same attack then succeeding, so the test can fail.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from server.dashboard import app as dashboard_app
from server.dashboard.app import SESSION_COOKIE

OWN_ORIGIN = "http://testserver"  # TestClient's base URL: the dashboard's own scheme://host


@pytest.fixture
def client(dashboard) -> TestClient:
    return TestClient(dashboard.app, follow_redirects=False)


def log_in(client: TestClient, token: str, headers: dict[str, str]) -> object:
    return client.post("/login", data={"token": token, "next": "/"}, headers=headers)


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
