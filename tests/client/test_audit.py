"""The site's audit log: the hash chain, what breaks it, the file's mode, the CLI and the wiring."""

from __future__ import annotations

import hashlib
import io
import json
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from client.audit import (
    GENESIS_SHA256,
    AuditLogError,
    CalendarConflict,
    append_entry,
    audit_log_path,
    check_unmask_calendar,
    contribution_fields,
    entry_sha256,
    record_contribution,
    verify_log,
)
from client.contribution import contribute
from client.policy import ContributionRefused
from fleetbench.cli import main
from protos.codec import block_layouts, spec_sha256
from server.spec import indicator_spec, power_curve_spec

SPEC = power_curve_spec("audit-test", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"])


def _log_of_four(tmp_path: Path) -> Path:
    """A log of two contributions (rounds 1 and 2) and two releases, as a site writes them."""
    path = tmp_path / "audit.log"
    append_entry(path, "contribution", contribution_fields(SPEC, 5, run_id=7, node_id=101))
    append_entry(path, "contribution", contribution_fields(indicator_spec(SPEC, "ab" * 32), 5, 7, 101))
    for n in range(2):
        fields = {"spec_id": SPEC.spec_id, "participants": 5, "release_sha256": f"{n:064x}"}
        append_entry(path, "release_received", fields)
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def test_a_chain_of_entries_verifies_and_each_links_to_the_last(tmp_path: Path):
    path = _log_of_four(tmp_path)
    entries = [json.loads(line) for line in _lines(path)]
    assert [e["seq"] for e in entries] == [0, 1, 2, 3]
    assert entries[0]["prev_sha256"] == GENESIS_SHA256
    assert [e["prev_sha256"] for e in entries[1:]] == [e["sha256"] for e in entries[:-1]]
    # sha256 is over the canonical JSON without itself, computed here by hand.
    body = {k: v for k, v in entries[2].items() if k != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    assert entries[2]["sha256"] == hashlib.sha256(canonical).hexdigest() == entry_sha256(entries[2])

    result = verify_log(path)
    assert result.ok and result.entries == 4 and result.problems == []
    assert result.last_sha256 == entries[-1]["sha256"]


def test_contribution_entries_name_blocks_and_shapes_never_values(tmp_path: Path):
    first, second = (json.loads(line) for line in _lines(_log_of_four(tmp_path))[:2])
    assert (first["event"], first["round"], second["round"]) == ("contribution", "1", "2")
    assert first["spec_sha256"] == spec_sha256(SPEC) and first["spec_id"] == "audit-test"
    assert (first["participants"], first["run_id"], first["node_id"]) == (5, 7, 101)
    assert first["blocks"] == [{"name": b.name, "shape": list(b.shape)} for b in block_layouts(SPEC)]
    assert first["blocks"][0]["name"] == "E-82/2300:RECORD_COUNT"


def test_entries_longer_than_the_tail_read_still_chain(tmp_path: Path):
    path = tmp_path / "audit.log"
    for n in range(3):
        append_entry(path, "release_received", {"stored_at": "x" * (5000 * n + 4095)})
    assert verify_log(path).ok and [json.loads(line)["seq"] for line in _lines(path)] == [0, 1, 2]


def test_an_empty_log_verifies_and_a_missing_one_is_an_error(tmp_path: Path):
    (tmp_path / "audit.log").touch()
    assert verify_log(tmp_path / "audit.log").ok and verify_log(tmp_path / "audit.log").entries == 0
    with pytest.raises(FileNotFoundError):
        verify_log(tmp_path / "nowhere.log")


def _edit_line(path: Path, index: int, edit) -> None:
    lines = _lines(path)
    entry = json.loads(lines[index])
    edit(entry)
    lines[index] = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
    path.write_text("".join(lines))


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: e.update(participants=3),
        lambda e: e["blocks"][0].update(name="E-82/2300:MEAN_POWER"),
        lambda e: e.update(time_utc="2020-01-01T00:00:00+00:00"),
    ],
    ids=["participants", "block name", "time"],
)
def test_editing_a_middle_entry_fails_naming_its_line(tmp_path: Path, edit):
    path = _log_of_four(tmp_path)
    _edit_line(path, 1, edit)
    result = verify_log(path)
    assert not result.ok and result.entries == 4
    assert result.problems == ["line 2: sha256 does not match the entry (the entry was edited)"]


