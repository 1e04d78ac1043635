"""Shamir sharing for SecAgg+: the same field and share layout as Flower's, so either end rebuilds the other's."""

from __future__ import annotations

import os
import random

import pytest
from Crypto.Protocol.SecretSharing import _Element
from flwr.common.secure_aggregation.crypto import shamir as flower
from flwr.supercore.primitives.asymmetric import generate_key_pairs, private_key_to_bytes

from protos.shamir import (
    _inverse,
    _multiply,
    combine_shares,
    create_shares,
    fast_shamir_in_force,
    install_fast_shamir,
)

# What SecAgg+ shares: a 32-byte mask seed and a PEM private key; and the edges of the padding.
SECRETS = [os.urandom(32), private_key_to_bytes(generate_key_pairs()[0]), b"", b"x" * 16, os.urandom(5)]


def test_field_arithmetic_is_pycryptodomes():
    rng = random.Random(3)
    for _ in range(300):
        a, b = rng.getrandbits(128), rng.getrandbits(128) or 1
        assert _multiply(a, b) == int(_Element(a) * _Element(b))
        assert _inverse(b) == int(_Element(b).inverse())
        assert _multiply(b, _inverse(b)) == 1
    with pytest.raises(ValueError, match="zero"):
        _inverse(0)


@pytest.mark.parametrize(("threshold", "num"), [(9, 15), (2, 3), (1, 1), (10, 17)])
def test_shares_rebuild_across_implementations_from_any_threshold_of_them(threshold, num):
    rng = random.Random(threshold)
    for secret in SECRETS:
        ours, theirs = create_shares(secret, threshold, num), flower.create_shares(secret, threshold, num)
        assert [share[:4] for share in ours] == [share[:4] for share in theirs]
        assert [len(share) for share in ours] == [len(share) for share in theirs]
        for shares in (ours, theirs):
            some = rng.sample(shares, threshold)
            assert combine_shares(some) == flower.combine_shares(some) == secret
            assert combine_shares(shares) == secret


def test_fewer_shares_than_the_threshold_do_not_rebuild_the_secret():
    secret = os.urandom(32)
    shares = create_shares(secret, 9, 15)
    try:
        rebuilt = combine_shares(shares[:8])
    except ValueError:  # the padding of a wrong value, almost always
        return
    assert rebuilt != secret


def test_shares_are_fresh_each_time_and_duplicates_are_refused():
    secret = os.urandom(32)
    assert create_shares(secret, 3, 5)[0] != create_shares(secret, 3, 5)[0]
    shares = create_shares(secret, 3, 5)
    with pytest.raises(ValueError, match="Duplicate"):
        combine_shares([shares[0], shares[0], shares[1]])
    with pytest.raises(ValueError, match="threshold"):
        create_shares(secret, 6, 5)


def test_install_puts_the_functions_in_both_flower_modules():
    install_fast_shamir()
    assert all(fast_shamir_in_force().values())
