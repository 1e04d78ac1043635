"""Block layout and fixed-point codec: spec -> ordered blocks -> 30-bit limbs -> arrays.

Secure aggregation (SecAgg+) sums vectors of small integers modulo 2^62. FleetBench sends every
statistic as a signed fixed-point integer ``round(value * 2^e)`` split into base-2^30 limbs, so any
bound fits; the aggregator adds limbs across sites and recombines them with exact integer
arithmetic. Both ends derive the same order of blocks from the spec: names never travel. Each
block's unit, fixed point, shape and bound are the statistics registry's (protos/statistics.py).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey, SpecExtent, check_block

CONTRACT = "fleetbench/v1"
LIMB_BITS = 30
LIMB_BASE = 1 << LIMB_BITS
# SecAgg+ parameters that make Flower's quantizer the identity on integers in
# [-CLIPPING_RANGE, CLIPPING_RANGE]: quantize(x) = (x + c) * Q / (2c) = x + c exactly.
QUANTIZATION_RANGE = 2 * (LIMB_BASE - 1)
CLIPPING_RANGE = LIMB_BASE - 1
MODULUS_RANGE = 1 << 62
# Float64 decoding of the sum stays exact (error < 1/4, see limb_sums_from_weighted_mean) below 2^18 sites.
MAX_SITES = 1 << 18
# Flower casts quantized values to int32.
_INT32_MAX = (1 << 31) - 1


@dataclass(frozen=True)
class BlockLayout:
    """Where one block sits in the payload and how it is encoded."""

    key: BlockKey
    shape: tuple[int, ...]
    unit: str
    scale_exponent: int
    per_site_bound: float
    n_limbs: int

    @property
    def name(self) -> str:
        """The block's printable name (see :attr:`BlockKey.name`)."""
        return self.key.name

    @property
    def cohort(self) -> str:
        """The cohort the block is about."""
        return self.key.cohort

    @property
    def statistic(self) -> int:
        """The block's statistic (a spec_pb2.Statistic value)."""
        return self.key.statistic

    @property
    def target(self) -> str:
        """The model target of a per-target block, else ""."""
        return self.key.target

    @property
    def size(self) -> int:
        """Number of elements of the block."""
        return math.prod(self.shape)


def limbs_for_bound(per_site_bound: float, scale_exponent: int) -> int:
    """Number of 30-bit limbs that hold any |value| <= per_site_bound at 2^scale_exponent.

    Parameters
    ----------
    per_site_bound : float
        Largest absolute value one site may contribute, in the block's unit.
    scale_exponent : int
        Fixed-point exponent e: the integer is round(value * 2^e).
    """
    if not math.isfinite(per_site_bound) or per_site_bound <= 0:
        raise ValueError(f"per_site_bound must be a positive finite number, got {per_site_bound!r}")
    largest = math.ceil(math.ldexp(per_site_bound, scale_exponent))
    return max(1, math.ceil(largest.bit_length() / LIMB_BITS))


def block_layouts(spec: spec_pb2.BenchmarkSpec) -> list[BlockLayout]:
    """The ordered blocks a site sends for ``spec``, each checked against the statistics registry.

    Raises
    ------
    ValueError
        If the spec speaks another contract, names an undeclared cohort, repeats a block, or
        declares a block otherwise than the registry (:func:`protos.statistics.check_block`).
    """
    if spec.contract != CONTRACT:
        raise ValueError(f"spec.contract is {spec.contract!r}; this build speaks {CONTRACT!r}")
    layouts = []
    seen: set[BlockKey] = set()
    cohorts = {cohort.name for cohort in spec.cohorts}
    for block in spec.blocks:
        key = BlockKey.of(block)
        if block.cohort and block.cohort not in cohorts:  # "": a spec-wide block (protos/statistics.py)
            raise ValueError(f"block {key} names cohort {block.cohort!r}, which the spec does not declare")
        if key in seen:
            raise ValueError(f"spec declares block {key} twice")
        if not block.shape or any(d == 0 for d in block.shape):
            raise ValueError(f"block {key} has an empty shape {list(block.shape)}")
        seen.add(key)
    extent = SpecExtent.of(spec)
    for block in spec.blocks:
        check_block(extent, block)
        layouts.append(
            BlockLayout(
                key=BlockKey.of(block),
                shape=tuple(block.shape),
                unit=block.unit,
                scale_exponent=block.scale_exponent,
                per_site_bound=block.per_site_bound,
                n_limbs=limbs_for_bound(block.per_site_bound, block.scale_exponent),
            )
        )
    return layouts


