"""Soiling loss of a solar plant by stochastic rate and recovery (RdTools), from daily normalised energy.

RdTools is imported inside the function that needs it (``import rdtools`` takes seconds).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from client.solar._random_state import seeded_global_random_state

SRR_METHODS = {
    "perfect_clean": "each cleaning returns the plant to its clean performance",
    "half_norm_clean": "each cleaning recovers to a half-normal draw below the clean performance",
    "random_clean": "each cleaning recovers a uniformly drawn share of the loss",
}
"""How RdTools' stochastic rate and recovery treats a cleaning, by ``method`` name (the one list)."""

DEFAULT_SRR_METHOD = "perfect_clean"
"""The method :func:`soiling_loss` uses unless told (chosen against injected truth, see its docstring)."""


MIN_INTERVAL_DAYS = 7
"""RdTools' shortest soiling interval [days]; a series with fewer finite days has no estimate."""

SRR_REPETITIONS = 1000
"""Monte Carlo realisations of :func:`soiling_loss` (RdTools' default; about 25 ms each on one core)."""

MIN_RECOVERY_SHARE = 0.5
"""Share of the loss accrued before a detected cleaning that the data must recover for it to count [-]."""

SEASONAL_HARMONICS = 2
"""Harmonics of the year in :func:`seasonal_cycle` (one leaves the a-Si plants' winter peak too broad)."""

LOSS_DAY_SCALE = 13
"""Rolling-median window [days] in which the loss's passes find cleanings: RdTools' default."""

PROFILE_DAY_SCALE = 7
"""Rolling-median window [days] in which the profile's pass finds cleanings (shorter: frequent rain's cleanings)."""

MIN_SEASONAL_SPAN_DAYS = 730
"""Span of finite days [d] from which :func:`soiling_loss` fits the seasonal cycle: over a shorter one the
harmonics trade off against the trend and the soiling rates (and year-on-year needs two years anyway)."""


@dataclass(frozen=True)
class SoilingEstimate:
    """A plant's insolation-weighted soiling loss and its Monte Carlo confidence interval.

    Attributes
    ----------
    loss_pct : float
        Energy lost to soiling, (1 - insolation-weighted soiling ratio) * 100 [%].
    ci_low, ci_high : float
        Bounds of the confidence interval of the loss [%].
    daily_ratio : pandas.Series
        The soiling ratio SR_d of each day [-] (:func:`perfect_clean_profile` of the rates fitted with the
        seasonal cycle divided out, relative to the clean level; NaN outside the valid soiling intervals
        RdTools found): what divides the normalised energy out of soiling before year-on-year
        degradation, which a sawtooth of regular cleanings otherwise biases.
    clean_starts : pandas.DatetimeIndex
        The days the profile starts clean: its first interval's and each kept cleaning's
        (:func:`clean_starts`), where its error is smallest
        (:func:`client.solar.degradation.clean_day_year_on_year`).
    """

    loss_pct: float
    ci_low: float
    ci_high: float
    daily_ratio: pd.Series = field(compare=False)  # an estimate equals another by its loss and interval
    clean_starts: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([]), compare=False)


def kept_cleanings(start_level: np.ndarray, end_level: np.ndarray, min_recovery_share: float) -> np.ndarray:
    """Which boundaries between consecutive soiling intervals are cleanings the data bear out.

    With levels relative to the clean plant, interval i - 1 ending at e_(i-1) and interval i starting at
    s_i, boundary i is kept when the recovery covers the share ``f`` of the loss accrued before it:

    s_i - e_(i-1) >= f (1 - e_(i-1)).

    A boundary of the rolling median's noise or of a seasonal rise in the normalised energy recovers
    little, and read as a perfect cleaning it resets a soiled plant to clean; a cleaning left out that
    recovered under the share ``f`` of the loss costs the profile at most that share.

    Parameters
    ----------
    start_level, end_level : ndarray
        Level of each interval's fit at its first and last day [-], relative to the clean plant, in
        time order.
    min_recovery_share : float
        ``f`` [-], in [0, 1].

    Returns
    -------
    ndarray of bool
        Per interval: whether the boundary it starts at is kept (the first interval's is not a boundary:
        False).

    Raises
    ------
    ValueError
        When the levels differ in shape or ``min_recovery_share`` is not in [0, 1].
    """
    start_level = np.asarray(start_level, dtype=np.float64)
    end_level = np.asarray(end_level, dtype=np.float64)
    if start_level.shape != end_level.shape or start_level.ndim != 1:
        raise ValueError(f"start_level {start_level.shape} and end_level {end_level.shape}: expected one 1-d shape")
    if not 0.0 <= min_recovery_share <= 1.0:
        raise ValueError(f"min_recovery_share must be in [0, 1], got {min_recovery_share}")
    previous_end = end_level[:-1]
    kept = start_level[1:] - previous_end >= min_recovery_share * (1.0 - previous_end)
    return np.concatenate([[False], kept])


