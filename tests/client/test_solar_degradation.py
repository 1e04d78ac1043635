"""Year-on-year degradation against an injected rate; RdTools' bootstrap seeded from a Generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from client.solar.degradation import DegradationEstimate, daily_normalised_energy, year_on_year_degradation

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
