"""Method-of-bins power-curve sums (IEC 61400-12-1:2017, 9.1): pure functions over arrays.

Sums rather than means are computed so that sums from many sites add up to the pooled result.
:func:`binned_sums` computes every sum of a chunk in one pass, with a small kernel compiled by
numba when this module is imported (cached on disk, so only the first import compiles); it adds
in record order, as ``np.bincount`` does, so its sums equal those of :func:`bin_power_curve` and
:func:`power_histogram` to the bit.
"""

from __future__ import annotations

import numba
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
    position = _position(values, first_centre, width)
    with np.errstate(invalid="ignore"):
        outside = ~((position >= 0) & (position < count))  # NaN and +-inf too
    position[outside] = -1
    return position.astype(np.int64)


def clipped_bin_index(values: np.ndarray, first_centre: float, width: float, count: int) -> np.ndarray:
    """Like :func:`bin_index`, but values beyond either end fall into the end bins."""
    position = _position(values, first_centre, width)
    np.fmax(position, 0, out=position)  # NaN goes to 0 too
    np.minimum(position, count - 1, out=position)
    return position.astype(np.int64)


def _position(values: np.ndarray, first_centre: float, width: float) -> np.ndarray:
    """floor((values - first_centre) / width + 0.5), in one new array."""
    position = np.subtract(values, first_centre, dtype=np.float64)
    position /= width
    position += 0.5
    return np.floor(position, out=position)


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


BINNED_SUMS = (
    "count",
    "wind_speed",
    "power",
    "power_squared",
    "power_per_unit",
    "power_per_unit_squared",
    "power_per_area",
)
"""The rows of :func:`binned_sums`'s sums, in order."""


def binned_sums(
    asset: np.ndarray,
    group_of_turbine: np.ndarray,
    n_groups: int,
    ws_bin: np.ndarray,
    n_ws_bins: int,
    power_bin: np.ndarray,
    n_power_bins: int,
    wind_speed: np.ndarray,
    power: np.ndarray,
    power_per_unit: np.ndarray,
    power_per_area: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per group of turbines and wind-speed bin: the method of bins' sums and the power histogram, in one pass.

    Parameters
    ----------
    asset : ndarray of int
        Turbine of each record, an index into ``group_of_turbine``.
    group_of_turbine : ndarray of int
        Group of each turbine; records of a turbine outside [0, n_groups) are ignored.
    n_groups : int
        Number of groups.
    ws_bin : ndarray of int
        Wind-speed bin of each record (:func:`bin_index`); records outside [0, n_ws_bins) are ignored.
    n_ws_bins : int
        Number of wind-speed bins.
    power_bin : ndarray of int
        Normalised-power bin of each record, in [0, n_power_bins) (:func:`clipped_bin_index`).
    n_power_bins : int
        Number of normalised-power bins.
    wind_speed : ndarray
        Wind speed [m/s].
    power : ndarray
        Active power [kW].
    power_per_unit : ndarray
        P / P_rated [-].
    power_per_area : ndarray
        Power per swept area [W/m^2].

    Returns
    -------
    sums : ndarray, shape (7, n_groups, n_ws_bins)
        As :data:`BINNED_SUMS`: record count [-], sum of wind speed [m/s], of power [kW], of squared
        power [kW^2], of P / P_rated [-], of its square [-], of power per area [W/m^2].
    histogram : ndarray, shape (n_groups, n_ws_bins, n_power_bins)
        Records per group, wind-speed bin and power bin [-].
    """
    per_record = (asset, ws_bin, power_bin, wind_speed, power, power_per_unit, power_per_area)
    if len({len(a) for a in per_record}) != 1:
        raise ValueError(f"binned_sums needs one value per record in each array, got {[len(a) for a in per_record]}")
    sums = np.zeros((len(BINNED_SUMS), n_groups, n_ws_bins))
    histogram = np.zeros((n_groups, n_ws_bins, n_power_bins))
    asset = np.ascontiguousarray(asset, dtype=np.int32 if asset.dtype == np.int32 else np.int64)
    bad = _binned_sums_kernel(
        asset,
        *(np.ascontiguousarray(a, dtype=np.int64) for a in (group_of_turbine, ws_bin, power_bin)),
        *(np.ascontiguousarray(a, dtype=np.float64) for a in per_record[3:]),
        sums,
        histogram,
    )
    if bad >= 0:
        raise ValueError(
            f"record {bad}: turbine {asset[bad]} outside group_of_turbine (length {len(group_of_turbine)}) or "
            f"power bin {power_bin[bad]} outside [0, {n_power_bins})"
        )
    return sums, histogram


def _kernel_signature(asset: numba.types.Type) -> numba.core.typing.Signature:
    integers = numba.types.Array(numba.int64, 1, "C", readonly=True)  # inputs may be read-only views
    floats = numba.types.Array(numba.float64, 1, "C", readonly=True)
    grid = numba.float64[:, :, ::1]
    return numba.int64(numba.types.Array(asset, 1, "C", readonly=True), *[integers] * 3, *[floats] * 4, grid, grid)


@numba.njit([_kernel_signature(numba.int64), _kernel_signature(numba.int32)], cache=True, nogil=True)
def _binned_sums_kernel(
    asset: np.ndarray,
    group_of_turbine: np.ndarray,
    ws_bin: np.ndarray,
    power_bin: np.ndarray,
    wind_speed: np.ndarray,
    power: np.ndarray,
    power_per_unit: np.ndarray,
    power_per_area: np.ndarray,
    sums: np.ndarray,
    histogram: np.ndarray,
) -> int:
    """Loop of :func:`binned_sums`: adds each record, in order, to its (group, wind-speed bin) cell.

    Returns -1, or the first record whose turbine or power bin lies outside its array (added nowhere).
    """
    n_groups, n_ws_bins, n_power_bins = histogram.shape
    n_turbines = group_of_turbine.shape[0]
    for i in range(asset.shape[0]):
        t = asset[i]
        if t < 0 or t >= n_turbines or power_bin[i] < 0 or power_bin[i] >= n_power_bins:
            return i
        g = group_of_turbine[t]
        b = ws_bin[i]
        if g < 0 or g >= n_groups or b < 0 or b >= n_ws_bins:
            continue
        p = power[i]
        pu = power_per_unit[i]
        sums[0, g, b] += 1.0
        sums[1, g, b] += wind_speed[i]
        sums[2, g, b] += p
        sums[3, g, b] += p * p
        sums[4, g, b] += pu
        sums[5, g, b] += pu * pu
        sums[6, g, b] += power_per_area[i]
        histogram[g, b, power_bin[i]] += 1.0
    return -1
