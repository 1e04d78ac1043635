"""The dashboard application: a gate that admits members only, the pages, the API and local static files.

Without a valid member token only the login page and its style sheet answer: pages redirect to
/login, the API and the OpenAPI schema answer 401. A member logs in once with the token (a form
post); the browser then holds a random session id (HttpOnly, SameSite=Strict cookie), never the
token. Scripts and API clients send ``Authorization: Bearer <token>`` instead. Every script the
pages load is served by the app itself (Plotly from the installed package), so it works offline.

A login is accepted only from the dashboard's own pages: its Origin header (or, without one, its
Referer) must be the request's own scheme://host:port, else 403 and no cookie (a page on another
site could otherwise log the browser in to the attacker's session). Behind a TLS proxy, the proxy
must pass the Host header on and set X-Forwarded-Proto (uvicorn trusts it from 127.0.0.1).

Failed token checks (login form and Bearer header alike) are limited, in memory: after
FAILURES_PER_ADDRESS failures from one client address (an IPv6 address counts as its /64) within
FAILURE_WINDOW_SECONDS, or FAILURES_OVERALL from all addresses together, a token is refused unchecked
with 429 and Retry-After until the oldest of those failures is a window old. Replies never say which
part of a token was wrong.
"""

from __future__ import annotations

import functools
import gzip
import ipaddress
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import plotly.offline
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from common.figures import RENDER_SCRIPT, accessible_name
from common.labels import counted, indicator_label
from server.dashboard import api, downloads, pages
from server.dashboard.releases import ReleaseStore
from server.dashboard.tokens import MemberTokens, StoredToken