def soiling_loss(
    daily_normalised: pd.Series,
    daily_insolation: pd.Series,
    rng: np.random.Generator,
    method: str = DEFAULT_SRR_METHOD,
    reps: int = SRR_REPETITIONS,
) -> SoilingEstimate | None:
    """Insolation-weighted soiling loss by the stochastic rate and recovery method.

    Cleanings are found as positive shifts of the rolling median of the normalised energy; within each
    soiling interval the soiling rate is fitted (Theil-Sen); Monte Carlo realisations of rates and
    recoveries give soiling-ratio profiles SR_d, and the P50 insolation-weighted ratio
    SR_w = sum_d SR_d H_d / sum_d H_d (Deceglie, Micheli & Muller 2018, IEEE JPV 8(2) 547,
    doi:10.1109/JPHOTOV.2017.2784682; ``rdtools.soiling.soiling_srr``, 1000 realisations, 68.2 %
    interval). The loss is L = (1 - SR_w) * 100 %.

    RdTools runs twice. The first run only finds the intervals and their fits, in the normalised
    energy's own units. The clean level c is the median of the valid intervals' fitted starts, and the
    second run reads PI_d / c, so a cleaning returns to the clean plant: RdTools' own recentring on the
    first year's median, a soiled level, overstates every rate by 1 / (1 - L) (11.4 % read as 12.8 %
    on the bench's tilted-sensor plant). A detected cleaning is kept only where the fits recover at
    least :data:`MIN_RECOVERY_SHARE` of the loss accrued before it (:func:`kept_cleanings`); the kept
    ones reach the second run as its cleaning events (``clean_criterion='precip'``), and gaps in the
    data still start intervals. Without that check a shift of noise or of a seasonal rise of the
    normalised energy (an a-Si plant in an arid climate, higher in winter) counts as a perfect cleaning
    and resets a plant soiled for months to clean.

    The daily profile (``daily_ratio``) comes from a third run over at least
    :data:`MIN_SEASONAL_SPAN_DAYS` of data: the normalised energy with its seasonal cycle divided out
    (:func:`seasonal_cycle`, fitted jointly with the second run's intervals), its clean level and kept
    cleanings found again, in a rolling median of :data:`PROFILE_DAY_SCALE` days: RdTools' 13 misses
    the cleanings of rain every week or two, and a profile that falls through them for months reads
    as wear once divided out. The loss stays the second run's. Without it a long interval that spans a
    seasonal rise gets a flattened rate, and year-on-year reads the profile's growing error as wear (the
    bench's arid a-Si tracker of seed 2121: -1.90 %/year found for -1.16, now -1.21).

    The default ``'perfect_clean'`` was chosen against injected truth: three years of daily soiling
    ratios (0.08-0.2 %/day), 1 % daily noise, seeds 0-4 of tests/client/test_solar_soiling.py's
    ``simulate``, 100 realisations. Cleanings every 30-60 days (losses 2.9-3.6 %): mean absolute error
    of the loss 0.10 percentage points (at most 0.20) for ``'perfect_clean'``, 0.08 (0.11) for
    ``'half_norm_clean'`` (RdTools' default), 5.4 (5.6) for ``'random_clean'``. Rain-like cleanings,
    gaps drawn from exponentials of mean 20 days (wet season) and 70 (dry), at least 7, 30 % of them
    partial (losses 5.0-12.0 %): 0.59 (0.90), 0.67 (1.53) and 8.0 (11.9). RdTools' ``perfect_clean``
    with its own recentring and every detected cleaning: 0.17 (0.40) and 1.13 (3.26). The default
    stays ``'perfect_clean'``: within 0.02 points of ``'half_norm_clean'`` on regular cleanings, and its
    largest error on rain-like ones is little more than half. Its 68 %
    interval is narrow (0.1-0.3 points) and often misses the truth: it holds the Monte Carlo spread of
    the fitted rates, not the error of the assumption that cleanings are perfect.

    Parameters
    ----------
    daily_normalised : pandas.Series
        Daily normalised energy PI_d [-] (insolation-weighted, e.g. daily measured over expected energy)
        on a daily index without gaps (missing days NaN).
    daily_insolation : pandas.Series
        Daily plane-of-array insolation H_d [kWh/m^2] (any unit), on the same index.
    rng : numpy.random.Generator
        Seeds RdTools' Monte Carlo (which draws from numpy's global state; that state is restored).
    method : str
        How cleanings recover, a key of :data:`SRR_METHODS`.
    reps : int
        Monte Carlo realisations of the second run, at least 10; fewer make a wider-scattered interval,
        not a biased loss.

    Returns
    -------
    SoilingEstimate or None
        None when RdTools finds no valid soiling interval, the series is not daily or has fewer than
        7 finite days. A plant that does not soil gives a loss of 0.

    Raises
    ------
    ValueError
        When ``method`` is not one of :data:`SRR_METHODS` or ``reps`` is under 10.
    """
    if method not in SRR_METHODS:
        raise ValueError(f"method must be one of {sorted(SRR_METHODS)}, got {method!r}")
    if reps < 10:
        raise ValueError(f"reps must be at least 10, got {reps}")
    normalised, insolation = daily_normalised.align(daily_insolation)
    finite = np.isfinite(normalised.to_numpy(dtype=np.float64)) & np.isfinite(insolation.to_numpy(dtype=np.float64))
    if finite.sum() < MIN_INTERVAL_DAYS:  # RdTools fails with an IndexError on an empty series
        return None

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The soiling module is currently experimental")
        import rdtools.soiling

    try:
        with seeded_global_random_state(rng), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="20% or more of the daily data")
            clean, cleaning = _clean_level_and_cleanings(normalised, insolation, rdtools.soiling)
            ratio, interval, info = _srr_with_cleanings(
                normalised / clean, insolation, cleaning, reps, method, rdtools.soiling
            )
            # The loss is SRR's on the series as measured; the profile that divides the series before
            # year-on-year is refitted with the seasonal cycle out, whose rises and falls within a long
            # interval bend its fitted rate (an a-Si plant's winter peak flattens an autumn's soiling).
            span = normalised.index[finite].max() - normalised.index[finite].min()
            refitted = None
            if span >= pd.Timedelta(days=MIN_SEASONAL_SPAN_DAYS):
                refitted = _deseasoned_profile(normalised, insolation, clean, info, cleaning, rdtools.soiling)
            # A plant of under two years, or one whose deseasoned series RdTools finds no valid interval in
            # (PVDAQ system 50, a real export): the profile of the series as measured; the loss stands either way.
            info, profile_cleaning = refitted if refitted is not None else (info, cleaning)
    except (ValueError, rdtools.soiling.NoValidIntervalError):
        return None
    if not np.isfinite(ratio):
        return None
    return SoilingEstimate(
        loss_pct=float((1.0 - ratio) * 100.0),
        ci_low=float((1.0 - interval[1]) * 100.0),
        ci_high=float((1.0 - interval[0]) * 100.0),
        daily_ratio=perfect_clean_profile(
            info["soiling_interval_summary"],
            profile_cleaning,
            pd.DatetimeIndex(normalised.index),
            clean_level_trend(info["soiling_interval_summary"], profile_cleaning),
        ),
        clean_starts=clean_starts(info["soiling_interval_summary"], profile_cleaning),
    )


