"""From securely summed blocks to a published industry power-curve release.

A private spec's bins are filled from its noisy histograms by :mod:`server.private_curve`; the
disclosure control, completeness and AEP here are the same for both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from protos.census import Decision
from protos.codec import CONTRACT, block_layouts, spec_sha256
from protos.domain import MIN_DATABASE_HOURS, MIN_RECORDS_PER_BIN, RECORD_HOURS
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.privacy import summed_noise_stddev
from protos.statistics import BlockKey
from server.aep import (
    PRODUCING_PER_UNIT,
    RAYLEIGH_MEAN_WIND_SPEEDS,
    annual_energy_production,
    completeness_range,
    interpolated_share,
)
from server.percentiles import PERCENTILES, histogram_percentiles
from server.private_curve import fill_private_bin, privacy_parameters

S = spec_pb2.Statistic


@dataclass(frozen=True)
class CohortStatistics:
    """Industry statistics of one cohort, per wind-speed bin (NaN where undefined)."""

    operator_count: int  # operators with records in the cohort (0 where withheld, and in a private release)
    bin_operator_count: np.ndarray  # per bin, likewise
    record_count: np.ndarray
    mean_wind_speed: np.ndarray  # [m/s], density-normalised
    mean_power: np.ndarray  # [kW]
    std_power: np.ndarray  # [kW], sample standard deviation (N - 1)
    mean_power_per_unit: np.ndarray  # [-]
    std_power_per_unit: np.ndarray  # [-]
    mean_power_per_area: np.ndarray  # [W/m^2]
    histogram: np.ndarray  # records per (wind-speed bin, normalised-power bin)


def _ints(values: np.ndarray) -> list[int]:
    return [int(x) for x in np.ravel(values)]


def exact_mean_and_std(
    n: list[int], sum_x: list[int], sum_x2: list[int], e1: int, e2: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation from fixed-point totals, in exact integer arithmetic.

    With N records, S1 = sum x = sum_x / 2^e1 and S2 = sum x^2 = sum_x2 / 2^e2, the mean is S1 / N
    and the sample variance (N S2 - S1^2) / (N (N - 1)); both are evaluated on the integers and
    rounded to float once, so there is no cancellation error. NaN where N < 1 (mean) or N < 2.

    Parameters
    ----------
    n : list of int
        Record counts per bin.
    sum_x, sum_x2 : list of int
        Fixed-point totals of x and x^2 per bin.
    e1, e2 : int
        Their scale exponents (non-negative).
    """
    mean = [s / (ni << e1) if ni else math.nan for ni, s in zip(n, sum_x, strict=True)]
    variance = [
        (ni * s2 * (1 << (2 * e1)) - s * s * (1 << e2)) / (ni * (ni - 1) << (e2 + 2 * e1)) if ni > 1 else math.nan
        for ni, s, s2 in zip(n, sum_x, sum_x2, strict=True)
    ]
    return np.array(mean), np.sqrt(np.maximum(np.array(variance), 0.0))


