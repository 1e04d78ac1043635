"""Wall time of one whole release on Flower's deployment engine: 3 SuperNodes, TLS, node authentication (issue 7).

Makes a consortium CA, a SuperLink certificate and three node key pairs (server/consortium.py),
starts a SuperLink with TLS and SuperNode authentication on loopback, registers the three nodes,
starts them (each serving one synthetic operator, 2 turbines x 1 month), then times ``flwr run``
of the release (per round, a census round, then a values round: four SecAgg+ rounds) and prints
where the time goes. Every process is stopped at the end.

Run: .venv/bin/python bench/deployment_release_time.py
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from google.protobuf import json_format

from server.consortium import make_ca, make_node_keys, make_server_certificate
from server.store import read_release
from simulations.fleet import FleetConfig, generate_fleet
from simulations.local_deployment import LocalConsortium
from simulations.onboarding import fleet_spec

TARGET_SECONDS = 90.0


def main() -> None:
    config = FleetConfig(operators=3, turbines_per_operator=2, months=1, seed=5, models=("E-82/2300",))
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
            link_up = time.perf_counter() - began
            for i, site in enumerate(sites):
                private, public = make_node_keys(site.parent / "node-key", f"operator-{i + 1}")
                registered = consortium.flwr("supernode", "register", str(public), consortium.federation)
                if registered.returncode != 0:
                    raise SystemExit(registered.stdout + registered.stderr)
                consortium.start_supernode(f"node{i + 1}", site, private)
            setup = time.perf_counter() - began
            spec_path = root / "spec.json"
            spec_path.write_text(json_format.MessageToJson(fleet_spec(config)))
            store = root / "release.sqlite"
            began = time.perf_counter()
            result = consortium.run_release({"spec": spec_path, "store": store, "release-json": "", "min-sites": 3})
            seconds = time.perf_counter() - began
            if result.returncode != 0 or not store.exists():
                raise SystemExit(result.stdout[-3000:])
            release = read_release(store)
        finally:
            consortium.stop_all()
    rounds = [float(s) for s in re.findall(r"Run finished 1 round\(s\) in ([0-9.]+)s", result.stdout)]
    print(f"SuperLink up in {link_up:.1f} s; 3 nodes registered and started in {setup:.1f} s (before the release)")
    print(
        f"release over {release.provenance.participants} sites (round 2: {release.provenance.indicator_participants})"
    )
    names = ("round 1 census", "round 1 values (curves, model sums)", "round 2 census", "round 2 values (indicators)")
    for name, round_seconds in zip(names, rounds, strict=False):
        print(f"  {name}, SecAgg+: {round_seconds:.1f} s")
    print(f"  the rest (app start, finalisation, sending the release to the sites): {seconds - sum(rounds):.1f} s")
    print(f"whole release: {seconds:.1f} s; target < {TARGET_SECONDS:.0f} s: {seconds / TARGET_SECONDS:.2f} of it")


if __name__ == "__main__":
    main()
