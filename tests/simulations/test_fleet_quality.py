"""The site filters against the generator's ground truth, and dominance on a lopsided fleet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from client.summaries import density_normalised, prepared_records
from simulations.fleet import FleetConfig, generate_fleet
from simulations.onboarding import fleet_spec, run_release_in_process


@pytest.fixture(scope="module")
def flagged_records(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """Every record of a small fleet with whether the site's filters removed it, beside the truth."""
    config = FleetConfig(operators=3, turbines_per_operator=2, months=2, seed=4)
    sites = generate_fleet(config, tmp_path_factory.mktemp("quality"))
    spec = fleet_spec(config)
    merged = []
    for path in sites:
        site = load_site_config(path)
        every = pd.concat(read_canonical_chunks(site), ignore_index=True)
        # A used record is known by its turbine and its normalised wind speed and power (continuous
        # values: no two records share them), normalised here as the site does.
        stall = np.array([t.regulation == "stall" for t in site.turbines])
        asset = every["asset_id"].cat.codes.to_numpy()
        wind_speed, power = density_normalised(every, site, stall[asset], spec.reference_air_density)
        keys = pd.DataFrame({"asset": asset, "wind_speed": wind_speed, "power": power}).dropna()
        used = pd.concat(
            pd.DataFrame(
                {
                    "asset": records.asset,
                    "wind_speed": records.density_normalised_wind_speed,
                    "power": records.density_normalised_power,
                }
            )
            for records in prepared_records(lambda site=site: read_canonical_chunks(site), site, spec)
        )
        matched = keys.merge(used, on=list(keys.columns), how="left", indicator=True, validate="one_to_one")
        matched.index = keys.index  # a left merge keeps the left's order
        used_rows = matched.index[matched["_merge"] == "both"]
        assert len(used_rows) == len(used)  # every used record is identified, once
        every["flagged"] = True
        every.loc[used_rows, "flagged"] = False
        truth = pd.read_parquet(path.parent / "truth.parquet")
        flagged = every[["time", "asset_id", "WTUR_W", "flagged"]]
        merged.append(flagged.merge(truth, on=["time", "asset_id"], validate="one_to_one"))
    return pd.concat(merged, ignore_index=True)


@pytest.mark.parametrize("fault", ["fault", "curtailed", "frozen"])
def test_filters_find_at_least_95_percent_of_each_injected_fault(flagged_records, fault):
    rows = flagged_records[flagged_records["WTUR_W"].notna() & flagged_records[fault]]
    assert len(rows) > 100
    assert rows["flagged"].mean() >= 0.95


def test_filters_remove_less_than_2_percent_of_good_records(flagged_records):
    good = flagged_records[
        flagged_records["WTUR_W"].notna() & ~flagged_records[["fault", "curtailed", "frozen"]].any(axis=1)
    ]
    assert len(good) > 10_000
    assert good["flagged"].mean() < 0.02


def test_a_cohort_one_operator_dominates_is_suppressed_although_k_is_met(tmp_path: Path):
    # Four operators: 12, 1, 1 and 1 turbines of one model; the largest holds 80 % of the records.
    config = FleetConfig(operators=4, months=1, seed=9, models=("E-82/2300",), turbines_by_operator=(12, 1, 1, 1))
    sites = generate_fleet(config, tmp_path)
    spec = fleet_spec(config, k_min_operators=3)
    release = run_release_in_process(sites, spec, indicators=False, send=False)
    curves = {curve.cohort: curve for curve in release.curves}
    model = curves["E-82/2300"]
    assert model.suppressed and "more than 60% of the records" in model.suppression_reason
    assert not model.bins and not model.HasField("operator_count")
    assert release.provenance.participants == 4  # k = 3 is met: dominance alone suppresses it
    assert np.isclose(spec.dominance_max_share, 0.6)
