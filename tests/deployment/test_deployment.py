"""A consortium on Flower's deployment engine, on loopback: TLS, node authentication, dropouts, restarts.

One SuperLink (TLS, SuperNode authentication) and three registered SuperNodes, each serving one
synthetic operator through its site.toml, run releases as ``fleetbench release deploy`` does
(server/deployment.py: a release is made when the store holds it, whatever ``flwr run`` says). Every process is
started here and stopped here by pid (its whole process group).
"""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pytest
from google.protobuf import json_format

from client.audit import audit_log_path, verify_log
from server.consortium import make_ca, make_node_keys, make_server_certificate
from server.spec import band_cohort, power_curve_spec
from server.store import read_release
from simulations.fleet import FleetConfig, enrol_members, generate_fleet
from simulations.local_deployment import Daemon, LocalConsortium
from simulations.onboarding import run_release_in_process

# Two months: a release of January, then (its own period: sites keep one release per period) of February.
CONFIG = FleetConfig(operators=3, turbines_per_operator=2, months=2, seed=5, models=("E-82/2300",))
JANUARY, FEBRUARY = ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"), ("2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z")


def _spec(spec_id: str, period: tuple[str, str]):
    return power_curve_spec(spec_id, *period, ["E-82/2300", band_cohort((1500.0, 3000.0))], k_min_operators=3)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _sent(daemon: Daemon) -> int:
    return daemon.log.read_text(errors="replace").count("Sent successfully")


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("consortium")
    sites = generate_fleet(CONFIG, root / "fleet")
    pki = root / "pki"
    ca_cert, ca_key = make_ca(pki)
    server_cert, server_key = make_server_certificate(ca_cert, ca_key, pki)
    consortium = LocalConsortium(root / "aggregator", ca_cert, server_cert, server_key, node_authentication=True)
    try:
        consortium.start_superlink()
        keys = []
        for i, site in enumerate(sites):
            private, public = make_node_keys(site.parent / "node-key", f"operator-{i + 1}")
            result = consortium.flwr("supernode", "register", str(public), consortium.federation)
            assert result.returncode == 0, result.stdout + result.stderr
            keys.append((private, public))
        nodes = [consortium.start_supernode(f"node{i + 1}", site, keys[i][0]) for i, site in enumerate(sites)]
        yield consortium, sites, nodes
    finally:
        consortium.stop_all()
        for daemon in consortium.daemons:
            assert not daemon.alive(), f"{daemon.name} (pid {daemon.pid}) still running"


def test_an_unregistered_node_is_refused(consortium, tmp_path: Path):
    consortium, sites, _ = consortium
    private, _ = make_node_keys(tmp_path, "intruder")
    # Without the site runtime: waiting for its port raced the refusal, which can come first.
    intruder = consortium.start_supernode("intruder", sites[0], private, site_runtime=False)
    try:
        _wait_for(lambda: not intruder.alive(), 60, "the unregistered SuperNode to be refused")
    finally:
        intruder.stop()
    assert intruder.process.returncode != 0
    assert "Sent successfully" not in intruder.log.read_text(errors="replace")


def test_a_revoked_node_is_stopped_and_its_key_cannot_return(consortium, tmp_path: Path):
    consortium, sites, _ = consortium
    private, public = make_node_keys(tmp_path, "leaver")
    registered = consortium.flwr("supernode", "register", str(public), consortium.federation)
    node_id = re.search(r"SuperNode (\d+) registered", registered.stdout + registered.stderr).group(1)
    leaver = consortium.start_supernode("leaver", sites[0], private)
    try:
        _wait_for(lambda: "SuperNode ID" in leaver.log.read_text(errors="replace"), 60, "the node to be admitted")
        revoked = consortium.flwr("supernode", "unregister", node_id, consortium.federation)
        assert revoked.returncode == 0, revoked.stdout + revoked.stderr
        _wait_for(lambda: not leaver.alive(), 60, "the revoked SuperNode to stop")
    finally:
        leaver.stop()
    again = consortium.flwr("supernode", "register", str(public), consortium.federation)
    assert "already in use" in again.stdout + again.stderr


