"""Fault injection across a release: it is all or nothing, everywhere (issue 20).

A run is killed (an exception no handler of the app's catches, as ``kill -9`` would leave it) in
each SecAgg+ stage of the census and values rounds, and at each point between finalising, storing
and sending; two runs of one spec start at once; a writer
is SIGKILLed mid-commit; the store is on a full or read-only disk, or is another program's file.
After each: either no release anywhere, or the same release bytes in the store and at every site
that keeps one, and what the operator runs next says so. Fleets of 3 operators x 1 turbine x 1
month, round 1 only, in process (``simulations.loopback.LoopbackGrid``).
"""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flwr.app import Context, Message, RecordDict

import server.store
from client.audit import audit_entries
from client.client_app import build_client_app
from client.contribution import keep_received_release
from common.release_json import read_release_json
from fleetbench.cli import main
from protos.codec import spec_sha256
from protos.fleetbench.v1 import release_pb2
from protos.messages import FINAL_RELEASE_CONFIG_KEY
from server.dashboard.releases import ReleaseStore
from server.dashboard.releases import StoreError as DashboardStoreError
from server.server_app import ReleaseRun, build_server_app
from server.store import (
    Claim,
    ReleaseClaimedError,
    ReleaseExistsError,
    StoreError,
    claim_release,
    claims,
    read_release,
    write_release,
)
from simulations.loopback import LoopbackGrid

if TYPE_CHECKING:  # tests/conftest.py: imported by name, it could be another conftest of the session
    from conftest import SmallFleet


class Killed(BaseException):
    """The ServerApp's process dies here: no ``except Exception`` of the app's runs, as after ``kill -9``."""


@pytest.fixture
def fleet(small_fleet) -> SmallFleet:
    """3 operators x 1 turbine x 1 month, no history."""
    return small_fleet(3)


def _idle_grid(fleet: SmallFleet) -> LoopbackGrid:
    return LoopbackGrid(build_client_app(fleet.site_configs), len(fleet.site_configs))


def _run(fleet: SmallFleet, store: Path, run_id: int = 7, grid: LoopbackGrid | None = None) -> LoopbackGrid:
    """One run of the ServerApp (round 1 only) as Flower run ``run_id``; its grid, which kept every reply."""
    grid = grid or _idle_grid(fleet)
    context = Context(run_id=run_id, node_id=0, node_config={}, state=RecordDict(), run_config={})
    build_server_app(ReleaseRun(fleet.spec, store, len(fleet.site_configs), indicators=False))(grid, context)
    return grid


def _kept(site: Path) -> bytes | None:
    """The release the site keeps (as the store serialises it), or None."""
    kept = list((site.parent / "releases").glob("*.json"))
    assert len(kept) <= 1, kept
    return read_release_json(kept[0]).SerializeToString(deterministic=True) if kept else None


def _stored(store: Path) -> list[bytes]:
    if not store.is_file():
        return []
    with sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True) as connection:
        return [row[0] for row in connection.execute("SELECT release FROM releases")]


def _assert_all_or_nothing(store: Path, fleet: SmallFleet) -> bytes | None:
    """No release anywhere, or one release whose bytes every site that keeps one keeps; returns it."""
    stored = _stored(store)
    kept = {site: _kept(site) for site in fleet.site_configs}
    if not stored:
        assert set(kept.values()) == {None}, "a site keeps a release the store lacks"
        return None
    assert len(stored) == 1
    assert set(kept.values()) <= {None, stored[0]}, "a site keeps another release than the stored one"
    return stored[0]


def _contributions(site: Path) -> Counter[tuple[str, str]]:
    """How many times the site contributed to each (round, spec hash): census and values are two specs."""
    return Counter(
        (entry["round"], entry["spec_sha256"]) for entry in audit_entries(site) if entry["event"] == "contribution"
    )


def _each_site_contributed_once_per_round(fleet: SmallFleet) -> None:
    for site in fleet.site_configs:
        counts = _contributions(site)
        assert len(counts) == 2 and set(counts.values()) == {1}, (site, counts)  # round 1's census and values


def _is_final_release(messages: list[Message]) -> bool:
    return any(FINAL_RELEASE_CONFIG_KEY in m.content.config_records.get("config", {}) for m in messages)


class KilledMidSend(LoopbackGrid):
    """Delivers the final release to the first site only, then the process dies."""

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        messages = list(messages)
        if not _is_final_release(messages):
            return super().push_messages(messages)
        super().push_messages(messages[:1])
        raise Killed("mid send")


def _killer(*_: object, **__: object) -> None:
    raise Killed


