"""A whole release over exports with a real export's quirks publishes no number the data cannot carry.

Four operators write style 4 (simulations/fleet_exports.py): no status codes, local time with UTC
offsets and the hour after the spring change written twice, a nacelle anemometer reading 7 % low,
negative idle power, -273.2 degC temperature sentinels, empty rows, curtailment without a code.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from google.protobuf.message import Message

from client.validate import validate_site
from protos.domain import RECORD_PERIOD
from protos.fleetbench.v1 import spec_pb2
from server.finalize import BETZ_LIMIT, RATED_PER_UNIT
from simulations.fleet import FleetConfig, generate_fleet
from simulations.fleet_exports import spring_forward_hours
from simulations.onboarding import fleet_spec, run_release_in_process

CONFIG = FleetConfig(
    operators=4,
    turbines_per_operator=2,
    months=1,
    start="2025-03-01T00:00:00Z",
    seed=12,
    models=("E-82/2300",),
    export_styles=(4,),
)


@pytest.fixture(scope="module")
def quirky(tmp_path_factory: pytest.TempPathFactory):
    sites = generate_fleet(CONFIG, tmp_path_factory.mktemp("quirky"))
    release = run_release_in_process(sites, fleet_spec(CONFIG), send=False)
    return sites, release


def test_the_exports_carry_the_quirks(quirky):
    sites, _ = quirky
    export = pd.read_csv(sites[0].parent / "scada.csv")
    times = export["# Date and time"]
    assert times.str.endswith("+01:00").any() and times.str.endswith("+00:00").any()  # GMT, then BST
    assert export.duplicated(["# Date and time", "Turbine"]).sum() == 2 * 6  # the repeated hour, of two turbines
    assert (export["Power (kW)"] < 0).any() and (export["Ambient temperature (converter) (degC)"] == -273.2).any()
    assert export.drop(columns=["# Date and time", "Turbine"]).isna().all(axis=1).any()
    assert spring_forward_hours(pd.Series(pd.to_datetime(["2025-03-01T00:00Z"]))) == [pd.Timestamp("2025-03-30T01:00Z")]
    report = validate_site(sites[0])
    assert report.usable and any("duplicated timestamps although they state" in f.problem for f in report.findings)


def _numbers(message: Message, path: str = "") -> list[tuple[str, float]]:
    """Every float field set anywhere in ``message``, with its path."""
    found = []
    for field, value in message.ListFields():
        where = f"{path}.{field.name}"
        values = value if field.is_repeated and not hasattr(value, "items") else [value]
        for item in values:
            if isinstance(item, Message):
                found += _numbers(item, where)
            elif isinstance(item, float):
                found.append((where, item))
    return found


def test_the_release_publishes_no_invented_number(quirky):
    sites, release = quirky
    # Finite everywhere: no NaN, no infinity in any published figure.
    numbers = _numbers(release)
    assert len(numbers) > 500 and not [where for where, v in numbers if not math.isfinite(v)]
    # No status channel and no vane anywhere: availability, lost production, failures and yaw misalignment
    # are not measured, so not published.
    published = {d.indicator for d in release.distributions if not d.suppressed}
    assert "performance_index" in published
    assert not published & {"time_availability", "production_availability", "yaw_misalignment"}
    assert not any(not x.suppressed for x in release.lost_production)
    assert not any(not r.suppressed for r in release.failure_rates)
    # Percentiles within the indicator's range.
    for d in release.distributions:
        if d.suppressed:
            continue
        low = d.bins.first_centre - d.bins.width / 2
        high = d.bins.first_centre + d.bins.width * (d.bins.count - 0.5)
        assert all(low <= getattr(d, p) <= high for p in ("p10", "p25", "p50", "p75", "p90")), d.indicator
    for curve in release.curves:
        assert curve.wind_speed_reference == spec_pb2.NACELLE_ANEMOMETER  # labelled as what it is
        for cell in curve.bins:
            if cell.HasField("power_coefficient"):  # only producing, below rated, below Betz
                assert 0.0 < cell.power_coefficient < BETZ_LIMIT
                assert 0.005 < cell.mean_power_per_unit < RATED_PER_UNIT
            for p in ("p10_normalised_power", "p50_normalised_power", "p90_normalised_power"):
                if cell.HasField(p):
                    assert -0.1 <= getattr(cell, p) <= 1.3
        # Completeness counts records that exist: no more hours than the exports' rows.
        exported_rows = sum(len(pd.read_csv(site.parent / "scada.csv")) for site in sites)
        assert 0 < curve.completeness.hours <= exported_rows * pd.Timedelta(RECORD_PERIOD).total_seconds() / 3600
    # The normal-behaviour models learnt no -273.2 degC sentinel.
    models = [m for m in release.models if not m.suppressed]
    assert models and all(m.residual_std < 10.0 for m in models)


def test_the_nacelle_anemometer_reading_low_shows_in_cp_and_is_never_published_past_betz(quirky):
    _, release = quirky
    (curve,) = [c for c in release.curves if c.cohort == "E-82/2300"]
    cp = np.array([b.power_coefficient for b in curve.bins if b.HasField("power_coefficient")])
    # The manufacturer's E-82 peaks near Cp 0.47; read 7 % low the wind gives 1 / 0.93^3 = 1.24 times that.
    assert cp.max() > 0.5
