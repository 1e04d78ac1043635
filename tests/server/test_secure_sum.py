"""SecAgg+ as an exact, guarded, dropout-tolerant secure sum (in-process loopback federation)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from flwr.app import Context, Message, RecordDict
from flwr.common import bytes_to_ndarray
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key, Stage
from flwr.server import LegacyContext, ServerConfig
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow

from client.client_app import build_client_app
from client.contribution import site_contribution
from client.policy import PolicyViolation, SitePolicy, check_round
from protos.census import census_spec
from protos.codec import CLIPPING_RANGE, MODULUS_RANGE, QUANTIZATION_RANGE, limb_sums_from_weighted_mean
from protos.masking import install_keyed_masks, keyed_masks_in_force
from protos.messages import CENSUS_CONFIG_KEY
from protos.shamir import fast_shamir_in_force
from server.secure_sum import SecureSumStrategy, check_colluding_members, neighbourhood, run_secure_sum
from server.server_app import ReleaseRun, build_server_app
from server.store import claims, read_release
from simulations.fleet import forget_site_history
from simulations.loopback import LoopbackGrid

pytestmark = pytest.mark.usefixtures("fixed_commitment_randomness")
STAGES = (Stage.SETUP, Stage.SHARE_KEYS, Stage.COLLECT_MASKED_VECTORS, Stage.UNMASK)


def _server_context() -> Context:
    return Context(run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config={})


def _plain_sum(site_configs, spec, sites) -> list[np.ndarray]:
    contributions = [site_contribution(site_configs[i], spec) for i in sites]
    return [np.sum(arrays, axis=0).astype(np.int64) for arrays in zip(*contributions, strict=True)]


def _assert_exact(outcome, expected: list[np.ndarray]) -> None:
    got = limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)


def test_neighbourhood_is_full_when_small_and_logarithmic_beyond():
    assert neighbourhood(3) == (3, 2)  # Flower needs t < k: the signed survivor minimum covers a colluder
    assert neighbourhood(5) == (5, 4)
    assert neighbourhood(15) == (15, 9)
    assert neighbourhood(20) == (11, 7)
    assert neighbourhood(100) == (15, 9)
    assert neighbourhood(200) == (17, 10)
    assert neighbourhood(5, colluding_members=0) == (5, 3)  # the honest-but-curious majority
    for n in (4, 10, 16, 50, 1000):
        for c in (0, 1, 2):
            k, t = neighbourhood(n, c)
            assert k % 2 == 1 or k == n
            assert t < k
            # The aggregator and c colluders split k - c honest neighbours two ways: never t of both;
            # or else a full graph, where the signed survivor minimum holds instead (client.policy.check_round).
            assert 2 * t > k + c or k == n
    with pytest.raises(ValueError, match="at least 3"):
        neighbourhood(2)
    with pytest.raises(ValueError, match="3 sites cannot be summed against max-colluding-members 3"):
        neighbourhood(3, colluding_members=3)


def _accepts(policy: SitePolicy, n_sites: int, colluding_members: int) -> bool:
    """Whether a site of ``policy`` accepts the threshold the aggregator sizes for ``n_sites`` and its colluders."""
    k, t = neighbourhood(n_sites, colluding_members)
    try:
        check_round(policy, n_sites, k, t)
    except PolicyViolation:
        return False
    return True


def test_more_colluders_never_lower_the_threshold():
    """For 3 to 60 sites, the threshold grows with the colluders the round is sized against, or stays (a review's
    case: 5 sites read 3, 4, 4, then 3 for c = 0 to 3, when no threshold below 5 exceeded (5 + 3) / 2)."""
    for n in range(3, 61):
        thresholds = [neighbourhood(n, c)[1] for c in range(min(n, 6))]
        assert thresholds == sorted(thresholds), (n, thresholds)
        assert all(t < neighbourhood(n, 0)[0] for t in thresholds)  # Flower's t < k


def test_rounds_sized_for_two_colluders_are_accepted_by_sites_that_assume_two():
    """n = 3..40: every site with max_colluding_members = 2 accepts the threshold sized for 2.

    Except 4 sites at the default min_participants 3: no threshold below 4 exceeds (4 + 2) / 2, and
    the full-graph rule needs 2 min_participants > 6; a site asking for all 4 accepts.
    """
    two = SitePolicy(max_colluding_members=2)
    assert [n for n in range(3, 41) if not _accepts(two, n, 2)] == [4]
    assert _accepts(SitePolicy(max_colluding_members=2, min_participants=4), 4, 2)
    for threshold in range(2, 4):  # no threshold Flower allows (t < k) would do
        with pytest.raises(PolicyViolation):
            check_round(two, 4, 4, threshold)

    # Control: the thresholds sized for one colluder, which such sites refuse in every even full graph.
    assert [n for n in range(3, 41) if not _accepts(two, n, 1)] == [4, 6, 8, 10, 12, 14]
    assert all(_accepts(SitePolicy(), n, 1) for n in range(3, 41))


@pytest.mark.parametrize("value", [0, 1, 2, 7])
def test_the_colluding_members_setting_takes_an_integer_from_zero(value):
    assert check_colluding_members(value) == value


@pytest.mark.parametrize("value", [-1, True, 1.5, "2", None])
def test_the_colluding_members_setting_refuses_anything_else_naming_itself_and_the_fix(value):
    with pytest.raises(ValueError, match=r"max-colluding-members = .*: use 0 or a positive integer") as error:
        check_colluding_members(value)
    assert "[tool.flwr.app.config]" in str(error.value) and "--max-colluding-members N" in str(error.value)


@pytest.mark.parametrize("n_sites", [6, 20])
def test_secure_sum_is_exact_and_keyed_masks_are_in_force(small_fleet, n_sites):
    fleet = small_fleet(n_sites)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), n_sites)
    outcome = run_secure_sum(grid, _server_context(), census_spec(fleet.spec), n_sites)
    assert all(keyed_masks_in_force().values())
    assert all(fast_shamir_in_force().values())
    assert outcome.n_sites == n_sites
    _assert_exact(outcome, _plain_sum(fleet.site_configs, census_spec(fleet.spec), range(n_sites)))


def test_a_values_round_beyond_one_neighbourhood_unmasks_over_exactly_its_census_sites(small_fleet):
    """20 sites: each unmask request lists only a site's 11 neighbours, yet every site checks all 20 survived."""
    from server.server_app import run_census

    fleet = small_fleet(20)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 20)
    census, sites = run_census(grid, _server_context(), fleet.spec, 20)
    census_bytes = census.SerializeToString(deterministic=True)
    outcome = run_secure_sum(grid, _server_context(), fleet.spec, 20, {CENSUS_CONFIG_KEY: census_bytes}, sites)
    assert outcome.n_sites == census.participants == 20


