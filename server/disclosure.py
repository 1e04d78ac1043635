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
