"""Member checks a cheating aggregator meets at collect and before survivors sign, by hand, each with a control."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.membership import (
    check_census_commitments,
    check_commitment_list,
    check_participants,
    check_survivor_set,
    signature_check,
)
from client.policy import PolicyViolation
from protos import commitment
from protos.census import COMMITMENT_RANDOMNESS, census_message, census_spec, committed_census
from protos.codec import block_layouts, spec_sha256
from protos.fleetbench.v1 import spec_pb2
from protos.roster import (
    Advertisement,
    Member,
    Roster,
    census_commitment_statement,
    key_advertisement,
    public_bytes,
)
from server.spec import power_curve_spec

RUN = 7


def _consortium(n: int) -> tuple[Roster, dict[int, Advertisement]]:
    """n members, node 100 + i signing its (dummy) keys as member m<i>."""
    keys = {f"m{i}": Ed25519PrivateKey.generate() for i in range(n)}
    roster = Roster.of("test", {name: public_bytes(key) for name, key in keys.items()})
    adverts = {}
    for i, (name, key) in enumerate(keys.items()):
        node, pk1, pk2 = 100 + i, bytes([i]) * 32, bytes([i + 1]) * 32
        adverts[node] = Advertisement(name, pk1, pk2, key.sign(key_advertisement(RUN, node, pk1, pk2)))
    return roster, adverts


def test_a_participant_the_site_never_shared_secrets_with_is_refused_in_a_full_graph():
    """Five sampled, all neighbours; the aggregator adds a sixth signed member at collect (it would count as k)."""
    roster, adverts = _consortium(6)
    neighbours = {node: adverts[node].member for node in list(adverts)[:5]}
    with pytest.raises(PolicyViolation, match=r"beyond the neighbours: \[105\]"):
        check_participants(roster, RUN, (100, "m0"), neighbours, 5, adverts)
    # Control: the five it shared secrets with pass.
    five = {node: adverts[node] for node in neighbours}
    assert check_participants(roster, RUN, (100, "m0"), neighbours, 5, five) == neighbours


def test_more_participants_than_sampled_are_refused():
    """A log-size neighbourhood (3 of a sampled 4): a fifth participant at collect is one more than sampled."""
    roster, adverts = _consortium(5)
    neighbours = {node: adverts[node].member for node in list(adverts)[:3]}
    with pytest.raises(PolicyViolation, match="5 participants"):
        check_participants(roster, RUN, (100, "m0"), neighbours, 4, adverts)
    four = {node: adverts[node] for node in list(adverts)[:4]}
    assert len(check_participants(roster, RUN, (100, "m0"), neighbours, 4, four)) == 4


def test_a_site_signs_no_survivor_set_without_itself_or_with_nodes_it_did_not_verify():
    participants = [100, 101, 102, 103]
    with pytest.raises(PolicyViolation, match="leaves out node 100"):
        check_survivor_set(100, participants, [101, 102, 103])
    with pytest.raises(PolicyViolation, match=r"\[104\] that are not verified participants"):
        check_survivor_set(100, participants, [100, 101, 104])
    check_survivor_set(100, participants, [100, 101, 102])  # control: a subset of verified participants, itself in it


def test_signatures_verified_at_key_sharing_are_not_verified_again_at_collect_unless_anything_differs(monkeypatch):
    """The neighbours' checks are remembered by digest; a changed signature or roster key is verified again."""
    roster, adverts = _consortium(6)
    neighbours = {node: adverts[node].member for node in list(adverts)[:3]}
    verified = frozenset(signature_check(roster, RUN, node, adverts[node]) for node in neighbours)
    calls: list[str] = []
    verifies = Member.verifies

    def counted(member: Member, signature: bytes, payload: bytes) -> bool:
        calls.append(member.name)
        return verifies(member, signature, payload)

    monkeypatch.setattr(Member, "verifies", counted)
    assert len(check_participants(roster, RUN, (100, "m0"), neighbours, 6, adverts, verified)) == 6
    assert sorted(calls) == ["m3", "m4", "m5"]

    # A neighbour whose advertisement now carries another signature is verified, and refused.
    forged = dict(adverts)
    forged[101] = replace(adverts[101], signature=bytes(64))
    with pytest.raises(PolicyViolation, match="node 101's keys are not signed"):
        check_participants(roster, RUN, (100, "m0"), neighbours, 6, forged, verified)
    # So is one whose member holds another key on the roster the site now reads.
    rekeyed = Roster.of(
        "test", {m.name: m.public_key for m in roster.members} | {"m1": public_bytes(Ed25519PrivateKey.generate())}
    )
    with pytest.raises(PolicyViolation, match="node 101's keys are not signed"):
        check_participants(rekeyed, RUN, (100, "m0"), neighbours, 6, adverts, verified)


