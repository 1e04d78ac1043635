"""A real multi-year export: what its clock costs the degradation rate, the site's rate beside RdTools' own.

NREL PVDAQ system 50 (tests/data/pvanalytics, tests/pvdaq.py): 2.7 years of one inverter's 15-min AC
power whose logger kept daylight saving time under a fixed UTC-07:00 stamp, with the NSRDB satellite
weather of the place. For the export as logged and with summer's power moved back an hour (on the
sun's clock), it prints the validator's clock finding, the plant's summary (PR, degradation rate with
its 68.2 % interval, soiling loss) and RdTools' TrendAnalysis sensor workflow on the same rows and
expected power (its year-on-year rate and interval). No truth is known for this plant: the figures
show how far the two methods agree and how much the clock moves both.

Run: PYTHONPATH=. .venv/bin/python bench/solar_real_export.py (about 20 s).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))  # the export is built as the real-export tests build it

from pvdaq import rdtools_sensor_rate, system_50_export

from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import summarise_plant
from client.solar.validate import validate_solar_site
from server.spec import solar_cohort, solar_spec

CLOCKS = {"as logged": "as logged", "on the sun's clock": "power undone"}


def main() -> None:
    spec = solar_spec("pvdaq-50", "2011-04-15T07:00:00Z", "2014-01-01T07:00:00Z", [solar_cohort("all plants")])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, clock in CLOCKS.items():
            started = time.perf_counter()
            path = system_50_export(Path(folder) / clock.replace(" ", "-"), clock)
            finding = [f.problem for f in validate_solar_site(path).findings if "solar noon" in f.problem]
            site = load_solar_site_config(path)
            summary = summarise_plant(lambda site=site: read_solar_chunks(site), site, spec)
            theirs, (low, high) = rdtools_sensor_rate(site)
            ours = summary.degradation
            soiling = f"{summary.soiling.loss_pct:.2f}" if summary.soiling else "none"
            print(f"{name}: {time.perf_counter() - started:.1f} s; clock finding: {finding[0] if finding else 'none'}")
            rows.append(
                f"| {name} | {summary.performance_ratio:.3f} | "
                + (f"{ours.rate_pct_per_year:+.2f} [{ours.ci_low:+.2f}, {ours.ci_high:+.2f}]" if ours else "none")
                + f" | {soiling} | {theirs:+.2f} [{low:+.2f}, {high:+.2f}] |"
            )
    print()
    print("| export | PR | site's rate [%/year] | site's soiling loss [%] | RdTools TrendAnalysis [%/year] |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
