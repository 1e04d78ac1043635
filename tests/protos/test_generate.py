"""The committed generated modules match the .proto sources."""

from __future__ import annotations

from pathlib import Path

from protos.generate import PROTO_DIR, REPO_ROOT, generate


def test_generated_modules_are_up_to_date(tmp_path: Path):
    fresh = generate(tmp_path)
    assert {p.name for p in fresh} == {"spec_pb2.py", "spec_pb2.pyi", "release_pb2.py", "release_pb2.pyi"}
    for path in fresh:
        committed = REPO_ROOT / PROTO_DIR / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale: run `make protos`"
