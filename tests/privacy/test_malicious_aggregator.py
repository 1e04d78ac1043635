"""A cheating aggregator against the sites' member checks (issue 17), each attack with its control.

The aggregator here runs FleetBench's own server code over an in-process loopback federation, and
cheats on the way: it adds nodes of its own, forges or pushes what the sites verify, tells sites
different survivor sets, or enlists a colluding member. Each attack ends in what the aggregator
wants: one victim's exact census contribution. Each test shows the victim's site refusing before
any share or masked vector leaves it (or, where the site does reveal, that the aggregator holds too
few shares), and a control with one check switched off in which the same attack recovers the
victim's contribution exactly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.common import bytes_to_ndarray
from flwr.common.secure_aggregation.crypto.shamir import combine_shares
from flwr.common.secure_aggregation.crypto.symmetric_encryption import generate_shared_key
from flwr.common.secure_aggregation.ndarrays_arithmetic import (
    parameters_addition,
    parameters_mod,
    parameters_subtraction,
)
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, RECORD_KEY_STATE, Key, Stage
from flwr.supercore.primitives.asymmetric import bytes_to_private_key, bytes_to_public_key

from client.client_app import build_client_app
from client.contribution import site_contribution
from client.site_config import MemberConfig, load_site_config
from protos.census import census_spec
from protos.codec import CLIPPING_RANGE, MODULUS_RANGE, limb_sums_from_weighted_mean, spec_sha256
from protos.fleetbench.v1 import spec_pb2
from protos.masking import keyed_masks
from protos.messages import CONSISTENCY_STAGE, SPEC_CONFIG_KEY, SURVIVORS_RECORD
from protos.roster import Roster, read_member_key, read_roster, round_keys_sha256, survivor_statement
from server import secure_sum
from server.secure_sum import run_secure_sum
from simulations.fleet import FleetConfig, enrol_members, forget_site_history, generate_fleet
from simulations.loopback import FIRST_NODE_ID, LoopbackGrid
from simulations.onboarding import fleet_spec, run_release_in_process

MODEL = "E-82/2300"
pytestmark = pytest.mark.usefixtures("fixed_commitment_randomness")
CONFIG = FleetConfig(operators=5, turbines_per_operator=1, months=1, seed=17, models=(MODEL,))
CENSUS = census_spec(fleet_spec(CONFIG, k_min_operators=3))
VICTIM = FIRST_NODE_ID  # node of partition 0


# The aggregator's tools ------------------------------------------------------------------------


@dataclass
class CheatingGrid(LoopbackGrid):
    """The aggregator's side of a loopback federation: ``tamper`` rewrites each message before delivery."""

    tamper: Callable[[Message], None] = field(default=lambda message: None)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Tamper with each message, then deliver it (every send pushes: the stages poll for replies)."""
        messages = [deepcopy(message) for message in messages]  # Flower's stages share one content between messages
        for message in messages:
            self.tamper(message)
        return super().push_messages(messages)

    def replies_from(self, node: int) -> list[Message]:
        """Every reply ``node`` sent."""
        return [reply for reply in self.received if reply.metadata.src_node_id == node]

    def secagg_state(self, node: int) -> ConfigRecord:
        """What SecAgg+ keeps on ``node``: a colluding member hands the aggregator all of it."""
        return self._contexts[node].state.config_records[RECORD_KEY_STATE]


def _context() -> Context:
    return Context(run_id=7, node_id=0, node_config={}, state=RecordDict(), run_config={})


def _truth(site: Path) -> list[np.ndarray]:
    """The victim's census contribution, as SecAgg+ quantises it (the identity shifted by the clipping range)."""
    return [np.mod(a + CLIPPING_RANGE, MODULUS_RANGE) for a in site_contribution(site, CENSUS)]


def _recovered_by_subtraction(outcome: secure_sum.SecureSumOutcome, known_sites: Sequence[Path]) -> list[np.ndarray]:
    """The sum minus the contributions the aggregator knows (its own nodes', its colluders'), quantised as _truth."""
    sums = limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites)
    for site in known_sites:
        sums = [s - a for s, a in zip(sums, site_contribution(site, CENSUS), strict=True)]
    return [np.mod(s + CLIPPING_RANGE, MODULUS_RANGE) for s in sums]


def _same(recovered: Sequence[np.ndarray] | None, truth: Sequence[np.ndarray]) -> bool:
    return recovered is not None and all(np.array_equal(r, t) for r, t in zip(recovered, truth, strict=True))