def spec_sha256(spec: spec_pb2.BenchmarkSpec) -> str:
    """SHA-256 of the spec's deterministic serialisation (hex)."""
    return hashlib.sha256(spec.SerializeToString(deterministic=True)).hexdigest()


def check_secure_sum_capacity(
    n_sites: int,
    quantization_range: int = QUANTIZATION_RANGE,
    modulus_range: int = MODULUS_RANGE,
) -> None:
    """Refuse a secure-aggregation configuration whose sums could wrap around the modulus.

    Each site adds at most ``quantization_range`` per element, plus the same again as its
    weight factor; the masked sum is taken modulo ``modulus_range``.

    Raises
    ------
    ValueError
        Naming the setting that makes the sum unsafe.
    """
    if n_sites < 1:
        raise ValueError(f"n_sites must be at least 1, got {n_sites}")
    if quantization_range > _INT32_MAX:
        raise ValueError(
            f"quantization_range {quantization_range} exceeds 2^31 - 1: Flower casts to int32 and would wrap"
        )
    if n_sites > MAX_SITES:
        raise ValueError(f"{n_sites} sites exceed {MAX_SITES}, beyond which float64 decoding of the sum is not exact")
    if n_sites * quantization_range >= modulus_range:
        raise ValueError(
            f"{n_sites} sites x quantization_range {quantization_range} >= modulus_range {modulus_range}: "
            "the secure sum would wrap; raise modulus_range or lower the number of sites"
        )


def clip_to_bounds(
    layouts: Sequence[BlockLayout],
    values: Mapping[BlockKey, np.ndarray],
    headroom: Mapping[BlockKey, float] | None = None,
) -> tuple[dict[BlockKey, np.ndarray], dict[BlockKey, int]]:
    """Each block's values clipped to its per-site bound (less its noise's headroom), and how many were beyond it.

    A site clips rather than refuses: whether it takes part must not depend on its data, or an
    aggregator could learn about the data by moving the bound and watching who refuses. The
    counts stay on site (its log). A noised block is clipped before its noise, to its bound less
    ``headroom`` (:func:`protos.statistics.noise_headroom`), so the noise is never cut.
    """
    clipped, counts = {}, {}
    for layout in layouts:
        bound = layout.per_site_bound - (headroom or {}).get(layout.key, 0.0)
        value = np.asarray(values[layout.key], dtype=np.float64)
        beyond = np.abs(value) > bound
        counts[layout.key] = int(np.count_nonzero(beyond))
        clipped[layout.key] = np.clip(value, -bound, bound) if beyond.any() else value
    return clipped, counts


def fixed_point(layout: BlockLayout, value: np.ndarray) -> np.ndarray:
    """A block's values as the integers sent for them, round(value * 2^e), flat (float64, exact)."""
    scaled: np.ndarray = np.rint(np.ldexp(np.ravel(value), layout.scale_exponent))
    return scaled


