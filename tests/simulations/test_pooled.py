"""The pooled reference is the whole release: the federated release equals it field by field.

Only provenance may differ (method, creation time, Flower run id, and the hashes that cover the
round-1 release: the round-2 spec's baseline_release_sha256 and its own sha256). Counts, histograms,
percentiles, suppression flags and reasons are equal bit for bit; values the sites send as fixed-point
sums (protos/statistics.py) agree to the tolerances of :data:`TOLERANCES`. Each round's census, from
which both decide what is withheld, is equal bit for bit.
"""

from __future__ import annotations

import math
import pickle
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from protos.census import census_spec, census_totals
from protos.codec import block_layouts, decode_limb_sums, limb_sums_from_weighted_mean, spec_sha256
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.messages import CENSUS_CONFIG_KEY
from protos.statistics import INDICATOR_CELLS, STATISTICS, BlockKey, CensusFields
from server import server_app
from server.baselines import block_values
from server.secure_sum import SecureSumOutcome
from server.spec import PrivacySettings, power_curve_spec
from simulations.fleet import FleetConfig, generate_fleet
from simulations.fleet_faults import FaultConfig
from simulations.onboarding import fleet_spec, run_release_in_process
from simulations.pooled import (
    PooledRound,
    pooled_canonical_records,
    pooled_release,
    pooled_round_one,
    pooled_round_two,
    pooled_rows,
)

S = spec_pb2.Statistic
PROVENANCE_ONLY = ("method", "created_utc", "flower_run_id", "indicator_spec_sha256")
"""Provenance fields that say how and when a release was made, not what it publishes."""
MOST_SITES = 8
"""At most this many sites take part in a release compared here (tests/conftest.py FLEETS: 6 and 7)."""


def rounding(scale_exponent: int) -> float:
    """Most a secure sum can differ from the exact sum of its sites' values: each rounds to 2^-e [block unit]."""
    return MOST_SITES * 2.0 ** -(scale_exponent + 1)


CURVE = (1e-9, 0.0)  # curve means and standard deviations, and what is read off them (README: 1e-9 relative)
TOLERANCES: dict[tuple[str, str], tuple[float, float]] = {
    ("PowerCurveBin", "mean_wind_speed"): CURVE,
    ("PowerCurveBin", "mean_power"): CURVE,
    ("PowerCurveBin", "std_power"): CURVE,
    ("PowerCurveBin", "mean_power_per_unit"): CURVE,
    ("PowerCurveBin", "std_power_per_unit"): CURVE,
    ("PowerCurveBin", "uncertainty_power"): CURVE,
    ("PowerCurveBin", "uncertainty_power_per_unit"): CURVE,
    ("PowerCurveBin", "power_coefficient"): CURVE,
    ("Completeness", "from_wind_speed"): CURVE,
    ("Completeness", "to_wind_speed"): CURVE,
    ("AnnualEnergy", "measured_full_load_hours"): CURVE,
    ("AnnualEnergy", "extrapolated_full_load_hours"): CURVE,
    # The model sums travel at 2^-24 per site (~3e-8 in sums of 1e4 to 1e6). The coefficients see that
    # through the Gram matrix, whose P/P_rated and (P/P_rated)^2 columns are nearly collinear (up to
    # 1.6e-9 relative seen); the residual variance through beta^T dG beta with |beta|_1 ~ 35, at most
    # ~2e-8 relative over 8,000 training records (up to 4e-9 seen).
    ("NormalBehaviourModelFit", "coefficients"): (1e-8, 0.0),
    ("NormalBehaviourModelFit", "residual_std"): (3e-8, 0.0),
    # lost / potential is off by at most 2 rounding(24) / potential [MWh]: under 1e-9 above 500 MWh
    # (these fleets: 2,000 to 5,000 MWh per cohort; up to 2e-11 seen).
    ("LostProduction", "share_of_potential"): (0.0, 1e-9),
    ("FailureRate", "turbine_years"): (0.0, rounding(STATISTICS[S.TURBINE_YEARS].scale_exponent)),
    ("FailureRate", "failures_per_turbine_year"): (1e-9, 0.0),  # that, relative to bands of >= 0.004 years
    ("FailureRate", "mean_downtime_hours"): (0.0, rounding(STATISTICS[S.FAILURE_DOWNTIME].scale_exponent)),
}
"""(message, field) -> (relative, absolute) tolerance; every other field must be equal, bit for bit."""


