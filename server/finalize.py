"""From securely summed blocks to a published industry power-curve release."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
from scipy.optimize import isotonic_regression
from scipy.stats import norm

from protos.codec import CONTRACT, block_layouts, spec_sha256
from protos.domain import MIN_DATABASE_HOURS, MIN_RECORDS_PER_BIN, RECORD_HOURS
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.privacy import composed_epsilon, spec_rho
from protos.statistics import BlockKey
from server.aep import RAYLEIGH_MEAN_WIND_SPEEDS, annual_energy_production, completeness_range
from server.disclosure import below_k_operators, dominated

S = spec_pb2.Statistic
PERCENTILES = (0.10, 0.50, 0.90)
P50 = PERCENTILES.index(0.50)
OPERATOR_SIZES = (10, 50, 100)
# Post-processing of a private histogram row (it costs no privacy; bench/dp_curve_error.py measures it).
# A row's records sit in a few of the normalised-power cells; a percentile over the whole row would
# carry the noise of every structurally empty cell too, which dominated its error. So percentiles are
# taken over the row's data window, found from the noisy row: the noisy counts are summed over boxes
# of WINDOW_BOX_CELLS cells (noise s sqrt(k) per box), and the window is the run of boxes above
# WINDOW_EDGE_STDDEVS around the densest box, which must exceed WINDOW_PEAK_STDDEVS (a row of noise
# alone does so about once in 3,000 rows, and is published about once in 10^4), widened to any box
# above WINDOW_FAR_STDDEVS (a second group of records; noise alone reaches it in under 1 row in 10^5),
# plus WINDOW_PAD_CELLS cells on each side for the tails that stay below the noise.
WINDOW_BOX_CELLS = 11
WINDOW_PEAK_STDDEVS = 4.5
WINDOW_FAR_STDDEVS = 5.5
WINDOW_EDGE_STDDEVS = 1.0
WINDOW_PAD_CELLS = 4
# A bin is dominated by noise, and publishes no percentiles or mean, where the noise on its window's
# cumulative count at the median, s sqrt(w) / 2 for w cells, exceeds this share of the window's
# weight, or where its own parametric bootstrap would withhold it in more than half of the draws.
NOISE_DOMINATED_SHARE = 0.15
# The parametric bootstrap that states a bin's P50 error (see noisy_histogram_percentiles): its draws
# (relative precision of a variance about sqrt(2 / B) = 8 %), and the least its correction may scale it.
BOOTSTRAP_DRAWS = 300
BOOTSTRAP_MIN_CORRECTION = 0.75
# Standard deviation of P/P_rated within the widest 0.5 m/s bins of a pitch-regulated curve, half-way
# from cut-in to rated (0.08 in the simulated fleet of bench/dp_curve_error.py): the bin a cohort must
# be large enough for before its curve is usable from cut-in to rated [-].
REFERENCE_BIN_SPREAD = 0.08


@dataclass(frozen=True)
class CohortStatistics:
    """Industry statistics of one cohort, per wind-speed bin (NaN where undefined)."""

    operator_count: int
    cohort_records_squared: int  # sum over operators of (records in the cohort)^2
    bin_operator_count: np.ndarray
    record_count: np.ndarray
    records_squared: np.ndarray  # per bin, sum over operators of (records in the bin)^2
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
            cohort_records_squared=int(blocks[S.SQUARED_COHORT_RECORD_COUNT][0]),
            bin_operator_count=np.array(_ints(blocks[S.BIN_CONTRIBUTOR]), dtype=np.int64),
            record_count=np.array(n, dtype=np.int64),
            records_squared=np.array(_ints(blocks[S.SQUARED_RECORD_COUNT]), dtype=np.float64),
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
    """Cohort statistics of a private spec: the noisy capped histograms, and exact disclosure inputs.

    The exact record counts and squared operator totals only decide suppression; what the release
    publishes comes from the noisy histogram alone (see :func:`build_release`).
    """
    n_ws = spec.wind_speed_bins.count
    centres = spec.wind_speed_bins.first_centre + spec.wind_speed_bins.width * np.arange(n_ws)
    undefined = np.full(n_ws, np.nan)
    result = {}
    for cohort, blocks in by_cohort.items():
        histogram = blocks[S.CAPPED_POWER_HISTOGRAM]
        result[cohort] = CohortStatistics(
            operator_count=int(blocks[S.COHORT_CONTRIBUTOR][0]),
            cohort_records_squared=int(blocks[S.SQUARED_COHORT_RECORD_COUNT][0]),
            bin_operator_count=np.array(_ints(blocks[S.BIN_CONTRIBUTOR]), dtype=np.int64),
            record_count=np.array(_ints(blocks[S.RECORD_COUNT]), dtype=np.int64),
            records_squared=np.array(_ints(blocks[S.SQUARED_RECORD_COUNT]), dtype=np.float64),
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


def denoised_histogram(noisy_counts: np.ndarray) -> np.ndarray:
    """Non-negative counts whose cumulative is the least-squares monotone fit of the noisy cumulative.

    Post-processing of a noisy histogram (it costs no privacy): the isotonic regression (pool
    adjacent violators) of the cumulative counts, floored at zero, differenced. Percentiles taken
    from the result are monotone in the quantile.

    Parameters
    ----------
    noisy_counts : ndarray
        Counts per bin with additive noise (may be negative) [-].
    """
    cumulative = np.maximum(isotonic_regression(np.cumsum(noisy_counts)).x, 0.0)
    return np.diff(cumulative, prepend=0.0)


def histogram_percentiles(
    counts: np.ndarray, first_centre: float, width: float, quantiles: tuple[float, ...]
) -> np.ndarray:
    """Quantiles of a binned distribution, interpolating linearly within the bin that holds each.

    The cumulative count is taken as linear across each bin, so a quantile is exact to within
    one bin width. NaN when the histogram is empty.

    Parameters
    ----------
    counts : ndarray
        Counts per bin on the grid.
    first_centre, width : float
        Grid of the bins: bin i is centred on first_centre + i * width.
    quantiles : tuple of float
        Quantiles in [0, 1].
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return np.full(len(quantiles), np.nan)
    cumulative = np.concatenate(([0.0], np.cumsum(counts)))
    lower_edges = first_centre - width / 2 + width * np.arange(len(counts) + 1)
    targets = np.asarray(quantiles) * total
    # First bin whose upper cumulative count reaches the target, skipping empty bins.
    j = np.clip(np.searchsorted(cumulative[1:], targets, side="left"), 0, len(counts) - 1)
    fraction = np.where(counts[j] > 0, (targets - cumulative[j]) / np.where(counts[j] > 0, counts[j], 1.0), 0.0)
    return lower_edges[j] + np.clip(fraction, 0.0, 1.0) * width


