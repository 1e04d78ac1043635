"""Percentiles of a binned distribution."""

from __future__ import annotations

import numpy as np
import pytest

from server.percentiles import histogram_percentiles


def test_histogram_percentiles_by_hand():
    # 10 records: 4 in [0, 1), 6 in [1, 2). The median (target 5) is 1/6 into the second bin.
    counts = np.array([4, 6, 0])
    p10, p50, p90 = histogram_percentiles(counts, 0.5, 1.0, (0.1, 0.5, 0.9))
    assert p10 == pytest.approx(0.25)
    assert p50 == pytest.approx(1.0 + 1 / 6)
    assert p90 == pytest.approx(1.0 + 5 / 6)
    # Empty bins are skipped: a quantile never lands in a bin with no records.
    assert histogram_percentiles(np.array([0, 5, 0, 5]), 0.5, 1.0, (0.5,))[0] == pytest.approx(2.0)
    assert np.isnan(histogram_percentiles(np.zeros(3), 0.5, 1.0, (0.5,))).all()
