"""What a site checks in a release it receives: that it honours the censuses the site contributed under.

The aggregator builds the release from sums only it decodes, so a site cannot check the values.
But the site holds the census of each values round it took part in, and from it the decision
every cell had to follow (protos/census.py, exactly as the aggregator takes it), and the spec, from
which the privacy a private release states and the noise on each figure follow. A release that
publishes a cell its census suppresses, or whose published participants, operators, records or
turbine-years differ from the census's, states other privacy than its spec gives, publishes in a
private bin what its noise was to hide, or carries an item its spec does not know or a figure in an
item it marks suppressed, was not built as the protocol says: the site keeps it and flags it in its
audit log (``release_inconsistent``) for its operator to raise with the consortium.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from google.protobuf import json_format
from google.protobuf.message import Message

from common.atomic_file import write_text_atomically
from protos.census import Decision, census_totals, decide, is_round_two, is_solar
from protos.codec import spec_sha256
from protos.disclosure import cohort_atoms
from protos.domain import MONTH_FORMAT, period_months
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.privacy import (
    PRIVATE_DOWNTIME_STATISTIC,
    WINDOW_PEAK_STDDEVS,
    failure_inverters_needed,
    min_publishable_weight,
    private_downtime,
    private_failure_rates,
    stated_privacy,
    summed_noise_stddev,
)
from protos.statistics import (
    MONTHLY_INDICATORS,
    SOLAR_CELLS,
    SOLAR_DISTRIBUTIONS,
    BlockKey,
    CensusFields,
    SpecExtent,
    indicator_cells,
)

S = spec_pb2.Statistic
NOISE_STDDEVS = 10.0
"""A private distribution's bars may hold more than its census counts by this many times noise x sqrt(bars)
before the site flags them. The denoised bars' excess has a standard deviation of 1.2-1.4 such widths
(denoising merges cells, so the noise falls in more cells than the published bars): at 6 a reviewer's
simulation over five shapes flagged 1 honest row in about 2,000; 10 is about 7 of its standard deviations."""


class PrivateBin(NamedTuple):
    """What a published bin of a private release carries (server.private_curve.fill_private_bin)."""

    estimate: tuple[str, ...]  # what the estimator finds in the bin's noisy row where its records stand out
    other: tuple[str, ...]  # what it carries besides: its centre, noisy weight and the P50's error


PRIVATE_BINS = {
    release_pb2.PowerCurveBin: PrivateBin(
        ("p10_normalised_power", "p50_normalised_power", "p90_normalised_power", "mean_power_per_unit"),
        # Its mean wind speed is its centre: a private spec's sites send the capped histogram alone.
        ("wind_speed_centre", "mean_wind_speed", "noisy_record_weight", "p50_noise_stddev"),
    ),
    release_pb2.SolarCurveBin: PrivateBin(
        ("p10_specific_power", "p50_specific_power", "p90_specific_power", "mean_specific_power"),
        ("irradiance_centre", "noisy_record_weight", "p50_noise_stddev"),
    ),
}
"""Each kind of curve bin: what a private release's published one may carry. Anything else (records and
operators, which the aggregator knows from the census; standard deviations, uncertainties, Cp) it does not have."""


_SUPPRESSED = ("suppressed", "suppression_reason")
SUPPRESSED_FIELDS: dict[type[Message], frozenset[str]] = {
    release_pb2.CohortCurve: frozenset({*_SUPPRESSED, "cohort", "turbine_model", "wind_speed_reference"}),
    release_pb2.PowerCurveBin: frozenset({*_SUPPRESSED, "wind_speed_centre"}),
    release_pb2.SolarCurveBin: frozenset({*_SUPPRESSED, "irradiance_centre"}),
    release_pb2.NormalBehaviourModelFit: frozenset({*_SUPPRESSED, "cohort", "target", "features", "ridge_lambda"}),
    # A private distribution withheld for its noise states that noise, which its spec gives.
    release_pb2.Distribution: frozenset(
        {*_SUPPRESSED, "cohort", "indicator", "counts_of", "bins", "month", "count_noise_stddev"}
    ),
    release_pb2.FailureRate: frozenset({*_SUPPRESSED, "cohort", "component", "age_from_years", "age_to_years"}),
    release_pb2.SolarFailureRate: frozenset(
        {
            *_SUPPRESSED,
            "cohort",
            "component",
            "failures_noise_stddev",
            "inverter_years_noise_stddev",
            "downtime_noise_stddev",
        }
    ),
}
"""What a suppressed item of each kind carries: what names it, why it is suppressed, and (private) the noise
its spec gives it. Any other field is a figure the suppression was to withhold."""

_SOLAR_ONLY = frozenset({"solar", "solar_curves", "solar_failure_rates"})
RELEASE_FIELDS = {
    "wind": frozenset(f.name for f in release_pb2.Release.DESCRIPTOR.fields) - _SOLAR_ONLY,
    "solar": _SOLAR_ONLY
    | {
        "contract",
        "spec_id",
        "period",
        "k_min_operators",
        "provenance",
        "percentile_resolution",
        "dominance_max_share",
        "privacy",
        "distributions",  # by plant, and lost production by cause among them
    },
}
"""The fields of a Release each kind of spec fills (``server/solar.py``, ``server/publish.py``)."""

DOWNTIME_FIELDS = ("downtime_hours", "downtime_noise_stddev", "mean_downtime_hours", "mean_downtime_noise_stddev")
"""A private failure rate's downtime fields: published only where its spec bounds each inverter's hours down."""


def kept_censuses_dir(site_config: Path) -> Path:
    """Where a site keeps the censuses of the values rounds it contributed to: ``censuses/`` beside its site.toml."""
    return Path(site_config).parent / "censuses"


def keep_census(site_config: Path, spec: spec_pb2.BenchmarkSpec, census: spec_pb2.Census) -> Path:
    """Keep a values round's spec and census (JSON, atomically), named by the spec's hash; return the path."""
    path = kept_censuses_dir(site_config) / f"{spec_sha256(spec)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = {"spec": json_format.MessageToDict(spec), "census": json_format.MessageToDict(census)}
    write_text_atomically(path, json.dumps(kept, indent=1) + "\n")
    return path


def kept_census(site_config: Path, spec_hash: str) -> tuple[spec_pb2.BenchmarkSpec, spec_pb2.Census] | None:
    """The values spec and census kept for ``spec_hash``, or None if the site kept none."""
    path = kept_censuses_dir(site_config) / f"{spec_hash}.json"
    if not path.exists():
        return None
    kept = json.loads(path.read_text(encoding="utf-8"))
    return json_format.ParseDict(kept["spec"], spec_pb2.BenchmarkSpec()), json_format.ParseDict(
        kept["census"], spec_pb2.Census()
    )


def census_contradictions(
    release: release_pb2.Release, rounds: Sequence[tuple[spec_pb2.BenchmarkSpec, spec_pb2.Census]]
) -> list[str]:
    """Every way ``release`` contradicts the censuses of its rounds (values spec, census), round 1 or 2.

    Returns
    -------
    list of str
        One line per contradiction; empty when the release honours every census.
    """
    problems = _kind_problems(release, rounds[0][0]) if rounds else []
    for spec, census in rounds:
        totals = census_totals(census, spec)
        decision = decide(spec, totals)
        if is_solar(spec):
            problems += _solar(release, spec, census.participants, totals, decision)
        elif is_round_two(spec):
            problems += _round_two(release, spec, census.participants, totals, decision)
        else:
            problems += _round_one(release, spec, census.participants, totals, decision)
    return problems


def _kind_problems(release: release_pb2.Release, spec: spec_pb2.BenchmarkSpec) -> list[str]:
    """The fields of ``release`` its spec's kind (wind or solar) never fills: unchecked figures, which a reader sees.

    A solar release's wind items (curves by turbine model, failure rates by age band, monthly
    distributions, models) and a wind release's solar ones would pass every other check, which reads only
    its kind's items, and the dashboard and the JSON export would show them.
    """
    kind = "solar" if is_solar(spec) else "wind"
    foreign = sorted(field.name for field, _ in release.ListFields() if field.name not in RELEASE_FIELDS[kind])
    return (
        [f"the release of a {kind} spec carries {', '.join(foreign)}, which a {kind} release has not"]
        if foreign
        else []
    )


def _privacy_problems(release: release_pb2.Release, spec: spec_pb2.BenchmarkSpec) -> list[str]:
    """How the privacy a release states differs from what its spec gives (its curve round's spec, wind or solar).

    Every stated figure but the note's prose is recomputed from the spec (:func:`protos.privacy.stated_privacy`,
    as the aggregator states it), so a reader is never told of more privacy, or other noise, than the
    sites enforced; a release of an exact spec states none.
    """
    if not spec.HasField("privacy"):
        return ["the release states privacy, which its spec does not give"] if release.HasField("privacy") else []
    if not release.HasField("privacy"):
        return ["the release of a private spec states no privacy"]
    expected, stated = stated_privacy(spec), release.privacy
    differing = [
        field.name
        for field in expected.DESCRIPTOR.fields
        if field.name != "note" and not _same_figures(getattr(stated, field.name), getattr(expected, field.name))
    ]
    return [f"privacy: states {', '.join(differing)} other than its spec gives"] if differing else []


def _same_figures(stated: object, expected: object) -> bool:
    """Whether a stated field equals the recomputed one: numbers to rounding, maps key by key, text exactly."""
    if isinstance(expected, float):
        return isinstance(stated, float) and math.isclose(stated, expected, rel_tol=1e-9)
    if isinstance(expected, Mapping):
        same_keys = isinstance(stated, Mapping) and stated.keys() == expected.keys()
        return same_keys and all(_same_figures(stated[key], value) for key, value in expected.items())
    return stated == expected


def _cohort_rows(spec: spec_pb2.BenchmarkSpec, block: np.ndarray) -> CensusFields:
    """The census fields of each cohort's own row (after the atoms' rows)."""
    n_atoms = len(cohort_atoms(spec.cohorts))
    return CensusFields(*(field[n_atoms:] for field in block))


def _curve_bins_problems(
    cohort: str,
    cells: Sequence[release_pb2.PowerCurveBin] | Sequence[release_pb2.SolarCurveBin],
    grid: spec_pb2.BinGrid,
    unit: str,
    published: np.ndarray,
    bins: CensusFields,
    c: int,
    private: bool,
) -> list[str]:
    """How a curve's bins (of cohort ``c``, on ``grid``: wind speed or irradiance) contradict their census."""
    problems = []
    for cell in cells:
        centre = cell.wind_speed_centre if isinstance(cell, release_pb2.PowerCurveBin) else cell.irradiance_centre
        where = f"cohort {cohort} bin {centre:g} {unit}"
        skipped = _unchecked(where, cell)
        if skipped is not None:
            problems += skipped
            continue
        b = round((centre - grid.first_centre) / grid.width)
        problems += _bin_problems(where, cell, b, published, bins, c, private)
    return problems