def _census_of_three() -> tuple[Roster, spec_pb2.BenchmarkSpec, spec_pb2.Census, list[str]]:
    """Three members' random census vectors of a one-model spec, each committed to and signed for run :data:`RUN`."""
    keys = {f"m{i}": Ed25519PrivateKey.generate() for i in range(3)}
    roster = Roster.of("test", {name: public_bytes(key) for name, key in keys.items()})
    spec = power_curve_spec("c", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"], k_min_operators=3)
    census = census_spec(spec)
    layouts = block_layouts(census)
    rng = np.random.default_rng(3)
    totals = {layout.key: np.zeros(layout.size, dtype=object) for layout in layouts}
    signed = []
    for name, key in keys.items():
        r = int.from_bytes(rng.bytes(256), "big") % commitment.ORDER
        vector = {layout.key: rng.integers(0, 50, layout.size).tolist() for layout in layouts}
        vector[COMMITMENT_RANDOMNESS] = [int(x) for x in commitment.randomness_limbs(r)]
        for key_ in totals:
            totals[key_] = totals[key_] + np.array(vector[key_], dtype=object)
        committed = commitment.to_bytes(commitment.commit(committed_census(census, vector), r))
        statement = census_commitment_statement(RUN, spec_sha256(census), name, committed)
        signed.append(spec_pb2.CensusCommitment(member=name, commitment=committed, signature=key.sign(statement)))
    return roster, spec, census_message(census, totals, 3, signed), list(keys)


def test_a_census_is_acted_on_only_with_the_commitments_seen_before_unmasking_and_totals_they_open():
    """Three members' commitments: the list a site saw at the consistency stage is what the census must carry, its
    members the round's, each signed for this run, and the totals those the product opens (within the sites'
    bounds). Controls: the same census passes each check it fails once what that check tests is put right."""
    roster, spec, census, members = _census_of_three()
    census_sha256 = spec_sha256(census_spec(spec))
    own = census.commitments[0]
    seen = check_commitment_list(roster, RUN, census_sha256, members, own, list(census.commitments))
    check_census_commitments(census, spec, members, {seen})

    with pytest.raises(PolicyViolation, match="survivors are"):
        check_commitment_list(roster, RUN, census_sha256, members, own, list(census.commitments[:2]))
    with pytest.raises(PolicyViolation, match="not signed by it for this census"):
        check_commitment_list(roster, RUN + 1, census_sha256, members, own, list(census.commitments))
    stranger = spec_pb2.CensusCommitment(member=own.member, commitment=b"\x02" * commitment.COMMITMENT_BYTES)
    with pytest.raises(PolicyViolation, match="leave out this site's own"):
        check_commitment_list(roster, RUN, census_sha256, members, stranger, list(census.commitments))
    with pytest.raises(PolicyViolation, match="other commitments than this site saw"):
        check_census_commitments(census, spec, members, {"0" * 64})
    with pytest.raises(PolicyViolation, match="this round's are"):
        check_census_commitments(census, spec, [*members[:2], "m9"], {seen})

    altered = spec_pb2.Census()
    altered.CopyFrom(census)
    altered.totals[1].values[0] = str(int(altered.totals[1].values[0]) + 1)
    with pytest.raises(PolicyViolation, match="not the sum of what its members committed to"):
        check_census_commitments(altered, spec, members, {seen})
    altered.totals[1].values[0] = str(-1)
    with pytest.raises(PolicyViolation, match="beyond what its sites can sum"):
        check_census_commitments(altered, spec, members, {seen})