def publication(release: release_pb2.Release) -> release_pb2.Release:
    """``release`` without the provenance of how and when it was made (see :data:`PROVENANCE_ONLY`)."""
    out = release_pb2.Release()
    out.CopyFrom(release)
    for name in PROVENANCE_ONLY:
        out.provenance.ClearField(name)
    out.indicator_spec.indicators.ClearField("baseline_release_sha256")
    return out


def _same_value(field: FieldDescriptor, a: object, b: object, where: str) -> list[str]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        assert isinstance(a, Message) and isinstance(b, Message)
        return differences(a, b, where)
    tolerance = TOLERANCES.get((field.containing_type.name, field.name))
    if tolerance is not None and isinstance(a, float) and isinstance(b, float):
        rel, abs_ = tolerance
        same = math.isclose(a, b, rel_tol=rel, abs_tol=abs_) or (math.isnan(a) and math.isnan(b))
    else:
        same = a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    return [] if same else [f"{where}: {a!r} != {b!r}"]


def differences(a: Message, b: Message, where: str = "release") -> list[str]:
    """Every field in which ``a`` and ``b`` differ beyond :data:`TOLERANCES`: presence, length, value."""
    found = []
    for field in a.DESCRIPTOR.fields:
        here = f"{where}.{field.name}"
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            if dict(x) != dict(y):
                found.append(f"{here}: {dict(x)} != {dict(y)}")
        elif field.is_repeated:
            if len(x) != len(y):
                found.append(f"{here}: {len(x)} != {len(y)} entries")
                continue
            for i, (u, v) in enumerate(zip(x, y, strict=True)):
                found += _same_value(field, u, v, f"{here}[{i}]")
        elif field.has_presence and a.HasField(field.name) != b.HasField(field.name):
            found.append(f"{here}: {'set' if a.HasField(field.name) else 'absent'} in one release only")
        else:
            found += _same_value(field, x, y, here)
    return found


def assert_publishes_the_same(federated: release_pb2.Release, pooled: release_pb2.Release) -> None:
    """The two releases publish the same: only provenance may differ."""
    assert federated.provenance.method == "secagg+" and pooled.provenance.method == "pooled"
    assert federated.provenance.participants <= MOST_SITES  # the tolerances assume it
    found = differences(publication(federated), publication(pooled))
    assert not found, f"{len(found)} differences:\n" + "\n".join(found[:40])


def assert_holds_both_rounds(release: release_pb2.Release) -> None:
    """Not an empty comparison: models, every distribution, lost production and failure rates are there.

    Round 2 measures each turbine once, against its own cohort (the first of its cohorts with a
    released curve, or model): a cohort with a released curve lists every distribution, lost
    production per category and failure rates. A cohort without one may list some too (its
    turbines measured against another cohort, or measured without a curve, as time availability is).
    """
    spec = release.indicator_spec
    assert spec.indicators.baseline_release_sha256 and release.provenance.indicator_spec_sha256
    measured = {c.cohort for c in release.curves if not c.suppressed and c.bins}
    assert sum(b.HasField("mean_power") for c in release.curves for b in c.bins) > 40
    assert any(not m.suppressed and m.coefficients for m in release.models)
    assert len(release.models) == len(spec.cohorts) * len(spec.models)
    indicators = (*INDICATOR_CELLS[:4], *(f"residual:{m.target}" for m in spec.models))
    listed = Counter((d.cohort, d.indicator) for d in release.distributions)
    assert set(listed.values()) == {1} and {(c, i) for c in measured for i in indicators} <= set(listed)
    assert sum(sum(d.counts) for d in release.distributions if not d.suppressed) > 0
    lost = Counter(x.cohort for x in release.lost_production)
    assert set(lost) >= measured and set(lost.values()) == {len(spec.indicators.loss_categories)}
    assert any(x.share_of_potential > 0 for x in release.lost_production)
    assert {r.cohort for r in release.failure_rates} >= measured