def _bin_problems(
    where: str,
    cell: release_pb2.PowerCurveBin | release_pb2.SolarCurveBin,
    b: int,
    published: np.ndarray,
    bins: CensusFields,
    c: int,
    private: bool,
) -> list[str]:
    """How a published curve bin (``b`` of cohort ``c``) contradicts its census: suppressed there, or other counts.

    A private release's bin has no counts to compare: it must carry only what its noisy row gives
    (:func:`_private_bin_problems`).
    """
    if not 0 <= b < len(published) or not published[b]:
        return [f"{where} published; its census suppresses it"]
    if private:
        return _private_bin_problems(where, cell)
    problems = []
    if cell.HasField("record_count") and cell.record_count != int(bins.total[c, b]):
        problems.append(f"{where}: {cell.record_count} records, census {bins.total[c, b]:.0f}")
    if cell.HasField("operator_count") and cell.operator_count != int(bins.contributor[c, b]):
        problems.append(f"{where}: {cell.operator_count} operators, census {bins.contributor[c, b]:.0f}")
    return problems


def _private_bin_problems(where: str, cell: release_pb2.PowerCurveBin | release_pb2.SolarCurveBin) -> list[str]:
    """How a published bin of a private release carries more than its noisy row gives, or an estimate without error.

    The aggregator knows each bin's records and operators exactly from the census, so a bin that
    states them publishes what the noise was to hide; any other figure not in PRIVATE_BINS (a
    standard deviation, an uncertainty, Cp) the sites never sent. Where the estimator finds
    percentiles and a mean, its bootstrap states their P50's error, which the noise on every cell
    makes positive.
    """
    kept = PRIVATE_BINS[type(cell)]
    exact = [field.name for field, _ in cell.ListFields() if field.name not in (*kept.estimate, *kept.other)]
    if exact:
        return [f"{where}: publishes {', '.join(exact)}, which a private release of its spec does not have"]
    estimated = any(cell.HasField(name) for name in kept.estimate)
    if estimated and not cell.p50_noise_stddev > 0:
        return [f"{where}: publishes percentiles without a p50_noise_stddev above 0"]
    return []


