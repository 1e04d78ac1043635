"""The disclosure rule with linked suppression switched off: the control of the differencing attacks."""

from __future__ import annotations

import numpy as np

from protos.disclosure import CellCensus, CellDecision


def per_cohort_rule(
    atoms,
    census: CellCensus,
    candidates,
    k_min_operators: int,
    dominance_max_share: float,
    unit: str,
    cohort_census: CellCensus | None = None,
) -> CellDecision:
    """The rule before the census (a test-only stand-in for decide_cell): each cohort alone, by k on its operators."""
    published = np.asarray(candidates, dtype=bool) & (cohort_census.contributors >= k_min_operators)
    reasons = {c: "fewer than k operators in the cohort alone" for c in np.flatnonzero(~published).tolist()}
    return CellDecision(published, reasons)
