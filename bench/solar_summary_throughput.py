"""A solar plant's summary, streamed, against RdTools' own sensor workflow in memory (issue 21).

One synthetic plant (default 4 inverters; simulations/solar_fleet.py, the first plant that
``solar_fleet`` draws for the seed, its inverters set to ``--inverters``), written as a Parquet
export, one file a year. Two things are measured.

1. Throughput, ``--years`` at ``--resolution`` (default 3 years at 15 min, 420,768 rows), best of
   ``--repeats``, RdTools imported beforehand on both sides:
     a. FleetBench: ``summarise_plant`` over ``read_solar_chunks`` (the export read in chunks, every
        block of the spec: irradiance-binned curve, PR and PR_STC, availability, clipping, lost energy
        by category, per-inverter daily energy, then RdTools' year-on-year degradation and SRR soiling on
        the daily series, 50 soiling realisations);
     b. the baseline: the whole export read into memory, the same expected power per record
        (PVWatts DC and inverter with SAPM cell temperature from the module temperature, the functions
        FleetBench's summary calls) summed over the inverters with the measured power, then RdTools'
        documented sensor workflow ``rdtools.TrendAnalysis(power, poa_global=..., power_expected=...)``
        ``.sensor_analysis(analyses=['yoy_degradation', 'srr_soiling'], srr_kwargs={'reps': 50,
        'method': 'perfect_clean'})``: energy from power, ``normalize_with_expected_power``, the default
        filters (normalised, POA, clipping; no cell temperature filter with an expected power given),
        daily aggregation, two-way window filter, year-on-year degradation (10,000 bootstrap samples)
        and SRR soiling. It computes a plant's degradation and soiling only, none of the other blocks.
   Both run on the same rows; rows/s for each and the ratio are printed, with both estimates.
2. Peak memory, ``--memory-years`` at ``--memory-resolution`` (default 10 years at 1 min, 21 million
   rows, simulated a year at a time so that generation stays bounded): each side runs in a child
   process of its own, and its peak resident set (``ru_maxrss`` of ``os.wait4``), rows and wall time are
   printed. ``--memory-years 0`` skips it.

Run: PYTHONPATH=. .venv/bin/python bench/solar_summary_throughput.py [--years 3 --resolution 15min --memory-years 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from client.solar.ingest import read_solar_chunks
from client.solar.irradiance import cell_temperature
from client.solar.performance import expected_ac_power, expected_dc_power
from client.solar.site_config import SolarSiteConfig, load_solar_site_config
from client.solar.summaries import SOILING_REALISATIONS, summarise_plant
from server.spec import solar_cohort, solar_spec
from simulations.solar_fleet import SolarPlantTruth, simulate_solar_plant_with_truth, solar_fleet, write_solar_site

START = "2022-01-01"
REPOSITORY = Path(__file__).resolve().parents[1]


def plant_truth(inverters: int, years: int, seed: int) -> SolarPlantTruth:
    """The first plant ``solar_fleet`` draws for ``seed``, with ``inverters`` identical inverters."""
    plant = solar_fleet(1, years, np.random.default_rng(seed), START)[0]
    names = tuple(f"INV{k + 1:02d}" for k in range(inverters))
    return replace(
        plant,
        inverters=names,
        dc_capacity_kw=(plant.dc_capacity_kw[0],) * inverters,
        ac_capacity_kw=(plant.ac_capacity_kw[0],) * inverters,
        outages=tuple(o for o in plant.outages if o.inverter in names),
        underperforming=tuple(u for u in plant.underperforming if u.inverter in names),
    )


def write_plant(folder: Path, truth: SolarPlantTruth, years: int, resolution: str, seed: int) -> Path:
    """Simulate and write the plant a year at a time (one Parquet file each); return its site.toml."""
    rng = np.random.default_rng([seed, 1])
    begin = pd.Timestamp(START, tz="UTC")
    path = folder / "site.toml"
    for year in range(years):
        began = time.perf_counter()
        start, end = begin + pd.DateOffset(years=year), begin + pd.DateOffset(years=year + 1)
        frame = simulate_solar_plant_with_truth(truth, start.isoformat(), end.isoformat(), resolution, rng).frame
        path = write_solar_site(truth, frame, folder)
        print(
            f"  wrote {start.year}: {len(frame):,} records at {resolution} in {time.perf_counter() - began:.1f} s",
            flush=True,
        )
        del frame
    return path


def period(years: int) -> tuple[str, str]:
    begin = pd.Timestamp(START, tz="UTC")
    return begin.isoformat(), (begin + pd.DateOffset(years=years)).isoformat()


def export_rows(site: SolarSiteConfig) -> int:
    return sum(pq.ParquetFile(path).metadata.num_rows for path in site.files)


def fleetbench_summary(site: SolarSiteConfig, spec) -> dict[str, float]:
    """FleetBench's streamed summary; its degradation and soiling."""
    summary = summarise_plant(lambda: read_solar_chunks(site), site, spec)
    return {
        "degradation": summary.degradation.rate_pct_per_year if summary.degradation else np.nan,
        "soiling": summary.soiling.loss_pct if summary.soiling else np.nan,
        "records_15min": float(summary.inverter_records.sum()),
    }


