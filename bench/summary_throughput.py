"""Client summary throughput against a straightforward pandas group-by (issue 2).

Writes one synthetic operator export of >= 5 million 10-min records (Parquet), then times
  1. ingest: Parquet export -> canonical frames (FleetBench, chunked);
  2. summaries: canonical frames -> every block of the spec (range and status filters, IEC
     density normalisation, method-of-bins sums), FleetBench's numpy kernels (summarise_site)
     against the same statistics computed with a pandas group-by;
and prints rows/s and the ratio. Both summaries are checked to agree before any time is printed.

Run: .venv/bin/python bench/summary_throughput.py [--rows 5000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from client.air_density import air_density, pressure_at_elevation
from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from client.summaries import period_bounds, summarise_site
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey
from server.spec import power_curve_spec
from simulations.fleet import FleetConfig, generate_fleet

S = spec_pb2.Statistic

STATELESS_FILTERS = [("range", {}), ("status", {"downtime_wind_speed": 4.5, "curtailment_pitch": 5.0})]


def pandas_groupby_summaries(frame: pd.DataFrame, site, spec) -> dict[str, np.ndarray]:
    """The baseline: the same masks, IEC density normalisation, then pandas cut and group-by."""
    start, end = period_bounds(spec)
    rated = frame["asset_id"].map({t.asset_id: t.rated_power_kw for t in site.turbines}).astype(float)
    per_unit = frame["WTUR_W"] / rated
    ok = (
        frame[["WMET_HorWdSpd", "WTUR_W", "WMET_EnvTmp"]].notna().all(axis=1)
        & per_unit.between(-0.5, 2.0)
        & frame["WTUR_TurSt"].isin(site.normal_status_codes)
        & (frame["time"] >= start)
        & (frame["time"] < end)
    )
    frame = frame[ok].copy()
    pressure = frame["WMET_EnvPres"] if "WMET_EnvPres" in frame else pressure_at_elevation(site.elevation_m)
    rho = air_density(frame["WMET_EnvTmp"] + 273.15, pressure, 0.5)
    frame["ws_n"] = frame["WMET_HorWdSpd"] * (rho / spec.reference_air_density) ** (1 / 3)
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    frame["cohort"] = frame["asset_id"].map({t.asset_id: t.model for t in site.turbines}).astype(str)
    frame["ws_bin"] = np.floor((frame["ws_n"] - ws.first_centre) / ws.width + 0.5)
    frame = frame[(frame["ws_bin"] >= 0) & (frame["ws_bin"] < ws.count)]
    per_unit = frame["WTUR_W"] / rated[frame.index]
    frame["p_bin"] = np.floor((per_unit - pg.first_centre) / pg.width + 0.5).clip(0, pg.count - 1)
    frame["p2"] = frame["WTUR_W"] ** 2
    sums = frame.groupby(["cohort", "ws_bin"]).agg(
        n=("WTUR_W", "size"), ws=("ws_n", "sum"), p=("WTUR_W", "sum"), p2=("p2", "sum")
    )
    histogram = frame.groupby(["cohort", "ws_bin", "p_bin"]).size()
    out = {}
    for cohort in spec.cohorts:
        counts, power = np.zeros(ws.count), np.zeros(ws.count)
        if cohort.name in sums.index.get_level_values(0):
            part = sums.loc[cohort.name]
            counts[part.index.to_numpy(dtype=int)] = part["n"].to_numpy()
            power[part.index.to_numpy(dtype=int)] = part["p"].to_numpy()
        out[BlockKey(cohort.name, S.RECORD_COUNT)] = counts
        out[BlockKey(cohort.name, S.SUM_POWER)] = power
        hist = np.zeros((ws.count, pg.count))
        if cohort.name in histogram.index.get_level_values(0):
            part = histogram.loc[cohort.name]
            ws_index = part.index.get_level_values(0).to_numpy(dtype=int)
            hist[ws_index, part.index.get_level_values(1).to_numpy(dtype=int)] = part.to_numpy()
        out[BlockKey(cohort.name, S.NORMALISED_POWER_HISTOGRAM)] = hist
    return out


def best_of(repeats: int, run) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    records_per_turbine = int((pd.Timestamp("2026-01-01") - pd.Timestamp("2025-01-01")) / pd.Timedelta(minutes=10))
    turbines = -(-args.rows // records_per_turbine)
    config = FleetConfig(
        operators=1, turbines_per_operator=turbines, months=12, seed=1, models=("E-82/2300",), export_styles=(2,)
    )
    with tempfile.TemporaryDirectory() as tmp:
        print(f"writing a synthetic Parquet export: {turbines} turbines x {records_per_turbine} records", flush=True)
        (site_path,) = generate_fleet(config, Path(tmp))
        site = load_site_config(site_path)
        spec = power_curve_spec("bench", config.start, config.period_end, ["E-82/2300"], filters=STATELESS_FILTERS)

        t_ingest, chunks = best_of(1, lambda: list(read_canonical_chunks(site)))
        rows = sum(len(c) for c in chunks)
        frame = pd.concat(chunks, ignore_index=True)
        t_fleetbench, ours = best_of(args.repeats, lambda: summarise_site(lambda: chunks, site, spec).values)
        t_pandas, theirs = best_of(args.repeats, lambda: pandas_groupby_summaries(frame, site, spec))
        assert ours[BlockKey(spec.cohorts[0].name, S.RECORD_COUNT)].sum() > 0.9 * rows, "most records should count"
        for name, value in theirs.items():
            np.testing.assert_allclose(ours[name], value, rtol=1e-9, atol=0, err_msg=name)

    print(f"\nrows: {rows:,} ({site.file_format} export, {turbines} turbines, 10-min records)")
    print(f"{'step':<42} {'seconds':>8} {'rows/s':>14}")
    print(f"{'ingest (parquet -> canonical, chunked)':<42} {t_ingest:8.2f} {rows / t_ingest:14,.0f}")
    print(f"{'summaries: FleetBench numpy kernels':<42} {t_fleetbench:8.2f} {rows / t_fleetbench:14,.0f}")
    print(f"{'summaries: pandas group-by baseline':<42} {t_pandas:8.2f} {rows / t_pandas:14,.0f}")
    print(f"\nspeed-up of FleetBench summaries over the pandas group-by: {t_pandas / t_fleetbench:.2f}x")


if __name__ == "__main__":
    main()