def cohort_statistics_from_totals(
    spec: spec_pb2.BenchmarkSpec, totals: Mapping[BlockKey, np.ndarray]
) -> dict[str, CohortStatistics]:
    """Industry statistics of every cohort from the exact fixed-point totals.

    Parameters
    ----------
    spec : BenchmarkSpec
        The spec the totals were summed for.
    totals : mapping
        Block key -> object array of Python ints, as :func:`protos.codec.decode_limb_sums` returns.
    """
    by_cohort: dict[str, dict[int, np.ndarray]] = {}
    exponent: dict[int, int] = {}
    for layout in block_layouts(spec):
        if layout.target:
            continue  # normal-behaviour model sums: server/baselines.py
        if layout.scale_exponent < 0:
            raise ValueError(f"block {layout.name}: negative scale_exponent is not supported")
        by_cohort.setdefault(layout.cohort, {})[layout.statistic] = totals[layout.key]
        exponent[layout.statistic] = layout.scale_exponent

    if spec.HasField("privacy"):
        return _private_cohort_statistics(spec, by_cohort, exponent)
    result = {}
    for cohort, blocks in by_cohort.items():
        n = _ints(blocks[S.RECORD_COUNT])
        mean_ws, _ = exact_mean_and_std(n, _ints(blocks[S.SUM_WIND_SPEED]), [0] * len(n), exponent[S.SUM_WIND_SPEED], 0)
        mean_p, std_p = exact_mean_and_std(
            n,
            _ints(blocks[S.SUM_POWER]),
            _ints(blocks[S.SUM_POWER_SQUARED]),
            exponent[S.SUM_POWER],
            exponent[S.SUM_POWER_SQUARED],
        )
        mean_pu, std_pu = exact_mean_and_std(
            n,
            _ints(blocks[S.SUM_POWER_PER_UNIT]),
            _ints(blocks[S.SUM_POWER_PER_UNIT_SQUARED]),
            exponent[S.SUM_POWER_PER_UNIT],
            exponent[S.SUM_POWER_PER_UNIT_SQUARED],
        )
        mean_area, _ = exact_mean_and_std(
            n, _ints(blocks[S.SUM_POWER_PER_AREA]), [0] * len(n), exponent[S.SUM_POWER_PER_AREA], 0
        )
        result[cohort] = CohortStatistics(
            operator_count=int(blocks[S.COHORT_CONTRIBUTOR][0]),
            bin_operator_count=np.array(_ints(blocks[S.BIN_CONTRIBUTOR]), dtype=np.int64),
            record_count=np.array(n, dtype=np.int64),
            mean_wind_speed=mean_ws,
            mean_power=mean_p,
            std_power=std_p,
            mean_power_per_unit=mean_pu,
            std_power_per_unit=std_pu,
            mean_power_per_area=mean_area,
            histogram=np.array(_ints(blocks[S.NORMALISED_POWER_HISTOGRAM]), dtype=np.int64).reshape(
                blocks[S.NORMALISED_POWER_HISTOGRAM].shape
            ),
        )
    return result


def _private_cohort_statistics(
    spec: spec_pb2.BenchmarkSpec, by_cohort: Mapping[str, Mapping[int, np.ndarray]], exponent: Mapping[int, int]
) -> dict[str, CohortStatistics]:
    """Cohort statistics of a private spec: the noisy capped histograms alone.

    Suppression was decided from the census; what the release publishes comes from the noisy
    histogram alone (see :func:`build_release`).
    """
    n_ws = spec.wind_speed_bins.count
    centres = spec.wind_speed_bins.first_centre + spec.wind_speed_bins.width * np.arange(n_ws)
    undefined = np.full(n_ws, np.nan)
    result = {}
    for cohort, blocks in by_cohort.items():
        histogram = blocks[S.CAPPED_POWER_HISTOGRAM]
        result[cohort] = CohortStatistics(
            operator_count=0,
            bin_operator_count=np.zeros(n_ws, dtype=np.int64),
            record_count=np.zeros(n_ws, dtype=np.int64),
            mean_wind_speed=centres,
            mean_power=undefined,
            std_power=undefined,
            mean_power_per_unit=undefined,
            std_power_per_unit=undefined,
            mean_power_per_area=undefined,
            histogram=np.ldexp(
                np.array(_ints(histogram), dtype=np.float64), -exponent[S.CAPPED_POWER_HISTOGRAM]
            ).reshape(histogram.shape),
        )
    return result


def _published_statistics(
    stats: CohortStatistics, curve: release_pb2.CohortCurve, centres: np.ndarray
) -> CohortStatistics:
    """A private curve's statistics as published, for its completeness and AEP.

    Counts become the noisy record weights (rounded, floored at 0) and mean power the histogram
    means, so nothing exact but the suppression pattern enters the published curve.
    """
    published = {cell.wind_speed_centre: cell for cell in curve.bins if not cell.suppressed}
    weights = [max(0, round(published[c].noisy_record_weight)) if c in published else 0 for c in centres]
    means = [
        published[c].mean_power_per_unit if c in published and published[c].HasField("mean_power_per_unit") else np.nan
        for c in centres
    ]
    for cell in published.values():
        cell.mean_wind_speed = cell.wind_speed_centre
    return replace(stats, record_count=np.array(weights, dtype=np.int64), mean_power_per_unit=np.array(means))


