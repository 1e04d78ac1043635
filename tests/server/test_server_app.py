"""The ServerApp's wiring: every run-config key it reads is declared; a release is stored before it is sent."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from flwr.app import Context, RecordDict
from google.protobuf import json_format

from client.client_app import build_client_app
from server.server_app import RUN_CONFIG_KEYS, ReleaseRun, build_server_app
from server.spec import power_curve_spec
from simulations.loopback import LoopbackGrid

REPO_ROOT = Path(__file__).resolve().parents[2]


class RecordingConfig(Mapping[str, object]):
    """A run config that remembers which keys were read."""

    def __init__(self, values: dict[str, object]) -> None:
        self.values, self.read = values, set()

    def __getitem__(self, key: str) -> object:
        self.read.add(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def test_every_key_the_server_app_reads_is_declared_with_a_default(tmp_path):
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["flwr"]["app"]["config"]
    spec = power_curve_spec("q1", "2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z", ["E-82/2300"])
    (tmp_path / "spec.json").write_text(json_format.MessageToJson(spec))
    config = RecordingConfig({**declared, "spec": str(tmp_path / "spec.json")})
    run = ReleaseRun.from_run_config(config)
    assert config.read == set(RUN_CONFIG_KEYS) and set(RUN_CONFIG_KEYS) <= set(declared)
    assert run.spec == spec and run.min_sites == declared["min-sites"] and run.indicators is True
    assert run.release_json == Path(declared["release-json"])


def test_a_release_the_store_cannot_take_reaches_no_site(small_fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The store fails after both rounds (a full disk, say): no site holds a release the store lacks."""
    fleet = small_fleet(3)

    def full_disk(release, store, json_path=None):
        raise OSError("No space left on device")

    monkeypatch.setattr("server.server_app.store_release", full_disk)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 3)
    app = build_server_app(ReleaseRun(fleet.spec, tmp_path / "release.sqlite", 3, indicators=False))
    context = Context(run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config={})
    with pytest.raises(OSError, match="No space left"):
        app(grid, context)
    assert not any((site.parent / "releases").exists() for site in fleet.site_configs)

    # Control: with the store working, every site receives the release.
    monkeypatch.undo()
    for site in fleet.site_configs:
        (site.parent / "audit.log").unlink()
    build_server_app(ReleaseRun(fleet.spec, tmp_path / "release.sqlite", 3, indicators=False))(
        LoopbackGrid(build_client_app(fleet.site_configs), 3), context
    )
    assert all(list((site.parent / "releases").glob("*.json")) for site in fleet.site_configs)
