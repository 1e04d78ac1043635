"""Secure-aggregation round time against the same round without it (issues 3, 16 and 17).

For 5, 20, 50, 100 and 200 simulated sites in Flower's simulation engine (Ray, this machine's
cores), times inside the ServerApp (Ray start-up excluded):
  census: FleetBench's SecAgg+ census round (keyed masks, log-size neighbourhood, site guard);
  values: the values round it decides (the round that was the only one before the census);
  plain:  the census's ClientApp handler and strategy in Flower's default FedAvg fit round.
Every site contributes the real blocks of one turbine-month of synthetic SCADA. The secure census
sum is checked for exactness against the plain per-site sum before any time is printed. The
census's cost is census / values: what the census round adds to each round of a release.

The members' checks (issue 17) are inside both secure rounds: each site signs its keys and the
survivor set, and verifies its neighbours' signatures at key sharing, every other participant's
at collect and every survivor's at unmask. Printed apart: the consistency stage of the census
round (wall time in the ServerApp: one more exchange with every site) and the signature work of
one round over all sites (2n signatures and 2n^2 verifications, at this machine's Ed25519 rate;
CPU seconds spread over the sites, which run in parallel in a deployment), and the census
commitments' work per site (protos/commitment.py): committing to its census, and checking the
census's totals against every member's commitment. The values round runs only if every site's
check passes, so it also shows the summed commitment randomness exact (the census sums are
compared with the plain sums but for that block, whose randomness each site draws afresh).

Run: .venv/bin/python bench/secagg_round_time.py [--sites 5 20 50 100 200]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from secrets import randbelow

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flwr.app import Context, Message
from flwr.clientapp import ClientApp
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS
from flwr.compat.common.recorddict_compat import fitres_to_recorddict, recorddict_to_fitins
from flwr.server import LegacyContext, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow
from flwr.serverapp import Grid, ServerApp
from flwr.simulation import run_simulation

from client.client_app import build_client_app
from client.contribution import prepare_contribution, site_contribution
from protos import commitment
from protos.census import census_spec, committed_census, fixed_point_integers
from protos.codec import block_layouts, limb_sums_from_weighted_mean
from protos.fleetbench.v1 import spec_pb2
from protos.messages import CENSUS_CONFIG_KEY, CONSTANT_WEIGHT, SPEC_CONFIG_KEY
from server.publish import census_from_secure_sum
from server.secure_sum import SecureSumStrategy, SignedSecAggPlusWorkflow, neighbourhood, run_secure_sum
from simulations.fleet import FleetConfig, forget_site_history, generate_fleet
from simulations.onboarding import fleet_spec

BACKEND = {"client_resources": {"num_cpus": 1, "num_gpus": 0.0}, "init_args": {"num_cpus": 2}}


class PlainSumStrategy(SecureSumStrategy):
    """The same spec and sampling, aggregated by FedAvg from individual (unmasked) results."""

    def aggregate_fit(self, server_round, results, failures):
        parameters, metrics = FedAvg.aggregate_fit(self, server_round, results, failures)
        self.plain_mean = parameters_to_ndarrays(parameters)
        return parameters, metrics


def plain_client_app(site_configs: list[Path]) -> ClientApp:
    app = ClientApp()

    @app.train()
    def contribute(msg: Message, context: Context) -> Message:
        fitins = recorddict_to_fitins(msg.content, keep_input=True)
        partition = int(context.node_config["partition-id"])
        spec = spec_pb2.BenchmarkSpec.FromString(bytes(fitins.config[SPEC_CONFIG_KEY]))
        arrays = site_contribution(site_configs[partition], spec)
        fitres = FitRes(Status(Code.OK, ""), ndarrays_to_parameters(arrays), CONSTANT_WEIGHT, {})
        return Message(fitres_to_recorddict(fitres, keep_input=False), reply_to=msg)

    return app


def routing_client_app(site_configs: list[Path]) -> ClientApp:
    """SecAgg+ messages go to FleetBench's ClientApp, plain fit messages to the plain one."""
    secure, plain = build_client_app(site_configs), plain_client_app(site_configs)

    def route(msg: Message, context: Context, call_next) -> Message:
        app = secure if RECORD_KEY_CONFIGS in msg.content.config_records else plain
        return app(message=msg, context=context)

    app = ClientApp(mods=[route])

    @app.train()
    def unreachable(msg: Message, context: Context) -> Message:
        raise AssertionError("every message is routed")

    return app


def signature_cpu_seconds(n: int) -> float:
    """CPU time [s] of one round's member signatures over ``n`` sites.

    Each site signs twice and verifies 2n signatures: its k neighbours' at key sharing, the n - k
    other participants' at collect (the neighbours' were verified already), n survivors' at unmask.
    """
    key = Ed25519PrivateKey.generate()
    public, payload = key.public_key(), b"x" * 80
    signature = key.sign(payload)
    start = time.perf_counter()
    for _ in range(200):
        key.sign(payload)
    sign = (time.perf_counter() - start) / 200
    start = time.perf_counter()
    for _ in range(200):
        public.verify(signature, payload)
    verify = (time.perf_counter() - start) / 200
    return 2 * n * sign + 2 * n * n * verify


