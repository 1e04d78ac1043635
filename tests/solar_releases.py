"""Solar releases for the dashboard, server and solar report tests: a small fleet's two releases, a private one.

Made with the in-process federation (simulations/onboarding.py, the real ServerApp rounds and
ClientApps) once per test session, in about 20 s. Four plants at k = 3: the whole-fleet cohort
"all" is released, the "fixed" cohort (fewer than 3 fixed-mounting plants) is suppressed, bin by
bin and cell by cell, with its reasons. The first period holds one plant's inverter fault (a failure).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from dashboard_releases import FleetReleases

from protos.census import COMMITMENT_RANDOMNESS, census_message, census_spec, decide
from protos.codec import block_layouts
from protos.commitment import RANDOMNESS_LIMBS
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.privacy import summed_noise_stddev
from protos.statistics import SOLAR_CELLS, BlockKey, SpecExtent
from server.baselines import block_values
from server.solar import build_solar_release, distributions_below_their_noise
from server.spec import PrivacySettings, solar_cohort, solar_spec
from server.store import write_release
from simulations.onboarding import run_release_in_process
from simulations.solar_fleet import write_solar_fleet

PERIODS = (("2022-01-15T00:00:00Z", "2022-05-01T00:00:00Z"), ("2022-05-01T00:00:00Z", "2022-06-01T00:00:00Z"))
COHORT = "all"
SUPPRESSED_COHORT = "fixed"
S = spec_pb2.Statistic

_MADE: dict[str, FleetReleases] = {}


def two_solar_releases(tmp_path_factory: pytest.TempPathFactory) -> FleetReleases:
    """The solar fleet and its store (releases 1 and 2, in PERIODS' order), made on first use in this session."""
    if "made" not in _MADE:
        root = tmp_path_factory.mktemp("solar-releases")
        truths = write_solar_fleet(root / "fleet", n_plants=4, years=1, seed=5)
        sites = [root / "fleet" / truth.name / "site.toml" for truth in truths]
        releases = []
        for i, (start, end) in enumerate(PERIODS):
            cohorts = [solar_cohort(COHORT), solar_cohort(SUPPRESSED_COHORT, mounting="fixed")]
            spec = solar_spec(f"solar-{start[:7]}", start, end, cohorts, k_min_operators=3)
            release = run_release_in_process(sites, spec, indicators=False, send=True, run_id=i + 1)
            write_release(root / "release.sqlite", release)
            releases.append(release)
        _MADE["made"] = FleetReleases(sites, root / "release.sqlite", releases)
    return _MADE["made"]


class PrivateSolarRelease(NamedTuple):
    """A private solar release made up from sums, its spec, and the truth its distribution was drawn from."""

    release: release_pb2.Release
    spec: spec_pb2.BenchmarkSpec
    performance_ratios: np.ndarray  # the plants' [-] (empty without plants)
    census: spec_pb2.Census  # what every site received before the values round


def private_solar_release(
    plants: int = 0,
    epsilon: float = 100.0,
    spread: float = 0.05,
    distributions: tuple[str, ...] = (),
    distribution_share: float | None = None,
    max_failures_per_inverter: int = 0,
    max_downtime_hours_per_inverter: int = 0,
) -> PrivateSolarRelease:
    """A release private per inverter, finalised from sums made up here (no federation).

    Its curve: 3 plants' 1,200 capped record weights per irradiance bin from 75 to 525 W/m^2. With
    ``plants`` > 0 the spec gives half its budget (``distribution_share``) to the plants' distributions
    (``distributions``, empty: all), the census counts that many plants (each its own operator) in every
    distribution (and as many inverters observed for failures), and their
    performance ratios are drawn about 0.80 with standard deviation ``spread`` (the other
    distributions' bars hold noise alone); the noise suffices with half of them (min_noise_sites). Every noised block
    carries the noise its participants would add, drawn here as a Gaussian of the same variance. With
    ``max_failures_per_inverter`` the spec publishes failure rates: each plant's one inverter observed the whole
    period with 0.1 inverter failures per inverter-year; with ``max_downtime_hours_per_inverter`` too, their downtime,
    20 h each.
    """
    rng = np.random.default_rng(3)
    participants = max(3, plants)
    privacy = PrivacySettings(
        epsilon,
        max_records_per_turbine_per_bin=40,
        min_noise_sites=max(3, plants // 2),
        distribution_share=(0.5 if plants else 0.0) if distribution_share is None else distribution_share,
        distributions=distributions,
        max_failures_per_inverter=max_failures_per_inverter,
        max_downtime_hours_per_inverter=max_downtime_hours_per_inverter,
    )
    spec = solar_spec("solar-private", *PERIODS[0], [solar_cohort(COHORT)], privacy=privacy)
    n_atoms, bins = len(cohort_atoms(spec.cohorts)), spec.solar.irradiance_bins.count
    census = {
        BlockKey("", S.IRRADIANCE_CENSUS): np.zeros((3, n_atoms + 1, bins)),
        BlockKey("", S.SOLAR_CENSUS): np.zeros((3, n_atoms + 1, len(SOLAR_CELLS))),
    }
    filled = np.arange(10)  # 75-525 W/m^2
    sums = {layout.key: np.zeros(layout.shape) for layout in block_layouts(spec)}
    for row in (0, n_atoms):
        census[BlockKey("", S.IRRADIANCE_CENSUS)][:, row, filled] = np.array([3.0, 1200.0, 3 * 400.0**2])[:, None]
        if plants:  # one plant per operator: contributors, plants and the squared plants per operator all N
            census[BlockKey("", S.SOLAR_CENSUS)][:, row, :] = plants
    capped = sums[BlockKey(COHORT, S.CAPPED_SPECIFIC_POWER_HISTOGRAM)]
    for b in filled:  # 1,200 record weights about 0.09 kW/kWp per 50 W/m^2
        np.add.at(capped[b], np.clip(rng.normal(9.0 * (b + 1), 4.0, 1200).astype(int), 0, None), 1.0)
    performance_ratios = rng.normal(0.80, spread, plants)
    if BlockKey(COHORT, S.PERFORMANCE_RATIO_HISTOGRAM) in sums:  # the spec publishes the PR
        grid = spec.solar.performance_ratio_bins
        index = np.clip(np.rint((performance_ratios - grid.first_centre) / grid.width).astype(int), 0, grid.count - 1)
        np.add.at(sums[BlockKey(COHORT, S.PERFORMANCE_RATIO_HISTOGRAM)], index, 1.0)
    if BlockKey(COHORT, S.INVERTER_YEARS) in sums:
        years = plants * SpecExtent.of(spec).max_years_per_inverter
        sums[BlockKey(COHORT, S.INVERTER_YEARS)][0] = years
        sums[BlockKey(COHORT, S.SOLAR_FAILURE_COUNT)][list(spec.solar.components).index("inverter")] = 0.1 * years
        if BlockKey(COHORT, S.SOLAR_FAILURE_DOWNTIME) in sums:
            sums[BlockKey(COHORT, S.SOLAR_FAILURE_DOWNTIME)][list(spec.solar.components).index("inverter")] = 2 * years
    totals = {}
    for layout in block_layouts(spec):
        noise = rng.normal(0.0, summed_noise_stddev(spec, COHORT, participants, layout.key.statistic), layout.shape)
        totals[layout.key] = np.rint((sums[layout.key] + noise) * 2.0**layout.scale_exponent)
    decision = distributions_below_their_noise(spec, census, decide(spec, census), participants)
    release = build_solar_release(spec, totals, block_values(spec, totals), decision, participants, "1", "test")
    census_spec_blocks = census_spec(spec)
    randomness = {COMMITMENT_RANDOMNESS: np.zeros(RANDOMNESS_LIMBS)}  # no commitments: built, not summed
    received = census_message(census_spec_blocks, census | randomness, participants)
    return PrivateSolarRelease(release, spec, performance_ratios, received)
