"""Ingest + summarise throughput and peak memory at 1, 10 and 50 million rows (issue 5).

For each size, writes one synthetic operator's export as CSV and as Parquet (100 turbines, as
many years of 10-min records as the size needs, written in batches so generation itself stays
small), then in a fresh process each
  FleetBench: client.contribution.summarise_export with the default spec (all five filters;
              the export is read once, the bin filter's second pass replays a compact spill),
              streaming in chunks of 500,000 rows;
  validate:   client.validate.validate_site, which a site runs before every contribution (one
              streaming pass over every mapped column);
  pandas:     read the whole file, then one group-by of counts and power sums per wind-speed bin;
and prints rows/s and the peak resident memory of that process (VmHWM). Both run on one core
(Arrow's thread pools set to one thread).

Run: .venv/bin/python bench/ingest_scaling.py [--rows 1000000 10000000 50000000] [--repeat 3]
     [--formats csv parquet]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TURBINES = 100
BATCH_TURBINES = 10


def write_exports(rows: int, folder: Path, formats: tuple[str, ...] = ("csv", "parquet")) -> dict[str, Path]:
    """Exports of about ``rows`` records in each of ``formats`` (csv, parquet), plus a site.toml for each."""
    from simulations.fleet import FleetConfig
    from simulations.fleet_exports import EXPORT_STYLES, site_toml, to_export
    from simulations.fleet_operator import simulate_operator
    from simulations.fleet_turbines import turbine_type

    records_per_year = 52_560
    years = max(1, -(-rows // (TURBINES * records_per_year)))
    config = FleetConfig(
        operators=1,
        turbines_per_operator=BATCH_TURBINES,
        months=12 * years,
        seed=1,
        models=("E-82/2300",),
        export_styles=(0,),  # the style whose columns, units and status codes the exports and site.toml use
    )
    per_turbine = rows // TURBINES
    style = EXPORT_STYLES[0]
    csv_path, parquet_path = folder / "scada.csv", folder / "scada.parquet"
    writer, asset_ids, elevation = None, [], 0.0
    for batch in range(TURBINES // BATCH_TURBINES):
        records, truth = simulate_operator(config, 0, np.random.default_rng(batch))
        elevation = truth["elevation_m"]
        records = records.groupby("asset_id").head(per_turbine)
        records["asset_id"] = records["asset_id"].str.replace("WTG", f"B{batch:02d}-")
        asset_ids += sorted(records["asset_id"].unique())
        export = to_export(records, style)
        if "csv" in formats:
            export.to_csv(csv_path, mode="a", header=batch == 0, index=False)
        if "parquet" in formats:
            table = pa.Table.from_pandas(export.assign(Timestamp=records["time"].to_numpy()), preserve_index=False)
            writer = writer or pq.ParquetWriter(parquet_path, table.schema)
            writer.write_table(table, row_group_size=500_000)  # row groups of the size exports commonly use
    if writer is not None:
        writer.close()
    kind = turbine_type("E-82/2300")
    paths = {}
    for name, data_file in [(f, f"scada.{f}") for f in formats]:
        text = site_toml(name, data_file, style, kind, asset_ids, elevation).replace(
            'format = "csv"', f'format = "{name}"'
        )
        (folder / f"site-{name}.toml").write_text(text)
        paths[name] = folder / f"site-{name}.toml"
    (folder / "period.json").write_text(json.dumps([config.start, config.period_end]))
    return paths


def run_fleetbench(site_path: str, start: str, end: str) -> dict:
    from client.contribution import summarise_export
    from client.site_config import load_site_config
    from server.spec import power_curve_spec

    # One core, as the target states: Arrow's decoding threads would otherwise use the second.
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    site = load_site_config(Path(site_path))
    spec = power_curve_spec("bench", start, end, ["E-82/2300"], max_turbines_per_site=TURBINES)
    begin = time.perf_counter()
    summary = summarise_export(site, spec)
    seconds = time.perf_counter() - begin
    report = summary.filter_report.sum()
    # A bench whose records all fail a filter (a status code the site.toml does not call normal, say) times nothing.
    if report["used"] < 0.8 * report["records"]:
        raise SystemExit(f"only {report['used']:,} of {report['records']:,} records reach the summaries:\n{report}")
    return {"seconds": seconds, "rows": int(report["records"]), "used": int(report["used"])}


def run_validate(site_path: str, start: str, end: str) -> dict:
    from client.validate import validate_site

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    begin = time.perf_counter()
    report = validate_site(Path(site_path))
    seconds = time.perf_counter() - begin
    if not report.usable:
        raise SystemExit(f"the bench's export fails validation: {report.findings}")
    return {"seconds": seconds, "rows": int(report.turbines["rows"].sum())}


def run_pandas(site_path: str, start: str, end: str) -> dict:
    from client.site_config import load_site_config

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    site = load_site_config(Path(site_path))
    begin = time.perf_counter()
    path = site.files[0]
    frame = pd.read_parquet(path) if site.file_format == "parquet" else pd.read_csv(path)
    ws = frame[site.columns["WMET_HorWdSpd"]]
    power = frame[site.columns["WTUR_W"]]
    sums = power.groupby([frame[site.columns["asset_id"]], np.floor(ws / 0.5 + 0.5)]).agg(["size", "sum"])
    seconds = time.perf_counter() - begin
    return {"seconds": seconds, "rows": len(frame), "cells": len(sums)}


def peak_resident_mib() -> float:
    """This process's peak resident memory [MiB]: VmHWM, which starts afresh at exec.

    (ru_maxrss does not: a child forked from a large parent would report the parent's size.)
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured(method: str, site_path: Path, start: str, end: str, repeat: int = 1) -> dict:
    """Run one method in ``repeat`` fresh processes; the run of median time, with its peak memory [MiB].

    The median, because this shared machine's speed varies by +-30 % from one minute to the next.
    """
    runs = sorted((_measured_once(method, site_path, start, end) for _ in range(repeat)), key=lambda r: r["seconds"])
    return runs[len(runs) // 2]


def _measured_once(method: str, site_path: Path, start: str, end: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", method, str(site_path), start, end],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000, 50_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per method; the median is kept")
    parser.add_argument("--formats", nargs="+", choices=("csv", "parquet"), default=["csv", "parquet"])
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, site_path, start, end = args.child
        run = {"fleetbench": run_fleetbench, "validate": run_validate, "pandas": run_pandas}[method]
        result = run(site_path, start, end)
        result["peak_mib"] = peak_resident_mib()
        print(json.dumps(result))
        return
    table = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"writing {rows:,} rows as {' and '.join(args.formats)} ...", flush=True)
            sites = write_exports(rows, Path(tmp), tuple(args.formats))
            start, end = json.loads((Path(tmp) / "period.json").read_text())
            for file_format, site_path in sites.items():
                ours = measured("fleetbench", site_path, start, end, args.repeat)
                check = measured("validate", site_path, start, end, args.repeat)
                theirs = measured("pandas", site_path, start, end, args.repeat)
                table.append((rows, file_format, ours, check, theirs))
                print(
                    f"  {file_format}: FleetBench {ours['rows'] / ours['seconds']:,.0f} rows/s, "
                    f"{ours['peak_mib']:.0f} MiB; validate {check['rows'] / check['seconds']:,.0f} rows/s, "
                    f"{check['peak_mib']:.0f} MiB; pandas {theirs['rows'] / theirs['seconds']:,.0f} rows/s, "
                    f"{theirs['peak_mib']:.0f} MiB",
                    flush=True,
                )
    print(
        "\nend to end, one core, one process each (FB: read + filters + density + all sums; validate: the check a "
        "site runs before contributing; pandas: read + one group-by); speed = FB / pandas"
    )
    header = (
        f"{'rows':>11} {'format':>8} {'FB rows/s':>11} {'FB MiB':>7} {'validate rows/s':>16} {'MiB':>5} "
        f"{'pandas rows/s':>14} {'pandas MiB':>11} {'speed':>6}"
    )
    print(header)
    for rows, file_format, ours, check, theirs in table:
        ours_rate, theirs_rate = ours["rows"] / ours["seconds"], theirs["rows"] / theirs["seconds"]
        print(
            f"{rows:11,d} {file_format:>8} {ours_rate:11,.0f} {ours['peak_mib']:7.0f} "
            f"{check['rows'] / check['seconds']:16,.0f} {check['peak_mib']:5.0f} {theirs_rate:14,.0f} "
            f"{theirs['peak_mib']:11.0f} {ours_rate / theirs_rate:5.2f}x"
        )


if __name__ == "__main__":
    main()