def clean_starts(intervals: pd.DataFrame, cleaning: pd.Series) -> pd.DatetimeIndex:
    """The days a perfect-clean profile starts at 1: the first interval's start and each kept cleaning's.

    Parameters
    ----------
    intervals : pandas.DataFrame
        RdTools' ``soiling_interval_summary``: ``start``, in time order.
    cleaning : pandas.Series
        1.0 on each kept cleaning's day.

    Returns
    -------
    pandas.DatetimeIndex
        The starts, in time order (empty without intervals).
    """
    starts = pd.DatetimeIndex(intervals["start"])
    if len(starts) == 0:
        return starts
    after_cleaning = cleaning.reindex(starts).fillna(0.0).to_numpy() > 0.0
    after_cleaning[0] = True
    return starts[after_cleaning]


def _clean_level_and_cleanings(
    normalised: pd.Series, insolation: pd.Series, srr: ModuleType, day_scale: int = LOSS_DAY_SCALE
) -> tuple[float, pd.Series]:
    """RdTools' first pass: the clean level [units of ``normalised``] and 1.0 on each kept cleaning's day.

    ``day_scale`` is RdTools' rolling-median window [days] in which cleanings are found as its steps.
    """
    _, _, found = srr.soiling_srr(
        normalised.astype(np.float64),
        insolation.astype(np.float64),
        reps=1,
        method="perfect_clean",
        recenter=False,
        day_scale=day_scale,
    )
    intervals = found["soiling_interval_summary"]
    # Each interval's fit at its start is the level a cleaning left: their median is the clean plant's.
    clean = float(np.median(intervals.loc[intervals["valid"], "inferred_start_loss"]))
    kept = kept_cleanings(
        intervals["inferred_start_loss"].to_numpy() / clean,
        intervals["inferred_end_loss"].to_numpy() / clean,
        MIN_RECOVERY_SHARE,
    )
    cleaning = pd.Series(0.0, index=normalised.index)
    cleaning[pd.DatetimeIndex(intervals["start"][kept])] = 1.0
    return clean, cleaning