def _completeness(stats: CohortStatistics, centres: np.ndarray) -> release_pb2.Completeness:
    # A private bin dominated by noise has no mean: the range is read from the bins that have one.
    occupied = (stats.record_count > 0) & np.isfinite(stats.mean_power_per_unit)
    low, high = completeness_range(stats.mean_wind_speed[occupied], stats.mean_power_per_unit[occupied])
    hours = float(stats.record_count.sum()) * RECORD_HOURS
    completeness = release_pb2.Completeness(hours=hours)
    if math.isnan(low):
        return completeness
    in_range = (centres >= low - 0.25) & (centres <= high + 0.25)
    short = centres[in_range & (stats.record_count < MIN_RECORDS_PER_BIN)]
    completeness.from_wind_speed, completeness.to_wind_speed = low, high
    completeness.short_bins.extend(float(c) for c in short)
    completeness.complete = len(short) == 0 and hours >= MIN_DATABASE_HOURS
    return completeness


def _annual_energy(curve: release_pb2.CohortCurve, cut_out: float) -> None:
    completeness = curve.completeness
    if not completeness.complete:
        curve.aep_note = "database incomplete (IEC 61400-12-1, 8.3): no AEP"
        return
    low, high = completeness.from_wind_speed - 0.25, completeness.to_wind_speed + 0.25
    blocked = [b.wind_speed_centre for b in curve.bins if b.suppressed and low <= b.wind_speed_centre <= high]
    if blocked:
        curve.aep_note = f"bins {blocked} are suppressed inside the completeness range: no AEP"
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
    released = []
    for cell in curve.bins:
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
        )


