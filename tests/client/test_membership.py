"""Member checks a cheating aggregator meets at collect and before survivors sign, by hand, each with a control."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.membership import check_participants, check_survivor_set, signature_check
from client.policy import PolicyViolation
from protos.roster import Advertisement, Member, Roster, key_advertisement, public_bytes

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
