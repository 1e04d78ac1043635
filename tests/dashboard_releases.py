"""A small faulty fleet and a store of two two-round releases (two periods), for the dashboard and report tests.

Made with the in-process federation (the real ServerApp rounds and ClientApps over
simulations/loopback.py, no Ray) in a few seconds, once per test session. Three operators at
k = 3: every bin that not all three fill is suppressed, so the releases carry suppressed bins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from protos.fleetbench.v1 import release_pb2
from server.spec import PrivacySettings, band_cohort, power_curve_spec
from server.store import write_release
from simulations.fleet import FleetConfig, generate_fleet
from simulations.fleet_faults import FaultConfig
from simulations.onboarding import run_release_in_process

CONFIG = FleetConfig(
    operators=3,
    turbines_per_operator=2,
    months=2,
    seed=5,
    models=("E-82/2300",),
    faults=FaultConfig(
        underperformance_probability=0.5,
        yaw_probability=0.5,
        bearing_fault_probability=0.5,
        earliest_drift_fraction=0.34,
    ),
)
PERIODS = (("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"), ("2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z"))
COHORT = "E-82/2300"


@dataclass(frozen=True)
class FleetReleases:
    """A fleet's site.toml files, a store and the releases it holds (ids 1, 2, ... in this order)."""

    site_configs: list[Path]
    store: Path
    releases: list[release_pb2.Release]

    def received(self, operator: int, period: int) -> Path:
        """The final release of ``period`` as operator ``operator`` (0-based) received and kept it."""
        return self.site_configs[operator].parent / "releases" / f"{self.releases[period].spec_id}.json"


_MADE: dict[str, FleetReleases] = {}


def two_releases(tmp_path_factory: pytest.TempPathFactory) -> FleetReleases:
    """The fleet and store, made on first use in this test session."""
    if "made" not in _MADE:
        root = tmp_path_factory.mktemp("two-releases")
        sites = generate_fleet(CONFIG, root / "fleet")
        releases = []
        for i, (start, end) in enumerate(PERIODS):
            spec = power_curve_spec(f"power-curve-{start[:7]}", start, end, [COHORT, band_cohort((1500.0, 3000.0))])
            release = run_release_in_process(sites, spec, run_id=i + 1)
            write_release(root / "release.sqlite", release)
            releases.append(release)
        _MADE["made"] = FleetReleases(sites, root / "release.sqlite", releases)
    return _MADE["made"]


PRIVATE_CONFIG = FleetConfig(operators=4, turbines_per_operator=3, months=2, seed=41, models=(COHORT,))
PRIVATE_EPSILON = 50.0


def private_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, release_pb2.Release]:
    """A store holding one differentially private release (round 1 only), made on first use in this session."""
    if "private" not in _MADE:
        root = tmp_path_factory.mktemp("private-release")
        sites = generate_fleet(PRIVATE_CONFIG, root / "fleet")
        for site in sites:  # a budget that lets the sites take part in a release of epsilon 50
            site.write_text(site.read_text() + "\n[policy]\nprivacy_epsilon_per_year = 1e5\n")
        privacy = PrivacySettings(PRIVATE_EPSILON, max_records_per_turbine_per_bin=40, min_noise_sites=3)
        spec = power_curve_spec(
            "private", PRIVATE_CONFIG.start, PRIVATE_CONFIG.period_end, [COHORT], k_min_operators=3, privacy=privacy
        )
        release = run_release_in_process(sites, spec, indicators=False, send=False, run_id=9)
        write_release(root / "release.sqlite", release)
        _MADE["private"] = FleetReleases(sites, root / "release.sqlite", [release])
    made = _MADE["private"]
    return made.store, made.releases[0]
