"""Statistical disclosure control of released cells."""

from __future__ import annotations

import numpy as np


def below_k_operators(operator_counts: np.ndarray, k_min_operators: int) -> np.ndarray:
    """True for cells that some, but fewer than ``k_min_operators``, operators contributed to.

    Such cells are suppressed: their statistics are withheld and the cell is marked. Cells no
    operator contributed to hold no data and are not suppressed.

    Parameters
    ----------
    operator_counts : ndarray of int
        Number of contributing operators per cell, from the securely summed indicator blocks.
    k_min_operators : int
        Minimum number of operators for a released cell.
    """
    counts = np.asarray(operator_counts)
    return (counts > 0) & (counts < k_min_operators)


def largest_share_bound(sum_of_squares: np.ndarray, total: np.ndarray, contributors: np.ndarray) -> np.ndarray:
    """Tightest upper bound on the largest operator's share of a cell, from securely summed values.

    With n contributors whose contributions c_i sum to C, the Herfindahl index is
    H = sum(c_i^2) / C^2, and the largest share s obeys H <= s <= sqrt(H). Knowing n tightens the
    upper bound: s is largest when the other n - 1 shares are equal, so s^2 + (1 - s)^2 / (n - 1)
    <= H, whose largest root is s* = (1 + sqrt((n - 1) (n H - 1))) / n. s* equals the true share
    when the others are equal (e.g. 1/n for n equal operators) and 1 for a single contributor.

    Parameters
    ----------
    sum_of_squares : ndarray
        sum_i c_i^2 per cell.
    total : ndarray
        C = sum_i c_i per cell.
    contributors : ndarray of int
        n per cell.

    Returns
    -------
    ndarray
        s* per cell in [0, 1]; NaN where the cell is empty.
    """
    total = np.asarray(total, dtype=np.float64)
    n = np.asarray(contributors, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        herfindahl = np.asarray(sum_of_squares, dtype=np.float64) / total**2
        bound = (1.0 + np.sqrt(np.maximum((n - 1.0) * (n * herfindahl - 1.0), 0.0))) / n
    return np.where(total > 0, np.clip(bound, 0.0, 1.0), np.nan)


def dominated(sum_of_squares: np.ndarray, total: np.ndarray, contributors: np.ndarray, max_share: float) -> np.ndarray:
    """True for cells whose largest operator share may exceed ``max_share`` (the dominance rule).

    Parameters
    ----------
    max_share : float
        p of the rule: the largest share a released cell may have.
    """
    bound = largest_share_bound(sum_of_squares, total, contributors)
    # A hair of tolerance: equal shares give s* = p exactly up to rounding.
    return np.nan_to_num(bound, nan=0.0) > max_share + 1e-12
