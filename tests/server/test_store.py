"""The release store: immutable, one release per period, spec and method; atomic JSON export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from common.release_json import export_json
from protos.codec import spec_sha256
from protos.fleetbench.v1 import release_pb2
from server.spec import power_curve_spec
from server.store import ReleaseExistsError, check_claimable, read_release, write_release


def _release(spec_hash: str = "ab" * 32) -> release_pb2.Release:
    release = release_pb2.Release(contract="fleetbench/v1", spec_id="s", k_min_operators=3)
    release.period.start, release.period.end = "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"
    release.provenance.spec_sha256, release.provenance.participants, release.provenance.method = spec_hash, 4, "secagg+"
    release.curves.add(cohort="c", suppressed=True, suppression_reason="fewer than 3 operators in the cohort")
    return release


def test_write_and_read_back(tmp_path: Path):
    store = tmp_path / "r.sqlite"
    first = write_release(store, _release())
    second = write_release(store, _release("cd" * 32))
    assert (first, second) == (1, 2)
    assert read_release(store, 1) == _release()
    assert read_release(store).provenance.spec_sha256 == "cd" * 32


def test_releases_cannot_be_replaced_changed_or_deleted(tmp_path: Path):
    store = tmp_path / "r.sqlite"
    write_release(store, _release())
    with pytest.raises(ReleaseExistsError, match="immutable"):
        write_release(store, _release())
    connection = sqlite3.connect(store)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        connection.execute("UPDATE releases SET participants = 99")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        connection.execute("DELETE FROM releases")
    assert read_release(store).provenance.participants == 4


def test_an_existing_release_is_refused_before_any_round(tmp_path: Path):
    store = tmp_path / "r.sqlite"
    spec = power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["A"])
    check_claimable(store, spec, "secagg+")  # no store yet
    write_release(store, _release(spec_sha256(spec)))
    with pytest.raises(ReleaseExistsError, match="immutable"):
        check_claimable(store, spec, "secagg+")
    check_claimable(store, spec, "pooled")
    spec.k_min_operators = 5  # another spec
    check_claimable(store, spec, "secagg+")


def test_reading_a_missing_store_says_what_to_run(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="fleetbench simulate"):
        read_release(tmp_path / "none.sqlite")


def test_json_export_replaces_atomically_and_leaves_no_temporary_files(tmp_path: Path):
    path = tmp_path / "release.json"
    path.write_text("old")
    export_json(_release(), path)
    data = json.loads(path.read_text())
    assert data["curves"][0]["suppressed"] is True and data["provenance"]["participants"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["release.json"]