def build_release(
    spec: spec_pb2.BenchmarkSpec,
    statistics: Mapping[str, CohortStatistics],
    participants: int,
    flower_run_id: str,
    method: str,
) -> release_pb2.Release:
    """Assemble the release: cohort curves with bands, completeness, AEP and disclosure control.

    A cohort with fewer than ``k_min_operators`` operators, or whose largest operator may hold
    more than ``dominance_max_share`` of its records, is released as suppressed with no bins.
    Within a released cohort each bin failing either rule keeps its centre and is marked
    suppressed, with every statistic absent. Bins no operator filled are left out.
    """
    k, p = spec.k_min_operators, spec.dominance_max_share
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    centres = ws.first_centre + ws.width * np.arange(ws.count)
    release = release_pb2.Release(
        contract=CONTRACT,
        spec_id=spec.spec_id,
        period=spec.period,
        k_min_operators=k,
        percentile_resolution=pg.width,
        reference_air_density=spec.reference_air_density,
        filters=spec.filters,
        dominance_max_share=p,
    )
    private = spec.HasField("privacy")
    # The stated P50 errors are a bootstrap: seeded from the spec, so the release is a function of the sums.
    rng = np.random.default_rng(int(spec_sha256(spec), 16))
    suppressed_cells = 0
    for cohort in spec.cohorts:
        stats = statistics[cohort.name]
        curve = release.curves.add(cohort=cohort.name, turbine_model=cohort.turbine_model)
        cohort_total = np.array([stats.record_count.sum()])
        if stats.operator_count == 0:
            curve.aep_note = "no operator has turbines in this cohort"
            continue
        if below_k_operators(np.array([stats.operator_count]), k)[0]:
            reason = f"fewer than {k} operators in the cohort"
        elif dominated(np.array([stats.cohort_records_squared]), cohort_total, np.array([stats.operator_count]), p)[0]:
            reason = f"one operator may hold more than {p:.0%} of the cohort's records"
        else:
            reason = ""
        if reason:
            curve.suppressed, curve.suppression_reason = True, reason
            suppressed_cells += 1
            continue
        if not private:
            curve.operator_count = stats.operator_count
        cell_noise = summed_noise_stddev(spec, cohort.name, participants) if private else 0.0
        few = below_k_operators(stats.bin_operator_count, k)
        dominant = dominated(stats.records_squared, stats.record_count, stats.bin_operator_count, p)
        for i in np.flatnonzero(stats.bin_operator_count > 0):
            cell = curve.bins.add(wind_speed_centre=float(centres[i]))
            if few[i] or dominant[i]:
                cell.suppressed = True
                cell.suppression_reason = (
                    f"fewer than {k} operators in the bin"
                    if few[i]
                    else f"one operator may hold more than {p:.0%} of the bin's records"
                )
                suppressed_cells += 1
                continue
            if private:
                _private_bin(cell, stats.histogram[i], pg, cell_noise, rng)
                continue
            n = int(stats.record_count[i])
            cell.record_count, cell.operator_count = n, int(stats.bin_operator_count[i])
            cell.mean_wind_speed = float(stats.mean_wind_speed[i])
            cell.mean_power = float(stats.mean_power[i])
            cell.mean_power_per_unit = float(stats.mean_power_per_unit[i])
            cell.power_coefficient = float(
                stats.mean_power_per_area[i] / (0.5 * spec.reference_air_density * stats.mean_wind_speed[i] ** 3)
            )
            if n > 1:
                cell.std_power, cell.std_power_per_unit = float(stats.std_power[i]), float(stats.std_power_per_unit[i])
                cell.uncertainty_power = cell.std_power / math.sqrt(n)
                cell.uncertainty_power_per_unit = cell.std_power_per_unit / math.sqrt(n)
            p10, p50, p90 = histogram_percentiles(stats.histogram[i], pg.first_centre, pg.width, PERCENTILES)
            cell.p10_normalised_power, cell.p50_normalised_power, cell.p90_normalised_power = p10, p50, p90
        if private:
            stats = _published_statistics(stats, curve, centres)
        curve.completeness.CopyFrom(_completeness(stats, centres))
        _annual_energy(curve, spec.aep_cut_out_wind_speed)
    release.provenance.CopyFrom(
        release_pb2.Provenance(
            spec_sha256=spec_sha256(spec),
            participants=participants,
            suppressed_cells=suppressed_cells,
            flower_run_id=flower_run_id,
            created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
            method=method,
        )
    )
    if private:
        release.privacy.CopyFrom(privacy_parameters(spec, release))
    return release


def _cell_noise_stddev(spec: spec_pb2.BenchmarkSpec, cohort: str) -> float:
    return next(b.noise_stddev for b in spec.blocks if b.cohort == cohort and b.statistic == S.CAPPED_POWER_HISTOGRAM)


