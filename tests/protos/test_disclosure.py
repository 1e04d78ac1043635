"""Disclosure control over linked cohorts: atoms, classes, and secondary suppression, by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from protos.disclosure import (
    CellCensus,
    atom_index,
    below_k_operators,
    cohort_atoms,
    decide_cell,
    dominated,
    iec_wind_class_matches,
    largest_share_bound,
    turbine_in_cohort,
)
from protos.fleetbench.v1 import spec_pb2


def _model(name: str) -> spec_pb2.Cohort:
    return spec_pb2.Cohort(name=name, turbine_model=name)


def _band(low: float, high: float, iec: str = "") -> spec_pb2.Cohort:
    return spec_pb2.Cohort(name=f"{low}-{high}", rated_power_kw_min=low, rated_power_kw_max=high, iec_wind_class=iec)


def _census(atoms, per_atom: dict[tuple[int, ...], list[float]]) -> CellCensus:
    """Per-atom census from each atom's per-operator totals (operators' own totals in the atom)."""
    rows = [per_atom.get(members, []) for members in atoms]
    return CellCensus(
        contributors=np.array([len(r) for r in rows]),
        totals=np.array([sum(r) for r in rows], dtype=float),
        squares=np.array([sum(x * x for x in r) for r in rows], dtype=float),
    )


def test_cells_with_some_but_fewer_than_k_operators_are_suppressed():
    np.testing.assert_array_equal(below_k_operators(np.array([0, 1, 2, 3, 4]), 3), [False, True, True, False, False])
    assert not below_k_operators(np.array([1]), 1).any()


def test_largest_share_bound_is_exact_for_equal_others_and_one_for_a_single_operator():
    # 600 + 100 + 100: H = (360000 + 20000) / 640000; s* = 600 / 800 exactly.
    assert largest_share_bound(np.array([380000.0]), np.array([800.0]), np.array([3]))[0] == pytest.approx(0.75)
    assert largest_share_bound(np.array([25.0]), np.array([5.0]), np.array([1]))[0] == 1.0
    assert dominated(np.array([380000.0]), np.array([800.0]), np.array([3]), 0.6)[0]


def test_atoms_are_the_sets_of_cohorts_one_turbine_can_be_in():
    cohorts = [_model("A"), _model("B"), _band(1500, 3000), _band(1500, 2350), _band(3000, 0)]
    atoms = cohort_atoms(cohorts)
    # One model at most; [1500, 3000) and [3000, inf) never meet; [1500, 2350) lies in [1500, 3000).
    assert (0, 1) not in atoms and (2, 4) not in atoms and (3, 4) not in atoms
    assert {(0,), (2,), (0, 2), (0, 2, 3), (2, 3), (1, 4)} <= set(atoms)
    assert all(list(a) == sorted(a) for a in atoms) and len(set(atoms)) == len(atoms)
    memberships = np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [0, 1, 0, 0, 1]], dtype=bool)
    assert atom_index(memberships, atoms).tolist() == [atoms.index((0, 2, 3)), -1, atoms.index((1, 4))]
    with pytest.raises(ValueError, match="no atom"):
        atom_index(np.array([[1, 1, 0, 0, 0]], dtype=bool), atoms)


def test_iec_wind_class_matches_the_class_exactly_not_by_prefix():
    assert iec_wind_class_matches("I", "IA") and iec_wind_class_matches("II", "II")
    assert not iec_wind_class_matches("I", "IIA") and not iec_wind_class_matches("I", "III")
    assert not iec_wind_class_matches("II", "IIIB") and iec_wind_class_matches("", "IIIB")


def test_a_rare_model_inside_a_band_suppresses_what_would_isolate_it():
    # Models A, B (3 operators each) and C (2 operators), all inside one band, k = 3: band - A - B = C.
    cohorts = [_model("A"), _model("B"), _model("C"), _band(1500, 3000)]
    atoms = cohort_atoms(cohorts)
    census = _census(atoms, {(0, 3): [100, 100, 100], (1, 3): [90, 80, 70], (2, 3): [50, 40]})
    decision = decide_cell(atoms, census, np.ones(4, dtype=bool), 3, 0.6, "records")
    assert decision.published.tolist() == [True, True, False, False]
    assert decision.reasons[2] == "fewer than 3 operators"
    assert decision.reasons[3].startswith("linked to other published cohorts")
    # Whatever is published, no combination of published cells isolates C's atom.
    _assert_no_published_combination_isolates(atoms, decision, census, k=3)


def test_a_rare_model_still_counts_in_its_band_when_the_band_covers_it():
    # As above, with band-only turbines of 2 more operators: C merges into the band's class {band}.
    cohorts = [_model("A"), _model("B"), _model("C"), _band(1500, 3000)]
    atoms = cohort_atoms(cohorts)
    census = _census(atoms, {(0, 3): [100] * 3, (1, 3): [90, 80, 70], (2, 3): [50, 40], (3,): [60, 60, 60]})
    decision = decide_cell(atoms, census, np.ones(4, dtype=bool), 3, 0.6, "records")
    assert decision.published.tolist() == [True, True, False, True]


def test_two_nested_bands_do_not_isolate_their_difference():
    # [1500, 3000) and [1500, 2350): their difference holds one operator.
    cohorts = [_band(1500, 3000), _band(1500, 2350)]
    atoms = cohort_atoms(cohorts)
    census = _census(atoms, {(0, 1): [100, 100, 100], (0,): [30]})
    decision = decide_cell(atoms, census, np.ones(2, dtype=bool), 3, 0.6, "records")
    assert decision.published.tolist() == [False, True]
    _assert_no_published_combination_isolates(atoms, decision, census, k=3)


def test_dominance_applies_to_classes_too():
    cohorts = [_model("A"), _band(1500, 3000)]
    atoms = cohort_atoms(cohorts)
    # The band-only part has 3 operators but one holds 90 % of it.
    census = _census(atoms, {(0, 1): [100, 100, 100], (1,): [900, 50, 50]})
    decision = decide_cell(atoms, census, np.ones(2, dtype=bool), 3, 0.6, "records")
    assert decision.published.tolist() == [True, False]


def test_a_suppressed_cohort_publishes_no_cell_and_says_so():
    cohorts = [_model("A"), _model("B")]
    atoms = cohort_atoms(cohorts)
    census = _census(atoms, {(0,): [1, 1, 1], (1,): [1, 1, 1]})
    decision = decide_cell(atoms, census, np.array([True, False]), 3, 0.6, "records")
    assert decision.published.tolist() == [True, False] and decision.reasons == {1: "its cohort is suppressed"}


def _assert_no_published_combination_isolates(atoms, decision, census: CellCensus, k: int) -> None:
    """Brute force over atom sets: a set of atoms whose indicator lies in the span of published cells passes k."""
    published = np.flatnonzero(decision.published)
    if not len(published):
        return
    filled = np.flatnonzero(census.totals > 0)
    cells = np.array([[c in atoms[a] for a in filled] for c in published], dtype=float)
    rank = np.linalg.matrix_rank(cells)
    for size in range(1, len(filled) + 1):
        for chosen in itertools.combinations(range(len(filled)), size):
            vector = np.zeros(len(filled))
            vector[list(chosen)] = 1.0
            if np.linalg.matrix_rank(np.vstack([cells, vector])) == rank:  # computable from published cells
                assert census.contributors[filled[list(chosen)]].max() >= k, [atoms[filled[i]] for i in chosen]


def test_a_spec_of_many_overlapping_bands_is_refused_before_its_atoms_are_listed():
    bands = [_band(1000.0 + i, 0) for i in range(40)]  # 2^40 - 1 sets of cohorts a turbine could be in
    with pytest.raises(ValueError, match="more than 4096 atoms"):
        cohort_atoms(bands)


def test_a_class_that_is_a_whole_cohort_is_judged_on_the_cohorts_exact_numbers():
    # Three models of one operator each, all in the band: every model fails k, and the band's class is
    # its three atoms together. From its atoms alone the band's operators are bounded below by 1; its
    # own row (the cohort's operators together) says 3.
    cohorts = [_model("A"), _model("B"), _model("C"), _band(1500, 3000)]
    atoms = cohort_atoms(cohorts)
    census = _census(atoms, {(0, 3): [100.0], (1, 3): [90.0], (2, 3): [80.0]})
    band = CellCensus(
        contributors=np.array([1, 1, 1, 3]),
        totals=np.array([100.0, 90, 80, 270]),
        squares=np.array([1e4, 8100, 6400, 1e4 + 8100 + 6400]),
    )
    without = decide_cell(atoms, census, np.ones(4, dtype=bool), 3, 0.6, "records")
    assert not without.published.any()  # the conservative bound
    exact = decide_cell(atoms, census, np.ones(4, dtype=bool), 3, 0.6, "records", cohort_census=band)
    assert exact.published.tolist() == [False, False, False, True]
    _assert_no_published_combination_isolates(atoms, exact, census, k=1)


def test_turbines_of_one_wind_speed_reference_only_share_a_cohort():
    nacelle, mast = _model("A"), _model("A")
    mast.name, mast.wind_speed_reference = "A [mast]", spec_pb2.MET_MAST
    band_mast = _band(1500, 3000)
    band_mast.wind_speed_reference = spec_pb2.MET_MAST
    # A mast-measured turbine of model A is in the mast cohorts only; a nacelle one in the nacelle cohort only.
    args = ("A", 2300.0, 435.0, "")
    assert turbine_in_cohort(nacelle, *args, spec_pb2.NACELLE_ANEMOMETER)
    assert not turbine_in_cohort(mast, *args, spec_pb2.NACELLE_ANEMOMETER)
    assert turbine_in_cohort(mast, *args, spec_pb2.MET_MAST) and turbine_in_cohort(band_mast, *args, spec_pb2.MET_MAST)
    assert not turbine_in_cohort(nacelle, *args, spec_pb2.NACELLE_TRANSFER_FUNCTION)
    # No atom joins cohorts of two references, so no census cell ever sums them together.
    atoms = cohort_atoms([nacelle, mast, band_mast])
    assert set(atoms) == {(0,), (1,), (2,), (1, 2)}
