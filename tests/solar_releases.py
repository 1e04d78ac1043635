"""A small solar fleet and a store of two solar releases (two periods), for the dashboard and solar report tests.

Made with the in-process federation (simulations/onboarding.py, the real ServerApp rounds and
ClientApps) once per test session, in about 20 s. Four plants at k = 3: the whole-fleet cohort
"all" is released, the "fixed" cohort (fewer than 3 fixed-mounting plants) is suppressed, bin by
bin and cell by cell, with its reasons. The first period holds one plant's inverter fault (a failure).
"""

from __future__ import annotations

import pytest
from dashboard_releases import FleetReleases

from server.spec import solar_cohort, solar_spec
from server.store import write_release
from simulations.onboarding import run_release_in_process
from simulations.solar_fleet import write_solar_fleet

PERIODS = (("2022-01-15T00:00:00Z", "2022-05-01T00:00:00Z"), ("2022-05-01T00:00:00Z", "2022-06-01T00:00:00Z"))
COHORT = "all"
SUPPRESSED_COHORT = "fixed"

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
