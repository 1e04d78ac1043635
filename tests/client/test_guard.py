"""The site guard's checks on a private round, by hand, each attack with its control.

The noise on a site's values is the sum of every survivor's share, each drawn for the spec that
survivor received; the aggregator, and the members colluding with it, know (or can subtract)
some of those shares. Each test is an aggregator's attack on that noise, refused by the guard,
and a control with the check switched off in which the noise left is below what the spec states.
The noise shares are drawn as continuous Gaussians from a seeded generator, of the size
client.privacy.add_site_noise draws its discrete ones. The last two tests replay, in a later round
of the run, a survivor signature of an earlier one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client import membership
from client.guard import RoundState, check_spec_round, check_survivor_round, check_survivors
from client.membership import check_own_keys, check_survivor_signatures
from client.policy import PolicyViolation, SitePolicy, check_spec
from protos.codec import block_layouts
from protos.fleetbench.v1 import spec_pb2
from protos.roster import Advertisement, Roster, key_advertisement, public_bytes
from protos.statistics import site_noise_stddev
from server.spec import PrivacySettings, power_curve_spec, solar_cohort, solar_spec

RUN = 7
PERIOD = ("2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z")


def _spec(kind: str, epsilon: float, min_noise_sites: int) -> spec_pb2.BenchmarkSpec:
    """A private spec of ``kind`` at ``epsilon``: the same blocks, shapes and bounds whatever the epsilon."""
    privacy = PrivacySettings(epsilon, min_noise_sites=min_noise_sites)
    if kind == "solar":
        return solar_spec("bound", *PERIOD, [solar_cohort("all")], privacy=privacy)
    return power_curve_spec("bound", *PERIOD, ["E-82/2300"], privacy=privacy)


def _noised_block(spec: spec_pb2.BenchmarkSpec) -> spec_pb2.Block:
    """The spec's capped curve histogram: the block its noise protects a unit's records in."""
    return next(block for block in spec.blocks if block.noise_stddev > 0)


def _consortium(n: int) -> tuple[Roster, dict[int, str], dict[int, Ed25519PrivateKey]]:
    """n members, node 100 + i being member m<i>: the roster, node -> member, node -> member key."""
    keys = {100 + i: Ed25519PrivateKey.generate() for i in range(n)}
    members = {node: f"m{node - 100}" for node in keys}
    roster = Roster.of("test", {members[node]: public_bytes(key) for node, key in keys.items()})
    return roster, members, keys


def _round_keys(members: Mapping[int, str], round_number: int = 1) -> dict[int, tuple[bytes, bytes]]:
    """Each node's two SecAgg+ public keys in one round of the run: stand-ins, other in every round as setup's are."""

    def key(node: int, pk: int) -> bytes:
        return hashlib.sha256(f"round {round_number} node {node} pk{pk}".encode()).digest()

    return {node: (key(node, 1), key(node, 2)) for node in members}


def _collected(
    policy: SitePolicy,
    members: dict[int, str],
    spec: spec_pb2.BenchmarkSpec,
    census: bytes | None = None,
    round_keys: Mapping[int, tuple[bytes, bytes]] | None = None,
) -> RoundState:
    """A site's state after collect: every node a verified participant with its keys, the spec (and census) it got."""
    keys = round_keys if round_keys is not None else _round_keys(members)
    state = RoundState(
        sampled=len(members),
        threshold=len(members) - 1,
        participants=tuple(members),
        participant_members=tuple(members.values()),
        participant_keys_1=tuple(keys[node][0] for node in members),
        participant_keys_2=tuple(keys[node][1] for node in members),
    )
    return check_spec_round(policy, state, spec, census)


def _consistent(states: dict[int, RoundState]) -> dict[int, RoundState]:
    """Each site's state once it took every node for a survivor at the consistency stage (and hashed their keys)."""
    survivors = tuple(sorted(states))
    return {node: check_survivor_round(state, node, survivors) for node, state in states.items()}