def rdtools_sensor_analysis(site: SolarSiteConfig) -> dict[str, float]:
    """The baseline: the export in memory, the same expected power, RdTools' TrendAnalysis sensor workflow."""
    import rdtools

    columns = site.columns
    frame = pd.concat([pd.read_parquet(path) for path in site.files], ignore_index=True)
    dc = {inverter.inverter_id: inverter.dc_capacity_kw for inverter in site.inverters}
    ac = {inverter.inverter_id: inverter.ac_capacity_kw for inverter in site.inverters}
    inverter = frame[columns["asset_id"]].astype(str)
    g_poa = frame[columns["G_i"]].to_numpy(dtype=np.float64)
    t_cell = cell_temperature(
        g_poa,
        t_mod=frame[columns["T_mod"]].to_numpy(dtype=np.float64),
        t_amb=frame[columns["T_amb"]].to_numpy(dtype=np.float64),
        wind_speed=frame[columns["v_w"]].to_numpy(dtype=np.float64),
    )
    p_dc = expected_dc_power(g_poa, t_cell, inverter.map(dc).to_numpy(dtype=np.float64), site.plant.gamma_pdc_per_c)
    frame["expected"] = expected_ac_power(p_dc, inverter.map(ac).to_numpy(dtype=np.float64))
    by_time = frame.groupby(columns["time"], sort=True).agg(
        power=(columns["P_out"], "sum"), expected=("expected", "sum"), poa=(columns["G_i"], "first")
    )
    del frame
    by_time.index = pd.DatetimeIndex(by_time.index).tz_convert("UTC")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = rdtools.TrendAnalysis(
            by_time["power"], poa_global=by_time["poa"], power_expected=by_time["expected"]
        )
        analysis.sensor_analysis(
            analyses=["yoy_degradation", "srr_soiling"],
            srr_kwargs={"reps": SOILING_REALISATIONS, "method": "perfect_clean"},
        )
    results = analysis.results["sensor"]
    return {
        "degradation": float(results["yoy_degradation"]["p50_rd"]),
        "soiling": float((1.0 - results["srr_soiling"]["p50_sratio"]) * 100.0),
    }


def best_of(repeats: int, run) -> tuple[float, dict[str, float]]:
    best, result = float("inf"), {}
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def child(side: str, site_path: Path, years: int) -> None:
    """One side of the memory run, in its own process: print its result and wall time as JSON."""
    import rdtools  # noqa: F401 - imported before the clock starts, as in the throughput run

    site = load_solar_site_config(site_path)
    spec = solar_spec("solar-throughput", *period(years), [solar_cohort("all")])
    started = time.perf_counter()
    result = fleetbench_summary(site, spec) if side == "fleetbench" else rdtools_sensor_analysis(site)
    print(json.dumps({**result, "seconds": time.perf_counter() - started}))