def _without_member_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: sites that take the aggregator's word on who takes part and who survived (Flower 1.42's SecAgg+)."""
    monkeypatch.setattr(
        "client.guard.check_neighbours", lambda roster, run_id, own, keys, adverts: {n: adverts[n].member for n in keys}
    )
    monkeypatch.setattr(
        "client.guard.check_participants",
        lambda roster, run_id, own, neighbours, sampled, adverts, verified: {n: a.member for n, a in adverts.items()},
    )
    monkeypatch.setattr("client.guard.check_survivor_signatures", lambda *args: None)
    monkeypatch.setattr("client.guard.signature_check", lambda *args: b"")  # nothing verified, nothing to remember
    monkeypatch.setattr(  # the census commitments taken as relayed, whoever signed them
        "client.guard.check_commitment_list", lambda roster, run_id, spec, members, own, listed: ""
    )


def _refused_because(caplog: pytest.LogCaptureFixture, reason: str) -> bool:
    """The site's own log names ``reason`` for its refusal (the aggregator only ever sees that it refused)."""
    return "round refused by site policy" in caplog.text and reason in caplog.text


def _sent_only_its_keys(grid: CheatingGrid, node: int) -> bool:
    """The node answered setup (its public keys) and refused every later stage: no share, no masked vector."""
    replies = grid.replies_from(node)
    return replies[0].has_content() and all(reply.has_error() for reply in replies[1:])


@pytest.fixture
def consortium(tmp_path: Path) -> list[Path]:
    """Five honest operators, one turbine-month each, each its own member of one roster."""
    return generate_fleet(CONFIG, tmp_path / "consortium")


@pytest.fixture
def aggregator_sites(tmp_path: Path) -> list[Path]:
    """Two sites the aggregator made itself: it knows every number they send."""
    return generate_fleet(
        FleetConfig(operators=2, turbines_per_operator=1, months=1, seed=99, models=(MODEL,)), tmp_path / "aggregator"
    )


def _sybil_round(victim: Path, sybils: Sequence[Path], tamper: Callable[[Message], None] = lambda m: None):
    """The victim and the aggregator's own nodes in one census round; the sum (None if refused) and the grid."""
    grid = CheatingGrid(build_client_app([victim, *sybils]), 1 + len(sybils), tamper=tamper)
    outcome = None
    with contextlib.suppress(RuntimeError):
        outcome = run_secure_sum(grid, _context(), CENSUS, 3)
    return outcome, grid


# 1. Nodes of the aggregator's own --------------------------------------------------------------


def test_nodes_not_on_the_roster_get_no_share_of_a_site(consortium, aggregator_sites, monkeypatch, caplog):
    """k = 3 made of the victim and two nodes of the aggregator's: the sum minus its own is the victim's."""
    enrol_members(aggregator_sites, ["sybil-1", "sybil-2"], consortium="the aggregator's own")
    outcome, grid = _sybil_round(consortium[0], aggregator_sites)
    assert outcome is None and _sent_only_its_keys(grid, VICTIM)
    assert _refused_because(caplog, "who is not on the roster this site pinned")

    _without_member_checks(monkeypatch)
    outcome, _ = _sybil_round(consortium[0], aggregator_sites)
    assert _same(_recovered_by_subtraction(outcome, aggregator_sites), _truth(consortium[0]))


def test_a_forged_member_signature_gets_no_share_of_a_site(consortium, aggregator_sites, monkeypatch, caplog):
    """The aggregator's nodes claim to be members 2 and 3, signing with keys of their own."""
    enrol_members(aggregator_sites, ["operator-02", "operator-03"], consortium="synthetic consortium")
    assert (
        read_roster(aggregator_sites[0].parent / "consortium" / "roster.json").names
        <= read_roster(consortium[0].parent / "consortium" / "roster.json").names
    )
    outcome, grid = _sybil_round(consortium[0], aggregator_sites)
    assert outcome is None and _sent_only_its_keys(grid, VICTIM)
    assert _refused_because(caplog, "keys are not signed by member 'operator-02'")

    _without_member_checks(monkeypatch)
    outcome, _ = _sybil_round(consortium[0], aggregator_sites)
    assert _same(_recovered_by_subtraction(outcome, aggregator_sites), _truth(consortium[0]))


