"""Round-2 baselines from summed values: failure-rate and monthly cells under k and the dominance rule."""

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
        BlockKey("", S.MONTHLY_CENSUS): np.zeros((3, 2, 2 * 3)),
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


def test_each_month_is_a_cell_of_its_own_published_with_its_percentiles_or_suppressed_with_its_reason():
    spec = indicator_spec(power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-03-15T00:00:00Z", ["A"]), "0" * 64)
    months, grid = 3, spec.indicators.monthly_performance_index_bins  # January, February, half of March
    values = {layout.key: np.zeros(layout.shape) for layout in block_layouts(spec)}
    monthly = np.zeros((3, 2, 2 * months))  # fields, (the atom, the cohort), (indicator, month)
    # Performance index: January 4 + 3 + 3 turbines; February 8 + 1 + 1 (one operator dominates); March two operators.
    for month, turbines in ((0, [4.0, 3.0, 3.0]), (1, [8.0, 1.0, 1.0]), (2, [2.0, 2.0])):
        monthly[:, :, month] = np.array([len(turbines), sum(turbines), sum(t * t for t in turbines)])[:, None]
        values[BlockKey("A", S.MONTHLY_CONTRIBUTOR)][month] = len(turbines)
    january = values[BlockKey("A", S.MONTHLY_PERFORMANCE_INDEX_HISTOGRAM)][0]
    january[[20, 25, 30]] = [2, 6, 2]  # centres 0.90, 0.95, 1.00
    values[BlockKey("A", S.MONTHLY_PERFORMANCE_INDEX_HISTOGRAM)][1, 25] = 10
    census = {
        BlockKey("", S.INDICATOR_CENSUS): np.zeros((3, 2, len(indicator_cells(spec)))),
        BlockKey("", S.AGE_BAND_CENSUS): np.zeros((3, 2, len(spec.indicators.age_band_edges))),
        BlockKey("", S.MONTHLY_CENSUS): monthly,
    }
    release = release_pb2.Release()
    suppressed = indicator_baselines(spec, values, release, decide(spec, census))
    by_month = {(d.indicator, d.month): d for d in release.monthly_distributions}
    assert set(by_month) == {("performance_index", m) for m in ("2025-01", "2025-02", "2025-03")}  # none: not listed
    jan = by_month["performance_index", "2025-01"]
    assert not jan.suppressed and jan.operator_count == 3 and list(jan.counts) == january.astype(int).tolist()
    assert jan.p50 == pytest.approx(grid.first_centre + 25 * grid.width, abs=grid.width / 2)
    assert jan.p10 < jan.p50 < jan.p90
    assert "more than 60% of the turbines" in by_month["performance_index", "2025-02"].suppression_reason
    assert "fewer than 3 operators" in by_month["performance_index", "2025-03"].suppression_reason
    assert not by_month["performance_index", "2025-02"].counts  # the February sums are never published
    assert suppressed == 2


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
