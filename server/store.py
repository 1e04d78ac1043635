"""The release store: an embedded SQLite database of immutable releases, with JSON export."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from protos.codec import spec_sha256
from protos.fleetbench.v1 import release_pb2, spec_pb2

SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    release_id INTEGER PRIMARY KEY,
    spec_id TEXT NOT NULL,
    spec_sha256 TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    participants INTEGER NOT NULL,
    suppressed_cells INTEGER NOT NULL,
    flower_run_id TEXT NOT NULL,
    method TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    release BLOB NOT NULL,
    UNIQUE (period_start, period_end, spec_sha256, method)
);
CREATE TRIGGER IF NOT EXISTS releases_are_immutable BEFORE UPDATE ON releases
BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END;
CREATE TRIGGER IF NOT EXISTS releases_are_kept BEFORE DELETE ON releases
BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END;
"""


class ReleaseExistsError(RuntimeError):
    """A release for this period, spec and method is already in the store."""


def _connect(store: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(store)
    connection.executescript(SCHEMA)
    return connection


def _exists_message(store: Path, method: str, spec_id: str, start: str, end: str) -> str:
    return (
        f"{store} already holds a {method} release of spec {spec_id} for {start} .. {end}; "
        "releases are immutable, use a new period or store"
    )


def check_release_absent(store: Path, spec: spec_pb2.BenchmarkSpec, method: str) -> None:
    """Refuse early, before any round runs, when the store already holds this release.

    Raises
    ------
    ReleaseExistsError
        If a release for the same period, spec hash and method is stored.
    """
    if not Path(store).is_file():
        return
    start, end = spec.period.start, spec.period.end
    with _connect(store) as connection:
        row = connection.execute(
            "SELECT 1 FROM releases WHERE period_start = ? AND period_end = ? AND spec_sha256 = ? AND method = ?",
            (start, end, spec_sha256(spec), method),
        ).fetchone()
    if row is not None:
        raise ReleaseExistsError(_exists_message(store, method, spec.spec_id, start, end))


def write_release(store: Path, release: release_pb2.Release) -> int:
    """Insert ``release`` in one transaction; return its release_id.

    Raises
    ------
    ReleaseExistsError
        If the store already holds a release for the same period, spec hash and method.
    """
    provenance = release.provenance
    try:
        with _connect(store) as connection:
            cursor = connection.execute(
                "INSERT INTO releases (spec_id, spec_sha256, period_start, period_end, participants,"
                " suppressed_cells, flower_run_id, method, created_utc, release)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    release.spec_id,
                    provenance.spec_sha256,
                    release.period.start,
                    release.period.end,
                    provenance.participants,
                    provenance.suppressed_cells,
                    provenance.flower_run_id,
                    provenance.method,
                    provenance.created_utc,
                    release.SerializeToString(deterministic=True),
                ),
            )
            return int(cursor.lastrowid or 0)
    except sqlite3.IntegrityError:
        raise ReleaseExistsError(
            _exists_message(store, provenance.method, release.spec_id, release.period.start, release.period.end)
        ) from None


def read_release(store: Path, release_id: int | None = None) -> release_pb2.Release:
    """The release ``release_id``, or the latest one when None."""
    if not Path(store).is_file():
        raise FileNotFoundError(f"{store}: no release store here; run `fleetbench simulate --out DIR` first")
    with _connect(store) as connection:
        if release_id is None:
            row = connection.execute("SELECT release FROM releases ORDER BY release_id DESC LIMIT 1").fetchone()
        else:
            row = connection.execute("SELECT release FROM releases WHERE release_id = ?", (release_id,)).fetchone()
    if row is None:
        raise LookupError(f"{store}: no release {'at all' if release_id is None else release_id}")
    return release_pb2.Release.FromString(row[0])
