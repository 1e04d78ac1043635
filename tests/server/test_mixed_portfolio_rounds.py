"""A member with a wind farm and a solar plant runs a node for each: a release asks only the sites of its kind."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flwr.app import ConfigRecord, Message, RecordDict
from flwr.app.message_type import MessageType

from client.client_app import build_client_app
from protos.messages import SITE_KIND_CONFIG_KEY
from server.server_app import sites_of_kind
from server.spec import solar_cohort, solar_spec
from simulations.fleet import FleetConfig, enrol_members, generate_fleet
from simulations.loopback import FIRST_NODE_ID, LoopbackGrid
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


def test_a_site_answers_its_kind_in_one_word_and_nothing_else(portfolios, tmp_path):
    wind, solar, _ = portfolios
    odd = tmp_path / "site.toml"
    odd.write_text(wind[0].read_text().replace("[site]", '[site]\nkind = "hydro"', 1))
    sites = [wind[0], solar[0], odd]
    grid = LoopbackGrid(build_client_app(sites), len(sites))
    question = RecordDict({"config": ConfigRecord({SITE_KIND_CONFIG_KEY: "wind"})})
    replies = {
        reply.metadata.src_node_id: reply
        for reply in grid.send_and_receive(
            [
                Message(content=question, dst_node_id=node, message_type=MessageType.QUERY)
                for node in grid.get_node_ids()
            ]
        )
    }
    answers = [dict(replies[FIRST_NODE_ID + i].content.config_records["config"]) for i in range(2)]
    assert answers == [{SITE_KIND_CONFIG_KEY: "wind"}, {SITE_KIND_CONFIG_KEY: "solar"}]
    assert replies[FIRST_NODE_ID + 2].has_error()  # not one of the two words: no answer, not site.toml's text
    assert sites_of_kind(grid, fleet_spec(FleetConfig(operators=3, months=1, seed=9, models=(MODEL,))), 1) == {
        FIRST_NODE_ID
    }


def test_each_kinds_release_asks_only_its_sites_and_counts_each_member_once(portfolios):
    wind, solar, config = portfolios
    release = run_release_in_process(
        [*wind, *solar], fleet_spec(config, k_min_operators=3), indicators=True, send=False, min_sites=3
    )
    curve = next(c for c in release.curves if c.cohort == MODEL)
    assert release.provenance.participants == 3 and not curve.suppressed and curve.operator_count == 3
    # Round 2 too asked only the wind sites: its indicators are in the release.
    assert release.provenance.indicator_participants == 3 and release.distributions
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