def commitment_cpu_seconds(site_configs: list[Path], spec: spec_pb2.BenchmarkSpec) -> tuple[float, float]:
    """CPU time [s] per site of committing to its census (the first site's) and of checking all ``site_configs``'s."""
    census = census_spec(spec)
    layouts = block_layouts(census)
    vectors = [
        committed_census(census, fixed_point_integers(layouts, prepare_contribution(site, census).values))
        for site in site_configs
    ]
    randomness = [randbelow(commitment.ORDER) for _ in vectors]
    start = time.process_time()
    commitments = [commitment.commit(vector, r) for vector, r in zip(vectors, randomness, strict=True)]
    commit_s = (time.process_time() - start) / len(vectors)
    totals = [sum(column) for column in zip(*vectors, strict=True)]
    start = time.process_time()
    if not commitment.opens_to(commitments, totals, sum(randomness) % commitment.ORDER):
        raise AssertionError("the census commitments do not open to their sum")
    return commit_s, time.process_time() - start


def timed_rounds(site_configs: list[Path], spec) -> dict[str, object]:
    """Warm-up round (Ray actors start, modules load), then a timed plain and a timed secure round."""
    n = len(site_configs)
    result: dict[str, object] = {}
    app = ServerApp()

    census = census_spec(spec)

    def plain_round(grid: Grid, context: Context) -> list[np.ndarray]:
        strategy = PlainSumStrategy(census, n)
        DefaultWorkflow()(grid, LegacyContext(context, config=ServerConfig(num_rounds=1), strategy=strategy))
        return limb_sums_from_weighted_mean(strategy.plain_mean, n)

    consistency: list[float] = []
    stage = SignedSecAggPlusWorkflow.consistency_stage

    def timed_consistency(workflow, grid, context, state) -> bool:
        start = time.perf_counter()
        signed = stage(workflow, grid, context, state)
        consistency.append(time.perf_counter() - start)
        return signed

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        plain_round(grid, context)
        start = time.perf_counter()
        result["plain_sums"] = plain_round(grid, context)
        result["plain_s"] = time.perf_counter() - start
        start = time.perf_counter()
        SignedSecAggPlusWorkflow.consistency_stage = timed_consistency
        try:
            outcome = run_secure_sum(grid, context, census, n)
        finally:
            SignedSecAggPlusWorkflow.consistency_stage = stage
        result["census_s"] = time.perf_counter() - start
        result["consistency_s"] = consistency[0]
        result["secure_sums"] = limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites)
        summed = census_from_secure_sum(census, outcome).SerializeToString(deterministic=True)
        start = time.perf_counter()
        run_secure_sum(grid, context, spec, n, {CENSUS_CONFIG_KEY: summed}, outcome.node_ids)
        result["values_s"] = time.perf_counter() - start

    run_simulation(
        server_app=app, client_app=routing_client_app(site_configs), num_supernodes=n, backend_config=BACKEND
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, nargs="+", default=[5, 20, 50, 100, 200])
    args = parser.parse_args()
    logging.getLogger("flwr").setLevel(logging.WARNING)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        config = FleetConfig(
            operators=max(args.sites), turbines_per_operator=1, months=1, seed=5, models=("E-82/2300",)
        )
        print(f"generating {config.operators} synthetic sites ...", flush=True)
        all_sites = generate_fleet(config, Path(tmp))
        spec = fleet_spec(config)
        payload = sum(a.size for a in site_contribution(all_sites[0], census_spec(spec)))
        for n in args.sites:
            sites = all_sites[:n]
            for site in sites:  # each size replays the same period: each site's calendar starts afresh
                forget_site_history(site)
            result = timed_rounds(sites, spec)
            # The last census block is the commitment randomness, drawn afresh by each site in each round.
            for s, p in zip(result["secure_sums"][:-1], result["plain_sums"][:-1], strict=True):
                np.testing.assert_array_equal(s, p)
            census_s, values_s, plain_s, consistency_s = (
                float(result[key]) for key in ("census_s", "values_s", "plain_s", "consistency_s")
            )
            k, t = neighbourhood(n)
            signatures_s = signature_cpu_seconds(n)
            commit_s, check_s = commitment_cpu_seconds(sites, spec)
            rows.append((n, k, t, census_s, values_s, plain_s, consistency_s, signatures_s, commit_s, check_s))
            print(f"  {n} sites: census {census_s:.1f} s, values {values_s:.1f} s, plain {plain_s:.1f} s", flush=True)
    print(
        f"\nOne warm round each, Flower simulation engine, 2 CPUs; census payload {payload:,} limbs per site; "
        "census sums identical to the plain sums."
    )
    print(
        f"{'sites':>6} {'neighbours':>10} {'threshold':>9} {'census [s]':>11} {'values [s]':>11} {'plain [s]':>10} "
        f"{'census/plain':>13} {'census/values':>14} {'consistency [s]':>16} {'signatures [CPU s]':>19} "
        f"{'commit/site [CPU s]':>20} {'check/site [CPU s]':>19}"
    )
    for n, k, t, census_s, values_s, plain_s, consistency_s, signatures_s, commit_s, check_s in rows:
        print(
            f"{n:6d} {k:10d} {t:9d} {census_s:11.2f} {values_s:11.2f} {plain_s:10.2f} {census_s / plain_s:13.2f} "
            f"{census_s / values_s:14.2f} {consistency_s:16.2f} {signatures_s:19.2f} {commit_s:20.3f} {check_s:19.3f}"
        )


if __name__ == "__main__":
    main()
