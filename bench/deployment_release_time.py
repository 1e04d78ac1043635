"""Wall time of one whole release on Flower's deployment engine: N SuperNodes, TLS, node authentication (issue 20).

Makes a consortium CA, a SuperLink certificate and one node key pair per operator
(server/consortium.py), starts a SuperLink with TLS and SuperNode authentication on loopback,
registers the nodes, starts them (each serving one synthetic operator, 2 turbines x 1 month, with
``--isolation process`` and ``fleetbench site serve`` beside it, as docs/deploying.md sets a site up),
then times the release as ``fleetbench release deploy`` runs it (server/deployment.py: per round,
a census round, then a values round: four SecAgg+ rounds of five stages) and prints where the time
goes against the target (10 nodes under 120 s). Every process is stopped at the end.

Run: PYTHONPATH=. .venv/bin/python bench/deployment_release_time.py --nodes 3   (3, 5 or 10)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from google.protobuf import json_format

from server.consortium import make_ca, make_node_keys, make_server_certificate
from simulations.fleet import FleetConfig, generate_fleet
from simulations.local_deployment import LocalConsortium
from simulations.onboarding import fleet_spec

TARGET_SECONDS, TARGET_NODES = 120.0, 10
ROUND = re.compile(r"(round \d (?:census|values)): (\d+) sites summed in ([0-9.]+) s")
STAGES_PER_ROUND = 5  # setup, key sharing, collect, the members' consistency stage, unmask
NODE_POLL_SECONDS = 3.0  # a SuperNode that pulled nothing sleeps this long (flwr/supernode/start_client_internal.py)


ROLES = {"flower-superlink": "SuperLink", "flower-supernode": "SuperNodes", "site serve": "site runtimes"}
ROLES |= {"flwr-serverapp": "ServerApp", "flower-superexec": "SuperExec"}


def cpu_seconds_by_role(sessions: set[int]) -> Counter[str]:
    """CPU seconds so far of the processes in ``sessions`` (each daemon's process session), by what they are.

    A process that has exited and been reaped is not counted (the ServerApp, once its run ends, is
    a zombie until its SuperExec reaps it).
    """
    listing = subprocess.run(["ps", "-eo", "sid=,cputimes=,args="], capture_output=True, text=True, check=True)
    used: Counter[str] = Counter()
    for row in listing.stdout.splitlines():
        session, seconds, command = row.split(None, 2)
        if int(session) in sessions:
            used[next((role for key, role in ROLES.items() if key in command), "other")] += int(seconds)
    return used


def main() -> None:
    nodes = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    nodes.add_argument("--nodes", type=int, default=3, help="SuperNodes, one per operator (3, 5, 10)")
    n = nodes.parse_args().nodes
    config = FleetConfig(operators=n, turbines_per_operator=2, months=1, seed=5, models=("E-82/2300",))
    lines: list[tuple[float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sites = generate_fleet(config, root / "fleet")
        ca_cert, ca_key = make_ca(root / "pki")
        consortium = LocalConsortium(
            root / "aggregator",
            ca_cert,
            *make_server_certificate(ca_cert, ca_key, root / "pki"),
            node_authentication=True,
        )
        try:
            began = time.perf_counter()
            consortium.start_superlink()
            for i, site in enumerate(sites):
                private, public = make_node_keys(site.parent / "node-key", f"operator-{i + 1}")
                registered = consortium.flwr("supernode", "register", str(public), consortium.federation)
                if registered.returncode != 0:
                    raise SystemExit(registered.stdout + registered.stderr)
                consortium.start_supernode(f"node{i + 1}", site, private)
            setup = time.perf_counter() - began
            spec_path = root / "spec.json"
            spec_path.write_text(json_format.MessageToJson(fleet_spec(config)))
            run_config = {"spec": spec_path, "store": root / "release.sqlite", "release-json": "", "min-sites": n}
            cpu_before = cpu_seconds_by_role({d.pid for d in consortium.daemons})
            began = time.perf_counter()
            outcome = consortium.deploy_release(
                run_config, progress=lambda line, ongoing=False: lines.append((time.perf_counter() - began, line))
            )
            seconds = time.perf_counter() - began
            cpu_after = cpu_seconds_by_role({d.pid for d in consortium.daemons})
        finally:
            consortium.stop_all()
    if not outcome.stored:
        raise SystemExit(
            f"run {outcome.run_id} {outcome.status}: no release stored\n" + "\n".join(text for _, text in lines)
        )
    print(f"{n} nodes: SuperLink up, nodes registered and started in {setup:.1f} s (before the release)")
    rounds = [(m.group(1), int(m.group(2)), float(m.group(3))) for _, line in lines if (m := ROUND.search(line))]
    for name, sites_summed, round_seconds in rounds:
        print(f"  {name}, SecAgg+ over {sites_summed} sites: {round_seconds:.1f} s")
    rest = seconds - sum(round_seconds for *_, round_seconds in rounds)
    print(f"  the rest (submission, app start, finalisation, sending, status polls): {rest:.1f} s")
    stages = STAGES_PER_ROUND * len(rounds)
    cpu = {role: cpu_after[role] - cpu_before.get(role, 0) for role in cpu_after}
    print(
        "  CPU seconds during the release (ps): "
        + ", ".join(f"{role} {cpu[role]}" for role in sorted(cpu, key=cpu.__getitem__, reverse=True))
        + f"; {sum(cpu.values())} in all on {os.cpu_count()} cores"
    )
    print(
        f"whole release: {seconds:.1f} s over {n} nodes (run {outcome.run_id} {outcome.status}); "
        f"target: {TARGET_NODES} nodes under {TARGET_SECONDS:.0f} s"
    )
    print(
        f"bound: {stages} stages, each a message every node pulls at its next poll (every {NODE_POLL_SECONDS:.0f} s, "
        f"Flower's, hard-coded: {stages * NODE_POLL_SECONDS / 2:.0f} s of polling on average, "
        f"{stages * NODE_POLL_SECONDS:.0f} s at worst) and the slowest node's answer, on {os.cpu_count()} cores shared "
        f"by every process; {seconds / stages:.1f} s per stage here"
    )


if __name__ == "__main__":
    main()
