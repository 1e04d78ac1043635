"""The onboarding simulation: a synthetic fleet through Flower's simulation engine, end to end."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from flwr.app import Context, RecordDict
from flwr.simulation import run_simulation

from client.client_app import build_client_app
from client.policy import SitePolicy
from client.report import write_report
from client.site_config import load_site_config
from client.site_kinds import load_any_site_config, validate_any_site
from client.solar.report import write_solar_report
from client.solar.site_config import SolarSiteConfig, load_solar_site_config
from client.validate import validate_site
from common.progress import Progress, Stage, silent
from protos.census import is_solar
from protos.codec import spec_sha256
from protos.domain import RECORD_PERIOD, SOLAR_RECORD_PERIOD
from protos.fleetbench.v1 import release_pb2, spec_pb2
from server.secure_sum import SecureSumOutcome
from server.server_app import ReleaseRun, build_server_app, run_release, send_release
from server.spec import PrivacySettings, band_cohort, power_curve_spec, solar_cohort, solar_spec
from server.store import check_claimable, read_release
from simulations.fleet import FleetConfig, enrol_members, generate_fleet
from simulations.loopback import LoopbackGrid
from simulations.site_copy import site_copy
from simulations.solar_fleet import (
    CLIMATES,
    simulate_solar_plant_with_truth,
    solar_fleet,
    write_solar_fleet,
    write_solar_site,
)


def fleet_spec(
    config: FleetConfig, k_min_operators: int = 3, privacy: PrivacySettings | None = None
) -> spec_pb2.BenchmarkSpec:
    """The spec an aggregator would publish for this fleet's period and turbine models (private with ``privacy``)."""
    return power_curve_spec(
        spec_id=f"power-curve-{config.start[:10]}-{config.months}m" + ("-private" if privacy else ""),
        period_start=config.start,
        period_end=config.period_end,
        cohorts=[*config.models, band_cohort((1500.0, 3000.0))],
        k_min_operators=k_min_operators,
        privacy=privacy,
    )


def check_release_run(
    site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec, store: Path, progress: Progress = silent
) -> None:
    """Everything a release over ``site_configs`` needs, checked before round 1 (a clear error, never a hang).

    ``progress`` hears each site checked.

    Raises
    ------
    ValueError
        Naming the setting or file and how to fix it: fewer than 3 sites, a store whose folder is
        missing or read-only, a site that does not validate or is not a consortium member, sites
        pinning different rosters.
    RuntimeError
        Naming the store and how to proceed: a store that already holds this release (sent to
        every site), a release another run claimed, a file that is not a release store.
    """
    if len(site_configs) < 3:
        raise ValueError(f"secure aggregation needs at least 3 sites; got {len(site_configs)} (one --site per site)")
    folder = Path(store).resolve().parent
    if not folder.is_dir():
        raise ValueError(f"--store {store}: folder {folder} does not exist; create it or choose another store")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"--store {store}: folder {folder} is not writable; choose another store")
    check_claimable(Path(store), spec, "secagg+")  # the ServerApp claims it; this refuses before the engine starts
    rosters = {}
    for i, path in enumerate(site_configs, 1):
        stage = Stage(progress, f"checking site {i}/{len(site_configs)}")
        if not validate_any_site(Path(path)).usable:
            raise ValueError(f"site {path} is not usable; see why: fleetbench validate --site {path}")
        member = load_any_site_config(Path(path)).member
        if member is None:
            raise ValueError(f"site {path} has no [member] table: it cannot take part in rounds (docs/deploying.md)")
        rosters[path] = member.roster_sha256
        stage.done(f"{path} usable, member {member.name}")
    if len(set(rosters.values())) > 1:
        raise ValueError(f"the sites pin different rosters: {rosters}; every member must install the same roster")


