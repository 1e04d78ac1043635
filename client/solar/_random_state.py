"""numpy's global random state, which RdTools draws from, seeded from a caller's Generator."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np


@contextlib.contextmanager
def seeded_global_random_state(rng: np.random.Generator) -> Iterator[None]:
    """Seed numpy's global random state from ``rng`` for the block, then restore the caller's state.

    RdTools' bootstraps and Monte Carlo draws call ``np.random`` directly (rdtools/degradation.py,
    rdtools/soiling.py); this makes them reproducible from ``rng`` and leaves the global state as it
    was. Not thread-safe: the global state is shared by every thread.
    """
    saved = np.random.get_state()
    np.random.seed(int(rng.integers(2**32, dtype=np.uint64)))
    try:
        yield
    finally:
        np.random.set_state(saved)
