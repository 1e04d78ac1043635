"""Pedersen commitments to a census: a true group, sums that open, and totals or randomness that do not."""

from __future__ import annotations

import numpy as np
import pytest

from protos import commitment
from protos.commitment import MODULUS, ORDER, commit, opens_to, randomness_from_limb_sums, randomness_limbs

SMALL_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71)


def _probably_prime(n: int) -> bool:
    """Miller-Rabin to the first 20 prime bases: a typo in a 2048-bit constant fails it."""
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for base in SMALL_PRIMES:
        x = pow(base, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def test_the_group_is_rfc_3526s_safe_prime_and_its_generators_lie_in_the_prime_order_subgroup():
    assert MODULUS.bit_length() == 2048 and _probably_prime(MODULUS) and _probably_prime(ORDER)
    assert not _probably_prime(MODULUS + 2)  # the test can fail: the next odd number is composite
    generators = [commitment.generator(i) for i in (-1, 0, 1, 2, 1000)]
    assert len(set(generators)) == 5 and all(pow(g, ORDER, MODULUS) == 1 for g in generators)


def test_the_product_of_commitments_opens_to_the_summed_census_and_nothing_else():
    """Five sites' sparse census vectors: the product opens to the sums with the randomness summed limb by limb
    (as the secure sum adds them); one total more, the randomness off by one, a commitment negated (outside the
    group), zero or the modulus, or one left out does not open."""
    rng = np.random.default_rng(5)
    vectors = [np.where(rng.random(300) < 0.2, rng.integers(0, 5_000, 300), 0).tolist() for _ in range(5)]
    randomness = [int.from_bytes(rng.bytes(256), "big") % ORDER for _ in vectors]
    commitments = [commit(v, r) for v, r in zip(vectors, randomness, strict=True)]
    totals = [sum(column) for column in zip(*vectors, strict=True)]
    limb_sums = np.sum([randomness_limbs(r) for r in randomness], axis=0)
    summed = randomness_from_limb_sums([int(x) for x in limb_sums])
    assert summed == sum(randomness) % ORDER
    assert opens_to(commitments, totals, summed)

    inflated = list(totals)
    inflated[int(np.flatnonzero(totals)[0])] *= 3
    assert not opens_to(commitments, inflated, summed)
    assert not opens_to(commitments, totals, (summed + 1) % ORDER)
    negated = [MODULUS - commitments[0], *commitments[1:]]  # a member's commitment times -1, no group element
    assert not opens_to(negated, totals, summed)
    assert not opens_to([0, *commitments[1:]], totals, summed) and not opens_to([MODULUS, *commitments[1:]], totals, 0)
    assert not opens_to(commitments[1:], totals, summed)  # a member's commitment left out


def test_randomness_limbs_hold_any_randomness_below_the_order():
    for r in (0, 1, ORDER - 1, 0x5EED << 1000):
        limbs = randomness_limbs(r)
        assert limbs.shape == (commitment.RANDOMNESS_LIMBS,) and limbs.max() < 2**16
        assert randomness_from_limb_sums([int(x) for x in limbs]) == r
    with pytest.raises(ValueError, match=r"\[0, q\)"):
        randomness_limbs(ORDER)
    assert commitment.from_bytes(commitment.to_bytes(commit([1, 2], 3))) == commit([1, 2], 3)
    with pytest.raises(ValueError, match="256 bytes"):
        commitment.from_bytes(b"\x01" * 255)
