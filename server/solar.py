"""From securely summed solar blocks to a published solar release: curves and distributions.

Which cells are released was decided from the census before any value was summed
(protos/census.py): an irradiance bin by its records, a plant distribution (lost production by
category among them) by its plants, the inverters' availability by their inverters, each with at least
``k_min_operators`` operators and no operator above ``dominance_max_share``, over linked cohorts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from protos.census import CohortCells, Decision
from protos.codec import CONTRACT, spec_sha256
from protos.disclosure import cohort_atoms, too_few_operators
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.privacy import (
    PRIVATE_DOWNTIME_STATISTIC,
    WINDOW_PEAK_STDDEVS,
    distribution_units_needed,
    failure_inverters_needed,
    noised_distributions,
    private_failure_rates,
    summed_noise_stddev,
)
from protos.statistics import (
    SOLAR_CELLS,
    SOLAR_DISTRIBUTIONS,
    SOLAR_INVERTER_CELLS,
    BlockKey,
    CensusFields,
    CohortBlocks,
    solar_histograms,
)
from server.baselines import indicator_percentiles, indicator_range
from server.finalize import exact_mean_and_std
from server.percentiles import PERCENTILES, histogram_percentiles
from server.private_curve import fill_private_bin, noisy_histogram_percentiles, privacy_parameters

S = spec_pb2.Statistic


def implausible_irradiance_bins(
    spec: spec_pb2.BenchmarkSpec,
    totals: Mapping[BlockKey, np.ndarray],
    census: Mapping[BlockKey, np.ndarray],
    decision: Decision,
) -> Decision:
    """The decision with every published irradiance bin suppressed whose summed records are not its census's.

    The census counted each cohort's records per bin before any value was sent; a values round
    that sums to another count was not the census's sites sending their own records (a site
    replaying another's, or inventing records), so its figures are not published.
    """
    bins = decision.irradiance_bins
    if bins is None:
        raise ValueError(f"spec {spec.spec_id} is not a solar spec")
    if spec.HasField("privacy"):  # noisy sums carry no exact record count to check
        return decision
    n_atoms = len(cohort_atoms(spec.cohorts))
    counted = CensusFields(*census[BlockKey("", S.IRRADIANCE_CENSUS)]).total[n_atoms:]
    published, reasons = bins.published.copy(), dict(bins.reasons)
    for c, cohort in enumerate(spec.cohorts):
        summed = totals[BlockKey(cohort.name, S.IRRADIANCE_RECORD_COUNT)]
        for b in np.flatnonzero(published[c] & (summed != counted[c])):
            published[c, b] = False
            reasons[(c, int(b))] = "the summed records differ from the census's: the values round was not the census's"
    return Decision(
        decision.cohorts,
        decision.bins,
        decision.training,
        decision.indicators,
        decision.age_bands,
        decision.months,
        irradiance_bins=CohortCells(published, bins.filled, reasons),
        solar=decision.solar,
    )


def distributions_below_their_noise(
    spec: spec_pb2.BenchmarkSpec, census: Mapping[BlockKey, np.ndarray], decision: Decision, participants: int
) -> Decision:
    """The decision with every private distribution suppressed whose census counts too few plants for its noise.

    A distribution's plants (inverters) can stand out from the noise on its bars only if they number
    at least :func:`protos.privacy.min_publishable_weight` of it; below that, whatever the estimator
    finds is noise (bench/solar_dp_distribution_error.py: such rows were published in about 2 % of
    draws, some with a P50 far off and a small stated error). Private failure rates likewise need the
    inverters whose observed time stands out from the noise on the inverter-years
    (:func:`protos.privacy.failure_inverters_needed`). Decided from the census, as k and dominance are,
    before any value is looked at.
    """
    if decision.solar is None or not (noised_distributions(spec) or private_failure_rates(spec)):
        return decision
    cells = decision.solar
    counted = CensusFields(*census[BlockKey("", S.SOLAR_CENSUS)]).total[len(cohort_atoms(spec.cohorts)) :]
    published, reasons = cells.published.copy(), dict(cells.reasons)
    for c, cohort in enumerate(spec.cohorts):
        for cell, statistic in SOLAR_DISTRIBUTIONS.items():
            i = SOLAR_CELLS.index(cell)
            needed = distribution_units_needed(spec, cohort.name, participants, statistic)  # 0: not noised
            if needed and published[c, i] and counted[c, i] < needed:
                units = "inverters" if cell in SOLAR_INVERTER_CELLS else "plants"
                published[c, i] = False
                reasons[(c, i)] = f"fewer {units} than it takes to stand out from the noise (about {needed})"
        i, needed = SOLAR_CELLS.index("failures"), failure_inverters_needed(spec, cohort.name, participants)
        if needed and published[c, i] and counted[c, i] < needed:
            published[c, i] = False
            reasons[(c, i)] = f"fewer inverters than it takes to stand out from the noise (about {needed})"
    return replace(decision, solar=CohortCells(published, cells.filled, reasons))


def build_solar_release(
    spec: spec_pb2.BenchmarkSpec,
    totals: Mapping[BlockKey, np.ndarray],
    values: Mapping[BlockKey, np.ndarray],
    decision: Decision,
    participants: int,
    flower_run_id: str,
    method: str,
) -> release_pb2.Release:
    """The solar release: each cohort's curve, its plants' distributions and its failure rates by component.

    A private spec's release holds the curves, from each cohort's noisy capped histogram
    (:func:`server.private_curve.fill_private_bin`, its bootstrap seeded from the spec), the plants'
    distributions from their noisy histograms when the spec noises them (no operator counts), failure
    rates only from noisy capped failures when the spec bounds them (no downtime or operator counts), and
    states the privacy it gives each inverter.

    Parameters
    ----------
    spec : BenchmarkSpec
        The solar values spec.
    totals : mapping
        Block key -> exact fixed-point totals (integers as float64 arrays, before 2^-e).
    values : mapping
        Block key -> the same totals in their units (:func:`server.baselines.block_values`).
    decision : Decision
        The census's decision (:func:`implausible_irradiance_bins` and :func:`distributions_below_their_noise`
        applied).
    participants : int
        Sites summed.
    flower_run_id, method : str
        Provenance.
    """
    if decision.irradiance_bins is None or decision.solar is None:
        raise ValueError(f"spec {spec.spec_id} is not a solar spec")
    solar = spec.solar
    release = release_pb2.Release(
        contract=CONTRACT,
        spec_id=spec.spec_id,
        period=spec.period,
        k_min_operators=spec.k_min_operators,
        percentile_resolution=solar.specific_power_bins.width,
        dominance_max_share=spec.dominance_max_share,
        solar=solar,
    )
    suppressed = 0
    private, noised = spec.HasField("privacy"), noised_distributions(spec)
    rng = np.random.default_rng(int(spec_sha256(spec), 16))
    for c, cohort in enumerate(spec.cohorts):
        curve = release.solar_curves.add(cohort=cohort.name)
        fill = (
            _private_bin_filler(spec, values, c, participants, rng)
            if private
            else _exact_bin_filler(spec, totals, values, c)
        )
        suppressed += _fill_curve(curve, spec, decision.irradiance_bins, c, fill)
        if private and not noised and not private_failure_rates(spec):
            continue  # a private release without a distribution share is the curves alone
        block = CohortBlocks(values, cohort.name)
        for cell, indicator, statistic, row, grid in _distribution_rows(solar):
            i = SOLAR_CELLS.index(cell)
            if private and statistic not in noised.values():
                continue
            counts_of = "inverters" if cell in SOLAR_INVERTER_CELLS else "plants"
            d = release.distributions.add(cohort=cohort.name, indicator=indicator, counts_of=counts_of, bins=grid)
            if not decision.solar.published[c, i]:
                # One a no plant has is listed as any other below k: which figures a lone plant has (a degradation
                # rate needs two years of usable days, a soiling loss a valid interval) depends on its data.
                reason = decision.solar.reasons.get((c, i), too_few_operators(spec.k_min_operators))
                d.suppressed, d.suppression_reason = True, reason
                suppressed += 1
                continue
            counts = block(statistic) if row is None else block(statistic)[row]
            if private:
                noise = summed_noise_stddev(spec, cohort.name, participants, statistic)
                suppressed += _fill_private_distribution(d, counts, noise, rng)
                continue
            d.counts.extend(int(n) for n in np.rint(counts))
            d.operator_count = int(block(S.SOLAR_CONTRIBUTOR)[i])
            d.p10, d.p25, d.p50, d.p75, d.p90 = indicator_percentiles(indicator, counts, grid)
        if not private:
            suppressed += _failure_rates(release, spec, block, decision.solar, c)
        elif private_failure_rates(spec):  # else failure counts have no bound per inverter
            suppressed += add_private_failure_rates(release, spec, block, decision.solar, c, participants)
    release.provenance.CopyFrom(
        release_pb2.Provenance(
            spec_sha256=spec_sha256(spec),
            participants=participants,
            suppressed_cells=suppressed,
            flower_run_id=flower_run_id,
            created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
            method=method,
        )
    )
    if private:
        release.privacy.CopyFrom(privacy_parameters(spec, release))
    return release


def _distribution_rows(
    solar: spec_pb2.SolarSpec,
) -> list[tuple[str, str, spec_pb2.Statistic, int | None, spec_pb2.BinGrid]]:
    """Each released distribution: its cell, indicator, statistic, row of the block (None: the whole block), grid."""
    rows: list[tuple[str, str, spec_pb2.Statistic, int | None, spec_pb2.BinGrid]] = [
        (cell, cell, statistic, None, grid) for cell, (statistic, grid) in solar_histograms(solar).items()
    ]
    rows += [
        ("lost_production", f"lost_production:{category}", S.SOLAR_LOST_PRODUCTION, r, solar.lost_production_bins)
        for r, category in enumerate(solar.loss_categories)
    ]
    return rows


def _fill_private_distribution(
    d: release_pb2.Distribution, noisy: np.ndarray, noise: float, rng: np.random.Generator
) -> int:
    """Fill a private distribution from its noisy summed histogram; return 1 when the noise withholds it.

    Post-processing only (:func:`server.private_curve.noisy_histogram_percentiles`, the curve's
    estimator): the bars where the plants stand out, denoised, give the published counts and
    P10 / P50 / P90; its bootstrap states the P50's error. Where the plants do not stand out from the
    noise the distribution is withheld, with the noise it would have carried.
    """
    d.count_noise_stddev = noise
    result = noisy_histogram_percentiles(noisy, d.bins, noise, rng)
    if math.isnan(result.mean):
        d.suppressed = True
        d.suppression_reason = f"its {d.counts_of} do not stand out from the noise ({noise:.1f} {d.counts_of} per bar)"
        return 1
    d.counts.extend(int(n) for n in np.rint(result.counts))
    d.p10, d.p50, d.p90 = (float(p) for p in np.clip(result.percentiles, *indicator_range(d.indicator)))
    d.p50_noise_stddev = result.p50_noise_stddev
    return 0


def _failure_rates(
    release: release_pb2.Release,
    spec: spec_pb2.BenchmarkSpec,
    block: CohortBlocks[np.ndarray],
    cells: CohortCells,
    c: int,
) -> int:
    """Add cohort ``c``'s failures per inverter-year by component; return 1 when its failures cell is suppressed."""
    i = SOLAR_CELLS.index("failures")
    if not cells.filled[c, i]:
        return 0
    years = float(block(S.INVERTER_YEARS)[0])
    published = bool(cells.published[c, i]) and years > 0
    # A census that counted inverters whose values bring no inverter-year was not the sites' own: no rate.
    reason = cells.reasons.get((c, i), "the census counted inverters, the values round no inverter-years")
    for j, component in enumerate(spec.solar.components):
        rate = release.solar_failure_rates.add(cohort=spec.cohorts[c].name, component=component)
        if not published:
            rate.suppressed, rate.suppression_reason = True, reason
            continue
        failures = int(np.rint(block(S.SOLAR_FAILURE_COUNT)[j]))
        rate.failures, rate.inverter_years = failures, years
        rate.failures_per_inverter_year = failures / years
        rate.operator_count = int(block(S.SOLAR_CONTRIBUTOR)[i])
        if failures:
            rate.mean_downtime_hours = float(block(S.SOLAR_FAILURE_DOWNTIME)[j] / failures)
    return int(not published)


