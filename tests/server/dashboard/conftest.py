"""The dashboard over a store of two releases, with one member token; a count of scrypt evaluations."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from dashboard_releases import FleetReleases, two_releases
from fastapi import FastAPI

from server.dashboard.app import create_app
from server.dashboard.tokens import create_token


@dataclass(frozen=True)
class Dashboard:
    """An app over the two-release store, its tokens file and a member's token."""

    made: FleetReleases
    tokens: Path
    token: str
    app: FastAPI


@pytest.fixture
def dashboard(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Dashboard:
    made = two_releases(tmp_path_factory)
    tokens = tmp_path / "dashboard-tokens.json"
    token = create_token(tokens, "north-wind")
    return Dashboard(made, tokens, token, create_app(made.store, tokens))


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Every scrypt evaluation made from here on, as (salt length, n, r, p, dklen)."""
    calls: list[tuple[int, ...]] = []
    real = hashlib.scrypt

    def counted(password: bytes, *, salt: bytes, n: int, r: int, p: int, maxmem: int = 0, dklen: int = 64) -> bytes:
        calls.append((len(salt), n, r, p, dklen))
        return real(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    return calls