def run_child(side: str, site_path: Path, years: int, out: Path) -> dict[str, float]:
    """Run ``side`` in a child process; its result, wall time and peak resident set [MiB]."""
    command = [sys.executable, __file__, "--child", side, "--site", str(site_path), "--years", str(years)]
    with open(out, "w") as stdout:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
    peak_mib = usage.ru_maxrss / 1024  # kilobytes on Linux
    if process.returncode != 0:
        return {"failed": process.returncode, "peak_mib": peak_mib, "wall": wall}
    lines = out.read_text().strip().splitlines()
    return {**json.loads(lines[-1]), "peak_mib": peak_mib, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inverters", type=int, default=4)
    parser.add_argument("--years", type=int, default=3, help="throughput run")
    parser.add_argument("--resolution", default="15min", help="throughput run: the export's record period")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-years", type=int, default=10, help="peak-memory run (0: skip it)")
    parser.add_argument("--memory-resolution", default="1min")
    parser.add_argument("--seed", type=int, default=2121)
    parser.add_argument("--out", type=Path, help="keep the exports here (default: a temporary folder)")
    parser.add_argument("--child", choices=("fleetbench", "rdtools"), help=argparse.SUPPRESS)
    parser.add_argument("--site", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.site, args.years)
        return
    import rdtools  # noqa: F401 - import time (seconds) is not the workflow's

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        truth = plant_truth(args.inverters, max(args.years, args.memory_years), args.seed)
        print(
            f"plant: {truth.module_technology}, {truth.mounting}, {truth.climate_zone}, {args.inverters} inverters of "
            f"{truth.dc_capacity_kw[0]:g} kWp / {truth.ac_capacity_kw[0]:g} kW; "
            f"injected degradation {truth.degradation_pct_per_year:.2f} %/year"
        )
        print(f"writing {args.years} years at {args.resolution} ...", flush=True)
        site_path = write_plant(folder / "throughput", truth, args.years, args.resolution, args.seed)
        site = load_solar_site_config(site_path)
        spec = solar_spec("solar-throughput", *period(args.years), [solar_cohort("all")])
        rows = export_rows(site)
        t_ours, ours = best_of(args.repeats, lambda: fleetbench_summary(site, spec))
        print(f"  FleetBench: {t_ours:.2f} s", flush=True)
        t_theirs, theirs = best_of(args.repeats, lambda: rdtools_sensor_analysis(site))
        print(f"  RdTools: {t_theirs:.2f} s", flush=True)
        print(f"\nrows: {rows:,} ({args.inverters} inverters x {args.years} years at {args.resolution}, Parquet)")
        print(f"{'':<58} {'seconds':>8} {'rows/s':>12} {'degradation':>12} {'soiling':>8}")
        for name, seconds, result in (
            ("FleetBench summarise_plant, streamed (every block)", t_ours, ours),
            ("RdTools TrendAnalysis.sensor_analysis, in memory", t_theirs, theirs),
        ):
            print(
                f"{name:<58} {seconds:8.2f} {rows / seconds:12,.0f} {result['degradation']:9.2f} %/y "
                f"{result['soiling']:6.2f} %"
            )
        print(f"\nFleetBench over RdTools' workflow: {t_theirs / t_ours:.2f}x the rows/s (best of {args.repeats})")

        if args.memory_years <= 0:
            return
        print(f"\npeak memory: writing {args.memory_years} years at {args.memory_resolution} ...", flush=True)
        memory_site = write_plant(folder / "memory", truth, args.memory_years, args.memory_resolution, args.seed)
        rows = export_rows(load_solar_site_config(memory_site))
        print(f"rows: {rows:,} ({args.inverters} inverters x {args.memory_years} years at {args.memory_resolution})")
        print(f"{'':<58} {'peak RSS':>10} {'wall s':>8} {'rows/s':>12} {'degradation':>12} {'soiling':>8}")
        for side, name in (
            ("fleetbench", "FleetBench summarise_plant, streamed (child process)"),
            ("rdtools", "RdTools TrendAnalysis.sensor_analysis, in memory (child)"),
        ):
            result = run_child(side, memory_site, args.memory_years, folder / f"{side}.json")
            if "failed" in result:
                print(
                    f"{name:<58} {result['peak_mib']:7.0f} MiB {result['wall']:8.1f}  failed (exit {result['failed']})"
                )
                continue
            print(
                f"{name:<58} {result['peak_mib']:7.0f} MiB {result['wall']:8.1f} {rows / result['seconds']:12,.0f} "
                f"{result['degradation']:9.2f} %/y {result['soiling']:6.2f} %",
                flush=True,
            )
        print("(wall: the child's whole life, imports included; rows/s: the workflow's own time)")


if __name__ == "__main__":
    main()