SESSION_COOKIE = "fleetbench_session"
SESSION_SECONDS = 12 * 3600
STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
PUBLIC_PATHS = frozenset({"/login", "/static/style.css"})
NO_TOKEN = "a valid member token is required: send `Authorization: Bearer <token>` or log in at /login"
CROSS_SITE = "a login must be sent from this dashboard's own login page: open /login here and log in there"
DEFAULT_PORTS = {"http": 80, "https": 443}
FAILURE_WINDOW_SECONDS = 60.0
FAILURES_PER_ADDRESS = 5  # per window; a member mistyping a token a few times is not held up
FAILURES_OVERALL = 100  # per window, all addresses together: also bounds the scrypt work spent on failures
SECURITY_HEADERS = {
    # Scripts, styles, data and forms from this origin only: a page cannot reach any other host.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    # No Referer to other hosts. Not "no-referrer": under it a browser sends `Origin: null` even with a
    # same-origin form post, and the login could not tell its own page from a cross-site one.
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class Session:
    """A logged-in browser: which member, through which token, until when."""

    member: str
    token_id: str
    expires: float  # time.monotonic() deadline


class Sessions:
    """Session ids kept in this process's memory only: a restart logs everyone out, nothing is written."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def open(self, member: str, token_id: str) -> str:
        """A new session id for ``member``."""
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = Session(member, token_id, time.monotonic() + SESSION_SECONDS)
        return session_id

    def find(self, session_id: str) -> Session | None:
        """The live session of ``session_id``, or None (unknown or expired)."""
        session = self._sessions.get(session_id)
        if session is not None and session.expires < time.monotonic():
            del self._sessions[session_id]
            return None
        return session

    def close(self, session_id: str) -> None:
        """End ``session_id`` (logout)."""
        self._sessions.pop(session_id, None)


class TooManyFailures(Exception):
    """A token refused unchecked: too many failed token checks in the last window."""

    def __init__(self, retry_after: int, from_address: bool) -> None:
        self.retry_after = retry_after  # [s]
        where = "from this address" if from_address else "in the last minute"
        super().__init__(f"too many failed token checks {where}: try again in {retry_after} s")


@dataclass(frozen=True)
class Attempt:
    """A token check under way, counted as failed until it succeeds."""

    key: str
    stamp: float


class FailedLogins:
    """Failed token checks of the last ``window`` seconds, per client address and overall, kept in memory.

    A check is counted as failed from the moment it starts until it succeeds, so parallel guesses
    cannot overshoot the limits while their scrypt runs. Every failure time kept for an address is
    also in the overall record, and expired ones are dropped on each call: memory holds at most
    ``overall`` times and ``overall`` addresses, however many addresses try.

    Parameters
    ----------
    per_address : int
        Failures one client address may have within the window.
    overall : int
        Failures all addresses together may have within the window.
    window : float
        Length of the window [s].
    clock : Callable[[], float]
        Time [s] on a clock that never goes back (``time.monotonic``; tests pass their own).
    """

    def __init__(
        self,
        per_address: int = FAILURES_PER_ADDRESS,
        overall: int = FAILURES_OVERALL,
        window: float = FAILURE_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_address, self.overall, self.window, self.clock = per_address, overall, window, clock
        self._overall: deque[float] = deque()
        self._by_address: dict[str, deque[float]] = {}

    def begin(self, address: str) -> Attempt:
        """Start checking a token from client ``address``, counted as failed until :meth:`succeeded`.

        Raises
        ------
        TooManyFailures
            If ``address``, or all addresses together, already have as many failures as allowed.
        """
        now = self.clock()
        self._drop_expired(now)
        key = _address_key(address)
        mine = self._by_address.get(key, deque())
        waits = []
        if len(mine) >= self.per_address:
            waits.append((self._retry_after(mine, now), True))
        if len(self._overall) >= self.overall:
            waits.append((self._retry_after(self._overall, now), False))
        if waits:
            raise TooManyFailures(*max(waits))
        self._by_address[key] = mine
        mine.append(now)
        self._overall.append(now)
        return Attempt(key, now)

    def succeeded(self, attempt: Attempt) -> None:
        """Uncount ``attempt``: its token was right."""
        mine = self._by_address.get(attempt.key, deque())
        for stamps in (mine, self._overall):
            if attempt.stamp in stamps:
                stamps.remove(attempt.stamp)
        if not mine:
            self._by_address.pop(attempt.key, None)

    def held(self) -> tuple[int, int]:
        """What memory holds now: (failure times, addresses)."""
        self._drop_expired(self.clock())
        return len(self._overall), len(self._by_address)

    def _retry_after(self, stamps: deque[float], now: float) -> int:
        """Seconds until the oldest of ``stamps`` leaves the window (at least 1) [s]."""
        return max(1, math.ceil(stamps[0] + self.window - now))

    def _drop_expired(self, now: float) -> None:
        horizon = now - self.window
        while self._overall and self._overall[0] <= horizon:
            self._overall.popleft()
        for key in list(self._by_address):
            stamps = self._by_address[key]
            while stamps and stamps[0] <= horizon:
                stamps.popleft()
            if not stamps:
                del self._by_address[key]


def _address_key(address: str) -> str:
    """Whose failures a client address counts towards: the address itself, or its /64 for IPv6.

    One IPv6 host commonly holds a whole /64, and could otherwise try from a fresh address each time.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _safe_next(target: str) -> str:
    """A local path to return to after login; anything else (another host, a scheme) becomes /."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL or origin; None for anything else (``null``, a relative URL)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port out of range or not a number
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def _from_own_origin(request: Request) -> bool:
    """Whether ``request`` was sent by a page of this dashboard.

    It was if its Origin header (without one, its Referer) is the dashboard's own scheme://host:port;
    not if it has neither header, or ``Origin: null``. Browsers send Origin with every form post.
    """
    sender = request.headers.get("origin") or request.headers.get("referer")
    own = _origin(f"{request.url.scheme}://{request.url.netloc}")
    return sender is not None and own is not None and _origin(sender) == own


def _is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/openapi.json"


def _refused(request: Request, reason: str) -> Response:
    path = request.url.path
    if _is_api(path):
        return JSONResponse({"detail": reason}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    target = path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


STATIC_HEADERS = {"Cache-Control": "private, max-age=86400", "Vary": "Accept-Encoding"}
"""Static assets change only with the installed package: a member's browser keeps them a day."""


@functools.cache
def _gzipped(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def create_app(store: Path, tokens: Path, *, failures: FailedLogins | None = None) -> FastAPI:
    """The dashboard over the release store ``store``, for the members whose tokens ``tokens`` holds.

    Parameters
    ----------
    store : Path
        The release store (SQLite), opened read-only.
    tokens : Path
        The tokens file (``fleetbench dashboard token``); re-read when it changes.
    failures : FailedLogins, optional
        The limit on failed token checks; by default ``FailedLogins()`` on the monotonic clock.
    """
    app = FastAPI(
        title="FleetBench dashboard",
        summary="Industry benchmarks of the consortium's releases (read-only), for members with a token.",
        # Swagger UI and ReDoc load their code from a CDN: off. The schema is at /openapi.json
        # (with a token) and rendered by the app itself at /api-docs.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    # Pages and API answers gzipped when over 1 kB (a cohort page's figures are JSON); plotly.min.js comes
    # compressed already, and the middleware leaves an encoded response alone.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.state.releases = api.Releases(ReleaseStore(store))
    # Typed here for the closures below; app.state carries them to the routers and to tests.
    members, sessions, templates = MemberTokens(tokens), Sessions(), Jinja2Templates(directory=TEMPLATES)
    templates.env.globals["label"] = indicator_label
    templates.env.filters["accessible_name"] = accessible_name
    templates.env.filters["counted"] = counted
    failures = failures if failures is not None else FailedLogins()
    app.state.members, app.state.sessions, app.state.templates = members, sessions, templates
    app.state.failures = failures
    plotly_js = plotly.offline.get_plotlyjs()

    def _error(request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
        """An error as JSON for the API, as a page otherwise."""
        if _is_api(request.url.path):
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "detail": detail}, status_code=status, headers=headers
        )

    @app.middleware("http")
    async def admit_members_only(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path not in PUBLIC_PATHS:
            try:
                member = await _member(request)
            except TooManyFailures as exc:
                return _with_headers(_error(request, 429, str(exc), {"Retry-After": str(exc.retry_after)}))
            if member is None:
                return _with_headers(_refused(request, NO_TOKEN))
            request.state.member = member
        return _with_headers(await call_next(request))

    async def _check(request: Request, token: str) -> StoredToken | None:
        """The entry ``token`` matches, or None; raises TooManyFailures (token unchecked) past the limits."""
        attempt = failures.begin(request.client.host if request.client else "")
        stored = await run_in_threadpool(members.verify, token)
        if stored is not None:
            failures.succeeded(attempt)
        return stored

    async def _member(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            stored = await _check(request, header[7:])
            return stored.name if stored is not None else None
        session = sessions.find(request.cookies.get(SESSION_COOKIE, ""))
        # A revoked token ends its sessions too.
        if session is None or not members.holds(session.token_id):
            return None
        return session.member

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/", failed: bool = False) -> Response:
        return templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(next), "failed": failed}, status_code=401 if failed else 200
        )

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        if not _from_own_origin(request):  # a cross-site page logging the browser in to the sender's session
            raise StarletteHTTPException(403, CROSS_SITE)
        # A urlencoded form of two fields, parsed here rather than pulling in python-multipart.
        form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
        token = form.get("token", [""])[0]
        target = _safe_next(form.get("next", ["/"])[0])
        try:
            stored = await _check(request, token)
        except TooManyFailures as exc:
            raise StarletteHTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
        if stored is None:
            return RedirectResponse(f"/login?failed=true&next={quote(target, safe='')}", status_code=303)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            sessions.open(stored.name, stored.id),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        sessions.close(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_script(request: Request) -> Response:
        # 4.8 MB, 1.4 MB gzipped: compressed once per process, not per request.
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers = {**STATIC_HEADERS, "Content-Encoding": "gzip"}
            return Response(_gzipped(plotly_js), media_type="text/javascript", headers=headers)
        return Response(plotly_js, media_type="text/javascript", headers=STATIC_HEADERS)

    @app.get("/static/charts.js", include_in_schema=False)
    def charts_script() -> Response:
        return Response(RENDER_SCRIPT, media_type="text/javascript", headers=STATIC_HEADERS)

    @app.get("/static/style.css", include_in_schema=False)
    def style_sheet() -> Response:
        return Response(
            (STATIC / "style.css").read_text(encoding="utf-8"), media_type="text/css", headers=STATIC_HEADERS
        )

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, exc.detail, exc.headers)

    app.include_router(api.router)
    app.include_router(downloads.router)
    app.include_router(pages.router)
    return app


def _with_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response