def federation_colluding_members(site_configs: Sequence[Path]) -> int:
    """The members a local release's rounds are sized against: the largest ``max_colluding_members`` of the sites'.

    On one machine the aggregator can read what each site's policy insists on; a deployed one is
    told it (run config ``max-colluding-members``).
    """
    return max(load_any_site_config(Path(path)).policy.max_colluding_members for path in site_configs)


def run_federated_release(
    site_configs: Sequence[Path],
    spec: spec_pb2.BenchmarkSpec,
    store: Path,
    release_json: Path | None = None,
    indicators: bool = True,
    progress: Progress = silent,
    engine_logs: bool = False,
) -> release_pb2.Release:
    """Run one SecAgg+ release over ``site_configs`` in Flower's simulation engine (Ray).

    Every site is a virtual SuperNode running the real ClientApp; the ServerApp claims the release
    in ``store``, writes it there (and to ``release_json``) before sending it to the sites, and this
    returns it as read back from the store (a release stored by a run that did not finish sending
    it is sent again, without rounds). The engine is in-process: no ports, nothing left running.
    ``progress`` hears the checks, the engine starting, each round and the sending of the release.
    With ``engine_logs`` the sites' own logs (Ray workers') are forwarded too; without, a site that
    leaves a round is still named with its reason, by the aggregator.
    """
    check_release_run(site_configs, spec, store, progress)
    colluding = federation_colluding_members(site_configs)
    rounds = "both rounds" if indicators and not spec.HasField("privacy") and not is_solar(spec) else "round 1"
    progress(f"starting Flower's simulation engine: {rounds} of SecAgg+ over {len(site_configs)} sites", ongoing=True)
    run_simulation(
        server_app=build_server_app(
            ReleaseRun(spec, store, len(site_configs), release_json, indicators, colluding_members=colluding),
            progress=progress,
        ),
        client_app=build_client_app(site_configs=list(site_configs)),
        num_supernodes=len(site_configs),
        backend_config={
            "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
            "init_args": {"num_cpus": 2, "log_to_driver": engine_logs},
        },
    )
    try:
        release: release_pb2.Release | None = read_release(store)
    except (FileNotFoundError, LookupError):
        release = None
    if release is None or release.provenance.spec_sha256 != spec_sha256(spec):
        raise RuntimeError(
            f"the release of spec {spec.spec_id} did not complete (the log above says why): nothing stored"
        )
    return release


def run_release_in_process(
    site_configs: Sequence[Path],
    spec: spec_pb2.BenchmarkSpec,
    *,
    indicators: bool = True,
    send: bool = True,
    on_outcome: Callable[[SecureSumOutcome], None] | None = None,
    run_id: int = 7,
    min_sites: int | None = None,
) -> release_pb2.Release:
    """The ServerApp's release over ``site_configs`` with SecAgg+ in this process (no Ray): tests and benches.

    Every site runs the real ClientApp over a :class:`simulations.loopback.LoopbackGrid`; with
    ``send`` the final release is sent to every site as in a deployment. Nothing is stored. The
    round waits for ``min_sites`` sites of the spec's kind (default: every site given).
    """
    grid = LoopbackGrid(build_client_app(list(site_configs)), len(site_configs))
    context = Context(run_id=run_id, node_id=0, node_config={}, state=RecordDict(), run_config={})
    needed = len(site_configs) if min_sites is None else min_sites
    colluding = federation_colluding_members(site_configs)
    release = run_release(grid, context, spec, needed, indicators, on_outcome, colluding_members=colluding)
    if send:
        send_release(grid, release)
    return release


