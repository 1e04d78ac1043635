"""What differential privacy costs a solar cohort's failure rates and downtime, by cohort size.

A private solar spec with a failure cap and a downtime cap (``PrivacySettings(epsilon,
distribution_share=0.5, max_failures_per_inverter=C, max_downtime_hours_per_inverter=H)``, one cohort
"all plants", 2022, every plant a noise site) noises each cohort's failures and hours down per component
and its inverter-years with the distributions' one noise (the hours' times H / C). For epsilon 1, 3
and 10 per release and cohorts of 20 to 2,000 plants of ``--inverters`` inverters each, every inverter
observed the whole year, each of ``--draws`` draws takes each inverter's failures of each component
from a Poisson law (the inverter INVERTER_RATE a year, every other component OTHER_RATE), each
failure's hours down from an exponential law of mean HOURS_PER_FAILURE (in whole 15-min records), caps
them as a site does (:func:`client.solar.summaries.cap_inverter_failures`), adds noise of the stated
variance to the summed failures, hours and inverter-years (one continuous Gaussian for the sites'
discrete shares) and finalises the cohort as the server does
(:func:`server.solar.add_private_failure_rates`; the census rule
:func:`protos.privacy.failure_inverters_needed` first). Per epsilon and cohort size it prints

  - noise: the standard deviation on the summed failures [failures] and inverter-years [year];
  - published: the share of draws that publish the rates (the others withhold them);
  - inverter rate error: the RMS error of the published inverter failure rate against the drawn
    inverters' own (uncapped) rate [1/year], and relative to the true rate;
  - stated: the RMS of the rate_noise_stddev the releases state, and measured / stated;
  - cap bias: the mean of the capped minus the uncapped true rate [1/year] (what the cap costs);
  - downtime: the share of draws that publish the inverter's mean hours per failure, its RMS error
    against the drawn inverters' own (uncapped) mean [h], measured over stated, and the caps' bias [h].

Run: PYTHONPATH=. .venv/bin/python bench/solar_dp_failure_rate_error.py [--draws 200 --cap 2 --downtime-cap 200]
(about a minute).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from dp_curve_error import rms  # bench/, on the path when a bench runs as a script

from client.solar.summaries import cap_inverter_failures
from protos.census import CohortCells
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.privacy import failure_inverters_needed, summed_noise_stddev
from protos.statistics import SOLAR_CELLS, BlockKey, CohortBlocks, SpecExtent
from server.solar import add_private_failure_rates
from server.spec import PrivacySettings, solar_cohort, solar_spec

S = spec_pb2.Statistic
PERIOD = ("2022-01-01T00:00:00Z", "2023-01-01T00:00:00Z")
COHORT = "all plants"
EPSILONS = (1.0, 3.0, 10.0)
COHORT_SIZES = (20, 50, 100, 200, 500, 1000, 2000)
INVERTER_RATE, OTHER_RATE = 0.2, 0.05  # failures per inverter-year
HOURS_PER_FAILURE = 24.0  # mean hours down per failure


def private_spec(epsilon: float, plants: int, cap: int, downtime_cap: int) -> spec_pb2.BenchmarkSpec:
    """The bench's spec: every plant a noise site, half the budget on the distributions and failure rates."""
    settings = PrivacySettings(
        epsilon,
        distribution_share=0.5,
        min_noise_sites=plants,
        max_failures_per_inverter=cap,
        max_downtime_hours_per_inverter=downtime_cap,
    )
    return solar_spec("dp-failure-bench", *PERIOD, [solar_cohort(COHORT)], k_min_operators=3, privacy=settings)


@dataclass(frozen=True)
class DrawnCohort:
    """One draw of a cohort: what its sites send (capped) and the truth the release is judged against."""

    failures: np.ndarray  # capped, per component [failures]
    hours: np.ndarray  # capped, per component [h]
    years: float  # [year]
    true_rate: float  # the inverters' own inverter failures per inverter-year, uncapped [1/year]
    capped_rate: float  # the same, capped [1/year]
    true_hours: float  # the inverters' own hours per inverter failure, uncapped [h]
    capped_hours: float  # the same, capped [h]