def assert_each_turbine_measured_once(release: release_pb2.Release) -> None:
    """A turbine carries its own cohort's value into every cohort it is in: a band's distribution adds its models'.

    Every turbine of these fleets is in the 1.5-3 MW band and its model's cohort, which comes first
    in the spec; so where the band and all the model cohorts publish an indicator, the band's counts
    are the sum of the models'. (Measured against the band's own curve, they would not be.)
    """
    band = next(c.cohort for c in release.curves if not c.turbine_model)
    checked = 0
    for indicator in {d.indicator for d in release.distributions}:
        of = {d.cohort: d for d in release.distributions if d.indicator == indicator}
        if band not in of or any(d.suppressed for d in of.values()):
            continue
        models = np.sum([np.array(d.counts) for cohort, d in of.items() if cohort != band], axis=0)
        np.testing.assert_array_equal(np.array(of[band].counts), models, err_msg=indicator)
        checked += 1
    assert checked >= 2


@dataclass(frozen=True)
class Federated:
    """A federated release, what its two censuses and two secure sums held, and the fleet it was computed over."""

    site_configs: list[Path]
    spec: spec_pb2.BenchmarkSpec
    release: release_pb2.Release
    outcomes: tuple[SecureSumOutcome, SecureSumOutcome]  # values rounds: round 1, round 2
    censuses: tuple[spec_pb2.Census, spec_pb2.Census]  # as the aggregator decoded them: round 1, round 2


def summed_values(spec: spec_pb2.BenchmarkSpec, outcome: SecureSumOutcome) -> dict[BlockKey, np.ndarray]:
    """The value of every block of ``spec`` as the aggregator decodes its secure sum."""
    totals = decode_limb_sums(block_layouts(spec), limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites))
    return block_values(spec, totals)


def assert_blocks_equal(
    spec: spec_pb2.BenchmarkSpec, summed: Mapping[BlockKey, np.ndarray], pooled: Mapping[BlockKey, np.ndarray]
) -> None:
    """Every block in ``pooled`` equals its secure sum: counts exactly, fixed-point sums to their rounding."""
    layouts = [layout for layout in block_layouts(spec) if layout.key in pooled]
    assert len(layouts) == len(pooled)
    for layout in layouts:
        if layout.scale_exponent == 0:
            np.testing.assert_array_equal(summed[layout.key], pooled[layout.key], err_msg=layout.name)
        else:
            np.testing.assert_allclose(
                summed[layout.key],
                pooled[layout.key],
                rtol=1e-12,
                atol=rounding(layout.scale_exponent),
                err_msg=layout.name,
            )


def assert_census_equal(spec: spec_pb2.BenchmarkSpec, census: spec_pb2.Census, pooled: PooledRound) -> None:
    """The pooled census of values spec ``spec`` equals the federated ``census``, bit for bit, block by block."""
    federated = census_totals(census, spec)
    assert set(federated) == set(pooled.census)
    for key, totals in federated.items():
        np.testing.assert_array_equal(pooled.census[key], totals, err_msg=key.name)


def pooled_rounds(run: Federated) -> tuple[PooledRound, PooledRound]:
    """Both pooled rounds of ``run``'s fleet; round 2 measured against the federated round-1 release."""
    records = pooled_canonical_records(run.site_configs, run.spec)
    first = pooled_round_one(pooled_rows(run.site_configs, run.spec), run.spec, records)
    return first, pooled_round_two(records, run.release.indicator_spec, run.release)


def assert_every_model_and_indicator_block_equal(run: Federated, rounds: tuple[PooledRound, PooledRound]) -> None:
    """Round 1's model blocks, and every block of round 2, as the sites send them (zero where withheld)."""
    first, second = rounds
    assert len(first.values) == len(run.spec.cohorts) * len(run.spec.models) * 4
    assert_blocks_equal(run.spec, summed_values(run.spec, run.outcomes[0]), first.values)
    round_two = run.release.indicator_spec
    assert len(second.values) == len(round_two.blocks)
    assert_blocks_equal(round_two, summed_values(round_two, run.outcomes[1]), second.values)


