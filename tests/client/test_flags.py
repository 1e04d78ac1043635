"""Site-local flags on hand-made indicators: each rule at its threshold, the percentile, the persistence rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from client.flags import FlagRules, turbine_flags
from client.maintenance import SiteIndicators
from protos.fleetbench.v1 import release_pb2, spec_pb2


def _release() -> release_pb2.Release:
    release = release_pb2.Release()
    release.curves.add(cohort="E-82/2300").bins.add()
    release.curves.add(cohort="band", suppressed=True)
    release.distributions.add(
        cohort="E-82/2300",
        indicator="performance_index",
        bins=spec_pb2.BinGrid(first_centre=0.9, width=0.1, count=3),
        counts=[1, 2, 1],
        p50=1.0,
    )
    release.distributions.add(  # 20 turbines from 0.9 to 1.0: 1 below 0.95, the rest above
        cohort="E-82/2300",
        indicator="time_availability",
        bins=spec_pb2.BinGrid(first_centre=0.9125, width=0.025, count=4),
        counts=[0, 1, 4, 15],
    )
    return release


def _indicators() -> SiteIndicators:
    turbines = pd.DataFrame(
        {
            "cohort": ["E-82/2300", "E-82/2300", "band"],
            "asset_id": ["T1", "T2", "T1"],
            "performance_index": [0.97, 0.98, 0.5],
            "yaw_misalignment_deg": [4.5, -4.4, 20.0],
            "time_availability": [0.99, 0.93, 0.9],
            "production_availability": [0.98, 0.94, 0.9],
            "expected_mwh": [1200.0, 1100.0, 1200.0],
            "lost_mwh": [5.0, 61.2, 5.0],
            "potential_mwh": [1300.0, 1224.0, 1300.0],
            "main_loss_category": ["scheduled_maintenance", "forced_outage", "scheduled_maintenance"],
        }
    )
    days = pd.date_range("2025-03-01", periods=5).to_numpy()
    daily = pd.DataFrame(
        {
            "cohort": "E-82/2300",
            "target": "WTRM_GbxBrgTmp",
            "asset_id": ["T1"] * 5 + ["T2"] * 5,
            "day": np.r_[days, days],
            "records": 144,
            "residual": [3.0, 3.0, 1.0, 3.0, 3.0, 3.0, 3.0, 2.5, 3.0, 1.0],  # [degC]
        }
    )
    return SiteIndicators({}, {}, turbines, daily, pd.DataFrame(), pd.DataFrame())


def test_each_rule_flags_at_its_threshold_in_the_turbines_own_cohort():
    flags = turbine_flags(_indicators(), _release()).set_index(["asset_id", "indicator"])
    assert set(flags["cohort"]) == {"E-82/2300"}  # the suppressed band curve flags nothing
    # PI below 97.5 % of the industry's median (1.0) is flagged; 0.98 is not.
    assert flags.loc[("T1", "performance_index"), "flagged"]
    assert not flags.loc[("T2", "performance_index"), "flagged"]
    # What the median turbine (PI 1.0) would have made from T1's wind, less what T1 made: 0.03 x 1200 MWh.
    evidence = flags.loc[("T1", "performance_index"), "evidence"]
    assert evidence.startswith("36 MWh (-3.0 %) against the industry's median")
    assert flags.loc[("T1", "performance_index"), "energy_share"] == pytest.approx(0.03)
    # |misalignment| >= 4.5 deg is flagged.
    assert flags.loc[("T1", "yaw_misalignment"), "flagged"]
    assert not flags.loc[("T2", "yaw_misalignment"), "flagged"]
    # Time availability with fewer than 10 % of the industry's turbines below it is flagged, with what was lost.
    assert not flags.loc[("T1", "time_availability"), "flagged"]  # 0.99: 5 + 15 / 2 of 20 below it
    t2 = flags.loc[("T2", "time_availability")]  # 0.93: half of its bin's one turbine, 0.5 of 20
    assert t2["flagged"] and t2["industry_percentile"] == pytest.approx(0.5 / 20)
    assert t2["evidence"] == (
        "93.0%: 2% of the industry's turbines are below it; 61 MWh lost (5.0% of its potential), "
        "most as forced_outage (IEC 61400-26)"
    )
    assert t2["energy_share"] == pytest.approx(61.2 / 1224.0)
    assert not flags.loc[("T2", "production_availability"), "flagged"]  # no released distribution: not judged


def test_the_percentile_counts_the_bins_below_and_half_the_own_bin():
    flags = turbine_flags(_indicators(), _release()).set_index(["asset_id", "indicator"])
    # 0.97 lies in the bin centred on 1.0: (1 below + 2 / 2) of 4 turbines.
    assert flags.loc[("T1", "performance_index"), "industry_percentile"] == pytest.approx(0.5, abs=1e-15)
    assert np.isnan(flags.loc[("T1", "yaw_misalignment"), "industry_percentile"])  # no released distribution


def test_a_residual_drift_alarms_once_the_counter_reaches_its_days():
    flags = turbine_flags(_indicators(), _release(), FlagRules(alarm_after_days=3)).set_index(["asset_id", "indicator"])
    drift = "max_daily_residual:WTRM_GbxBrgTmp"
    # T1's counter over the days above 2.5 degC: 1, 2, 1, 2, 3 -> the alarm on the fifth day.
    assert flags.loc[("T1", drift), "flagged"]
    assert flags.loc[("T1", drift), "first_alarm"] == pd.Timestamp("2025-03-05")
    # T2: 1, 2, 1 (2.5 is not above), 2, 1: never 3.
    assert not flags.loc[("T2", drift), "flagged"] and pd.isna(flags.loc[("T2", drift), "first_alarm"])
    assert flags.loc[("T1", drift), "value"] == 3.0