def _private_curve_problems(curve: release_pb2.CohortCurve) -> list[str]:
    """What a private wind curve states of its census: its operators, or its records as hours (0 in a private one)."""
    exact = ["operator_count"] if curve.HasField("operator_count") else []
    exact += ["completeness.hours"] if curve.completeness.hours else []
    if exact:
        return [
            f"cohort {curve.cohort}: publishes {', '.join(exact)}, which a private release of its spec does not have"
        ]
    return []


def _solar(
    release: release_pb2.Release,
    spec: spec_pb2.BenchmarkSpec,
    participants: int,
    totals: Mapping[BlockKey, np.ndarray],
    decision: Decision,
) -> list[str]:
    """A solar release against its census: every published bin and cell passes it, with the census's counts."""
    problems = _privacy_problems(release, spec)
    if release.provenance.participants != participants:
        problems.append(f"participants {release.provenance.participants}, census {participants}")
    if decision.irradiance_bins is None or decision.solar is None:
        return [*problems, f"spec {spec.spec_id} has no solar decision"]
    bins = _cohort_rows(spec, totals[BlockKey("", S.IRRADIANCE_CENSUS)])
    cells = _cohort_rows(spec, totals[BlockKey("", S.SOLAR_CENSUS)])
    grid = spec.solar.irradiance_bins
    index = {cohort.name: c for c, cohort in enumerate(spec.cohorts)}
    private = spec.HasField("privacy")
    for curve in release.solar_curves:
        c = index.get(curve.cohort)
        skipped = _unchecked(f"curve of cohort {curve.cohort}", curve, cohort=c is not None)
        if skipped is not None:
            problems += skipped
            continue
        published = decision.irradiance_bins.published[c]
        problems += _curve_bins_problems(curve.cohort, curve.bins, grid, "W/m^2", published, bins, c, private)
    # Failures are a cell, named so that a distribution of them is flagged as one below.
    indicators = {*SOLAR_CELLS, *(f"lost_production:{category}" for category in spec.solar.loss_categories)}
    indicators.remove("lost_production")
    for distribution in release.distributions:
        c = index.get(distribution.cohort)
        where = f"{distribution.indicator} of cohort {distribution.cohort}"
        skipped = _unchecked(where, distribution, cohort=c is not None, indicator=distribution.indicator in indicators)
        if skipped is not None:
            problems += skipped
            continue
        cell = distribution.indicator.partition(":")[0]  # "lost_production:<category>" is the lost_production cell
        i = SOLAR_CELLS.index(cell)
        found = _solar_cell_problems(where, distribution, decision.solar.published[c, i], cells.contributor[c, i])
        statistic = SOLAR_DISTRIBUTIONS.get(cell)
        if not found and statistic is None:  # failures are published as rates, never as a distribution
            found = [f"{where}: published as a distribution, which its cell is not"]
        elif not found and spec.HasField("privacy"):
            # The noise the spec puts on this very block, recomputed: 0 where the spec does not noise it.
            noise = summed_noise_stddev(spec, distribution.cohort, participants, statistic)
            found = (
                _distribution_count_problems(where, distribution, cells.total[c, i], noise)
                if noise > 0
                else [f"{where}: published, but its private spec does not ask for it"]
            )
        elif not found:
            found = _distribution_count_problems(where, distribution, cells.total[c, i], 0.0)
        problems += found
    failures = SOLAR_CELLS.index("failures")
    seen: set[tuple[str, str]] = set()
    for rate in release.solar_failure_rates:
        c = index.get(rate.cohort)
        where = f"failure rate of {rate.component} in cohort {rate.cohort}"
        skipped = _unchecked(where, rate, cohort=c is not None, component=rate.component in spec.solar.components)
        if skipped is None and (rate.cohort, rate.component) in seen:
            skipped = [f"{where}: listed twice"]
        seen.add((rate.cohort, rate.component))
        if skipped is not None:
            problems += skipped
            continue
        found = _solar_cell_problems(where, rate, decision.solar.published[c, failures], cells.contributor[c, failures])
        if not found and spec.HasField("privacy"):
            found = _private_failure_rate_problems(where, rate, spec, participants, cells.total[c, failures])
        problems += found
    return problems