def assert_both_censuses_equal(run: Federated, rounds: tuple[PooledRound, PooledRound]) -> None:
    """Both rounds' censuses equal the federated ones bit for bit, and they hold something in every family."""
    first, second = rounds
    assert_census_equal(run.spec, run.censuses[0], first)
    assert_census_equal(run.release.indicator_spec, run.censuses[1], second)
    for census in (first.census, second.census):
        for key, block in census.items():
            fields = CensusFields(*block)
            assert fields.total.sum() > 0 and fields.contributor.max() >= 2, key.name


def received_census(outgoing_dir: Path, spec: spec_pb2.BenchmarkSpec) -> spec_pb2.Census:
    """The census of values spec ``spec`` the sites received with its values round (tests/conftest.py RecordOutgoing).

    Every site receives the one census the aggregator decoded (server.publish.census_from_secure_sum).
    """
    expected = spec_sha256(census_spec(spec))
    received = set()
    for path in outgoing_dir.glob("*.pkl"):
        sent = pickle.loads(path.read_bytes())["incoming"].get("fitins.config", {})
        if (
            CENSUS_CONFIG_KEY in sent
            and spec_pb2.Census.FromString(sent[CENSUS_CONFIG_KEY]).census_spec_sha256 == expected
        ):
            received.add(bytes(sent[CENSUS_CONFIG_KEY]))
    (census,) = received
    return spec_pb2.Census.FromString(census)


def _of(federated_run) -> Federated:
    specs = (federated_run.spec, federated_run.release.indicator_spec)
    return Federated(
        federated_run.site_configs,
        federated_run.spec,
        federated_run.release,
        (federated_run.outcome, federated_run.indicator_outcome),
        (received_census(federated_run.outgoing_dir, specs[0]), received_census(federated_run.outgoing_dir, specs[1])),
    )


def run_recording_censuses(
    site_configs: list[Path], spec: spec_pb2.BenchmarkSpec, send: bool = False
) -> tuple[release_pb2.Release, list[SecureSumOutcome], list[spec_pb2.Census]]:
    """The release of :func:`simulations.onboarding.run_release_in_process`, its values rounds' sums and censuses.

    The censuses are what server.server_app.run_census hands the aggregator, round by round.
    """
    outcomes: list[SecureSumOutcome] = []
    censuses: list[spec_pb2.Census] = []
    run_census = server_app.run_census

    def recording(*args, **kwargs):
        census, sites = run_census(*args, **kwargs)
        censuses.append(census)
        return census, sites

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server_app, "run_census", recording)
        release = run_release_in_process(site_configs, spec, send=send, on_outcome=outcomes.append)
    return release, outcomes, censuses


def test_federated_release_equals_the_pooled_release(federated_run):
    """Both fleets of tests/conftest.py (Ray, two SecAgg+ rounds), one with a cohort suppressed at k = 3."""
    pooled = pooled_release(federated_run.site_configs, federated_run.spec)
    assert_holds_both_rounds(pooled)
    assert_each_turbine_measured_once(pooled)
    assert len({c.turbine_model for c in pooled.curves if c.turbine_model}) >= 2
    rare = "N117/2400" in federated_run.config.models
    assert any(c.suppressed for c in pooled.curves) == rare
    if rare:  # its turbines have no own cohort (the band is suppressed with it): no curve-based indicator
        of_rare = {d.indicator: d for d in pooled.distributions if d.cohort == "N117/2400"}
        assert "performance_index" not in of_rare and of_rare["time_availability"].suppressed
    assert_publishes_the_same(federated_run.release, pooled)


@pytest.fixture(scope="module")
def federated(federated_run) -> tuple[Federated, tuple[PooledRound, PooledRound]]:
    run = _of(federated_run)
    return run, pooled_rounds(run)


def test_every_summed_block_equals_its_pooled_value(federated):
    assert_every_model_and_indicator_block_equal(*federated)


def test_the_pooled_census_equals_the_federated_census(federated):
    """Both rounds' census blocks, bit for bit; in the fleet with a rare model, its cells are decided away."""
    run, rounds = federated
    assert_both_censuses_equal(run, rounds)
    first, second = rounds
    assert first.decision.suppressed_cells > 0 and second.decision.suppressed_cells > 0


