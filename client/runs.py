"""Runs of consecutive records: the pure kernel behind the wind frozen-sensor filter and the solar stuck-value masks.

A *run* is a record and the records after it that continue it (same asset, next in time order,
a value equal to the one before). A reading that stays put for many records is a frozen sensor or
a stuck logger, not the weather; :func:`long_runs` flags every record of a run at least
``min_run`` records long. Records must be sorted by asset, then time.
"""

from __future__ import annotations

import numpy as np


def continues_run(asset_index: np.ndarray, values: np.ndarray, atol: float = 0.0) -> np.ndarray:
    """Whether each record continues the run of the record before it.

    Record k continues the run when it belongs to the same asset as record k - 1 and
    |x_k - x_(k-1)| <= ``atol`` (in the values' unit); NaN never continues nor is continued.
    The first record starts a run.

    Parameters
    ----------
    asset_index : ndarray of int
        Each record's asset (records sorted by asset, then time).
    values : ndarray
        The channel's values, in any unit.
    atol : float
        Largest step between consecutive values that still counts as unchanged, in the values' unit;
        0 asks for identical values.

    Returns
    -------
    ndarray of bool
        True where a record continues the run of the one before it.
    """
    continues = np.zeros(len(values), dtype=bool)
    same_asset = asset_index[1:] == asset_index[:-1]
    if atol == 0.0:
        continues[1:] = same_asset & (values[1:] == values[:-1])
    else:
        with np.errstate(invalid="ignore"):
            continues[1:] = same_asset & (np.abs(values[1:] - values[:-1]) <= atol)
    return continues


def long_runs(continues: np.ndarray, min_run: int) -> np.ndarray:
    """Flag every record of a run of at least ``min_run`` records.

    ``continues[k]`` says record k continues the run of record k - 1 (:func:`continues_run`;
    ``continues[0]`` is not read). A record's flag depends on the ``min_run - 1`` records either
    side of it only (:func:`long_run_context`), so records can be judged in slices. Vectorised:
    O(n log min_run).
    """
    n = len(continues)
    if min_run <= 1:
        return np.ones(n, dtype=bool)
    if n < min_run:
        return np.zeros(n, dtype=bool)
    # Record k + j continues the run of record k + j - 1, for j = 1 .. min_run - 1: records k .. k + min_run - 1
    # are one run. A record is flagged when such a window of min_run records starts within min_run - 1 before it.
    window_in_run = _sliding_all(continues[1:], min_run - 1)
    none = np.zeros(min_run - 1, dtype=bool)
    return _sliding_any(np.concatenate([none, window_in_run, none]), min_run)


def long_run_context(min_run: int) -> int:
    """Records either side of a record that decide its :func:`long_runs` flag: min_run - 1.

    A record lies in a run of at least m records exactly when some m consecutive records around
    it, all within m - 1 of it, are one run; records farther away cannot change its flag.
    """
    return max(min_run - 1, 0)


def _sliding_all(x: np.ndarray, width: int) -> np.ndarray:
    """out[k] = x[k : k + width].all(), for k = 0 .. len(x) - width (width >= 1), by doubling spans."""
    out, span = x, 1
    while span * 2 <= width:
        out, span = out[:-span] & out[span:], span * 2
    if span < width:
        length = len(x) - width + 1
        out = out[:length] & out[width - span : width - span + length]
    return out


def _sliding_any(x: np.ndarray, width: int) -> np.ndarray:
    """out[k] = x[k : k + width].any(), for k = 0 .. len(x) - width (width >= 1), by doubling spans."""
    return ~_sliding_all(~x, width)
