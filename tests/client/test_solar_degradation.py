"""Year-on-year degradation against an injected rate; RdTools' bootstrap seeded from a Generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from client.solar.degradation import (
    MAX_RATE_DISAGREEMENT,
    DegradationEstimate,
    clean_day_year_on_year,
    combined_degradation,
    daily_normalised_energy,
    year_on_year_degradation,
)

INJECTED = -0.7  # [%/year]


@pytest.fixture(scope="module")
def three_years() -> pd.Series:
    """Daily normalised energy: 1 - 0.7 %/year, times 1 % multiplicative noise, one missing week."""
    rng = np.random.default_rng(20180525)
    days = pd.date_range("2021-01-01", periods=3 * 365, freq="D", tz="UTC")
    years = np.arange(len(days)) / 365.0
    pi = (1.0 + INJECTED / 100 * years) * (1.0 + 0.01 * rng.standard_normal(len(days)))
    pi[400:407] = np.nan
    return pd.Series(pi, index=days)


def test_daily_normalised_energy_by_hand():
    days = pd.date_range("2024-03-01", periods=5, freq="D", tz="UTC")
    energy = pd.Series([90.0, 45.0, 10.0, np.nan, 80.0], index=days)
    expected = pd.Series([100.0, 50.0, 15.0, 100.0, 0.0], index=days)
    # median expected 50 kWh: days under 0.2 * 50 = 10 kWh (and non-positive) give NaN.
    ratio = daily_normalised_energy(energy, expected)
    assert ratio.to_numpy()[:3] == pytest.approx([0.9, 0.9, 10 / 15], abs=1e-12)
    assert ratio.iloc[3:].isna().all()
    assert daily_normalised_energy(energy, expected, min_expected_fraction=0.4).isna().tolist() == [
        False, False, True, True, True,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="min_expected_fraction"):
        daily_normalised_energy(energy, expected, min_expected_fraction=1.0)


def test_recovers_the_injected_rate(three_years):
    estimate = year_on_year_degradation(three_years, np.random.default_rng(1))
    assert isinstance(estimate, DegradationEstimate)
    assert estimate.rate_pct_per_year == pytest.approx(INJECTED, abs=0.2)
    assert estimate.ci_low < INJECTED < estimate.ci_high
    assert estimate.ci_high - estimate.ci_low < 0.4  # 68 % interval of a median of ~720 yearly pairs


def test_seeded_calls_repeat_and_leave_the_global_state_alone(three_years):
    np.random.seed(12345)
    before = np.random.get_state()
    first = year_on_year_degradation(three_years, np.random.default_rng(7))
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
    assert year_on_year_degradation(three_years, np.random.default_rng(7)) == first
    other = year_on_year_degradation(three_years, np.random.default_rng(8))
    assert other.rate_pct_per_year == first.rate_pct_per_year  # the median does not depend on the draws
    assert (other.ci_low, other.ci_high) != (first.ci_low, first.ci_high)


def test_under_two_years_gives_none(three_years):
    assert year_on_year_degradation(three_years.iloc[:700], np.random.default_rng(0)) is None
    assert year_on_year_degradation(three_years.iloc[:0], np.random.default_rng(0)) is None


def test_wrong_inputs_raise(three_years):
    with pytest.raises(ValueError, match="timezone-aware"):
        year_on_year_degradation(three_years.tz_localize(None), np.random.default_rng(0))
    with pytest.raises(ValueError, match="confidence_level"):
        year_on_year_degradation(three_years, np.random.default_rng(0), confidence_level=100)


def _profile_error_deep_in_intervals(rng: np.random.Generator, period: int = 30, growth: float = 0.0008):
    """Three years of x = (1 - 0.7 %/year) x (1 - e) x noise, the profile's error e growing through each soiling
    interval from its second week (a rain cleaning it missed mid-interval, say), and more so each year. Returns
    x and the clean starts (every ``period`` days)."""
    days = pd.date_range("2021-01-01", periods=3 * 365, freq="D", tz="UTC")
    t = np.arange(len(days))
    since_clean = t % period
    error = growth * np.maximum(since_clean - 7, 0) * (t // 365)  # 0 in year one; 3.5 % late in year three
    x = (1.0 + INJECTED / 100 * t / 365.0) * (1.0 - error) * (1.0 + 0.005 * rng.standard_normal(len(days)))
    return pd.Series(x, index=days), days[since_clean == 0]


def test_the_clean_day_rate_reads_the_trend_where_the_profile_is_right_and_year_on_year_does_not():
    """A profile wrong deep inside its soiling intervals (more each year): year-on-year over every day reads that
    error as wear, the rate over the first week after each clean start does not. Control: the same estimator
    over the third week after each start reads it too."""
    x, starts = _profile_error_deep_in_intervals(np.random.default_rng(7))
    clean = clean_day_year_on_year(x, starts)
    every_day = year_on_year_degradation(x, np.random.default_rng(0))
    assert clean is not None and every_day is not None
    assert clean == pytest.approx(INJECTED, abs=0.1)
    assert every_day.rate_pct_per_year < INJECTED - 0.5
    third_week = clean_day_year_on_year(x, starts + pd.Timedelta(days=14))
    assert third_week is not None and third_week < INJECTED - 0.5


def test_the_clean_day_rate_needs_clean_days_a_year_apart():
    x, starts = _profile_error_deep_in_intervals(np.random.default_rng(7))
    assert clean_day_year_on_year(x, starts[:2]) is None  # all in the first year: no pair
    assert clean_day_year_on_year(x, pd.DatetimeIndex([])) is None
    assert clean_day_year_on_year(x, starts[[0, 13]], days=1) is None  # one pair, fewer than MIN_CLEAN_PAIRS


def test_combined_degradation_averages_the_two_rates_unless_they_disagree():
    year_on_year = DegradationEstimate(-1.2, -1.3, -1.1)
    combined = combined_degradation(year_on_year, -0.8)
    assert combined is not None  # the interval keeps its width
    assert (combined.rate_pct_per_year, combined.ci_low, combined.ci_high) == pytest.approx((-1.0, -1.1, -0.9))
    assert combined_degradation(year_on_year, -1.2 + MAX_RATE_DISAGREEMENT + 0.01) == year_on_year
    assert combined_degradation(year_on_year, None) == year_on_year
    assert combined_degradation(None, -0.8) is None
