"""Sums that cannot be: a cell whose secure sum contradicts its census, or itself, is not published.

A broken or malicious site can add anything within its per-site bounds to a secure sum, and
SecAgg+ hides who did. What needs no trust and reveals nothing the release does not: the values
round sums the census's sites, so every published cell must hold the records and operators its
census counted, and its sums must be sums of physical records (a bin's power histogram holds its
records; its mean wind speed lies inside the bin; its power sums are those of powers within
protos/domain.py's bounds, with a non-negative variance). A published cell that fails is
suppressed with that reason, for every reader to see; which site sent what stays unknown.

What this cannot catch is garbage that is possible: a site shifting its powers within the bounds
moves the published mean (docs/privacy.md, "What does not hold").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction

import numpy as np

from protos.census import CohortCells, Decision
from protos.disclosure import cohort_atoms
from protos.domain import MAX_ABS_POWER
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey, CensusFields, statistic

S = spec_pb2.Statistic


def without_impossible_cells(
    spec: spec_pb2.BenchmarkSpec,
    totals: Mapping[BlockKey, np.ndarray],
    census: Mapping[BlockKey, np.ndarray],
    decision: Decision,
) -> Decision:
    """``decision`` with every published round-1 cell whose decoded sums are impossible suppressed.

    Parameters
    ----------
    spec : BenchmarkSpec
        A round-1 values spec without privacy (noisy sums are not exact: they are not checked).
    totals : mapping
        Block key -> the decoded fixed-point totals (Python ints), :func:`server.publish.decoded_totals`.
    census : mapping
        The census's totals (:func:`protos.census.census_totals`).
    decision : Decision
        The census's decision.

    Returns
    -------
    Decision
        With failing cohorts (operators other than the census's) and bins (records, operators,
        histogram, wind speed or power impossible) unpublished, each with its reason.
    """
    if spec.HasField("privacy") or not decision.bins.published.size:
        return decision
    n_atoms = len(cohort_atoms(spec.cohorts))
    cohort_census = CensusFields(*census[BlockKey("", S.COHORT_CENSUS)])
    bin_census = CensusFields(*census[BlockKey("", S.CURVE_CENSUS)])
    cohorts_published = decision.cohorts.published.copy()
    bins_published = decision.bins.published.copy()
    cohort_reasons, bin_reasons = dict(decision.cohorts.reasons), dict(decision.bins.reasons)
    for c, cohort in enumerate(spec.cohorts):
        if not cohorts_published[c, 0]:
            continue
        block = {checked: totals[BlockKey(cohort.name, checked)] for checked in _CHECKED}
        operators = int(block[S.COHORT_CONTRIBUTOR][0])
        expected = int(cohort_census.contributor[n_atoms + c])
        if operators != expected:
            why = f"impossible sum: {operators} operators in the values round, {expected} in its census"
            cohorts_published[c, 0], cohort_reasons[c, 0] = False, why
            for b in np.flatnonzero(bins_published[c]).tolist():
                bins_published[c, b], bin_reasons[c, b] = False, "its cohort is suppressed"
            continue
        for b in np.flatnonzero(bins_published[c]).tolist():
            row = n_atoms + c  # the cohort's own census row
            why = _impossible_bin(spec, block, b, int(bin_census.total[row, b]), int(bin_census.contributor[row, b]))
            if why:
                bins_published[c, b], bin_reasons[c, b] = False, f"impossible sum: {why}"
    return replace(
        decision,
        cohorts=CohortCells(cohorts_published, decision.cohorts.filled, cohort_reasons),
        bins=CohortCells(bins_published, decision.bins.filled, bin_reasons),
    )


_CHECKED = (
    S.COHORT_CONTRIBUTOR,
    S.BIN_CONTRIBUTOR,
    S.RECORD_COUNT,
    S.NORMALISED_POWER_HISTOGRAM,
    S.SUM_WIND_SPEED,
    S.SUM_POWER,
    S.SUM_POWER_SQUARED,
)


def _impossible_bin(
    spec: spec_pb2.BenchmarkSpec,
    block: Mapping[spec_pb2.Statistic, np.ndarray],
    b: int,
    census_records: int,
    census_operators: int,
) -> str:
    """Why bin ``b`` of one cohort's decoded sums cannot be the sum of its census's records, or ""."""
    records = int(block[S.RECORD_COUNT][b])
    if records != census_records:
        return f"{records} records in the values round, {census_records} in its census"
    operators = int(block[S.BIN_CONTRIBUTOR][b])
    if operators != census_operators:
        return f"{operators} operators in the values round, {census_operators} in its census"
    in_histogram = sum(int(n) for n in block[S.NORMALISED_POWER_HISTOGRAM][b])
    if in_histogram != records:
        return f"its power histogram holds {in_histogram} records, its count {records}"
    grid = spec.wind_speed_bins
    low = Fraction(grid.first_centre) + (b - Fraction(1, 2)) * Fraction(grid.width)
    sum_ws = _real(block, S.SUM_WIND_SPEED, b)
    slack = records * _unit(S.SUM_WIND_SPEED)  # each record's wind speed was rounded to the fixed point
    if not records * low - slack <= sum_ws <= records * (low + Fraction(grid.width)) + slack:
        return f"mean wind speed {float(sum_ws / records):.3f} m/s outside its bin"
    sum_p, sum_p2 = _real(block, S.SUM_POWER, b), _real(block, S.SUM_POWER_SQUARED, b)
    most = records * Fraction(MAX_ABS_POWER)
    p_slack = records * _unit(S.SUM_POWER)
    p2_slack = records * _unit(S.SUM_POWER_SQUARED)
    if abs(sum_p) > most + p_slack or sum_p2 > most * Fraction(MAX_ABS_POWER) + p2_slack:
        return f"mean power beyond {MAX_ABS_POWER:g} kW, the largest a record may carry"
    # n sum(p^2) >= (sum p)^2 for any records (Cauchy-Schwarz), up to the rounding of both sums.
    if records * sum_p2 < sum_p * sum_p - (records * p2_slack + 2 * most * p_slack + p_slack * p_slack):
        return "its squared powers sum to less than its powers allow (a negative variance)"
    return ""


def _unit(value: spec_pb2.Statistic) -> Fraction:
    """One unit of ``value``'s fixed point: the most rounding one record adds to its sum (doubled, to be safe)."""
    return Fraction(2, 2 ** statistic(value).scale_exponent)


def _real(block: Mapping[spec_pb2.Statistic, np.ndarray], value: spec_pb2.Statistic, b: int) -> Fraction:
    """Element ``b`` of a decoded fixed-point block, exactly."""
    return Fraction(int(block[value][b]), 2 ** statistic(value).scale_exponent)