def test_a_release_in_deployment_equals_the_simulation(consortium):
    """Round 1 on the deployment engine (round 2 runs the same apps and transport: tests/simulations compare it).

    Each SecAgg+ stage costs ~5 s here (Flower's 3 s polls, the site runtime's answer): both rounds
    would take ~100 s of the suite (bench/deployment_release_time.py).
    """
    consortium, sites, _ = consortium
    spec = _spec("january", JANUARY)
    spec_path = consortium.root / "spec-a.json"
    spec_path.write_text(json_format.MessageToJson(spec))
    store = consortium.root / "release.sqlite"
    run_config = {"spec": spec_path, "store": store, "release-json": "", "min-sites": 3, "indicators": False}
    lines: list[str] = []
    outcome = consortium.deploy_release(run_config, progress=lambda line, ongoing=False: lines.append(line))
    assert outcome.stored and outcome.status == "finished:completed", "\n".join(lines)
    assert any("round 1 values: 3 sites summed" in line for line in lines)  # the ServerApp's own lines, relayed
    deployed = read_release(store, outcome.release_id)
    assert deployed.provenance.participants == 3

    # Each site got the release; its audit log records 2 rounds, the census commitments it checked, both unmasks and
    # the receipt.
    for site in sites:
        assert list((site.parent / "releases").glob("*.json"))
        verification = verify_log(audit_log_path(site))
        assert verification.ok and verification.entries == 6, verification.problems

    # The same data through the same apps in one process (the simulation's path) gives the same release.
    simulated = run_release_in_process(sites, spec, indicators=False, send=False)
    for field in ("curves", "models"):
        assert list(getattr(deployed, field)) == list(getattr(simulated, field)), field


def test_a_node_the_aggregator_registers_under_a_members_name_gets_nothing(consortium):
    """The aggregator registers a SuperNode of its own that signs as operator-01 with a key of its own.

    Every honest site refuses at key sharing (the signature is not the roster's): no site records a
    contribution, nothing is stored. The same attack with the member checks off recovers a site's
    data in process (tests/privacy/test_malicious_aggregator.py, its controls).
    """
    consortium, sites, _ = consortium
    store = consortium.root / "release.sqlite"
    first = read_release(store, 1).SerializeToString()
    rogue_site = generate_fleet(
        FleetConfig(operators=1, turbines_per_operator=2, months=2, seed=77, models=("E-82/2300",)),
        consortium.root / "rogue",
    )[0]
    enrol_members([rogue_site], ["operator-01"], consortium="synthetic consortium")
    private, public = make_node_keys(rogue_site.parent / "node-key", "rogue")
    registered = consortium.flwr("supernode", "register", str(public), consortium.federation)
    node_id = re.search(r"SuperNode (\d+) registered", registered.stdout + registered.stderr).group(1)
    rogue = consortium.start_supernode("rogue", rogue_site, private)
    spec_path = consortium.root / "spec-rogue.json"
    spec_path.write_text(json_format.MessageToJson(_spec("rogue", FEBRUARY)))
    try:
        _wait_for(lambda: "SuperNode ID" in rogue.log.read_text(errors="replace"), 60, "the rogue node to be admitted")
        lines: list[str] = []
        outcome = consortium.deploy_release(
            {"spec": spec_path, "store": store, "release-json": "", "min-sites": 4},
            progress=lambda line, ongoing=False: lines.append(line),
        )
    finally:
        rogue.stop()
        consortium.flwr("supernode", "unregister", node_id, consortium.federation)
    (consortium.root / "release-rogue.log").write_text("\n".join(lines))
    assert outcome.status == "finished:failed" and not outcome.stored  # told as it is
    assert read_release(store).SerializeToString() == first, "no release from a round with a rogue node"
    for site in sites:
        entries = [json.loads(line) for line in audit_log_path(site).read_text().splitlines()]
        assert not [e for e in entries if e.get("spec_id", "").startswith("rogue")]


def test_a_node_killed_mid_round_and_a_restarted_superlink_leave_no_release_and_the_store(consortium):
    """Two survivors are below every site's min_participants (3): no round is unmasked, nothing is stored."""
    consortium, sites, nodes = consortium
    store = consortium.root / "release.sqlite"
    first = read_release(store, 1).SerializeToString()

    superlink = next(d for d in consortium.daemons if d.name == "superlink")
    superlink.stop()
    consortium.daemons.remove(superlink)
    consortium.start_superlink()  # same state database and store: the nodes reconnect by themselves

    spec_path = consortium.root / "spec-b.json"
    spec_path.write_text(json_format.MessageToJson(_spec("february", FEBRUARY)))
    run = consortium.start_release({"spec": spec_path, "store": store, "release-json": "", "min-sites": 2})
    try:
        victim = nodes[2]
        already = _sent(victim)
        _wait_for(lambda: _sent(victim) >= already + 2, 120, "the third node to pass SecAgg+ setup and key sharing")
        victim.stop(signal.SIGKILL)
        output, _ = run.communicate(timeout=400)
    finally:
        if run.poll() is None:
            run.kill()
    (consortium.root / "release-b.log").write_text(output)
    assert read_release(store).SerializeToString() == first, "no second release: the store holds the first only"
    for site in sites[:2]:  # the survivors refused to unmask the census over two sites: no unmask entry
        entries = [json.loads(line) for line in audit_log_path(site).read_text().splitlines()]
        february = [e for e in entries if e.get("spec_id", "").startswith("february")]
        assert february and not any(e["event"] == "unmask" for e in february), february