def draw_cohort(spec: spec_pb2.BenchmarkSpec, plants: int, inverters: int, rng: np.random.Generator) -> DrawnCohort:
    """A cohort's capped failures and hours per component and inverter-years, with its true inverter figures."""
    components = list(spec.solar.components)
    rates = np.where(np.array(components) == "inverter", INVERTER_RATE, OTHER_RATE)
    years = SpecExtent.of(spec).max_years_per_inverter
    # Each inverter is capped on its own: one call over all the cohort's inverters is every site's call at once.
    drawn = rng.poisson(rates * years, size=(plants * inverters, len(components)))
    # The sum of n exponential outages is a gamma of shape n, in whole 15-min records (0 for no failure).
    records = np.ceil(rng.gamma(np.maximum(drawn, 1e-12), HOURS_PER_FAILURE * 4.0)) * (drawn > 0)
    capped = cap_inverter_failures(drawn.astype(np.float64), records, np.full(plants * inverters, years), spec)
    assert capped is not None and capped.downtime_hours is not None  # the spec bounds both
    failures, hours, i = drawn.sum(axis=0), records.sum(axis=0) / 4.0, components.index("inverter")
    return DrawnCohort(
        capped.failures,
        capped.downtime_hours,
        capped.inverter_years,
        failures[i] / capped.inverter_years,
        capped.failures[i] / capped.inverter_years,
        hours[i] / failures[i],
        capped.downtime_hours[i] / capped.failures[i],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200, help="cohorts drawn (fresh failures, fresh noise) per cell")
    parser.add_argument("--epsilons", type=float, nargs="+", default=list(EPSILONS))
    parser.add_argument("--plants", type=int, nargs="+", default=list(COHORT_SIZES), help="cohort sizes")
    parser.add_argument("--inverters", type=int, default=4, help="inverters per plant")
    parser.add_argument("--cap", type=int, default=2, help="max_failures_per_inverter")
    parser.add_argument("--downtime-cap", type=int, default=200, help="max_downtime_hours_per_inverter [h]")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    print(
        f"failure rates under DP: {args.inverters} inverters per plant observed a year, {INVERTER_RATE} inverter "
        f"failures per inverter-year ({OTHER_RATE} of each other component), {HOURS_PER_FAILURE:g} h down per "
        f"failure, caps {args.cap} failures and {args.downtime_cap} h per inverter, distribution share 0.5, every "
        f"plant a noise site, {args.draws} draws per cell"
    )
    print(
        f"{'epsilon':>7} {'plants':>6} {'noise':>6} {'needs':>6} {'published':>9} {'rate RMS':>9} {'relative':>8} "
        f"{'stated':>7} {'meas/st':>7} {'cap bias':>9} | {'h/failure':>9} {'h RMS':>7} {'meas/st':>7} {'h bias':>7}"
    )
    failures_cell = SOLAR_CELLS.index("failures")
    for epsilon in args.epsilons:
        for plants in args.plants:
            spec = private_spec(epsilon, plants, args.cap, args.downtime_cap)
            hours_noise = summed_noise_stddev(spec, COHORT, plants, S.SOLAR_FAILURE_DOWNTIME)
            noise = summed_noise_stddev(spec, COHORT, plants, S.SOLAR_FAILURE_COUNT)
            needed = failure_inverters_needed(spec, COHORT, plants)
            published = np.zeros((1, len(SOLAR_CELLS)), dtype=bool)
            published[0, failures_cell] = plants * args.inverters >= needed
            reasons = {} if published[0, failures_cell] else {(0, failures_cell): "the census rule"}
            cells = CohortCells(published, np.ones_like(published), reasons)
            errors, stated, bias = [], [], []
            hour_errors, hours_stated, hours_bias = [], [], []
            for _ in range(args.draws):
                cohort = draw_cohort(spec, plants, args.inverters, rng)
                failures, hours = cohort.failures, cohort.hours
                values = {
                    BlockKey(COHORT, S.SOLAR_FAILURE_COUNT): failures + rng.normal(0.0, noise, failures.shape),
                    BlockKey(COHORT, S.SOLAR_FAILURE_DOWNTIME): hours + rng.normal(0.0, hours_noise, hours.shape),
                    BlockKey(COHORT, S.INVERTER_YEARS): np.array([cohort.years + rng.normal(0.0, noise)]),
                }
                release = release_pb2.Release()
                add_private_failure_rates(release, spec, CohortBlocks(values, COHORT), cells, 0, plants)
                bias.append(cohort.capped_rate - cohort.true_rate)
                hours_bias.append(cohort.capped_hours - cohort.true_hours)
                rate = next(r for r in release.solar_failure_rates if r.component == "inverter")
                if not rate.suppressed:
                    errors.append(rate.failures_per_inverter_year - cohort.true_rate)
                    stated.append(rate.rate_noise_stddev)
                if rate.HasField("mean_downtime_hours"):
                    hour_errors.append(rate.mean_downtime_hours - cohort.true_hours)
                    hours_stated.append(rate.mean_downtime_noise_stddev)
            shown = (
                f"{rms(errors):9.4f} {rms(errors) / INVERTER_RATE:8.1%} {rms(stated):7.4f} "
                f"{rms(errors) / rms(stated):7.2f}"
                if errors
                else f"{'-':>9} {'-':>8} {'-':>7} {'-':>7}"
            )
            hours_shown = (
                f"{rms(hour_errors):7.2f} {rms(hour_errors) / rms(hours_stated):7.2f}"
                if hour_errors
                else f"{'-':>7} {'-':>7}"
            )
            print(
                f"{epsilon:7g} {plants:6d} {noise:6.2f} {needed:6d} {len(errors) / args.draws:9.0%} {shown} "
                f"{np.mean(bias):+9.5f} | {len(hour_errors) / args.draws:9.0%} {hours_shown} "
                f"{np.mean(hours_bias):+7.2f}"
            )
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
