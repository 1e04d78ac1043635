"""The census: its spec, its message, the decision both ends take from it, and what the values may carry."""

from __future__ import annotations

import numpy as np
import pytest

from protos import commitment
from protos.census import (
    CARRIED,
    COMMITMENT_RANDOMNESS,
    CensusMismatch,
    census_message,
    census_spec,
    census_totals,
    decide,
    values_spec_of,
    withhold_failing_cells,
)
from protos.codec import block_layouts, spec_sha256
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey
from server.spec import PrivacySettings, band_cohort, indicator_spec, power_curve_spec

S = spec_pb2.Statistic
JANUARY = ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")
SPEC = power_curve_spec("p", *JANUARY, ["A", "B", "C", band_cohort((1500.0, 3000.0))])
ATOMS = cohort_atoms(SPEC.cohorts)


def _census_block(per_atom_operators: dict[tuple[int, ...], list[float]], cells: int) -> np.ndarray:
    """A census block (3, atoms + cohorts, cells) from each atom's per-operator totals, the same in every cell.

    Each operator of an atom is an operator of its own (none runs turbines in two atoms), so a
    cohort's rows are its atoms' operators together.
    """
    n = len(SPEC.cohorts)
    block = np.zeros((3, len(ATOMS) + n, cells))
    for atom, totals in per_atom_operators.items():
        for row in (ATOMS.index(atom), *(len(ATOMS) + c for c in atom)):
            block[0, row] += len(totals)
            block[1, row] += sum(totals)
            block[2, row] += sum(t * t for t in totals)
    return block


def _round_one_totals(per_atom_operators):
    n_bins = SPEC.wind_speed_bins.count
    totals = {
        BlockKey("", S.COHORT_CENSUS): _census_block(per_atom_operators, 1)[..., 0],
        BlockKey("", S.CURVE_CENSUS): _census_block(per_atom_operators, n_bins),
    }
    for model in SPEC.models:
        totals[BlockKey("", S.TRAINING_CENSUS, model.target)] = _census_block(per_atom_operators, 1)[..., 0]
    return totals


def test_a_census_spec_holds_the_census_blocks_of_the_spec_it_decides():
    census = census_spec(SPEC)
    assert census.census_of_sha256 == spec_sha256(SPEC) and values_spec_of(census).cohorts == SPEC.cohorts
    names = [layout.name for layout in block_layouts(census)]
    randomness = "CENSUS_COMMITMENT_RANDOMNESS"  # each site's commitment randomness, last (protos/commitment.py)
    assert names == ["COHORT_CENSUS", "CURVE_CENSUS", *(f"TRAINING_CENSUS:{m.target}" for m in SPEC.models), randomness]
    curve = next(layout for layout in block_layouts(census) if layout.statistic == S.CURVE_CENSUS)
    assert curve.shape == (3, len(ATOMS) + len(SPEC.cohorts), SPEC.wind_speed_bins.count)
    private = census_spec(power_curve_spec("q", *JANUARY, ["A"], privacy=PrivacySettings(1.0)))
    assert [layout.name for layout in block_layouts(private)] == ["COHORT_CENSUS", "CURVE_CENSUS", randomness]
    round_two = census_spec(indicator_spec(SPEC, "0" * 64))
    names = [layout.name for layout in block_layouts(round_two)]
    assert names == ["INDICATOR_CENSUS", "AGE_BAND_CENSUS", "MONTHLY_CENSUS", randomness]


def test_the_census_message_carries_exact_totals_and_is_bound_to_its_spec():
    census = census_spec(SPEC)
    totals = _round_one_totals({(0, 3): [100, 100, 100]})
    exact = {key: np.array(value, dtype=object) for key, value in totals.items()}
    exact[COMMITMENT_RANDOMNESS] = np.zeros(commitment.RANDOMNESS_LIMBS, dtype=object)
    message = census_message(census, exact, participants=3)
    for key, value in census_totals(message, SPEC).items():
        np.testing.assert_array_equal(value, totals[key])
    other = power_curve_spec("other", *JANUARY, ["A", "B", "C", band_cohort((1500.0, 3000.0))])
    with pytest.raises(CensusMismatch, match="not taken for spec other"):
        census_totals(message, other)
    del message.totals[-1].values[-1]
    with pytest.raises(CensusMismatch, match="values, not"):
        census_totals(message, SPEC)


def test_the_decision_suppresses_a_rare_model_and_what_would_isolate_it_in_every_bin():
    totals = _round_one_totals({(0, 3): [100] * 3, (1, 3): [90, 80, 70], (2, 3): [50, 40]})
    decision = decide(SPEC, totals)
    # C has two operators; without it the band holds only C's turbines beyond A's and B's: band - A - B = C.
    assert decision.cohorts.published[:, 0].tolist() == [True, True, False, False]
    assert decision.cohorts.reasons[2, 0] == "fewer than 3 operators"
    assert decision.cohorts.reasons[3, 0].startswith("linked to other published cohorts")
    assert decision.bins.published.all(axis=1).tolist() == [True, True, False, False]
    assert decision.bins.reasons[2, 10] == decision.bins.reasons[3, 10] == "its cohort is suppressed"
    assert decision.suppressed_cells == 2 + 2 * SPEC.wind_speed_bins.count + 2 * len(SPEC.models)


@pytest.mark.parametrize(
    "spec",
    [SPEC, power_curve_spec("q", *JANUARY, ["A"], privacy=PrivacySettings(1.0)), indicator_spec(SPEC, "0" * 64)],
    ids=["round 1", "private", "round 2"],
)
def test_every_values_block_belongs_to_cells_of_the_decision(spec):
    escaped = {layout.name for layout in block_layouts(spec) if layout.statistic not in CARRIED}
    assert escaped == set()


def test_a_site_sends_zeros_for_every_element_of_a_failing_cell():
    totals = _round_one_totals({(0, 3): [100] * 3, (1, 3): [90, 80, 70], (2, 3): [50, 40]})
    decision = decide(SPEC, totals)
    values = {layout.key: np.ones(layout.shape) for layout in block_layouts(SPEC)}
    carried = withhold_failing_cells(values, SPEC, decision)
    for key, value in carried.items():
        expected = 1.0 if key.cohort in ("A", "B") else 0.0
        assert np.all(value == expected), key
    with pytest.raises(ValueError, match="belongs to no disclosure-control cell"):
        withhold_failing_cells({BlockKey("A", S.CURVE_CENSUS): np.ones(3)}, SPEC, decision)
