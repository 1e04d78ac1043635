"""Degradation rate of a solar plant from daily normalised energy: year-on-year (RdTools), and clean days.

The clean days are the first week after each clean start of the soiling profile, where it errs least.
RdTools is imported inside the function that needs it (``import rdtools`` takes seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from client.solar._random_state import seeded_global_random_state

MIN_EXPECTED_FRACTION = 0.2
"""Days whose expected energy is below this fraction of the median day's carry no ratio [-]."""

CLEAN_DAYS = 7
"""Days from a clean start of the soiling profile (day 0 included) that :func:`clean_day_year_on_year` reads."""

CLEAN_PAIR_TOLERANCE_DAYS = 30
"""How far from 365 days apart two clean days may be to make a year-on-year pair [days]."""

MIN_CLEAN_PAIRS = 5
"""Fewer clean-day pairs than this give no clean-day rate."""

MAX_RATE_DISAGREEMENT = 1.0
"""Where the clean-day rate and the year-on-year differ by more than this [%/year], the year-on-year stands alone."""


@dataclass(frozen=True)
class DegradationEstimate:
    """A plant's degradation rate and its bootstrap confidence interval.

    Attributes
    ----------
    rate_pct_per_year : float
        Median of the year-on-year rates (a plant's summary: averaged with the clean-day rate,
        :func:`combined_degradation`) [%/year], negative for a plant losing output.
    ci_low, ci_high : float
        Bounds of the year-on-year's bootstrap confidence interval (moved with the rate) [%/year].
    """

    rate_pct_per_year: float
    ci_low: float
    ci_high: float


def daily_normalised_energy(
    daily_energy_kwh: pd.Series,
    daily_expected_kwh: pd.Series,
    min_expected_fraction: float = MIN_EXPECTED_FRACTION,
) -> pd.Series:
    """Daily measured energy over daily expected energy, the normalised energy of RdTools.

    PI_d = E_d / E_expected,d (Jordan & Kurtz 2013, doi:10.1002/pip.1182; RdTools
    ``normalization.normalize_with_expected_power``). Days whose expected energy is under
    ``min_expected_fraction`` times the median day's (overcast, snow, mostly missing records) give NaN:
    their ratio is dominated by offsets and low-light effects.

    Parameters
    ----------
    daily_energy_kwh : pandas.Series
        Measured energy of each day E_d [kWh], indexed by day.
    daily_expected_kwh : pandas.Series
        Expected energy of each day E_expected,d [kWh] (e.g. summed PVWatts power with the clipped
        records left out of both), indexed by day.
    min_expected_fraction : float
        Fraction of the median day's expected energy [-], in [0, 1).

    Returns
    -------
    pandas.Series
        PI_d [-] on the union of both indexes; NaN where either energy is missing or the expected
        energy is too small (or not positive).

    Raises
    ------
    ValueError
        When ``min_expected_fraction`` is not in [0, 1).
    """
    if not 0.0 <= min_expected_fraction < 1.0:
        raise ValueError(f"min_expected_fraction must be in [0, 1), got {min_expected_fraction}")
    energy, expected = daily_energy_kwh.align(daily_expected_kwh)
    expected = expected.astype(np.float64)
    floor = min_expected_fraction * np.nanmedian(expected.to_numpy()) if expected.notna().any() else np.inf
    usable = (expected > 0.0) & (expected >= floor)
    ratio = energy.astype(np.float64) / expected.where(usable)
    ratio.name = "normalised_energy"
    return ratio


def year_on_year_degradation(
    daily_normalised: pd.Series, rng: np.random.Generator, confidence_level: float = 68.2
) -> DegradationEstimate | None:
    """Degradation rate by the year-on-year method, with a bootstrap confidence interval.

    Each day's rate is R_d = 100 (PI_d - PI_d-365) / (PI_first-year median) [%/year]; the plant's rate
    is the median of the R_d and its interval the percentiles of 10 000 bootstrap medians (Jordan,
    Deline, Kurtz, Kimball & Anderson 2018, IEEE JPV 8(2), doi:10.1109/JPHOTOV.2017.2779779; RdTools
    documentation, ``rdtools.degradation_year_on_year`` with uncertainty method ``'simple'``). Leave
    clipped records out of the expected energy first, else clipping masks the degradation
    (docs/solar-facts.md).

    Parameters
    ----------
    daily_normalised : pandas.Series
        Daily normalised energy PI_d [-] (:func:`daily_normalised_energy`) on a timezone-aware daily
        index; NaN days are left out.
    rng : numpy.random.Generator
        Seeds RdTools' bootstrap (which draws from numpy's global state; that state is restored).
    confidence_level : float
        Size of the confidence interval [%], in (0, 100).

    Returns
    -------
    DegradationEstimate or None
        None when the finite days span under two years or RdTools finds no year-on-year pair.

    Raises
    ------
    ValueError
        When the index is not a timezone-aware DatetimeIndex or ``confidence_level`` is not in (0, 100).
    """
    if not 0.0 < confidence_level < 100.0:
        raise ValueError(f"confidence_level must be in (0, 100), got {confidence_level}")
    index = daily_normalised.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("daily_normalised needs a timezone-aware DatetimeIndex")
    values = daily_normalised.astype(np.float64)
    values = values[np.isfinite(values.to_numpy()) & (values.to_numpy() > 0.0)]
    if len(values) < 2 or values.index.max() - values.index.min() < pd.Timedelta(days=730):
        return None

    import rdtools.degradation

    try:
        with seeded_global_random_state(rng):
            rate, interval, _ = rdtools.degradation.degradation_year_on_year(
                values, confidence_level=confidence_level, uncertainty_method="simple"
            )
    except ValueError:  # under two years by RdTools' count, or no pair a year apart
        return None
    if not np.isfinite(rate):
        return None
    return DegradationEstimate(float(rate), float(interval[0]), float(interval[1]))


