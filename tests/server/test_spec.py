from __future__ import annotations

import pytest

from protos.codec import block_layouts
from server.spec import power_curve_spec


def test_spec_declares_every_statistic_per_cohort_with_bounds():
    spec = power_curve_spec(
        "s", "2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z", ["A", "B", "A"], max_turbines_per_site=10
    )
    layouts = block_layouts(spec)
    assert [c.name for c in spec.cohorts] == ["A", "B"]
    # 10 power-curve statistics and 4 sums for each of the two default temperature models, per cohort
    assert len(layouts) == 2 * (10 + 2 * 4)
    gram = next(layout for layout in layouts if layout.name == "A:NBM_GRAM:WTRM_GbxBrgTmp")
    assert gram.shape == (3, 3) and gram.target == "WTRM_GbxBrgTmp"
    assert spec.training_period.start == spec.period.start and spec.training_period.end == "2025-01-31T00:00:00Z"
    count = next(layout for layout in layouts if layout.name == "A:RECORD_COUNT")
    assert count.per_site_bound == 10 * 90 * 144  # 10 turbines x 90 days of 10-min records
    assert spec.wind_speed_bins.first_centre == 0.0 and spec.wind_speed_bins.width == 0.5


@pytest.mark.parametrize(
    ("start", "end"), [("2025-01-02T00:00:00Z", "2025-01-01T00:00:00Z"), ("2025-01-01", "2025-02-01")]
)
def test_spec_refuses_bad_periods(start, end):
    with pytest.raises(ValueError, match="period"):
        power_curve_spec("s", start, end, ["A"])