def _signatures(keys: dict[int, Ed25519PrivateKey], states: dict[int, RoundState]) -> list[bytes]:
    """Each survivor's signature over the survivor set, the hashes of what it received and its round's keys."""
    survivors = tuple(sorted(keys))
    return [
        keys[node].sign(
            membership.survivor_statement(
                RUN, survivors, states[node].spec_sha256, states[node].census_sha256, states[node].round_keys_sha256
            )
        )
        for node in survivors
    ]


def _check_unmask(roster: Roster, members: dict[int, str], state: RoundState, signatures: list[bytes]) -> None:
    """A site's check of the survivors' signatures before it reveals any share."""
    survivors = tuple(sorted(members))
    check_survivor_signatures(
        roster,
        RUN,
        members,
        state.survivors,
        survivors,
        signatures,
        state.spec_sha256,
        state.census_sha256,
        state.round_keys_sha256,
    )


def _hash_blind_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: sites sign and check the survivor set and round, as before the spec and census were bound."""
    statement = membership.survivor_statement
    monkeypatch.setattr(
        membership,
        "survivor_statement",
        lambda run_id, survivors, spec, census, round_keys: statement(run_id, survivors, "", "", round_keys),
    )


def _round_blind_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: sites sign and check the survivor set, spec and census, as before the round keys were bound."""
    statement = membership.survivor_statement
    monkeypatch.setattr(
        membership,
        "survivor_statement",
        lambda run_id, survivors, spec, census, round_keys: statement(run_id, survivors, spec, census, ""),
    )


@pytest.mark.parametrize("kind", ["wind", "solar"])
def test_a_site_sent_a_stricter_spec_than_the_other_survivors_refuses_to_unmask(kind, monkeypatch):
    """The target's spec at epsilon 0.5, the other nine sites' (t = 10) at epsilon 4 with the same block layout.

    SecAgg+ sums the two (the layouts match) and both pass the site policy; the target would charge
    epsilon 0.5 while the noise on its values is its own share and the other sites' far smaller ones.
    """
    t = 10
    roster, members, keys = _consortium(t)
    target, others = _spec(kind, 0.5, t), _spec(kind, 4.0, t)
    layout = [(b.key, b.shape, b.n_limbs) for b in block_layouts(target)]
    assert layout == [(b.key, b.shape, b.n_limbs) for b in block_layouts(others)]
    for spec in (target, others):
        check_spec(SitePolicy(), spec)
    policy, target_node = SitePolicy(), min(members)
    states = _consistent(
        {node: _collected(policy, members, target if node == target_node else others) for node in members}
    )
    signatures = _signatures(keys, states)

    # The target refuses to reveal any share; so does every other site, shown the target's signature.
    with pytest.raises(PolicyViolation, match="did not sign this survivor set with spec"):
        _check_unmask(roster, members, states[target_node], signatures)
    with pytest.raises(PolicyViolation, match=f"survivor {target_node} did not sign this survivor set"):
        _check_unmask(roster, members, states[target_node + 1], signatures)
    # Sent the same spec, every site passes.
    same = _consistent({node: _collected(policy, members, others) for node in members})
    for node in members:
        _check_unmask(roster, members, same[node], _signatures(keys, same))

    # Control: sites that sign the survivor set alone accept the split, and the noise left on the
    # target's values once one colluder subtracts its own share is far below the sigma it is charged for
    # (sd 0.35 sigma: the rho spent is 8 times the rho charged).
    _hash_blind_statement(monkeypatch)
    signatures = _signatures(keys, states)
    for node in members:
        _check_unmask(roster, members, states[node], signatures)
    rng = np.random.default_rng(20261130)
    stated = _noised_block(target).noise_stddev
    share_target = site_noise_stddev(stated, t)
    share_other = site_noise_stddev(_noised_block(others).noise_stddev, t)
    left = rng.normal(0.0, share_target, 20_000) + rng.normal(0.0, share_other, (t - 2, 20_000)).sum(axis=0)
    assert left.std() < 0.5 * stated
    # Sent the target's spec, the other sites would have left it the noise it states.
    honest = rng.normal(0.0, share_target, (t - 1, 20_000)).sum(axis=0)
    assert honest.std() == pytest.approx(stated, rel=0.03)


