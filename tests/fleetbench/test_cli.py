"""The command line: simulate (pooled, no Ray: the whole release) and release show, text and JSON; clean errors."""

from __future__ import annotations

import errno
import io
import json
import os
import re
from pathlib import Path

import pytest
from progress_text import assert_in_order, assert_plain_lines

from fleetbench.cli import TerminalProgress, main


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
    printed, progress = capsys.readouterr()
    assert "method pooled, 3 participants" in printed and "generating operator" not in printed
    assert_in_order(
        progress,
        "generating operator-01 (1/3): E-82/2300, 1 turbines, 4,464 records in ",
        "generating operator-03 (3/3): N117/2400, 1 turbines, 4,464 records in ",
        "pooled reference: computing both rounds from the raw rows of 3 operators\n",
        "pooled reference: both rounds from the raw rows of 3 operators in ",
    )
    assert_plain_lines(progress)
    assert (out / "release.sqlite").is_file() and (out / "release.json").is_file()

    assert main(["release", "show", "--store", str(out / "release.sqlite"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == json.loads((out / "release.json").read_text())
    assert len(shown["curves"]) == 4 and shown["k_min_operators"] == 3  # three models and a rated-power band
    # The whole release, both rounds: the band's three operators make its models and its baselines.
    band = "1500-3000 kW"
    models = {m["target"]: m for m in shown["models"] if m["cohort"] == band}
    assert set(models) == {"WTRM_GbxBrgTmp", "WGEN_GnBrgTmp"}
    assert all(not m["suppressed"] and len(m["coefficients"]) == 3 for m in models.values())
    assert all(m["suppressed"] for m in shown["models"] if m["cohort"] != band)  # one operator per model
    distributions = {d["indicator"]: d for d in shown["distributions"] if not d["suppressed"]}
    assert {d["cohort"] for d in shown["distributions"] if not d["suppressed"]} == {band}
    assert set(distributions) == {
        "performance_index",
        "yaw_misalignment",
        "time_availability",
        "production_availability",
        "residual:WTRM_GbxBrgTmp",
        "residual:WGEN_GnBrgTmp",
    }
    assert sum(map(int, distributions["performance_index"]["counts"])) == 3  # one turbine per operator
    assert any(x["share_of_potential"] > 0 for x in shown["lost_production"] if not x["suppressed"])
    assert shown["failure_rates"] and shown["indicator_spec"]["indicators"]["baseline_release_sha256"]
    assert shown["provenance"]["indicator_participants"] == 3
    assert "normal-behaviour models" in printed and "industry distributions" in printed

    assert main(["release", "show", "--store", str(out / "release.sqlite")]) == 0
    assert "E-82/2300: 1 operators" not in capsys.readouterr().out  # one operator per model: suppressed


def test_user_errors_print_one_line_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["release", "show", "--store", str(tmp_path / "missing.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fleetbench: error:") and "Traceback" not in err and "missing.sqlite" in err


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (errno.ENOSPC, "No space left on device; free space on its disk, or choose another path"),
        (errno.EROFS, "Read-only file system; its file system is mounted read-only: choose another path"),
    ],
)
def test_a_full_or_read_only_disk_is_one_line_naming_the_file_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, error: int, says: str
):
    def full(source: object, target: object) -> None:
        raise OSError(error, os.strerror(error), str(target))

    monkeypatch.setattr(os, "replace", full)  # the last step of every atomic write
    out = tmp_path / "spec.json"
    argv = ["spec", "new", "--id", "q1", "--start", "2025-01-01T00:00:00Z", "--end", "2025-02-01T00:00:00Z"]
    assert main([*argv, "--model", "E-82/2300", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"fleetbench: error: {out}: {says}\n"
    assert not out.exists() and not list(tmp_path.iterdir())  # nothing half-written left behind
    # Control: the message without the file error's own parts says neither the file nor the fix.
    assert str(OSError(error, os.strerror(error))) == f"[Errno {error}] {os.strerror(error)}"


def test_validate_preview_and_spec_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from simulations.fleet import FleetConfig, generate_fleet

    (site,) = generate_fleet(FleetConfig(operators=1, turbines_per_operator=2, months=1, seed=5), tmp_path / "fleet")
    spec = tmp_path / "spec.json"
    assert (
        main(
            [
                "spec",
                "new",
                "--id",
                "q1",
                "--start",
                "2025-01-01T00:00:00Z",
                "--end",
                "2025-02-01T00:00:00Z",
                "--model",
                "E-82/2300",
                "--rated-band",
                "1500",
                "3000",
                "--out",
                str(spec),
            ]
        )
        == 0
    )
    assert "2 cohorts and 36 blocks" in capsys.readouterr().out

    assert main(["validate", "--site", str(site), "--json"]) == 0
    printed, progress = capsys.readouterr()
    report = json.loads(printed)  # stdout is the JSON object and nothing else: progress goes to stderr
    assert report["usable"] and [t["asset_id"] for t in report["turbines"]] == ["WTG01", "WTG02"]
    export = site.parent / "scada.csv"
    assert re.fullmatch(
        r"reading scada\.csv: 8,928 rows, (\d+) kB of \1 kB \(100%\)\n"
        r"reading scada\.csv: 8,928 rows, (\d+) kB in \d+\.\d s\n",
        progress,
    )
    assert progress.split()[4] == f"{export.stat().st_size / 1000:.0f}"
    assert main(["--quiet", "validate", "--site", str(site), "--json"]) == 0
    printed, progress = capsys.readouterr()
    assert json.loads(printed) == report and progress == ""

    assert main(["preview", "--site", str(site), "--spec", str(spec), "--json"]) == 0
    printed, progress = capsys.readouterr()
    preview = json.loads(printed)
    # Validated, then summarised: the export is read twice.
    assert progress.count("reading scada.csv: 8,928 rows, ") == 4 and progress.count(" s\n") == 2
    blocks = {b["block"]: b for b in preview["blocks"]}
    assert len(blocks) == 36 and blocks["E-82/2300:COHORT_CONTRIBUTOR"]["total"] == 1.0
    counts = {row["asset_id"]: row for row in preview["filter_report"]}
    assert counts["WTG01"]["records"] == 31 * 144
    assert counts["WTG01"]["used"] + counts["WTG01"]["status"] <= counts["WTG01"]["records"]
    assert blocks["E-82/2300:RECORD_COUNT"]["total"] == sum(row["used"] for row in counts.values())
    by_wind_speed = preview["filters_by_wind_speed"]
    assert [row["wind_speed_from"] for row in by_wind_speed] == list(range(26))
    assert sum(row["records"] for row in by_wind_speed) == sum(row["records"] for row in counts.values())

    site.write_text(site.read_text().replace("elevation_m", "altitude"))
    assert main(["validate", "--site", str(site)]) == 1
    assert "[site] altitude is not a setting" in capsys.readouterr().out
    # preview --json of an unusable site prints validate's object, not text.
    assert main(["preview", "--site", str(site), "--spec", str(spec), "--json"]) == 1
    shown = json.loads(capsys.readouterr().out)
    assert shown["usable"] is False and "altitude" in shown["findings"][0]["problem"]


def test_a_mast_turbine_joins_only_mast_cohorts_and_preview_names_one_outside_every_cohort(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from simulations.fleet import FleetConfig, generate_fleet

    (site,) = generate_fleet(FleetConfig(operators=1, turbines_per_operator=2, months=1, seed=5), tmp_path / "fleet")
    text = site.read_text()
    at = text.index('asset_id = "WTG02"')
    site.write_text(text[:at] + 'anemometer = "mast"\n' + text[at:])
    spec_args = ["spec", "new", "--id", "q1", "--start", "2025-01-01T00:00:00Z", "--end", "2025-02-01T00:00:00Z"]
    spec_args += ["--model", "E-82/2300"]
    both, nacelle = tmp_path / "both.json", tmp_path / "nacelle.json"
    assert (
        main([*spec_args, "--wind-speed-reference", "nacelle", "--wind-speed-reference", "mast", "--out", str(both)])
        == 0
    )
    assert main([*spec_args, "--out", str(nacelle)]) == 0
    capsys.readouterr()

    assert main(["preview", "--site", str(site), "--spec", str(both), "--json"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert {row["cohort"]: row["bins_filled"] > 0 for row in preview["cells_filled"]} == {
        "E-82/2300": True,
        "E-82/2300 [mast]": True,
    }
    blocks = {b["block"]: b["total"] for b in preview["blocks"]}
    used = {row["asset_id"]: row["used"] for row in preview["filter_report"]}
    assert (
        blocks["E-82/2300:RECORD_COUNT"] == used["WTG01"] and blocks["E-82/2300 [mast]:RECORD_COUNT"] == used["WTG02"]
    )
    assert preview["outside_every_cohort"] == []

    assert main(["preview", "--site", str(site), "--spec", str(nacelle)]) == 0
    printed = capsys.readouterr().out
    assert "turbines in no cohort of this spec" in printed and "WTG02 MET_MAST" in " ".join(printed.split())


def test_flags_show_a_sites_turbines_against_the_final_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from simulations.fleet import FleetConfig, generate_fleet
    from simulations.fleet_faults import FaultConfig
    from simulations.onboarding import fleet_spec, run_release_in_process

    config = FleetConfig(
        operators=3, turbines_per_operator=2, months=2, seed=8, models=("E-82/2300",), faults=FaultConfig()
    )
    sites = generate_fleet(config, tmp_path)
    run_release_in_process(sites, fleet_spec(config))
    (received,) = (sites[0].parent / "releases").glob("*.json")

    assert main(["flags", "--site", str(sites[0]), "--release", str(received), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert isinstance(shown, dict) and shown["site"] == str(sites[0])  # an object, as every --json output
    flags = shown["flags"]
    indicators = {row["indicator"] for row in flags}
    assert {"performance_index", "yaw_misalignment", "time_availability"} <= indicators
    assert {row["asset_id"] for row in flags} == {"WTG01", "WTG02"}
    assert {row["cohort"] for row in flags} == {"E-82/2300"}  # each turbine against its own model's cohort
    assert main(["flags", "--site", str(sites[0]), "--release", str(received)]) == 0
    assert "computed here, never sent" in capsys.readouterr().out
    # A round-1-only release has nothing to flag against: a clear error, no traceback.
    from common.release_json import export_json, read_release_json

    round_one = read_release_json(received)
    round_one.ClearField("indicator_spec")
    export_json(round_one, tmp_path / "round-one.json")
    assert main(["flags", "--site", str(sites[0]), "--release", str(tmp_path / "round-one.json")]) == 2
    assert "has no indicator round" in capsys.readouterr().err


def test_flags_on_a_solar_plant_point_to_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Flags are a wind site's; a plant (with the solar release it received) is told where its findings are."""
    from common.release_json import export_json
    from protos.fleetbench.v1 import release_pb2

    plant = tmp_path / "site.toml"
    plant.write_text('[site]\nkind = "solar"\nname = "kassel-pv"\n')
    received = tmp_path / "solar-2025-04-01-3m.json"
    release = release_pb2.Release(spec_id="solar-2025-04-01-3m")
    release.solar.SetInParent()
    export_json(release, received)
    assert main(["flags", "--site", str(plant), "--release", str(received)]) == 2
    error = capsys.readouterr().err
    assert "flags are for wind sites" in error and "indicator round" not in error
    assert f"fleetbench report --site {plant} --release {received} --out report.html" in error


def test_a_solar_simulation_refuses_the_wind_fleets_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """--turbines and --no-faults would be ignored by --solar: refused by name before anything is written."""
    solar = ["simulate", "--solar", "--operators", "3", "--months", "1", "--out", str(tmp_path / "run")]
    for options in (["--no-faults"], ["--turbines", "2"], ["--turbines", "2", "--no-faults"]):
        assert main([*solar, *options]) == 2
        error = capsys.readouterr().err
        named = " and ".join(option for option in options if option.startswith("--"))
        assert f"{named}: for a wind fleet only" in error and f"leave out {named}" in error
    assert not (tmp_path / "run").exists()


def test_consortium_keys_and_certificates(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["consortium", "ca", "--out", str(tmp_path / "ca")]) == 0
    ca_args = ["--ca-cert", str(tmp_path / "ca" / "ca.pem"), "--ca-key", str(tmp_path / "ca" / "ca.key")]
    args = ["consortium", "server-cert", *ca_args, "--hostname", "link.example", "--ip", "127.0.0.1"]
    assert main([*args, "--out", str(tmp_path / "link")]) == 0
    assert main(["consortium", "node-keys", "--name", "north", "--out", str(tmp_path / "node")]) == 0
    out = capsys.readouterr().out
    assert "north.key (private: keep it on this machine)" in out and "server.pem" in out
    assert (tmp_path / "node" / "north.pub").read_text().startswith("ecdsa-sha2-nistp384 ")
    assert (tmp_path / "node" / "north.key").stat().st_mode & 0o777 == 0o600
    # Never overwrites a key: a clean error, exit 2.
    assert main(["consortium", "node-keys", "--name", "north", "--out", str(tmp_path / "node")]) == 2


def test_private_spec_release_text_and_privacy_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from google.protobuf import json_format

    from fleetbench.cli import format_release
    from protos.fleetbench.v1 import spec_pb2
    from simulations.fleet import FleetConfig, generate_fleet
    from simulations.onboarding import run_release_in_process

    spec_path = tmp_path / "spec.json"
    new = ["spec", "new", "--id", "private-q1", "--start", "2025-01-01T00:00:00Z", "--end", "2025-02-01T00:00:00Z"]
    # Epsilon 50: six turbines give a bin enough weight for the noise to let it through (below that,
    # every site declines the release before spending anything), at sites whose budget allows it.
    private = ["--epsilon", "50", "--min-noise-sites", "3"]
    assert main([*new, "--model", "E-82/2300", *private, "--out", str(spec_path)]) == 0
    spec = json_format.Parse(spec_path.read_text(), spec_pb2.BenchmarkSpec())
    assert spec.privacy.epsilon == 50.0 and spec.privacy.min_noise_sites == 3

    config = FleetConfig(operators=3, turbines_per_operator=2, months=1, seed=9, models=("E-82/2300",))
    sites = generate_fleet(config, tmp_path / "fleet")
    for site in sites:
        site.write_text(site.read_text() + "\n[policy]\nprivacy_epsilon_per_year = 200.0\n")
    capsys.readouterr()
    assert main(["preview", "--site", str(sites[0]), "--spec", str(spec_path)]) == 0
    printed = capsys.readouterr().out
    assert "would charge epsilon 50.000 at delta 1e-06 per turbine" in printed and "sites_like_this_needed" in printed
    text = format_release(run_release_in_process(sites, spec, send=False, run_id=3))
    assert "differentially private: epsilon 50 at delta 1e-06 per turbine" in text
    assert "usable" in text and "+-P50" in text

    capsys.readouterr()
    assert main(["privacy", "status", "--site", str(sites[0]), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["releases_last_365_days"] == 1
    assert status["spent_epsilon_last_365_days"] == pytest.approx(50.0, rel=1e-6)
    assert status["left_epsilon"] == pytest.approx(150.0, rel=1e-6)
    assert main(["privacy", "status", "--site", str(sites[0])]) == 0
    assert "budget (policy privacy_epsilon_per_year): 200" in capsys.readouterr().out


def test_consortium_member_keys_roster_and_what_a_site_pinned(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from simulations.fleet import FleetConfig, generate_fleet

    keys = tmp_path / "keys"
    for name in ("north", "south"):
        assert main(["consortium", "member-key", "--name", name, "--out", str(keys)]) == 0
    assert (keys / "north.member.key").stat().st_mode & 0o777 == 0o600
    assert main(["consortium", "member-key", "--name", "north", "--out", str(keys)]) == 2  # never overwrites a key
    roster = tmp_path / "roster.json"
    publics = [str(keys / "north.member.pub"), str(keys / "south.member.pub")]
    assert main(["consortium", "roster", "--consortium", "test", "--out", str(roster), *publics]) == 0
    out = capsys.readouterr().out
    sha = out.split('roster_sha256 = "')[1].split('"')[0]
    assert "2 members: ['north', 'south']" in out and len(sha) == 64
    assert main(["consortium", "roster", "--consortium", "test", "--out", str(roster), *publics]) == 2
    assert "a roster is never overwritten" in capsys.readouterr().err

    # A site installs the roster and its member key, and pins the fingerprint the roster command printed.
    site = generate_fleet(FleetConfig(operators=1, turbines_per_operator=1, months=1, seed=3), tmp_path / "fleet")[0]
    text = site.read_text().split("\n\n", 1)[1]  # without the synthetic [member] table
    member = f'[member]\nname = "north"\nkey = "{keys / "north.member.key"}"\nroster = "{roster}"\n'
    site.write_text(member + f'roster_sha256 = "{sha}"\n\n' + text)
    assert main(["consortium", "pinned", "--site", str(site)]) == 0
    out = capsys.readouterr().out
    assert f"pinned sha256 {sha} (matches)" in out and "<- this site" in out and "south" in out

    site.write_text(member + f'roster_sha256 = "{"0" * 64}"\n\n' + text)
    assert main(["consortium", "pinned", "--site", str(site)]) == 2
    assert "the site pinned 0000000000000000" in capsys.readouterr().err
    site.write_text(text)
    assert main(["consortium", "pinned", "--site", str(site)]) == 1
    assert "no [member] table" in capsys.readouterr().out


def test_release_run_checks_everything_before_round_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from simulations.fleet import FleetConfig, generate_fleet

    sites = generate_fleet(FleetConfig(operators=3, turbines_per_operator=1, months=1, seed=2), tmp_path / "fleet")
    spec = tmp_path / "spec.json"
    new = ["spec", "new", "--id", "q", "--start", "2025-01-01T00:00:00Z", "--end", "2025-02-01T00:00:00Z"]
    assert main([*new, "--model", "E-82/2300", "--out", str(spec)]) == 0
    run = ["release", "run", "--spec", str(spec), *[arg for site in sites for arg in ("--site", str(site))]]

    def refused(arguments: list[str], says: str) -> None:
        capsys.readouterr()
        assert main(arguments) == 2
        assert says in capsys.readouterr().err

    refused([*run[:4], "--site", str(sites[0]), "--store", str(tmp_path / "s.sqlite")], "needs at least 3 sites")
    refused([*run, "--store", str(tmp_path / "missing" / "s.sqlite")], "does not exist; create it")
    (tmp_path / "not-json.json").write_text("spec: yes")
    refused([*run[:3], str(tmp_path / "not-json.json"), *run[4:], "--store", "s"], "is not a BenchmarkSpec")
    sites[1].write_text(sites[1].read_text().split("\n\n", 1)[1])  # no [member] table
    refused([*run, "--store", str(tmp_path / "s.sqlite")], "has no [member] table")
    assert not (tmp_path / "s.sqlite").exists()


def test_release_text_states_no_completeness_range_it_does_not_know():
    from fleetbench.cli import format_release
    from protos.fleetbench.v1 import release_pb2

    release = release_pb2.Release(spec_id="r")
    curve = release.curves.add(cohort="E-82/2300", operator_count=4)
    curve.bins.add(wind_speed_centre=3.0, record_count=10, operator_count=4, mean_power_per_unit=0.02)
    curve.completeness.hours = 1.7
    curve.aep_note = "database incomplete (IEC 61400-12-1, 8.3): no AEP"
    text = format_release(release)
    assert "INCOMPLETE over no known range" in text and "from 0.0 to 0.0" not in text


def test_release_text_shows_no_cp_where_none_is_published_and_says_why():
    from fleetbench.cli import format_release
    from protos.fleetbench.v1 import release_pb2

    release = release_pb2.Release(spec_id="r")
    curve = release.curves.add(cohort="E-82/2300", operator_count=4, implausible_power_coefficient_bins=[7.0])
    curve.bins.add(
        wind_speed_centre=7.0,
        record_count=10,
        operator_count=4,
        mean_wind_speed=7.0,
        mean_power=690.0,
        mean_power_per_unit=0.3,
        p10_normalised_power=0.25,
        p50_normalised_power=0.3,
        p90_normalised_power=0.35,
    )
    (row,) = [line for line in format_release(release).splitlines() if line.startswith("    7.0")]
    assert row.split()[8] == "-"  # the Cp column
    assert "Cp not published at 7 m/s: above the Betz limit" in format_release(release)


def test_help_needs_no_heavy_import_and_every_command_shows_an_example_and_its_defaults():
    import subprocess
    import sys

    # `fleetbench --help` imports the parser only: no pandas, numpy, Flower, plotly (5 s before, 0.2 s after).
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, fleetbench.cli; fleetbench.cli.parser(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'numpy', 'flwr', 'plotly', 'scipy'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert heavy.strip() == "[]"
    from fleetbench.cli import EXAMPLES, parser

    def leaves(command, path=""):
        subs = [a for a in command._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs or path == "dashboard":
            yield path, command
        for action in subs:
            for name, sub in action.choices.items():
                yield from leaves(sub, f"{path} {name}".strip())

    documented = dict(leaves(parser()))
    assert set(documented) - {""} == set(EXAMPLES)
    for path, command in documented.items():
        if path:
            text = command.format_help()
            assert f"example:\n  fleetbench {path}" in text, path
    simulate = documented["simulate"].format_help()
    assert "(default: 10)" in simulate and "(default: 0)" in simulate  # --operators, --seed


def test_every_option_says_what_it_does():
    """Each option has a help of its own, not only the default the help formatter adds."""
    import argparse

    from fleetbench.cli import parser

    def unexplained(command: argparse.ArgumentParser, path: str) -> list[str]:
        found = []
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += unexplained(sub, f"{path} {name}")
            elif action.option_strings and (action.help is None or action.help.startswith("(default")):
                found.append(f"{path} {action.option_strings[0]}")
        return found

    assert unexplained(parser(), "fleetbench") == []


def test_version_and_no_traceback_when_the_reader_leaves(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"fleetbench {version('fleetbench')}"

    import subprocess
    import sys

    fleet = ["--operators", "3", "--turbines", "1", "--months", "1", "--pooled"]
    assert main(["simulate", *fleet, "--out", str(tmp_path / "r")]) == 0
    store = tmp_path / "r" / "release.sqlite"
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    shown = subprocess.run(
        [sys.executable, "-m", "fleetbench.cli", "release", "show", "--json", "--store", str(store)],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader.stdin.close()
    reader.wait()
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_an_ongoing_line_on_a_terminal_and_writes_plain_lines_elsewhere():
    messages = [("round 1 census: asking every site (at least 3)", True), ("round 1 census: 3 sites summed", False)]
    for stream, expected in (
        (io.StringIO(), "round 1 census: asking every site (at least 3)\nround 1 census: 3 sites summed\n"),
        # The ending line is padded over the longer ongoing one; no escape codes, even on a terminal.
        (
            _Terminal(),
            "\rround 1 census: asking every site (at least 3)\rround 1 census: 3 sites summed" + " " * 16 + "\n",
        ),
    ):
        progress = TerminalProgress(stream)
        for message, ongoing in messages:
            progress(message, ongoing=ongoing)
        progress.close()  # nothing open: nothing written
        assert stream.getvalue() == expected
    terminal = _Terminal()
    progress = TerminalProgress(terminal)
    progress("reading scada.csv: 10 rows", ongoing=True)
    progress.close()  # an error follows on a line of its own
    assert terminal.getvalue() == "\rreading scada.csv: 10 rows\n"


def test_the_solar_cohort_options_name_the_contracts_values():
    from fleetbench.cli import parser
    from protos.domain import CLIMATE_ZONES, MODULE_TECHNOLOGIES, MOUNTINGS

    new = parser()._subparsers._group_actions[0].choices["spec"]._subparsers._group_actions[0].choices["new"]
    helps = {action.dest: action.help for action in new._actions}
    for dest, values in (("technology", MODULE_TECHNOLOGIES), ("mounting", MOUNTINGS), ("climate_zone", CLIMATE_ZONES)):
        assert all(value in helps[dest] for value in values), dest


def test_a_private_solar_spec_gives_the_distribution_share_to_its_plants_distributions(tmp_path, capsys):
    """`spec new --solar --epsilon --distribution-share [--private-distributions]`: the spec noises the plants'
    distributions, all or the named ones; wind refuses it, an unknown name is named."""
    from google.protobuf import json_format

    from protos.fleetbench.v1 import spec_pb2
    from protos.privacy import (
        PLANT_DISTRIBUTION_STATISTICS,
        distribution_units_needed,
        failure_inverters_needed,
        noised_distributions,
        summed_noise_stddev,
    )

    statistic = spec_pb2.Statistic
    new = ["spec", "new", "--id", "pv", "--start", "2025-01-01T00:00:00Z", "--end", "2026-01-01T00:00:00Z"]
    private = ["--epsilon", "3", "--min-noise-sites", "200", "--distribution-share", "0.5"]
    capsys.readouterr()
    assert main([*new, "--solar", *private, "--out", str(tmp_path / "pv.json")]) == 0
    spec = json_format.Parse((tmp_path / "pv.json").read_text(), spec_pb2.BenchmarkSpec())
    # It says what the distributions need: the plants of a cohort at the noise of min_noise_sites sites.
    needed = distribution_units_needed(spec, "all plants", 200, statistic.PERFORMANCE_RATIO_HISTOGRAM)
    printed = capsys.readouterr().out
    assert needed > 100 and f"a cohort needs at least {needed} plants before one can be published" in printed
    assert "distributions noised: performance_ratio, performance_ratio_stc, degradation_rate" in printed
    assert tuple(noised_distributions(spec).values()) == PLANT_DISTRIBUTION_STATISTICS
    assert spec.privacy.min_noise_sites == 200
    noised = {b.statistic for b in spec.blocks if b.noise_stddev > 0}
    assert noised == {statistic.CAPPED_SPECIFIC_POWER_HISTOGRAM, *PLANT_DISTRIBUTION_STATISTICS}
    chosen = ["--private-distributions", "performance_ratio", "degradation_rate"]
    assert main([*new, "--solar", *private, *chosen, "--out", str(tmp_path / "two.json")]) == 0
    two = json_format.Parse((tmp_path / "two.json").read_text(), spec_pb2.BenchmarkSpec())
    assert noised_distributions(two) == {
        "performance_ratio": statistic.PERFORMANCE_RATIO_HISTOGRAM,
        "degradation_rate": statistic.DEGRADATION_RATE_HISTOGRAM,
    }
    capsys.readouterr()
    assert main([*new, *private, "--out", str(tmp_path / "wind.json")]) == 2
    assert "distribution_share" in capsys.readouterr().err and not (tmp_path / "wind.json").exists()
    assert main([*new, "--solar", *private, "--private-distributions", "yield", "--out", str(tmp_path / "x.json")]) == 2
    assert "distributions ['yield'] are none of ['performance_ratio'" in capsys.readouterr().err
    # --max-failures-per-inverter: the failure rates join the share, and it says how many inverters they need.
    failures = ["--max-failures-per-inverter", "2"]
    assert main([*new, "--solar", *private, *failures, "--out", str(tmp_path / "failures.json")]) == 0
    bounded = json_format.Parse((tmp_path / "failures.json").read_text(), spec_pb2.BenchmarkSpec())
    inverters = failure_inverters_needed(bounded, "all plants", 200)
    assert bounded.privacy.max_failures_per_inverter == 2 and inverters > 10
    printed = capsys.readouterr().out
    assert "each inverter's failures capped at 2) carry the same noise" in printed
    assert f"need at least {inverters} inverters" in printed
    assert "no downtime (give --max-downtime-hours-per-inverter to publish it)" in printed
    # --max-downtime-hours-per-inverter: their downtime joins them, and it says the noise on the summed hours.
    downtime = ["--max-downtime-hours-per-inverter", "200"]
    assert main([*new, "--solar", *private, *failures, *downtime, "--out", str(tmp_path / "downtime.json")]) == 0
    capped = json_format.Parse((tmp_path / "downtime.json").read_text(), spec_pb2.BenchmarkSpec())
    hours_noise = summed_noise_stddev(capped, "all plants", 200, statistic.SOLAR_FAILURE_DOWNTIME)
    assert capped.privacy.max_downtime_hours_per_inverter == 200 and hours_noise > 100
    assert f"hours down capped at 200 h) carries noise of {hours_noise:.0f} h" in capsys.readouterr().out
    assert main([*new, "--solar", *private, *downtime, "--out", str(tmp_path / "no-cap.json")]) == 2
    assert "above 0 only with a max_failures_per_inverter above 0" in capsys.readouterr().err
