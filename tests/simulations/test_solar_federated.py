"""A solar release over SecAgg+ equals the pooled computation of the same statistics, cell by cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from solar_releases import COHORT, PERIODS, SUPPRESSED_COHORT, two_solar_releases

from client.audit import audit_entries
from client.contribution import received_releases_dir
from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import lost_production_shares, summarise_plant
from fleetbench.cli import format_release
from protos.codec import spec_sha256
from protos.fleetbench.v1 import release_pb2
from server.spec import solar_cohort, solar_spec
from simulations.pooled import pooled_performance_ratios, pooled_solar_curves, pooled_solar_rows


@pytest.fixture(scope="module")
def solar_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], release_pb2.Release, object]:
    """The first release of the shared solar store (tests/solar_releases.py), and the spec it was summed for."""
    made = two_solar_releases(tmp_path_factory)
    start, end = PERIODS[0]
    spec = solar_spec(
        f"solar-{start[:7]}", start, end, [solar_cohort(COHORT), solar_cohort(SUPPRESSED_COHORT, mounting="fixed")], 3
    )
    assert made.releases[0].provenance.spec_sha256 == spec_sha256(spec)
    return made.site_configs, made.releases[0], spec


def test_the_federated_curve_is_the_pooled_one(solar_release):
    sites, release, spec = solar_release
    pooled = pooled_solar_curves(pooled_solar_rows(sites, spec), spec).set_index(["cohort", "irradiance_centre"])
    published = 0
    for curve in release.solar_curves:
        for cell in curve.bins:
            expected = pooled.loc[(curve.cohort, cell.irradiance_centre)]
            if cell.suppressed:
                assert not cell.HasField("mean_specific_power")
                continue
            published += 1
            assert cell.record_count == expected["records"] and cell.operator_count == expected["operators"]
            assert cell.mean_specific_power == pytest.approx(expected["mean_specific_power"], rel=1e-12, abs=1e-15)
            assert cell.std_specific_power == pytest.approx(expected["std_specific_power"], rel=1e-9)
            assert cell.p10_specific_power <= cell.p50_specific_power <= cell.p90_specific_power
    assert published >= 15  # the whole-fleet cohort's curve from 0 to 750 W/m^2 and more
    # The fixed-mounting cohort has fewer than k plants in this fleet: none of its bins is published.
    fixed = next(c for c in release.solar_curves if c.cohort == SUPPRESSED_COHORT)
    assert fixed.bins and all(cell.suppressed for cell in fixed.bins)


def test_the_performance_ratio_distribution_counts_the_pooled_plants(solar_release):
    sites, release, spec = solar_release
    ratios = pooled_performance_ratios(pooled_solar_rows(sites, spec)).to_numpy()
    grid = spec.solar.performance_ratio_bins
    expected = np.zeros(grid.count)
    np.add.at(
        expected, np.clip(np.floor((ratios - grid.first_centre) / grid.width + 0.5), 0, grid.count - 1).astype(int), 1
    )
    pr = next(d for d in release.distributions if d.cohort == COHORT and d.indicator == "performance_ratio")
    assert not pr.suppressed and pr.operator_count == len(sites)
    np.testing.assert_array_equal(np.array(pr.counts), expected)
    assert grid.first_centre <= pr.p50 <= grid.first_centre + grid.count * grid.width


def test_each_cause_of_lost_production_counts_the_plants_by_their_own_share(solar_release):
    """Each plant's share of its potential lost to a cause, from its own summary, lands in the published bin."""
    sites, release, spec = solar_release
    grid = spec.solar.lost_production_bins
    shares = np.array(
        [
            lost_production_shares(summarise_plant(lambda site=site: read_solar_chunks(site), site, spec))
            for site in map(load_solar_site_config, sites)
        ]
    )  # (plants, categories) [%]
    assert np.isfinite(shares).all() and (shares > 0).any()  # a plant lost energy: not every count in bin 0
    published = {d.indicator: d for d in release.distributions if d.cohort == COHORT}
    for c, category in enumerate(spec.solar.loss_categories):
        d = published[f"lost_production:{category}"]
        expected = np.zeros(grid.count)
        bins = np.clip(np.floor((shares[:, c] - grid.first_centre) / grid.width + 0.5), 0, grid.count - 1)
        np.add.at(expected, bins.astype(int), 1)
        assert not d.suppressed and d.counts_of == "plants" and d.operator_count == len(sites)
        np.testing.assert_array_equal(np.array(d.counts), expected)
        assert 0.0 <= d.p10 <= d.p50 <= d.p90 <= shares[:, c].max() + grid.width
    assert not release.lost_production  # no energy shares: they could be one plant's


def test_the_failure_rates_are_the_pooled_runs_of_fault_codes(solar_release):
    """Failures: runs of an inverter's consecutive 15-min records with a component's code, counted in pandas."""
    sites, release, spec = solar_release
    failures, records = 0, 0
    start, end = pd.Timestamp(spec.period.start), pd.Timestamp(spec.period.end)
    for site in map(load_solar_site_config, sites):
        export = pd.concat(read_solar_chunks(site), ignore_index=True)
        export = export[(export["time"] >= start) & (export["time"] < end)].sort_values(["asset_id", "time"])
        records += int(export["INV_St"].notna().sum())  # failures are observed over status readings
        fault = export["INV_St"].isin(site.component_codes["inverter"])
        step = export.groupby("asset_id", observed=True)["time"].diff()
        continues = fault.shift(fill_value=False) & (step == pd.Timedelta(minutes=15))
        failures += int((fault & ~continues).sum())
    rates = {r.component: r for r in release.solar_failure_rates if r.cohort == COHORT}
    assert list(rates) == list(spec.solar.components)
    inverter = rates["inverter"]
    assert not inverter.suppressed and inverter.operator_count == len(sites)
    assert inverter.failures == failures > 0
    assert inverter.inverter_years == pytest.approx(records * 0.25 / 8766.0, rel=1e-9)
    assert all(r.failures == 0 for component, r in rates.items() if component != "inverter")
    years = inverter.inverter_years
    line = f"{COHORT} inverter: {failures / years:.3f} per inverter-year ({failures} in {years:.1f} inverter-years), "
    assert line in format_release(release)  # the operator's text, with its downtime per failure


def test_every_plant_keeps_the_release_and_finds_it_consistent_with_its_census(solar_release):
    sites, _, spec = solar_release
    for site in sites:
        assert (received_releases_dir(site) / f"{spec.spec_id}.json").is_file()
        entries = audit_entries(site)
        assert not [entry for entry in entries if entry.get("event") == "release_inconsistent"]
        rounds = [e for e in entries if e.get("event") == "contribution" and e.get("spec_id") == spec.spec_id]
        assert len(rounds) == 2  # its census and its values
