"""The release store: an embedded SQLite database of immutable releases and the claims of the runs making them.

A run claims its release before any round (:func:`claim_release`), and the final release replaces
the claim in one transaction (:func:`store_claimed_release`) before any site receives it; the
claim then says the release is stored but not yet sent to every site, until :func:`mark_sent`.
The store is in WAL mode, so a writer killed mid-commit leaves nothing a reader must undo: readers
(the dashboard, ``release show``) open it read-only and see the last committed state. Read paths
never write (not even the schema); writes fail with one line naming the file and the fix
(:class:`StoreError`).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from protos.codec import spec_sha256
from protos.fleetbench.v1 import release_pb2, spec_pb2

LOG = logging.getLogger("fleetbench.aggregator")

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
CREATE TABLE IF NOT EXISTS claims (
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    spec_sha256 TEXT NOT NULL,
    method TEXT NOT NULL,
    spec_id TEXT NOT NULL,
    flower_run_id TEXT NOT NULL,
    claimed_utc TEXT NOT NULL,
    release_id INTEGER REFERENCES releases (release_id),
    PRIMARY KEY (period_start, period_end, spec_sha256, method)
);
"""
"""``claims``: one row per release a run is making (``release_id`` NULL: pending) or has stored but
not yet sent to every site (``release_id`` set); the row goes once every site was sent the release."""

_CLAIM_COLUMNS = "spec_id, spec_sha256, period_start, period_end, method, flower_run_id, claimed_utc, release_id"
_KEY = "period_start = ? AND period_end = ? AND spec_sha256 = ? AND method = ?"

_LOCK_TIMEOUT = 10.0
"""Seconds a writer waits for another's transaction (a claim or a release takes well under one)."""


class StoreError(RuntimeError):
    """The release store cannot be opened, read or written; the message names the file and the fix."""


class ReleaseExistsError(RuntimeError):
    """A release for this period, spec and method is already in the store."""


class ReleaseClaimedError(RuntimeError):
    """Another run has claimed this release and not stored it (it is under way, or stopped)."""


@dataclass(frozen=True)
class Claim:
    """A run's claim on a release: pending until its release is stored, then until every site was sent it."""

    spec_id: str
    spec_sha256: str
    period_start: str
    period_end: str
    method: str
    flower_run_id: str
    claimed_utc: str
    release_id: int | None  # None: pending (rounds under way, or the run stopped before storing)

    @property
    def pending(self) -> bool:
        """Whether no release is stored under this claim yet."""
        return self.release_id is None


def _key(spec: spec_pb2.BenchmarkSpec, method: str) -> tuple[str, str, str, str]:
    return spec.period.start, spec.period.end, spec_sha256(spec), method


def _write_failure(store: Path, exc: sqlite3.Error) -> str:
    """One line: what went wrong writing ``store``, and what to do about it."""
    text = str(exc)
    folder = store.resolve().parent
    if "full" in text:
        return f"{store}: the disk is full ({text}); free space on it or choose another store"
    if not folder.is_dir():
        return f"{store}: folder {folder} does not exist; create it or choose another store"
    if "readonly" in text or "unable to open" in text:
        return (
            f"{store}: cannot write the release store ({text}); make it and {folder} writable, or choose another store"
        )
    if "locked" in text or "busy" in text:
        return f"{store}: another writer holds the release store ({text}); try again once it is done"
    if "not a database" in text or "malformed" in text:
        return f"{store} is not a FleetBench release store ({text}); choose another store"
    return f"{store}: the release store cannot be written ({text})"


