"""The site's own audit log: an append-only, hash-chained record of what the site sent and received.

One JSON object per line, in ``audit.log`` beside the site.toml. Every entry carries ``seq``
(0, 1, ...), ``time_utc``, ``event`` (one of :data:`EVENTS`), that event's fields,
``prev_sha256`` (the previous entry's ``sha256``; :data:`GENESIS_SHA256` for the first) and
``sha256``, the SHA-256 of the entry's canonical JSON without the ``sha256`` field (see
:func:`entry_sha256`). Because each hash covers the previous one, editing, deleting, reordering
or inserting any entry breaks every link after it, and :func:`verify_log` says where.

A contribution entry lists the names and shapes of the blocks the site sent, never their values.
The log stays on the site: nothing in it is sent to the aggregator.

The chain makes the log tamper-evident, not tamper-proof. Dropping whole entries from the end,
or rewriting the log and recomputing every hash, leaves a chain that verifies; an operator who
needs to rule that out keeps the last ``sha256`` (:attr:`AuditVerification.last_sha256`)
somewhere else after each round and compares.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from client.policy import PolicyViolation
from protos.census import census_sha256, is_round_two
from protos.codec import block_layouts, spec_sha256
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.privacy import spec_rho

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a site runs one SuperNode, so appends do not race.
    fcntl = None  # type: ignore[assignment]

LOG = logging.getLogger("fleetbench.site")

AUDIT_LOG_NAME = "audit.log"
GENESIS_SHA256 = "0" * 64
EVENTS = ("contribution", "census_commitments", "unmask", "release_received", "release_inconsistent", "repair")
RESERVED_FIELDS = ("seq", "time_utc", "event", "prev_sha256", "sha256")
FILE_MODE = 0o600
# Bytes read per step when looking for the last line from the end of the file.
_TAIL_CHUNK = 4096
# How verify_log names a last line cut short: the one problem `fleetbench audit repair` mends.
_TORN_PROBLEM = "truncated final line (no newline at the end of the log)"


class AuditLogError(RuntimeError):
    """The audit log cannot be extended: its last entry is missing, truncated or altered."""


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of :func:`verify_log`.

    Attributes
    ----------
    ok : bool
        True when every line is a well-formed entry and the chain is unbroken.
    entries : int
        Number of lines in the log (each should be one entry).
    problems : list of str
        One message per problem, each naming its line number (1-based).
    last_sha256 : str
        ``sha256`` of the last well-formed entry (:data:`GENESIS_SHA256` for an empty log); keep
        it elsewhere to detect entries later dropped from the end.
    """

    ok: bool
    entries: int
    problems: list[str] = field(default_factory=list)
    last_sha256: str = GENESIS_SHA256

    def to_dict(self) -> dict[str, Any]:
        """The verification as plain JSON-able values."""
        return asdict(self)


def audit_log_path(site_config: Path) -> Path:
    """Where a site keeps its audit log: ``audit.log`` beside its site.toml."""
    return Path(site_config).parent / AUDIT_LOG_NAME


def canonical_json(entry: Mapping[str, Any]) -> str:
    """The one serialisation hashes are taken over: sorted keys, no whitespace, ASCII only."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


def entry_sha256(entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``entry``'s canonical JSON without its ``sha256`` field."""
    body = {key: value for key, value in entry.items() if key != "sha256"}
    return hashlib.sha256(canonical_json(body).encode("ascii")).hexdigest()


def _read_last_line(fd: int) -> bytes:
    """The bytes after the last-but-one newline of the open file ``fd`` (b"" for an empty file).

    Reads backwards from the end, so appending stays cheap however long the log grows.
    """
    end = os.lseek(fd, 0, os.SEEK_END)
    tail = b""
    position = end
    while position > 0:
        step = min(_TAIL_CHUNK, position)
        position -= step
        tail = os.pread(fd, step, position) + tail
        # The newline ending the last line does not count; one before it starts that line.
        start = tail.rfind(b"\n", 0, len(tail) - 1)
        if start >= 0:
            return tail[start + 1 :]
    return tail


