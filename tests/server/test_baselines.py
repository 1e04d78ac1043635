"""Round-2 baselines from summed values: failure-rate cells under k and the dominance rule."""

from __future__ import annotations

import numpy as np
import pytest

from protos.census import decide
from protos.codec import block_layouts
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import BlockKey, indicator_cells
from server.baselines import indicator_baselines
from server.spec import indicator_spec, power_curve_spec

S = spec_pb2.Statistic


def test_failure_rate_cells_need_k_operators_and_no_dominant_one():
    spec = indicator_spec(power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z", ["A"]), "0" * 64)
    values = {layout.key: np.zeros(layout.shape) for layout in block_layouts(spec)}
    census = {
        BlockKey("", S.INDICATOR_CENSUS): np.zeros((3, 2, len(indicator_cells(spec)))),  # the atom, the cohort
        BlockKey("", S.AGE_BAND_CENSUS): np.zeros((3, 2, len(spec.indicators.age_band_edges))),
    }
    gearbox = list(spec.indicators.components).index("gearbox")
    # Band 2 (2-5 years): 8, 1 and 1 turbine-years; band 3 (5-10): 2 each; band 4 (10-15): two operators.
    for band, shares in ((2, [8.0, 1.0, 1.0]), (3, [2.0, 2.0, 2.0]), (4, [3.0, 3.0])):
        census[BlockKey("", S.AGE_BAND_CENSUS)][:, :, band] = np.array(
            [len(shares), sum(shares), sum(s * s for s in shares)]
        )[:, None]
        values[BlockKey("A", S.AGE_BAND_CONTRIBUTOR)][band] = len(shares)
        values[BlockKey("A", S.TURBINE_YEARS)][band] = sum(shares)
        values[BlockKey("A", S.FAILURE_COUNT)][gearbox, band] = 3
        values[BlockKey("A", S.FAILURE_DOWNTIME)][gearbox, band] = 3 * 72.0
    release = release_pb2.Release()
    indicator_baselines(spec, values, release, decide(spec, census))
    rates = {(r.component, r.age_from_years): r for r in release.failure_rates}
    assert "more than 60% of the turbine-years" in rates["gearbox", 2.0].suppression_reason
    assert "fewer than 3 operators" in rates["gearbox", 10.0].suppression_reason
    released = rates["gearbox", 5.0]
    assert not released.suppressed and released.failures == 3
    assert released.failures_per_turbine_year == pytest.approx(0.5) and released.mean_downtime_hours == 72.0
    assert not any(r.HasField("failures") for r in release.failure_rates if r.suppressed)


def test_availability_percentiles_stay_within_zero_and_one():
    """Every turbine at full availability: the bin centred on 1.0 spans to 1.005, its percentiles do not."""
    from server.baselines import indicator_percentiles

    grid = spec_pb2.BinGrid(first_centre=0.0, width=0.01, count=101)
    counts = np.zeros(101)
    counts[100] = 12
    percentiles = indicator_percentiles("time_availability", counts, grid)
    assert max(percentiles) == 1.0 and min(percentiles) > 0.995
    # Control: the same histogram read as a quantity without a range goes past 1.
    assert max(indicator_percentiles("residual:x", counts, grid)) > 1.0
