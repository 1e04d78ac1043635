"""What the status filter removes from a status-less export, per wind-speed bin, against the earlier rule (issue 18).

Generates a synthetic fleet whose exports carry no status codes but a blade pitch channel (export
style 3: idling feathered below cut-in, pitching above rated, curtailment, downtime, storms beyond
cut-out), then prints per 1 m/s bin the records the site's status filter removes
(client/filters.py: status_flag) beside those the earlier rule removed ("pitch >= 5 deg and P < 95 %
of rated" at any wind speed), and both rules' precision and recall against the generator's truth.

Run: .venv/bin/python bench/status_less_filter.py [--operators 4 --months 6]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from client.filters import Records, TurbineArrays, status_flag, values
from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from server.spec import DEFAULT_FILTERS
from simulations.fleet import FleetConfig, generate_fleet


def earlier_rule(frame: Records, turbines: TurbineArrays, parameters: dict[str, float]) -> np.ndarray:
    """The status-less rule before issue 18: pitched and below 95 % of rated, at any wind speed."""
    wind_speed, power = values(frame, "WMET_HorWdSpd"), values(frame, "WTUR_W")
    pitched = values(frame, "WROT_BlPthAngVal") >= parameters["curtailment_pitch"]
    with np.errstate(invalid="ignore"):
        down = (wind_speed >= parameters["downtime_wind_speed"]) & (power <= 0.0)
        return down | (pitched & (power < 0.95 * turbines.rated_power_kw))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operators", type=int, default=4)
    parser.add_argument("--months", type=int, default=6)
    args = parser.parse_args()
    config = FleetConfig(
        operators=args.operators, turbines_per_operator=3, months=args.months, seed=3, export_styles=(3,)
    )
    parameters = dict(next(p for name, p in DEFAULT_FILTERS if name == "status"))
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in generate_fleet(config, Path(tmp)):
            site = load_site_config(path)
            frame = pd.concat(read_canonical_chunks(site), ignore_index=True)
            frame = frame.merge(pd.read_parquet(path.parent / "truth.parquet"), on=["time", "asset_id"])
            asset = pd.Index([t.asset_id for t in site.turbines]).get_indexer(frame["asset_id"].astype(str))
            turbines = TurbineArrays.of(site, asset)
            frame["now"] = status_flag(frame, turbines, parameters)
            frame["before"] = earlier_rule(frame, turbines, parameters)
            frame["rated_kw"] = turbines.rated_power_kw
            frames.append(frame)
    records = pd.concat(frames, ignore_index=True)
    stopped = records["fault"] | (records["failure_component"] != "") | records["maintenance"]
    stopped |= records["expected_power_kw"] <= 0.0
    binding = records["curtailed"] & (records["expected_power_kw"] > 0.5 * records["rated_kw"])
    should = (stopped | binding) & (records["WMET_HorWdSpd"] >= parameters["downtime_wind_speed"])
    records["bin"] = np.floor(records["WMET_HorWdSpd"]).clip(upper=25)
    table = records.groupby("bin").agg(records=("now", "size"), before=("before", "sum"), now=("now", "sum"))
    print(f"{len(records):,} records of {config.operators * 3} turbines, no status codes; removed per 1 m/s bin:")
    print(table.astype(int).to_string())
    for name in ("before", "now"):
        flagged = records[name].to_numpy()
        precision, recall = should[flagged].mean(), flagged[should].mean()
        print(f"{name:>6}: removes {flagged.mean():6.1%} of records; precision {precision:.3f}, recall {recall:.3f}")


if __name__ == "__main__":
    main()
