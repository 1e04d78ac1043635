"""Shared fixtures: small synthetic fleets and a federated run over each (Flower simulation engine)."""

from __future__ import annotations

import fcntl
import os
import pickle
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from flwr.app import Context, Message
from flwr.clientapp.typing import ClientAppCallable

from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.masking import keyed_masks_in_force
from server.secure_sum import SecureSumOutcome
from simulations.fleet import FleetConfig, forget_site_history, generate_fleet
from simulations.onboarding import fleet_spec


@dataclass(frozen=True)
class FederatedRun:
    """A synthetic fleet, its spec, the federated release and every message its sites sent."""

    config: FleetConfig
    fleet_dir: Path
    site_configs: list[Path]
    spec: spec_pb2.BenchmarkSpec
    release: release_pb2.Release
    outcome: SecureSumOutcome  # round 1
    indicator_outcome: SecureSumOutcome  # round 2
    outgoing_dir: Path


class RecordOutgoing:
    """A client mod, outside SecAgg+, that pickles every reply a site sends (runs in Ray workers)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir

    def __call__(self, msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
        reply = call_next(msg, context)
        record = {
            "partition_id": int(context.node_config["partition-id"]),
            "keyed_masks_in_force": keyed_masks_in_force(),
            "incoming": {name: dict(rec) for name, rec in msg.content.config_records.items()},
            "config_records": {name: dict(rec) for name, rec in reply.content.config_records.items()},
            "metric_records": {name: dict(rec) for name, rec in reply.content.metric_records.items()},
            "array_records": {name: len(rec) for name, rec in reply.content.array_records.items()},
        }
        path = self.out_dir / f"{context.node_id}-{msg.metadata.message_id}.pkl"
        path.write_bytes(pickle.dumps(record))
        return reply


# Two fleets: different seeds, two or more cohorts each; the second has a model run by a single
# operator (N117/2400), whose cohort must be suppressed at k = 3.
FLEETS = {
    "seed-11": FleetConfig(operators=6, turbines_per_operator=2, months=1, seed=11, models=("E-82/2300", "V90/2000")),
    "seed-23": FleetConfig(
        operators=7,
        turbines_per_operator=2,
        months=1,
        seed=23,
        models=("E-82/2300", "V90/2000", "E-82/2300", "V90/2000", "E-82/2300", "V90/2000", "N117/2400"),
    ),
}


def _shared_federated_run(name: str, tmp_path_factory: pytest.TempPathFactory) -> FederatedRun:
    """:func:`_federated_run`, made once per test session and fleet, whichever worker and test file asks first.

    pytest keeps one parameter of a session fixture at a time, and each xdist worker has its own
    session: without this, each of the three files that use a fleet ran its Ray federation again
    (six runs of ~35 s for two fleets). The run is pickled beside the workers' temporary folders,
    under a lock, and its folders are only read by the tests.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # this session's folder, above each worker's own
    done = shared / f"federated-{name}.pkl"
    with open(shared / f"federated-{name}.lock", "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes
        if done.exists():
            return FederatedRun(*pickle.loads(done.read_bytes()))
        run = _federated_run(name, shared / f"federated-{name}")
        # Its fields, not the run: a class of a conftest module cannot be found again by name.
        done.write_bytes(pickle.dumps([getattr(run, f.name) for f in fields(run)]))
        return run


def _federated_run(name: str, root: Path) -> FederatedRun:
    from flwr.simulation import run_simulation

    from client.client_app import build_client_app
    from server.server_app import ReleaseRun, build_server_app
    from server.store import read_release

    config = FLEETS[name]
    site_configs = generate_fleet(config, root / "fleet")
    spec = fleet_spec(config, k_min_operators=3)
    outgoing = root / "outgoing"
    outgoing.mkdir(parents=True)
    outcomes: list[SecureSumOutcome] = []
    run_simulation(
        server_app=build_server_app(
            ReleaseRun(spec, root / "release.sqlite", len(site_configs)), on_outcome=outcomes.append
        ),
        client_app=build_client_app(site_configs, outer_mods=[RecordOutgoing(outgoing)]),
        num_supernodes=len(site_configs),
        backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}, "init_args": {"num_cpus": 2}},
    )
    return FederatedRun(
        config,
        root / "fleet",
        site_configs,
        spec,
        read_release(root / "release.sqlite"),
        outcomes[0],
        outcomes[1],
        outgoing,
    )


@dataclass(frozen=True)
class SmallFleet:
    """One E-82/2300 turbine-month per operator: enough data for protocol tests, fast to make."""

    site_configs: list[Path]
    spec: spec_pb2.BenchmarkSpec


@pytest.fixture(scope="session")
def small_fleet(tmp_path_factory: pytest.TempPathFactory):
    """Factory: ``small_fleet(n)`` -> a SmallFleet of n operators (exports made once per n).

    Each call hands out sites with no history (no audit log, ledger or kept releases): a site's
    release calendar would otherwise, rightly, refuse one test's rounds after another's.
    """
    made: dict[int, SmallFleet] = {}

    def make(n_operators: int) -> SmallFleet:
        if n_operators not in made:
            config = FleetConfig(
                operators=n_operators, turbines_per_operator=1, months=1, seed=n_operators, models=("E-82/2300",)
            )
            sites = generate_fleet(config, tmp_path_factory.mktemp(f"small-{n_operators}"))
            made[n_operators] = SmallFleet(sites, fleet_spec(config, k_min_operators=3))
        for site in made[n_operators].site_configs:
            forget_site_history(site)
        return made[n_operators]

    return make


@pytest.fixture(scope="session", params=sorted(FLEETS))
def federated_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> FederatedRun:
    """A federated SecAgg+ release over each synthetic fleet of FLEETS (one Ray run each)."""
    return _shared_federated_run(request.param, tmp_path_factory)


@pytest.fixture
def fixed_commitment_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every site's census-commitment randomness one constant, so a census's secure sum equals a plain sum.

    In a round it is fresh from the operating system (client/contribution.py); tests that compare the
    sum with each site's own contribution, computed apart, need it the same both times.
    """
    monkeypatch.setattr("client.contribution.randbelow", lambda bound: 0x5EED % bound)
