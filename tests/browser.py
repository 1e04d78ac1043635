"""Headless Chromium (Debian's package, driven by Playwright) with every non-loopback request blocked.

The browser tests use Debian's ``/usr/bin/chromium`` (``make test`` installs it); Playwright never
downloads a browser here. Every request the page makes is routed through :class:`OfflineBrowser`,
which lets file://, data: and loopback requests through and aborts and records any other, so a
test can assert that a page needed no network.

The pictures in README.md and docs/ are these tests' own screenshots: with ``FLEETBENCH_SCREENSHOTS``
naming a folder (``make screenshots`` sets it to docs/images), :func:`docs_screenshot` also writes
each of :data:`DOC_SCREENSHOTS` there, so a picture in the docs is always the page as it is tested.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import BrowserContext, Locator, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = frozenset({"file", "data", "blob", "about"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SCREENSHOTS_ENV = "FLEETBENCH_SCREENSHOTS"
DOC_SCREENSHOTS = frozenset(
    {
        "dashboard-cohort.png",  # tests/server/dashboard/test_browser.py
        "dashboard-power-curve.png",
        "dashboard-trends.png",
        "dashboard-releases.png",
        "report.png",  # tests/client/test_report.py
        "report-turbine-curve.png",
        "dashboard-solar-cohort.png",  # tests/server/dashboard/test_browser.py
        "report-solar-curve.png",  # tests/client/test_solar_report.py
    }
)
"""The screenshots the docs may show: the names the browser tests pass to :func:`docs_screenshot`."""


def is_local(url: str) -> bool:
    """Whether ``url`` stays on this machine (a file, inline data or a loopback address)."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK_HOSTS


class OfflineBrowser:
    """A browser context whose non-local requests are aborted; ``blocked`` lists them, ``requested`` all."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.blocked: list[str] = []
        self.requested: list[str] = []
        context.on("request", lambda request: self.requested.append(request.url))
        context.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def assert_offline(self) -> None:
        """Fail if the pages asked for anything beyond this machine."""
        assert self.blocked == [], f"the page tried to reach the network: {self.blocked}"
        assert self.requested, "no request was seen at all: the routing did not observe the page"
        assert all(is_local(url) for url in self.requested), self.requested


@contextmanager
def offline_browser(**context_options: object) -> Iterator[OfflineBrowser]:
    """Headless Chromium with a fresh context; fails (never skips) when Chromium is not installed."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium package "
            "(`make test` installs it; or `sudo apt-get install chromium`)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
            yield OfflineBrowser(context)
        finally:
            browser.close()


def docs_screenshot(target: Page | Locator, name: str) -> None:
    """Also save ``target`` as the docs' picture ``name`` when ``FLEETBENCH_SCREENSHOTS`` names a folder.

    A page is shot as its viewport (1280 x 900), never its full length, to keep the committed PNGs small.
    """
    assert name in DOC_SCREENSHOTS, f"{name} is not in DOC_SCREENSHOTS: add it there first"
    folder = os.environ.get(SCREENSHOTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(Path(folder) / name))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yield its base URL; stop it on exit."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
