"""Method-of-bins power-curve sums (IEC 61400-12-1:2017, 9.1): pure functions over arrays.

Sums rather than means are computed so that sums from many sites add up to the pooled result.
"""

from __future__ import annotations

import numpy as np


def bin_index(values: np.ndarray, first_centre: float, width: float, count: int) -> np.ndarray:
    """Index of the bin holding each value on a grid of centred bins; -1 outside the grid.

    Bin i is centred on ``first_centre + i * width`` and covers [centre - width/2,
    centre + width/2), so a value on an edge falls into the upper bin (IEC 61400-12-1:2017,
    9.1: bins of 0.5 m/s centred on multiples of 0.5 m/s). NaN maps to -1.

    Parameters
    ----------
    values : ndarray
        Values to bin, in the grid's unit (e.g. wind speed [m/s]).
    first_centre, width : float
        Centre of bin 0 and bin width, in the grid's unit.
    count : int
        Number of bins.
    """
    position = np.floor((np.asarray(values, dtype=np.float64) - first_centre) / width + 0.5)
    inside = np.isfinite(position) & (position >= 0) & (position < count)
    index = np.full(position.shape, -1, dtype=np.int64)
    index[inside] = position[inside].astype(np.int64)
    return index


def clipped_bin_index(values: np.ndarray, first_centre: float, width: float, count: int) -> np.ndarray:
    """Like :func:`bin_index`, but values beyond either end fall into the end bins."""
    position = np.floor((np.asarray(values, dtype=np.float64) - first_centre) / width + 0.5)
    return np.clip(np.nan_to_num(position, nan=0.0), 0, count - 1).astype(np.int64)


def bin_power_curve(
    ws_bin: np.ndarray, wind_speed: np.ndarray, power: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per wind-speed bin: record count, sum of wind speed, sum of power, sum of squared power.

    Parameters
    ----------
    ws_bin : ndarray of int
        Bin index of each record (from :func:`bin_index`); records with -1 are ignored.
    wind_speed : ndarray
        Wind speed [m/s].
    power : ndarray
        Active power [kW].
    n_bins : int
        Number of wind-speed bins.

    Returns
    -------
    count [-], sum_wind_speed [m/s], sum_power [kW], sum_power_squared [kW^2], each of length n_bins.
    """
    keep = ws_bin >= 0
    idx = ws_bin[keep]
    p = power[keep]
    return (
        np.bincount(idx, minlength=n_bins).astype(np.float64),
        np.bincount(idx, weights=wind_speed[keep], minlength=n_bins),
        np.bincount(idx, weights=p, minlength=n_bins),
        np.bincount(idx, weights=p * p, minlength=n_bins),
    )


def power_histogram(ws_bin: np.ndarray, power_bin: np.ndarray, n_ws_bins: int, n_power_bins: int) -> np.ndarray:
    """Record counts per (wind-speed bin, normalised-power bin), shape (n_ws_bins, n_power_bins).

    Records with ``ws_bin == -1`` are ignored.
    """
    keep = ws_bin >= 0
    flat = ws_bin[keep] * n_power_bins + power_bin[keep]
    return np.bincount(flat, minlength=n_ws_bins * n_power_bins).reshape(n_ws_bins, n_power_bins).astype(np.float64)
