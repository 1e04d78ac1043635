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
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import plotly.offline
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.figures import RENDER_SCRIPT
from server.dashboard import api, pages
from server.dashboard.releases import ReleaseStore
from server.dashboard.tokens import MemberTokens

SESSION_COOKIE = "fleetbench_session"
SESSION_SECONDS = 12 * 3600
STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
PUBLIC_PATHS = frozenset({"/login", "/static/style.css"})
NO_TOKEN = "a valid member token is required: send `Authorization: Bearer <token>` or log in at /login"
CROSS_SITE = "a login must be sent from this dashboard's own login page: open /login here and log in there"
DEFAULT_PORTS = {"http": 80, "https": 443}
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


def _refused(request: Request, reason: str) -> Response:
    path = request.url.path
    if path.startswith("/api/") or path == "/openapi.json":
        return JSONResponse({"detail": reason}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    target = path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def create_app(store: Path, tokens: Path) -> FastAPI:
    """The dashboard over the release store ``store``, for the members whose tokens ``tokens`` holds.

    Parameters
    ----------
    store : Path
        The release store (SQLite), opened read-only.
    tokens : Path
        The tokens file (``fleetbench dashboard token``); re-read when it changes.
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
    app.state.releases = api.Releases(ReleaseStore(store))
    app.state.members = MemberTokens(tokens)
    app.state.sessions = Sessions()
    app.state.templates = Jinja2Templates(directory=TEMPLATES)
    plotly_js = plotly.offline.get_plotlyjs()

    @app.middleware("http")
    async def admit_members_only(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path not in PUBLIC_PATHS:
            member = await _member(request)
            if member is None:
                return _with_headers(_refused(request, NO_TOKEN))
            request.state.member = member
        return _with_headers(await call_next(request))

    async def _member(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            stored = await run_in_threadpool(app.state.members.verify, header[7:])
            return stored.name if stored is not None else None
        session = app.state.sessions.find(request.cookies.get(SESSION_COOKIE, ""))
        # A revoked token ends its sessions too.
        if session is None or not app.state.members.holds(session.token_id):
            return None
        return session.member

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/", failed: bool = False) -> Response:
        return app.state.templates.TemplateResponse(
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
        stored = await run_in_threadpool(app.state.members.verify, token) if token else None
        if stored is None:
            return RedirectResponse(f"/login?failed=true&next={quote(target, safe='')}", status_code=303)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            app.state.sessions.open(stored.name, stored.id),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        app.state.sessions.close(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_script() -> Response:
        return Response(plotly_js, media_type="text/javascript", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/static/charts.js", include_in_schema=False)
    def charts_script() -> Response:
        return Response(RENDER_SCRIPT, media_type="text/javascript")

    @app.get("/static/style.css", include_in_schema=False)
    def style_sheet() -> Response:
        return Response((STATIC / "style.css").read_text(encoding="utf-8"), media_type="text/css")

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return app.state.templates.TemplateResponse(
            request, "error.html", {"status": exc.status_code, "detail": exc.detail}, status_code=exc.status_code
        )

    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def _with_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response
