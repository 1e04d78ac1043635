"""The onboarding simulation: a synthetic fleet through Flower's simulation engine, end to end."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from flwr.app import Context, RecordDict
from flwr.simulation import run_simulation

from client.client_app import build_client_app
from protos.fleetbench.v1 import release_pb2, spec_pb2
from server.secure_sum import SecureSumOutcome
from server.server_app import ReleaseRun, build_server_app, run_release, send_release
from server.spec import PrivacySettings, band_cohort, power_curve_spec
from server.store import read_release
from simulations.fleet import FleetConfig, generate_fleet
from simulations.loopback import LoopbackGrid

LOG = logging.getLogger("fleetbench.simulation")


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


def run_federated_release(
    site_configs: Sequence[Path],
    spec: spec_pb2.BenchmarkSpec,
    store: Path,
    release_json: Path | None = None,
) -> release_pb2.Release:
    """Run one SecAgg+ release over ``site_configs`` in Flower's simulation engine (Ray).

    Every site is a virtual SuperNode running the real ClientApp; the ServerApp writes the
    release to ``store`` (and ``release_json``) and this returns it as read back from the store.
    """
    run_simulation(
        server_app=build_server_app(ReleaseRun(spec, store, len(site_configs), release_json)),
        client_app=build_client_app(site_configs=list(site_configs)),
        num_supernodes=len(site_configs),
        backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}, "init_args": {"num_cpus": 2}},
    )
    return read_release(store)


def run_release_in_process(
    site_configs: Sequence[Path],
    spec: spec_pb2.BenchmarkSpec,
    *,
    indicators: bool = True,
    send: bool = True,
    on_outcome: Callable[[SecureSumOutcome], None] | None = None,
    run_id: int = 7,
) -> release_pb2.Release:
    """The ServerApp's release over ``site_configs`` with SecAgg+ in this process (no Ray): tests and benches.

    Every site runs the real ClientApp over a :class:`simulations.loopback.LoopbackGrid`; with
    ``send`` the final release is sent to every site as in a deployment. Nothing is stored.
    """
    grid = LoopbackGrid(build_client_app(list(site_configs)), len(site_configs))
    context = Context(run_id=run_id, node_id=0, node_config={}, state=RecordDict(), run_config={})
    release = run_release(grid, context, spec, len(site_configs), indicators, on_outcome)
    if send:
        send_release(grid, release)
    return release


def simulate(
    config: FleetConfig,
    out_dir: Path,
    k_min_operators: int = 3,
    progress: Callable[[str], None] = LOG.info,
    privacy: PrivacySettings | None = None,
) -> release_pb2.Release:
    """Generate the fleet under ``out_dir`` and run the federated release into out_dir/release.sqlite."""
    progress(
        f"generating {config.operators} synthetic operators x {config.turbines_per_operator} turbines "
        f"x {config.months} months"
    )
    site_configs = generate_fleet(config, out_dir / "fleet", progress)
    spec = fleet_spec(config, k_min_operators, privacy)
    progress(f"running secure aggregation (SecAgg+) over {len(site_configs)} sites in Flower's simulation engine")
    return run_federated_release(site_configs, spec, out_dir / "release.sqlite", out_dir / "release.json")
