"""The calendar months of a period, and which month a record falls in."""

from __future__ import annotations

import pandas as pd

from protos.domain import MONTH_FORMAT, month_index, period_months


def test_a_period_covers_every_calendar_month_it_overlaps_partial_ones_included():
    months = period_months("2024-01-15T00:00:00Z", "2024-04-01T00:00:00Z")
    assert list(months.strftime(MONTH_FORMAT)) == ["2024-01", "2024-02", "2024-03"]  # the end is exclusive
    assert len(period_months("2024-01-15T00:00:00Z", "2024-04-01T00:10:00Z")) == 4
    assert len(period_months("2024-12-01T00:00:00+01:00", "2025-01-01T00:00:00Z")) == 2  # 23:00 UTC in November


def test_a_record_falls_in_the_utc_month_of_its_timestamp_and_none_outside():
    months = period_months("2024-01-15T00:00:00Z", "2024-04-01T00:00:00Z")
    times = pd.Series(
        pd.to_datetime(
            ["2023-12-31T23:50Z", "2024-01-15T00:00Z", "2024-02-29T23:50Z", "2024-03-01T00:00Z", "2024-04-01T00:00Z"]
        ).as_unit("ns")
    )
    assert month_index(times, months).tolist() == [-1, 0, 1, 2, -1]
