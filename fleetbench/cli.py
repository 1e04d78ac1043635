"""The ``fleetbench`` command line: argument parsing and printing only."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import shutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from common.atomic_file import write_text_atomically
from common.labels import WIND_SPEED_REFERENCES, wind_speed_reference_note
from common.progress import Stage, silent

if TYPE_CHECKING:  # the commands import what they use when they run: `fleetbench --help` stays fast
    import pandas as pd

    from protos.fleetbench.v1 import release_pb2, spec_pb2


class TerminalProgress:
    """Progress (:class:`common.progress.Progress`) as lines on ``stream``, apart from the output on stdout.

    On a terminal an ongoing line is redrawn in place (a carriage return, then the line padded
    with spaces over the one before: no escape codes); anywhere else (a log file, a pipe) every
    message is a plain line of its own.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._redraw = stream.isatty()
        self._open = 0  # width of the ongoing line the terminal shows, 0 when none

    def __call__(self, message: str, *, ongoing: bool = False) -> None:
        """Write ``message``: to stay, or (``ongoing``, on a terminal) to be redrawn by the next."""
        if not self._redraw:
            print(message, file=self._stream, flush=True)
            return
        if ongoing:  # a line wider than the terminal wraps, and a carriage return redraws its last row only
            message = message[: shutil.get_terminal_size().columns - 1]
        end = "" if ongoing else "\n"
        self._stream.write(f"\r{message.ljust(self._open)}{end}")
        self._stream.flush()
        self._open = len(message) if ongoing else 0

    def close(self) -> None:
        """End an ongoing line on the terminal, so that what is written next starts a line of its own."""
        if self._open:
            self._stream.write("\n")
            self._stream.flush()
            self._open = 0


def format_release(release: release_pb2.Release) -> str:
    """A human-readable summary of a release: one table per cohort, completeness and AEP."""
    p = release.provenance
    solar = release.HasField("solar")
    lines = [
        f"{'solar ' if solar else ''}release of spec {release.spec_id} ({release.contract}), "
        f"period {release.period.start} .. {release.period.end}",
        f"method {p.method}, {p.participants} participants, k = {release.k_min_operators}, "
        f"dominance p = {release.dominance_max_share:.0%}, {p.suppressed_cells} suppressed cells"
        + (
            ""
            if solar
            else f", rho0 = {release.reference_air_density} kg/m^3, filters {[f.name for f in release.filters]}"
        ),
        f"spec sha256 {p.spec_sha256[:16]}..., created {p.created_utc}",
    ]
    private = release.HasField("privacy")
    if private:
        q = release.privacy
        lines.append(
            f"differentially private: epsilon {q.epsilon:g} at delta {q.delta:g} per {q.privacy_unit} "
            f"(zCDP rho {q.rho:.4g}), at most {q.max_records_per_turbine_per_bin} records per {q.privacy_unit} "
            f"per bin, noise sufficient with {q.min_noise_sites} sites or more\n{q.note}"
        )
    if solar:
        return "\n".join(lines + _format_solar_curves(release) + _format_baselines(release))
    header = (
        f"{'V [m/s]':>7} {'weight':>8} {'P [pu]':>7} {'P10':>6} {'P50':>6} {'P90':>6} {'+-P50':>6}"
        if private
        else f"{'V [m/s]':>7} {'N':>7} {'ops':>4} {'mean V':>7} {'P [kW]':>8} {'s_A':>6} {'P [pu]':>7} {'sd [pu]':>7} "
        f"{'Cp':>5} {'P10':>6} {'P50':>6} {'P90':>6}"
    )
    for curve in release.curves:
        if curve.suppressed:
            lines.append(f"\n{curve.cohort}: SUPPRESSED ({curve.suppression_reason})")
            continue
        if not curve.bins:
            lines.append(f"\n{curve.cohort}: {curve.aep_note}")
            continue
        c = curve.completeness
        operators = "" if private else f"{curve.operator_count} operators, "
        span = (
            f"from {c.from_wind_speed:.1f} to {c.to_wind_speed:.1f} m/s"
            if c.to_wind_speed > 0
            else "over no known range (no released bin reaches 85 % of rated power)"
        )
        hours = "" if private else f"{c.hours:.0f} h, "
        lines.append(f"\n{curve.cohort}: {operators}{hours}{'complete' if c.complete else 'INCOMPLETE'} {span}")
        lines.append(wind_speed_reference_note(curve))
        if curve.implausible_power_coefficient_bins:
            bins = ", ".join(f"{v:g}" for v in curve.implausible_power_coefficient_bins)
            lines.append(f"Cp not published at {bins} m/s: above the Betz limit, so the wind speed reads low there")
        lines.append(header)
        for cell in curve.bins:
            if cell.suppressed:
                lines.append(f"{cell.wind_speed_centre:7.1f}  suppressed: {cell.suppression_reason}")
                continue
            if private:
                lines.append(_format_private_bin(cell))
                continue
            s_a = f"{cell.uncertainty_power:6.1f}" if cell.HasField("uncertainty_power") else f"{'-':>6}"
            sd = f"{cell.std_power_per_unit:7.3f}" if cell.HasField("std_power_per_unit") else f"{'-':>7}"
            cp = f"{cell.power_coefficient:5.2f}" if cell.HasField("power_coefficient") else f"{'-':>5}"
            lines.append(
                f"{cell.wind_speed_centre:7.1f} {cell.record_count:7d} {cell.operator_count:4d} "
                f"{cell.mean_wind_speed:7.2f} {cell.mean_power:8.1f} {s_a} {cell.mean_power_per_unit:7.3f} {sd} "
                f"{cp} {cell.p10_normalised_power:6.3f} {cell.p50_normalised_power:6.3f} "
                f"{cell.p90_normalised_power:6.3f}"
            )
        if curve.aep:
            lines.append("AEP (Rayleigh), full-load hours measured / extrapolated:")
            lines.append(
                "  "
                + "  ".join(
                    f"{a.mean_wind_speed:.0f} m/s: "
                    f"{a.measured_full_load_hours:.0f}/{a.extrapolated_full_load_hours:.0f}"
                    + (f" ({a.interpolated_share:.1%} interpolated)" if c.interpolated_bins else "")
                    for a in curve.aep
                )
            )
            if c.interpolated_bins:
                lines.append(curve.aep_note)
        else:
            lines.append(f"AEP: {curve.aep_note}")
    lines += _format_baselines(release)
    return "\n".join(lines)


def _format_solar_curves(release: release_pb2.Release) -> list[str]:
    """Each solar cohort's energy-normalised curve: specific power [kW/kWp] per in-plane irradiance bin."""
    lines = []
    for curve in release.solar_curves:
        if not curve.bins:
            lines.append(f"\n{curve.cohort}: no plant in this cohort")
            continue
        private = release.HasField("privacy")
        lines.append(f"\n{curve.cohort}: specific power P_out / P_0 [kW/kWp] against in-plane irradiance")
        lines.append(
            f"{'G [W/m2]':>8} {'weight':>8} {'mean':>6} {'P10':>6} {'P50':>6} {'P90':>6} {'+-P50':>6}"
            if private
            else f"{'G [W/m2]':>8} {'N':>8} {'ops':>4} {'mean':>6} {'sd':>6} {'P10':>6} {'P50':>6} {'P90':>6}"
        )
        for cell in curve.bins:
            if cell.suppressed:
                lines.append(f"{cell.irradiance_centre:8.0f}  suppressed: {cell.suppression_reason}")
                continue
            if private:
                lines.append(
                    f"{cell.irradiance_centre:8.0f} {cell.noisy_record_weight:8.0f} "
                    + " ".join(
                        _optional(cell, name, 6)
                        for name in (
                            "mean_specific_power",
                            "p10_specific_power",
                            "p50_specific_power",
                            "p90_specific_power",
                            "p50_noise_stddev",
                        )
                    )
                )
                continue
            sd = f"{cell.std_specific_power:6.3f}" if cell.HasField("std_specific_power") else f"{'-':>6}"
            lines.append(
                f"{cell.irradiance_centre:8.0f} {cell.record_count:8d} {cell.operator_count:4d} "
                f"{cell.mean_specific_power:6.3f} {sd} {cell.p10_specific_power:6.3f} {cell.p50_specific_power:6.3f} "
                f"{cell.p90_specific_power:6.3f}"
            )
    return lines


def _optional(cell: release_pb2.PowerCurveBin | release_pb2.SolarCurveBin, name: str, width: int) -> str:
    """A private bin's field to 3 decimals, or "-" where the noise left it unpublished."""
    return f"{getattr(cell, name):{width}.3f}" if cell.HasField(name) else f"{'-':>{width}}"