def simulate(
    config: FleetConfig,
    out_dir: Path,
    k_min_operators: int = 3,
    progress: Progress = silent,
    privacy: PrivacySettings | None = None,
    engine_logs: bool = False,
) -> release_pb2.Release:
    """Generate the fleet under ``out_dir`` and run the federated release into out_dir/release.sqlite.

    ``progress`` hears each operator generated, then the release's stages (:func:`run_federated_release`,
    which ``engine_logs`` goes to).
    """
    progress(
        f"generating {config.operators} synthetic operators x {config.turbines_per_operator} turbines "
        f"x {config.months} months"
    )
    site_configs = generate_fleet(config, out_dir / "fleet", progress)
    spec = fleet_spec(config, k_min_operators, privacy)
    return run_federated_release(
        site_configs,
        spec,
        out_dir / "release.sqlite",
        out_dir / "release.json",
        progress=progress,
        engine_logs=engine_logs,
    )


def onboard(
    site_config: Path,
    out_dir: Path,
    peers: int = 4,
    seed: int = 0,
    progress: Progress = silent,
    engine_logs: bool = False,
) -> tuple[release_pb2.Release, Path]:
    """A prospective member's own export beside synthetic peers, through a whole release, to its own report.

    The member's site.toml is copied into ``out_dir/member`` (its export is read where it lies,
    never copied or changed); ``peers`` synthetic operators run the member's turbine models over
    the whole months its export covers. All join one throwaway roster, run both rounds in Flower's
    simulation engine, and the member's report is written from the release its copy received.
    ``progress`` hears the export read, each peer generated, the release's stages and the report;
    ``engine_logs`` forwards the sites' own logs (:func:`run_federated_release`).

    Returns
    -------
    release, report_path
    """
    report = validate_site(Path(site_config), progress=progress)
    if not report.usable:
        raise ValueError(f"site {site_config} is not usable yet; see why: fleetbench validate --site {site_config}")
    site = load_site_config(site_config)
    models = tuple(sorted({t.model for t in site.turbines}))
    start, months = whole_months(
        site.name, site.timezone, report.turbines["first"].min(), report.turbines["last"].max()
    )
    config = FleetConfig(
        operators=peers,
        turbines_per_operator=max(1, round(len(site.turbines) / len(models))),
        months=months,
        seed=seed,
        start=start,
        models=models,
    )
    progress(f"your export covers {months} whole month(s) from {start[:10]}; {peers} synthetic peers run {models}")
    member = site_copy(site_config, site, out_dir / "member")
    sites = [member, *generate_fleet(config, out_dir / "peers", progress)]
    enrol_members(sites, ["you", *(path.parent.name for path in sites[1:])], consortium="onboarding")
    spec = fleet_spec(config)
    return _release_and_report(sites, spec, out_dir, write_report, progress, engine_logs)


def whole_months(
    name: str, timezone: str, first: pd.Timestamp, last: pd.Timestamp, record_period: pd.Timedelta = RECORD_PERIOD
) -> tuple[str, int]:
    """The first whole month from ``first`` to ``last`` (a site's records) and how many whole months they cover.

    Months are the site's calendar months, in its ``timezone`` (``[site] timezone``): an export of
    April to June written in Europe/Berlin ends on 30 June at 21:45 UTC, and June is whole. The
    first month counts when a record falls on its first day, the last when its last record
    (``record_period`` before its end) is there. A release's months are UTC months
    (:func:`protos.domain.period_months`), so the start is the first of these months at 00:00 UTC;
    the site's records miss the hours of its UTC offset at one end of the period.

    Raises
    ------
    ValueError
        If the records do not cover one whole calendar month.
    """
    if pd.isna(first) or pd.isna(last):
        raise ValueError(f"site {name}: the export has no timestamps; see fleetbench validate")
    day = first.tz_convert(timezone).tz_localize(None).floor("D")
    start = day if day.day == 1 else day + pd.offsets.MonthBegin(1)
    latest = last.tz_convert(timezone).tz_localize(None)
    end = latest.to_period("M").to_timestamp()  # the last month counts if its last record is there
    if latest >= end + pd.offsets.MonthBegin(1) - record_period:
        end += pd.offsets.MonthBegin(1)
    months = (end.year - start.year) * 12 + end.month - start.month
    if months < 1:
        raise ValueError(f"site {name}: onboarding needs one whole calendar month of records; the export has less")
    return start.strftime("%Y-%m-%dT00:00:00Z"), months