def _completeness(
    stats: CohortStatistics, centres: np.ndarray, private: bool, curve: release_pb2.CohortCurve
) -> release_pb2.Completeness:
    """Database completeness (IEC 61400-12-1:2017, 8.3) over the released bins (withheld ones count nothing).

    A suppressed bin inside the range between two released bins is not short but interpolated
    (:func:`interpolable_bins`): whether it has 3 records is not published, and the standard lets
    an incomplete bin be estimated from its neighbours. A private release states no hours and
    leaves the 180 h criterion out: its bins carry capped, noisy record weights, not record counts.
    """
    # A private bin dominated by noise has no mean: the range is read from the bins that have one.
    # Only released cells count: a suppressed cell's sums are never read (an honest site sent zeros).
    released = np.isin(centres, [cell.wind_speed_centre for cell in curve.bins if not cell.suppressed])
    records = np.where(released, stats.record_count, 0)
    occupied = (records > 0) & np.isfinite(stats.mean_power_per_unit)
    low, high = completeness_range(stats.mean_wind_speed[occupied], stats.mean_power_per_unit[occupied])
    hours = 0.0 if private else float(records.sum()) * RECORD_HOURS
    completeness = release_pb2.Completeness(hours=hours)
    if math.isnan(low):
        return completeness
    in_range = (centres >= low - 0.25) & (centres <= high + 0.25)
    interpolated = interpolable_bins(curve, low, high)
    suppressed = np.isin(centres, [cell.wind_speed_centre for cell in curve.bins if cell.suppressed])
    # A suppressed bin is not called short: how many records it has is not published.
    short = centres[in_range & (records < MIN_RECORDS_PER_BIN) & ~suppressed]
    blocked = in_range & suppressed & ~np.isin(centres, interpolated)
    completeness.from_wind_speed, completeness.to_wind_speed = low, high
    completeness.short_bins.extend(float(c) for c in short)
    completeness.interpolated_bins.extend(interpolated)
    completeness.complete = len(short) == 0 and not blocked.any() and (private or hours >= MIN_DATABASE_HOURS)
    return completeness


def interpolable_bins(curve: release_pb2.CohortCurve, low: float, high: float) -> list[float]:
    """Centres of suppressed bins in [low, high] whose two neighbours are released with a mean [m/s].

    Such a bin's power can be estimated by linear interpolation between its neighbours (IEC
    61400-12-1:2017, 8.3, for an incomplete bin); two suppressed bins side by side cannot.
    """
    bins = list(curve.bins)
    return [
        cell.wind_speed_centre
        for i, cell in enumerate(bins)
        if cell.suppressed
        and low - 0.25 <= cell.wind_speed_centre <= high + 0.25
        and 0 < i < len(bins) - 1
        and all(_has_mean(bins[j], cell.wind_speed_centre) for j in (i - 1, i + 1))
    ]


def _has_mean(neighbour: release_pb2.PowerCurveBin, centre: float) -> bool:
    """Whether ``neighbour`` is the released bin next to ``centre`` (0.5 m/s away) with a mean power."""
    return (
        not neighbour.suppressed
        and neighbour.HasField("mean_power_per_unit")
        and math.isclose(abs(neighbour.wind_speed_centre - centre), 0.5)
    )


