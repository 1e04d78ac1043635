"""A member with a wind farm and a solar plant runs a node for each: a release asks only the sites of its kind."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from server.spec import solar_cohort, solar_spec
from simulations.fleet import FleetConfig, enrol_members, generate_fleet
from simulations.onboarding import fleet_spec, run_release_in_process
from simulations.solar_fleet import write_solar_fleet

MODEL = "E-82/2300"


@pytest.fixture(scope="module")
def portfolios(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[Path], FleetConfig]:
    """Three members, each with a wind site and a solar site (six nodes, three members)."""
    root = tmp_path_factory.mktemp("mixed")
    config = FleetConfig(operators=3, months=1, seed=9, models=(MODEL,))
    wind = generate_fleet(config, root / "wind")
    solar = [root / "solar" / t.name / "site.toml" for t in write_solar_fleet(root / "solar", 3, 1, seed=5)]
    enrol_members([*wind, *solar], ["op-1", "op-2", "op-3"] * 2)
    return wind, solar, config


def test_each_kinds_release_asks_only_its_sites_and_counts_each_member_once(portfolios):
    wind, solar, config = portfolios
    release = run_release_in_process(
        [*wind, *solar], fleet_spec(config, k_min_operators=3), indicators=False, send=False, min_sites=3
    )
    curve = next(c for c in release.curves if c.cohort == MODEL)
    assert release.provenance.participants == 3 and not curve.suppressed and curve.operator_count == 3
    spec = solar_spec("pv", "2022-04-01T00:00:00Z", "2022-05-01T00:00:00Z", [solar_cohort("all")], k_min_operators=3)
    release = run_release_in_process([*wind, *solar], spec, indicators=False, send=False, min_sites=3)
    assert release.provenance.participants == 3
    assert any(not b.suppressed and b.operator_count == 3 for b in release.solar_curves[0].bins)


def test_control_a_round_that_asks_every_node_sees_each_member_twice_and_is_refused(portfolios, monkeypatch, caplog):
    wind, solar, config = portfolios
    monkeypatch.setattr(
        "server.server_app.sites_of_kind", lambda grid, spec, min_sites, waits: frozenset(grid.get_node_ids())
    )
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError):
        run_release_in_process(
            [*wind, *solar], fleet_spec(config, k_min_operators=3), indicators=False, send=False, min_sites=3
        )
    assert "take part in this round with more than one node" in caplog.text
