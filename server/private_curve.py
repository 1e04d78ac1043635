"""The private power curve: what a differentially private release publishes of its noisy histograms.

Everything here is post-processing of the noisy capped histograms the sites summed (it costs no
privacy), and what the release states about that noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression
from scipy.stats import norm

from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.privacy import (
    WINDOW_BOX_CELLS,
    WINDOW_PEAK_STDDEVS,
    noised_distributions,
    private_downtime,
    private_failure_rates,
    stated_privacy,
    summed_noise_stddev,
)
from server.percentiles import P50, PERCENTILES, histogram_percentiles

S = spec_pb2.Statistic
# Post-processing of a private histogram row (it costs no privacy; bench/dp_curve_error.py measures it).
# A row's records sit in a few of the normalised-power cells; a percentile over the whole row would
# carry the noise of every structurally empty cell too, which dominated its error. So percentiles are
# taken over the row's data window, found from the noisy row: the noisy counts are summed over boxes
# of WINDOW_BOX_CELLS cells (noise s sqrt(k) per box), and the window is the run of boxes above
# WINDOW_EDGE_STDDEVS around the densest box, which must exceed WINDOW_PEAK_STDDEVS (a row of noise
# alone does so about once in 3,000 rows, and is published about once in 10^4), widened to any box
# above WINDOW_FAR_STDDEVS (a second group of records; noise alone reaches it in under 1 row in 10^5),
# plus WINDOW_PAD_CELLS cells on each side for the tails that stay below the noise.
# WINDOW_BOX_CELLS and WINDOW_PEAK_STDDEVS live in the contract: a site decides from them, before it
# spends any budget, whether a release can publish anything (protos.privacy.min_publishable_weight).
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
# A cohort's plants' performance ratios, for the cohort size a private PR distribution is usable from:
# spread with standard deviation 0.05 about 0.8 (an assumption stated in the release's note).
REFERENCE_PERFORMANCE_RATIO = 0.8
REFERENCE_PERFORMANCE_RATIO_SPREAD = 0.05


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
    counts: np.ndarray  # the denoised window counts, zero outside the window [record weight]


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
    (percentiles,), (counts,) = windowed_percentiles(noisy, grid, cell_noise_stddev)
    withheld = NoisyPercentiles(np.full(len(PERCENTILES), np.nan), math.nan, math.nan, np.zeros_like(counts))
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
        counts=counts,
    )


def fill_private_bin(
    cell: release_pb2.PowerCurveBin | release_pb2.SolarCurveBin,
    noisy: np.ndarray,
    grid: spec_pb2.BinGrid,
    cell_noise_stddev: float,
    rng: np.random.Generator,
) -> None:
    """Fill a released bin of a private release, wind or solar, from its noisy capped histogram row.

    Percentiles and mean are of P/P_rated in a wind bin, of specific power in a solar one. A bin
    dominated by noise keeps its noisy weight and publishes no percentile, mean or P50 error.
    """
    cell.noisy_record_weight = float(noisy.sum())
    result = noisy_histogram_percentiles(noisy, grid, cell_noise_stddev, rng)
    if math.isnan(result.mean):
        return
    if isinstance(cell, release_pb2.SolarCurveBin):
        cell.p10_specific_power, cell.p50_specific_power, cell.p90_specific_power = result.percentiles
        cell.mean_specific_power = result.mean
    else:
        cell.p10_normalised_power, cell.p50_normalised_power, cell.p90_normalised_power = result.percentiles
        cell.mean_power_per_unit = result.mean
    cell.p50_noise_stddev = result.p50_noise_stddev


def usable_cohort_units(
    cell_noise_stddev: float,
    grid: spec_pb2.BinGrid,
    max_records_per_turbine_per_bin: int,
    spread: float = REFERENCE_BIN_SPREAD,
    centre: float = 0.5,
) -> int:
    """Privacy units (turbines, inverters) a cohort needs, each with the full capped weight in a bin, for its P50.

    The bin holds N c records, normally distributed with standard deviation ``spread`` about
    ``centre`` on the grid (P/P_rated, or kW/kWp for a solar curve; for a plant distribution c = 1
    count per plant), and its P50 is published when
    :func:`windowed_percentiles` publishes it on the noiseless row: its records stand out from the
    noise and the noise on its window's cumulative count at the median is within
    ``NOISE_DOMINATED_SHARE`` of its weight. With noise, such a bin is published in most draws at
    that N (about 3 in 4), in a few at N / 2 and in all at 2 N
    (tests/server/test_private_curve.py); the curve is usable from cut-in to rated from there.

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
    shape = np.diff(norm.cdf(edges, loc=centre, scale=spread))

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
    """What a private release gives each privacy unit (turbine, inverter), and what its noise means for the curves."""
    parameters = stated_privacy(spec)
    privacy = spec.privacy
    unit = privacy.privacy_unit
    participants = release.provenance.participants
    noise = max((summed_noise_stddev(spec, cohort.name, participants) for cohort in spec.cohorts), default=0.0)
    cap = privacy.max_records_per_turbine_per_bin
    solar = spec.HasField("solar")
    grid = spec.solar.specific_power_bins if solar else spec.normalised_power_bins
    usable = usable_cohort_units(noise, grid, cap)
    if solar:
        shown = [not b.HasField("p50_specific_power") for c in release.solar_curves for b in c.bins if not b.suppressed]
        row, span = "irradiance bin", "over the irradiance range"
    else:
        shown = [not b.HasField("p50_normalised_power") for c in release.curves for b in c.bins if not b.suppressed]
        row, span = "wind-speed bin", "from cut-in to rated"
    withheld = sum(shown)
    parameters.note = (
        f"Each {unit}'s records weigh at most {cap} per {row}; every histogram cell carries noise of "
        f"standard deviation {noise:.0f} from the {participants} participants. A bin whose "
        f"records do not stand out from the noise publishes no percentiles or mean ({withheld} of {len(shown)} "
        f"bins here); elsewhere p50_noise_stddev states the P50's standard deviation from the noise. Curves are "
        f"usable {span} where a bin holds {cap} records from each of about {usable} {unit}s or "
        "more; smaller cohorts are protected by disclosure control, not by differential privacy."
    )
    if solar and noised_distributions(spec):
        parameters.note += " " + _distributions_note(spec, release)
    return parameters


