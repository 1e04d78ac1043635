"""The site filters against the generator's ground truth, and dominance on a lopsided fleet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from client.filters import TurbineArrays, status_flag
from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from client.summaries import density_normalised, prepared_records
from server.spec import DEFAULT_FILTERS
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


def _status_less_records(tmp_path: Path) -> tuple[pd.DataFrame, TurbineArrays]:
    """A status-less export with a pitch channel (export style 3), beside the generator's truth."""
    config = FleetConfig(operators=2, turbines_per_operator=3, months=3, seed=3, export_styles=(3,))
    merged, arrays = [], []
    for path in generate_fleet(config, tmp_path):
        site = load_site_config(path)
        frame = pd.concat(read_canonical_chunks(site), ignore_index=True)
        truth = pd.read_parquet(path.parent / "truth.parquet")
        merged.append(frame.merge(truth, on=["time", "asset_id"], validate="one_to_one"))
        asset = pd.Index([t.asset_id for t in site.turbines]).get_indexer(merged[-1]["asset_id"].astype(str))
        arrays.append(TurbineArrays.of(site, asset))
    records = pd.concat(merged, ignore_index=True)
    joined = TurbineArrays(
        np.concatenate([a.asset_index for a in arrays]),
        np.concatenate([a.rated_power_kw for a in arrays]),
        np.concatenate([a.rated_wind_speed for a in arrays]),
        (),
    )
    return records, joined


def test_the_status_less_rule_flags_downtime_and_curtailment_not_idling_or_pitching_above_rated(tmp_path):
    records, turbines = _status_less_records(tmp_path)
    parameters = dict(next(parameters for name, parameters in DEFAULT_FILTERS if name == "status"))
    # Stopped: downtime, outages, and storms beyond the curve's cut-out (the controller stops the turbine).
    stopped = records["fault"] | (records["failure_component"] != "") | records["maintenance"]
    stopped |= records["expected_power_kw"] <= 0.0
    binding = records["curtailed"] & (records["expected_power_kw"] > 0.5 * turbines.rated_power_kw)
    judged = records["WMET_HorWdSpd"] >= parameters["downtime_wind_speed"]  # below, stops and idling look alike
    should = (stopped | binding) & judged

    flagged = status_flag(records, turbines, parameters)
    precision, recall = float(should[flagged].mean()), float(flagged[should].mean())
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)

    # Control: the rule before (pitched and below 95 % of rated, at any wind speed) flags idling below
    # cut-in and normal pitching above rated, most of what it removes.
    def pitch_anywhere(frame, turbines, parameters):
        wind_speed, power = frame["WMET_HorWdSpd"].to_numpy(), frame["WTUR_W"].to_numpy()
        pitched = frame["WROT_BlPthAngVal"].to_numpy() >= parameters["curtailment_pitch"]
        return ((wind_speed >= parameters["downtime_wind_speed"]) & (power <= 0)) | (
            pitched & (power < 0.95 * turbines.rated_power_kw)
        )

    flagged = pitch_anywhere(records, turbines, parameters)
    assert float(should[flagged].mean()) < 0.7
