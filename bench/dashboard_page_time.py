"""How long a member waits for a cohort page of the dashboard, and what it sends (issue 19).

Builds the demo's release (10 operators of 5 turbines over 3 months, pooled: the same release as
the federated one, without Ray), stores it, and serves the dashboard in process (FastAPI's test
client: no network). Prints, for the cohort page of every cohort and for the release and home
pages, the median time of --repeats requests after one warm-up, against the 1 s target, and the
bytes sent with and without gzip (the page itself; plotly.min.js is fetched once and cached a day).

Run: .venv/bin/python bench/dashboard_page_time.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient

from server.dashboard.app import create_app
from server.dashboard.tokens import create_token
from server.store import write_release
from simulations.fleet import FleetConfig, generate_fleet
from simulations.onboarding import fleet_spec
from simulations.pooled import pooled_release

TARGET_S = 1.0  # [s], issue 19: a cohort page under 1 s on this machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = FleetConfig(operators=10, turbines_per_operator=5, months=3, seed=7)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        print("building the demo's release (pooled, both rounds) ...", flush=True)
        sites = generate_fleet(config, root / "fleet")
        release = pooled_release(sites, fleet_spec(config))
        write_release(root / "release.sqlite", release)
        token = create_token(root / "tokens.json", "bench")
        client = TestClient(create_app(root / "release.sqlite", root / "tokens.json"))
        member = {"Authorization": f"Bearer {token}"}
        pages = {"home": "/", "release": "/releases/1"}
        pages |= {f"cohort {c.cohort}": f"/releases/1/cohort?name={quote(c.cohort, safe='')}" for c in release.curves}
        print(f"{'page':<28} {'median [s]':>10} {'/ target':>9} {'sent [kB]':>10} {'gzipped [kB]':>13}")
        for name, path in pages.items():
            client.get(path, headers=member)  # warm-up: templates compiled, release parsed once
            seconds = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                plain = client.get(path, headers={**member, "Accept-Encoding": "identity"})
                seconds.append(time.perf_counter() - start)
            zipped = client.get(path, headers={**member, "Accept-Encoding": "gzip"})
            assert plain.status_code == zipped.status_code == 200, (path, plain.status_code)
            median = statistics.median(seconds)
            print(
                f"{name:<28} {median:>10.3f} {median / TARGET_S:>9.2f} {plain.num_bytes_downloaded / 1e3:>10.0f} "
                f"{zipped.num_bytes_downloaded / 1e3:>13.0f}"
            )
        script = client.get("/static/plotly.min.js", headers={**member, "Accept-Encoding": "gzip"})
        print(
            f"plotly.min.js once per day: {len(script.content) / 1e6:.1f} MB, sent gzipped as "
            f"{script.num_bytes_downloaded / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
