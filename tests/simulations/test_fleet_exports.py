"""Every export style's site.toml and turbines.json, read back the way a site reads them."""

from __future__ import annotations

import json

import pandas as pd

from simulations.fleet_faults import FAILURE_COMPONENTS


def test_every_style_maps_the_new_channels_status_categories_and_commissioning_dates(faulty, faulty_config):
    for operator in faulty:
        site, truth = operator["site"], operator["truth"]
        assert {"WMET_HorWdDirRel", "WTRM_GbxBrgTmp", "WGEN_GnBrgTmp"} <= set(site.columns)
        assert set(site.status_components) == set(FAILURE_COMPONENTS)
        forced = set(site.status_categories["forced_outage"])
        assert len(forced) == 5 and all(codes[0] in forced for codes in site.status_components.values())
        assert len(site.status_categories["scheduled_maintenance"]) == 1
        assert site.status_categories["full_performance"] == site.normal_status_codes
        for turbine in site.turbines:
            assert turbine.commissioning_date == pd.Timestamp(truth["commissioning_date"], tz="UTC")
        age = (pd.Timestamp(faulty_config.start) - pd.Timestamp(truth["commissioning_date"], tz="UTC")).days / 365.25
        assert 0 <= age <= faulty_config.max_age_years
        assert json.loads((operator["dir"] / "turbines.json").read_text()) == truth["turbines"]
