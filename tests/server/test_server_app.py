"""The ServerApp's wiring: every run-config key it reads is declared; a release is stored before it is sent."""

from __future__ import annotations

import inspect
import logging
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from flwr.app import Context, RecordDict
from flwr.app.message_type import MessageType
from flwr.server.client_manager import SimpleClientManager
from google.protobuf import json_format
from site_copies import copies_with_budget

from client.client_app import build_client_app
from server.secure_sum import Waits
from server.server_app import RUN_CONFIG_KEYS, ReleaseRun, build_server_app, run_release
from server.spec import PrivacySettings, power_curve_spec
from simulations.fleet import FleetConfig
from simulations.loopback import FIRST_NODE_ID, LoopbackGrid
from simulations.onboarding import fleet_spec

REPO_ROOT = Path(__file__).resolve().parents[2]


class RecordingConfig(Mapping[str, object]):
    """A run config that remembers which keys were read."""

    def __init__(self, values: dict[str, object]) -> None:
        self.values, self.read = values, set()

    def __getitem__(self, key: str) -> object:
        self.read.add(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _context() -> Context:
    return Context(run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config={})


def test_every_key_the_server_app_reads_is_declared_with_a_default(tmp_path):
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["flwr"]["app"]["config"]
    spec = power_curve_spec("q1", "2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z", ["E-82/2300"])
    (tmp_path / "spec.json").write_text(json_format.MessageToJson(spec))
    config = RecordingConfig({**declared, "spec": str(tmp_path / "spec.json")})
    run = ReleaseRun.from_run_config(config)
    assert config.read == set(RUN_CONFIG_KEYS) and set(RUN_CONFIG_KEYS) <= set(declared)
    assert run.spec == spec and run.min_sites == declared["min-sites"] and run.indicators is True
    assert run.release_json == Path(declared["release-json"])
    assert run.waits == Waits(declared["sampling-timeout"], declared["stage-timeout"])
    assert run.colluding_members == declared["max-colluding-members"] == 1


@pytest.mark.parametrize("value", [-1, "two", 1.0, False])
def test_a_colluding_members_setting_that_is_not_an_integer_from_zero_is_refused_before_any_round(tmp_path, value):
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["flwr"]["app"]["config"]
    spec = power_curve_spec("q1", "2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z", ["E-82/2300"])
    (tmp_path / "spec.json").write_text(json_format.MessageToJson(spec))
    config = {**declared, "spec": str(tmp_path / "spec.json"), "max-colluding-members": value}
    with pytest.raises(ValueError, match=r"max-colluding-members = .*: use 0 or a positive integer"):
        ReleaseRun.from_run_config(config)
    with pytest.raises(ValueError, match="max-colluding-members"):
        ReleaseRun(spec, tmp_path / "release.sqlite", 3, colluding_members=value)  # type: ignore[arg-type]
    # Control: 2 is taken.
    assert ReleaseRun.from_run_config({**config, "max-colluding-members": 2}).colluding_members == 2


def test_a_run_of_no_more_sites_than_colluders_is_refused_before_it_waits_for_any(tmp_path):
    """min-sites 3 against max-colluding-members 3: no site would accept a round, so nothing waits for one.
    Control: 4 sites."""
    spec = power_curve_spec("q1", "2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z", ["E-82/2300"])
    with pytest.raises(ValueError, match=r"min-sites 3 against max-colluding-members 3: .* raise min-sites above 3"):
        ReleaseRun(spec, tmp_path / "release.sqlite", 3, colluding_members=3)
    assert ReleaseRun(spec, tmp_path / "release.sqlite", 4, colluding_members=3).min_sites == 4


def test_a_release_the_store_cannot_take_reaches_no_site(small_fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The store fails after both rounds (a full disk, say): no site holds a release the store lacks."""
    fleet = small_fleet(3)

    def full_disk(release, store, json_path=None):
        raise OSError("No space left on device")

    monkeypatch.setattr("server.server_app.store_release", full_disk)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 3)
    app = build_server_app(ReleaseRun(fleet.spec, tmp_path / "release.sqlite", 3, indicators=False))
    context = _context()
    with pytest.raises(OSError, match="No space left"):
        app(grid, context)
    assert not any((site.parent / "releases").exists() for site in fleet.site_configs)

    # Control: with the store working, every site receives the release.
    monkeypatch.undo()
    for site in fleet.site_configs:
        (site.parent / "audit.log").unlink()
    build_server_app(ReleaseRun(fleet.spec, tmp_path / "release.sqlite", 3, indicators=False))(
        LoopbackGrid(build_client_app(fleet.site_configs), 3), context
    )
    assert all(list((site.parent / "releases").glob("*.json")) for site in fleet.site_configs)


def _lost_after_round_one(grid: LoopbackGrid, node: int):
    """An ``on_outcome`` that takes ``node`` off the grid once round 1's values are summed."""
    rounds = []

    def lose(outcome) -> None:
        if not rounds:
            grid.leave(node)
        rounds.append(outcome)

    return lose


class _RejoinWhenAwaited(logging.Handler):
    """Brings ``node`` back once round 2 says it waits for it: whenever that is, however loaded the machine."""

    def __init__(self, grid: LoopbackGrid, node: int) -> None:
        super().__init__()
        self.grid, self.node = grid, node

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("round 2 census: waiting for sites"):
            self.grid.rejoin(self.node)


def test_a_site_lost_in_round_one_ends_round_two_at_its_timeout_naming_it(small_fleet, caplog):
    """Three sites, k = 3: the third is gone after round 1, and round 2 needs all three of round 1's sites.

    Flower's own wait would hold round 2 for a day, silently (SimpleClientManager.wait_for's default);
    here it waits the run's sampling-timeout, names the missing site, and the release keeps round 1.
    """
    assert inspect.signature(SimpleClientManager.wait_for).parameters["timeout"].default == 86_400
    fleet = small_fleet(3)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 3)
    lost = FIRST_NODE_ID + 2
    with caplog.at_level(logging.WARNING, logger="fleetbench.aggregator"):
        release = run_release(
            grid, _context(), fleet.spec, 3, on_outcome=_lost_after_round_one(grid, lost), waits=Waits(sampling=2)
        )
    waits = [r for r in caplog.records if r.getMessage().startswith("round 2 census: waiting for sites")]
    gave_up = [r for r in caplog.records if r.getMessage().startswith("round 2 census: gave up waiting")]
    assert waits and gave_up, caplog.text
    assert f"missing [{lost}]" in waits[0].getMessage()
    assert (
        gave_up[0]
        .getMessage()
        .endswith(f"2 of its 3 sites connected, at least 3 needed; missing [{lost}] after 2 s (sampling-timeout)")
    )
    assert 2.0 <= gave_up[0].created - waits[0].created < 4.0  # the configured timeout, not a day
    assert release.provenance.participants == 3 and not release.provenance.indicator_spec_sha256


def test_a_site_back_within_the_timeout_takes_part_in_round_two(small_fleet, caplog):
    """Control: the same lost site reconnects while round 2 waits for it; round 2 then runs over all three."""
    fleet = small_fleet(3)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 3)
    lost = FIRST_NODE_ID + 2
    rejoin = _RejoinWhenAwaited(grid, lost)
    logging.getLogger("fleetbench.aggregator").addHandler(rejoin)
    try:
        with caplog.at_level(logging.WARNING, logger="fleetbench.aggregator"):
            # Flower's node-update thread notices a returning node within 5 s.
            release = run_release(
                grid, _context(), fleet.spec, 3, on_outcome=_lost_after_round_one(grid, lost), waits=Waits(sampling=30)
            )
    finally:
        logging.getLogger("fleetbench.aggregator").removeHandler(rejoin)
    assert f"missing [{lost}]" in caplog.text and "round 2 census: the sites it needs are connected" in caplog.text
    assert release.provenance.indicator_participants == 3