def test_a_roster_pushed_by_the_aggregator_changes_nothing(consortium, aggregator_sites, monkeypatch, caplog):
    """The aggregator sends, with every message, a roster that adds its own nodes as members."""
    enrol_members(aggregator_sites, ["sybil-1", "sybil-2"], consortium="synthetic consortium")
    pinned = read_roster(consortium[0].parent / "consortium" / "roster.json")
    theirs = read_roster(aggregator_sites[0].parent / "consortium" / "roster.json")
    pushed = Roster(pinned.consortium, pinned.members + theirs.members)

    def push_roster(message: Message) -> None:
        if message.has_content():
            message.content.config_records["fleetbench.roster"] = ConfigRecord({"roster": pushed.to_json()})

    outcome, grid = _sybil_round(consortium[0], aggregator_sites, push_roster)
    assert outcome is None and _sent_only_its_keys(grid, VICTIM)
    assert _refused_because(caplog, "who is not on the roster this site pinned")

    # Control: sites that take the roster they are sent (their own key, the aggregator's roster).
    original = MemberConfig.identity
    monkeypatch.setattr(MemberConfig, "identity", lambda self: (original(self)[0], pushed))
    outcome, _ = _sybil_round(consortium[0], aggregator_sites, push_roster)
    assert _same(_recovered_by_subtraction(outcome, aggregator_sites), _truth(consortium[0]))


def test_a_roster_changed_on_disk_without_a_new_pin_stops_the_site(consortium, aggregator_sites):
    """Whoever swaps the roster file for one listing the aggregator's nodes: the site no longer loads."""
    from client.site_config import SiteConfigError

    enrol_members(aggregator_sites, ["sybil-1", "sybil-2"], consortium="synthetic consortium")
    pinned = read_roster(consortium[0].parent / "consortium" / "roster.json")
    theirs = read_roster(aggregator_sites[0].parent / "consortium" / "roster.json")
    (consortium[0].parent / "consortium" / "roster.json").write_text(
        Roster(pinned.consortium, pinned.members + theirs.members).to_json()
    )
    with pytest.raises(SiteConfigError, match="the site pinned"):
        load_site_config(consortium[0])
    outcome, grid = _sybil_round(consortium[0], aggregator_sites)
    assert outcome is None and all(reply.has_error() for reply in grid.replies_from(VICTIM))


def test_a_roster_changed_on_disk_during_a_round_stops_the_site_at_its_next_stage(consortium, caplog):
    """A stage reuses what the round's setup read only while the files hold the same bytes."""
    victim_roster = consortium[0].parent / "consortium" / "roster.json"
    pinned = read_roster(victim_roster)

    def swap_roster_before_consistency(message: Message) -> None:
        stage = message.content.config_records.get(RECORD_KEY_CONFIGS, {}).get(Key.STAGE)
        if stage == CONSISTENCY_STAGE and message.metadata.dst_node_id == VICTIM:
            victim_roster.write_text(Roster(pinned.consortium, pinned.members[:-1]).to_json())

    outcome, grid = _sybil_round(consortium[0], consortium[1:3], swap_roster_before_consistency)
    replies = grid.replies_from(VICTIM)
    assert outcome is None and replies[2].has_content() and replies[3].has_error()  # sent its vector, signed nothing
    # Its log names the file that changed (site.toml names the roster), not a policy of the round.
    assert "cannot take part: site.toml or a file it names cannot be used" in caplog.text
    assert "the site pinned" in caplog.text

    # Control: the same round with the pinned roster back in place.
    victim_roster.write_text(pinned.to_json())
    outcome, _ = _sybil_round(consortium[0], consortium[1:3])
    assert outcome is not None and outcome.n_sites == 3


# 2. One member, two nodes ------------------------------------------------------------------------


def test_one_member_with_two_nodes_is_refused(consortium, monkeypatch, caplog):
    """Member 2 runs two nodes and tells the aggregator what both sent: with the victim, "3 operators"."""
    victim, colluder_a, colluder_b = consortium[:3]
    enrol_members([victim, colluder_a, colluder_b], ["operator-01", "operator-02", "operator-02"])
    outcome, grid = _sybil_round(victim, [colluder_a, colluder_b])
    assert outcome is None and _sent_only_its_keys(grid, VICTIM)
    assert _refused_because(caplog, "member(s) ['operator-02'] take part in this round with more than one node")

    # Control: sites that count nodes, not members.
    monkeypatch.setattr("client.membership.check_one_node_per_member", lambda members: None)
    outcome, _ = _sybil_round(victim, [colluder_a, colluder_b])
    assert _same(_recovered_by_subtraction(outcome, [colluder_a, colluder_b]), _truth(victim))


