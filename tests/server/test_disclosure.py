from __future__ import annotations

import numpy as np

from server.disclosure import below_k_operators


def test_cells_with_some_but_fewer_than_k_operators_are_suppressed():
    np.testing.assert_array_equal(below_k_operators(np.array([0, 1, 2, 3, 4]), 3), [False, True, True, False, False])
    assert not below_k_operators(np.array([1]), 1).any()
