"""fleetbench onboard: a prospective member's own exports, each beside synthetic peers of its kind, to its reports.

In a file of its own: it runs Flower's simulation engine twice, and the test runner spreads files over its workers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from progress_text import assert_in_order

from fleetbench.cli import main


def test_onboard_runs_a_mixed_portfolios_own_exports_to_their_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A status-less wind export and a PV plant's, neither with a [member] table: each beside three synthetic
    peers of its kind, a release and the member's report for each site."""
    import numpy as np

    from simulations.fleet import FleetConfig, generate_fleet
    from simulations.solar_fleet import simulate_solar_plant, solar_fleet, write_solar_site

    config = FleetConfig(
        operators=1, turbines_per_operator=1, months=1, seed=21, export_styles=(3,), models=("V90/2000",)
    )
    wind = generate_fleet(config, tmp_path / "mine")[0]
    wind.write_text(wind.read_text().split("\n\n", 1)[1])  # the operator's own site.toml: no membership yet
    rng = np.random.default_rng(5)
    plant = solar_fleet(1, 1, rng, "2023-03-01")[0]
    frame = simulate_solar_plant(plant, "2023-03-01", "2023-04-01", "15min", rng)
    solar = write_solar_site(plant, frame, tmp_path / "mine" / "pv")
    before = {site: site.read_text() for site in (wind, solar)}
    out = tmp_path / "out"
    argv = ["onboard", "--site", str(wind), "--site", str(solar), "--out", str(out), "--peers", "2"]
    assert main(argv) == 0
    printed, progress = capsys.readouterr()
    assert printed.count("computed on your site's copy (nothing of yours left this machine)") == 2
    assert "round 1" not in printed
    wind_out, solar_out = out / "1-wind-operator-01", out / "2-solar-pv"
    assert_in_order(
        progress,
        "reading scada.csv: 4,464 rows, ",
        "your export covers 1 whole month(s) from 2025-01-01; 2 synthetic peers run ('V90/2000',)\n",
        "generating operator-01 (1/2): V90/2000, 1 turbines, 4,464 records in ",
        "generating operator-02 (2/2)",
        "checking site 1/3: ",
        "checking site 3/3: ",
        "starting Flower's simulation engine: both rounds of SecAgg+ over 3 sites\n",
        "round 1 census: asking every wind site (at least 3)\n",
        "round 1 census: 3 sites summed in ",
        "round 1 values: asking the census's 3 sites\n",
        "round 1 values: 3 sites summed in ",
        "round 2 census: asking every wind site (at least 3 of round 1's)\n",
        "round 2 census: 3 sites summed in ",
        "round 2 values: asking the census's 3 sites\n",
        "round 2 values: 3 sites summed in ",
        "final release: sending to 3 sites\n",
        "final release: 3 of 3 sites acknowledged in ",
        "your report: computing your report against the release, on your site's copy\n",
        f"your report: written to {wind_out / 'your-report.html'} in ",
        f"your export covers 1 whole month(s) from 2023-03-01; 2 synthetic {plant.module_technology} "
        f"{plant.mounting} plants of climate zone {plant.climate_zone} join it\n",
        "starting Flower's simulation engine: round 1 of SecAgg+ over 3 sites\n",
        "round 1 census: asking every solar site (at least 3)\n",
        "round 1 values: 3 sites summed in ",
        "final release: 3 of 3 sites acknowledged in ",
        f"your report: written to {solar_out / 'your-report.html'} in ",
    )
    # Not assert_plain_lines: Ray forwards its workers' output (the sites' own logs) to stderr as it comes.
    assert "fleetbench.aggregator" not in progress  # its info logs, which the progress says again, need --verbose
    for site, folder in ((wind, wind_out), (solar, solar_out)):
        assert (folder / "your-report.html").stat().st_size > 10_000
        assert site.read_text() == before[site] and not (site.parent / "audit.log").exists()  # originals untouched
        release = json.loads((folder / "release.json").read_text())
        assert release["provenance"]["participants"] == 3
    # The plant's cohort (its technology, mounting and climate zone) is published: three plants, each a member.
    curve = json.loads((solar_out / "release.json").read_text())["solar_curves"][0]
    assert any(not b["suppressed"] and b["operator_count"] == 3 for b in curve["bins"])