@contextmanager
def _writing(store: Path) -> Iterator[sqlite3.Connection]:
    """A read-write connection (autocommit: transactions are explicit), in WAL mode with the schema; closed after.

    Raises
    ------
    StoreError
        On any SQLite error (full or read-only disk, a lock held too long), or if the file is another
        program's database (its tables are not FleetBench's: nothing is added to it).
    """
    store = Path(store)
    created = not store.exists()
    try:
        connection = sqlite3.connect(store, timeout=_LOCK_TIMEOUT, isolation_level=None)
        try:
            tables = _tables(connection)
            if tables and "releases" not in tables:  # another program's database: left as it is
                raise StoreError(f"{store} is not a FleetBench release store (no releases table); choose another store")
            # Persistent in the file: readers then never meet a rollback journal a killed writer left.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
            yield connection
        finally:
            connection.close()
    except sqlite3.Error as exc:
        if created:
            _remove_if_empty(store)  # a store this call could not even initialise (a full disk) is not left behind
        raise StoreError(_write_failure(store, exc)) from None


def _remove_if_empty(store: Path) -> None:
    """Remove ``store`` and its WAL files if the database holds no table at all (nothing anyone wrote is lost)."""
    try:
        connection = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
        try:
            empty = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        finally:
            connection.close()
    except sqlite3.Error:
        return
    if empty:
        for path in (store, Path(f"{store}-wal"), Path(f"{store}-shm")):
            path.unlink(missing_ok=True)


@contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """An exclusive write transaction: what it reads stays true until it commits (two runs cannot both claim)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if connection.in_transaction:  # SQLite may have rolled back already (a full disk)
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


@contextmanager
def _reading(store: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a FleetBench store; closed after. Never creates or changes anything in the file.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``store``.
    StoreError
        If the file is not a FleetBench release store, or cannot be read.
    """
    store = Path(store)
    if not store.is_file():
        raise FileNotFoundError(f"{store}: no release store here; run `fleetbench simulate --out DIR` first")
    try:
        connection = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True, timeout=_LOCK_TIMEOUT)
        try:
            if "releases" not in _tables(connection):
                raise StoreError(
                    f"{store} is not a FleetBench release store (no releases table); give the release.sqlite "
                    "that `fleetbench simulate` or `release run` wrote"
                )
            yield connection
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{store} cannot be read as a FleetBench release store ({exc})") from None


def _tables(connection: sqlite3.Connection) -> set[str]:
    return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _exists_message(store: Path, method: str, spec_id: str, start: str, end: str) -> str:
    return (
        f"{store} already holds a {method} release of spec {spec_id} for {start} .. {end}; "
        f"releases are immutable: use a new period or store (`fleetbench release show --store {store}` prints it)"
    )


def _claimed_message(store: Path, claim: Claim) -> str:
    return (
        f"{store}: the {claim.method} release of spec {claim.spec_id} for {claim.period_start} .. {claim.period_end} "
        f"is claimed by Flower run {claim.flower_run_id} since {claim.claimed_utc}: its rounds are under way, or it "
        "stopped before storing a release. No site was asked anything. Once that run is no longer running, clear "
        f"the claim with `fleetbench release abandon --store {store} --spec-sha256 {claim.spec_sha256}` and run again"
    )


def _claim(row: tuple[Any, ...]) -> Claim:
    """A row of ``claims`` (columns in the order of ``_CLAIM_COLUMNS``, Claim's fields) as a Claim."""
    return Claim(*row)


def _stored_release_id(connection: sqlite3.Connection, key: tuple[str, str, str, str]) -> int | None:
    row = connection.execute(f"SELECT release_id FROM releases WHERE {_KEY}", key).fetchone()
    return None if row is None else int(row[0])


def _claim_of(connection: sqlite3.Connection, key: tuple[str, str, str, str]) -> Claim | None:
    row = connection.execute(f"SELECT {_CLAIM_COLUMNS} FROM claims WHERE {_KEY}", key).fetchone()
    return None if row is None else _claim(row)


