"""Soiling loss of a solar plant by stochastic rate and recovery (RdTools), from daily normalised energy.

RdTools is imported inside the function that needs it (``import rdtools`` takes seconds).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

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
        The soiling ratio SR_d of each day [-] (P50 rates, cleanings perfect; NaN outside the soiling
        intervals RdTools found): what divides the normalised energy out of soiling before
        year-on-year degradation, which a sawtooth of regular cleanings otherwise biases.
    """

    loss_pct: float
    ci_low: float
    ci_high: float
    daily_ratio: pd.Series = field(compare=False)  # an estimate equals another by its loss and interval


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

    The default ``'perfect_clean'`` was chosen against injected truth: three years of daily soiling
    ratios (0.08-0.2 %/day), 1 % daily noise, five seeds per schedule, 100 realisations. Cleanings every
    30-60 days (losses 3.0-3.5 %): mean absolute error of the loss 0.21 percentage points (at most 0.28)
    for ``'perfect_clean'``, 0.82 (1.21) for ``'half_norm_clean'`` (RdTools' default), 5.6 (6.4) for
    ``'random_clean'``. Rain-like cleanings, gaps drawn from exponentials of mean 20 days (wet
    season) and 70 (dry), at least 7, 30 % of them partial (losses 4.1-9.5 %): 0.41 (0.64), 1.44 (1.91)
    and 7.1 (9.2). The two others assume incomplete recoveries and overstate the loss. Its 68 %
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
        Monte Carlo realisations, at least 10; fewer make a wider-scattered interval, not a biased loss.

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
            ratio, interval, info = rdtools.soiling.soiling_srr(
                normalised.astype(np.float64), insolation.astype(np.float64), reps=reps, method=method
            )
    except (ValueError, rdtools.soiling.NoValidIntervalError):
        return None
    if not np.isfinite(ratio):
        return None
    return SoilingEstimate(
        loss_pct=float((1.0 - ratio) * 100.0),
        ci_low=float((1.0 - interval[1]) * 100.0),
        ci_high=float((1.0 - interval[0]) * 100.0),
        daily_ratio=info["soiling_ratio_perfect_clean"].reindex(normalised.index),
    )