def test_a_site_sent_another_census_than_the_other_survivors_refuses_to_unmask(monkeypatch):
    """A values round: the same spec everywhere, but the target's census says one cell has one operator more.

    A site decides from its census which cells carry values (protos.census.withhold_failing_cells);
    with another census than the others the target sends values for cells the others withhold.
    """
    t = 3
    roster, members, keys = _consortium(t)
    spec = _spec("solar", 1.0, t)
    census = spec_pb2.Census(participants=t, totals=[spec_pb2.CensusTotal(values=["3", "2", "0"])])
    raised = spec_pb2.Census()
    raised.CopyFrom(census)
    raised.totals[0].values[0] = "4"
    target_node = min(members)
    states = _consistent(
        {
            node: _collected(
                SitePolicy(), members, spec, (raised if node == target_node else census).SerializeToString()
            )
            for node in members
        }
    )
    assert len({state.spec_sha256 for state in states.values()}) == 1
    with pytest.raises(PolicyViolation, match=r"did not sign this survivor set with spec .* and census"):
        _check_unmask(roster, members, states[target_node], _signatures(keys, states))

    # Control: sites that sign the survivor set alone unmask values decided by two different censuses.
    _hash_blind_statement(monkeypatch)
    _check_unmask(roster, members, states[target_node], _signatures(keys, states))


def test_a_private_round_too_small_for_the_policys_colluders_is_refused(monkeypatch):
    """Policy max_colluding_members = 2, t = 3: a round of three sites leaves one noise share once two subtract theirs.

    The spec's rho counts the noise of t - 1 = 2 shares; the round needs t - 1 + c = 4 sites.
    """
    t, colluders = 3, 2
    policy = SitePolicy(max_colluding_members=colluders)
    spec = _spec("solar", 3.0, t)
    _, members, _ = _consortium(t)
    needs_four = r"needs 4: min_noise_sites 3 - 1 \+ policy max_colluding_members 2"
    with pytest.raises(PolicyViolation, match=needs_four):
        _collected(policy, members, spec)
    # A round of four passes collect, and its unmask over three survivors is refused.
    _, four, _ = _consortium(t + 1)
    state = _collected(policy, four, spec)
    assert state.min_survivors == 4
    with pytest.raises(PolicyViolation, match="unmask over 3 surviving sites; this round needs 4"):
        check_survivors(state, 3)
    check_survivors(state, 4)
    rng = np.random.default_rng(3)
    stated = _noised_block(spec).noise_stddev
    share = site_noise_stddev(stated, t)
    # Four sites, two colluders subtract their shares: the two left carry the noise stated.
    assert rng.normal(0.0, share, (4 - colluders, 20_000)).sum(axis=0).std() == pytest.approx(stated, rel=0.03)

    # Control: sites that ask for t sites whatever their colluders accept the round of three, and
    # the one share left after the two colluders subtract theirs is sigma / sqrt(2).
    monkeypatch.setattr("client.guard.min_private_participants", lambda min_noise_sites, colluders: min_noise_sites)
    state = _collected(policy, members, spec)
    check_survivors(state, t)
    left = rng.normal(0.0, share, (t - colluders, 20_000)).sum(axis=0)
    assert left.std() < 0.75 * stated


@pytest.mark.parametrize("colluders", [0, 1])
def test_a_private_round_of_min_noise_sites_passes_with_at_most_one_colluder(colluders):
    """The rule leaves the default policy (one colluder) and a policy of none where they were: t sites suffice."""
    t = 3
    _, members, _ = _consortium(t)
    state = _collected(SitePolicy(max_colluding_members=colluders), members, _spec("wind", 3.0, t))
    assert state.min_survivors == t
    check_survivors(state, t)