def _deseasoned_profile(
    normalised: pd.Series,
    insolation: pd.Series,
    clean: float,
    info: dict[str, Any],
    cleaning: pd.Series,
    srr: ModuleType,
) -> tuple[dict[str, Any], pd.Series] | None:
    """RdTools' intervals and the kept cleanings refitted with the seasonal cycle divided out; None without a valid one.

    ``info`` and ``cleaning`` are the first pass's over the series as measured (``normalised`` over
    ``clean``).
    """
    try:
        deseasoned = normalised / seasonal_cycle(
            normalised / clean, info["soiling_interval_summary"], cleaning, SEASONAL_HARMONICS
        )
        clean_deseasoned, deseasoned_cleaning = _clean_level_and_cleanings(
            deseasoned, insolation, srr, PROFILE_DAY_SCALE
        )
        _, _, deseasoned_info = _srr_with_cleanings(
            deseasoned / clean_deseasoned, insolation, deseasoned_cleaning, 1, "perfect_clean", srr
        )
    except (ValueError, srr.NoValidIntervalError):
        return None
    return deseasoned_info, deseasoned_cleaning


def _srr_with_cleanings(
    relative: pd.Series, insolation: pd.Series, cleaning: pd.Series, reps: int, method: str, srr: ModuleType
) -> tuple[float, np.ndarray, dict[str, Any]]:
    """RdTools' stochastic rate and recovery on ``relative`` (to the clean level), told of the kept cleanings."""
    # RdTools reads cleanings it is told of as precipitation over a threshold; gaps in the data still start
    # intervals of their own.
    ratio, interval, info = srr.soiling_srr(
        relative.astype(np.float64),
        insolation.astype(np.float64),
        reps=reps,
        method=method,
        recenter=False,
        precipitation_daily=cleaning,
        clean_criterion="precip",
        precip_threshold=0.5,
    )
    return float(ratio), np.asarray(interval, dtype=np.float64), info