KILL_POINTS = {
    "finalise": lambda mp: mp.setattr("server.server_app.release_from_secure_sum", _killer),
    "store": lambda mp: mp.setattr("server.server_app.store_release", _killer),
    "after store": lambda mp: mp.setattr("server.server_app.stored_release", _killer),
    "mid send": None,  # KilledMidSend
    "before marked sent": lambda mp: mp.setattr("server.server_app.mark_sent", _killer),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_run_killed_at_any_point_leaves_all_or_nothing_and_a_way_on(
    point: str, fleet: SmallFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    store, sites = tmp_path / "release.sqlite", fleet.site_configs
    if KILL_POINTS[point] is not None:
        KILL_POINTS[point](monkeypatch)
    with pytest.raises(Killed):
        _run(fleet, store, grid=KilledMidSend(build_client_app(sites), len(sites)) if point == "mid send" else None)
    monkeypatch.undo()
    released = _assert_all_or_nothing(store, fleet)
    [claim] = claims(store)  # the dead run's claim stays: only the operator knows it is dead
    assert claim.flower_run_id == "7" and claim.spec_sha256 == spec_sha256(fleet.spec)
    abandon = ["release", "abandon", "--store", str(store), "--spec-sha256", claim.spec_sha256]

    if released is None:  # killed before storing: a rerun is refused before any site is asked anything
        assert point in ("finalise", "store") and claim.pending
        with pytest.raises(ReleaseClaimedError) as refused:
            _run(fleet, store, run_id=8, grid=(idle := _idle_grid(fleet)))
        assert idle.received == []
        _each_site_contributed_once_per_round(fleet)
        message = str(refused.value)
        assert str(store) in message and fleet.spec.spec_id in message and "release abandon" in message
        assert main(["release", "claims", "--store", str(store)]) == 0 and "pending" in capsys.readouterr().out
        assert main(abandon) == 0 and "abandoned" in capsys.readouterr().out
        _run(fleet, store, run_id=8)  # the rounds run again, over the same sites (their calendars admit it)
    else:  # killed after storing: the claim names the release, and the rerun sends its stored bytes, no round
        assert claim.release_id == 1 and point not in ("finalise", "store")
        assert point != "mid send" or [_kept(site) is not None for site in sites] == [True, False, False]
        assert main(abandon) == 2 and "run the release again" in capsys.readouterr().err
        _run(fleet, store, run_id=8, grid=(resumed := _idle_grid(fleet)))
        _each_site_contributed_once_per_round(fleet)
        assert len(resumed.received) == len(sites)  # the release's acknowledgements, nothing else
    assert _assert_all_or_nothing(store, fleet) is not None
    assert all(_kept(site) == _stored(store)[0] for site in sites), "every site keeps the stored release"
    assert claims(store) == []
    with pytest.raises(ReleaseExistsError, match="immutable"):  # sent to every site: a further run is refused
        _run(fleet, store, run_id=9, grid=(idle := _idle_grid(fleet)))
    assert idle.received == []


def test_a_site_told_twice_keeps_the_same_bytes_and_refuses_other_ones(fleet: SmallFleet, tmp_path: Path):
    """Why a resumed send sends the stored bytes: a release finalised again would be refused where one is kept."""
    store, site = tmp_path / "release.sqlite", fleet.site_configs[0]
    _run(fleet, store)
    stored = _stored(store)[0]
    assert keep_received_release(site, stored) and _kept(site) == stored
    other = release_pb2.Release.FromString(stored)
    other.provenance.created_utc = "2099-01-01T00:00:00+00:00"
    with pytest.raises(ValueError, match="already holds another release"):
        keep_received_release(site, other.SerializeToString(deterministic=True))


def _two_runs_at_once(fleet: SmallFleet, store: Path) -> tuple[list[LoopbackGrid], list[Exception]]:
    """Two runs of one spec, started together from two threads over the same sites and store."""
    grids = [_idle_grid(fleet) for _ in range(2)]
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def run(run_id: int, grid: LoopbackGrid) -> None:
        start.wait()
        try:
            _run(fleet, store, run_id=run_id, grid=grid)
        except Exception as exc:  # the test reads what each run ended with
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(7 + i, grid)) for i, grid in enumerate(grids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return grids, errors


def test_two_runs_of_one_spec_at_once_one_runs_the_rounds_the_other_asks_no_site(fleet: SmallFleet, tmp_path: Path):
    store = tmp_path / "release.sqlite"
    grids, errors = _two_runs_at_once(fleet, store)
    [refused] = errors
    assert isinstance(refused, ReleaseClaimedError) and "is claimed by Flower run" in str(refused)
    assert sorted(bool(grid.received) for grid in grids) == [False, True], "the refused run asked no site"
    _each_site_contributed_once_per_round(fleet)
    assert _assert_all_or_nothing(store, fleet) is not None
    assert all(_kept(site) == _stored(store)[0] for site in fleet.site_configs)


def test_without_the_claim_both_runs_ask_every_site(fleet: SmallFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Control: the ServerApp without its claim (store and send as before issue 20) lets both runs contribute."""
    monkeypatch.setattr("server.server_app.claim_release", lambda *_: None)
    monkeypatch.setattr("server.server_app.claim_dropped_on_failure", lambda *_: nullcontext())
    monkeypatch.setattr("server.server_app.store_release", lambda release, store: write_release(store, release))
    monkeypatch.setattr("server.server_app.mark_sent", lambda *_: None)
    grids, _ = _two_runs_at_once(fleet, tmp_path / "release.sqlite")
    assert all(grid.received for grid in grids)
    assert all(set(_contributions(site).values()) == {2} for site in fleet.site_configs)


def test_many_claims_at_once_exactly_one_wins(fleet: SmallFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Eight runs claim one spec at the same instant, from eight threads, each with its own connection."""
    store = tmp_path / "release.sqlite"
    start, outcomes = threading.Barrier(8), []
    check = server.store._claim_of

    def slow_check(connection: sqlite3.Connection, key: tuple[str, str, str, str]) -> Claim | None:
        found = check(connection, key)
        time.sleep(0.05)  # a slow disk: the window between the check and the claim that two runs race in
        return found

    monkeypatch.setattr("server.store._claim_of", slow_check)

    def claim(run_id: int) -> None:
        start.wait()
        try:
            outcomes.append(claim_release(store, fleet.spec, "secagg+", str(run_id)))
        except ReleaseClaimedError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count(None) == 1 and sum(isinstance(o, ReleaseClaimedError) for o in outcomes) == 7
    assert len(claims(store)) == 1


# A writer that has written its transaction's pages (to the WAL, or to the file and its rollback
# journal) and is killed before its commit completes: what a kill mid-commit leaves.
KILLED_WRITER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA cache_size = 5")  # spill the transaction's pages before the commit
connection.execute("BEGIN IMMEDIATE")
connection.execute(
    "INSERT INTO releases (spec_id, spec_sha256, period_start, period_end, participants, suppressed_cells,"
    " flower_run_id, method, created_utc, release) VALUES ('torn', 'x', 'a', 'b', 3, 0, '1', 'secagg+', 'now', ?)",
    (bytes(4_000_000),),
)
print("mid-commit", flush=True)
time.sleep(60)
"""


def _kill_a_writer_mid_commit(store: Path) -> None:
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "mid-commit"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()


def _a_stored_release(store: Path) -> Path:
    release = release_pb2.Release(contract="fleetbench/v1", spec_id="s", k_min_operators=3)
    release.period.start, release.period.end = "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"
    release.provenance.spec_sha256, release.provenance.method = "ab" * 32, "secagg+"
    write_release(store, release)
    return store


def test_readers_survive_a_writer_killed_mid_commit(tmp_path: Path):
    store = _a_stored_release(tmp_path / "release.sqlite")
    _kill_a_writer_mid_commit(store)
    assert not Path(f"{store}-journal").exists() and Path(f"{store}-wal").stat().st_size > 1_000_000
    dashboard = ReleaseStore(store)
    assert [r.spec_id for r in dashboard.releases()] == ["s"] and dashboard.release(1).spec_id == "s"
    assert read_release(store).spec_id == "s"  # release show
    assert claims(store) == []


def test_with_a_rollback_journal_readers_fail_after_a_writer_killed_mid_commit(tmp_path: Path):
    """Control: the same store in SQLite's default journal mode, as FleetBench made it before issue 20."""
    store = _a_stored_release(tmp_path / "release.sqlite")
    connection = sqlite3.connect(store)
    assert connection.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    connection.close()
    _kill_a_writer_mid_commit(store)
    assert Path(f"{store}-journal").exists()
    with pytest.raises(DashboardStoreError, match="readonly"):
        ReleaseStore(store)
    with pytest.raises(StoreError, match="readonly"):
        read_release(store)


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_foreign_sqlite_file_is_refused_in_one_line_and_left_untouched(
    fleet: SmallFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    foreign = tmp_path / "crm.sqlite"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE customers (name TEXT)")
    connection.commit()
    connection.close()
    before = _hash(foreign)
    for command in (["release", "show"], ["release", "claims"], ["release", "abandon", "--spec-sha256", "ab"]):
        assert main([*command, "--store", str(foreign)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is not a FleetBench release store" in err and str(foreign) in err
    with pytest.raises(StoreError, match="is not a FleetBench release store"):
        _run(fleet, foreign, grid=(idle := _idle_grid(fleet)))
    assert idle.received == [] and _hash(foreign) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.sqlite"]
    # Control: a FleetBench store is shown.
    assert main(["release", "show", "--store", str(_a_stored_release(tmp_path / "release.sqlite"))]) == 0


@contextmanager
def _disk(monkeypatch: pytest.MonkeyPatch, kind: str) -> Iterator[None]:
    """Every read-write SQLite connection as on a full disk (the file cannot grow) or a read-only one.

    SQLite itself raises what it raises on such disks (SQLITE_FULL; SQLITE_READONLY or CANTOPEN):
    as root, this test's user, a read-only folder would not stop a write.
    """
    real = sqlite3.connect

    def connect(database: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        if kind == "read-only" and not kwargs.get("uri"):
            database, kwargs["uri"] = f"{Path(str(database)).resolve().as_uri()}?mode=ro", True
        connection = real(database, *args, **kwargs)  # type: ignore[arg-type]
        if kind == "full":
            connection.execute("PRAGMA max_page_count = 1")  # SQLite keeps the pages the file has: it cannot grow
        return connection

    with monkeypatch.context() as patch:
        patch.setattr(sqlite3, "connect", connect)
        yield


@pytest.mark.parametrize("kind", ["full", "read-only"])
def test_a_new_store_on_a_full_or_read_only_disk_says_so_in_one_line_and_no_site_is_asked(
    kind: str, fleet: SmallFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    store = tmp_path / "release.sqlite"
    with _disk(monkeypatch, kind), pytest.raises(StoreError) as refused:
        _run(fleet, store, grid=(idle := _idle_grid(fleet)))
    message = str(refused.value)
    assert str(store) in message and ("free space" if kind == "full" else "writable") in message and "\n" not in message
    assert idle.received == [] and list(tmp_path.iterdir()) == [], "no site asked, no empty store left behind"
    with _disk(monkeypatch, kind):
        assert main(["release", "abandon", "--store", str(store), "--spec-sha256", "ab"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(store) in err and "Traceback" not in err


def test_a_disk_that_fills_after_the_claim_stores_nothing_sends_nothing_and_drops_the_claim(
    fleet: SmallFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    store = _a_stored_release(tmp_path / "release.sqlite")  # the claim fits in the file's pages, the release not
    with _disk(monkeypatch, "full"), pytest.raises(StoreError, match="the disk is full"):
        _run(fleet, store)
    assert len(_stored(store)) == 1 and claims(store) == []
    assert all(_kept(site) is None for site in fleet.site_configs)
    # Control: with room on the disk, the same release is stored and sent.
    _run(fleet, store, run_id=8)
    assert all(_kept(site) == _stored(store)[1] for site in fleet.site_configs)


class KilledAtPush(LoopbackGrid):
    """Delivers the ``nth`` batch of messages the ServerApp pushes (a SecAgg+ stage), then the process dies."""

    def __init__(self, fleet: SmallFleet, nth: int) -> None:
        super().__init__(build_client_app(fleet.site_configs), len(fleet.site_configs))
        self.nth, self.pushes = nth, 0

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        ids = super().push_messages(messages)
        self.pushes += 1
        if self.pushes == self.nth:
            raise Killed(f"after push {self.nth}")
        return ids


# Round 1 is a census round then a values round, each setup, key sharing, collect, consistency, unmask.
ROUND_ONE_STAGES = [f"{r} {s}" for r in ("census", "values") for s in ("setup", "keys", "collect", "sign", "unmask")]


@pytest.mark.parametrize("nth", range(1, len(ROUND_ONE_STAGES) + 1), ids=ROUND_ONE_STAGES)
def test_a_run_killed_in_any_secagg_stage_leaves_no_release_anywhere_and_a_way_on(
    nth: int, fleet: SmallFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    store = tmp_path / "release.sqlite"
    with pytest.raises(Killed):
        _run(fleet, store, grid=KilledAtPush(fleet, nth))
    assert _assert_all_or_nothing(store, fleet) is None
    for site in fleet.site_configs:  # what a site contributed, it contributed once
        assert set(_contributions(site).values()) <= {1}
    [claim] = claims(store)
    assert claim.pending
    with pytest.raises(ReleaseClaimedError):
        _run(fleet, store, run_id=8, grid=(idle := _idle_grid(fleet)))
    assert idle.received == []
    assert main(["release", "abandon", "--store", str(store), "--spec-sha256", claim.spec_sha256]) == 0
    capsys.readouterr()
    _run(fleet, store, run_id=8)
    released = _assert_all_or_nothing(store, fleet)
    assert released is not None and all(_kept(site) == released for site in fleet.site_configs)