def _unchecked(where: str, item: Message, **known: bool) -> list[str] | None:
    """What is wrong with an item the census does not check (empty: nothing), or None for one it checks.

    The census has no cell for an item its spec does not know (``known`` names what must be the
    spec's: its cohort, indicator, component, ...): the sites sent nothing for it, so it is flagged,
    named by what is unknown, rather than skipped with whatever it publishes. An item marked
    suppressed is not checked against its cell, so it must carry nothing beyond SUPPRESSED_FIELDS
    (a solar curve has no suppressed flag of its own: its bins do).
    """
    unknown = [name for name, is_known in known.items() if not is_known]
    if unknown:
        return [f"{where}: {' and '.join(unknown)} not one of its spec's"]
    carried = [field.name for field, _ in item.ListFields()]  # a flag is listed only when set
    if "suppressed" not in carried:
        return None
    figures = [name for name in carried if name not in SUPPRESSED_FIELDS[type(item)]]
    return [f"{where}: suppressed, but publishes {', '.join(figures)}"] if figures else []


def _private_failure_rate_problems(
    where: str,
    rate: release_pb2.SolarFailureRate,
    spec: spec_pb2.BenchmarkSpec,
    participants: int,
    census_inverters: float,
) -> list[str]:
    """How a private release's published failure rate contradicts its spec and census.

    The spec must bound failures (else the sites sent none); the noise on the failures, the inverter-years
    and the rate is recomputed from the spec, never read from the release; the census's inverters must be
    enough for their time to stand out from it (:func:`protos.privacy.failure_inverters_needed`), the
    inverter-years must stand out (as the aggregator publishes only then) and be no more than those
    inverters observe, the failures no more than their caps allow, each give or take NOISE_STDDEVS of the
    noise; the rate must be the failures over the inverter-years, nothing exact (operators) published
    beside it, and downtime only where the spec bounds it (:func:`_private_downtime_problems`).
    """
    if not private_failure_rates(spec):
        return [f"{where}: published, but its private spec does not bound failures"]
    downtime = [name for name in DOWNTIME_FIELDS if rate.HasField(name)]
    exact = ["operator_count"] if rate.HasField("operator_count") else []
    exact += downtime if not private_downtime(spec) else []
    if exact:
        return [f"{where}: publishes {', '.join(exact)}, which a private release of its spec does not have"]
    noise = summed_noise_stddev(spec, rate.cohort, participants, S.SOLAR_FAILURE_COUNT)
    years_noise = summed_noise_stddev(spec, rate.cohort, participants, S.INVERTER_YEARS)
    if not math.isclose(rate.failures_noise_stddev, noise, rel_tol=1e-9):
        return [f"{where}: states noise {rate.failures_noise_stddev:g}, its spec's is {noise:g}"]
    if not math.isclose(rate.inverter_years_noise_stddev, years_noise, rel_tol=1e-9):
        return [
            f"{where}: states inverter-years noise {rate.inverter_years_noise_stddev:g}, its spec's is {years_noise:g}"
        ]
    if census_inverters < failure_inverters_needed(spec, rate.cohort, participants):
        return [f"{where}: published, but its census's inverters cannot stand out from its noise"]
    years, failures = rate.inverter_years, rate.failures
    if years < WINDOW_PEAK_STDDEVS * years_noise:
        return [f"{where}: published, but its {years:.1f} inverter-years do not stand out from their noise"]
    if years > census_inverters * SpecExtent.of(spec).max_years_per_inverter + NOISE_STDDEVS * years_noise:
        return [f"{where}: {years:.1f} inverter-years, more than its census's inverters observe"]
    if failures > census_inverters * spec.privacy.max_failures_per_inverter + NOISE_STDDEVS * noise:
        return [f"{where}: {failures} failures, more than its census's inverters' caps allow"]
    per_year = rate.failures_per_inverter_year
    if abs(per_year * years - failures) > 0.5 + 1e-9 * failures:  # the failures are the noisy sum rounded
        return [f"{where}: {per_year:g} per inverter-year is not its {failures} failures in {years:.1f} years"]
    stated = math.hypot(noise, per_year * years_noise) / years
    if not math.isclose(rate.rate_noise_stddev, stated, rel_tol=1e-9):
        return [f"{where}: states the rate's noise {rate.rate_noise_stddev:g}, its noise gives {stated:g}"]
    if private_downtime(spec):
        hours_noise = summed_noise_stddev(spec, rate.cohort, participants, PRIVATE_DOWNTIME_STATISTIC)
        return _private_downtime_problems(where, rate, spec, census_inverters, noise, hours_noise)
    return []


