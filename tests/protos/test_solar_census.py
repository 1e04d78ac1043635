"""Solar cells under the census: k, dominance and linked cohorts decide plants and inverters as they do turbines."""

from __future__ import annotations

import numpy as np
import pytest

from protos.census import census_spec, decide, withhold_failing_cells
from protos.codec import block_layouts
from protos.commitment import RANDOMNESS_LIMBS
from protos.disclosure import atom_index, cohort_atoms, cohorts_compatible, plant_in_cohort
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import SOLAR_CELLS, SOLAR_INVERTER_CELLS, BlockKey, SpecExtent, check_block
from server.spec import solar_cohort, solar_spec

S = spec_pb2.Statistic
PERIOD = ("2022-01-01T00:00:00Z", "2025-01-01T00:00:00Z")
PLANT_CELL = SOLAR_CELLS.index("performance_ratio")
LOST = SOLAR_CELLS.index("lost_production")
AVAILABILITY = SOLAR_CELLS.index("inverter_availability")


def _census(spec: spec_pb2.BenchmarkSpec, plants: list[tuple[np.ndarray, float, np.ndarray]]) -> dict:
    """Summed census of plants given as (cohort membership, inverters, records per irradiance bin)."""
    atoms = cohort_atoms(spec.cohorts)
    n_atoms, n_cohorts, bins = len(atoms), len(spec.cohorts), spec.solar.irradiance_bins.count
    irradiance = np.zeros((3, n_atoms + n_cohorts, bins))
    cells = np.zeros((3, n_atoms + n_cohorts, len(SOLAR_CELLS)))
    for member, inverters, records in plants:
        per_cell = np.array([inverters if c in SOLAR_INVERTER_CELLS else 1.0 for c in SOLAR_CELLS])
        rows = [int(atom_index(member[None, :], atoms)[0]), *(n_atoms + np.flatnonzero(member))]
        for row in rows:
            for block, totals in ((irradiance, records), (cells, per_cell)):
                block[0, row] += totals > 0
                block[1, row] += totals
                block[2, row] += totals**2
    return {BlockKey("", S.IRRADIANCE_CENSUS): irradiance, BlockKey("", S.SOLAR_CENSUS): cells}


def _records(bins: int) -> np.ndarray:
    return np.where(np.arange(bins) < 20, 100.0, 0.0)


def test_a_solar_specs_blocks_are_the_registrys_and_its_census_has_a_cell_per_bin_and_solar_cell():
    spec = solar_spec("s", *PERIOD, [solar_cohort("all"), solar_cohort("fixed", mounting="fixed")])
    extent = SpecExtent.of(spec)
    for block in spec.blocks:
        check_block(extent, block)
    shapes = {layout.name: layout.shape for layout in block_layouts(census_spec(spec))}
    atoms = len(cohort_atoms(spec.cohorts))
    bins = spec.solar.irradiance_bins.count
    assert shapes == {
        "IRRADIANCE_CENSUS": (3, atoms + 2, bins),
        "SOLAR_CENSUS": (3, atoms + 2, len(SOLAR_CELLS)),
        "CENSUS_COMMITMENT_RANDOMNESS": (RANDOMNESS_LIMBS,),  # each site's, for its commitment (client/contribution.py)
    }
    forged = spec_pb2.Block()
    forged.CopyFrom(spec.blocks[0])
    forged.per_site_bound *= 10  # a spec asking one site for ten times the records its inverters can have
    with pytest.raises(ValueError, match="per_site_bound"):
        check_block(extent, forged)


@pytest.mark.parametrize(("plants", "published"), [(2, False), (3, True)])
def test_a_plant_cell_is_published_only_with_k_operators(plants: int, published: bool):
    spec = solar_spec("k", *PERIOD, [solar_cohort("all")], k_min_operators=3)
    bins = spec.solar.irradiance_bins.count
    decision = decide(spec, _census(spec, [(np.array([True]), 4.0, _records(bins))] * plants))
    assert decision.solar is not None and decision.irradiance_bins is not None
    assert decision.solar.published[0, PLANT_CELL] == published
    assert decision.irradiance_bins.published[0, 0] == published
    if not published:
        assert "fewer than 3 operators" in decision.solar.reasons[0, PLANT_CELL]


def test_the_dominance_rule_counts_inverters_for_availability_and_plants_for_lost_production():
    """One operator with 10 of 12 inverters dominates the availability cell, not the plant cells (one plant each).

    Lost production is published as the plants' shares by cause, one count per plant: it is a plant cell.
    """
    spec = solar_spec("p", *PERIOD, [solar_cohort("all")], k_min_operators=3, dominance_max_share=0.6)
    bins = spec.solar.irradiance_bins.count
    plants = [(np.array([True]), n, _records(bins)) for n in (1.0, 1.0, 10.0)]
    decision = decide(spec, _census(spec, plants))
    assert decision.solar is not None
    assert decision.solar.published[0, PLANT_CELL] and decision.solar.published[0, LOST]
    assert not decision.solar.published[0, AVAILABILITY]
    assert "inverters" in decision.solar.reasons[0, AVAILABILITY]


def test_linked_cohorts_never_publish_what_isolates_one_plant():
    """All plants, and the fixed ones: three fixed plants and one tracker. Both published, all - fixed = the tracker."""
    spec = solar_spec("l", *PERIOD, [solar_cohort("all"), solar_cohort("fixed", mounting="fixed")], k_min_operators=3)
    bins = spec.solar.irradiance_bins.count
    fixed, tracker = np.array([True, True]), np.array([True, False])
    decision = decide(spec, _census(spec, [(fixed, 2.0, _records(bins))] * 3 + [(tracker, 2.0, _records(bins))]))
    assert decision.solar is not None
    both = decision.solar.published[0] & decision.solar.published[1]
    assert not both.any()
    # What the values round may carry follows the decision: a withheld cohort's histogram is sent as zeros.
    key = BlockKey("all", S.PERFORMANCE_RATIO_HISTOGRAM)
    ones = {key: np.ones(spec.solar.performance_ratio_bins.count)}
    carried = withhold_failing_cells(ones, spec, decision)[key]
    assert carried.any() == bool(decision.solar.published[0, PLANT_CELL])


def test_plants_join_cohorts_by_technology_mounting_climate_and_dc_ac_band():
    mono = solar_cohort("mono", module_technology="mono-Si")
    cdte = solar_cohort("cdte", module_technology="CdTe")
    low, high = solar_cohort("low", dc_ac_ratio_max=1.25), solar_cohort("high", dc_ac_ratio_min=1.25)
    assert not cohorts_compatible(mono, cdte) and not cohorts_compatible(low, high)
    assert cohorts_compatible(mono, low) and cohorts_compatible(mono, solar_cohort("arid", climate_zone="arid"))
    assert plant_in_cohort(mono, "mono-Si", "fixed", "arid", 1.3)
    assert not plant_in_cohort(cdte, "mono-Si", "fixed", "arid", 1.3)
    assert plant_in_cohort(high, "CdTe", "single_axis", "temperate", 1.25)
    assert not plant_in_cohort(low, "CdTe", "single_axis", "temperate", 1.25)
