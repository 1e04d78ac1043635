"""What a site signs in a SecAgg+ round (protos/roster.py)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protos.roster import Member, public_bytes, survivor_statement

SPEC_A, SPEC_B, CENSUS = "a" * 64, "b" * 64, "c" * 64


def test_a_survivor_signature_holds_only_for_the_set_spec_and_census_it_was_made_over():
    key = Ed25519PrivateKey.generate()
    member = Member("m0", public_bytes(key))
    signature = key.sign(survivor_statement(7, [102, 100, 101], SPEC_A, CENSUS))
    assert member.verifies(signature, survivor_statement(7, [100, 101, 102], SPEC_A, CENSUS))  # any order
    assert not member.verifies(signature, survivor_statement(7, [100, 101, 102], SPEC_B, CENSUS))
    assert not member.verifies(signature, survivor_statement(7, [100, 101, 102], SPEC_A, ""))
    assert not member.verifies(signature, survivor_statement(7, [100, 101], SPEC_A, CENSUS))
    assert not member.verifies(signature, survivor_statement(8, [100, 101, 102], SPEC_A, CENSUS))