def _private_downtime_problems(
    where: str,
    rate: release_pb2.SolarFailureRate,
    spec: spec_pb2.BenchmarkSpec,
    census_inverters: float,
    failures_noise: float,
    hours_noise: float,
) -> list[str]:
    """How a private release's published downtime of a failure rate contradicts its spec and census.

    The noise on the hours is recomputed from the spec; the hours must be no more than the census's
    inverters' caps allow, give or take NOISE_STDDEVS of it; a mean per failure only where the failures
    stand out from their noise (WINDOW_PEAK_STDDEVS, as the aggregator publishes), the hours over the noisy
    failures (which the published failures round), with the standard deviation that noise gives.
    """
    if not math.isclose(rate.downtime_noise_stddev, hours_noise, rel_tol=1e-9):
        return [f"{where}: states downtime noise {rate.downtime_noise_stddev:g} h, its spec's is {hours_noise:g}"]
    hours, failures = rate.downtime_hours, rate.failures
    if hours > census_inverters * spec.privacy.max_downtime_hours_per_inverter + NOISE_STDDEVS * hours_noise:
        return [f"{where}: {hours:.0f} hours down, more than its census's inverters' caps allow"]
    if not rate.HasField("mean_downtime_hours"):
        return []
    if failures + 0.5 < WINDOW_PEAK_STDDEVS * failures_noise:
        return [f"{where}: a mean downtime of {failures} failures, which do not stand out from their noise"]
    mean = rate.mean_downtime_hours
    # The noisy failures the mean divides by: the hours over the mean, or (no hours) within the rounding.
    noisy = hours / mean if mean > 0 else float(failures)
    if abs(noisy - failures) > 0.5 + 1e-9 * failures or (mean == 0 and hours != 0):
        return [f"{where}: a mean downtime of {mean:g} h is not its {hours:g} h over its {failures} failures"]
    stated = math.hypot(hours_noise, mean * failures_noise) / noisy
    tolerance = 1e-9 if mean > 0 else 0.5 / max(failures - 0.5, 0.5)
    if not math.isclose(rate.mean_downtime_noise_stddev, stated, rel_tol=tolerance):
        given = rate.mean_downtime_noise_stddev
        return [f"{where}: states the mean downtime's noise {given:g} h, its noise gives {stated:g}"]
    return []