def encode_blocks(layouts: Sequence[BlockLayout], values: Mapping[BlockKey, np.ndarray]) -> list[np.ndarray]:
    """Encode one site's block values as limb arrays, one array per block.

    Each returned array has shape ``(n_limbs, size)``, dtype float64, integer-valued in
    [-(2^30 - 1), 2^30 - 1]: limb j of value v is sign(u) * floor(|u| / 2^(30 j)) mod 2^30 with
    u = round(v * 2^e). Every step is exact in float64 because scaling is by powers of two.

    Raises
    ------
    ValueError
        If a block is missing, has the wrong shape, is not finite or exceeds its bound.
    """
    missing = [layout.name for layout in layouts if layout.key not in values]
    extra = sorted(key.name for key in set(values) - {layout.key for layout in layouts})
    if missing or extra:
        raise ValueError(f"blocks do not match the spec: missing {missing}, not in spec {extra}")
    encoded = []
    for layout in layouts:
        value = np.asarray(values[layout.key], dtype=np.float64)
        if value.shape != layout.shape:
            raise ValueError(f"block {layout.name} has shape {value.shape}, spec says {layout.shape}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"block {layout.name} holds non-finite values")
        if np.any(np.abs(value) > layout.per_site_bound):
            raise ValueError(
                f"block {layout.name} exceeds its per-site bound {layout.per_site_bound} {layout.unit} "
                f"(largest |value| {np.abs(value).max():.6g}); sites clip to it first (clip_to_bounds)"
            )
        scaled = fixed_point(layout, value)
        magnitude, sign = np.abs(scaled), np.sign(scaled)
        limbs = np.empty((layout.n_limbs, layout.size), dtype=np.float64)
        for j in range(layout.n_limbs):
            limbs[j] = sign * np.fmod(np.floor(np.ldexp(magnitude, -LIMB_BITS * j)), LIMB_BASE)
        encoded.append(limbs)
    return encoded


def decode_limb_sums(layouts: Sequence[BlockLayout], limb_sums: Sequence[np.ndarray]) -> dict[BlockKey, np.ndarray]:
    """Recombine summed limbs into exact fixed-point totals, one object array of ints per block.

    Parameters
    ----------
    layouts : sequence of BlockLayout
        The spec's blocks, in payload order.
    limb_sums : sequence of ndarray
        Per block, the element-wise sum over sites of the arrays :func:`encode_blocks` made,
        as exact integers (int64 or integer-valued float64).

    Returns
    -------
    dict
        Block key -> array (dtype object, Python ints) of round(value * 2^e) summed over sites,
        with the block's shape. Divide by 2^e for the value.
    """
    if len(limb_sums) != len(layouts):
        raise ValueError(f"got {len(limb_sums)} arrays for {len(layouts)} blocks")
    totals = {}
    for layout, sums in zip(layouts, limb_sums, strict=True):
        sums = np.asarray(sums)
        if sums.shape != (layout.n_limbs, layout.size):
            raise ValueError(
                f"block {layout.name}: summed limbs have shape {sums.shape}, expected {(layout.n_limbs, layout.size)}"
            )
        total = np.zeros(layout.size, dtype=object)
        for j in range(layout.n_limbs):
            total = total + np.array([int(x) for x in sums[j]], dtype=object) * (1 << (LIMB_BITS * j))
        totals[layout.key] = total.reshape(layout.shape)
    return totals


def limb_sums_from_weighted_mean(means: Sequence[np.ndarray], n_sites: int) -> list[np.ndarray]:
    """Undo Flower's weighted mean: with equal weights, mean * n is the exact integer sum.

    Raises
    ------
    ValueError
        If a value is not within 1e-6 of an integer, or lies beyond what n_sites limbs can add up
        to: the secure sum was not exact (wrong quantization settings, an overflow, or masks that
        did not cancel because the two ends drew them differently).
    """
    # Flower returns (sum / n) in float64 from an exact integer sum below n * 2^31: with two
    # roundings on the way and one here, |mean * n - sum| <= 3 * 2^-53 * n * 2^31 < n * 2^-20.
    tolerance = n_sites * 2.0**-20
    sums = []
    for mean in means:
        scaled = np.asarray(mean, dtype=np.float64) * n_sites
        rounded = np.rint(scaled)
        if scaled.size and np.max(np.abs(scaled - rounded)) > tolerance:
            raise ValueError("secure sum is not integer-exact: check the SecAgg+ quantization settings")
        if scaled.size and np.max(np.abs(rounded)) > n_sites * CLIPPING_RANGE:
            raise ValueError("secure sum is out of range: the masks did not cancel (do both ends draw keyed masks?)")
        sums.append(rounded.astype(np.int64))
    return sums