def test_an_edit_with_its_own_hash_recomputed_breaks_the_next_link(tmp_path: Path):
    path = _log_of_four(tmp_path)
    _edit_line(path, 1, lambda e: e.update(participants=3, sha256=entry_sha256({**e, "participants": 3})))
    assert verify_log(path).problems == ["line 3: prev_sha256 is not the previous entry's sha256 (broken chain)"]


def test_deleting_a_line_fails(tmp_path: Path):
    path = _log_of_four(tmp_path)
    lines = _lines(path)
    path.write_text("".join(lines[:1] + lines[2:]))
    assert verify_log(path).problems == [
        "line 2: seq 2, expected 1 (an entry deleted, inserted or moved)",
        "line 2: prev_sha256 is not the previous entry's sha256 (broken chain)",
    ]


def test_reordering_two_lines_fails(tmp_path: Path):
    path = _log_of_four(tmp_path)
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_text("".join(lines))
    problems = verify_log(path).problems
    assert problems[0] == "line 2: seq 2, expected 1 (an entry deleted, inserted or moved)"
    assert {p.split(":")[0] for p in problems} == {"line 2", "line 3", "line 4"}


def test_truncating_the_last_line_fails_and_blocks_further_appends(tmp_path: Path):
    path = _log_of_four(tmp_path)
    path.write_bytes(path.read_bytes()[:-20])
    result = verify_log(path)
    assert not result.ok and result.entries == 4
    assert result.problems == ["line 4: truncated final line (no newline at the end of the log)"]
    # Chaining onto an entry nobody can verify would hide the damage: the append is refused.
    with pytest.raises(AuditLogError, match="truncated"):
        append_entry(path, "release_received", {})


def test_a_forged_entry_with_a_wrong_prev_hash_fails(tmp_path: Path):
    path = _log_of_four(tmp_path)
    forged = {
        "seq": 4,
        "time_utc": "2025-03-01T00:00:00+00:00",
        "event": "contribution",
        "participants": 50,
        "prev_sha256": "f" * 64,
    }
    forged["sha256"] = entry_sha256(forged)
    with path.open("a") as log:
        log.write(json.dumps(forged, sort_keys=True, separators=(",", ":")) + "\n")
    result = verify_log(path)
    assert result.entries == 5
    assert result.problems == ["line 5: prev_sha256 is not the previous entry's sha256 (broken chain)"]


def test_bad_json_and_missing_fields_are_named_by_line(tmp_path: Path):
    path = _log_of_four(tmp_path)
    lines = _lines(path)
    lines[0] = lines[0][:30] + "\n"
    lines[3] = json.dumps({"seq": 3, "event": "contribution"}) + "\n"
    path.write_text("".join(lines))
    problems = verify_log(path).problems
    assert problems[0] == "line 1: not valid JSON"
    assert "line 4: missing time_utc, prev_sha256, sha256" in problems


def test_append_refuses_unknown_events_and_reserved_fields(tmp_path: Path):
    with pytest.raises(ValueError, match="contribution, census_commitments, unmask, release_received"):
        append_entry(tmp_path / "audit.log", "upload", {})
    with pytest.raises(ValueError, match="reserved"):
        append_entry(tmp_path / "audit.log", "contribution", {"seq": 9})