YOUNG_FAILING_TARGET = "WTRM_GbxBrgTmp"
"""A model target of every fleet spec (server.spec.power_curve_spec)."""

# Young sites (commissioned under a year before the start) with frequent failures: three operators share
# the first age band, so its failure rates are released, with failures and downtime; fewer age into the
# second band during the period, and that band is suppressed.
YOUNG_FAILING = FleetConfig(
    operators=3,
    turbines_per_operator=2,
    months=2,
    seed=5,
    models=("E-82/2300",),
    max_age_years=0.9,
    faults=FaultConfig(
        earliest_drift_fraction=0.34,
        failure_rates=(("gearbox", 3.0), ("generator", 3.0), ("pitch_system", 6.0), ("converter", 4.0)),
        failure_days=(0.5, 2.0),
    ),
)


@pytest.fixture(scope="module")
def young_failing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Federated, release_pb2.Release]:
    """The federated release of :data:`YOUNG_FAILING` (SecAgg+ over the in-process grid) and its pooled one."""
    sites = generate_fleet(YOUNG_FAILING, tmp_path_factory.mktemp("young-failing"))
    spec = fleet_spec(YOUNG_FAILING)
    release, (first, second), (census_one, census_two) = run_recording_censuses(sites, spec)
    return Federated(sites, spec, release, (first, second), (census_one, census_two)), pooled_release(sites, spec)


@pytest.fixture(scope="module")
def young_failing_rounds(young_failing) -> tuple[PooledRound, PooledRound]:
    federated, _ = young_failing
    return pooled_rounds(federated)


def test_federated_failure_rates_and_lost_production_equal_the_pooled_release(young_failing):
    federated, pooled = young_failing
    assert_holds_both_rounds(pooled)
    assert_each_turbine_measured_once(pooled)
    released = [r for r in pooled.failure_rates if not r.suppressed]
    assert any(r.failures > 0 and r.HasField("mean_downtime_hours") for r in released)
    assert any(r.suppressed and r.suppression_reason == "fewer than 3 operators" for r in pooled.failure_rates)
    assert_publishes_the_same(federated.release, pooled)


def test_every_summed_block_of_a_failing_fleet_equals_its_pooled_value(young_failing, young_failing_rounds):
    federated, _ = young_failing
    assert_every_model_and_indicator_block_equal(federated, young_failing_rounds)
    # The suppressed age band's failures were withheld: the sites sent zeros, and so does the reference.
    _, second = young_failing_rounds
    decided = second.decision.age_bands  # cohort 0 is E-82/2300
    withheld = decided.filled[0] & ~decided.published[0]
    assert withheld.any() and decided.published[0].any()
    assert not second.values[BlockKey("E-82/2300", S.TURBINE_YEARS)][withheld].any()
    assert not second.values[BlockKey("E-82/2300", S.FAILURE_COUNT)][:, withheld].any()


def test_the_pooled_census_of_a_failing_fleet_equals_the_federated_census(young_failing, young_failing_rounds):
    federated, _ = young_failing
    assert_both_censuses_equal(federated, young_failing_rounds)


def _drop_a_distribution(r: release_pb2.Release) -> None:
    del r.distributions[-1]


def _count_one_more_turbine(r: release_pb2.Release) -> None:
    d = next(d for d in r.distributions if d.indicator == "performance_index" and not d.suppressed)
    d.counts[max(range(len(d.counts)), key=d.counts.__getitem__)] += 1


def _drop_a_curve_record(r: release_pb2.Release) -> None:
    next(b for b in r.curves[0].bins if b.HasField("record_count")).record_count -= 1


def _move_a_coefficient(r: release_pb2.Release) -> None:
    r.models[0].coefficients[0] *= 1 + 1e-6


def _nudge(message: Message, field: str, relative: float) -> None:
    setattr(message, field, getattr(message, field) * (1 + relative))


def _lost_share(r: release_pb2.Release) -> release_pb2.LostProduction:
    return next(x for x in r.lost_production if x.share_of_potential > 0)