def _distribution_count_problems(
    where: str, distribution: release_pb2.Distribution, census_count: float, noise: float
) -> list[str]:
    """How a published solar distribution's counts contradict its census, given the noise its spec puts on each bar.

    ``noise`` is recomputed from the spec (0 for a spec that does not noise distributions), never read
    from the release, which the aggregator writes. Exact: the counts are the census's. Noised: the
    plants must be enough to stand out from the noise at all (:func:`protos.privacy.min_publishable_weight`,
    as the aggregator withholds the others), the release must state the spec's noise, and the denoised
    bars, which leave out tails under the noise, may exceed the census only by what the noise on them
    and their rounding explain.
    """
    counted = sum(distribution.counts)
    if noise == 0.0:
        if counted != int(census_count):
            return [f"{where}: {counted} {distribution.counts_of}, census {census_count:.0f}"]
        return []
    if distribution.HasField("operator_count"):
        return [f"{where}: publishes operator_count, which a private release does not have"]
    if census_count < min_publishable_weight(noise):
        return [f"{where}: published, but its census's {distribution.counts_of} cannot stand out from its noise"]
    if not math.isclose(distribution.count_noise_stddev, noise, rel_tol=1e-9):
        return [f"{where}: states noise {distribution.count_noise_stddev:g} per bar, its spec's is {noise:g}"]
    bars = np.count_nonzero(distribution.counts)
    if counted > census_count + NOISE_STDDEVS * noise * math.sqrt(bars) + bars / 2:
        return [f"{where}: {counted} {distribution.counts_of}, more than noise explains (census {census_count:.0f})"]
    return []


