"""What a site signs in a SecAgg+ round (protos/roster.py)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protos.roster import Member, public_bytes, round_keys_sha256, survivor_statement

SPEC_A, SPEC_B, CENSUS = "a" * 64, "b" * 64, "c" * 64
KEYS = {node: (bytes([node % 256]) * 32, bytes([(node + 1) % 256]) * 32) for node in (100, 101, 102)}
ROUND_1 = round_keys_sha256(KEYS)
ROUND_2 = round_keys_sha256(KEYS | {101: (bytes(32), KEYS[101][1])})  # node 101's fresh pk1 in a later round


def test_a_survivor_signature_holds_only_for_the_set_spec_census_and_round_keys_it_was_made_over():
    key = Ed25519PrivateKey.generate()
    member = Member("m0", public_bytes(key))
    signature = key.sign(survivor_statement(7, [102, 100, 101], SPEC_A, CENSUS, ROUND_1))
    assert member.verifies(signature, survivor_statement(7, [100, 101, 102], SPEC_A, CENSUS, ROUND_1))  # any order
    assert not member.verifies(signature, survivor_statement(7, [100, 101, 102], SPEC_B, CENSUS, ROUND_1))
    assert not member.verifies(signature, survivor_statement(7, [100, 101, 102], SPEC_A, "", ROUND_1))
    assert not member.verifies(signature, survivor_statement(7, [100, 101], SPEC_A, CENSUS, ROUND_1))
    assert not member.verifies(signature, survivor_statement(8, [100, 101, 102], SPEC_A, CENSUS, ROUND_1))
    assert not member.verifies(signature, survivor_statement(7, [100, 101, 102], SPEC_A, CENSUS, ROUND_2))


def test_the_round_keys_hash_is_the_same_for_the_same_keys_whatever_their_order_and_differs_for_any_other():
    assert round_keys_sha256(dict(reversed(KEYS.items()))) == ROUND_1
    assert ROUND_2 != ROUND_1
    swapped = {node: (pk2, pk1) for node, (pk1, pk2) in KEYS.items()}
    assert round_keys_sha256(swapped) != ROUND_1
    moved = {node + 1: keys for node, keys in KEYS.items()}  # the same keys under other nodes
    assert round_keys_sha256(moved) != ROUND_1
    assert round_keys_sha256({node: KEYS[node] for node in (100, 101)}) != ROUND_1  # a survivor fewer