def test_a_private_round_too_small_for_the_colluders_is_declined_before_any_site_is_sent_the_spec(
    small_fleet, tmp_path, caplog
):
    """Three sites, min_noise_sites 3, max-colluding-members 2: the noise needs 3 - 1 + 2 = 4 sites.

    Every site whose policy assumes two colluders would refuse the round at collect; the aggregator
    waits its sampling-timeout for a fourth site, then declines, naming the setting and the numbers.
    """
    # small_fleet(3)'s own fleet, its spec private with an epsilon large enough that one turbine-month
    # per site publishes some bin (else every site declines the values round), which their policies allow.
    config = FleetConfig(operators=3, turbines_per_operator=1, months=1, seed=3, models=("E-82/2300",))
    spec = fleet_spec(config, 3, PrivacySettings(1000.0, max_records_per_turbine_per_bin=40))
    sites = copies_with_budget(small_fleet(3).site_configs, tmp_path)
    grid = LoopbackGrid(build_client_app(sites), 3)
    declined = (
        r"round 1 census: declined before any site was sent the spec: private spec .* would be summed over 3 sites, "
        r"and its noise needs 4 against max-colluding-members 2 \(min_noise_sites 3 - 1 \+ 2"
    )
    with caplog.at_level(logging.WARNING, logger="fleetbench.aggregator"), pytest.raises(RuntimeError, match=declined):
        run_release(grid, _context(), spec, 3, waits=Waits(sampling=1), colluding_members=2)
    assert "round 1 census: gave up waiting" not in caplog.text  # the kind query's wait, not a round's
    # The sites were asked their kind only: no SecAgg+ message reached any.
    assert grid.received and all(reply.metadata.message_type == MessageType.QUERY for reply in grid.received)

    # Control: sized for one colluder the same round goes ahead, and the release sums all three sites.
    grid = LoopbackGrid(build_client_app(sites), 3)
    release = run_release(grid, _context(), spec, 3, waits=Waits(sampling=1), colluding_members=1)
    assert release.provenance.participants == 3 and release.HasField("privacy")