def check_claimable(store: Path, spec: spec_pb2.BenchmarkSpec, method: str) -> None:
    """Refuse early (read-only, before any engine starts) what :func:`claim_release` would refuse.

    Raises
    ------
    ReleaseClaimedError
        If another run's claim on this release is pending.
    ReleaseExistsError
        If the release is stored and was sent to every site.
    StoreError
        If ``store`` is a file but not a FleetBench release store.
    """
    if not Path(store).is_file():
        return
    key = _key(spec, method)
    with _reading(store) as connection:
        claim = _claim_of(connection, key) if "claims" in _tables(connection) else None
        stored = _stored_release_id(connection, key)
    if claim is not None and claim.pending:
        raise ReleaseClaimedError(_claimed_message(Path(store), claim))
    if stored is not None and claim is None:
        raise ReleaseExistsError(_exists_message(Path(store), method, spec.spec_id, spec.period.start, spec.period.end))


def stored_release_id(store: Path, spec: spec_pb2.BenchmarkSpec, method: str) -> int | None:
    """The release_id of the release of ``spec`` (its period, hash and ``method``) in ``store``; None if absent.

    Raises
    ------
    StoreError
        If ``store`` is a file but not a FleetBench release store.
    """
    if not Path(store).is_file():
        return None
    with _reading(store) as connection:
        return _stored_release_id(connection, _key(spec, method))


def claim_release(store: Path, spec: spec_pb2.BenchmarkSpec, method: str, flower_run_id: str) -> int | None:
    """Claim the release of ``spec`` for run ``flower_run_id`` before it asks any site anything.

    One exclusive transaction checks the store is writable, that no run claimed or stored this
    release, and records the claim (spec hash and id, period, method, when, run id).

    Returns
    -------
    int or None
        None: claimed, run the rounds. A release id: that release is stored but an earlier run did
        not finish sending it; run no round, send its stored bytes again (a site keeps the same).

    Raises
    ------
    ReleaseClaimedError
        If another run's claim on this release is pending.
    ReleaseExistsError
        If the release is stored and was sent to every site.
    StoreError
        If the store cannot be written.
    """
    key = _key(spec, method)
    with _writing(store) as connection, _transaction(connection):
        claim = _claim_of(connection, key)
        if claim is not None and claim.pending:
            raise ReleaseClaimedError(_claimed_message(Path(store), claim))
        if claim is not None:
            return claim.release_id
        if _stored_release_id(connection, key) is not None:
            raise ReleaseExistsError(_exists_message(Path(store), method, spec.spec_id, *key[:2]))
        connection.execute(
            f"INSERT INTO claims ({_CLAIM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (spec.spec_id, key[2], key[0], key[1], method, flower_run_id, _now()),
        )
    return None


def drop_claim(store: Path, spec: spec_pb2.BenchmarkSpec, method: str, flower_run_id: str) -> None:
    """Remove run ``flower_run_id``'s pending claim: the run failed before storing, so no site holds its release."""
    with _writing(store) as connection, _transaction(connection):
        connection.execute(
            f"DELETE FROM claims WHERE {_KEY} AND flower_run_id = ? AND release_id IS NULL",
            (*_key(spec, method), flower_run_id),
        )


@contextmanager
def claim_dropped_on_failure(
    store: Path, spec: spec_pb2.BenchmarkSpec, method: str, flower_run_id: str
) -> Iterator[None]:
    """Drop the run's pending claim if the body raises (a failure the run saw: nothing was sent).

    A run killed outright keeps its claim: only the operator knows it is gone (``release abandon``).
    """
    try:
        yield
    except Exception:
        try:
            drop_claim(store, spec, method, flower_run_id)
        except StoreError:
            LOG.exception("the claim of run %s stays in %s; `fleetbench release claims` lists it", flower_run_id, store)
        raise