def test_masks_from_different_generators_do_not_cancel(small_fleet, monkeypatch):
    """A client left on Flower's generator while the aggregator draws keyed masks gives no sum at all,
    so the exact sums above prove both ends draw the keyed masks."""
    import importlib

    from flwr.common.secure_aggregation.secaggplus_utils import pseudo_rand_gen

    client_module = importlib.import_module("flwr.client.mod.secure_aggregation.secaggplus_mod")

    def leave_flowers_generator_on_the_client() -> None:
        client_module.pseudo_rand_gen = pseudo_rand_gen

    monkeypatch.setattr("client.guard.install_keyed_masks", leave_flowers_generator_on_the_client)
    fleet = small_fleet(6)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 6)
    outcome = run_secure_sum(grid, _server_context(), census_spec(fleet.spec), 6)
    assert keyed_masks_in_force() == {
        "flwr.client.mod.secure_aggregation.secaggplus_mod": False,
        "flwr.server.workflow.secure_aggregation.secaggplus_workflow": True,
    }
    with pytest.raises(ValueError, match=r"did not cancel|integer-exact"):
        limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites)
    install_keyed_masks()


@pytest.mark.parametrize(("n_sites", "dropped"), [(6, [2]), (20, [0, 7, 13])])
@pytest.mark.parametrize("stage", STAGES)
def test_dropouts_at_any_stage_leave_an_exact_sum_over_the_survivors(small_fleet, n_sites, dropped, stage):
    fleet = small_fleet(n_sites)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), n_sites, drop_at=dict.fromkeys(dropped, stage))
    outcome = run_secure_sum(grid, _server_context(), census_spec(fleet.spec), n_sites - len(dropped))
    # A site that drops while unmasking already sent its masked vector: it is in the sum.
    included = range(n_sites) if stage == Stage.UNMASK else [i for i in range(n_sites) if i not in dropped]
    assert outcome.n_sites == len(included)
    _assert_exact(outcome, _plain_sum(fleet.site_configs, census_spec(fleet.spec), included))