def _chain_head(fd: int, path: Path) -> tuple[int, str]:
    """The ``seq`` and ``sha256`` the next entry must follow, from the log's last line.

    Raises
    ------
    AuditLogError
        When the last line is truncated, not JSON or does not match its own hash: appending
        after it would chain onto an entry nobody can verify.
    """
    last = _read_last_line(fd)
    if not last:
        return -1, GENESIS_SHA256
    if not last.endswith(b"\n"):
        raise AuditLogError(
            f"{path}: the last line is truncated (no newline), as a crash mid-append leaves it; "
            "run `fleetbench audit repair` to drop it"
        )
    try:
        entry = json.loads(last)
        seq, sha256 = int(entry["seq"]), str(entry["sha256"])
    except (ValueError, TypeError, KeyError) as exc:
        raise AuditLogError(f"{path}: the last line is not an audit entry; run `fleetbench audit verify`") from exc
    if entry_sha256(entry) != sha256:
        raise AuditLogError(f"{path}: the last entry does not match its sha256; run `fleetbench audit verify`")
    return seq, sha256


def append_entry(
    path: Path, event: str, fields: Mapping[str, Any], admit: Callable[[list[dict[str, Any]]], None] | None = None
) -> dict[str, Any]:
    """Append one entry to the audit log at ``path``, creating the log (mode 0o600) if needed.

    With ``admit``, the entry is appended only if ``admit`` accepts the log's entries so far (it
    raises to refuse); it runs under the same lock as the append, so two rounds at once cannot both
    pass a rule that only one of them may.

    Parameters
    ----------
    path : Path
        The log file; its folder must exist.
    event : str
        One of :data:`EVENTS`.
    fields : mapping
        The event's fields, JSON-able; none may be named as in :data:`RESERVED_FIELDS`.

    Returns
    -------
    dict
        The entry as written, ``sha256`` included.

    Raises
    ------
    ValueError
        For an unknown ``event`` or a reserved field name.
    AuditLogError
        When the log's last line is truncated or altered (see :func:`verify_log`).
    OSError
        When the line cannot be written in full and synced to disk.
    """
    if event not in EVENTS:
        raise ValueError(f"event is {event!r}; the audit log records {', '.join(EVENTS)}")
    clashes = sorted(set(fields) & set(RESERVED_FIELDS))
    if clashes:
        raise ValueError(f"fields {clashes} are reserved for the chain ({', '.join(RESERVED_FIELDS)})")
    fd = _open_locked(path)
    try:
        return _append_locked(fd, path, event, fields, admit)
    finally:
        os.close(fd)  # closing also releases the lock


def _open_locked(path: Path) -> int:
    """The log at ``path`` opened for appending (created 0o600 if need be), under an exclusive lock."""
    # O_APPEND: every write lands at the end, whatever another writer did; 0o600 because the log
    # says when and with whom this operator benchmarked.
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    if fcntl is not None:
        # Reading the head and writing the next entry must not interleave with another append.
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _append_locked(
    fd: int, path: Path, event: str, fields: Mapping[str, Any], admit: Callable[[list[dict[str, Any]]], None] | None
) -> dict[str, Any]:
    """:func:`append_entry` on the log ``fd``, opened and locked by :func:`_open_locked`."""
    seq, prev_sha256 = _chain_head(fd, path)
    if admit is not None:
        admit(_entries(path))
    entry: dict[str, Any] = {
        **fields,
        "seq": seq + 1,
        "time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "event": event,
        "prev_sha256": prev_sha256,
    }
    entry["sha256"] = entry_sha256(entry)
    line = (canonical_json(entry) + "\n").encode("ascii")
    # One unbuffered write per line (nothing to flush), then fsync: an entry is on disk before
    # the round goes on.
    written = os.write(fd, line)
    if written != len(line):
        raise OSError(f"{path}: wrote {written} of {len(line)} bytes of audit entry {entry['seq']}")
    os.fsync(fd)
    return entry


def _entries(path: Path) -> list[dict[str, Any]]:
    """Every entry of the log at ``path``, parsed (its chain is verified separately, by :func:`verify_log`)."""
    if not Path(path).exists():
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="ascii").splitlines() if line.strip()]


def audit_entries(site_config: Path) -> list[dict[str, Any]]:
    """Every entry of the site's audit log (none when it has none yet)."""
    return _entries(audit_log_path(site_config))