def test_an_operator_splitting_its_fleet_over_two_sites_cannot_pass_the_dominance_rule(tmp_path, monkeypatch, caplog):
    """Member A's 12 turbines as two sites of 6 beside two operators of 2: 6 / 16 passes dominance, 12 / 16 would not.

    Sites of one member sign with its one key, so the round sees member A twice and is refused; A
    takes part with one site listing all its exports, and the cohort is then suppressed (as the
    12 + 1 + 1 + 1 fleet of tests/simulations/test_fleet_quality.py is).
    """
    config = FleetConfig(operators=4, months=1, seed=9, models=(MODEL,), turbines_by_operator=(6, 6, 2, 2))
    sites = generate_fleet(config, tmp_path)
    enrol_members(sites, ["operator-A", "operator-A", "operator-C", "operator-D"])
    spec = fleet_spec(config, k_min_operators=3)
    with pytest.raises(RuntimeError):
        run_release_in_process(sites, spec, indicators=False, send=False)
    assert _refused_because(caplog, "member(s) ['operator-A'] take part in this round with more than one node")

    # Control: sites that count nodes, not members: the split passes dominance and the cohort is published.
    forget_history(sites)
    monkeypatch.setattr("client.membership.check_one_node_per_member", lambda members: None)
    release = run_release_in_process(sites, spec, indicators=False, send=False)
    curve = next(curve for curve in release.curves if curve.cohort == MODEL)
    assert not curve.suppressed and curve.operator_count == 4


# 3. Different survivor sets told to different sites ----------------------------------------------


@dataclass
class SplittingAggregator:
    """Tells each site its own survivor set, and unmasks the victim with a colluding member's help.

    ``told`` maps each node to the survivor set it is told; a site told the victim survived
    reveals a share of the victim's mask seed, a site told it dropped a share of its key. The
    colluder (member 5) signs whatever it is asked and hands over its own shares of both.
    """

    told: dict[int, tuple[int, ...]]
    colluder: int
    colluder_key: Path
    signatures: dict[int, bytes] = field(default_factory=dict)
    keys: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)

    def tamper(self, message: Message) -> None:
        """Rewrite the consistency and unmask messages to each site's own story."""
        if not message.has_content() or RECORD_KEY_CONFIGS not in message.content.config_records:
            return
        node = message.metadata.dst_node_id
        stage = message.content.config_records[RECORD_KEY_CONFIGS].get(Key.STAGE)
        survivors = list(self.told[node])
        if stage == CONSISTENCY_STAGE:  # each survivor's census commitment relayed as the workflow listed it
            relayed = message.content.config_records[SURVIVORS_RECORD]
            kept = [i for i, n in enumerate(relayed["node_ids"]) if n in survivors]
            record = {
                name: [relayed[name][i] for i in kept]
                for name in ("commitment_members", "commitments", "commitment_signatures")
            }
            message.content.config_records[SURVIVORS_RECORD] = ConfigRecord({"node_ids": survivors, **record})
        elif stage == Stage.UNMASK:
            everyone = sorted(self.told)  # five sites: a full graph
            message.content.config_records[RECORD_KEY_CONFIGS] = ConfigRecord(
                {
                    Key.STAGE: Stage.UNMASK,
                    Key.ACTIVE_NODE_ID_LIST: survivors,
                    Key.DEAD_NODE_ID_LIST: [n for n in everyone if n not in survivors],
                }
            )
            message.content.config_records[SURVIVORS_RECORD] = ConfigRecord(
                {"node_ids": survivors, "signatures": [self._signature(n, survivors) for n in survivors]}
            )

    def _signature(self, node: int, survivors: list[int]) -> bytes:
        if node == self.colluder:
            round_keys = round_keys_sha256({n: self.keys[n] for n in survivors})
            statement = survivor_statement(7, survivors, spec_sha256(CENSUS), "", round_keys)
            return read_member_key(self.colluder_key).sign(statement)
        return self.signatures.get(node, b"")

    def keep_replies(self, grid: CheatingGrid) -> None:
        """Each site's signature over the set it was told (from its consistency reply), and its keys (from setup)."""
        self.keys.update(self._public_keys(grid))
        for reply in grid.received:
            if reply.has_content() and SURVIVORS_RECORD in reply.content.config_records:
                self.signatures[reply.metadata.src_node_id] = bytes(
                    reply.content.config_records[SURVIVORS_RECORD]["signature"]
                )

    def unmask_victim(self, grid: CheatingGrid, victim: int, threshold: int) -> list[np.ndarray] | None:
        """The victim's input from its masked vector, if the shares revealed reach the threshold."""
        seed_shares, key_shares = self._colluders_shares(grid, victim)
        for node in self.told:
            if node == self.colluder:
                continue
            for reply in grid.replies_from(node):
                listed = reply.content.config_records.get(RECORD_KEY_CONFIGS, {}) if reply.has_content() else {}
                if Key.NODE_ID_LIST in listed and victim in listed[Key.NODE_ID_LIST]:
                    share = listed[Key.SHARE_LIST][list(listed[Key.NODE_ID_LIST]).index(victim)]
                    (seed_shares if victim in self.told[node] else key_shares).append(bytes(share))
        if min(len(seed_shares), len(key_shares)) < threshold:
            return None
        masked = next(
            [bytes_to_ndarray(b) for b in reply.content.config_records[RECORD_KEY_CONFIGS][Key.MASKED_PARAMETERS]]
            for reply in grid.replies_from(victim)
            if reply.has_content() and Key.MASKED_PARAMETERS in reply.content.config_records.get(RECORD_KEY_CONFIGS, {})
        )
        shapes = [a.shape for a in masked]
        unmasked = parameters_subtraction(masked, keyed_masks(combine_shares(seed_shares), MODULUS_RANGE, shapes))
        key = bytes_to_private_key(combine_shares(key_shares))
        for node, (public_key, _) in self._public_keys(grid).items():
            if node == victim:
                continue
            pairwise = keyed_masks(generate_shared_key(key, bytes_to_public_key(public_key)), MODULUS_RANGE, shapes)
            unmasked = (parameters_subtraction if victim > node else parameters_addition)(unmasked, pairwise)
        return parameters_mod(unmasked, MODULUS_RANGE)[1:]  # after Flower's weight factor

    def _colluders_shares(self, grid: CheatingGrid, victim: int) -> tuple[list[bytes], list[bytes]]:
        state = grid.secagg_state(self.colluder)
        seeds = dict(zip(state["rd_seed_share_dict:K"], state["rd_seed_share_dict:V"], strict=True))
        keys = dict(zip(state["sk1_share_dict:K"], state["sk1_share_dict:V"], strict=True))
        return [bytes(seeds[victim])], [bytes(keys[victim])]

    @staticmethod
    def _public_keys(grid: CheatingGrid) -> dict[int, tuple[bytes, bytes]]:
        """Each node's two public keys, from its setup reply (the advertisement the sites verify)."""
        keys: dict[int, tuple[bytes, bytes]] = {}
        for reply in grid.received:
            made = reply.content.config_records.get(RECORD_KEY_CONFIGS, {}) if reply.has_content() else {}
            if Key.PUBLIC_KEY_1 in made:
                keys[reply.metadata.src_node_id] = (bytes(made[Key.PUBLIC_KEY_1]), bytes(made[Key.PUBLIC_KEY_2]))
        return keys


