"""A site's blocks: only normal, in-period records of cohort turbines count."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from client.contribution import ContributionRefused, guarded_site_contribution
from client.site_config import SiteConfig, Turbine
from client.summaries import summarise_site
from server.spec import power_curve_spec

SPEC = power_curve_spec("t", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300", "V90/2000"])


def _site(turbines: tuple[Turbine, ...]) -> SiteConfig:
    return SiteConfig(
        path=Path("site.toml"),
        name="s",
        timezone="UTC",
        files=(),
        file_format="csv",
        delimiter=",",
        decimal=".",
        columns={},
        units={},
        normal_status_codes=(0,),
        turbines=turbines,
    )


def test_only_usable_records_of_cohort_turbines_are_summed():
    site = _site((Turbine("A", "E-82/2300", 2000.0, 82, 98), Turbine("B", "Other/1", 1000.0, 50, 60)))
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(
                [
                    "2025-01-01T00:00Z",
                    "2025-01-01T00:10Z",
                    "2025-01-01T00:20Z",
                    "2024-12-31T23:50Z",
                    "2025-01-01T00:30Z",
                    "2025-01-01T00:40Z",
                ]
            ),
            "asset_id": ["A", "A", "A", "A", "B", "A"],
            "WTUR_W": [1000.0, 500.0, 1200.0, 900.0, 700.0, np.nan],
            "WMET_HorWdSpd": [8.1, 8.2, 8.0, 8.0, 8.0, 8.0],
            "WTUR_TurSt": [0, 0, 3, 0, 0, 0],  # record 3 is not normal operation
        }
    )
    values = summarise_site([frame.iloc[:3], frame.iloc[3:]], site, SPEC)  # two chunks
    count = values["E-82/2300:RECORD_COUNT"]
    assert count[16] == 2 and count.sum() == 2  # 8.0 m/s bin: records 1 and 2 only
    assert values["E-82/2300:SUM_POWER"][16] == 1500.0
    assert values["E-82/2300:SUM_POWER_SQUARED"][16] == 1000.0**2 + 500.0**2
    hist = values["E-82/2300:NORMALISED_POWER_HISTOGRAM"]
    assert hist[16].sum() == 2 and hist[16, 60] == 1 and hist[16, 35] == 1  # 0.5 p.u. and 0.25 p.u.
    assert values["E-82/2300:BIN_CONTRIBUTOR"].sum() == 1
    assert values["E-82/2300:COHORT_CONTRIBUTOR"][0] == 1
    assert values["V90/2000:COHORT_CONTRIBUTOR"][0] == 0 and values["V90/2000:RECORD_COUNT"].sum() == 0


def test_a_refusal_sends_no_detail_but_logs_it_on_site(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    secret_path = tmp_path / "customer-north-secret" / "site.toml"
    with caplog.at_level(logging.ERROR, logger="fleetbench.site"), pytest.raises(ContributionRefused) as error:
        guarded_site_contribution(secret_path, SPEC.SerializeToString())
    assert "secret" not in str(error.value) and str(tmp_path) not in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert "customer-north-secret" in caplog.text
