"""The dashboard over a store of two releases, with one member token."""

from __future__ import annotations

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