def test_too_many_dropouts_end_with_a_clear_error_and_no_release(small_fleet, tmp_path: Path):
    fleet = small_fleet(6)  # full graph of 6, threshold 4: three dropouts leave three
    store = tmp_path / "release.sqlite"
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 6, drop_at=dict.fromkeys([0, 1, 2], Stage.SHARE_KEYS))
    app = build_server_app(ReleaseRun(fleet.spec, store, 3, tmp_path / "release.json"))
    with pytest.raises(RuntimeError, match=r"ended without a result.*no release was written"):
        app(grid, _server_context())
    # The run claimed the release before round 1 (which made the store) and dropped its claim on failing.
    with pytest.raises(LookupError):
        read_release(store)
    assert claims(store) == [] and not (tmp_path / "release.json").exists()


def test_release_records_the_number_of_survivors(small_fleet, tmp_path: Path):
    fleet = small_fleet(6)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 6, drop_at={4: Stage.COLLECT_MASKED_VECTORS})
    build_server_app(ReleaseRun(fleet.spec, tmp_path / "r.sqlite", 5))(grid, _server_context())
    release = read_release(tmp_path / "r.sqlite")
    assert release.provenance.participants == 5
    assert release.curves[0].operator_count == 5


def _with_policy(site_configs, index: int, policy: str) -> None:
    path = site_configs[index]
    text = path.read_text().split("\n[policy]")[0]
    path.write_text(text + "\n[policy]\n" + policy + "\n")


def test_sites_refuse_rounds_smaller_than_their_policy(small_fleet, caplog):
    fleet = small_fleet(7)
    try:
        for i in range(7):
            _with_policy(fleet.site_configs, i, "min_participants = 8")
        grid = LoopbackGrid(build_client_app(fleet.site_configs), 7)
        with caplog.at_level(logging.ERROR, logger="fleetbench.site"), pytest.raises(RuntimeError, match="no release"):
            run_secure_sum(grid, _server_context(), census_spec(fleet.spec), 7)
        assert "round has 7 participants; policy min_participants is 8" in caplog.text
        # Nothing but refusals came back: no keys, no vectors.
        assert all(message.has_error() for message in grid.received)
        assert all("min_participants" not in message.error.reason for message in grid.received)
    finally:
        for i in range(7):
            _with_policy(fleet.site_configs, i, "")


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        ("min_k_operators = 5", "k_min_operators 3; policy min_k_operators is 5"),
        ('allowed_statistics = ["RECORD_COUNT", "SUM_POWER"]', "which policy allowed_statistics does not allow"),
    ],
)
def test_a_site_refuses_a_spec_its_policy_forbids_and_the_rest_sum_exactly(small_fleet, caplog, policy, reason):
    fleet = small_fleet(7)
    try:
        _with_policy(fleet.site_configs, 3, policy)
        grid = LoopbackGrid(build_client_app(fleet.site_configs), 7)
        with caplog.at_level(logging.ERROR, logger="fleetbench.site"):
            outcome = run_secure_sum(grid, _server_context(), census_spec(fleet.spec), 6)
        assert reason in caplog.text
        assert outcome.n_sites == 6
        _assert_exact(outcome, _plain_sum(fleet.site_configs, census_spec(fleet.spec), [0, 1, 2, 4, 5, 6]))
    finally:
        _with_policy(fleet.site_configs, 3, "")


def test_sites_refuse_a_threshold_that_is_not_a_majority(small_fleet):
    """An aggregator that lowers the threshold could unmask one site: every site refuses at setup."""
    fleet = small_fleet(6)
    install_keyed_masks()
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 6)
    strategy = SecureSumStrategy(fleet.spec, 6)
    weak = SecAggPlusWorkflow(
        num_shares=6,
        reconstruction_threshold=3,
        max_weight=1.0,
        clipping_range=float(CLIPPING_RANGE),
        quantization_range=QUANTIZATION_RANGE,
        modulus_range=MODULUS_RANGE,
    )
    DefaultWorkflow(fit_workflow=weak)(
        grid, LegacyContext(_server_context(), config=ServerConfig(num_rounds=1), strategy=strategy)
    )
    assert strategy.outcome is None
    assert len(grid.received) == 6 and all(message.has_error() for message in grid.received)