def _solar_cell_problems(
    where: str,
    item: release_pb2.Distribution | release_pb2.SolarFailureRate,
    published: bool,
    census_operators: float,
) -> list[str]:
    """A published solar cell the census suppresses, or whose operators are not the census's."""
    if not published:
        return [f"{where} published; its census suppresses it"]
    if item.HasField("operator_count") and item.operator_count != int(census_operators):
        return [f"{where}: {item.operator_count} operators, census {census_operators:.0f}"]
    return []


def _round_one(
    release: release_pb2.Release,
    spec: spec_pb2.BenchmarkSpec,
    participants: int,
    totals: Mapping[BlockKey, np.ndarray],
    decision: Decision,
) -> list[str]:
    problems = _privacy_problems(release, spec)
    if release.provenance.participants != participants:
        problems.append(f"participants {release.provenance.participants}, census {participants}")
    whole = _cohort_rows(spec, totals[BlockKey("", S.COHORT_CENSUS)][..., None])  # one cell: the period
    bins = _cohort_rows(spec, totals[BlockKey("", S.CURVE_CENSUS)])
    grid = spec.wind_speed_bins
    index = {cohort.name: c for c, cohort in enumerate(spec.cohorts)}
    private = spec.HasField("privacy")
    for curve in release.curves:
        c = index.get(curve.cohort)
        skipped = _unchecked(f"cohort {curve.cohort}", curve, cohort=c is not None)
        if skipped is not None:
            problems += skipped
            continue
        if not decision.cohorts.published[c, 0]:
            problems.append(f"cohort {curve.cohort} published; its census suppresses it")
            continue
        if private:
            problems += _private_curve_problems(curve)
        elif curve.HasField("operator_count") and curve.operator_count != int(whole.contributor[c, 0]):
            problems.append(
                f"cohort {curve.cohort}: {curve.operator_count} operators, census {whole.contributor[c, 0]:.0f}"
            )
        problems += _curve_bins_problems(
            curve.cohort, curve.bins, grid, "m/s", decision.bins.published[c], bins, c, private
        )
    targets = {model.target: m for m, model in enumerate(spec.models)}
    for fit in release.models:
        c, m = index.get(fit.cohort), targets.get(fit.target)
        where = f"model {fit.cohort}/{fit.target}"
        skipped = _unchecked(where, fit, cohort=c is not None, target=m is not None)
        if skipped is not None:
            problems += skipped
            continue
        training = _cohort_rows(spec, totals[BlockKey("", S.TRAINING_CENSUS, fit.target)][..., None])
        if not decision.training.published[c, m]:
            problems.append(f"{where} published; its census suppresses it")
        elif fit.HasField("record_count") and fit.record_count != int(training.total[c, 0]):
            problems.append(f"{where}: {fit.record_count} records, census {training.total[c, 0]:.0f}")
    return problems