def clean_day_year_on_year(
    desoiled: pd.Series,
    clean_starts: pd.DatetimeIndex,
    days: int = CLEAN_DAYS,
    tolerance_days: int = CLEAN_PAIR_TOLERANCE_DAYS,
    min_pairs: int = MIN_CLEAN_PAIRS,
) -> float | None:
    """A year-on-year degradation rate over the days just after the soiling profile starts clean [%/year].

    Deep inside a soiling interval the profile divided out can be wrong by a percent or more (a rain
    cleaning it missed, a spring that began soiled after a winter gap), and year-on-year reads such
    errors as wear; in the first days after a clean start it is near 1 and its error small. So: the
    clean days C are those within ``days`` of a clean start; every pair of clean days d > d' whose
    distance is within ``tolerance_days`` of 365 gives r = 100 (x_d - x_d') / ref * 365 / (d - d'), ref the
    median of x over the series' first 365 days; the rate is the median of the r. Its pairs are few and
    up to a month off the year, so it is noisy: :func:`combined_degradation` averages it with the
    year-on-year over every day.

    Parameters
    ----------
    desoiled : pandas.Series
        Daily normalised energy with the soiling profile divided out, x_d [-], on a daily DatetimeIndex.
    clean_starts : pandas.DatetimeIndex
        The days the profile starts at 1 (:attr:`client.solar.soiling.SoilingEstimate.clean_starts`).
    days : int
        Clean days from each start, the start included.
    tolerance_days : int
        Largest distance of a pair from 365 days [days].
    min_pairs : int
        Fewer pairs give None.

    Returns
    -------
    float or None
        The median of the pairs' rates [%/year], negative for a plant losing output; None with fewer than
        ``min_pairs`` pairs or no reference level.
    """
    index = pd.DatetimeIndex(desoiled.index)
    values = desoiled.to_numpy(dtype=np.float64)
    if len(index) == 0 or len(clean_starts) == 0:
        return None
    day = ((index - index[0]) / pd.Timedelta(days=1)).to_numpy()
    start = ((clean_starts - index[0]) / pd.Timedelta(days=1)).to_numpy()
    since = day[:, None] - start[None, :]
    clean = ((since >= 0) & (since < days)).any(axis=1) & np.isfinite(values) & (values > 0)
    first_year = np.isfinite(values) & (values > 0) & (day < 365)
    if not first_year.any() or clean.sum() < 2:
        return None
    reference = float(np.median(values[first_year]))
    d, x = day[clean], values[clean]
    apart = d[:, None] - d[None, :]
    later, earlier = np.nonzero(np.abs(apart - 365.0) <= tolerance_days)
    if len(later) < min_pairs:
        return None
    gap = apart[later, earlier]
    rates = 100.0 * (x[later] - x[earlier]) / reference * 365.0 / gap
    return float(np.median(rates))


def combined_degradation(
    year_on_year: DegradationEstimate | None, clean_day_rate: float | None
) -> DegradationEstimate | None:
    """The mean of the year-on-year and clean-day rates, its interval the year-on-year's moved with it.

    The two err largely apart: the year-on-year reads the soiling profile's errors deep inside soiling
    intervals, the clean-day rate few, noisy pairs (docs/benchmarks.md: 70 of 72 synthetic plants within
    0.2 %/year against 66, largest error 0.30 against 0.43). Where they differ by more than
    :data:`MAX_RATE_DISAGREEMENT` (a plant whose rain cleans only part of the dirt, so that its clean
    days are not alike from year to year) or there is no clean-day rate, the year-on-year stands alone.
    The interval keeps the year-on-year's bootstrap width (no joint bootstrap).
    """
    if year_on_year is None or clean_day_rate is None:
        return year_on_year
    if abs(clean_day_rate - year_on_year.rate_pct_per_year) > MAX_RATE_DISAGREEMENT:
        return year_on_year
    shift = (clean_day_rate - year_on_year.rate_pct_per_year) / 2.0
    return DegradationEstimate(
        year_on_year.rate_pct_per_year + shift, year_on_year.ci_low + shift, year_on_year.ci_high + shift
    )