def _split_round(sites: list[Path], told: dict[int, tuple[int, ...]], threshold: int, colluding_members: int = 1):
    """One census round in which the aggregator tells each site ``told[node]``; the victim as it recovers it.

    The round is sized against ``colluding_members`` (the run config's ``max-colluding-members``).
    """
    colluder = FIRST_NODE_ID + 4
    key = load_site_config(sites[4]).member
    assert key is not None
    attacker = SplittingAggregator(told, colluder, key.key_path)
    grid = CheatingGrid(build_client_app(sites), len(sites))

    def tamper(message: Message) -> None:
        attacker.keep_replies(grid)
        attacker.tamper(message)

    grid.tamper = tamper
    with contextlib.suppress(Exception):  # the honest server code cannot make sense of the split sum
        run_secure_sum(grid, _context(), CENSUS, 3, colluding_members=colluding_members)
    return attacker.unmask_victim(grid, VICTIM, threshold), grid


def _revealed_shares(reply: Message) -> bool:
    return reply.has_content() and Key.SHARE_LIST in reply.content.config_records.get(RECORD_KEY_CONFIGS, {})


def forget_history(sites: Sequence[Path]) -> None:
    for site in sites:
        forget_site_history(site)


def _with_policy(sites: Sequence[Path], policy: str) -> None:
    for site in sites:
        site.write_text(site.read_text().split("\n[policy]")[0] + "\n[policy]\n" + policy + "\n")


NODES = tuple(FIRST_NODE_ID + i for i in range(5))  # victim, a, b1, b2, colluder


