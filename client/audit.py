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
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from client.contribution import ContributionRefused
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
EVENTS = ("contribution", "release_received")
RESERVED_FIELDS = ("seq", "time_utc", "event", "prev_sha256", "sha256")
FILE_MODE = 0o600
# Bytes read per step when looking for the last line from the end of the file.
_TAIL_CHUNK = 4096


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
        raise AuditLogError(f"{path}: the last line is truncated (no newline); run `fleetbench audit verify`")
    try:
        entry = json.loads(last)
        seq, sha256 = int(entry["seq"]), str(entry["sha256"])
    except (ValueError, TypeError, KeyError) as exc:
        raise AuditLogError(f"{path}: the last line is not an audit entry; run `fleetbench audit verify`") from exc
    if entry_sha256(entry) != sha256:
        raise AuditLogError(f"{path}: the last entry does not match its sha256; run `fleetbench audit verify`")
    return seq, sha256


def append_entry(path: Path, event: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Append one entry to the audit log at ``path``, creating the log (mode 0o600) if needed.

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
    # O_APPEND: every write lands at the end, whatever another writer did; 0o600 because the log
    # says when and with whom this operator benchmarked.
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        if fcntl is not None:
            # Reading the head and writing the next entry must not interleave with another append.
            fcntl.flock(fd, fcntl.LOCK_EX)
        seq, prev_sha256 = _chain_head(fd, path)
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
    finally:
        os.close(fd)  # closing also releases the lock
    return entry


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
            problems.append(f"line {number}: truncated final line (no newline at the end of the log)")
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


def contribution_fields(
    spec: spec_pb2.BenchmarkSpec, participants: int | None, run_id: int | None = None, node_id: int | None = None
) -> dict[str, Any]:
    """What a contribution entry says: the spec, the round, the blocks' names and shapes, who took part.

    Values are never recorded: the blocks are what the site sent, and their shapes suffice to
    show it sent nothing else.
    """
    return {
        "spec_id": spec.spec_id,
        "spec_sha256": spec_sha256(spec),
        # A round-2 spec carries the indicators computed against the round-1 release.
        "round": "2" if spec.HasField("indicators") else "1",
        "blocks": [{"name": layout.name, "shape": list(layout.shape)} for layout in block_layouts(spec)],
        "participants": participants,
        "run_id": run_id,
        "node_id": node_id,
        # What a private spec cost this site's turbines (zCDP rho, see client/privacy.py), else None.
        "privacy_rho": spec_rho(spec) if spec.HasField("privacy") else None,
    }


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


def record_contribution(
    site_config: Path, spec_bytes: bytes, participants: int | None, run_id: int | None, node_id: int | None
) -> dict[str, Any]:
    """Append a contribution entry to the site's audit log; on any failure, refuse the round.

    Raises
    ------
    ContributionRefused
        When the entry cannot be written; the reason goes to the site's own log only, because
        Flower forwards exception text to the aggregator.
    """
    try:
        spec = spec_pb2.BenchmarkSpec.FromString(spec_bytes)
        fields = contribution_fields(spec, participants, run_id, node_id)
        return append_entry(audit_log_path(site_config), "contribution", fields)
    except Exception:
        LOG.exception("site %s: audit log not written; contribution refused", site_config)
        raise ContributionRefused() from None


def record_release(site_config: Path, release_bytes: bytes, stored_at: Path) -> dict[str, Any]:
    """Append a release_received entry to the site's audit log; on failure, raise ContributionRefused."""
    try:
        fields = release_fields(release_bytes, stored_at, site_config)
        return append_entry(audit_log_path(site_config), "release_received", fields)
    except Exception:
        LOG.exception("site %s: audit log not written for the received release", site_config)
        raise ContributionRefused() from None