def summed_noise_stddev(spec: spec_pb2.BenchmarkSpec, cohort: str, participants: int) -> float:
    """Standard deviation of the noise on each cell of a cohort's summed capped histogram [record weight].

    Each participant adds noise of variance sigma^2 / (t - 1) (t = min_noise_sites), so the sum of
    ``participants`` shares carries participants / (t - 1) sigma^2.
    """
    return _cell_noise_stddev(spec, cohort) * math.sqrt(participants / (spec.privacy.min_noise_sites - 1))


def data_window(noisy: np.ndarray, cell_noise_stddev: float) -> tuple[np.ndarray, np.ndarray]:
    """Where the records of each noisy histogram row sit, found from the noisy row alone.

    Each row is summed over boxes of ``WINDOW_BOX_CELLS`` (k) cells centred on every cell, in
    units of the box's noise s sqrt(k). A row holds records where its densest box exceeds
    ``WINDOW_PEAK_STDDEVS``; its window is the run of boxes above ``WINDOW_EDGE_STDDEVS`` that holds
    the densest box, stretched over any box above ``WINDOW_FAR_STDDEVS``, and widened by
    ``WINDOW_PAD_CELLS`` on each side, within the grid.

    Parameters
    ----------
    noisy : ndarray
        Noisy counts per cell, one row per histogram, shape (rows, cells) or (cells,) [record weight].
    cell_noise_stddev : float
        s, the standard deviation of the noise on each cell (> 0) [record weight].

    Returns
    -------
    start, stop : ndarray of int
        Per row, the window is cells start to stop - 1; start == stop where no records stand out.
    """
    rows = np.atleast_2d(noisy)
    n, m = rows.shape
    k, half = WINDOW_BOX_CELLS, WINDOW_BOX_CELLS // 2
    cumulative = np.cumsum(np.pad(rows, [(0, 0), (half + 1, half)]), axis=1)
    z = (cumulative[:, k:] - cumulative[:, :-k]) / (cell_noise_stddev * math.sqrt(k))
    index = np.arange(n)
    peak = np.argmax(z, axis=1)
    found = z[index, peak] > WINDOW_PEAK_STDDEVS
    far = z > WINDOW_FAR_STDDEVS
    has_far = far.any(axis=1)
    first = np.where(has_far, np.minimum(peak, np.argmax(far, axis=1)), peak)
    last = np.where(has_far, np.maximum(peak, m - 1 - np.argmax(far[:, ::-1], axis=1)), peak)
    cells = np.arange(m)
    low = z <= WINDOW_EDGE_STDDEVS
    run_start = np.maximum.accumulate(np.where(low, cells, -1), axis=1)[index, first] + 1
    run_stop = np.minimum.accumulate(np.where(low, cells, m)[:, ::-1], axis=1)[:, ::-1][index, last]
    start = np.where(found, np.maximum(run_start - WINDOW_PAD_CELLS, 0), 0)
    return start, np.where(found, np.minimum(run_stop + WINDOW_PAD_CELLS, m), 0)


def windowed_percentiles(
    noisy: np.ndarray, grid: spec_pb2.BinGrid, cell_noise_stddev: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles of noisy histogram rows over their data windows, NaN where noise dominates.

    Each row's window (:func:`data_window`) is denoised (:func:`denoised_histogram`: non-negative
    counts, monotone percentiles) and the cells outside it are set to zero, so their noise does not
    enter. A row is dominated by noise where no window is found or where s sqrt(w) / 2, the noise
    on the cumulative count of its w window cells at the median, exceeds ``NOISE_DOMINATED_SHARE``
    of the window's denoised weight.

    Parameters
    ----------
    noisy : ndarray
        Noisy counts, shape (rows, cells) or (cells,) [record weight].
    grid : BinGrid
        The normalised-power grid.
    cell_noise_stddev : float
        s (> 0) [record weight].

    Returns
    -------
    percentiles : ndarray
        Shape (rows, len(PERCENTILES)), at PERCENTILES [-]; NaN in a row dominated by noise.
    counts : ndarray
        Shape (rows, cells), the denoised window counts [record weight]; zero in a row dominated by noise.
    """
    rows = np.atleast_2d(noisy)
    start, stop = data_window(rows, cell_noise_stddev)
    counts = np.zeros(rows.shape)
    percentiles = np.full((len(rows), len(PERCENTILES)), np.nan)
    # scipy's isotonic regression fits one vector at a time, and windows differ in length: one call per row.
    for r in np.flatnonzero(stop > start):
        window = denoised_histogram(rows[r, start[r] : stop[r]])
        if cell_noise_stddev * math.sqrt(len(window)) / 2 > NOISE_DOMINATED_SHARE * window.sum():
            continue
        counts[r, start[r] : stop[r]] = window
        percentiles[r] = histogram_percentiles(counts[r], grid.first_centre, grid.width, PERCENTILES)
    return percentiles, counts


@dataclass(frozen=True)
class NoisyPercentiles:
    """What a private release publishes of one bin's noisy histogram row; all NaN where noise dominates."""

    percentiles: np.ndarray  # at PERCENTILES [-]
    mean: float  # [-]
    p50_noise_stddev: float  # [-], the P50's standard deviation from the noise (parametric bootstrap)