def seasonal_cycle(
    relative: pd.Series, intervals: pd.DataFrame, cleaning: pd.Series, harmonics: int = SEASONAL_HARMONICS
) -> pd.Series:
    """The plant's seasonal cycle of normalised energy, fitted jointly with its trend and soiling.

    ln PI_d = a + b t_d + sum_k (c_k cos k w_d + s_k sin k w_d) + r_i (d - start_i) [+ o_i], over the
    days of RdTools' valid soiling intervals, where w_d = 2 pi doy_d / 365.25, t_d is years since the
    first day, r_i the soiling rate of interval i and o_i its own start level where the interval does
    not begin at a kept cleaning (the first one, one after a gap in the data). Fitted by iteratively
    reweighted least squares with Tukey's biweight (c = 4.685 scaled MADs), so that days of snow,
    outages or misread cleanings do not pull the cycle. A cycle fitted alone on the normalised energy
    takes in the soiling sawtooth's phase, and one fitted on the desoiled series the rates it bent; here
    each is fitted against the other.

    Parameters
    ----------
    relative : pandas.Series
        Daily normalised energy PI_d [-] (any scale) on a daily index without gaps (missing days NaN).
    intervals : pandas.DataFrame
        RdTools' ``soiling_interval_summary``: ``start``, ``end``, ``valid``, in time order.
    cleaning : pandas.Series
        1.0 on each kept cleaning's day.
    harmonics : int
        Harmonics of the year K, at least 1.

    Returns
    -------
    pandas.Series
        exp(sum_k (c_k cos k w_d + s_k sin k w_d)) on ``relative``'s index [-], about 1 (mean of its log
        over a year 0); 1 everywhere when no day is in a valid interval.

    Raises
    ------
    ValueError
        When ``harmonics`` is under 1.
    """
    if harmonics < 1:
        raise ValueError(f"harmonics must be at least 1, got {harmonics}")
    index = pd.DatetimeIndex(relative.index)
    values = relative.to_numpy(dtype=np.float64)
    day = ((index - index[0]) / pd.Timedelta(days=1)).to_numpy()
    angle = 2.0 * np.pi * index.day_of_year.to_numpy(dtype=np.float64) / 365.25
    k = np.arange(1, harmonics + 1)
    season = np.column_stack([np.cos(np.outer(angle, k)), np.sin(np.outer(angle, k))])
    columns, used = [np.ones(len(index)), day / 365.25, *season.T], np.zeros(len(index), dtype=bool)
    starts, ends = pd.DatetimeIndex(intervals["start"]), pd.DatetimeIndex(intervals["end"])
    after_cleaning = cleaning.reindex(starts).fillna(0.0).to_numpy() > 0.0
    for i in np.flatnonzero(intervals["valid"].to_numpy(dtype=bool)).tolist():
        inside = np.asarray((index >= starts[i]) & (index <= ends[i]))
        used |= inside
        columns.append(np.where(inside, day - (starts[i] - index[0]) / pd.Timedelta(days=1), 0.0))
        if i == 0 or not after_cleaning[i]:
            columns.append(inside.astype(np.float64))
    fit = used & np.isfinite(values) & (values > 0.0)
    if not fit.any():
        return pd.Series(1.0, index=relative.index)
    design = np.column_stack(columns)
    beta = robust_least_squares(design[fit], np.log(values[fit]))
    return pd.Series(np.exp(season @ beta[2 : 2 + 2 * harmonics]), index=relative.index)


def robust_least_squares(
    design: np.ndarray, target: np.ndarray, iterations: int = 10, tuning: float = 4.685
) -> np.ndarray:
    """Coefficients of ``target ~ design`` by iteratively reweighted least squares with Tukey's biweight.

    Each pass weights residual e by (1 - (e / (tuning s))^2)^2 inside |e| < tuning s (0 outside),
    s = 1.4826 times the median absolute deviation of the weighted residuals (Holland & Welsch 1977,
    doi:10.1080/03610927708827533). Rank-deficient designs get numpy's minimum-norm solution.

    Parameters
    ----------
    design : ndarray
        (n, p) regressors.
    target : ndarray
        (n,) responses (units of the coefficients times the regressors).
    iterations : int
        Reweighting passes after the ordinary least-squares start.
    tuning : float
        Biweight tuning constant in scaled MADs (4.685: 95 % efficiency under normal errors).

    Returns
    -------
    ndarray
        (p,) coefficients.
    """
    weight = np.ones(len(target))
    beta: np.ndarray = np.linalg.lstsq(design, target, rcond=None)[0]
    for _ in range(iterations):
        residual = target - design @ beta
        kept = residual[weight > 0.0]
        scale = 1.4826 * np.median(np.abs(kept - np.median(kept)))
        if scale <= 0.0:  # an exact fit: nothing left to downweight
            break
        u = residual / (tuning * scale)
        weight = np.where(np.abs(u) < 1.0, (1.0 - u**2) ** 2, 0.0)
        root = np.sqrt(weight)
        beta = np.linalg.lstsq(design * root[:, None], target * root, rcond=None)[0]
    return beta


