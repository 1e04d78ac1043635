"""Site policy: parsing and the rules a round and a spec must pass."""

from __future__ import annotations

import tracemalloc

import pytest

from client.policy import (
    PolicyViolation,
    SitePolicy,
    check_round,
    check_spec,
    check_unmask_request,
    parse_policy,
)
from protos.census import census_spec
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import spec_block
from server.spec import PrivacySettings, power_curve_spec

SPEC = power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["A"], k_min_operators=4)


def test_parse_policy_defaults_and_errors():
    problems: list[str] = []
    assert parse_policy({}, problems) == SitePolicy() and problems == []
    policy = parse_policy({"min_participants": 7, "allowed_statistics": ["RECORD_COUNT"]}, problems)
    assert policy.min_participants == 7 and policy.allowed_statistics == frozenset({"RECORD_COUNT"})
    parse_policy({"min_participants": 0, "allowed_statistics": ["RAW_ROWS"], "trust_server": True}, problems)
    assert any("min_participants = 0" in p for p in problems)
    assert any("RAW_ROWS" in p for p in problems)
    assert any("[policy] trust_server is not a setting" in p for p in problems)


@pytest.mark.parametrize(
    ("sampled", "neighbours", "threshold", "message"),
    [
        (4, 4, 3, "min_participants is 5"),
        (9, 9, 1, "min_reconstruction_threshold"),
        (9, 9, 5, "would let the aggregator"),  # 2 * 5 <= 9 + 1: a majority is not enough with a colluder
        (20, 11, 6, "would let the aggregator"),
    ],
)
def test_check_round_refuses(sampled, neighbours, threshold, message):
    policy = SitePolicy(min_participants=5, min_reconstruction_threshold=2)
    with pytest.raises(PolicyViolation, match=message):
        check_round(policy, sampled, neighbours, threshold)


def test_check_round_needs_a_threshold_above_half_the_neighbours_and_colluders():
    check_round(SitePolicy(min_participants=5), 20, 11, 7)  # 14 > 11 + 1
    check_round(SitePolicy(min_participants=5, max_colluding_members=0), 20, 11, 6)  # 12 > 11 + 0
    with pytest.raises(PolicyViolation):
        check_round(SitePolicy(min_participants=5, max_colluding_members=3), 20, 11, 7)  # 14 <= 11 + 3


def test_check_round_lets_a_small_full_graph_rely_on_its_signed_survivor_minimum():
    # 3 sites, one colluder: no threshold below 3 outvotes; but two signed survivor sets of 3 cannot be made of 3.
    check_round(SitePolicy(min_participants=3), 3, 3, 2)
    with pytest.raises(PolicyViolation):
        check_round(SitePolicy(min_participants=2), 3, 3, 2)  # 2 * 2 <= 3 + 1
    with pytest.raises(PolicyViolation):
        check_round(SitePolicy(min_participants=3), 20, 3, 2)  # not a full graph: the sets may reach beyond it


def test_check_spec():
    check_spec(SitePolicy(min_k_operators=4), SPEC)
    with pytest.raises(PolicyViolation, match="min_k_operators is 5"):
        check_spec(SitePolicy(min_k_operators=5), SPEC)
    with pytest.raises(PolicyViolation, match="SUM_POWER_SQUARED"):
        check_spec(SitePolicy(allowed_statistics=frozenset({"RECORD_COUNT", "SUM_POWER"})), SPEC)
    # A policy listing its census statistics takes the census, whose commitment randomness no policy lists.
    census = census_spec(SPEC)
    listed = {spec_pb2.Statistic.Name(b.statistic) for b in census.blocks} - {"CENSUS_COMMITMENT_RANDOMNESS"}
    check_spec(SitePolicy(min_k_operators=4, allowed_statistics=frozenset(listed)), census)
    with pytest.raises(PolicyViolation, match="CURVE_CENSUS"):
        check_spec(SitePolicy(min_k_operators=4, allowed_statistics=frozenset(listed - {"CURVE_CENSUS"})), census)


def test_check_unmask_request_splits_the_neighbours_by_the_survivor_set():
    neighbours, survivors = frozenset({1, 2, 3, 4}), frozenset({1, 2, 3, 9})
    check_unmask_request(1, neighbours, survivors, [1, 2, 3], [4])
    check_unmask_request(1, neighbours, survivors, [1, 2, 3], [])  # 4 forgotten (it shared no keys)
    with pytest.raises(PolicyViolation, match=r"both alive and dropped"):
        check_unmask_request(1, neighbours, survivors, [1, 2, 3], [3])
    with pytest.raises(PolicyViolation, match="not the neighbours"):
        check_unmask_request(1, neighbours, survivors, [1, 2], [3])  # 3 survived: its key share is not due
    with pytest.raises(PolicyViolation, match="not the neighbours"):
        check_unmask_request(1, neighbours, survivors, [1, 2, 3, 4], [])  # 4 is no survivor
    with pytest.raises(PolicyViolation, match="does not list"):
        check_unmask_request(1, neighbours, frozenset({2, 3, 9}), [2, 3], [1])


def _resized(spec: spec_pb2.BenchmarkSpec, wind_speed_bins: int) -> spec_pb2.BenchmarkSpec:
    """``spec`` with its wind-speed grid (and every block's shape) resized as the contract would declare it."""
    big = spec_pb2.BenchmarkSpec()
    big.CopyFrom(spec)
    big.wind_speed_bins.count = wind_speed_bins
    del big.blocks[:]
    for block in spec.blocks:
        big.blocks.append(spec_block(big, block.cohort, block.statistic, block.target, block.noise_stddev))
    return big


def test_a_spec_too_large_for_the_site_is_refused_from_its_shapes_alone():
    huge = _resized(SPEC, 1_000_000)  # 10^6 bins: 1.1 x 10^11 histogram cells, ~10^12 bytes as limbs
    tracemalloc.start()
    with pytest.raises(PolicyViolation, match="1000000 wind_speed_bins; policy max_bins is 1000"):
        check_spec(SitePolicy(min_k_operators=4), huge)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 2**20  # refused without allocating anything of the spec's size
    with pytest.raises(PolicyViolation, match="block elements; policy max_block_elements is 5000"):
        check_spec(SitePolicy(min_k_operators=4, max_block_elements=5000), SPEC)
    with pytest.raises(PolicyViolation, match="policy max_cohorts is 1"):
        check_spec(
            SitePolicy(min_k_operators=4, max_cohorts=1),
            power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["A", "B"], k_min_operators=4),
        )
    private = power_curve_spec(
        "p", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["A"], k_min_operators=4, privacy=PrivacySettings(1.0)
    )
    with pytest.raises(PolicyViolation, match="MiB of per-turbine histograms; policy max_memory_mib is 10"):
        check_spec(SitePolicy(min_k_operators=4, max_memory_mib=10), private)
    check_spec(SitePolicy(min_k_operators=4), private)  # the defaults fit the default spec