def _redrawn_p50(
    counts: np.ndarray, grid: spec_pb2.BinGrid, cell_noise_stddev: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """P50 (NaN where withheld) and denoised window counts of each row of ``counts`` with fresh noise added."""
    noisy = counts + rng.normal(0.0, cell_noise_stddev, size=counts.shape)
    percentiles, denoised = windowed_percentiles(noisy, grid, cell_noise_stddev)
    return percentiles[:, P50], denoised


def noisy_histogram_percentiles(
    noisy: np.ndarray, grid: spec_pb2.BinGrid, cell_noise_stddev: float, rng: np.random.Generator
) -> NoisyPercentiles:
    """P10, P50, P90, mean and stated P50 error of one noisy histogram row (post-processing only).

    Percentiles and mean come from the row's denoised data window (:func:`windowed_percentiles`).
    The P50's error is a parametric bootstrap from what the release itself shows: the denoised
    window counts are taken as the truth, Gaussian noise of standard deviation s is added to every
    cell in ``BOOTSTRAP_DRAWS`` draws, and the whole estimator is run again. With v1 the mean
    squared difference of the redrawn P50s from the published one (over the draws that publish
    one), the stated error is sqrt(v1 c). The bootstrap's truth carries the noise once already,
    which makes v1 overstate; c, the iterated bootstrap's correction (Hall and Martin 1988, On
    bootstrap resampling and iteration, Biometrika 75), is v1 / v2, with v2 the same mean square
    one layer further (each draw's own denoised counts redrawn once), held within
    [``BOOTSTRAP_MIN_CORRECTION``, 1] because it is itself a ratio of two noisy estimates. Unlike
    a small-noise (delta-method) value it holds where the noise moves the median across cells; for
    a bin whose records sit in one cell it is conservative (the denoised row spreads them). A row
    whose draws are withheld more often than not is dominated by noise itself.

    Parameters
    ----------
    noisy : ndarray
        Noisy counts per normalised-power cell [record weight].
    grid : BinGrid
        The normalised-power grid.
    cell_noise_stddev : float
        s, the standard deviation of the noise in the summed row (> 0) [record weight].
    rng : numpy.random.Generator
        Source of the bootstrap draws (the DP noise itself is the sites', not drawn here).
    """
    withheld = NoisyPercentiles(np.full(len(PERCENTILES), np.nan), math.nan, math.nan)
    (percentiles,), (counts,) = windowed_percentiles(noisy, grid, cell_noise_stddev)
    if np.isnan(percentiles[P50]):
        return withheld
    once, once_counts = _redrawn_p50(np.tile(counts, (BOOTSTRAP_DRAWS, 1)), grid, cell_noise_stddev, rng)
    published = ~np.isnan(once)
    if published.mean() < 0.5:
        return withheld
    once, once_counts = once[published], once_counts[published]
    twice, _ = _redrawn_p50(once_counts, grid, cell_noise_stddev, rng)
    both = ~np.isnan(twice)
    v1 = float(np.mean(np.square(once - percentiles[P50])))
    v2 = float(np.mean(np.square(twice[both] - once[both]))) if both.any() else 0.0
    correction = min(1.0, max(BOOTSTRAP_MIN_CORRECTION, v1 / v2)) if v2 > 0 else 1.0
    centres = grid.first_centre + grid.width * np.arange(grid.count)
    return NoisyPercentiles(
        percentiles=percentiles,
        mean=float(np.dot(counts, centres) / counts.sum()),
        p50_noise_stddev=math.sqrt(v1 * correction),
    )


def _private_bin(
    cell: release_pb2.PowerCurveBin,
    noisy: np.ndarray,
    grid: spec_pb2.BinGrid,
    cell_noise_stddev: float,
    rng: np.random.Generator,
) -> None:
    """Fill a released bin of a private release from its noisy capped histogram row.

    A bin dominated by noise keeps its noisy weight and publishes no percentile, mean or P50 error.
    """
    cell.noisy_record_weight = float(noisy.sum())
    result = noisy_histogram_percentiles(noisy, grid, cell_noise_stddev, rng)
    if math.isnan(result.mean):
        return
    cell.p10_normalised_power, cell.p50_normalised_power, cell.p90_normalised_power = result.percentiles
    cell.mean_power_per_unit = result.mean
    cell.p50_noise_stddev = result.p50_noise_stddev


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


def usable_cohort_turbines(
    cell_noise_stddev: float,
    grid: spec_pb2.BinGrid,
    max_records_per_turbine_per_bin: int,
    spread: float = REFERENCE_BIN_SPREAD,
) -> int:
    """Turbines a cohort needs, each with the full capped weight in a bin, for that bin's P50 to be published.

    The bin holds N c records, normally distributed with standard deviation ``spread`` about
    P/P_rated = 0.5, and its P50 is published when :func:`windowed_percentiles` publishes it on the
    noiseless row: its records stand out from the noise and the noise on its window's cumulative
    count at the median is within ``NOISE_DOMINATED_SHARE`` of its weight. With noise, such a bin
    is published in most draws at that N (about 3 in 4), in a few at N / 2 and in all at 2 N
    (tests/server/test_finalize.py); the curve is usable from cut-in to rated from there.

    Parameters
    ----------
    cell_noise_stddev : float
        s, the noise on each cell of the summed histogram (> 0) [record weight].
    grid : BinGrid
        The normalised-power grid.
    max_records_per_turbine_per_bin : int
        c [records].
    spread : float
        Standard deviation of P/P_rated in the bin [-].
    """
    edges = grid.first_centre + grid.width * (np.arange(grid.count + 1) - 0.5)
    shape = np.diff(norm.cdf(edges, loc=0.5, scale=spread))

    def published(turbines: int) -> bool:
        row = shape * turbines * max_records_per_turbine_per_bin
        return not np.isnan(windowed_percentiles(row, grid, cell_noise_stddev)[0][0, P50])

    high = 1
    while not published(high):
        high *= 2
    low = high // 2  # not published (or 0)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if published(middle) else (middle, high)
    return high


def privacy_parameters(spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release) -> release_pb2.PrivacyParameters:
    """What a private release gives each turbine, and what its noise means for the curves."""
    rho = spec_rho(spec)
    privacy = spec.privacy
    parameters = release_pb2.PrivacyParameters(
        privacy_unit=privacy.privacy_unit,
        rho=rho,
        epsilon=composed_epsilon([rho], privacy.delta),
        delta=privacy.delta,
        max_records_per_turbine_per_bin=privacy.max_records_per_turbine_per_bin,
        min_noise_sites=privacy.min_noise_sites,
    )
    for cohort in spec.cohorts:
        parameters.cell_noise_stddev[cohort.name] = _cell_noise_stddev(spec, cohort.name)
    for turbines in OPERATOR_SIZES:
        # Group privacy: a group of T units is (T^2 rho)-zCDP (Bun and Steinke 2016, proposition 1.9).
        parameters.operator_epsilon[turbines] = composed_epsilon([rho * turbines**2], privacy.delta)
    participants = release.provenance.participants
    noise = max((summed_noise_stddev(spec, cohort.name, participants) for cohort in spec.cohorts), default=0.0)
    cap = privacy.max_records_per_turbine_per_bin
    usable = usable_cohort_turbines(noise, spec.normalised_power_bins, cap)
    shown = [b for curve in release.curves for b in curve.bins if not b.suppressed]
    withheld = sum(not b.HasField("p50_normalised_power") for b in shown)
    parameters.note = (
        f"Each turbine's records weigh at most {cap} per wind-speed bin; every histogram cell carries noise of "
        f"standard deviation {noise:.0f} from the {participants} participants. A bin whose "
        f"records do not stand out from the noise publishes no percentiles or mean ({withheld} of {len(shown)} "
        "bins here); elsewhere p50_noise_stddev states the P50's standard deviation from the noise. Curves are "
        f"usable from cut-in to rated where a bin holds {cap} records from each of about {usable} turbines or "
        "more; smaller cohorts are protected by disclosure control, not by differential privacy."
    )
    return parameters
