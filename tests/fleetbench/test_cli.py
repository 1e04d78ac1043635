"""The command line: simulate (pooled, no Ray) and release show, text and JSON; clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetbench.cli import main


def test_pooled_simulation_then_release_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "run"
    assert (
        main(
            [
                "simulate",
                "--operators",
                "3",
                "--turbines",
                "1",
                "--months",
                "1",
                "--seed",
                "3",
                "--out",
                str(out),
                "--pooled",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "generated operator-03" in printed and "method pooled, 3 participants" in printed
    assert (out / "release.sqlite").is_file() and (out / "release.json").is_file()

    assert main(["release", "show", "--store", str(out / "release.sqlite"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == json.loads((out / "release.json").read_text())
    assert len(shown["curves"]) == 4 and shown["k_min_operators"] == 3  # three models and a rated-power band

    assert main(["release", "show", "--store", str(out / "release.sqlite")]) == 0
    assert "E-82/2300: 1 operators" not in capsys.readouterr().out  # one operator per model: suppressed


def test_user_errors_print_one_line_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["release", "show", "--store", str(tmp_path / "missing.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fleetbench: error:") and "Traceback" not in err and "missing.sqlite" in err