def _annual_energy(curve: release_pb2.CohortCurve, cut_out: float) -> None:
    """AEP per Rayleigh mean wind speed from the released bins, suppressed single bins interpolated."""
    completeness = curve.completeness
    low, high = completeness.from_wind_speed - 0.25, completeness.to_wind_speed + 0.25
    interpolated = set(completeness.interpolated_bins)
    blocked = [
        b.wind_speed_centre
        for b in curve.bins
        if b.suppressed and low <= b.wind_speed_centre <= high and b.wind_speed_centre not in interpolated
    ]
    if blocked:
        curve.aep_note = (
            f"bins {blocked} m/s inside the completeness range are suppressed without a released bin on each side "
            "to interpolate from: no AEP"
        )
        return
    if not completeness.complete:
        curve.aep_note = "database incomplete (IEC 61400-12-1, 8.3): no AEP"
        return
    # A private bin dominated by noise is present but has no mean power.
    noisy = [
        b.wind_speed_centre
        for b in curve.bins
        if not b.suppressed and not b.HasField("mean_power_per_unit") and low <= b.wind_speed_centre <= high
    ]
    if noisy:
        curve.aep_note = f"bins {noisy} are dominated by noise inside the completeness range: no AEP"
        return
    bins = list(curve.bins)
    released: list[tuple[float, float]] = []
    filled: list[int] = []  # indices into released of interpolated points
    for i, cell in enumerate(bins):
        if cell.wind_speed_centre in interpolated:
            before, after = bins[i - 1], bins[i + 1]
            estimate = np.interp(
                cell.wind_speed_centre,
                [before.mean_wind_speed, after.mean_wind_speed],
                [before.mean_power_per_unit, after.mean_power_per_unit],
            )
            filled.append(len(released))
            released.append((cell.wind_speed_centre, float(estimate)))
            continue
        if cell.suppressed or not cell.HasField("mean_power_per_unit"):
            if cell.wind_speed_centre > completeness.to_wind_speed:
                break  # the measured curve ends at the first bin above the range without a mean
            continue
        released.append((cell.mean_wind_speed, cell.mean_power_per_unit))
    if not released:
        curve.aep_note = "no released bins: no AEP"
        return
    wind_speed, power = (np.array(v) for v in zip(*released, strict=True))
    for v_ave in RAYLEIGH_MEAN_WIND_SPEEDS:
        curve.aep.add(
            mean_wind_speed=v_ave,
            measured_full_load_hours=annual_energy_production(wind_speed, power, v_ave),
            extrapolated_full_load_hours=annual_energy_production(wind_speed, power, v_ave, cut_out),
            interpolated_share=interpolated_share(wind_speed, power, v_ave, np.array(filled, dtype=np.int64)),
        )
    if filled:
        curve.aep_note = (
            f"bins {sorted(interpolated)} m/s suppressed: their power is interpolated between the neighbouring "
            "bins (IEC 61400-12-1, 8.3); interpolated_share says how much of each AEP rests on it"
        )


def build_release(
    spec: spec_pb2.BenchmarkSpec,
    statistics: Mapping[str, CohortStatistics],
    decision: Decision,
    participants: int,
    flower_run_id: str,
    method: str,
) -> release_pb2.Release:
    """Assemble the release: cohort curves with bands, completeness, AEP, as the census ``decision`` allows.

    A cohort the decision suppresses as a whole is released as suppressed with no bins. Within a
    released cohort each bin the decision suppresses keeps its centre and is marked suppressed,
    with its reason and every statistic absent (the sites sent zeros for it). Bins no operator
    filled are left out. Completeness and AEP read the released bins only.
    """
    release = _release_header(spec)
    # The stated P50 errors are a bootstrap: seeded from the spec, so the release is a function of the sums.
    rng = np.random.default_rng(int(spec_sha256(spec), 16))
    for c, cohort in enumerate(spec.cohorts):
        curve = release.curves.add(
            cohort=cohort.name, turbine_model=cohort.turbine_model, wind_speed_reference=cohort.wind_speed_reference
        )
        _fill_cohort_curve(curve, spec, statistics[cohort.name], decision, c, participants, rng)
    release.provenance.CopyFrom(_provenance(spec, release, participants, flower_run_id, method))
    if spec.HasField("privacy"):
        release.privacy.CopyFrom(privacy_parameters(spec, release))
    return release


def _release_header(spec: spec_pb2.BenchmarkSpec) -> release_pb2.Release:
    """A release with no curves yet: what it covers and the rules its figures follow, read from ``spec``."""
    return release_pb2.Release(
        contract=CONTRACT,
        spec_id=spec.spec_id,
        period=spec.period,
        k_min_operators=spec.k_min_operators,
        percentile_resolution=spec.normalised_power_bins.width,
        reference_air_density=spec.reference_air_density,
        filters=spec.filters,
        dominance_max_share=spec.dominance_max_share,
    )


