"""Filters + density normalisation + binning: FleetBench against NREL OpenOA on the same rows (issue 4).

Generates one synthetic operator (E-82/2300 turbines, a year of 10-min records, injected downtime,
curtailment and frozen anemometers), reads it once into canonical frames, then times
  FleetBench: range, status, frozen-sensor, window and bin-outlier filters, IEC density
              normalisation and method-of-bins sums (client.summaries, both passes);
  OpenOA 3.2: the same filters from openoa.utils.filters turbine by turbine, its IEC air density,
              and openoa.utils.power_curve.IEC (in .venv-openoa, pandas < 3);
and prints rows/s, the ratio, and each curve's agreement with the manufacturer curve that
generated the data (RMS and largest error over 4-14 m/s, in kW). Each side runs ``--repeat``
times (OpenOA in a fresh process each time, as its reference script times itself) and the median
is kept: this shared machine's speed varies by +-30 % from one minute to the next. Imports are not
timed on either side (FleetBench's numba kernels compile, or load from their cache, on import).

Set-up once: make bench-openoa (creates .venv-openoa with openoa==3.2).
Run: .venv/bin/python bench/openoa_comparison.py [--turbines 20] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from client.summaries import cohort_membership, cohort_sums, prepared_records
from protos.fleetbench.v1 import spec_pb2
from simulations.fleet import FleetConfig, generate_fleet
from simulations.fleet_turbines import turbine_type
from simulations.onboarding import fleet_spec

REPO = Path(__file__).resolve().parent.parent
OPENOA_PYTHON = REPO / ".venv-openoa" / "bin" / "python"
S = spec_pb2.Statistic


def fleetbench_curve(chunks: list[pd.DataFrame], site, spec) -> tuple[float, np.ndarray, np.ndarray]:
    start = time.perf_counter()
    membership = cohort_membership(site, spec)
    sums: dict[int, np.ndarray] = {}
    for records in prepared_records(lambda: chunks, site, spec):
        for statistic, value in cohort_sums(records, membership, spec).items():
            sums[statistic] = sums[statistic] + value if statistic in sums else value
    seconds = time.perf_counter() - start
    count = sums[S.RECORD_COUNT][0]
    enough = count >= 3
    return seconds, sums[S.SUM_WIND_SPEED][0][enough] / count[enough], sums[S.SUM_POWER][0][enough] / count[enough]


def openoa_curve(canonical: Path, site) -> dict:
    """One run of bench/openoa_reference.py in .venv-openoa: its seconds and its curve."""
    return json.loads(
        subprocess.run(
            [
                str(OPENOA_PYTHON),
                str(REPO / "bench" / "openoa_reference.py"),
                str(canonical),
                str(site.turbines[0].rated_power_kw),
                str(site.normal_status_codes[0]),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )


def agreement(wind_speed: np.ndarray, power: np.ndarray, truth) -> tuple[float, float]:
    grid = np.arange(4.0, 14.0001, 0.1)
    error = np.interp(grid, wind_speed, power) - truth.power(grid)
    return float(np.sqrt(np.mean(error**2))), float(np.max(np.abs(error)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turbines", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side; the median is kept")
    args = parser.parse_args()
    if not OPENOA_PYTHON.exists():
        raise SystemExit(f"{OPENOA_PYTHON} not found: run `make bench-openoa` first")
    model = "E-82/2300"
    config = FleetConfig(
        operators=1, turbines_per_operator=args.turbines, months=12, seed=3, models=(model,), export_styles=(0,)
    )
    spec = fleet_spec(config)
    del spec.cohorts[1:]  # the model cohort only
    del spec.blocks[len(spec.blocks) // 2 :]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"generating {args.turbines} turbines x 12 months ...", flush=True)
        (site_path,) = generate_fleet(config, Path(tmp))
        site = load_site_config(site_path)
        chunks = list(read_canonical_chunks(site))
        frame = pd.concat(chunks, ignore_index=True)
        frame.to_parquet(Path(tmp) / "canonical.parquet", index=False)
        rows = len(frame)

        ours = sorted((fleetbench_curve(chunks, site, spec) for _ in range(args.repeat)), key=lambda r: r[0])
        ours_s, ours_ws, ours_p = ours[len(ours) // 2]
        print("running OpenOA ...", flush=True)
        theirs = sorted(
            (openoa_curve(Path(tmp) / "canonical.parquet", site) for _ in range(args.repeat)),
            key=lambda r: r["seconds"],
        )
        result = theirs[len(theirs) // 2]
    truth = turbine_type(model)
    ours_rms, ours_max = agreement(ours_ws, ours_p, truth)
    theirs_rms, theirs_max = agreement(np.array(result["wind_speed"]), np.array(result["power"]), truth)
    print(f"\n{rows:,} canonical 10-min records, {args.turbines} turbines, in memory (ingest not timed)")
    ours_runs = ", ".join(f"{r[0]:.3f}" for r in ours)
    theirs_runs = ", ".join(f"{r['seconds']:.3f}" for r in theirs)
    print(f"median of {args.repeat} runs each (FleetBench: {ours_runs} s; OpenOA: {theirs_runs} s)")
    print(f"{'':<12} {'seconds':>8} {'rows/s':>12} {'RMS error [kW]':>15} {'max error [kW]':>15}")
    print(f"{'FleetBench':<12} {ours_s:8.2f} {rows / ours_s:12,.0f} {ours_rms:15.2f} {ours_max:15.2f}")
    theirs_s = result["seconds"]
    print(f"{'OpenOA 3.2':<12} {theirs_s:8.2f} {rows / theirs_s:12,.0f} {theirs_rms:15.2f} {theirs_max:15.2f}")
    print(f"\nthroughput ratio FleetBench / OpenOA: {theirs_s / ours_s:.1f}x")


if __name__ == "__main__":
    main()