def solar_fleet_spec(
    start: str, months: int, k_min_operators: int = 3, privacy: PrivacySettings | None = None
) -> spec_pb2.BenchmarkSpec:
    """The solar spec an aggregator would publish for a synthetic fleet: every plant, and by mounting.

    The cohorts overlap (every plant is in two), so the census's linked suppression decides which
    of them a small fleet can publish together; more overlapping cohorts (DC/AC bands, climate
    zones: ``fleetbench spec new --solar``) need more plants before anything is published. With
    ``privacy`` the spec asks only for the curves, differentially private per inverter.
    """
    begin = pd.Timestamp(start, tz="UTC") if pd.Timestamp(start).tzinfo is None else pd.Timestamp(start)
    end = begin + pd.DateOffset(months=months)
    cohorts = [
        solar_cohort("all plants"),
        solar_cohort("fixed", mounting="fixed"),
        solar_cohort("single-axis", mounting="single_axis"),
    ]
    iso = "%Y-%m-%dT%H:%M:%SZ"
    spec_id = f"solar-{begin:%Y-%m-%d}-{months}m" + ("-private" if privacy else "")
    return solar_spec(spec_id, begin.strftime(iso), end.strftime(iso), cohorts, k_min_operators, privacy=privacy)


def simulate_solar(
    out_dir: Path,
    plants: int,
    months: int,
    seed: int,
    k_min_operators: int = 3,
    progress: Progress = silent,
    engine_logs: bool = False,
    privacy: PrivacySettings | None = None,
) -> release_pb2.Release:
    """A synthetic solar fleet under ``out_dir/fleet`` through a federated solar release into out_dir/release.sqlite.

    Each plant is a member of its own; the fleet's exports cover whole years from 2022 (at least
    ``months``), the spec the first ``months`` (degradation needs more than 24). ``progress`` hears
    each plant simulated, then the release's stages. With ``privacy`` the release is the curves
    alone, differentially private per inverter, charged to each plant's ledger; a synthetic plant's
    yearly budget is raised to the release's epsilon when that is above the default policy's.
    """
    progress(f"simulating {plants} synthetic PV plants over {months} months")
    start = "2022-01-01"
    truths = write_solar_fleet(out_dir / "fleet", plants, max(1, -(-months // 12)), seed, progress=progress)
    sites = [out_dir / "fleet" / truth.name / "site.toml" for truth in truths]
    if privacy is not None and privacy.epsilon > SitePolicy().privacy_epsilon_per_year:
        # A handful of synthetic plants lets bins through only at large epsilon: their budgets allow it.
        for site in sites:
            site.write_text(site.read_text() + f"\n[policy]\nprivacy_epsilon_per_year = {privacy.epsilon!r}\n")
    return run_federated_release(
        sites,
        solar_fleet_spec(start, months, k_min_operators, privacy),
        out_dir / "release.sqlite",
        out_dir / "release.json",
        indicators=False,
        progress=progress,
        engine_logs=engine_logs,
    )


def solar_peers_like(site: SolarSiteConfig, peers: int, start: str, end: str, folder: Path, seed: int) -> list[Path]:
    """``peers`` synthetic plants like the member's (technology, mounting, climate zone), written under ``folder``.

    Each is drawn as the synthetic fleet draws a plant (size, inverters, DC/AC ratio, soiling,
    outages, faults), then given the member's technology and mounting, and placed within half a
    degree of one of its climate zone's sites; simulated from ``start`` to ``end``.
    """
    rng = np.random.default_rng(seed)
    plant = site.plant
    years = max(1, -(-(pd.Timestamp(end) - pd.Timestamp(start)).days // 365))
    paths = []
    for drawn in solar_fleet(peers, years, rng, start[:10]):
        lat, lon, elevation = CLIMATES[plant.climate_zone].sites[
            int(rng.integers(len(CLIMATES[plant.climate_zone].sites)))
        ]
        truth = replace(
            drawn,
            module_technology=plant.module_technology,
            mounting=plant.mounting,
            climate_zone=plant.climate_zone,
            latitude=round(lat + rng.uniform(-0.5, 0.5), 3),
            longitude=round(lon + rng.uniform(-0.5, 0.5), 3),
            elevation_m=elevation,
            tilt_deg=plant.tilt_deg if plant.mounting == "fixed" and plant.tilt_deg is not None else drawn.tilt_deg,
        )
        simulation = simulate_solar_plant_with_truth(truth, start, end, "15min", rng)
        paths.append(write_solar_site(simulation.truth, simulation.frame, folder / truth.name))
    return paths


def onboard_solar(
    site_config: Path,
    out_dir: Path,
    peers: int = 4,
    seed: int = 0,
    progress: Progress = silent,
    engine_logs: bool = False,
) -> tuple[release_pb2.Release, Path]:
    """A prospective member's own PV plant beside synthetic plants like it, through a solar release.

    As :func:`onboard` for a wind site: the member's site.toml is copied into ``out_dir/member``
    (its export read where it lies), ``peers`` synthetic plants of its technology, mounting and
    climate zone (:func:`solar_peers_like`) cover the whole months its export covers, all join one
    throwaway roster and run the solar release in Flower's simulation engine, and the member's
    report is written from the release its copy received.

    Returns
    -------
    release, report_path
    """
    report = validate_any_site(Path(site_config), progress=progress)
    if not report.usable:
        raise ValueError(f"site {site_config} is not usable yet; see why: fleetbench validate --site {site_config}")
    site = load_solar_site_config(site_config)
    profile = report.turbines
    start, months = whole_months(
        site.name, site.timezone, profile["first"].min(), profile["last"].max(), SOLAR_RECORD_PERIOD
    )
    end = (pd.Timestamp(start) + pd.DateOffset(months=months)).strftime("%Y-%m-%dT%H:%M:%SZ")
    plant = site.plant
    progress(
        f"your export covers {months} whole month(s) from {start[:10]}; {peers} synthetic {plant.module_technology} "
        f"{plant.mounting} plants of climate zone {plant.climate_zone} join it"
    )
    member = site_copy(site_config, site, out_dir / "member")
    sites = [member, *solar_peers_like(site, peers, start, end, out_dir / "peers", seed)]
    enrol_members(sites, ["you", *(path.parent.name for path in sites[1:])], consortium="onboarding")
    like = f"{plant.module_technology} {plant.mounting} {plant.climate_zone}"
    cohort = solar_cohort(like, plant.module_technology, plant.mounting, plant.climate_zone)
    spec = solar_spec(f"onboarding-solar-{start[:10]}-{months}m", start, end, [cohort])
    return _release_and_report(sites, spec, out_dir, write_solar_report, progress, engine_logs)


def _release_and_report(
    sites: Sequence[Path],
    spec: spec_pb2.BenchmarkSpec,
    out_dir: Path,
    write: Callable[[Path, Path, Path], Path],
    progress: Progress,
    engine_logs: bool,
) -> tuple[release_pb2.Release, Path]:
    """The onboarding release over ``sites`` (the member's copy first), and the member's report from its copy.

    Every round the spec has (a solar spec has no indicator round); ``write`` is the report of the
    member's kind of site (site.toml, received release, out) -> the file written.
    """
    release = run_federated_release(
        sites, spec, out_dir / "release.sqlite", out_dir / "release.json", progress=progress, engine_logs=engine_logs
    )
    received = next((sites[0].parent / "releases").glob("*.json"))
    stage = Stage(progress, "your report")
    stage.update("computing your report against the release, on your site's copy")
    written = write(sites[0], received, out_dir / "your-report.html")
    stage.done(f"written to {written}")
    return release, written