def _fill_cohort_curve(
    curve: release_pb2.CohortCurve,
    spec: spec_pb2.BenchmarkSpec,
    stats: CohortStatistics,
    decision: Decision,
    c: int,
    participants: int,
    rng: np.random.Generator,
) -> None:
    """Fill the curve of cohort ``c``: suppressed whole, or bin by bin, then its completeness and AEP.

    Each bin some operator filled (by the census) gets a cell: suppressed with the decision's
    reason, or filled from the exact statistics or, in a private release, from its noisy histogram
    row (:func:`server.private_curve.fill_private_bin`, drawing its bootstrap from ``rng``).
    """
    if not decision.cohorts.filled[c, 0]:
        curve.aep_note = "no operator has turbines in this cohort"
        return
    if not decision.cohorts.published[c, 0]:
        curve.suppressed, curve.suppression_reason = True, decision.cohorts.reasons[c, 0]
        return
    private = spec.HasField("privacy")
    if not private:
        curve.operator_count = stats.operator_count
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    centres = ws.first_centre + ws.width * np.arange(ws.count)
    cell_noise = summed_noise_stddev(spec, curve.cohort, participants) if private else 0.0
    for i in np.flatnonzero(decision.bins.filled[c]).tolist():
        cell = curve.bins.add(wind_speed_centre=float(centres[i]))
        if not decision.bins.published[c, i]:
            cell.suppressed, cell.suppression_reason = True, decision.bins.reasons[c, i]
        elif private:
            fill_private_bin(cell, stats.histogram[i], pg, cell_noise, rng)
        else:
            _fill_exact_bin(curve, cell, stats, i, spec)
    if private:
        stats = _published_statistics(stats, curve, centres)
    curve.completeness.CopyFrom(_completeness(stats, centres, private, curve))
    _annual_energy(curve, spec.aep_cut_out_wind_speed)


BETZ_LIMIT = 16.0 / 27.0  # [-], the most power a rotor can take from the wind
RATED_PER_UNIT = 0.95  # [-], P/P_rated from which a bin is held at rated


def _fill_exact_bin(
    curve: release_pb2.CohortCurve,
    cell: release_pb2.PowerCurveBin,
    stats: CohortStatistics,
    i: int,
    spec: spec_pb2.BenchmarkSpec,
) -> None:
    """Fill released bin ``i`` of an exact release from the cohort's statistics.

    Records and operators, mean wind speed [m/s], mean power [kW] and P/P_rated [-], power
    coefficient Cp = (P / A) / (0.5 rho0 V^3) at the reference air density rho0 [kg/m^3], and
    P10/P50/P90 of P/P_rated [-]. Where N > 1 also the sample standard deviations and the
    category A uncertainty of each mean, s / sqrt(N). Cp only between cut-in and rated (mean
    P/P_rated in (0.005, 0.95): idling or held at rated, the ratio says nothing of the rotor) and
    below the Betz limit 16/27: a higher one is not physical (a nacelle anemometer reading low,
    say), left out and its bin listed in the curve's ``implausible_power_coefficient_bins``.
    """
    pg = spec.normalised_power_bins
    n = int(stats.record_count[i])
    cell.record_count, cell.operator_count = n, int(stats.bin_operator_count[i])
    cell.mean_wind_speed = float(stats.mean_wind_speed[i])
    cell.mean_power = float(stats.mean_power[i])
    cell.mean_power_per_unit = float(stats.mean_power_per_unit[i])
    cp = float(stats.mean_power_per_area[i] / (0.5 * spec.reference_air_density * stats.mean_wind_speed[i] ** 3))
    if PRODUCING_PER_UNIT < cell.mean_power_per_unit < RATED_PER_UNIT:
        if 0.0 < cp < BETZ_LIMIT:
            cell.power_coefficient = cp
        elif cp >= BETZ_LIMIT:
            curve.implausible_power_coefficient_bins.append(cell.wind_speed_centre)
    if n > 1:
        cell.std_power, cell.std_power_per_unit = float(stats.std_power[i]), float(stats.std_power_per_unit[i])
        cell.uncertainty_power = cell.std_power / math.sqrt(n)
        cell.uncertainty_power_per_unit = cell.std_power_per_unit / math.sqrt(n)
    p10, p50, p90 = histogram_percentiles(stats.histogram[i], pg.first_centre, pg.width, PERCENTILES)
    cell.p10_normalised_power, cell.p50_normalised_power, cell.p90_normalised_power = p10, p50, p90


def _provenance(
    spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release, participants: int, flower_run_id: str, method: str
) -> release_pb2.Provenance:
    """Where ``release`` comes from, and how many of its cells (whole cohorts and bins) are suppressed."""
    suppressed_cells = sum(curve.suppressed + sum(cell.suppressed for cell in curve.bins) for curve in release.curves)
    return release_pb2.Provenance(
        spec_sha256=spec_sha256(spec),
        participants=participants,
        suppressed_cells=suppressed_cells,
        flower_run_id=flower_run_id,
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        method=method,
    )
