"""Keyed SecAgg+ masks: the whole secret counts, output is uniform, Flower's modules use them."""

from __future__ import annotations

import numpy as np
import pytest
from flwr.common.secure_aggregation.secaggplus_utils import pseudo_rand_gen

from protos.codec import MODULUS_RANGE
from protos.masking import install_keyed_masks, keyed_masks, keyed_masks_in_force

SHAPES = [(1000,), (20, 50), ()]


def _fold_alike(seed: bytes) -> bytes:
    """Another 32-byte secret that Flower's XOR-fold maps to the same 32-bit seed."""
    flip = bytes([0x5A, 0xC3, 0x0F, 0x99])
    return bytes(a ^ b for a, b in zip(seed[:8], flip + flip, strict=True)) + seed[8:]


def test_secrets_that_fold_alike_give_flower_identical_masks_and_us_unrelated_ones():
    rng = np.random.default_rng(0)
    seed = rng.bytes(32)
    other = _fold_alike(seed)
    assert seed != other
    flower_a, flower_b = pseudo_rand_gen(seed, MODULUS_RANGE, SHAPES), pseudo_rand_gen(other, MODULUS_RANGE, SHAPES)
    assert all(np.array_equal(a, b) for a, b in zip(flower_a, flower_b, strict=True))  # flwrlabs/flower#7522
    ours_a, ours_b = keyed_masks(seed, MODULUS_RANGE, SHAPES), keyed_masks(other, MODULUS_RANGE, SHAPES)
    a = np.concatenate([m.ravel() for m in ours_a]).astype(np.float64)
    b = np.concatenate([m.ravel() for m in ours_b]).astype(np.float64)
    assert np.mean(a == b) < 0.01
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.1  # 2001 pairs: sd of r ~ 0.022


def test_masks_are_deterministic_shaped_and_within_the_modulus():
    seed = b"\x01" * 44  # Flower's pairwise keys are 44-byte base64 strings
    first, second = keyed_masks(seed, MODULUS_RANGE, SHAPES), keyed_masks(seed, MODULUS_RANGE, SHAPES)
    for a, b, shape in zip(first, second, SHAPES, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.shape == shape and a.dtype == np.int64
        assert a.min() >= 0 and a.max() < MODULUS_RANGE
    assert not np.array_equal(keyed_masks(b"\x02" * 44, MODULUS_RANGE, SHAPES)[0], first[0])


def test_every_bit_of_the_masks_is_fair():
    (mask,) = keyed_masks(b"fleetbench", MODULUS_RANGE, [(200_000,)])
    bits = (mask[:, None] >> np.arange(62)) & 1
    frequency = bits.mean(axis=0)
    # Each bit is Bernoulli(1/2): sd of the frequency is 0.5 / sqrt(200000) ~ 0.0011; allow 5 sd.
    assert np.all(np.abs(frequency - 0.5) < 0.0056), frequency
    assert not np.any(mask >> 62)


def test_non_power_of_two_moduli_are_refused():
    with pytest.raises(ValueError, match="power of two"):
        keyed_masks(b"x", 3 * 2**40, [(2,)])


def test_install_puts_keyed_masks_in_both_flower_modules():
    install_keyed_masks()
    assert keyed_masks_in_force() == {
        "flwr.client.mod.secure_aggregation.secaggplus_mod": True,
        "flwr.server.workflow.secure_aggregation.secaggplus_workflow": True,
    }