def add_private_failure_rates(
    release: release_pb2.Release,
    spec: spec_pb2.BenchmarkSpec,
    block: CohortBlocks[np.ndarray],
    cells: CohortCells,
    c: int,
    participants: int,
) -> int:
    """Add cohort ``c``'s failures per inverter-year by component from noisy capped sums; 1 when withheld.

    Post-processing only: the rate is the noisy failures (not below 0) over the noisy inverter-years,
    published where those stand WINDOW_PEAK_STDDEVS noise standard deviations above zero, with the
    noise on both and the rate's standard deviation from that noise alone (to first order,
    sqrt(s^2 + (rate s)^2) / inverter-years). A spec that caps downtime adds the noisy hours down (not
    below 0) and, where the noisy failures stand out as the years must, their mean per failure with its
    standard deviation, sqrt(s_h^2 + (mean s)^2) / failures to first order.
    """
    i = SOLAR_CELLS.index("failures")
    if not cells.filled[c, i]:
        return 0
    name = spec.cohorts[c].name
    noise = summed_noise_stddev(spec, name, participants, S.SOLAR_FAILURE_COUNT)
    years_noise = summed_noise_stddev(spec, name, participants, S.INVERTER_YEARS)
    downtime_noise = summed_noise_stddev(spec, name, participants, PRIVATE_DOWNTIME_STATISTIC)
    years = float(block(S.INVERTER_YEARS)[0])
    reason = ""
    if not cells.published[c, i]:
        reason = cells.reasons.get((c, i), "suppressed by its census")
    elif years < WINDOW_PEAK_STDDEVS * years_noise:
        reason = f"its inverter-years do not stand out from the noise ({years_noise:.1f} years)"
    for j, component in enumerate(spec.solar.components):
        rate = release.solar_failure_rates.add(cohort=name, component=component)
        rate.failures_noise_stddev, rate.inverter_years_noise_stddev = noise, years_noise
        if downtime_noise:
            rate.downtime_noise_stddev = downtime_noise
        if reason:
            rate.suppressed, rate.suppression_reason = True, reason
            continue
        failures = max(float(block(S.SOLAR_FAILURE_COUNT)[j]), 0.0)
        rate.failures, rate.inverter_years = round(failures), years
        rate.failures_per_inverter_year = failures / years
        rate.rate_noise_stddev = math.hypot(noise, rate.failures_per_inverter_year * years_noise) / years
        if not downtime_noise:
            continue
        rate.downtime_hours = max(float(block(PRIVATE_DOWNTIME_STATISTIC)[j]), 0.0)
        if failures >= WINDOW_PEAK_STDDEVS * noise:
            rate.mean_downtime_hours = rate.downtime_hours / failures
            rate.mean_downtime_noise_stddev = math.hypot(downtime_noise, rate.mean_downtime_hours * noise) / failures
    return int(bool(reason))