MUTATIONS: dict[str, Callable[[release_pb2.Release], None]] = {
    "a distribution dropped": _drop_a_distribution,
    "a turbine counted twice": _count_one_more_turbine,
    "a percentile moved": lambda r: _nudge(next(d for d in r.distributions if not d.suppressed), "p50", 1e-6),
    "a model coefficient off by 1e-6": _move_a_coefficient,
    "a residual std off by 1e-6": lambda r: _nudge(r.models[0], "residual_std", 1e-6),
    "a model suppressed": lambda r: setattr(r.models[0], "suppressed", True),
    "a suppressed failure rate published": lambda r: setattr(
        next(x for x in r.failure_rates if x.suppressed), "suppressed", False
    ),
    "a suppressed curve bin published": lambda r: setattr(
        next(b for c in r.curves for b in c.bins if b.suppressed), "suppressed", False
    ),
    "a suppression reason reworded": lambda r: setattr(
        next(x for x in r.failure_rates if x.suppressed), "suppression_reason", "fewer operators"
    ),
    "a failure rate off by 1e-9": lambda r: _nudge(
        next(x for x in r.failure_rates if x.failures), "failures_per_turbine_year", 1e-9
    ),
    "a lost-production share withheld": lambda r: _lost_share(r).ClearField("share_of_potential"),
    "a lost-production share off by 1e-8": lambda r: setattr(
        _lost_share(r), "share_of_potential", _lost_share(r).share_of_potential + 1e-8
    ),
    "a curve mean off by 1e-8": lambda r: _nudge(
        next(b for b in r.curves[0].bins if b.mean_power > 0), "mean_power", 1e-8
    ),
    "a curve record dropped": _drop_a_curve_record,
    "the indicator spec's grid changed": lambda r: setattr(r.indicator_spec.indicators.residual_bins, "count", 160),
    "the suppressed-cell count changed": lambda r: setattr(
        r.provenance, "suppressed_cells", r.provenance.suppressed_cells + 1
    ),
}
"""Ways a pooled release could differ from the federated one; the comparison must see each."""


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_comparison_fails_when_the_release_differs(young_failing, mutation):
    _, pooled = young_failing
    changed = release_pb2.Release()
    changed.CopyFrom(pooled)
    MUTATIONS[mutation](changed)
    assert differences(publication(pooled), publication(changed))


def _nudged(block: np.ndarray, field: int, step: float) -> np.ndarray:
    """``block`` with ``step`` added to the largest element of its census field ``field`` (CensusFields order)."""
    out = block.copy()
    values = out[field].reshape(-1)  # a view of the copy
    values[np.argmax(values)] += step
    return out


CENSUS_MUTATIONS: dict[str, tuple[int, BlockKey, Callable[[np.ndarray], np.ndarray]]] = {
    "one record more in a curve bin": (0, BlockKey("", S.CURVE_CENSUS), lambda b: _nudged(b, 1, 1.0)),
    "one operator more in a cohort": (0, BlockKey("", S.COHORT_CENSUS), lambda b: _nudged(b, 0, 1.0)),
    "one training record less": (
        0,
        BlockKey("", S.TRAINING_CENSUS, YOUNG_FAILING_TARGET),
        lambda b: _nudged(b, 1, -1.0),
    ),
    "one turbine more measured": (1, BlockKey("", S.INDICATOR_CENSUS), lambda b: _nudged(b, 1, 1.0)),
    "turbine-years off by one fixed-point step": (
        1,
        BlockKey("", S.AGE_BAND_CENSUS),
        lambda b: _nudged(b, 1, 2.0 ** -STATISTICS[S.AGE_BAND_CENSUS].scale_exponent),
    ),
    "the summed total squared instead of the operators' squares summed": (
        1,
        BlockKey("", S.AGE_BAND_CENSUS),
        lambda b: np.stack([b[0], b[1], b[1] ** 2]),
    ),
}
"""Ways a pooled census could differ from the federated one: (round index, block, change); the comparison sees each."""


@pytest.mark.parametrize("mutation", sorted(CENSUS_MUTATIONS))
def test_the_census_comparison_fails_when_a_total_differs(young_failing, young_failing_rounds, mutation):
    federated, _ = young_failing
    which, key, change = CENSUS_MUTATIONS[mutation]
    rounds = list(young_failing_rounds)
    rounds[which] = replace(rounds[which], census={**rounds[which].census, key: change(rounds[which].census[key])})
    with pytest.raises(AssertionError, match=key.name):
        assert_both_censuses_equal(federated, (rounds[0], rounds[1]))


