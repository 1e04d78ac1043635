"""``fleetbench release deploy`` tells the truth: a run is a release only if the store holds it.

A stand-in ``flwr`` (a script answering as Flower 1.42's does with ``--format json``) plays the
SuperLink: the deployment engine itself is tests/deployment's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from google.protobuf import json_format

from protos.codec import spec_sha256
from protos.fleetbench.v1 import release_pb2
from server.deployment import Federation, deploy_release
from server.spec import power_curve_spec
from server.store import write_release

FAKE_FLWR = """#!{python}
import json, re, shutil, sys, time
from pathlib import Path
args = [a for a in sys.argv[1:] if a not in ("--format", "json", "--stream")]
here = Path(__file__).parent.parent
if args[0] == "ls" and "--run-id" in args:
    print(json.dumps({{"success": True, "runs": [{{"run-id": "42", "status": "finished:completed"}}]}}))
elif args[0] == "ls":
    print(json.dumps({{"success": True, "runs": [
        {{"run-id": "7", "status": "running", "running-at": "2026-01-01 10:00:00Z"}},
        {{"run-id": "8", "status": "finished:failed"}}]}}))
elif args[0] == "run":
    config = args[args.index("--run-config") + 1]
    (here / "run-config").write_text(config)
    if (here / "made.sqlite").exists():  # the ServerApp stored its release
        shutil.copy(here / "made.sqlite", re.search(r'store="([^"]+)"', config).group(1))
    print(json.dumps({{"success": True, "run-id": "42"}}))
elif args[0] == "log":
    time.sleep(0.5)  # the log's lines come after the run's status says finished
    print("INFO :      [ROUND 1]")
    print("fleetbench: round 1 census: 3 sites summed in 30.0 s")
"""


@pytest.fixture
def federation(tmp_path: Path) -> Federation:
    flwr = tmp_path / "bin" / "flwr"
    flwr.parent.mkdir()
    flwr.write_text(FAKE_FLWR.format(python=sys.executable))
    flwr.chmod(0o755)
    return Federation(tmp_path, "consortium", str(flwr))


def _run_config(tmp_path: Path) -> dict[str, object]:
    spec = power_curve_spec("q1", "2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z", ["E-82/2300"])
    (tmp_path / "spec.json").write_text(json_format.MessageToJson(spec))
    release = release_pb2.Release(spec_id="q1")
    release.period.start, release.period.end = spec.period.start, spec.period.end
    release.provenance.spec_sha256, release.provenance.method = spec_sha256(spec), "secagg+"
    write_release(tmp_path / "made.sqlite", release)
    return {"spec": "spec.json", "store": "release.sqlite", "release-json": "", "min-sites": 3}


def test_a_completed_run_without_its_release_in_the_store_is_not_a_release(federation, tmp_path, monkeypatch):
    """Flower says finished:completed; the store has nothing: not stored. Stale runs are named first."""
    monkeypatch.chdir(tmp_path)
    run_config = _run_config(tmp_path)
    (tmp_path / "made.sqlite").rename(tmp_path / "kept.sqlite")  # this ServerApp stores nothing
    lines: list[str] = []
    outcome = deploy_release(federation, run_config, poll=0.1, progress=lambda line, ongoing=False: lines.append(line))
    assert outcome.run_id == 42 and outcome.status == "finished:completed" and not outcome.stored
    assert outcome.stale == ["run 7 (running since 2026-01-01 10:00:00Z)"]
    assert any("flwr stop RUN_ID consortium" in line for line in lines)
    assert "submitted: run 42 on consortium" in lines and "run 42: finished:completed" in lines
    # The paths the ServerApp gets are absolute: it runs in another folder.
    assert f'store="{tmp_path / "release.sqlite"}"' in (tmp_path / "run-config").read_text()

    # Control: the same run, its release stored, is a release.
    (tmp_path / "kept.sqlite").rename(tmp_path / "made.sqlite")
    outcome = deploy_release(federation, run_config, poll=0.1, progress=lambda line, ongoing=False: lines.append(line))
    assert outcome.stored and outcome.release_id == 1
    assert "fleetbench: round 1 census: 3 sites summed in 30.0 s" in lines


def test_the_command_exits_1_unless_stored_and_refuses_a_spec_already_stored(federation, tmp_path, monkeypatch, capsys):
    from fleetbench.cli import main

    monkeypatch.chdir(tmp_path)
    _run_config(tmp_path)
    (tmp_path / "made.sqlite").rename(tmp_path / "kept.sqlite")
    command = [
        "--quiet",
        "release",
        "deploy",
        "--app",
        str(tmp_path),
        "--federation",
        "consortium",
        "--flwr",
        federation.flwr,
    ]
    command += ["--spec", "spec.json", "--store", "release.sqlite"]
    assert main(command) == 1
    assert "NOT stored: run 42 is finished:completed; release.sqlite holds no release" in capsys.readouterr().out
    (tmp_path / "kept.sqlite").rename(tmp_path / "made.sqlite")
    assert main(command) == 0
    assert "stored: release 1 of spec.json in release.sqlite (run 42, finished:completed)" in capsys.readouterr().out
    assert main(command) == 2  # the store holds it now: refused before any run
    assert "already holds" in capsys.readouterr().err


def test_the_command_passes_max_colluding_members_and_refuses_a_negative_one_before_any_run(
    federation, tmp_path, monkeypatch, capsys
):
    from fleetbench.cli import main

    monkeypatch.chdir(tmp_path)
    _run_config(tmp_path)
    command = ["--quiet", "release", "deploy", "--app", str(tmp_path), "--federation", "consortium"]
    command += ["--flwr", federation.flwr, "--spec", "spec.json", "--store", "release.sqlite"]
    assert main([*command, "--max-colluding-members", "-1"]) == 2
    assert "run config max-colluding-members = -1: use 0 or a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "run-config").exists()  # refused before any run was submitted

    # Control: 2 goes to the ServerApp.
    assert main([*command, "--max-colluding-members", "2"]) == 0
    assert "max-colluding-members=2" in (tmp_path / "run-config").read_text()
