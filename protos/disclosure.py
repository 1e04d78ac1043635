"""Disclosure control both ends compute: which cells of linked tables may be published.

A published cell (a wind-speed bin of a cohort's curve, a cohort's model, its distributions, a
failure-rate cell) must not let anyone isolate fewer than k operators, or an operator holding more
than a share p of the cell, by any combination of published cells. Cohorts overlap (a turbine model
and the rated-power band around it), so cells of different cohorts are linked: band - model A -
model B is the rest of the band. The rule works on *atoms*, the sets of turbines with the same
cohort memberships: every published cohort cell is a sum of atom cells. The cohorts still published
in a cell split its atoms into *classes* (atoms no published cohort tells apart); any combination
of published cells is a combination of class cells. A cell is safe when every class passes k and
dominance; while one fails, a cohort holding it is suppressed (secondary suppression, as tau-ARGUS
and sdcTable do for linked tables), which merges the class with its neighbours or drops it.

Every site receives the census (the securely summed disclosure-control inputs per atom) and runs
the same decision, so no site sends values for a cell that fails, whatever the aggregator says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from protos.fleetbench.v1 import spec_pb2

IEC_WIND_CLASSES = ("I", "II", "III", "IV", "S")
"""IEC 61400-1 wind classes a cohort may name; a turbine's class may carry a turbulence letter (IIA, IIIB)."""
SHARE_TOLERANCE = 1e-12
"""Equal shares give s* = p up to rounding: a hair of tolerance on the dominance rule."""


def below_k_operators(operator_counts: np.ndarray, k_min_operators: int) -> np.ndarray:
    """True for cells that some, but fewer than ``k_min_operators``, operators contributed to.

    Cells no operator contributed to hold no data and are not suppressed.

    Parameters
    ----------
    operator_counts : ndarray of int
        Number of contributing operators per cell.
    k_min_operators : int
        Minimum number of operators for a released cell.
    """
    counts = np.asarray(operator_counts)
    return (counts > 0) & (counts < k_min_operators)