def test_a_fresh_log_is_readable_by_its_owner_only(tmp_path: Path):
    path = audit_log_path(tmp_path / "site.toml")
    assert path == tmp_path / "audit.log"
    append_entry(path, "release_received", {"spec_id": "x"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_contribution_that_cannot_be_recorded_is_refused_without_detail(tmp_path: Path, monkeypatch):
    site = tmp_path / "gone" / "site.toml"  # no such folder: the log cannot be created
    with pytest.raises(FileNotFoundError):
        record_contribution(site, SPEC, 5, 7, 101, "key")
    prepared = SimpleNamespace(release_key="key")
    monkeypatch.setattr("client.contribution.prepare_contribution", lambda *args: prepared)
    monkeypatch.setattr("client.contribution.sendable_arrays", lambda *args: pytest.fail("sent unrecorded"))
    with pytest.raises(ContributionRefused) as refused:
        contribute(site, SPEC.SerializeToString(), participants=5, run_id=7, node_id=101)
    assert "gone" not in str(refused.value) and refused.value.__cause__ is None


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = _log_of_four(tmp_path)
    assert main(["audit", "verify", "--site", str(tmp_path / "site.toml")]) == 0
    assert "4 entries, OK" in capsys.readouterr().out
    assert main(["audit", "verify", "--log", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["ok"] and shown["entries"] == 4 and shown["log"] == str(path)

    _edit_line(path, 2, lambda e: e.update(participants=1))
    assert main(["audit", "verify", "--log", str(path)]) == 1
    assert "line 3: sha256 does not match the entry" in capsys.readouterr().out
    assert main(["audit", "verify", "--log", str(path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["problems"] == [
        "line 3: sha256 does not match the entry (the entry was edited)"
    ]
    assert main(["audit", "verify", "--log", str(tmp_path / "missing.log")]) == 2
    assert "missing.log" in capsys.readouterr().err


def test_each_site_logs_both_rounds_and_the_release_it_received(tmp_path: Path):
    from flwr.app import Context, RecordDict

    from client.client_app import build_client_app
    from common.release_json import read_release_json
    from server.server_app import run_release, send_release
    from simulations.fleet import FleetConfig, generate_fleet
    from simulations.loopback import FIRST_NODE_ID, LoopbackGrid
    from simulations.onboarding import fleet_spec

    config = FleetConfig(operators=3, turbines_per_operator=2, months=2, seed=8, models=("E-82/2300",))
    sites = generate_fleet(config, tmp_path)
    grid = LoopbackGrid(build_client_app(sites), len(sites))
    context = Context(run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config={})
    release = run_release(grid, context, fleet_spec(config), len(sites))
    send_release(grid, release)
    release_bytes = release.SerializeToString(deterministic=True)  # as the aggregator sends and stores it

    for partition, site in enumerate(sites):
        log = audit_log_path(site)
        assert verify_log(log).ok and verify_log(log).entries == 11
        logged = [json.loads(line) for line in _lines(log)]
        census_round = ["contribution", "census_commitments", "unmask"]  # the commitments checked before unmasking
        assert [e["event"] for e in logged] == [*census_round, "contribution", "unmask"] * 2 + ["release_received"]
        commitments = [e for e in logged if e["event"] == "census_commitments"]
        assert all(len(e["census_commitments_sha256"]) == 64 and e["run_id"] == grid.run.run_id for e in commitments)
        entries = [e for e in logged if e["event"] != "census_commitments"]
        # Every unmask of a round, before its shares were revealed, with the round's survivors.
        assert all(len(e["survivor_members"]) == e["survivors"] for e in entries[1:8:2])  # each by name
        assert [(e["round"], e["survivors"]) for e in entries[1:8:2]] == [
            ("census 1", 3),
            ("1", 3),
            ("census 2", 3),
            ("2", 3),
        ]
        census_one, round_one, census_two, round_two, received = (*entries[0:8:2], entries[8])
        assert [e["round"] for e in (census_one, round_one, census_two, round_two)] == [
            "census 1",
            "1",
            "census 2",
            "2",
        ]
        assert round_one["participants"] == round_two["participants"] == len(sites)
        # Every round of the release is one release in the site's calendar; each values round names its census.
        assert {e["release_key"] for e in (census_one, round_one, census_two, round_two)} == {round_one["spec_sha256"]}
        assert round_one["census_sha256"] and round_two["census_sha256"] and census_one["census_sha256"] is None
        assert round_one["node_id"] == FIRST_NODE_ID + partition and round_one["run_id"] == grid.run.run_id
        # The spec hashes the site recorded are the ones the release names in its provenance.
        assert round_one["spec_sha256"] == received["spec_sha256"] == release.provenance.spec_sha256
        assert round_two["spec_sha256"] == received["indicator_spec_sha256"]
        assert received["indicator_spec_sha256"] == release.provenance.indicator_spec_sha256
        assert received["participants"] == len(sites)
        assert received["release_sha256"] == hashlib.sha256(release_bytes).hexdigest()
        stored = site.parent / received["stored_at"]
        assert read_release_json(stored).spec_id == release.spec_id
        # Nothing but names and shapes: no entry holds a number list longer than a shape.
        assert all(
            len(block["shape"]) <= 3 for e in (census_one, round_one, census_two, round_two) for block in e["blocks"]
        )


def test_repair_drops_a_torn_last_line_after_asking_and_records_it_in_the_log(tmp_path: Path, capsys, monkeypatch):
    path = _log_of_four(tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole[:-20])  # a crash mid-append of the fourth entry
    torn = whole[:-20].rsplit(b"\n", 1)[1]
    site = str(tmp_path / "site.toml")

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["audit", "repair", "--site", site]) == 1
    out = capsys.readouterr().out
    assert "line 4 is torn" in out and torn.decode() in out and "nothing changed" in out
    assert path.read_bytes() == whole[:-20]
    with pytest.raises(AuditLogError, match="fleetbench audit repair"):  # the site refuses every round meanwhile
        append_entry(path, "release_received", {})

    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["audit", "repair", "--site", site]) == 0
    assert "recorded the repair as entry 3; the log verifies: 4 entries, OK" in capsys.readouterr().out
    repair = json.loads(_lines(path)[-1])
    assert repair["event"] == "repair" and repair["line"] == 4 and repair["dropped_text"] == torn.decode()
    assert repair["dropped_sha256"] == hashlib.sha256(torn).hexdigest()
    assert b"".join(line.encode() for line in _lines(path)[:3]) == whole[: whole.index(torn)]  # the rest untouched
    append_entry(path, "release_received", {"spec_id": "after"})  # the site takes part again
    assert verify_log(path).ok and verify_log(path).entries == 5
    assert main(["audit", "repair", "--log", str(path)]) == 0
    assert "nothing to repair" in capsys.readouterr().out


def test_repair_of_a_log_whose_only_line_is_torn_needs_no_question_with_yes(tmp_path: Path, capsys):
    path = tmp_path / "audit.log"
    path.write_bytes(b'{"event":"contribution","seq":0,')
    assert main(["audit", "repair", "--log", str(path), "--yes"]) == 0
    assert verify_log(path).ok and [json.loads(line)["seq"] for line in _lines(path)] == [0]


def test_a_log_damaged_elsewhere_than_its_last_line_is_not_repaired(tmp_path: Path, capsys):
    path = _log_of_four(tmp_path)
    _edit_line(path, 1, lambda e: e.update(participants=1))
    path.write_bytes(path.read_bytes()[:-20])
    before = path.read_bytes()
    assert main(["audit", "repair", "--log", str(path), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "is not repaired: it is damaged elsewhere than a torn last line (line 2: sha256 does not match" in err
    assert path.read_bytes() == before


def test_a_round_unmasked_again_only_over_its_first_members():
    """Over {a, b, c} first: again over {c, a, b} admitted, over {a, b, d} refused naming who differs; an entry
    written before members were recorded compares the number of survivors only."""
    first = {"event": "unmask", "spec_id": "s", "release_key": "k", "round": "1", "time_utc": "t", "survivors": 3}
    fields = {"release_key": "k", "round": "1", "survivors": 3}
    check_unmask_calendar(
        [{**first, "survivor_members": ["a", "b", "c"]}], {**fields, "survivor_members": ["c", "a", "b"]}
    )
    with pytest.raises(CalendarConflict, match=r"without \['c'\], with \['d'\]"):
        check_unmask_calendar(
            [{**first, "survivor_members": ["a", "b", "c"]}], {**fields, "survivor_members": ["a", "b", "d"]}
        )
    check_unmask_calendar([first], {**fields, "survivor_members": ["a", "b", "d"]})
    with pytest.raises(CalendarConflict, match="over 3 sites"):
        check_unmask_calendar([first], {**fields, "survivors": 2, "survivor_members": ["a", "b"]})