def _round_two(
    release: release_pb2.Release,
    spec: spec_pb2.BenchmarkSpec,
    participants: int,
    totals: Mapping[BlockKey, np.ndarray],
    decision: Decision,
) -> list[str]:
    problems = []
    if release.provenance.indicator_participants != participants:
        problems.append(f"indicator participants {release.provenance.indicator_participants}, census {participants}")
    index = {cohort.name: c for c, cohort in enumerate(spec.cohorts)}
    cells = indicator_cells(spec)
    measured = _cohort_rows(spec, totals[BlockKey("", S.INDICATOR_CENSUS)])
    for d in release.distributions:
        c = index.get(d.cohort)
        where = f"distribution {d.cohort}/{d.indicator}"
        skipped = _unchecked(where, d, cohort=c is not None, indicator=d.indicator in cells)
        if skipped is not None:
            problems += skipped
            continue
        i = cells.index(d.indicator)
        if not decision.indicators.published[c, i]:
            problems.append(f"{where} published; its census suppresses it")
        elif d.HasField("operator_count") and d.operator_count != int(measured.contributor[c, i]):
            problems.append(f"{where}: {d.operator_count} operators, census {measured.contributor[c, i]:.0f}")
    edges = list(spec.indicators.age_band_edges)
    years = _cohort_rows(spec, totals[BlockKey("", S.AGE_BAND_CENSUS)])
    for rate in release.failure_rates:
        c = index.get(rate.cohort)
        where = f"failure rate {rate.cohort}/{rate.component} from {rate.age_from_years:g} years"
        skipped = _unchecked(
            where,
            rate,
            cohort=c is not None,
            component=rate.component in spec.indicators.components,
            age_band=rate.age_from_years in edges,
        )
        if skipped is not None:
            problems += skipped
            continue
        b = edges.index(rate.age_from_years)
        if not decision.age_bands.published[c, b]:
            problems.append(f"{where} published; its census suppresses it")
        elif rate.HasField("operator_count") and rate.operator_count != int(years.contributor[c, b]):
            problems.append(f"{where}: {rate.operator_count} operators, census {years.contributor[c, b]:.0f}")
        elif rate.HasField("turbine_years") and not np.isclose(rate.turbine_years, years.total[c, b], rtol=1e-9):
            problems.append(f"{where}: {rate.turbine_years:g} turbine-years, census {years.total[c, b]:g}")
    months = list(period_months(spec.period.start, spec.period.end).strftime(MONTH_FORMAT))
    monthly = _cohort_rows(spec, totals[BlockKey("", S.MONTHLY_CENSUS)])
    for d in release.monthly_distributions:
        c = index.get(d.cohort)
        where = f"monthly distribution {d.cohort}/{d.indicator}/{d.month}"
        skipped = _unchecked(
            where, d, cohort=c is not None, indicator=d.indicator in MONTHLY_INDICATORS, month=d.month in months
        )
        if skipped is not None:
            problems += skipped
            continue
        cell = MONTHLY_INDICATORS.index(d.indicator) * len(months) + months.index(d.month)
        if not decision.months.published[c, cell]:
            problems.append(f"{where} published; its census suppresses it")
        elif d.HasField("operator_count") and d.operator_count != int(monthly.contributor[c, cell]):
            problems.append(f"{where}: {d.operator_count} operators, census {monthly.contributor[c, cell]:.0f}")
        elif sum(d.counts) != int(monthly.total[c, cell]):
            problems.append(f"{where}: {sum(d.counts)} turbines, census {monthly.total[c, cell]:.0f}")
    return problems