def test_survivor_sets_that_differ_between_sites_are_refused_before_any_share(consortium, monkeypatch, caplog):
    """Sites b1, b2 are told the victim dropped (shares of its key); the rest that it survived (of its seed)."""
    without_victim = NODES[1:]
    told = {n: (without_victim if n in NODES[2:4] else NODES) for n in NODES}
    recovered, grid = _split_round(consortium, told, threshold=4)
    assert recovered is None and _refused_because(caplog, "did not sign this survivor set")
    for node in NODES[:4]:  # every honest site refused to unmask: no share of anything left it
        assert not any(_revealed_shares(reply) for reply in grid.replies_from(node))

    # Control: sites that neither check the survivor signatures nor count a colluder in the threshold
    # (the honest-but-curious majority threshold).
    forget_history(consortium)
    monkeypatch.setattr("client.guard.check_survivor_signatures", lambda *args: None)
    _with_policy(consortium, "max_colluding_members = 0")
    recovered, _ = _split_round(consortium, told, threshold=3, colluding_members=0)
    assert _same(recovered, _truth(consortium[0]))


def test_a_partition_into_two_signed_survivor_sets_gets_no_share(consortium, caplog):
    """{victim, a, colluder} and {b1, b2, colluder}: each set fully signed, so the consistency check passes;
    but with t = 4 > (5 + 1) / 2 neither set reaches the threshold, and no site reveals a share for it."""
    victim, a, b1, b2, colluder = NODES
    told = {victim: (victim, a, colluder), a: (victim, a, colluder), b1: (b1, b2, colluder), b2: (b1, b2, colluder)}
    told[colluder] = NODES
    recovered, grid = _split_round(consortium, told, threshold=4)
    assert recovered is None and "Available neighbours number smaller than threshold" in caplog.text
    for node in NODES[:4]:
        assert not any(_revealed_shares(reply) for reply in grid.replies_from(node))

    # Control: the honest-but-curious majority threshold (t = 3), which the sites accept when told no member colludes.
    forget_history(consortium)
    _with_policy(consortium, "max_colluding_members = 0")
    recovered, _ = _split_round(consortium, told, threshold=3, colluding_members=0)
    assert _same(recovered, _truth(consortium[0]))


# 4. Different specs sent to different sites ------------------------------------------------------


def _victim_sent(spec: spec_pb2.BenchmarkSpec) -> Callable[[Message], None]:
    """Rewrite the spec the victim receives at collect (the others keep the round's own)."""

    def tamper(message: Message) -> None:
        fit_config = message.content.config_records.get("fitins.config")
        if message.metadata.dst_node_id == VICTIM and fit_config is not None and SPEC_CONFIG_KEY in fit_config:
            fit_config[SPEC_CONFIG_KEY] = spec.SerializeToString(deterministic=True)

    return tamper


def test_a_spec_sent_to_one_site_only_gets_no_share_of_any_site(consortium, monkeypatch, caplog):
    """The victim is sent the census spec with k_min_operators 4, the other two sites with 3: the same blocks.

    SecAgg+ sums vectors of the same layout whatever spec each was computed for (a private spec's
    consequence, less noise than the victim is charged for, is in tests/client/test_guard.py).
    """
    other = spec_pb2.BenchmarkSpec()
    other.CopyFrom(CENSUS)
    other.k_min_operators = 4
    outcome, grid = _sybil_round(consortium[0], consortium[1:3], _victim_sent(other))
    # A census round's commitments are signed for its spec too: they catch it first, at the consistency stage.
    assert outcome is None and _refused_because(caplog, "census commitment is not signed by it for this census")
    for node in NODES[:3]:  # every site refused to unmask: no share of anything left it
        assert not any(_revealed_shares(reply) for reply in grid.replies_from(node))
    # The aggregator hears only that the sites refused: their unmask replies name nothing.
    reasons = [reply.error.reason for node in NODES[:3] for reply in grid.replies_from(node) if reply.has_error()]
    assert len(reasons) == 3
    assert all("the site refused to contribute; the reason is in the site's own log" in r for r in reasons)
    assert not any("spec" in r for r in reasons)

    # Control: sites that check neither the survivors' signatures nor the census commitments' unmask a sum of
    # vectors computed for two specs.
    forget_history(consortium)
    monkeypatch.setattr("client.guard.check_survivor_signatures", lambda *args: None)
    monkeypatch.setattr("client.guard.check_commitment_list", lambda *args: "")
    outcome, _ = _sybil_round(consortium[0], consortium[1:3], _victim_sent(other))
    assert outcome is not None and outcome.n_sites == 3
