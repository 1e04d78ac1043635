"""The runs kernel: which records continue a run, and which runs are long, against runs read off by hand."""

from __future__ import annotations

import numpy as np
import pytest

from client.runs import continues_run, long_run_context, long_runs


def test_a_run_continues_within_one_asset_and_the_tolerance_and_never_through_nan():
    asset = np.array([0, 0, 0, 0, 1, 1, 1])
    values = np.array([2.0, 2.0, 2.1, np.nan, 2.1, 2.1, 2.15])
    np.testing.assert_array_equal(continues_run(asset, values), [0, 1, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(continues_run(asset, values, atol=0.11), [0, 1, 1, 0, 0, 1, 1])


@pytest.mark.parametrize("min_run", [2, 3, 5])
def test_long_runs_flag_whole_runs_and_judge_each_record_from_its_context(min_run):
    # Runs of 1, 2, 3, 4 and 5 records, one after the other.
    lengths = [1, 2, 3, 4, 5]
    continues = np.concatenate([[False] + [True] * (k - 1) for k in lengths])
    expected = np.concatenate([[k >= min_run] * k for k in lengths])
    np.testing.assert_array_equal(long_runs(continues, min_run), expected)
    context = long_run_context(min_run)
    for k in range(len(continues)):  # a record's flag from its neighbours within the context alone
        low, high = max(k - context, 0), min(k + context + 1, len(continues))
        window = continues[low:high].copy()
        window[0] = False
        assert long_runs(window, min_run)[k - low] == expected[k]