def test_a_survivor_signature_of_an_earlier_round_replayed_in_a_later_one_is_refused(monkeypatch):
    """Rounds 1 and 2 of one run: the same five survivors, spec and (no) census; SecAgg+'s keys fresh in round 2.

    In round 2 survivor 104 signs no full set (told that node 100 dropped, it would reveal a share of
    100's key where the others reveal one of its seed: the split of
    tests/privacy/test_malicious_aggregator.py); the aggregator shows the other sites, beside their own
    round-2 signatures, 104's signature from round 1, which it kept.
    """
    t = 5
    roster, members, keys = _consortium(t)
    spec, replayed = _spec("wind", 1.0, 3), max(members)
    round_1 = _consistent(
        {node: _collected(SitePolicy(), members, spec, None, _round_keys(members, 1)) for node in members}
    )
    round_2 = _consistent(
        {node: _collected(SitePolicy(), members, spec, None, _round_keys(members, 2)) for node in members}
    )
    assert {(s.survivors, s.spec_sha256, s.census_sha256) for s in [*round_1.values(), *round_2.values()]} == {
        (tuple(sorted(members)), round_1[replayed].spec_sha256, "")
    }
    hashes_1, hashes_2 = ({s.round_keys_sha256 for s in states.values()} for states in (round_1, round_2))
    assert len(hashes_1) == len(hashes_2) == 1 and hashes_1 != hashes_2  # every site alike, each round its own
    signed_in_round_1 = _signatures(keys, round_1)
    for node in members:  # genuine: every site unmasks round 1 with them
        _check_unmask(roster, members, round_1[node], signed_in_round_1)

    signatures = _signatures(keys, round_2)
    signatures[-1] = signed_in_round_1[-1]  # 104, the last survivor
    for node in sorted(members)[:-1]:  # every other site refuses to reveal any share
        with pytest.raises(PolicyViolation, match=rf"survivor {replayed} did not sign .* in this round"):
            _check_unmask(roster, members, round_2[node], signatures)
    for node in members:  # with 104's own round-2 signature they unmask
        _check_unmask(roster, members, round_2[node], _signatures(keys, round_2))

    # Control: sites whose statement leaves the round's keys out take the round-1 signature in round 2.
    _round_blind_statement(monkeypatch)
    signatures = _signatures(keys, round_2)
    signatures[-1] = _signatures(keys, round_1)[-1]
    for node in sorted(members)[:-1]:
        _check_unmask(roster, members, round_2[node], signatures)


def test_a_site_advertised_with_its_keys_of_an_earlier_round_refuses_at_collect():
    """Round 2: the aggregator relays every site's round-1 advertisement, this site's own among them.

    An advertisement's signature names the run and the node, not the round, so each verifies; a site
    that hashed them would sign round 1's round keys again, and every round-1 survivor signature
    would verify in round 2.
    """
    t = 5
    roster, members, keys = _consortium(t)
    spec, target = _spec("wind", 1.0, 3), min(members)
    round_1, round_2 = _round_keys(members, 1), _round_keys(members, 2)
    advertised_in_round_1 = {
        node: Advertisement(
            members[node], *round_1[node], keys[node].sign(key_advertisement(RUN, node, *round_1[node]))
        )
        for node in members
    }
    own = (target, members[target])
    assert membership.check_participants(roster, RUN, own, members, t, advertised_in_round_1) == members
    with pytest.raises(PolicyViolation, match=rf"this site \(node {target}\) is advertised with other keys"):
        check_own_keys(target, round_2[target], advertised_in_round_1)
    check_own_keys(target, round_1[target], advertised_in_round_1)  # the keys it made in round 1 pass, in round 1

    # Control: without the check, the sites of round 2 hash round 1's keys, and round 1's signatures pass.
    replayed = _consistent({node: _collected(SitePolicy(), members, spec, None, round_1) for node in members})
    signed_in_round_1 = _signatures(keys, replayed)
    for node in members:
        _check_unmask(roster, members, replayed[node], signed_in_round_1)
