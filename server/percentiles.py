"""Percentiles of a binned distribution, and the band a released power-curve bin publishes."""

from __future__ import annotations

import numpy as np

PERCENTILES = (0.10, 0.50, 0.90)  # P10, P50, P90 of P/P_rated in each released bin
P50 = PERCENTILES.index(0.50)


def histogram_percentiles(
    counts: np.ndarray, first_centre: float, width: float, quantiles: tuple[float, ...]
) -> np.ndarray:
    """Quantiles of a binned distribution, interpolating linearly within the bin that holds each.

    The cumulative count is taken as linear across each bin, so a quantile is exact to within
    one bin width. NaN when the histogram is empty.

    Parameters
    ----------
    counts : ndarray
        Counts per bin on the grid.
    first_centre, width : float
        Grid of the bins: bin i is centred on first_centre + i * width.
    quantiles : tuple of float
        Quantiles in [0, 1].
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return np.full(len(quantiles), np.nan)
    cumulative = np.concatenate(([0.0], np.cumsum(counts)))
    lower_edges = first_centre - width / 2 + width * np.arange(len(counts) + 1)
    targets = np.asarray(quantiles) * total
    # First bin whose upper cumulative count reaches the target, skipping empty bins.
    j = np.clip(np.searchsorted(cumulative[1:], targets, side="left"), 0, len(counts) - 1)
    fraction = np.where(counts[j] > 0, (targets - cumulative[j]) / np.where(counts[j] > 0, counts[j], 1.0), 0.0)
    return np.asarray(lower_edges[j] + np.clip(fraction, 0.0, 1.0) * width)
