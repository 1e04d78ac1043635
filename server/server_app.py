"""The aggregator's Flower ServerApp: wiring only.

Run config (``[tool.flwr.app.config]``): ``spec`` (path of a BenchmarkSpec in protobuf JSON),
``store`` (SQLite release store), ``release-json`` (JSON export, empty for none), ``min-sites``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp
from google.protobuf import json_format

from protos.fleetbench.v1 import spec_pb2
from server.publish import release_from_secure_sum, store_release
from server.secure_sum import SecureSumOutcome, run_secure_sum
from server.store import check_release_absent


def build_server_app(
    spec: spec_pb2.BenchmarkSpec | None = None,
    store: Path | None = None,
    release_json: Path | None = None,
    min_sites: int | None = None,
    on_outcome: Callable[[SecureSumOutcome], None] | None = None,
) -> ServerApp:
    """A ServerApp that runs one secure sum for ``spec`` and writes the release.

    Arguments left as None are read from the run config. ``on_outcome`` is called with the
    unmasked aggregate before it is finalised (tests and benchmarks check exactness with it).
    """
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        config = context.run_config
        run_spec = spec or json_format.Parse(Path(str(config["spec"])).read_text(), spec_pb2.BenchmarkSpec())
        run_store = store or Path(str(config["store"]))
        check_release_absent(run_store, run_spec, "secagg+")
        outcome = run_secure_sum(grid, context, run_spec, min_sites or int(config["min-sites"]))
        if on_outcome is not None:
            on_outcome(outcome)
        release = release_from_secure_sum(run_spec, outcome, flower_run_id=str(context.run_id))
        json_path = release_json or (Path(str(config["release-json"])) if config.get("release-json") else None)
        store_release(release, run_store, json_path)

    return app


app = build_server_app()
