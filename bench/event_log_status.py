"""What a status from an event log ([events]) costs: reading the log, and giving records their status.

Writes a synthetic alarm log of ``--events`` events (50 turbines over three years from 2022, each
event lasting 0-2 h, codes 0-49, 0 normal; naive wall-clock times in Europe/Berlin, so the autumn
hour clocks repeat and the spring gap both occur) as CSV, one row per event with its start and end, or
with ``--raised-and-cleared`` one row per alarm raised and one per alarm cleared (twice the rows, in
no order, paired on reading), then in this process
  read:   client.ingest.read_event_log (parse, localise, pair, sort, the events' sparse table);
  status: client.ingest.event_status over ``--records`` 10-min records from 2023 (each turbine's
          in time order, as an export lists them), the call each canonical chunk makes;
and prints each time, the share of records an event marks, and the process's peak resident
memory. The baseline is the status column it replaces, which costs nothing to read beyond the
export's own column: what is printed is the whole extra cost.

Run: PYTHONPATH=. .venv/bin/python bench/event_log_status.py [--events 100000] [--records 1000000] [--seed 0]
     [--raised-and-cleared]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from client.ingest import event_status, read_event_log
from client.site_config import EventLog

TURBINES = tuple(f"T{i:02d}" for i in range(50))


def write_alarm_log(path: Path, events: int, rng: np.random.Generator, raised_and_cleared: bool) -> EventLog:
    """A synthetic alarm log of ``events`` events at ``path`` (CSV), and its [events] mapping."""
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365 * 86_400, events), "s")
    end = start + pd.to_timedelta(rng.integers(0, 7_200, events), "s")
    device, code = rng.choice(TURBINES, events), rng.integers(0, 50, events)
    if not raised_and_cleared:
        pd.DataFrame(
            {
                "Device": device,
                "Occurred": start.strftime("%Y-%m-%d %H:%M:%S"),
                "Cleared": end.strftime("%Y-%m-%d %H:%M:%S"),
                "Code": code,
            }
        ).to_csv(path, index=False)
        columns = {"asset_id": "Device", "start": "Occurred", "end": "Cleared", "code": "Code"}
        return EventLog((path,), "csv", ",", None, columns)
    rows = pd.DataFrame(
        {
            "Device": np.tile(device, 2),
            "Time": np.concatenate([start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S")]),
            "Action": np.repeat(["Raised", "Cleared"], events),
            "Code": np.tile(code, 2),
        }
    )
    rows.iloc[rng.permutation(len(rows))].to_csv(path, index=False)
    columns = {"asset_id": "Device", "start": "Time", "transition": "Action", "code": "Code"}
    return EventLog((path,), "csv", ",", None, columns, None, ("raised",), ("cleared",), ())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--raised-and-cleared", action="store_true", help="one row per alarm raised and cleared")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        log = write_alarm_log(Path(folder) / "alarms.csv", args.events, rng, args.raised_and_cleared)
        began = time.perf_counter()
        events, counts = read_event_log(log, TURBINES, "Europe/Berlin", (0,))
        read_s = time.perf_counter() - began
    per_turbine = -(-args.records // len(TURBINES))  # each turbine's records in time order, as an export lists them
    unit = np.repeat(np.arange(len(TURBINES)), per_turbine)[: args.records]
    steps = np.tile(np.arange(per_turbine), len(TURBINES))[: args.records]
    times = pd.Series(pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(steps * 600, "s"))
    began = time.perf_counter()
    status = event_status(events, unit, times, pd.Timedelta("10min"), 0)
    status_s = time.perf_counter() - began
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    layout = f"{2 * args.events:,} rows raised and cleared" if args.raised_and_cleared else "one row each"
    print(
        f"events: {args.events:,}, {layout} ({counts.read:,} read, {counts.repeated_hour} in the repeated autumn hour)"
    )
    print(f"read_event_log: {read_s:.2f} s ({args.events / read_s:,.0f} events/s)")
    print(
        f"event_status over {args.records:,} records: {status_s:.2f} s ({args.records / status_s:,.0f} records/s), "
        f"{np.mean(status != 0):.1%} marked by an event"
    )
    print(f"peak resident memory: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