def _distributions_note(spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release) -> str:
    """What the noise means for a private solar release's plant distributions."""
    participants = release.provenance.participants
    noised = noised_distributions(spec)
    noise = max(
        summed_noise_stddev(spec, cohort.name, participants, statistic)
        for cohort in spec.cohorts
        for statistic in noised.values()
    )
    plants = usable_cohort_units(
        noise,
        spec.solar.performance_ratio_bins,
        1,
        spread=REFERENCE_PERFORMANCE_RATIO_SPREAD,
        centre=REFERENCE_PERFORMANCE_RATIO,
    )
    released = [d for d in release.distributions if not d.suppressed]
    noisy = [d for d in release.distributions if d.suppressed and d.HasField("count_noise_stddev")]
    return (
        f"The plants' distributions ({', '.join(noised)}) carry noise of standard deviation {noise:.1f} plants "
        "(inverters) per bar; "
        f"{len(noisy)} of the {len(released) + len(noisy)} the census let through are withheld because their "
        "plants do not stand out from it, and the others state their P50's standard deviation from the noise "
        f"(p50_noise_stddev). At this noise a distribution shaped like a cohort's performance ratios (standard "
        f"deviation {REFERENCE_PERFORMANCE_RATIO_SPREAD:g} on 0.01-wide bars) is usable from about {plants} plants "
        "per cohort. The noise "
        f"grows with the participants as sqrt(participants / {spec.privacy.min_noise_sites - 1}) (min_noise_sites "
        f"{spec.privacy.min_noise_sites}): each plant is a site. Operator counts are not published. "
        + _failure_rates_note(spec, release)
    )


def _failure_rates_note(spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release) -> str:
    """What a private solar release's failure rates are, or that it has none."""
    if not private_failure_rates(spec):
        return "Failure rates are not published: the spec does not bound an inverter's failures."
    noise = max(
        summed_noise_stddev(spec, cohort.name, release.provenance.participants, S.SOLAR_FAILURE_COUNT)
        for cohort in spec.cohorts
    )
    cap = spec.privacy.max_failures_per_inverter
    hours = spec.privacy.max_downtime_hours_per_inverter
    downtime = (
        f"Their downtime counts each inverter's hours down in the period up to {hours} h in all (scaled down "
        "alike), so a long outage is under-counted; downtime_noise_stddev states the noise on the summed hours, "
        "and a mean downtime per failure is published where the failures stand out from theirs, with "
        "mean_downtime_noise_stddev."
        if private_downtime(spec)
        else "Downtime is not published: the spec does not bound an inverter's hours down."
    )
    return (
        f"Failure rates count each inverter's failures in the period up to {cap} in all (scaled down in "
        f"proportion beyond), so an inverter that failed more often is under-counted; the failures and the "
        f"inverter-years each carry noise of standard deviation {noise:.1f}, rate_noise_stddev states the rate's "
        f"from it, and a cohort whose inverter-years do not stand out from it is withheld. {downtime}"
    )