def store_claimed_release(store: Path, release: release_pb2.Release) -> int:
    """Insert ``release`` in place of its run's pending claim, in one transaction; return its release_id.

    The claim stays, naming the release, until :func:`mark_sent`.

    Raises
    ------
    ReleaseClaimedError
        If the claim is no longer this run's (abandoned by the operator, or taken by another run).
    StoreError
        If the store cannot be written.
    """
    p = release.provenance
    key = (release.period.start, release.period.end, p.spec_sha256, p.method)
    with _writing(store) as connection, _transaction(connection):
        claim = _claim_of(connection, key)
        if claim is None or not claim.pending or claim.flower_run_id != p.flower_run_id:
            raise ReleaseClaimedError(
                f"{store}: run {p.flower_run_id} no longer holds the claim on spec {release.spec_id} "
                f"(`fleetbench release claims --store {store}` lists claims): nothing stored, nothing sent"
            )
        release_id = _insert(Path(store), connection, release)
        connection.execute(f"UPDATE claims SET release_id = ? WHERE {_KEY}", (release_id, *key))
    return release_id


def mark_sent(store: Path, release_id: int) -> None:
    """Every site was sent release ``release_id``: its claim goes (a rerun of its spec is then refused)."""
    with _writing(store) as connection, _transaction(connection):
        connection.execute("DELETE FROM claims WHERE release_id = ?", (release_id,))


def claims(store: Path) -> list[Claim]:
    """Every claim in the store, oldest first (read-only; none in a store older than claims)."""
    with _reading(store) as connection:
        if "claims" not in _tables(connection):
            return []
        rows = connection.execute(f"SELECT {_CLAIM_COLUMNS} FROM claims ORDER BY claimed_utc").fetchall()
    return [_claim(row) for row in rows]


def abandon_claim(store: Path, spec_sha256_hex: str) -> Claim:
    """Remove the pending claim on the spec with this hash (its run stopped before storing); return it.

    Raises
    ------
    LookupError
        If no claim of this spec is in the store.
    ReleaseExistsError
        If the claim's release is stored: rerun the release to send it, no round runs.
    """
    with _writing(store) as connection, _transaction(connection):
        rows = connection.execute(f"SELECT {_CLAIM_COLUMNS} FROM claims WHERE spec_sha256 = ?", (spec_sha256_hex,))
        found = [_claim(row) for row in rows.fetchall()]
        if not found:
            raise LookupError(
                f"{store}: no claim of spec {spec_sha256_hex}; `fleetbench release claims --store {store}` lists them"
            )
        claim = found[0]
        if not claim.pending:
            raise ReleaseExistsError(
                f"{store}: release {claim.release_id} of spec {claim.spec_id} is stored, not every site was sent it: "
                "run the release again to send its stored bytes (no round runs); its claim is not abandoned"
            )
        connection.execute(
            f"DELETE FROM claims WHERE {_KEY}", (claim.period_start, claim.period_end, claim.spec_sha256, claim.method)
        )
    return claim


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _insert(store: Path, connection: sqlite3.Connection, release: release_pb2.Release) -> int:
    provenance = release.provenance
    try:
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
    except sqlite3.IntegrityError:
        raise ReleaseExistsError(
            _exists_message(store, provenance.method, release.spec_id, release.period.start, release.period.end)
        ) from None
    return int(cursor.lastrowid or 0)


def write_release(store: Path, release: release_pb2.Release) -> int:
    """Insert ``release`` in one transaction, no claim asked (the pooled reference, tests); return its release_id.

    Raises
    ------
    ReleaseExistsError
        If the store already holds a release for the same period, spec hash and method.
    StoreError
        If the store cannot be written.
    """
    with _writing(store) as connection, _transaction(connection):
        return _insert(Path(store), connection, release)


def read_release(store: Path, release_id: int | None = None) -> release_pb2.Release:
    """The release ``release_id``, or the latest one when None (read-only).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``store``.
    StoreError
        If the file is not a FleetBench release store.
    LookupError
        If the store holds no such release.
    """
    with _reading(store) as connection:
        if release_id is None:
            row = connection.execute("SELECT release FROM releases ORDER BY release_id DESC LIMIT 1").fetchone()
        else:
            row = connection.execute("SELECT release FROM releases WHERE release_id = ?", (release_id,)).fetchone()
    if row is None:
        raise LookupError(f"{store}: no release {'at all' if release_id is None else release_id}")
    return release_pb2.Release.FromString(row[0])
