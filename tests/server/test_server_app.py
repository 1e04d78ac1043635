"""The ServerApp's wiring: every run-config key it reads is declared in pyproject.toml."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

from google.protobuf import json_format

from server.server_app import RUN_CONFIG_KEYS, ReleaseRun
from server.spec import power_curve_spec

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