def clean_level_trend(intervals: pd.DataFrame, cleaning: pd.Series) -> np.ndarray:
    """The clean plant's level at each soiling interval's start: a Theil-Sen line through the clean starts.

    A clean start is the fitted start level (``inferred_start_loss``) of a valid interval that begins at
    a kept cleaning, or of the first interval. The line c(t) = a + b t (t in years since the first
    interval's start; b the median of the pairwise slopes, a = median(s) - b median(t), Sen 1968,
    doi:10.1080/01621459.1968.10480934) follows the clean plant as it degrades; a constant (their
    median) with fewer than two clean starts at distinct times, 1 with none.

    Parameters
    ----------
    intervals : pandas.DataFrame
        RdTools' ``soiling_interval_summary``: ``start``, ``inferred_start_loss`` [-, relative to the
        clean level], ``valid``, in time order.
    cleaning : pandas.Series
        1.0 on each kept cleaning's day.

    Returns
    -------
    ndarray
        c(t_i) per interval [-, the units of ``inferred_start_loss``]; 1 where the line is not positive.
    """
    starts = pd.DatetimeIndex(intervals["start"])
    if len(starts) == 0:
        return np.ones(0)
    years = ((starts - starts[0]) / pd.Timedelta(days=365.25)).to_numpy(dtype=np.float64)
    level = intervals["inferred_start_loss"].to_numpy(dtype=np.float64)
    after_cleaning = starts.isin(clean_starts(intervals, cleaning))
    clean = after_cleaning & intervals["valid"].to_numpy(dtype=bool) & np.isfinite(level)
    t, s = years[clean], level[clean]
    if len(s) == 0:
        return np.ones(len(starts))
    i, j = np.triu_indices(len(t), k=1)
    apart = t[j] != t[i]
    slope = float(np.median((s[j] - s[i])[apart] / (t[j] - t[i])[apart])) if apart.any() else 0.0
    trend = np.median(s) - slope * np.median(t) + slope * years
    return np.where(trend > 0.0, trend, 1.0)


def perfect_clean_profile(
    intervals: pd.DataFrame, cleaning: pd.Series, index: pd.DatetimeIndex, clean_level: np.ndarray | None = None
) -> pd.Series:
    """The daily soiling ratio of RdTools' soiling intervals, each kept cleaning returning the plant to clean.

    SR_d = s_i + (r_i / c_i) (d - start_i) within valid interval i (NaN elsewhere), where r_i is its
    fitted rate, c_i the clean plant's level at its start (:func:`clean_level_trend`; 1 when not
    given) and s_i its start: 1 after a kept cleaning (and for the first interval), else the level the
    previous interval ended at, carried over the gap (a flat, invalid interval carries it unchanged).
    RdTools' own ``soiling_ratio_perfect_clean`` starts every interval at 1, also one that begins only
    because the data stopped for a while (a polar winter): soiling that no cleaning removed would
    then be read, once divided out, as a loss of output after each gap. A gap the plant came back
    from cleaner is a boundary :func:`kept_cleanings` keeps, so it still resets.

    Soiling takes a share of the output a plant has: RdTools fits r_i in the units of the whole
    series, so a plant that has lost 3 % to wear shows a slope 3 % shallower for the same soiling.
    Taken as is, r_i makes the later years' profile too clean by about the soiling loss times the
    wear: five synthetic worn plants soiling 0.3 %/day (tests/client/test_solar_soiling.py) read 0.18 %/year
    off their degradation rate on average, 0.055 with c_i; bench/solar_detection.py --seed 31's arid CIGS
    tracker (0.30 %/day, cleaned every 93 days) reads -1.01 for -0.96 with c_i, -1.18 before.

    Parameters
    ----------
    intervals : pandas.DataFrame
        RdTools' ``soiling_interval_summary``: ``start``, ``end``, ``soiling_rate`` [1/day], ``valid``,
        in time order.
    cleaning : pandas.Series
        1.0 on each kept cleaning's day (the series passed to RdTools as its precipitation).
    index : pandas.DatetimeIndex
        The days of the returned series.
    clean_level : ndarray, optional
        c_i per interval [-, the units of the series RdTools fitted], positive.

    Returns
    -------
    pandas.Series
        SR_d on ``index`` [-].
    """
    profile = pd.Series(np.nan, index=index)
    level = 1.0
    scale = np.ones(len(intervals)) if clean_level is None else np.asarray(clean_level, dtype=np.float64)
    # One pass over the intervals (tens of them): each one's start depends on where the one before ended.
    for i, row in enumerate(intervals.itertuples()):
        start = 1.0 if i == 0 or cleaning.get(row.start, 0.0) > 0 else level
        rate = float(row.soiling_rate) / scale[i] if row.valid else 0.0
        if row.valid:
            days = (profile.loc[row.start : row.end].index - row.start).days.to_numpy()
            profile.loc[row.start : row.end] = start + rate * days
        level = start + rate * (row.end - row.start).days
    return profile