def _format_private_bin(cell: release_pb2.PowerCurveBin) -> str:
    return (
        f"{cell.wind_speed_centre:7.1f} {cell.noisy_record_weight:8.0f} {_optional(cell, 'mean_power_per_unit', 7)} "
        + " ".join(
            _optional(cell, name, 6)
            for name in ("p10_normalised_power", "p50_normalised_power", "p90_normalised_power", "p50_noise_stddev")
        )
    )


def _format_baselines(release: release_pb2.Release) -> list[str]:
    """Models (round 1) and the industry baselines of round 2, when the release has them."""
    lines = []
    if release.models:
        lines.append(
            f"\nnormal-behaviour models (trained {release.training_period.start} .. {release.training_period.end}):"
        )
    for m in release.models:
        if m.suppressed:
            lines.append(f"  {m.cohort} {m.target}: SUPPRESSED ({m.suppression_reason})")
            continue
        terms = " ".join(f"{c:+.3f} {name}" for c, name in zip(m.coefficients, m.features, strict=True))
        lines.append(
            f"  {m.cohort} {m.target} = turbine intercept {terms}; residual sd {m.residual_std:.2f}, "
            f"{m.record_count} records, {m.operator_count} operators"
        )
    if release.distributions:
        lines.append("\nindustry distributions (P10 / P25 / P50 / P75 / P90):")
    for d in release.distributions:
        if d.suppressed:
            lines.append(f"  {d.cohort} {d.indicator}: suppressed ({d.suppression_reason})")
        elif d.HasField("p50_noise_stddev"):  # differentially private: P10 / P50 / P90 of the denoised bars
            lines.append(
                f"  {d.cohort} {d.indicator} [{d.bins.unit}] over about {sum(d.counts)} {d.counts_of} "
                f"(noise {d.count_noise_stddev:.1f} per bar): {d.p10:.3f} / - / {d.p50:.3f} "
                f"+-P50 {d.p50_noise_stddev:.3f} / - / {d.p90:.3f}"
            )
        else:
            lines.append(
                f"  {d.cohort} {d.indicator} [{d.bins.unit}] over {sum(d.counts)} {d.counts_of}: "
                f"{d.p10:.3f} / {d.p25:.3f} / {d.p50:.3f} / {d.p75:.3f} / {d.p90:.3f}"
            )
    lines += _released_cells("failure rates", release.failure_rates)
    for r in (r for r in release.failure_rates if not r.suppressed):
        band = f"{r.age_from_years:g}-{r.age_to_years:g}" if r.age_to_years else f"{r.age_from_years:g}+"
        lines.append(
            f"  {r.cohort} {r.component} age {band} y: {r.failures_per_turbine_year:.2f} per turbine-year "
            f"({r.failures} in {r.turbine_years:.1f} turbine-years){_downtime(r)}"
        )
    lines += _released_cells("solar failure rates", release.solar_failure_rates)
    for s in (s for s in release.solar_failure_rates if not s.suppressed):
        noise = f" +-{s.rate_noise_stddev:.3f} from the noise" if s.HasField("rate_noise_stddev") else ""
        lines.append(
            f"  {s.cohort} {s.component}: {s.failures_per_inverter_year:.3f} per inverter-year{noise} "
            f"({s.failures} in {s.inverter_years:.1f} inverter-years){_downtime(s)}"
        )
    shares = [x for x in release.lost_production if not x.suppressed and x.share_of_potential > 0]
    if shares:
        lines.append(
            "\nlost production, share of potential: "
            + ", ".join(f"{x.cohort} {x.category} {x.share_of_potential:.2%}" for x in shares)
        )
    return lines


def _released_cells(
    title: str, cells: Sequence[release_pb2.FailureRate] | Sequence[release_pb2.SolarFailureRate]
) -> list[str]:
    """A table's heading: how many of its cells are released and suppressed (nothing without cells)."""
    released = sum(not cell.suppressed for cell in cells)
    return [f"\n{title}: {released} cells released, {len(cells) - released} suppressed"] if cells else []


def _downtime(rate: release_pb2.FailureRate | release_pb2.SolarFailureRate) -> str:
    """A failure rate's mean downtime, as the text states it ("" where the release has none)."""
    return f", {rate.mean_downtime_hours:.0f} h per failure" if rate.HasField("mean_downtime_hours") else ""


