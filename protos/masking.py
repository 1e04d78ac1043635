"""SecAgg+ masks from a keyed stream cipher, installed on both ends of Flower's protocol.

Flower 1.42 derives every mask by folding the shared secret to 32 bits and seeding numpy's
Mersenne Twister (``pseudo_rand_gen``; flwrlabs/flower#7522): a curious aggregator could search
2^32 seeds, and two secrets that fold alike give the same mask. FleetBench replaces that
generator, in the client mod and in the server workflow alike, by ChaCha20 keyed with
SHA-256 over the whole secret, reduced to the (power-of-two) modulus without bias.
"""

from __future__ import annotations

import hashlib
import importlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

MASK_DOMAIN = b"fleetbench/v1 secagg+ mask"
# The Flower modules that look up ``pseudo_rand_gen`` by name when they mask or unmask.
FLOWER_MASK_USERS = (
    "flwr.client.mod.secure_aggregation.secaggplus_mod",
    "flwr.server.workflow.secure_aggregation.secaggplus_workflow",
)


def keyed_masks(seed: bytes, num_range: int, dimensions_list: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Uniform masks in [0, num_range) for each shape, from ChaCha20 keyed by SHA-256(domain | seed).

    Drop-in replacement for ``flwr.common.secure_aggregation.secaggplus_utils.pseudo_rand_gen``:
    same arguments, same output shapes and dtype (int64). Every bit of ``seed`` keys the stream.

    Parameters
    ----------
    seed : bytes
        Shared secret (pairwise key) or private mask seed, any length.
    num_range : int
        Modulus; a power of two up to 2^63, so masking 64-bit words is exactly uniform.
    dimensions_list : sequence of tuple of int
        Shape of each mask.
    """
    if num_range < 2 or num_range & (num_range - 1) or num_range > 1 << 63:
        raise ValueError(f"num_range must be a power of two in [2, 2^63], got {num_range}")
    sizes = [math.prod(shape) for shape in dimensions_list]
    key = hashlib.sha256(MASK_DOMAIN + bytes(seed)).digest()
    stream = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
    words = np.frombuffer(stream.update(bytes(8 * sum(sizes))), dtype="<u8") & np.uint64(num_range - 1)
    masks, start = [], 0
    for shape, size in zip(dimensions_list, sizes, strict=True):
        masks.append(words[start : start + size].astype(np.int64).reshape(shape))
        start += size
    return masks


def install_keyed_masks() -> None:
    """Make Flower's SecAgg+ client mod and server workflow draw their masks from :func:`keyed_masks`.

    Idempotent; both ends of a round must have called it (the client guard mod and the secure-sum
    round do), or the masks would not cancel and the sum would fail its exactness check.
    """
    for name in FLOWER_MASK_USERS:
        module: Any = importlib.import_module(name)  # Flower's module attribute, replaced at run time
        module.pseudo_rand_gen = keyed_masks


def keyed_masks_in_force() -> dict[str, bool]:
    """For each Flower module that masks or unmasks: whether it uses :func:`keyed_masks`."""
    return {name: importlib.import_module(name).pseudo_rand_gen is keyed_masks for name in FLOWER_MASK_USERS}
