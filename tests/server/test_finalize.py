"""Finalising a release: exact statistics from totals, percentile bands, suppression."""

from __future__ import annotations

import math

import numpy as np
import pytest

from protos.census import Decision, decide
from protos.codec import block_layouts
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey, CohortBlocks
from server.aep import annual_energy_production
from server.finalize import CohortStatistics, build_release, cohort_statistics_from_totals
from server.private_curve import usable_cohort_units
from server.spec import PrivacySettings, model_cohort, power_curve_spec

S = spec_pb2.Statistic
SPEC = power_curve_spec("t", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"], k_min_operators=3)


def _totals(power: np.ndarray, wind: np.ndarray, bin_: int) -> dict[BlockKey, np.ndarray]:
    totals = {}
    for layout in block_layouts(SPEC):
        totals[layout.key] = np.zeros(layout.shape, dtype=object)
    scale = {layout.statistic: layout.scale_exponent for layout in block_layouts(SPEC)}
    block = CohortBlocks(totals, "E-82/2300")
    block(S.RECORD_COUNT)[bin_] = len(power)
    block(S.SUM_WIND_SPEED)[bin_] = sum(round(math.ldexp(w, scale[S.SUM_WIND_SPEED])) for w in wind)
    block(S.SUM_POWER)[bin_] = sum(round(math.ldexp(p, scale[S.SUM_POWER])) for p in power)
    block(S.SUM_POWER_SQUARED)[bin_] = sum(round(math.ldexp(p * p, scale[S.SUM_POWER_SQUARED])) for p in power)
    block(S.BIN_CONTRIBUTOR)[bin_] = 3
    block(S.COHORT_CONTRIBUTOR)[0] = 3
    return totals


def test_mean_and_sample_std_from_totals_match_numpy_without_cancellation():
    # A rated-power bin: large mean, small spread, where the naive float formula loses digits.
    rng = np.random.default_rng(5)
    power = 2300.0 + rng.normal(0, 0.01, size=1000)
    wind = rng.uniform(14.75, 15.25, size=1000)
    stats = cohort_statistics_from_totals(SPEC, _totals(power, wind, 30))["E-82/2300"]
    assert stats.record_count[30] == 1000
    assert stats.mean_power[30] == pytest.approx(power.mean(), rel=1e-12)
    assert stats.mean_wind_speed[30] == pytest.approx(wind.mean(), rel=1e-12)
    assert stats.std_power[30] == pytest.approx(power.std(ddof=1), rel=1e-6)
    assert np.isnan(stats.mean_power[0]) and np.isnan(stats.std_power[0])


def _stats(operators: int, bin_operators: list[int]) -> CohortStatistics:
    """Ten records per occupied bin: what the values round summed for the cells the census let through."""
    n = len(bin_operators)
    counts = np.where(np.array(bin_operators) > 0, 10, 0)
    return CohortStatistics(
        operator_count=operators,
        bin_operator_count=np.array(bin_operators),
        record_count=counts,
        mean_wind_speed=np.arange(n, dtype=float) * 0.5,
        mean_power=np.full(n, 100.0),
        std_power=np.full(n, 5.0),
        mean_power_per_unit=np.full(n, 0.05),
        std_power_per_unit=np.full(n, 0.0025),
        mean_power_per_area=np.full(n, 20.0),
        histogram=np.ones((n, 141), dtype=np.int64),
    )


def _decision(spec, bins: dict[int, list[float]], cohort: list[float] | None = None) -> Decision:
    """The census decision for a one-cohort spec: per bin and for the whole period, each operator's records."""
    assert len(cohort_atoms(spec.cohorts)) == 1  # one atom, and the cohort: the same rows
    curve = np.zeros((3, 2, spec.wind_speed_bins.count))
    for i, shares in bins.items():
        curve[:, :, i] = np.array([len(shares), sum(shares), sum(x * x for x in shares)])[:, None]
    whole = cohort if cohort is not None else [sum(column) for column in zip(*bins.values(), strict=False)]
    totals = {
        BlockKey("", S.CURVE_CENSUS): curve,
        BlockKey("", S.COHORT_CENSUS): np.array([[len(whole)] * 2, [sum(whole)] * 2, [sum(x * x for x in whole)] * 2]),
    }
    for model in spec.models:
        totals[BlockKey("", S.TRAINING_CENSUS, model.target)] = np.zeros((3, 2))
    return decide(spec, totals)


def _equal(operators: int) -> list[float]:
    return [10.0 / operators] * operators


def test_release_suppresses_and_marks_cells_below_k():
    bins = [0] * 61
    bins[10], bins[11], bins[12] = 3, 2, 5
    decision = _decision(SPEC, {10: _equal(3), 11: _equal(2), 12: _equal(5)}, cohort=[6.0] * 5)
    release = build_release(SPEC, {"E-82/2300": _stats(5, bins)}, decision, 5, flower_run_id="7", method="secagg+")
    (curve,) = release.curves
    assert [b.wind_speed_centre for b in curve.bins] == [5.0, 5.5, 6.0]  # empty bins are not cells
    released, suppressed, also_released = curve.bins
    assert released.operator_count == 3 and released.HasField("mean_power")
    assert suppressed.suppressed and "fewer than 3" in suppressed.suppression_reason
    assert not any(
        suppressed.HasField(f) for f in ("record_count", "operator_count", "mean_power", "p50_normalised_power")
    )
    assert also_released.record_count == 10
    assert release.provenance.suppressed_cells == 1 and release.provenance.participants == 5


def test_release_suppresses_a_cohort_below_k_entirely():
    decision = _decision(SPEC, dict.fromkeys(range(61), _equal(2)))
    release = build_release(SPEC, {"E-82/2300": _stats(2, [2] * 61)}, decision, 9, flower_run_id="", method="pooled")
    (curve,) = release.curves
    assert curve.suppressed and not curve.bins and not curve.HasField("operator_count")
    assert curve.suppression_reason == "fewer than 3 operators"
    assert release.provenance.suppressed_cells == 1


def test_a_bin_one_operator_dominates_is_suppressed_although_k_is_met():
    # Bin 10: 4 operators holding 7, 1, 1, 1 of 10 records: sum of squares 52, H = 0.52, s* = 0.7 > 0.6.
    # Bin 11: 4 operators holding 4, 2, 2, 2: sum of squares 28, H = 0.28, s* = 0.4 <= 0.6.
    bins = [0] * 61
    bins[10] = bins[11] = 4
    decision = _decision(SPEC, {10: [7.0, 1.0, 1.0, 1.0], 11: [4.0, 2.0, 2.0, 2.0]}, cohort=[5.0] * 4)
    release = build_release(SPEC, {"E-82/2300": _stats(4, bins)}, decision, 4, "", "pooled")
    dominated, fine = release.curves[0].bins
    assert dominated.suppressed and "more than 60%" in dominated.suppression_reason
    assert not dominated.HasField("mean_power") and not dominated.HasField("operator_count")
    assert not fine.suppressed and fine.operator_count == 4


def test_a_dominated_cohort_is_suppressed():
    decision = _decision(SPEC, dict.fromkeys(range(61), _equal(3)), cohort=[90.0, 5.0, 5.0])
    release = build_release(SPEC, {"E-82/2300": _stats(3, [3] * 61)}, decision, 3, "", "pooled")
    assert release.curves[0].suppressed and "more than 60%" in release.curves[0].suppression_reason


def test_completeness_counts_the_released_bins_only():
    # Bin 11 fails k: the sites sent zeros for it, and its records must not enter the database's hours.
    bins = [0] * 61
    bins[10], bins[11], bins[12] = 3, 2, 3
    stats = _stats(3, bins)
    stats.record_count[11] = 0  # withheld by every site
    decision = _decision(SPEC, {10: _equal(3), 11: _equal(2), 12: _equal(3)}, cohort=[7.0] * 3)
    release = build_release(SPEC, {"E-82/2300": stats}, decision, 3, "", "pooled")
    assert release.curves[0].completeness.hours == pytest.approx(20 / 6)


def test_power_coefficient_and_category_a_uncertainty_by_hand():
    bins = [0] * 61
    bins[16] = 3
    stats = _stats(3, bins)
    stats.mean_wind_speed[16] = 8.0
    stats.mean_power_per_area[16] = 150.0  # W/m^2
    decision = _decision(SPEC, {16: _equal(3)})
    cell = build_release(SPEC, {"E-82/2300": stats}, decision, 3, "", "pooled").curves[0].bins[0]
    # Cp = (P / A) / (0.5 rho0 V^3) = 150 / (0.5 * 1.225 * 512) = 0.47832
    assert cell.power_coefficient == pytest.approx(0.478316, abs=1e-6)
    # s = sigma / sqrt(N) = 5 / sqrt(10)
    assert cell.uncertainty_power == pytest.approx(5 / np.sqrt(10))
    # Idling, held at rated, or beyond the Betz limit (16/27): no Cp.
    for per_unit, per_area in ((0.001, 150.0), (0.99, 150.0), (0.5, 190.0)):
        stats.mean_power_per_unit[16], stats.mean_power_per_area[16] = per_unit, per_area
        curve = build_release(SPEC, {"E-82/2300": stats}, decision, 3, "", "pooled").curves[0]
        cell = curve.bins[0]
        assert not cell.HasField("power_coefficient"), (per_unit, per_area)
        # Only the one past Betz between cut-in and rated is flagged: idling or at rated, Cp says nothing.
        assert list(curve.implausible_power_coefficient_bins) == ([8.0] if per_unit == 0.5 else [])
    assert cell.uncertainty_power_per_unit == pytest.approx(0.0025 / np.sqrt(10))


def test_a_private_release_withholds_the_percentiles_of_a_bin_dominated_by_noise():
    private = power_curve_spec(
        "p",
        "2025-01-01T00:00:00Z",
        "2025-02-01T00:00:00Z",
        ["E-82/2300"],
        k_min_operators=3,
        privacy=PrivacySettings(1.0, max_records_per_turbine_per_bin=60, min_noise_sites=3),
    )
    noise = next(b.noise_stddev for b in private.blocks if b.noise_stddev > 0) * math.sqrt(3 / 2)
    bins = [0] * 61
    bins[20] = bins[21] = 3
    stats = _stats(3, bins)
    grid = private.normalised_power_bins
    histogram = np.zeros((61, grid.count))
    histogram[20, 60] = 100 * noise  # every record in cell 60: P50 0.5
    stats = CohortStatistics(**{**stats.__dict__, "histogram": histogram})
    decision = _decision(private, {20: _equal(3), 21: _equal(3)})
    release = build_release(private, {"E-82/2300": stats}, decision, 3, flower_run_id="", method="secagg+")
    shown, withheld = release.curves[0].bins
    assert shown.p50_normalised_power == pytest.approx(0.5, abs=1e-9) and shown.p50_noise_stddev < 1e-3
    assert withheld.HasField("noisy_record_weight") and not withheld.suppressed
    assert not any(
        withheld.HasField(f)
        for f in ("p10_normalised_power", "p50_normalised_power", "p90_normalised_power", "mean_power_per_unit")
    )
    assert not withheld.HasField("p50_noise_stddev")
    assert "(1 of 2 bins here)" in release.privacy.note
    assert f"about {usable_cohort_units(noise, grid, 60)} turbines" in release.privacy.note


def _rising_curve(bins: list[int]) -> CohortStatistics:
    """A curve rising from cut-in at 3 m/s to rated at 12 m/s, 10 records in every occupied bin."""
    stats = _stats(4, bins)
    centres = np.arange(61) * 0.5
    stats.mean_wind_speed[:] = centres
    stats.mean_power_per_unit[:] = np.clip((centres - 2.5) / 9.5, 0.0, 1.0)
    stats.record_count[:] = np.where(np.array(bins) > 0, 400, 0)  # 180 h over the range
    return stats


def test_a_suppressed_bin_inside_the_range_is_interpolated_for_aep_and_labelled():
    # Bins 2 to 25 m/s filled by 4 equal operators; 9 m/s (bin 18) dominated by one of them.
    filled = range(4, 51)
    bins = [4 if i in filled else 0 for i in range(61)]
    shares = {i: [7.0, 1.0, 1.0, 1.0] if i == 18 else _equal(4) for i in filled}
    stats = _rising_curve(bins)
    decision = _decision(SPEC, shares, cohort=[20.0] * 4)
    curve = build_release(SPEC, {"E-82/2300": stats}, decision, 4, "", "pooled").curves[0]
    assert [b.suppressed for b in curve.bins if b.wind_speed_centre == 9.0] == [True]
    assert curve.completeness.complete and list(curve.completeness.interpolated_bins) == [9.0]
    assert "9.0" in curve.aep_note and "interpolated" in curve.aep_note
    # By hand: the released bins with 9 m/s at the mean of its neighbours' P/P_rated.
    released = [(b.mean_wind_speed, b.mean_power_per_unit) for b in curve.bins if not b.suppressed]
    released.insert(next(i for i, (v, _) in enumerate(released) if v > 9.0), (9.0, (6 / 9.5 + 7 / 9.5) / 2))
    v, p = (np.array(x) for x in zip(*released, strict=True))
    at_8 = next(a for a in curve.aep if a.mean_wind_speed == 8.0)
    assert at_8.measured_full_load_hours == pytest.approx(annual_energy_production(v, p, 8.0), rel=1e-12)
    assert 0.0 < at_8.interpolated_share < 0.2
    # Nothing of the suppressed cell's own sums is read: garbage there changes nothing.
    stats.mean_power_per_unit[18], stats.record_count[18] = 5.0, 1
    again = build_release(SPEC, {"E-82/2300": stats}, decision, 4, "", "pooled").curves[0]
    assert list(again.aep) == list(curve.aep) and again.completeness == curve.completeness


def test_two_suppressed_bins_side_by_side_withhold_aep():
    filled = range(4, 51)
    bins = [4 if i in filled else 0 for i in range(61)]
    shares = {i: [7.0, 1.0, 1.0, 1.0] if i in (18, 19) else _equal(4) for i in filled}
    decision = _decision(SPEC, shares, cohort=[20.0] * 4)
    curve = build_release(SPEC, {"E-82/2300": _rising_curve(bins)}, decision, 4, "", "pooled").curves[0]
    assert not curve.aep and "without a released bin on each side" in curve.aep_note
    assert list(curve.completeness.interpolated_bins) == []


def test_the_curve_states_its_wind_speed_reference():
    spec = power_curve_spec(
        "t", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", [model_cohort("E-82/2300", spec_pb2.MET_MAST)]
    )
    assert spec.cohorts[0].name == "E-82/2300 [mast]"
    decision = _decision(spec, {16: _equal(3)})
    stats = _stats(3, [3 if i == 16 else 0 for i in range(61)])
    curve = build_release(spec, {"E-82/2300 [mast]": stats}, decision, 3, "", "pooled").curves[0]
    assert curve.wind_speed_reference == spec_pb2.MET_MAST
    nacelle = build_release(SPEC, {"E-82/2300": stats}, _decision(SPEC, {16: _equal(3)}), 3, "", "pooled").curves[0]
    assert nacelle.wind_speed_reference == spec_pb2.NACELLE_ANEMOMETER