def _simulate(args: argparse.Namespace) -> int:
    split = (
        args.distribution_share
        or args.private_distributions
        or args.max_failures_per_inverter
        or args.max_downtime_hours_per_inverter
    )
    if split and not (args.solar and args.epsilon is not None):
        raise ValueError(
            "--distribution-share, --private-distributions, --max-failures-per-inverter and "
            "--max-downtime-hours-per-inverter split a private solar release's budget: give them with --solar --epsilon"
        )
    if args.solar:
        return _simulate_solar(args)
    from common.release_json import export_json
    from server.spec import PrivacySettings
    from server.store import write_release
    from simulations.fleet import FleetConfig
    from simulations.fleet_faults import FaultConfig

    config = FleetConfig(
        operators=args.operators,
        turbines_per_operator=FleetConfig.turbines_per_operator if args.turbines is None else args.turbines,
        months=args.months,
        seed=args.seed,
        faults=None if args.no_faults else FaultConfig(earliest_drift_fraction=0.34),
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    privacy = PrivacySettings(args.epsilon, min_noise_sites=args.operators) if args.epsilon is not None else None
    if args.pooled and privacy is not None:
        raise ValueError("--pooled computes the noiseless reference; leave out --epsilon")
    if args.pooled:
        from simulations.fleet import generate_fleet
        from simulations.onboarding import fleet_spec
        from simulations.pooled import pooled_release

        site_configs = generate_fleet(config, out / "fleet", args.progress)
        stage = Stage(args.progress, "pooled reference")
        stage.update(f"computing both rounds from the raw rows of {len(site_configs)} operators")
        release = pooled_release(site_configs, fleet_spec(config, args.k))
        stage.done(f"both rounds from the raw rows of {len(site_configs)} operators")
        write_release(out / "release.sqlite", release)
        export_json(release, out / "release.json")
    else:
        from simulations.onboarding import simulate

        release = simulate(config, out, args.k, progress=args.progress, privacy=privacy, engine_logs=args.verbose)
    print(format_release(release))
    print(f"\nrelease written to {out / 'release.sqlite'} and {out / 'release.json'}")
    if privacy is not None:
        first = out / "fleet" / "operator-01" / "site.toml"
        print(f"\neach site charged its privacy ledger; see it: fleetbench privacy status --site {first}")
        print("(a private release has no indicator round, so there are no flags or operator report)")
    elif not args.pooled:
        first = out / "fleet" / "operator-01"
        received = next((first / "releases").glob("*.json"))
        print(f"\neach site received the final release; operator-01's own view ({received}):")
        _flags(
            argparse.Namespace(site=str(first / "site.toml"), release=str(received), json=False, progress=args.progress)
        )
        print(f"\nsee it again: fleetbench flags --site {first / 'site.toml'} --release {received}")
        from client.report import write_report

        report = write_report(first / "site.toml", received, out / "operator-01-report.html")
        print(f"\noperator-01's report, computed on its site (nothing sent); open it in a browser: {report}")
    _print_dashboard_help(out)
    return 0


def _simulate_solar(args: argparse.Namespace) -> int:
    from server.spec import PrivacySettings
    from simulations.onboarding import simulate_solar

    if args.pooled:
        raise ValueError("--solar runs the federated release only: leave out --pooled")
    given = " and ".join(
        option
        for option, wind_only in (("--turbines", args.turbines is not None), ("--no-faults", args.no_faults))
        if wind_only
    )
    if given:
        raise ValueError(
            f"{given}: for a wind fleet only; --solar draws each plant's inverters itself and always injects its "
            f"faults (an underperforming inverter, a tilted irradiance sensor, outages): leave out {given}"
        )
    privacy = (
        PrivacySettings(
            args.epsilon,
            min_noise_sites=args.operators,
            distribution_share=args.distribution_share,
            distributions=tuple(args.private_distributions),
            max_failures_per_inverter=args.max_failures_per_inverter,
            max_downtime_hours_per_inverter=args.max_downtime_hours_per_inverter,
        )
        if args.epsilon is not None
        else None
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    release = simulate_solar(
        out, args.operators, args.months, args.seed, args.k, args.progress, args.verbose, privacy=privacy
    )
    print(format_release(release))
    print(f"\nrelease written to {out / 'release.sqlite'} and {out / 'release.json'}")
    first = next(p for p in sorted((out / "fleet").iterdir()) if (p / "site.toml").is_file())
    received = next((first / "releases").glob("*.json"))
    print(f"\neach plant received the final release; {first.name}'s copy: {received}")
    if privacy is not None:
        print(f"each plant charged its privacy ledger; see it: fleetbench privacy status --site {first / 'site.toml'}")
    print(
        f"{first.name}'s report, computed on its site (nothing sent): fleetbench report --site {first / 'site.toml'} "
        f"--release {received} --out {out / f'{first.name}-report.html'}"
    )
    _print_dashboard_help(out)
    return 0


def _print_dashboard_help(out: Path) -> None:
    tokens = out / "dashboard-tokens.json"
    print(
        "\nthe consortium's dashboard over the release store (members log in with a token):\n"
        f"  fleetbench dashboard token --tokens {tokens} --name demo    # prints the token, once\n"
        f"  fleetbench dashboard --store {out / 'release.sqlite'} --tokens {tokens}\n"
        "  then open http://127.0.0.1:8050 and log in with the token"
    )


def _flags(args: argparse.Namespace) -> int:
    from client.flags import turbine_flags
    from client.ingest import read_canonical_chunks
    from client.maintenance import site_indicators
    from client.site_config import load_site_config
    from client.site_kinds import site_kind
    from common.release_json import read_release_json

    if site_kind(Path(args.site)) == "solar":
        raise ValueError(
            f"flags are for wind sites: {args.site} is a solar plant, whose findings (its PR, degradation, soiling, "
            "the inverters that underperform, its lost energy by cause, its failures) are in its report: "
            f"fleetbench report --site {args.site} --release {args.release} --out report.html"
        )
    release = read_release_json(Path(args.release))
    if not release.HasField("indicator_spec"):
        raise ValueError(f"{args.release} has no indicator round; flags need a final (two-round) release")
    site = load_site_config(Path(args.site))
    indicators = site_indicators(
        lambda: read_canonical_chunks(site, progress=args.progress), site, release.indicator_spec, release
    )
    flags = turbine_flags(indicators, release)
    if args.json:
        rows = json.loads(flags.to_json(orient="records", date_format="iso"))
        print(json.dumps({"site": str(args.site), "release": release.spec_id, "flags": rows}, indent=1))
        return 0
    print(f"flags of {args.site} against release {release.spec_id}: computed here, never sent")
    raised = flags[flags["flagged"]]
    _print_table("flagged:", raised[["cohort", "asset_id", "indicator", "evidence"]])
    table = flags.pivot_table(index=["cohort", "asset_id"], columns="indicator", values="value", aggfunc="first")
    position = flags.pivot_table(
        index=["cohort", "asset_id"], columns="indicator", values="industry_percentile", aggfunc="first"
    )
    _print_table("indicators per turbine:", table.reset_index().round(3))
    _print_table("you are here (share of the industry's turbines below each value):", position.reset_index().round(2))
    return 0


def _report(args: argparse.Namespace) -> int:
    from client.report import write_report
    from client.site_kinds import site_kind
    from client.solar.report import write_solar_report

    write = write_solar_report if site_kind(Path(args.site)) == "solar" else write_report
    out = write(Path(args.site), Path(args.release), Path(args.out))
    print(f"report written to {out}: computed here, never sent; it opens offline in any browser")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from server.dashboard.tokens import create_token, revoke_token

    if args.dashboard_command == "token":
        token = create_token(Path(args.tokens), args.name)
        print(f"member token for {args.name} (shown once; only its hash is kept in {args.tokens}):\n{token}")
        return 0
    if args.dashboard_command == "revoke":
        revoke_token(Path(args.tokens), args.name)
        print(f"token of {args.name} removed from {args.tokens}; its sessions end at their next request")
        return 0
    return _serve_dashboard(args)


def _serve_dashboard(args: argparse.Namespace) -> int:
    import uvicorn

    from server.dashboard.app import create_app
    from server.dashboard.tokens import MemberTokens

    if args.store is None:
        raise ValueError("fleetbench dashboard needs --store release.sqlite (or the sub-command token or revoke)")
    store = Path(args.store)
    tokens = Path(args.tokens) if args.tokens else store.parent / "dashboard-tokens.json"
    if not MemberTokens(tokens).members():
        raise ValueError(
            f"no member tokens in {tokens}: nobody could log in; "
            f"create one with `fleetbench dashboard token --tokens {tokens} --name NAME`"
        )
    app = create_app(store, tokens)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host} without TLS; put a TLS proxy in front of it", file=sys.stderr)
    print(f"dashboard of {store} on http://{args.host}:{args.port} (members: tokens in {tokens}); Ctrl-C stops it")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from client.audit import audit_log_path, verify_log

    log = Path(args.log) if args.log else audit_log_path(Path(args.site))
    result = verify_log(log)
    if args.json:
        print(json.dumps({"log": str(log), **result.to_dict()}, indent=1))
    elif result.ok:
        print(f"audit log {log}: {result.entries} entries, OK (last sha256 {result.last_sha256})")
    else:
        print(f"audit log {log}: {result.entries} entries, {len(result.problems)} problems:")
        for problem in result.problems:
            print(f"  {problem}")
    return 0 if result.ok else 1


def _audit_repair(args: argparse.Namespace) -> int:
    from client.audit import audit_log_path, repair_torn_line, torn_last_line, verify_log

    log = Path(args.log) if args.log else audit_log_path(Path(args.site))
    torn = torn_last_line(log)
    if torn is None:
        print(f"audit log {log}: it verifies; nothing to repair")
        return 0
    print(
        f"audit log {log}: line {torn.line} is torn ({len(torn.dropped)} bytes without a newline, as a crash or a "
        f"full disk mid-append leaves it); the {torn.line - 1} entries before it verify.\n"
        f"the repair drops these bytes:\n  {torn.dropped.decode('ascii', errors='backslashreplace')}\n"
        "an entry cut short was never acted on (a contribution is sent, a share revealed, only once its entry is on "
        "disk); the repair keeps what it dropped in an entry of its own"
    )
    if not args.yes and not _confirmed("drop the torn line and record the repair in the log?"):
        print("nothing changed")
        return 1
    entry = repair_torn_line(log, torn)
    checked = verify_log(log)
    print(
        f"dropped line {torn.line}; recorded the repair as entry {entry['seq']}; the log verifies: "
        f"{checked.entries} entries, {'OK' if checked.ok else 'NOT OK'} (last sha256 {checked.last_sha256})"
    )
    return 0 if checked.ok else 1


def _confirmed(question: str) -> bool:
    """Whether the person at the terminal answers yes (no answer, as from an empty pipe, is no)."""
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _add_audit_repair(audit_commands: argparse._SubParsersAction) -> None:
    repair = audit_commands.add_parser(
        "repair",
        help="drop a torn last line (a crash mid-append) after showing it, and record the repair in the log",
        description="A crash or a full disk while the site appends to its audit log leaves a last line without its "
        "newline, and the site then refuses every round. This shows that line, asks, drops it and appends a repair "
        "entry that keeps what was dropped; the chain verifies again. A log damaged anywhere else is not repaired.",
    )
    target = repair.add_mutually_exclusive_group(required=True)
    target.add_argument("--site", help="path of the site's site.toml (its audit.log lies beside it)")
    target.add_argument("--log", help="path of an audit log")
    repair.add_argument("--yes", action="store_true", help="repair without asking")
    repair.set_defaults(run=_audit_repair)


def _consortium(args: argparse.Namespace) -> int:
    from server.consortium import make_ca, make_node_keys, make_server_certificate

    if args.consortium_command in _MEMBER_COMMANDS:
        return _MEMBER_COMMANDS[args.consortium_command](args)
    out = Path(args.out)
    if args.consortium_command == "ca":
        paths = make_ca(out)
    elif args.consortium_command == "server-cert":
        paths = make_server_certificate(
            Path(args.ca_cert), Path(args.ca_key), out, tuple(args.hostname), tuple(args.ip)
        )
    else:
        paths = make_node_keys(out, args.name)
    for path in paths:
        print(f"wrote {path}{' (private: keep it on this machine)' if path.suffix == '.key' else ''}")
    return 0


def _member_key(args: argparse.Namespace) -> int:
    from protos.roster import write_member_key

    private, public = write_member_key(Path(args.out), args.name)
    print(f"wrote {private} (private: the member's identity; keep it on the site, never send it)")
    print(f"wrote {public} (send it to whoever assembles the consortium's roster)")
    return 0


def _roster(args: argparse.Namespace) -> int:
    from protos.roster import Roster, read_public_key

    suffix = ".member.pub"
    members = {}
    for path in map(Path, args.public_keys):
        if not path.name.endswith(suffix):
            raise ValueError(f"{path}: a member public key is named NAME{suffix} (fleetbench consortium member-key)")
        members[path.name.removesuffix(suffix)] = read_public_key(path)
    roster = Roster.of(args.consortium, members)
    out = Path(args.out)
    if out.exists():
        raise FileExistsError(f"{out} exists; a roster is never overwritten: write the new one beside it")
    write_text_atomically(out, roster.to_json() + "\n")
    print(f"wrote {out}: consortium {roster.consortium!r}, {len(roster.members)} members: {sorted(roster.names)}")
    print(
        "every operator checks the members, installs the file and pins it in its site.toml:\n\n"
        f'[member]\nname = "<its member name>"\nkey = "<path of its NAME.member.key>"\nroster = "<path of this file>"\n'
        f'roster_sha256 = "{roster.sha256}"'
    )
    return 0


def _pinned(args: argparse.Namespace) -> int:
    import base64
    import hashlib

    from client.site_config import load_site_config

    site = load_site_config(Path(args.site))
    if site.member is None:
        print(f"{args.site} has no [member] table: the site cannot take part in rounds")
        return 1
    _, roster = site.member.identity()
    print(
        f"site {site.name} speaks for member {site.member.name!r} of consortium {roster.consortium!r}\n"
        f"roster {site.member.roster_path}, pinned sha256 {site.member.roster_sha256} (matches)\n"
        f"{len(roster.members)} members (key fingerprint: first 16 hex of SHA-256 of the public key):"
    )
    for member in sorted(roster.members, key=lambda m: m.name):
        fingerprint = hashlib.sha256(member.public_key).hexdigest()[:16]
        own = "  <- this site" if member.name == site.member.name else ""
        print(f"  {member.name:<24} {fingerprint}  {base64.b64encode(member.public_key).decode()}{own}")
    return 0


_MEMBER_COMMANDS = {"member-key": _member_key, "roster": _roster, "pinned": _pinned}


def _privacy_status(args: argparse.Namespace) -> int:
    from client.privacy import privacy_status
    from client.site_kinds import load_any_site_config, site_kind

    site = load_any_site_config(Path(args.site))
    status = privacy_status(Path(args.site), site.policy, kind=site_kind(Path(args.site)))
    if args.json:
        print(json.dumps(status, indent=1))
        return 1 if status["overspent_epsilon"] else 0
    print(
        f"privacy ledger {status['ledger']}: per {status['privacy_unit']}, at delta {status['delta']:g}\n"
        f"  spent in the last 365 days: epsilon {status['spent_epsilon_last_365_days']:.3f} "
        f"over {status['releases_last_365_days']} releases\n"
        f"  budget (policy privacy_epsilon_per_year): {status['budget_epsilon_per_year']:g}; "
        f"left: {status['left_epsilon']:.3f}"
    )
    for entry in status["entries"]:
        print(f"  {entry['time_utc']}  {entry['spec_id']}  epsilon {entry['epsilon']:.3f}  rho {entry['rho']:.4g}")
    return _warn_overspent(status)


def _warn_overspent(status: dict) -> int:
    """Say so (exit code 1) when the ledger's charges compose past the budget; 0 otherwise."""
    if not status["overspent_epsilon"]:
        return 0
    print(
        f"WARNING: overspent by epsilon {status['overspent_epsilon']:.3f}: the last 365 days' charges compose past "
        f"the budget of {status['budget_epsilon_per_year']:g} (charged without the ledger's lock, the budget lowered "
        f"since, or the ledger edited); every private contribution is refused until {status['within_budget_from']}, "
        "when enough of them have left the window"
    )
    return 1


def _release_show(args: argparse.Namespace) -> int:
    from common.release_json import release_to_dict
    from server.store import read_release

    release = read_release(Path(args.store), args.id)
    print(json.dumps(release_to_dict(release), indent=1) if args.json else format_release(release))
    return 0


def _release_claims(args: argparse.Namespace) -> int:
    """Every claim in the store: releases under way (or whose run stopped) and releases stored but not yet sent."""
    from server.store import claims

    found = claims(Path(args.store))
    if not found:
        print(f"{args.store}: no claims (no release is under way, every stored release was sent)")
        return 0
    for claim in found:
        state = (
            "pending: rounds under way, or the run stopped before storing"
            if claim.pending
            else f"stored as release {claim.release_id}, not yet sent to every site: run the release again to send it"
        )
        print(
            f"spec {claim.spec_id} ({claim.method}, {claim.period_start} .. {claim.period_end}), "
            f"Flower run {claim.flower_run_id} since {claim.claimed_utc}: {state}\n  --spec-sha256 {claim.spec_sha256}"
        )
    return 0


def _release_abandon(args: argparse.Namespace) -> int:
    """Remove a pending claim whose run is no longer running, so the release can run again."""
    from server.store import abandon_claim

    claim = abandon_claim(Path(args.store), args.spec_sha256)
    print(
        f"claim of Flower run {claim.flower_run_id} (since {claim.claimed_utc}) on spec {claim.spec_id} abandoned: "
        "nothing was stored under it; the release can run again"
    )
    return 0


def _add_release_claim_commands(release_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``release claims`` and ``release abandon``: the store's claims, and clearing a stale one."""
    listing = release_commands.add_parser(
        "claims", help="releases claimed and not finished: under way, stopped before storing, or not yet sent"
    )
    listing.add_argument("--store", required=True, help="path of release.sqlite (opened read-only)")
    listing.set_defaults(run=_release_claims)
    abandon = release_commands.add_parser(
        "abandon",
        help="clear the pending claim of a run that is no longer running (it stored nothing)",
        description="A run killed before storing its release leaves its claim, and every new run of that spec is "
        "refused until the claim is cleared. Clear it only once that run is no longer running: a run whose claim "
        "was abandoned stores nothing and sends nothing.",
    )
    abandon.add_argument("--store", required=True, help="path of release.sqlite")
    abandon.add_argument("--spec-sha256", required=True, help="the spec's hash, as `release claims` prints it")
    abandon.set_defaults(run=_release_abandon)


def _onboard(args: argparse.Namespace) -> int:
    from client.site_kinds import site_kind
    from simulations.onboarding import onboard, onboard_solar

    sites = [Path(site) for site in args.site]
    for i, site in enumerate(sites, 1):
        kind = site_kind(site)
        # A mixed portfolio: each site beside peers of its own kind, each in a folder of its own.
        out = Path(args.out) if len(sites) == 1 else Path(args.out) / f"{i}-{kind}-{site.parent.name}"
        run = onboard_solar if kind == "solar" else onboard
        release, report = run(site, out, args.peers, args.seed, progress=args.progress, engine_logs=args.verbose)
        print(format_release(release))
        print(f"\nyour report for {site}, computed on your site's copy (nothing of yours left this machine): {report}")
    return 0


def _release_run(args: argparse.Namespace) -> int:
    from simulations.onboarding import run_federated_release

    spec = _read_spec(Path(args.spec))
    sites = [Path(site) for site in args.site]
    json_path = Path(args.release_json) if args.release_json else None
    release = run_federated_release(
        sites,
        spec,
        Path(args.store),
        json_path,
        indicators=not args.round_one_only,
        progress=args.progress,
        engine_logs=args.verbose,
    )
    print(format_release(release))
    print(f"\nrelease stored in {args.store}; every site keeps its copy in releases/ beside its site.toml")
    return 0


def _release_deploy(args: argparse.Namespace) -> int:
    """``fleetbench release deploy``: exit 0 only when the store holds the release (``flwr run``'s 0 says nothing)."""
    from server.deployment import Federation, deploy_release

    chosen = {
        "min-sites": args.min_sites,
        "sampling-timeout": args.sampling_timeout,
        "stage-timeout": args.stage_timeout,
        "max-colluding-members": args.max_colluding_members,
    }
    run_config = {
        "spec": args.spec,
        "store": args.store,
        "release-json": args.release_json or "",
        "indicators": not args.round_one_only,
        # Left out, a key keeps the app's default ([tool.flwr.app.config] in its pyproject.toml).
        **{key: value for key, value in chosen.items() if value is not None},
    }
    federation = Federation(Path(args.app).resolve(), args.federation, args.flwr)
    outcome = deploy_release(federation, run_config, timeout=args.timeout, progress=args.progress)
    if outcome.stored:
        where = f"run {outcome.run_id}, {outcome.status}"
        print(f"stored: release {outcome.release_id} of {args.spec} in {args.store} ({where})")
        return 0
    finished = outcome.status.startswith("finished")
    print(
        f"NOT stored: run {outcome.run_id} is {outcome.status}"
        + ("" if finished else f" after {args.timeout:.0f} s (--timeout)")
        + f"; {args.store} holds no release of {args.spec}. The run's log: flwr log {outcome.run_id} {args.federation}"
    )
    return 1


def _add_release_deploy(release_commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``release deploy`` command's arguments."""
    deploy = release_commands.add_parser(
        "deploy",
        help="a release on the consortium's SuperLink (Flower's deployment engine), followed until it is stored",
        description="Submits the FleetBench app with `flwr run`, prints the run's status and the aggregator's lines "
        "as they come, and exits 0 only if the store then holds the spec's release (1 otherwise: failed, stopped "
        "or still running at --timeout). Runs the SuperLink lists as unfinished beforehand are reported: after a "
        "SuperLink restart a killed run stays 'running'. Run it on the aggregator's machine: the store is read here.",
    )
    deploy.add_argument("--app", default=".", help="the FleetBench app directory (its pyproject.toml)")
    deploy.add_argument("--federation", required=True, help="the SuperLink connection in $FLWR_HOME/config.toml")
    deploy.add_argument("--spec", required=True, help="the BenchmarkSpec (protobuf JSON; fleetbench spec new)")
    deploy.add_argument("--store", required=True, help="release store (SQLite) the ServerApp writes")
    deploy.add_argument("--release-json", default=None, help="also write the release as JSON here")
    app_default = " (default: the app's, in its pyproject.toml)"
    deploy.add_argument("--min-sites", type=int, help="sites round 1 waits for, at least" + app_default)
    deploy.add_argument("--round-one-only", action="store_true", help="power curves and models only, no indicators")
    deploy.add_argument("--sampling-timeout", type=int, help="seconds a round waits for its sites" + app_default)
    deploy.add_argument("--stage-timeout", type=int, help="seconds a SecAgg+ stage waits for replies" + app_default)
    deploy.add_argument(
        "--max-colluding-members",
        type=int,
        help="members every round is sized against: the largest max_colluding_members of the sites' policies"
        + app_default,
    )
    deploy.add_argument("--timeout", type=float, default=3600.0, help="seconds to follow the run before giving up")
    deploy.add_argument("--flwr", default="flwr", help="the flwr executable")
    deploy.set_defaults(run=_release_deploy)


def _read_spec(path: Path) -> spec_pb2.BenchmarkSpec:
    """The BenchmarkSpec at ``path`` (protobuf JSON), or a clear error."""
    from google.protobuf import json_format

    from protos.fleetbench.v1 import spec_pb2

    try:
        return json_format.Parse(path.read_text(encoding="utf-8"), spec_pb2.BenchmarkSpec())
    except json_format.ParseError as error:
        raise ValueError(
            f"{path} is not a BenchmarkSpec in protobuf JSON ({error}); write one with fleetbench spec new"
        ) from None


def _print_table(title: str, frame: pd.DataFrame) -> None:
    print(f"\n{title}")
    print(frame.to_string(index=False) if len(frame) else "  (none)")


def _validate(args: argparse.Namespace) -> int:
    from client.site_kinds import validate_any_site

    report = validate_any_site(Path(args.site), progress=args.progress)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1, default=str))
    else:
        print(f"site {report.site}: {'usable' if report.usable else 'NOT USABLE'}")
        for f in report.findings:
            print(f"  {f.severity.upper():7} {f.file} [{f.column}] {f.turbine}: {f.problem}\n          fix: {f.fix}")
        if len(report.turbines):
            print(report.turbines.to_string())
    return 0 if report.usable else 1


def _preview(args: argparse.Namespace) -> int:
    from client.preview import preview_site
    from client.site_kinds import site_kind, validate_any_site

    spec = _read_spec(Path(args.spec))
    report = validate_any_site(Path(args.site), progress=args.progress)
    if not report.usable:
        return _validate(args)  # its findings, as text or (with --json) the same object validate prints
    if site_kind(Path(args.site)) == "solar":
        return _preview_solar(args, spec)
    preview = preview_site(Path(args.site), spec, args.progress)
    if args.json:
        print(json.dumps(preview.to_dict(), indent=1))
        return 0
    print(f"preview of {args.site} for spec {spec.spec_id}: nothing is sent. Each block leaves only masked by SecAgg+.")
    _print_table("blocks (name, shape, unit, total over cells, non-zero cells):", preview.blocks)
    _print_table("filters, records removed per turbine:", preview.filter_report.reset_index())
    by_wind_speed = preview.filters_by_wind_speed
    _print_table(
        "filters, records removed per 1 m/s of measured wind speed (25: 25 m/s and above, or no wind speed):",
        by_wind_speed[by_wind_speed["records"] > 0].reset_index(),
    )
    _print_table("wind-speed bins this site fills, per cohort:", preview.cells_filled)
    _print_private_outlook(preview.private_charge, preview.private_cohorts)
    if len(preview.outside_every_cohort):
        _print_table(
            "turbines in no cohort of this spec (a cohort takes one wind-speed reference; ask the consortium for "
            "cohorts of theirs, `spec new --wind-speed-reference`):",
            preview.outside_every_cohort,
        )
    return 0


def _preview_solar(args: argparse.Namespace, spec: spec_pb2.BenchmarkSpec) -> int:
    from client.solar.preview import preview_solar_site

    preview = preview_solar_site(Path(args.site), spec, args.progress)
    if args.json:
        print(json.dumps(preview.to_dict(), indent=1))
        return 0
    print(f"preview of {args.site} for spec {spec.spec_id}: nothing is sent. Each block leaves only masked by SecAgg+.")
    _print_table("blocks (name, shape, unit, total over cells, non-zero cells):", preview.blocks)
    _print_table("the spec's cohorts, and whether this plant is in them:", preview.cohorts)
    _print_table(
        "solar cells: what the census counts of this plant, and its figure (sent only as one count in its bin):",
        preview.cells,
    )
    _print_private_outlook(preview.private_charge, preview.private_cohorts)
    return 0


def _print_private_outlook(charge: str, cohorts: pd.DataFrame) -> None:
    """What a private spec would charge the site, and the weight a bin needs against the most the site brings."""
    if charge:
        print(f"\ndifferentially private spec: {charge}")
        _print_table(
            "record weight a bin needs to be published, with the fewest sites allowed, and the most this site puts "
            "in one bin:",
            cohorts,
        )


def _private_distributions_outlook(spec: spec_pb2.BenchmarkSpec) -> str:
    """What a private solar spec's distributions need: the plants per cohort at its fewest sites' noise."""
    from protos.privacy import (
        PRIVATE_DOWNTIME_STATISTIC,
        distribution_units_needed,
        failure_inverters_needed,
        noised_distributions,
        summed_noise_stddev,
    )

    noised = noised_distributions(spec)
    statistic, t = next(iter(noised.values())), spec.privacy.min_noise_sites  # one noise for all of a cohort's
    noise = max(summed_noise_stddev(spec, c.name, t, statistic) for c in spec.cohorts)
    needed = max(distribution_units_needed(spec, c.name, t, statistic) for c in spec.cohorts)
    inverters = max(failure_inverters_needed(spec, c.name, t) for c in spec.cohorts)
    hours = spec.privacy.max_downtime_hours_per_inverter
    hours_noise = max(summed_noise_stddev(spec, c.name, t, PRIVATE_DOWNTIME_STATISTIC) for c in spec.cohorts)
    downtime = (
        f"; their downtime (each inverter's hours down capped at {hours} h) carries noise of {hours_noise:.0f} h on "
        "the summed hours"
        if hours
        else "; no downtime (give --max-downtime-hours-per-inverter to publish it)"
    )
    failures = (
        f"; failure rates (each inverter's failures capped at {spec.privacy.max_failures_per_inverter}) carry the "
        f"same noise on failures and inverter-years, and need at least {inverters} inverters{downtime}"
        if inverters
        else "; no failure rates (give --max-failures-per-inverter to publish them)"
    )
    return (
        f"distributions noised: {', '.join(noised)}; with {t} sites (min_noise_sites) each bar carries noise of "
        f"{noise:.1f} plants, and a cohort needs at least {needed} plants before one can be published{failures}; "
        "with more sites the noise grows as sqrt(sites / (min_noise_sites - 1))"
    )


def _spec_new(args: argparse.Namespace) -> int:
    from google.protobuf import json_format

    from server.spec import PrivacySettings, band_cohort, model_cohort, power_curve_spec, solar_cohort, solar_spec

    privacy = (
        PrivacySettings(
            args.epsilon,
            args.delta,
            args.max_records_per_bin,
            args.min_noise_sites,
            args.distribution_share,
            tuple(args.private_distributions),
            args.max_failures_per_inverter,
            args.max_downtime_hours_per_inverter,
        )
        if args.epsilon is not None
        else None
    )
    if args.solar:
        if args.model or args.rated_band:
            raise ValueError("--solar takes solar cohorts (--technology, --mounting, ...): no --model or --rated-band")
        cohorts = [
            solar_cohort("all plants"),
            *(solar_cohort(t, module_technology=t) for t in args.technology),
            *(solar_cohort(m, mounting=m) for m in args.mounting),
            *(solar_cohort(z, climate_zone=z) for z in args.climate_zone),
            *(
                solar_cohort(f"DC/AC {low:g}-{high:g}", dc_ac_ratio_min=low, dc_ac_ratio_max=high)
                for low, high in args.dc_ac_band
            ),
        ]
        spec = solar_spec(args.id, args.start, args.end, cohorts, k_min_operators=args.k, privacy=privacy)
        write_text_atomically(Path(args.out), json_format.MessageToJson(spec, preserving_proto_field_name=True))
        print(f"solar spec {spec.spec_id}: {len(spec.cohorts)} cohorts, {len(spec.blocks)} blocks, in {args.out}")
        if privacy is not None and privacy.distribution_share:
            print(_private_distributions_outlook(spec))
        return 0

    references = [WIND_SPEED_REFERENCES[name] for name in dict.fromkeys(args.wind_speed_reference or ["nacelle"])]
    cohorts = [
        cohort
        for reference in references
        for cohort in (
            *(model_cohort(model, reference) for model in args.model),
            *(band_cohort((low, high), wind_speed_reference=reference) for low, high in args.rated_band),
        )
    ]
    spec = power_curve_spec(args.id, args.start, args.end, cohorts, k_min_operators=args.k, privacy=privacy)
    write_text_atomically(Path(args.out), json_format.MessageToJson(spec, preserving_proto_field_name=True))
    print(f"spec {spec.spec_id} with {len(spec.cohorts)} cohorts and {len(spec.blocks)} blocks written to {args.out}")
    return 0


def _site_from_openoa(args: argparse.Namespace) -> int:
    from client.openoa_import import site_toml_from_openoa

    text = site_toml_from_openoa(
        Path(args.meta),
        args.scada,
        Path(args.assets),
        args.model,
        args.timezone,
        args.rated_power_unit,
        tuple(args.normal_status),
    )
    write_text_atomically(Path(args.out), text)
    print(f"site.toml written to {args.out}; check it with `fleetbench validate --site {args.out}`")
    return 0


def _site_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from client.client_app import app
    from client.site_runtime import serve_tasks

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (systemd's stop) ends a wait for the SuperNode too

    signal.signal(signal.SIGTERM, interrupt)
    print(
        f"serving the ClientApp tasks of the SuperNode at {args.runtime_api_address} with FleetBench {_version()}'s "
        "own code (the FAB the aggregator sends is never run); stop with Ctrl-C or SIGTERM",
        file=sys.stderr,
    )
    with contextlib.suppress(KeyboardInterrupt):
        serve_tasks(args.runtime_api_address, app, threading.Event(), progress=args.progress)
    print("stopped", file=sys.stderr)
    return 0


EXAMPLES = {
    "simulate": "fleetbench simulate --operators 10 --turbines 5 --months 3 --seed 7 --out run/",
    "onboard": "fleetbench onboard --site /srv/scada/site.toml --out onboarding/",
    "validate": "fleetbench validate --site /srv/scada/site.toml",
    "preview": "fleetbench preview --site /srv/scada/site.toml --spec spec.json",
    "spec new": "fleetbench spec new --id q1 --start 2025-01-01T00:00:00Z --end 2025-04-01T00:00:00Z "
    "--model E-82/2300 --rated-band 1500 3000 --out spec.json",
    "site from-openoa": "fleetbench site from-openoa --meta plant_meta.yml --assets assets.csv --scada scada.csv "
    "--model MM82 --out site.toml",
    "site serve": "fleetbench site serve --runtime-api-address 127.0.0.1:9094",
    "flags": "fleetbench flags --site site.toml --release releases/q1.json",
    "report": "fleetbench report --site site.toml --release releases/q1.json --out report.html",
    "dashboard": "fleetbench dashboard --store release.sqlite",
    "dashboard token": "fleetbench dashboard token --tokens dashboard-tokens.json --name operator-03",
    "dashboard revoke": "fleetbench dashboard revoke --tokens dashboard-tokens.json --name operator-03",
    "audit verify": "fleetbench audit verify --site site.toml",
    "audit repair": "fleetbench audit repair --site site.toml",
    "consortium ca": "fleetbench consortium ca --out consortium/",
    "consortium server-cert": "fleetbench consortium server-cert --ca-cert consortium/ca.pem --ca-key "
    "consortium/ca.key --hostname superlink.example.org --out consortium/",
    "consortium node-keys": "fleetbench consortium node-keys --name operator-03 --out keys/",
    "consortium member-key": "fleetbench consortium member-key --name operator-03 --out keys/",
    "consortium roster": "fleetbench consortium roster --consortium wind-benchmark --out roster.json keys/*.member.pub",
    "consortium pinned": "fleetbench consortium pinned --site site.toml",
    "privacy status": "fleetbench privacy status --site site.toml",
    "release show": "fleetbench release show --store release.sqlite",
    "release run": "fleetbench release run --spec spec.json --store release.sqlite --site a/site.toml "
    "--site b/site.toml --site c/site.toml",
    "release claims": "fleetbench release claims --store release.sqlite",
    "release abandon": "fleetbench release abandon --store release.sqlite --spec-sha256 3f9a...",
    "release deploy": "fleetbench release deploy --app . --federation consortium --spec /abs/spec.json "
    "--store /abs/release.sqlite --min-sites 5",
}
"""One example per command, shown at the end of its --help."""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's default after its help (where it has one that says something), the example kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if not _shows_default(action) or "default" in text:
            return text
        return f"{text} (default: %(default)s)".lstrip()


def _shows_default(action: argparse.Action) -> bool:
    """Whether an option's default says something (not absent, off or an empty list; 0 does)."""
    default = action.default
    nothing = default is None or default is False or default == [] or default is argparse.SUPPRESS
    return bool(action.option_strings) and not nothing


def _document(command: argparse.ArgumentParser, path: str = "") -> None:
    """Give ``command`` and every subcommand below it defaults in their help and their example."""
    command.formatter_class = _HelpFormatter
    if path in EXAMPLES:
        command.epilog = f"example:\n  {EXAMPLES[path]}"
    for action in command._actions:
        if action.help is None and _shows_default(action):
            action.help = "(default: %(default)s)"  # argparse expands no help, so no default, for an option without
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                _document(sub, f"{path} {name}".strip())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fleetbench")
    except PackageNotFoundError:
        return "unknown (not installed)"


def parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    top = argparse.ArgumentParser(prog="fleetbench", description=__doc__)
    top.add_argument("--version", action="version", version=f"fleetbench {_version()}")
    top.add_argument(
        "--verbose",
        action="store_true",
        help="show third-party warnings and logs (pandas, Flower, Ray) and FleetBench's own info logs",
    )
    top.add_argument(
        "--quiet", action="store_true", help="no progress lines on stderr (stdout carries the output either way)"
    )
    commands = top.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="run the onboarding simulation on a synthetic fleet")
    simulate.add_argument(
        "--operators", type=int, default=10, help="synthetic operators, each a member (--solar: PV plants)"
    )
    simulate.add_argument("--turbines", type=int, help="turbines per operator (default 5; not with --solar)")
    simulate.add_argument(
        "--months", type=int, default=3, help="months the release covers, from January 2025 (--solar: 2022)"
    )
    simulate.add_argument("--seed", type=int, default=0, help="the fleet's random seed: a seed gives the same fleet")
    simulate.add_argument("--k", type=int, default=3, help="minimum operators per released cell")
    simulate.add_argument("--out", required=True, help="output folder (fleet/, release.sqlite, release.json)")
    simulate.add_argument(
        "--pooled",
        action="store_true",
        help="compute the pooled (non-federated) reference instead: the whole release, curves, models and "
        "indicator baselines, from every operator's raw rows",
    )
    simulate.add_argument(
        "--no-faults", action="store_true", help="a healthy wind fleet (default: injected faults; not with --solar)"
    )
    simulate.add_argument(
        "--solar",
        action="store_true",
        help="a fleet of PV plants instead (--operators plants, each a member; degradation needs over 24 --months)",
    )
    simulate.add_argument(
        "--epsilon",
        type=float,
        default=None,
        help="make the release differentially private (epsilon per turbine; --solar: per inverter)",
    )
    simulate.add_argument(
        "--distribution-share",
        type=float,
        default=0.0,
        help="--solar --epsilon: the share of the budget for the plants' distributions (0: the curve alone)",
    )
    simulate.add_argument(
        "--private-distributions",
        nargs="+",
        default=[],
        metavar="NAME",
        help="with --distribution-share: only these (e.g. performance_ratio degradation_rate), each less noisy",
    )
    simulate.add_argument(
        "--max-failures-per-inverter",
        type=int,
        default=0,
        help="with --distribution-share: publish failure rates too, counting at most this many per inverter",
    )
    simulate.add_argument(
        "--max-downtime-hours-per-inverter",
        type=int,
        default=0,
        help="with --max-failures-per-inverter: publish their downtime too, counting at most this many hours per "
        "inverter",
    )
    simulate.set_defaults(run=_simulate)

    onboard = commands.add_parser(
        "onboard",
        help="your own export beside synthetic peers, through a whole release, to your own report",
        description="Copies your site.toml (your export stays where it is, unchanged) beside synthetic peers running "
        "your turbine models (a solar site: plants of your technology, mounting and climate zone) over the whole "
        "months your export covers, runs the release's SecAgg+ rounds in Flower's simulation engine and writes the "
        "report you would get as a member.",
    )
    onboard.add_argument(
        "--site",
        required=True,
        action="append",
        help="your site.toml (run fleetbench validate on it first); repeat for a mixed portfolio of wind and solar "
        "sites, each onboarded beside peers of its kind",
    )
    onboard.add_argument(
        "--out",
        required=True,
        help="folder for the peers, the release and your report; several --site: a folder each in it, "
        "1-wind-farm, 2-solar-plant, ... (the order of --site, the kind, the site's folder)",
    )
    onboard.add_argument("--peers", type=int, default=4, help="synthetic peers (default 4; k is 3)")
    onboard.add_argument("--seed", type=int, default=0, help="the peers' random seed (default 0)")
    onboard.set_defaults(run=_onboard)

    validate = commands.add_parser("validate", help="check a site's mapping and data (exit 1 when not usable)")
    validate.add_argument("--site", required=True, help="path of the site's site.toml")
    validate.add_argument("--json", action="store_true", help="print the findings as one JSON object instead")
    validate.set_defaults(run=_validate)

    preview = commands.add_parser("preview", help="show exactly what would leave the site for a spec; sends nothing")
    preview.add_argument("--site", required=True, help="path of the site's site.toml")
    preview.add_argument("--spec", required=True, help="BenchmarkSpec in protobuf JSON (see `fleetbench spec new`)")
    preview.add_argument(
        "--json", action="store_true", help="print what would leave the site as one JSON object instead"
    )
    preview.set_defaults(run=_preview)

    spec = commands.add_parser("spec", help="write benchmark specs")
    spec_commands = spec.add_subparsers(dest="spec_command", required=True)
    new = spec_commands.add_parser("new", help="a power-curve spec in protobuf JSON")
    new.add_argument("--id", required=True, help="spec id, e.g. power-curve-2025-Q1")
    new.add_argument("--start", required=True, help="period start, ISO 8601 UTC, e.g. 2025-01-01T00:00:00Z")
    new.add_argument("--end", required=True, help="period end (exclusive)")
    new.add_argument("--model", action="append", default=[], help="a turbine-model cohort (repeatable)")
    new.add_argument(
        "--rated-band",
        nargs=2,
        type=float,
        action="append",
        default=[],
        metavar=("MIN_KW", "MAX_KW"),
        help="a cohort of every turbine rated from MIN_KW to below MAX_KW, 0 leaving a bound open (repeatable)",
    )
    new.add_argument(
        "--wind-speed-reference",
        action="append",
        choices=list(WIND_SPEED_REFERENCES),
        help="cohorts for turbines whose wind speed is read on the nacelle (the default), through a nacelle "
        "transfer function (ntf) or on a met mast; repeat for each, turbines are never mixed across them",
    )
    new.add_argument(
        "--solar",
        action="store_true",
        help="a solar spec: one cohort of every plant, and one per --technology, --mounting, --climate-zone and "
        "--dc-ac-band given (repeatable each)",
    )
    new.add_argument("--technology", action="append", default=[], help="mono-Si, multi-Si, CdTe, CIGS or a-Si")
    new.add_argument("--mounting", action="append", default=[], help="fixed or single_axis")
    new.add_argument(
        "--climate-zone", action="append", default=[], help="tropical, arid, temperate, continental or polar"
    )
    new.add_argument(
        "--dc-ac-band",
        nargs=2,
        type=float,
        action="append",
        default=[],
        metavar=("MIN", "MAX"),
        help="--solar: a cohort of the plants whose DC/AC ratio is from MIN to below MAX (repeatable)",
    )
    new.add_argument("--k", type=int, default=3, help="minimum operators per released cell")
    new.add_argument(
        "--epsilon", type=float, default=None, help="differentially private: epsilon per turbine (--solar: inverter)"
    )
    new.add_argument("--delta", type=float, default=1e-6, help="with --epsilon: the delta it is counted at")
    new.add_argument(
        "--max-records-per-bin", type=int, default=60, help="with --epsilon: cap per turbine (inverter) per bin"
    )
    new.add_argument("--min-noise-sites", type=int, default=3, help="with --epsilon: fewest sites to publish")
    new.add_argument(
        "--distribution-share",
        type=float,
        default=0.0,
        help="--solar --epsilon: the share of the budget for the plants' distributions (0: the curve alone)",
    )
    new.add_argument(
        "--private-distributions",
        nargs="+",
        default=[],
        metavar="NAME",
        help="with --distribution-share: only these (performance_ratio, performance_ratio_stc, degradation_rate, "
        "degradation_interval, soiling_loss, clipping_share, inverter_availability, lost_production)",
    )
    new.add_argument(
        "--max-failures-per-inverter",
        type=int,
        default=0,
        help="with --distribution-share: publish failure rates too, each inverter's failures in the period counting "
        "at most this many over the components (more are scaled down); 0: no failure rates",
    )
    new.add_argument(
        "--max-downtime-hours-per-inverter",
        type=int,
        default=0,
        help="with --max-failures-per-inverter: publish the failures' mean downtime too, each inverter's hours down "
        "in the period counting at most this many over the components (more are scaled down) [h]; 0: no downtime",
    )
    new.add_argument("--out", required=True, help="the spec file to write, e.g. spec.json")
    new.set_defaults(run=_spec_new)

    site = commands.add_parser("site", help="write a site.toml; run the site's tasks with its own code")
    site_commands = site.add_subparsers(dest="site_command", required=True)
    openoa = site_commands.add_parser("from-openoa", help="from an OpenOA plant_meta.yml and asset table")
    openoa.add_argument("--meta", required=True, help="OpenOA plant metadata, YAML or JSON")
    openoa.add_argument("--assets", required=True, help="the asset table (CSV) the metadata describes")
    openoa.add_argument("--scada", nargs="+", required=True, help="SCADA files, relative to the site.toml")
    openoa.add_argument("--model", required=True, help="turbine model, e.g. MM82 or E-82/2300")
    openoa.add_argument(
        "--timezone",
        default="UTC",
        help="IANA zone of the export's timestamps without a UTC offset, e.g. Europe/Berlin",
    )
    openoa.add_argument(
        "--rated-power-unit", choices=["kW", "MW"], default="kW", help="the unit of the asset table's rated power"
    )
    openoa.add_argument(
        "--normal-status",
        type=int,
        nargs="*",
        default=[],
        help="the status codes of normal operation (a status column)",
    )
    openoa.add_argument("--out", required=True, help="the site.toml to write")
    openoa.set_defaults(run=_site_from_openoa)
    serve = site_commands.add_parser(
        "serve", help="run a SuperNode's ClientApp tasks (flower-supernode --isolation process) with this installation"
    )
    serve.add_argument(
        "--runtime-api-address", default="127.0.0.1:9094", help="the SuperNode's Runtime API: its --host and --port"
    )
    serve.set_defaults(run=_site_serve)

    flags = commands.add_parser(
        "flags",
        help="a wind site's own turbines against a final release, computed locally (a plant's: fleetbench report)",
    )
    flags.add_argument("--site", required=True, help="path of the site's site.toml")
    flags.add_argument("--release", required=True, help="the final release JSON (the site keeps it under releases/)")
    flags.add_argument("--json", action="store_true", help="print the flags as one JSON object instead")
    flags.set_defaults(run=_flags)

    report = commands.add_parser(
        "report", help="the site's turbines (or solar plant) against a final release, as one HTML file"
    )
    report.add_argument("--site", required=True, help="path of the site's site.toml")
    report.add_argument("--release", required=True, help="the final release JSON (the site keeps it under releases/)")
    report.add_argument("--out", required=True, help="HTML file to write, e.g. report.html")
    report.set_defaults(run=_report)

    dashboard = commands.add_parser("dashboard", help="serve the dashboard over a release store (members only)")
    dashboard.add_argument("--store", help="path of release.sqlite (opened read-only)")
    dashboard.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    dashboard.add_argument("--port", type=int, default=8050, help="port to serve on")
    dashboard.add_argument("--tokens", help="member tokens file (default: dashboard-tokens.json beside the store)")
    dashboard.set_defaults(run=_dashboard, dashboard_command=None)
    dashboard_commands = dashboard.add_subparsers(dest="dashboard_command")
    for name, what in (("token", "create a member token (printed once, stored hashed)"), ("revoke", "remove one")):
        command = dashboard_commands.add_parser(name, help=what)
        command.add_argument("--tokens", required=True, help="member tokens file, e.g. dashboard-tokens.json")
        command.add_argument("--name", required=True, help="the member, e.g. the operator's name")
        command.set_defaults(run=_dashboard)

    audit = commands.add_parser("audit", help="the site's own audit log of what it sent and received")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="check the log's hash chain (exit 1 when broken or edited)")
    verify_target = verify.add_mutually_exclusive_group(required=True)
    verify_target.add_argument("--site", help="path of the site's site.toml (its audit.log lies beside it)")
    verify_target.add_argument("--log", help="path of an audit log")
    verify.add_argument("--json", action="store_true", help="print the check as one JSON object instead")
    verify.set_defaults(run=_audit_verify)
    _add_audit_repair(audit_commands)

    consortium = commands.add_parser("consortium", help="keys and certificates for a deployment (see README)")
    consortium_commands = consortium.add_subparsers(dest="consortium_command", required=True)
    ca = consortium_commands.add_parser("ca", help="the consortium's CA (on the aggregator's machine)")
    ca.add_argument("--out", required=True, help="folder for ca.pem and ca.key")
    ca.set_defaults(run=_consortium)
    server_cert = consortium_commands.add_parser(
        "server-cert", help="the SuperLink's TLS certificate, signed by the CA"
    )
    server_cert.add_argument("--ca-cert", required=True, help="the consortium's CA certificate (ca.pem)")
    server_cert.add_argument("--ca-key", required=True, help="the CA's private key (ca.key)")
    server_cert.add_argument("--hostname", action="append", default=[], help="DNS name of the SuperLink (repeatable)")
    server_cert.add_argument("--ip", action="append", default=[], help="IP address of the SuperLink (repeatable)")
    server_cert.add_argument("--out", required=True, help="folder for server.pem and server.key")
    server_cert.set_defaults(run=_consortium)
    node_keys = consortium_commands.add_parser("node-keys", help="a SuperNode's key pair (on the operator's machine)")
    node_keys.add_argument("--name", required=True, help="e.g. the operator's name")
    node_keys.add_argument("--out", required=True, help="folder for NAME.key (stays here) and NAME.pub (to register)")
    node_keys.set_defaults(run=_consortium)
    member_key = consortium_commands.add_parser(
        "member-key", help="a member's identity key pair (on the operator's machine; signs its SecAgg+ keys)"
    )
    member_key.add_argument("--name", required=True, help="the member's name on the roster (the legal operator)")
    member_key.add_argument("--out", required=True, help="folder for NAME.member.key (stays) and NAME.member.pub")
    member_key.set_defaults(run=_consortium)
    roster = consortium_commands.add_parser("roster", help="the consortium's roster from its members' public keys")
    roster.add_argument("--consortium", required=True, help="the consortium's name")
    roster.add_argument("--out", required=True, help="the roster file to write (roster.json)")
    roster.add_argument("public_keys", nargs="+", help="every member's NAME.member.pub")
    roster.set_defaults(run=_consortium)
    pinned = consortium_commands.add_parser("pinned", help="the member and roster a site has pinned, checked")
    pinned.add_argument("--site", required=True, help="path of the site's site.toml")
    pinned.set_defaults(run=_consortium)

    privacy = commands.add_parser("privacy", help="the site's own differential-privacy ledger")
    privacy_commands = privacy.add_subparsers(dest="privacy_command", required=True)
    status = privacy_commands.add_parser(
        "status", help="privacy spent in the last 365 days and what is left (exit 1 when overspent)"
    )
    status.add_argument("--site", required=True, help="path of the site's site.toml (its ledger lies beside it)")
    status.add_argument("--json", action="store_true", help="print the ledger's status as one JSON object instead")
    status.set_defaults(run=_privacy_status)

    release = commands.add_parser("release", help="inspect the release store")
    release_commands = release.add_subparsers(dest="release_command", required=True)
    show = release_commands.add_parser("show", help="print a release")
    show.add_argument("--store", required=True, help="path of release.sqlite")
    show.add_argument("--id", type=int, default=None, help="release id (default: the latest)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=_release_show)
    run = release_commands.add_parser(
        "run",
        help="a release over existing site folders, in Flower's simulation engine (members trying it together)",
        description="Runs both rounds of SecAgg+ over the sites, in this process (no server, no ports), stores "
        "the release, then sends it to every site. Checks first: at least 3 sites, each valid and a member of "
        "one roster, the store's folder writable, this release neither stored nor claimed by another run (a "
        "release stored by a run that stopped before sending it is sent again, without rounds).",
    )
    run.add_argument("--site", action="append", required=True, help="a site's site.toml; repeat, one per site")
    run.add_argument("--spec", required=True, help="the BenchmarkSpec (protobuf JSON; fleetbench spec new)")
    run.add_argument("--store", required=True, help="release store (SQLite) to write, e.g. release.sqlite")
    run.add_argument("--release-json", default=None, help="also write the release as JSON here")
    run.add_argument("--round-one-only", action="store_true", help="power curves and models only, no indicators")
    run.set_defaults(run=_release_run)
    _add_release_claim_commands(release_commands)
    _add_release_deploy(release_commands)
    _document(top)
    return top


DISK_FIXES = {
    errno.ENOSPC: "free space on its disk, or choose another path",
    errno.EDQUOT: "free space within your quota, or choose another path",
    errno.EROFS: "its file system is mounted read-only: choose another path",
    errno.EACCES: "make it and its folder writable (or readable) for this user, or choose another path",
    errno.EPERM: "make it and its folder writable (or readable) for this user, or choose another path",
    errno.ENOENT: "check the path: it, or its folder, does not exist",
}
"""What to do about the file errors a user can meet (a full or read-only disk, a missing folder), by errno."""


def user_error(exc: BaseException) -> str:
    """The one line a user error prints: a file error names the file, what went wrong and the fix."""
    if isinstance(exc, OSError) and exc.errno in DISK_FIXES and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror}; {DISK_FIXES[exc.errno]}"
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fleetbench`` console script.

    A user's error (a bad file, path, setting or spec) is one line on stderr and exit code 2, never
    a traceback; output cut short by a closed pipe (``| head``) ends quietly. Long commands say on
    stderr what they are doing (not with ``--quiet``). Third-party warnings and logs (pandas,
    Flower, Ray), and FleetBench's own info logs, which the progress lines say again, show only
    with ``--verbose``.
    """
    args = parser().parse_args(argv)
    terminal = TerminalProgress(sys.stderr)
    args.progress = silent if args.quiet else terminal
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    logging.getLogger("fleetbench").addHandler(handler)
    logging.getLogger("fleetbench").setLevel(logging.INFO if args.verbose else logging.WARNING)
    flower = logging.getLogger("flwr")

    def errors_only(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR

    if not args.verbose:
        # Flower resets its handler's level when a simulation starts; a filter on its logger stays.
        flower.addFilter(errors_only)
    with warnings.catch_warnings():
        if not args.verbose:
            # Not a filter: Flower installs its own ("once" for DeprecationWarning) when imported mid-run.
            warnings.showwarning = lambda *_, **__: None
        try:
            return int(args.run(args))
        except BrokenPipeError:
            # The reader left (`| head`): nothing more to say, and nothing to say it to.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except (ValueError, LookupError, OSError, RuntimeError) as exc:
            terminal.close()
            print(f"fleetbench: error: {user_error(exc)}", file=sys.stderr)
            return 2
        finally:
            flower.removeFilter(errors_only)


if __name__ == "__main__":
    sys.exit(main())
