"""`fleetbench simulate --solar`: a prospective member's first run, a synthetic PV fleet through SecAgg+."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.release_json import read_release_json
from fleetbench.cli import main
from protos.codec import spec_sha256
from simulations.onboarding import solar_fleet_spec
from simulations.pooled import pooled_solar_curves, pooled_solar_rows


def test_a_solar_simulation_publishes_the_pooled_curve_of_the_fleet_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Three plants over a month: the whole fleet's curve is the pooled one over the exports the command
    wrote, bin by bin, and each plant holds the final release."""
    out = tmp_path / "run"
    assert main(["simulate", "--solar", "--operators", "3", "--months", "1", "--seed", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    release = read_release_json(out / "release.json")
    spec = solar_fleet_spec("2022-01-01", 1)
    assert release.provenance.spec_sha256 == spec_sha256(spec)
    sites = sorted((out / "fleet").glob("*/site.toml"))
    assert len(sites) == 3 and all(list((site.parent / "releases").glob("*.json")) for site in sites)
    pooled = pooled_solar_curves(pooled_solar_rows(sites, spec), spec).set_index(["cohort", "irradiance_centre"])
    curve = next(c for c in release.solar_curves if c.cohort == "all plants")
    published = [cell for cell in curve.bins if not cell.suppressed]
    assert len(published) >= 5  # January light fills the low-irradiance bins only
    for cell in published:
        expected = pooled.loc[("all plants", cell.irradiance_centre)]
        assert cell.record_count == expected["records"] and cell.operator_count == expected["operators"] == 3
        assert cell.mean_specific_power == pytest.approx(expected["mean_specific_power"], rel=1e-12, abs=1e-15)
    assert "all plants" in printed and "fleetbench dashboard --store" in printed
    # The command it prints for the first plant's report writes that report.
    (report,) = [line.split(": fleetbench ", 1)[1] for line in printed.splitlines() if ": fleetbench report" in line]
    assert report.startswith(
        f"report --site {sites[0]} --release {next((sites[0].parent / 'releases').glob('*.json'))}"
    )
    assert main(report.split()) == 0
    assert (out / f"{sites[0].parent.name}-report.html").stat().st_size > 10_000