def largest_share_bound(sum_of_squares: np.ndarray, total: np.ndarray, contributors: np.ndarray) -> np.ndarray:
    """Tightest upper bound on the largest operator's share of a cell, from securely summed values.

    With n contributors whose contributions c_i sum to C, the Herfindahl index is
    H = sum(c_i^2) / C^2, and the largest share s obeys H <= s <= sqrt(H). Knowing n tightens the
    upper bound: s is largest when the other n - 1 shares are equal, so s^2 + (1 - s)^2 / (n - 1)
    <= H, whose largest root is s* = (1 + sqrt((n - 1) (n H - 1))) / n. s* equals the true share
    when the others are equal (e.g. 1/n for n equal operators) and 1 for a single contributor.

    Parameters
    ----------
    sum_of_squares : ndarray
        sum_i c_i^2 per cell.
    total : ndarray
        C = sum_i c_i per cell.
    contributors : ndarray of int
        n per cell.

    Returns
    -------
    ndarray
        s* per cell in [0, 1]; NaN where the cell is empty.
    """
    total = np.asarray(total, dtype=np.float64)
    n = np.asarray(contributors, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        herfindahl = np.asarray(sum_of_squares, dtype=np.float64) / total**2
        bound = (1.0 + np.sqrt(np.maximum((n - 1.0) * (n * herfindahl - 1.0), 0.0))) / n
    return np.where(total > 0, np.clip(bound, 0.0, 1.0), np.nan)


def dominated(sum_of_squares: np.ndarray, total: np.ndarray, contributors: np.ndarray, max_share: float) -> np.ndarray:
    """True for cells whose largest operator share may exceed ``max_share`` (the dominance rule).

    Parameters
    ----------
    sum_of_squares, total, contributors : ndarray
        As :func:`largest_share_bound` takes them.
    max_share : float
        p of the rule: the largest share a released cell may have.
    """
    bound = largest_share_bound(sum_of_squares, total, contributors)
    return np.asarray(np.nan_to_num(bound, nan=0.0) > max_share + SHARE_TOLERANCE)


def iec_wind_class_matches(cohort_class: str, turbine_class: str) -> bool:
    """Whether a turbine of IEC 61400-1 class ``turbine_class`` (e.g. "IIA") is in a cohort of ``cohort_class``.

    The cohort names the class ("II"); the turbine's class may add a turbulence category (A, B, C).
    "I" matches "I", "IA", "IB" but not "II" or "IIIA". An empty cohort class matches every turbine.
    """
    if not cohort_class:
        return True
    return turbine_class.rstrip("ABC+") == cohort_class


def _intervals_overlap(low_a: float, high_a: float, low_b: float, high_b: float) -> bool:
    """Whether [low, high) intervals meet, 0 leaving a bound open (as Cohort's bands do)."""
    inf = float("inf")
    a_low, a_high = (low_a or -inf), (high_a or inf)
    b_low, b_high = (low_b or -inf), (high_b or inf)
    return max(a_low, b_low) < min(a_high, b_high)


def turbine_in_cohort(
    cohort: spec_pb2.Cohort,
    model: str,
    rated_power_kw: float,
    specific_power: float,
    iec_wind_class: str,
    wind_speed_reference: spec_pb2.WindSpeedReference,
) -> bool:
    """Whether a turbine belongs to ``cohort``: by its model when the cohort names one, else by its bands.

    Only a turbine whose wind speed is measured as the cohort's is (a nacelle anemometer reads the
    wake of the rotor: its curve is not a met mast's, and the two are never summed together).

    Parameters
    ----------
    cohort : Cohort
        The spec's cohort.
    model : str
        The turbine's model (windpowerlib turbine-type name).
    rated_power_kw : float
        Rated power [kW].
    specific_power : float
        Rated power over swept area [W/m^2].
    iec_wind_class : str
        IEC 61400-1 class, with or without turbulence category ("IIA"); "" when unknown.
    wind_speed_reference : WindSpeedReference
        Where the turbine's wind speed is measured (nacelle, nacelle with transfer function, met mast).
    """
    if cohort.wind_speed_reference != wind_speed_reference:
        return False
    if cohort.turbine_model:
        return model == cohort.turbine_model

    def within(value: float, low: float, high: float) -> bool:
        return (low == 0 or value >= low) and (high == 0 or value < high)

    return (
        within(rated_power_kw, cohort.rated_power_kw_min, cohort.rated_power_kw_max)
        and within(specific_power, cohort.specific_power_min, cohort.specific_power_max)
        and iec_wind_class_matches(cohort.iec_wind_class, iec_wind_class)
    )


def cohorts_compatible(a: spec_pb2.Cohort, b: spec_pb2.Cohort) -> bool:
    """Whether one turbine can belong to both cohorts, as :func:`turbine_in_cohort` decides membership.

    Both need one wind-speed reference. A model cohort admits any turbine of its model (its bands
    are not read); band cohorts need overlapping bands and one wind class. Solar cohorts (of a
    solar spec, as :func:`plant_in_cohort` decides membership) need one technology, mounting and
    climate zone where both name one, and overlapping DC/AC bands.
    """
    for criterion in ("module_technology", "mounting", "climate_zone"):
        mine, theirs = getattr(a, criterion), getattr(b, criterion)
        if mine and theirs and mine != theirs:
            return False
    if not _intervals_overlap(a.dc_ac_ratio_min, a.dc_ac_ratio_max, b.dc_ac_ratio_min, b.dc_ac_ratio_max):
        return False
    if a.wind_speed_reference != b.wind_speed_reference:
        return False
    if a.turbine_model or b.turbine_model:
        return not (a.turbine_model and b.turbine_model and a.turbine_model != b.turbine_model)
    if a.iec_wind_class and b.iec_wind_class and a.iec_wind_class != b.iec_wind_class:
        return False
    return _intervals_overlap(
        a.rated_power_kw_min, a.rated_power_kw_max, b.rated_power_kw_min, b.rated_power_kw_max
    ) and _intervals_overlap(a.specific_power_min, a.specific_power_max, b.specific_power_min, b.specific_power_max)


def plant_in_cohort(
    cohort: spec_pb2.Cohort, module_technology: str, mounting: str, climate_zone: str, dc_ac_ratio: float
) -> bool:
    """Whether a solar plant belongs to solar ``cohort``: every criterion it names matches, the ratio in its band.

    Parameters
    ----------
    cohort : Cohort
        A solar spec's cohort; "" or 0 criteria select any plant.
    module_technology, mounting, climate_zone : str
        The plant's, as client/solar/schema.py names them.
    dc_ac_ratio : float
        DC capacity over AC capacity [-], in [dc_ac_ratio_min, dc_ac_ratio_max).
    """
    named = (
        (cohort.module_technology, module_technology),
        (cohort.mounting, mounting),
        (cohort.climate_zone, climate_zone),
    )
    if any(wanted and wanted != value for wanted, value in named):
        return False
    low, high = cohort.dc_ac_ratio_min, cohort.dc_ac_ratio_max
    return (low == 0 or dc_ac_ratio >= low) and (high == 0 or dc_ac_ratio < high)


MAX_ATOMS = 4096
"""Most atoms a spec may have: every census block has one row per atom, so this bounds its size."""


def cohort_atoms(cohorts: Sequence[spec_pb2.Cohort], max_atoms: int = MAX_ATOMS) -> tuple[tuple[int, ...], ...]:
    """Every set of cohorts one turbine can belong to at once: the atoms, as sorted cohort indices.

    A turbine belongs to a set of cohorts only if they are pairwise compatible (one turbine model,
    overlapping bands, one wind class); for intervals and equalities pairwise is enough. Atoms are
    ordered by size, then lexicographically, so both ends number them alike.

    Raises
    ------
    ValueError
        If the cohorts make more than ``max_atoms`` atoms (many mutually overlapping bands).
    """
    n = len(cohorts)
    compatible = [[cohorts_compatible(cohorts[i], cohorts[j]) for j in range(n)] for i in range(n)]
    atoms: list[tuple[int, ...]] = []

    def extend(members: tuple[int, ...]) -> None:
        for c in range(members[-1] + 1 if members else 0, n):
            if all(compatible[c][m] for m in members):
                atoms.append((*members, c))
                if len(atoms) > max_atoms:
                    raise ValueError(
                        f"the spec's {n} cohorts make more than {max_atoms} atoms (sets of cohorts one turbine "
                        "can be in); use fewer overlapping bands"
                    )
                extend((*members, c))

    extend(())
    return tuple(sorted(atoms, key=lambda members: (len(members), members)))


def atom_index(memberships: np.ndarray, atoms: Sequence[tuple[int, ...]]) -> np.ndarray:
    """Each turbine's atom (index into ``atoms``), -1 for a turbine in no cohort.

    Parameters
    ----------
    memberships : ndarray of bool
        Turbines x cohorts: which cohorts each turbine belongs to.
    atoms : sequence of tuple of int
        As :func:`cohort_atoms` returns them.

    Raises
    ------
    ValueError
        If a turbine's memberships are not an atom (cohorts that :func:`cohorts_compatible` rules out).
    """
    position = {members: i for i, members in enumerate(atoms)}
    out = np.full(len(memberships), -1, dtype=np.int64)
    for turbine, row in enumerate(np.asarray(memberships, dtype=bool)):
        members = tuple(int(c) for c in np.flatnonzero(row))
        if members:
            if members not in position:
                raise ValueError(f"a turbine belongs to cohorts {list(members)}, which no atom of the spec holds")
            out[turbine] = position[members]
    return out


@dataclass(frozen=True)
class CellCensus:
    """The disclosure-control inputs of one cell, per atom, summed over operators.

    contributors: operators with anything in the atom's cell; totals: the cell's records (or turbines,
    turbine-years); squares: the sum over operators of their own total squared (for dominance).
    """

    contributors: np.ndarray  # (atoms,)
    totals: np.ndarray  # (atoms,)
    squares: np.ndarray  # (atoms,)


@dataclass(frozen=True)
class CellDecision:
    """Which cohorts a cell is published for, and why each other non-empty one is not."""

    published: np.ndarray  # (cohorts,) bool
    reasons: dict[int, str]  # cohort index -> suppression reason, for the non-empty cohorts not published


def too_few_operators(k: int) -> str:
    """Why a cell of fewer than ``k`` operators is suppressed, as a release says it."""
    return f"fewer than {k} operators"


def _class_failure(census: CellCensus, atoms: np.ndarray, k: int, p: float, unit: str) -> str:
    """Why the union of ``atoms`` may not be isolated ("" when it may).

    Distinct operators of a union are at least the most of any atom's; the largest operator's share
    of a union is at most sum_a s*_a t_a / sum_a t_a, since no operator holds more than s*_a t_a of
    atom a (s*_a from :func:`largest_share_bound`). Both are what the per-atom census allows to
    bound; a union of one atom gets the exact rule.
    """
    operators = int(census.contributors[atoms].max())
    if operators < k:
        return too_few_operators(k)
    totals = census.totals[atoms].astype(np.float64)
    shares = largest_share_bound(census.squares[atoms], totals, census.contributors[atoms])
    largest = float(np.nansum(shares * totals) / totals.sum())
    if largest > p + SHARE_TOLERANCE:
        return f"one operator may hold more than {p:.0%} of the {unit}"
    return ""


def _whole_cohort(in_class: list[int], member: np.ndarray, filled: np.ndarray) -> int | None:
    """A cohort whose filled atoms are exactly ``in_class``, if there is one."""
    atoms = set(in_class)
    for cohort in range(member.shape[1]):
        if set(np.flatnonzero(member[:, cohort] & filled).tolist()) == atoms:
            return cohort
    return None


def decide_cell(
    atoms: Sequence[tuple[int, ...]],
    census: CellCensus,
    candidates: np.ndarray,
    k_min_operators: int,
    dominance_max_share: float,
    unit: str,
    cohort_census: CellCensus | None = None,
) -> CellDecision:
    """Which cohorts one cell may be published for, with linked (secondary) suppression.

    Parameters
    ----------
    atoms : sequence of tuple of int
        The spec's atoms (:func:`cohort_atoms`).
    census : CellCensus
        The cell's disclosure-control inputs per atom.
    candidates : ndarray of bool
        Cohorts that may publish the cell at all (e.g. not suppressed as a whole).
    k_min_operators, dominance_max_share : int, float
        k and p of the rules.
    unit : str
        What the totals count ("records", "turbines", "turbine-years"), for the reasons.
    cohort_census : CellCensus, optional
        The same inputs per cohort (its atoms together): a class that is a whole cohort's cell is
        judged on these exact numbers instead of the bounds from its atoms.

    Returns
    -------
    CellDecision
        Published cohorts: every class of atoms they leave apart passes k and dominance. While a
        class that is a cohort's whole cell fails, that cohort is suppressed with the class's reason
        (primary suppression); then, while another class fails, the cohort holding it with the fewest
        ``unit`` (the least lost) is suppressed, as a part of it shared with other cohorts would be
        isolated by difference (secondary suppression).
    """
    n_cohorts = len(candidates)
    member = np.zeros((len(atoms), n_cohorts), dtype=bool)
    for a, members in enumerate(atoms):
        member[a, list(members)] = True
    filled = (np.asarray(census.contributors) > 0) | (np.asarray(census.totals) > 0)
    cohort_totals = member.T.astype(np.float64) @ np.where(filled, census.totals, 0.0)
    non_empty = (member & filled[:, None]).any(axis=0)
    published = np.asarray(candidates, dtype=bool) & non_empty
    reasons: dict[int, str] = {}
    while True:
        classes: dict[tuple[int, ...], list[int]] = {}
        for a in np.flatnonzero(filled).tolist():
            key = tuple(np.flatnonzero(member[a] & published).tolist())
            if key:
                classes.setdefault(key, []).append(a)
        failing = []
        for key, in_class in classes.items():
            whole = _whole_cohort(in_class, member, filled)
            if whole is not None and cohort_census is not None:
                why = _class_failure(cohort_census, np.array([whole]), k_min_operators, dominance_max_share, unit)
            else:
                why = _class_failure(census, np.array(in_class), k_min_operators, dominance_max_share, unit)
            if why:
                # A class that is a published cohort's whole cell fails on its own (primary): that cohort goes
                # first; other failing classes are parts of cohorts (secondary), handled once none is left.
                primary = whole is not None and bool(published[whole])
                failing.append(
                    (not primary, float(census.totals[in_class].sum()), key, whole if whole is not None else -1, why)
                )
        if not failing:
            break
        secondary, _, key, whole, why = min(failing)
        if secondary:
            cohort = min(key, key=lambda c: (cohort_totals[c], -c))
            reasons[cohort] = (
                f"linked to other published cohorts: a part of it they share ({why}) would be isolated by difference"
            )
        else:
            cohort = whole
            reasons[cohort] = why
        published[cohort] = False
    for outside in np.flatnonzero(non_empty & ~np.asarray(candidates, dtype=bool)).tolist():
        reasons.setdefault(outside, "its cohort is suppressed")
    return CellDecision(published, reasons)