def test_the_comparison_ignores_provenance_only(young_failing):
    federated, pooled = young_failing
    assert federated.release.provenance.created_utc and federated.release.provenance.flower_run_id == "7"
    baseline = federated.release.indicator_spec.indicators.baseline_release_sha256
    assert baseline != pooled.indicator_spec.indicators.baseline_release_sha256
    assert not differences(publication(federated.release), publication(pooled))


def test_round_one_only_and_private_specs_have_no_round_two(small_fleet):
    fleet = small_fleet(3)
    round_one = pooled_release(fleet.site_configs, fleet.spec, indicators=False)
    assert round_one.models and round_one.training_period == fleet.spec.training_period
    assert not round_one.distributions and not round_one.HasField("indicator_spec")
    assert not round_one.provenance.indicator_spec_sha256
    period = fleet.spec.period
    spec = power_curve_spec("private", period.start, period.end, ["E-82/2300"], privacy=PrivacySettings(1.0))
    private = pooled_release(fleet.site_configs, spec)
    assert not private.models and not private.distributions and not private.HasField("indicator_spec")


def test_sites_without_status_codes_measure_no_availability_losses_or_failures(tmp_path):
    """Three operators export status codes, three do not (style 3): only the first three are counted.

    Availability, lost production and failure rates count the three that measured them (and are
    published at k = 3); a status-less site sends nothing for them, not "full performance".
    Federated == pooled on this mixed fleet too.
    """
    config = FleetConfig(
        operators=6,
        turbines_per_operator=2,
        months=2,
        seed=8,
        models=("E-82/2300",),
        export_styles=(0, 3),
        max_age_years=0.9,
    )
    sites = generate_fleet(config, tmp_path)
    spec = fleet_spec(config, k_min_operators=3)
    release = run_release_in_process(sites, spec, send=False)
    model = "E-82/2300"
    by_indicator = {d.indicator: d for d in release.distributions if d.cohort == model}
    for indicator in ("time_availability", "production_availability"):
        assert not by_indicator[indicator].suppressed and by_indicator[indicator].operator_count == 3
        assert sum(by_indicator[indicator].counts) == 6  # the status sites' turbines only
    assert by_indicator["performance_index"].operator_count == 6
    rates = [r for r in release.failure_rates if r.cohort == model and not r.suppressed]
    assert rates and all(r.operator_count == 3 for r in rates)
    assert all(0.9 < r.turbine_years <= 6 * 2 / 12 for r in rates)  # the 6 turbines of three operators, not 12
    assert_publishes_the_same(release, pooled_release(sites, spec))


def test_the_pooled_records_are_those_the_summaries_keep(tmp_path: Path):
    """An export of turbine A at 10:00, 10:20, 10:10 (written late) and 10:20 (again): the pooled reference keeps
    10:00 and 10:20, as the summaries do (client/streaming.py: late_or_repeated_records), by its own rule."""
    (tmp_path / "export.csv").write_text(
        "t,wtg,p,v,temp\n"
        + "".join(
            f"2025-01-01T{t}Z,A,{p},8.0,5.0\n" for t, p in (("10:00", 900), ("10:20", 950), ("10:10", 1), ("10:20", 2))
        )
    )
    (tmp_path / "site.toml").write_text(
        '[site]\nelevation_m = 100\n[source]\nfiles = ["export.csv"]\n[columns]\ntime = "t"\nasset_id = "wtg"\n'
        'WTUR_W = "p"\nWMET_HorWdSpd = "v"\nWMET_EnvTmp = "temp"\n[[turbines]]\nasset_id = "A"\nmodel = "E-82/2300"\n'
        "rated_power_kw = 2300\nrotor_diameter_m = 82\nhub_height_m = 98\n"
    )
    spec = power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"])
    records = pooled_canonical_records([tmp_path / "site.toml"], spec)
    assert list(records["time"].dt.strftime("%H:%M")) == ["10:00", "10:20"]
    assert list(records["WTUR_W"]) == [900.0, 950.0]