def test_the_guard_refuses_an_unmask_request_that_calls_a_node_alive_and_dropped(small_fleet):
    from flwr.app import ConfigRecord
    from flwr.app.message_type import MessageType

    from client.guard import make_site_guard
    from client.policy import ContributionRefused

    fleet = small_fleet(6)
    guard = make_site_guard(lambda context: fleet.site_configs[0])
    crafted = Message(
        RecordDict(
            {
                RECORD_KEY_CONFIGS: ConfigRecord(
                    {Key.STAGE: Stage.UNMASK, Key.ACTIVE_NODE_ID_LIST: [100, 101, 102], Key.DEAD_NODE_ID_LIST: [102]}
                )
            }
        ),
        dst_node_id=100,
        message_type=MessageType.TRAIN,
    )

    def must_not_run(msg, context):
        raise AssertionError("the guard let the request through to SecAgg+")

    with pytest.raises(ContributionRefused):
        guard(crafted, _server_context(), must_not_run)


def test_the_aggregator_never_holds_an_individual_sites_blocks(small_fleet, monkeypatch):
    """Everything the server received, and everything its strategy saw, against each site's plaintext."""
    fleet = small_fleet(6)
    plain = [site_contribution(path, census_spec(fleet.spec)) for path in fleet.site_configs]
    seen_by_strategy = []
    original = SecureSumStrategy.aggregate_fit

    def spy(self, server_round, results, failures):
        seen_by_strategy.extend(fitres for _, fitres in results)
        return original(self, server_round, results, failures)

    monkeypatch.setattr(SecureSumStrategy, "aggregate_fit", spy)
    grid = LoopbackGrid(build_client_app(fleet.site_configs), 6)
    outcome = run_secure_sum(grid, _server_context(), census_spec(fleet.spec), 6)

    vectors = 0
    for message in grid.received:
        assert not message.has_error()
        for record in message.content.array_records.values():
            assert len(record) == 0
        for name, record in message.content.metric_records.items():
            assert dict(record) == {"num_examples": 1}, name
        configs = message.content.config_records
        assert dict(configs.get("fitres.metrics", {})) == {}
        masked = configs.get(RECORD_KEY_CONFIGS, {}).get(Key.MASKED_PARAMETERS)  # a consistency reply has none
        if masked is None:
            continue
        vectors += 1
        arrays = [bytes_to_ndarray(b) for b in masked][1:]  # after Flower's weight factor
        for site_arrays in plain:
            for received, own in zip(arrays, site_arrays, strict=True):
                assert not np.array_equal(received, own)
                assert not np.array_equal(np.mod(received, MODULUS_RANGE), np.mod(own + CLIPPING_RANGE, MODULUS_RANGE))
        values = np.concatenate([a.ravel() for a in arrays]).astype(np.float64) / MODULUS_RANGE
        # Uniform on [0, 1): the mean of n masked values lies within 5 standard deviations of 1/2.
        assert abs(values.mean() - 0.5) < 5 * np.sqrt(1 / 12 / values.size) and values.max() < 1.0
    assert vectors == 6
    # The strategy only ever sees the aggregate: every result carries the same sum.
    assert len(seen_by_strategy) == 6
    for fitres in seen_by_strategy:
        assert fitres.num_examples == 1 and fitres.metrics == {}
        for got, mean in zip(fitres.parameters.tensors, outcome.mean_arrays, strict=True):
            np.testing.assert_array_equal(bytes_to_ndarray(got), mean)


def test_sites_that_assume_two_colluders_sum_exactly_in_rounds_sized_for_two(small_fleet, caplog):
    """Six sites, each policy max_colluding_members = 2; the aggregator's max-colluding-members is 2: t = 5 of 6."""
    fleet = small_fleet(6)
    census = census_spec(fleet.spec)
    try:
        for i in range(6):
            _with_policy(fleet.site_configs, i, "max_colluding_members = 2")
        grid = LoopbackGrid(build_client_app(fleet.site_configs), 6)
        outcome = run_secure_sum(grid, _server_context(), census, 6, colluding_members=2)
        assert outcome.n_sites == 6
        _assert_exact(outcome, _plain_sum(fleet.site_configs, census, range(6)))

        # Control: the same round sized for one colluder (t = 4 of 6, and 2 * 4 <= 6 + 2): every site refuses at setup.
        for site in fleet.site_configs:
            forget_site_history(site)
        grid = LoopbackGrid(build_client_app(fleet.site_configs), 6)
        with caplog.at_level(logging.ERROR, logger="fleetbench.site"), pytest.raises(RuntimeError, match="no release"):
            run_secure_sum(grid, _server_context(), census, 6, colluding_members=1)
        assert "threshold 4 of 6 neighbours would let the aggregator and policy max_colluding_members 2" in caplog.text
        assert len(grid.received) == 6 and all(message.has_error() for message in grid.received)
    finally:
        for i in range(6):
            _with_policy(fleet.site_configs, i, "")
