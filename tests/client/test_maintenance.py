"""Round 2 on one site: what it refuses to compute (its numbers are checked against the pooled reference in
tests/simulations/test_indicators_federated.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from client.maintenance import _categories, site_indicators
from client.site_config import SiteConfig, Turbine
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import spec_block
from server.spec import indicator_spec, power_curve_spec

S = spec_pb2.Statistic


def _one_turbine_site() -> SiteConfig:
    """One E-82/2300 and no files: a site whose kernels a test calls directly."""
    return SiteConfig(
        path=Path("site.toml"),
        name="s",
        timezone="UTC",
        elevation_m=0.0,
        resolution=pd.Timedelta(minutes=10),
        layout="long",
        files=(),
        file_format="csv",
        decimal=".",
        delimiter=",",
        columns={},
        units={},
        normal_status_codes=(0,),
        turbines=(Turbine("A", "E-82/2300", 2000.0, 82, 98),),
    )


def test_a_statistic_the_site_does_not_compute_is_an_error_naming_its_block():
    site = _one_turbine_site()
    spec = indicator_spec(
        power_curve_spec("t", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"]), "0" * 64
    )
    site_indicators(lambda: [], site, spec, release_pb2.Release())  # every round-2 block: computed
    spec.blocks.append(spec_block(spec, "E-82/2300", S.RECORD_COUNT))  # a round-1 statistic in round 2
    with pytest.raises(ValueError, match=r"\['E-82/2300:RECORD_COUNT'\], which a site does not compute in round 2"):
        site_indicators(lambda: [], site, spec, release_pb2.Release())


def test_a_blank_status_is_information_unavailable_not_a_forced_outage():
    """Without [status.categories] a code other than the normal ones is a forced outage, a blank one is excluded
    (information unavailable: -1), counting neither for nor against availability. Control: a code of 7 is down."""
    site = _one_turbine_site()
    categories = ["full_performance", "forced_outage"]
    chunk = pd.DataFrame({"WTUR_TurSt": [0.0, float("nan"), 7.0]})
    assert _categories(chunk, site, categories).tolist() == [0, -1, 1]
