"""The block codec: fixed point, 30-bit limbs, exact sums, refused overflows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protos.codec import (
    CLIPPING_RANGE,
    LIMB_BASE,
    MAX_SITES,
    QUANTIZATION_RANGE,
    BlockLayout,
    block_layouts,
    check_secure_sum_capacity,
    decode_limb_sums,
    encode_blocks,
    limb_sums_from_weighted_mean,
    limbs_for_bound,
)
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey


def _layout(bound: float, exponent: int, shape: tuple[int, ...] = (4,)) -> BlockLayout:
    return BlockLayout(
        key=BlockKey("c", spec_pb2.SUM_POWER),
        shape=shape,
        unit="kW",
        scale_exponent=exponent,
        per_site_bound=bound,
        n_limbs=limbs_for_bound(bound, exponent),
    )


def test_limbs_for_bound_by_hand():
    assert limbs_for_bound(1.0, 0) == 1
    assert limbs_for_bound(2.0**30 - 1, 0) == 1  # 30 bits
    assert limbs_for_bound(2.0**30, 0) == 2  # 31 bits
    assert limbs_for_bound(1.0, 40) == 2  # 2^40 has 41 bits
    assert limbs_for_bound(3e4 * 6.6e6, 40) == 3  # sum of power bound: 78 bits
    with pytest.raises(ValueError, match="per_site_bound"):
        limbs_for_bound(0.0, 0)


def test_quantizer_settings_make_flowers_quantizer_the_identity():
    # Flower quantizes x to (clip(x, -c, c) + c) * Q / (2c): exactly x + c with these settings.
    assert QUANTIZATION_RANGE / (2 * CLIPPING_RANGE) == 1.0
    assert CLIPPING_RANGE == LIMB_BASE - 1
    assert QUANTIZATION_RANGE <= 2**31 - 1


def test_encoded_limbs_fit_the_clipping_range_and_carry_sign():
    layout = _layout(1e9, 40)
    value = np.array([-123456.789, 0.0, 5e8, -1e9])
    (limbs,) = encode_blocks([layout], {layout.key: value})
    assert limbs.shape == (layout.n_limbs, 4)
    assert np.all(np.abs(limbs) <= CLIPPING_RANGE)
    assert np.all(limbs == np.rint(limbs))
    assert np.all(limbs[:, 0] <= 0) and np.all(limbs[:, 2] >= 0)


def _sum_sites(layout: BlockLayout, sites: list[np.ndarray]) -> np.ndarray:
    encoded = [encode_blocks([layout], {layout.key: v})[0] for v in sites]
    return decode_limb_sums([layout], [np.sum(encoded, axis=0).astype(np.int64)])[layout.key]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=0, max_value=48),
    st.floats(min_value=1e-3, max_value=1e15),
    st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=3).map(tuple),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_decoded_sum_equals_the_exact_sum_of_fixed_point_values(n_sites, exponent, bound, shape, seed):
    rng = np.random.default_rng(seed)
    layout = _layout(bound, exponent, shape=shape)
    # Random values, the bound itself and its negative: the extremes must fit too.
    sites = [rng.uniform(-bound, bound, size=shape) for _ in range(n_sites)]
    sites.append(np.full(shape, bound))
    sites.append(np.full(shape, -bound))
    total = _sum_sites(layout, sites)
    # Reference: Python integers, one value at a time.
    for index in np.ndindex(*shape):
        exact = sum(round(math.ldexp(v[index], exponent)) for v in sites)
        assert int(total[index]) == exact


def test_float_values_round_trip_to_within_half_a_fixed_point_step():
    layout = _layout(1e6, 40)
    value = np.array([0.1, -2.5, 999999.999, 1e-13])
    total = _sum_sites(layout, [value])
    np.testing.assert_allclose([int(x) / 2**40 for x in total], value, rtol=0, atol=2.0**-41)


def test_encode_refuses_values_beyond_the_bound_and_wrong_shapes():
    layout = _layout(100.0, 10)
    with pytest.raises(ValueError, match="exceeds its per-site bound"):
        encode_blocks([layout], {layout.key: np.array([0.0, 0.0, 100.5, 0.0])})
    with pytest.raises(ValueError, match="shape"):
        encode_blocks([layout], {layout.key: np.zeros(5)})
    with pytest.raises(ValueError, match="non-finite"):
        encode_blocks([layout], {layout.key: np.array([np.nan, 0, 0, 0])})
    with pytest.raises(ValueError, match="missing"):
        encode_blocks([layout], {})


def test_capacity_check_refuses_configurations_that_could_wrap():
    check_secure_sum_capacity(1000)
    with pytest.raises(ValueError, match="wrap"):
        check_secure_sum_capacity(5, quantization_range=2**30, modulus_range=2**32)  # seen wrapping in flwr 1.42
    with pytest.raises(ValueError, match="int32"):
        check_secure_sum_capacity(3, quantization_range=2**31)
    check_secure_sum_capacity(MAX_SITES)
    with pytest.raises(ValueError, match="float64 decoding"):
        check_secure_sum_capacity(MAX_SITES + 1)
    # The modulus limit itself, for a smaller modulus.
    largest = (2**40 - 1) // QUANTIZATION_RANGE
    check_secure_sum_capacity(largest, modulus_range=2**40)
    with pytest.raises(ValueError, match="wrap"):
        check_secure_sum_capacity(largest + 1, modulus_range=2**40)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=MAX_SITES), st.integers(min_value=0, max_value=2**32 - 1))
def test_weighted_mean_times_sites_recovers_integer_sums(n_sites, seed):
    # As Flower computes it: (sum + n c - c - (n - 1) c) * (Q / (n Q)), all in float64.
    rng = np.random.default_rng(seed)
    sums = rng.integers(-n_sites * CLIPPING_RANGE, n_sites * CLIPPING_RANGE, size=50, endpoint=True)
    shifted = (sums + n_sites * CLIPPING_RANGE).astype(np.float64) - CLIPPING_RANGE
    mean = (shifted - (n_sites - 1) * CLIPPING_RANGE) * (QUANTIZATION_RANGE / (n_sites * QUANTIZATION_RANGE))
    np.testing.assert_array_equal(limb_sums_from_weighted_mean([mean], n_sites)[0], sums)


def test_weighted_mean_checks_catch_broken_sums():
    with pytest.raises(ValueError, match="integer-exact"):
        limb_sums_from_weighted_mean([np.array([0.3])], 1)
    with pytest.raises(ValueError, match="did not cancel"):
        limb_sums_from_weighted_mean([np.array([2.0**40])], 3)


def test_block_layouts_reject_foreign_contracts_and_duplicates():
    spec = spec_pb2.BenchmarkSpec(contract="fleetbench/v0")
    with pytest.raises(ValueError, match="contract"):
        block_layouts(spec)
    spec = spec_pb2.BenchmarkSpec(contract="fleetbench/v1")
    spec.blocks.add(cohort="a", statistic=spec_pb2.RECORD_COUNT, shape=[2], per_site_bound=1.0)
    with pytest.raises(ValueError, match="does not declare"):
        block_layouts(spec)
    spec.cohorts.add(name="a", turbine_model="A")
    for _ in range(1):
        spec.blocks.add(cohort="a", statistic=spec_pb2.RECORD_COUNT, shape=[2], per_site_bound=1.0)
    with pytest.raises(ValueError, match="twice"):
        block_layouts(spec)
