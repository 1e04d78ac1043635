"""The release store as the dashboard sees it: a read-only SQLite connection, releases parsed once.

Releases are immutable (the store's triggers refuse updates and deletes), so a parsed release is
kept for good; the list is read afresh on every call, so a new release shows without a restart.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from protos.fleetbench.v1 import release_pb2


class StoreError(ValueError):
    """The path given as the release store is not one; the message says what to run instead."""


class UnknownReleaseError(LookupError):
    """No release with this id in the store."""


class StoredRelease(BaseModel):
    """One row of the store's ``releases`` table, without the release itself (also the API's release summary)."""

    model_config = ConfigDict(frozen=True)

    release_id: int
    spec_id: str
    period_start: str
    period_end: str
    participants: int
    suppressed_cells: int
    method: str
    created_utc: str


class ReleaseStore:
    """Read-only access to a release store (``server/store.py``'s SQLite file)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(f"{self.path}: no release store here; run `fleetbench simulate --out DIR` first")
        try:
            with self._connect() as connection:
                connection.execute("SELECT release_id FROM releases LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a FleetBench release store ({exc})") from None
        self._release = lru_cache(maxsize=64)(self._read)

    def _connect(self) -> sqlite3.Connection:
        # mode=ro: the dashboard can never write the store, whatever a request asks.
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)

    def releases(self) -> list[StoredRelease]:
        """Every release, oldest period first."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT release_id, spec_id, period_start, period_end, participants, suppressed_cells, method,"
                " created_utc FROM releases ORDER BY period_start, period_end, release_id"
            ).fetchall()
        return [StoredRelease(**dict(zip(StoredRelease.model_fields, row, strict=True))) for row in rows]

    def release(self, release_id: int) -> release_pb2.Release:
        """Release ``release_id``.

        Raises
        ------
        UnknownReleaseError
            If the store holds no such release.
        """
        return self._release(release_id)

    def _read(self, release_id: int) -> release_pb2.Release:
        with self._connect() as connection:
            row = connection.execute("SELECT release FROM releases WHERE release_id = ?", (release_id,)).fetchone()
        if row is None:
            known = [r.release_id for r in self.releases()]
            raise UnknownReleaseError(f"no release {release_id} in the store; releases: {known}")
        return release_pb2.Release.FromString(row[0])