def verify_log(path: Path) -> AuditVerification:
    """Check every entry of the audit log at ``path`` and the chain that links them.

    Reports, each with its 1-based line number: a line that is not a JSON object, a missing
    field, an unknown event, a ``seq`` out of order (a deleted, inserted or moved line), a
    ``prev_sha256`` that is not the previous entry's ``sha256`` (a broken chain), a ``sha256``
    that does not match the entry (an edited entry), and a final line without its newline (a
    truncated write or a cut file). All problems are reported together.

    Raises
    ------
    FileNotFoundError
        When there is no log at ``path``.
    """
    data = Path(path).read_bytes()
    lines = data.split(b"\n")
    # A complete log ends with a newline, so the last piece is empty; anything else is cut short.
    truncated = lines[-1] != b""
    if not truncated:
        lines.pop()
    problems: list[str] = []
    expected_seq, prev_sha256 = 0, GENESIS_SHA256
    for number, raw in enumerate(lines, start=1):
        if truncated and number == len(lines):
            problems.append(f"line {number}: {_TORN_PROBLEM}")
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            problems.append(f"line {number}: not valid JSON")
            continue
        if not isinstance(entry, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        missing = [key for key in RESERVED_FIELDS if key not in entry]
        if missing:
            problems.append(f"line {number}: missing {', '.join(missing)}")
            continue
        if entry["event"] not in EVENTS:
            problems.append(f"line {number}: unknown event {entry['event']!r}")
        if entry["seq"] != expected_seq:
            problems.append(
                f"line {number}: seq {entry['seq']}, expected {expected_seq} (an entry deleted, inserted or moved)"
            )
        if entry["prev_sha256"] != prev_sha256:
            problems.append(f"line {number}: prev_sha256 is not the previous entry's sha256 (broken chain)")
        if entry_sha256(entry) != entry["sha256"]:
            problems.append(f"line {number}: sha256 does not match the entry (the entry was edited)")
        # Go on from this entry, so one bad line is reported once rather than at every line after it.
        expected_seq = entry["seq"] + 1 if isinstance(entry["seq"], int) else expected_seq + 1
        prev_sha256 = entry["sha256"]
    return AuditVerification(ok=not problems, entries=len(lines), problems=problems, last_sha256=prev_sha256)


@dataclass(frozen=True)
class TornLine:
    """The last line of a log, cut short by a crash (or a full disk) while it was written.

    Attributes
    ----------
    line : int
        Its 1-based line number.
    offset : int
        Where it starts: the log's size once it is dropped [bytes].
    dropped : bytes
        The line as it stands, without a newline.
    """

    line: int
    offset: int
    dropped: bytes


def torn_last_line(path: Path) -> TornLine | None:
    """The torn last line a repair would drop, or None when the log verifies as it is.

    Only a last line without its newline, after entries that all verify, is torn: an append
    writes a whole line, then syncs it, before the round goes on, so a line cut short was
    never acted on (no contribution sent, no share revealed on its account).

    Raises
    ------
    AuditLogError
        When the log has any other problem: that is no crash mid-append, and dropping lines would hide it.
    FileNotFoundError
        When there is no log at ``path``.
    """
    verification = verify_log(path)
    if verification.ok:
        return None
    torn = [p for p in verification.problems if p.endswith(_TORN_PROBLEM)]
    if len(torn) != len(verification.problems):
        raise AuditLogError(
            f"{path} is not repaired: it is damaged elsewhere than a torn last line ("
            + "; ".join(p for p in verification.problems if p not in torn)
            + "); restore it from a backup, or keep it as evidence and start a new log beside it"
        )
    data = Path(path).read_bytes()
    offset = data.rfind(b"\n") + 1
    return TornLine(verification.entries, offset, data[offset:])


def repair_torn_line(path: Path, torn: TornLine) -> dict[str, Any]:
    """Drop ``torn`` (as :func:`torn_last_line` found it) from the log and record the repair as its next entry.

    The repair entry keeps the dropped bytes' length, SHA-256 and text, and chains onto the last
    entry that verifies, so the log verifies again and still says what was lost.

    Raises
    ------
    AuditLogError
        When the log is no longer as ``torn`` describes it (written meanwhile): nothing is changed.
    """
    fd = _open_locked(path)
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size != torn.offset + len(torn.dropped) or os.pread(fd, len(torn.dropped), torn.offset) != torn.dropped:
            raise AuditLogError(f"{path} changed since its torn line was shown; nothing repaired: run the repair again")
        os.ftruncate(fd, torn.offset)
        os.fsync(fd)
        fields = {
            "line": torn.line,
            "dropped_bytes": len(torn.dropped),
            "dropped_sha256": hashlib.sha256(torn.dropped).hexdigest(),
            "dropped_text": torn.dropped.decode("ascii", errors="backslashreplace"),
        }
        return _append_locked(fd, path, "repair", fields, None)
    finally:
        os.close(fd)


def round_label(spec: spec_pb2.BenchmarkSpec) -> str:
    """The round a spec asks for: "census 1", "1", "census 2" or "2" (round 2: the indicators)."""
    number = "2" if is_round_two(spec) else "1"
    return f"census {number}" if spec.census_of_sha256 else number


def contribution_fields(
    spec: spec_pb2.BenchmarkSpec,
    participants: int | None,
    run_id: int | None = None,
    node_id: int | None = None,
    release_key: str = "",
    census: bytes | None = None,
) -> dict[str, Any]:
    """What a contribution entry says: the spec, the round, the blocks' names and shapes, who took part.

    Values are never recorded: the blocks are what the site sent, and their shapes suffice to
    show it sent nothing else. ``release_key`` names the release the round belongs to (its round-1
    spec's SHA-256), and with the period it is the site's release calendar (:func:`check_release_calendar`).
    """
    return {
        "spec_id": spec.spec_id,
        "spec_sha256": spec_sha256(spec),
        "round": round_label(spec),
        "release_key": release_key,
        "period_start": spec.period.start,
        "period_end": spec.period.end,
        "census_sha256": census_sha256(spec_pb2.Census.FromString(census)) if census is not None else None,
        "blocks": [{"name": layout.name, "shape": list(layout.shape)} for layout in block_layouts(spec)],
        "participants": participants,
        "run_id": run_id,
        "node_id": node_id,
        # What a private spec cost this site's turbines (zCDP rho, see client/privacy.py), else None.
        "privacy_rho": spec_rho(spec) if spec.HasField("privacy") and not spec.census_of_sha256 else None,
    }


class CalendarConflict(PolicyViolation):
    """A round the site's release calendar refuses: its numbers could be differenced with an earlier release."""


def check_release_calendar(entries: Sequence[Mapping[str, Any]], fields: Mapping[str, Any]) -> None:
    """Refuse a contribution whose period overlaps another release's.

    Two releases whose periods overlap are linked tables: the difference of their sums is the
    data of the overlap (one operator's day, say), and two releases of one period with other
    cohorts difference too. So a period belongs to one release only; the rounds of that release
    may run again (see :func:`check_unmask_calendar`).

    Parameters
    ----------
    entries : sequence of mapping
        The site's audit log so far.
    fields : mapping
        The contribution about to be recorded (:func:`contribution_fields`).

    Raises
    ------
    CalendarConflict
        Naming the earlier release it overlaps.
    """
    start, end = pd.Timestamp(fields["period_start"]), pd.Timestamp(fields["period_end"])
    for entry in entries:
        if entry.get("event") != "contribution" or not entry.get("release_key"):
            continue
        overlaps = pd.Timestamp(entry["period_start"]) < end and start < pd.Timestamp(entry["period_end"])
        if overlaps and entry["release_key"] != fields["release_key"]:
            raise CalendarConflict(
                f"period {fields['period_start']} .. {fields['period_end']} overlaps release {entry['spec_id']} "
                f"({entry['period_start']} .. {entry['period_end']}) this site contributed to on {entry['time_utc']}"
            )


def check_unmask_calendar(entries: Sequence[Mapping[str, Any]], fields: Mapping[str, Any]) -> None:
    """Refuse to unmask a round of a release again over other members than before.

    The same round summed over two member sets gives the difference of their data: over {A, B, C, D}
    and then {A, B, C, E}, D's blocks less E's, and E's own if E colludes (a red-team review did it with
    solar plants). A round may run again (after a dropout, say) only over the very members it was first
    unmasked over; an entry written before members were recorded is compared by its number of survivors.

    Raises
    ------
    CalendarConflict
        Naming the earlier unmask and the members that differ.
    """
    for entry in entries:
        same_round = entry.get("release_key") == fields["release_key"] and entry.get("round") == fields["round"]
        if entry.get("event") != "unmask" or not same_round:
            continue
        if entry["survivors"] != fields["survivors"]:
            raise CalendarConflict(
                f"round {fields['round']} of release {entry['spec_id']} was unmasked over {entry['survivors']} sites "
                f"on {entry['time_utc']}; unmasking it over {fields['survivors']} would give the difference"
            )
        before = entry.get("survivor_members")
        if before is not None and sorted(before) != sorted(fields["survivor_members"]):
            raise CalendarConflict(
                f"round {fields['round']} of release {entry['spec_id']} was unmasked on {entry['time_utc']} over "
                f"other members: without {sorted(set(before) - set(fields['survivor_members']))}, with "
                f"{sorted(set(fields['survivor_members']) - set(before))} it would give their difference"
            )


def record_unmask(
    site_config: Path,
    spec_id: str,
    release_key: str,
    round_label: str,
    survivor_members: Collection[str],
) -> dict[str, Any]:
    """Append an unmask entry (this site reveals its shares of a round's sum), if the calendar admits it.

    ``survivor_members`` are the members (roster names, verified by their signatures) whose sum is unmasked.

    Raises
    ------
    CalendarConflict
        If an earlier unmask of the same round was over other members; nothing is appended.
    """
    fields = {
        "spec_id": spec_id,
        "release_key": release_key,
        "round": round_label,
        "survivors": len(survivor_members),
        "survivor_members": sorted(survivor_members),
    }
    return append_entry(
        audit_log_path(site_config), "unmask", fields, admit=lambda entries: check_unmask_calendar(entries, fields)
    )


def release_fields(release_bytes: bytes, stored_at: Path, site_config: Path) -> dict[str, Any]:
    """What a release_received entry says: the release's provenance, where it was kept, its hash."""
    release = release_pb2.Release.FromString(release_bytes)
    p = release.provenance
    stored = Path(stored_at)
    try:
        # Relative to the site's folder, so the log stays true if the folder moves.
        stored_text = str(stored.relative_to(Path(site_config).parent))
    except ValueError:
        stored_text = str(stored)
    return {
        "spec_id": release.spec_id,
        "spec_sha256": p.spec_sha256,
        "indicator_spec_sha256": p.indicator_spec_sha256,
        "participants": p.participants,
        "indicator_participants": p.indicator_participants,
        "stored_at": stored_text,
        "release_sha256": hashlib.sha256(release_bytes).hexdigest(),
    }


def record_inconsistent_release(site_config: Path, release_bytes: bytes, contradictions: list[str]) -> dict[str, Any]:
    """Append a release_inconsistent entry: a received release that contradicts the censuses the site saw."""
    release = release_pb2.Release.FromString(release_bytes)
    return append_entry(
        audit_log_path(site_config),
        "release_inconsistent",
        {
            "spec_id": release.spec_id,
            "release_sha256": hashlib.sha256(release_bytes).hexdigest(),
            "contradictions": contradictions,
        },
    )


def record_contribution(
    site_config: Path,
    spec: spec_pb2.BenchmarkSpec,
    participants: int | None,
    run_id: int | None,
    node_id: int | None,
    release_key: str,
    census: bytes | None = None,
) -> dict[str, Any]:
    """Append a contribution entry to the site's audit log, if the site's release calendar admits it.

    Raises
    ------
    CalendarConflict
        If the calendar refuses the round (:func:`check_release_calendar`); nothing is appended.
    AuditLogError, OSError
        When the entry cannot be written: the contribution must then not be sent.
    """
    fields = contribution_fields(spec, participants, run_id, node_id, release_key, census)
    return append_entry(
        audit_log_path(site_config),
        "contribution",
        fields,
        admit=lambda entries: check_release_calendar(entries, fields),
    )


def record_release(site_config: Path, release_bytes: bytes, stored_at: Path) -> dict[str, Any]:
    """Append a release_received entry to the site's audit log."""
    return append_entry(
        audit_log_path(site_config), "release_received", release_fields(release_bytes, stored_at, site_config)
    )


def record_census_commitments(
    site_config: Path, spec_id: str, census_spec_sha256: str, run_id: int, commitments_sha256: str
) -> dict[str, Any]:
    """Append the hash of the census commitments this site checked at a census round's consistency stage.

    Written before the site signs the survivor set, so before any share is revealed; and whether or not it
    then reveals its shares (a site that drops at the unmask is still summed, and still decides the values
    round by this census). :func:`census_commitments_seen` reads it back.
    """
    fields = {
        "spec_id": spec_id,
        "spec_sha256": census_spec_sha256,
        "run_id": run_id,
        "census_commitments_sha256": commitments_sha256,
    }
    return append_entry(audit_log_path(site_config), "census_commitments", fields)


def census_commitments_seen(site_config: Path, census_spec_sha256: str, run_id: int) -> frozenset[str]:
    """The SHA-256 of each list of commitments this site checked in a census round of that spec in that run.

    Empty if it checked none. A run's census rounds of one spec (a rerun after a dropout, or two runs the
    aggregator started at once under one id) each leave theirs; a values round may be decided by any of them.
    """
    return frozenset(
        entry["census_commitments_sha256"]
        for entry in audit_entries(site_config)
        if entry.get("event") == "census_commitments"
        and entry.get("spec_sha256") == census_spec_sha256
        and entry.get("run_id") == run_id
    )