def _fill_curve(
    curve: release_pb2.SolarCurve,
    spec: spec_pb2.BenchmarkSpec,
    bins: CohortCells,
    c: int,
    fill: Callable[[release_pb2.SolarCurveBin, int], None],
) -> int:
    """Add cohort ``c``'s curve bins (those some operator filled), each published one filled by ``fill``.

    Returns how many are suppressed.
    """
    grid = spec.solar.irradiance_bins
    suppressed = 0
    for b in np.flatnonzero(bins.filled[c]).tolist():
        cell = curve.bins.add(irradiance_centre=grid.first_centre + b * grid.width)
        if not bins.published[c, b]:
            cell.suppressed, cell.suppression_reason = True, bins.reasons[c, b]
            suppressed += 1
            continue
        fill(cell, b)
    return suppressed


def _exact_bin_filler(
    spec: spec_pb2.BenchmarkSpec, totals: Mapping[BlockKey, np.ndarray], values: Mapping[BlockKey, np.ndarray], c: int
) -> Callable[[release_pb2.SolarCurveBin, int], None]:
    """What fills a bin of cohort ``c`` from its exact sums: counts, mean and standard deviation, percentiles."""
    name = spec.cohorts[c].name
    exact = CohortBlocks(totals, name)
    n = [int(x) for x in exact(S.IRRADIANCE_RECORD_COUNT)]
    mean, std = exact_mean_and_std(
        n,
        [int(x) for x in exact(S.SUM_SPECIFIC_POWER)],
        [int(x) for x in exact(S.SUM_SPECIFIC_POWER_SQUARED)],
        _exponent(spec, name, S.SUM_SPECIFIC_POWER),
        _exponent(spec, name, S.SUM_SPECIFIC_POWER_SQUARED),
    )
    histogram = CohortBlocks(values, name)(S.SPECIFIC_POWER_HISTOGRAM)
    operators = CohortBlocks(values, name)(S.IRRADIANCE_BIN_CONTRIBUTOR)
    power_grid = spec.solar.specific_power_bins

    def fill(cell: release_pb2.SolarCurveBin, b: int) -> None:
        cell.record_count, cell.operator_count = n[b], int(operators[b])
        cell.mean_specific_power = float(mean[b])
        if n[b] > 1:
            cell.std_specific_power = float(std[b])
        p10, p50, p90 = histogram_percentiles(histogram[b], power_grid.first_centre, power_grid.width, PERCENTILES)
        cell.p10_specific_power, cell.p50_specific_power, cell.p90_specific_power = float(p10), float(p50), float(p90)

    return fill


def _private_bin_filler(
    spec: spec_pb2.BenchmarkSpec,
    values: Mapping[BlockKey, np.ndarray],
    c: int,
    participants: int,
    rng: np.random.Generator,
) -> Callable[[release_pb2.SolarCurveBin, int], None]:
    """What fills a bin of cohort ``c`` from its noisy capped histogram row (:func:`fill_private_bin`)."""
    name = spec.cohorts[c].name
    noisy = CohortBlocks(values, name)(S.CAPPED_SPECIFIC_POWER_HISTOGRAM)
    noise = summed_noise_stddev(spec, name, participants)
    return lambda cell, b: fill_private_bin(cell, noisy[b], spec.solar.specific_power_bins, noise, rng)


def _exponent(spec: spec_pb2.BenchmarkSpec, cohort: str, statistic: spec_pb2.Statistic) -> int:
    for block in spec.blocks:
        if block.cohort == cohort and block.statistic == statistic:
            return int(block.scale_exponent)
    raise ValueError(f"spec {spec.spec_id} has no block {statistic} for cohort {cohort!r}")
