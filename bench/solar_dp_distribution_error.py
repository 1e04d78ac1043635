"""What differential privacy costs a solar cohort's performance-ratio distribution: P10/P50/P90 error by cohort size.

A private solar spec (``solar_spec`` with ``PrivacySettings(epsilon, distribution_share=0.5,
min_noise_sites=t)``, one cohort "all plants", 2022) noises each cohort's plant distributions; this
bench measures what it publishes of the PR distribution. Each plant is one site (one participant),
so a cohort of N plants sums N noise shares: the noise on each bar of the summed PR histogram is
``summed_noise_stddev(spec, cohort, N, PERFORMANCE_RATIO_HISTOGRAM)``, sigma sqrt(N / (t - 1)). By
default every plant is a noise site (``--min-noise-sites 0``: t = N, so the sum carries about sigma,
as bench/solar_dp_curve_error.py does); ``--min-noise-sites 3`` shows what a spec made for a handful of
sites does to a large cohort (the noise grows as sqrt(N)). The sites' discrete Gaussian shares are
summed as one continuous Gaussian of the same variance (what the aggregator decodes, up to the
discretisation). A cohort with fewer plants than :func:`protos.privacy.min_publishable_weight` of the
noise is withheld before its bars are looked at, as the server does from the census
(server/solar.py ``distributions_below_their_noise``).

For epsilon 1, 3 and 10 per release and cohorts of 50 to 2,000 plants, each of ``--draws`` draws takes
N fresh plant PRs from a shape (``normal``: N(0.80, 0.05); ``tail``: 90 % of them so and 10 % about
0.65 with standard deviation 0.02, a group of underperformers), counts each plant once in the 0.01-wide
bar of its PR (0.30-1.20, beyond-grid PRs in the end bars), adds the noise to every bar and finalises
the row as the server does for a private distribution (server/solar.py ``_fill_private_distribution``:
:func:`server.private_curve.noisy_histogram_percentiles`). Per shape, epsilon and N it prints

  - noise: the standard deviation on each bar [plants];
  - note: the cohort size the release's note states a PR distribution is usable from, at this
    noise (:func:`server.private_curve.usable_cohort_units` with the note's reference spread);
  - published: the share of draws that publish the distribution (the others withhold it as
    dominated by noise);
  - P50 measured: the RMS error of the published P50 against the drawn plants' noiseless P50
    (:func:`server.percentiles.histogram_percentiles` of the true counts, same grid);
  - P50 stated: the RMS of the p50_noise_stddev the releases state, and measured / stated;
  - P10 / P90: the RMS errors of the published P10 and P90 against the noiseless ones.

Errors are over the published draws only. It ends with, per epsilon, the smallest cohort the note's
figure holds for at that cohort's own noise (the noise grows with N when t is fixed).

``--distributions performance_ratio`` gives the spec that one distribution alone (sqrt(2) of the
eight's sqrt(22) in sensitivity).

Run: PYTHONPATH=. .venv/bin/python bench/solar_dp_distribution_error.py [--draws 40 --seed 11]
(about 30 s; a few seconds with --min-noise-sites 3, where most rows are withheld before the bootstrap).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
from dp_curve_error import rms  # bench/, on the path when a bench runs as a script

from client.power_curve import clipped_bin_index
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import min_publishable_weight, summed_noise_stddev
from server.percentiles import PERCENTILES, histogram_percentiles
from server.private_curve import (
    REFERENCE_PERFORMANCE_RATIO,
    REFERENCE_PERFORMANCE_RATIO_SPREAD,
    noisy_histogram_percentiles,
    usable_cohort_units,
)
from server.spec import PrivacySettings, solar_cohort, solar_spec

PERIOD = ("2022-01-01T00:00:00Z", "2023-01-01T00:00:00Z")
COHORT = "all plants"
STATISTIC = spec_pb2.Statistic.PERFORMANCE_RATIO_HISTOGRAM
EPSILONS = (1.0, 3.0, 10.0)
COHORT_SIZES = (50, 100, 200, 500, 1000, 2000)
PR_MEAN, PR_SPREAD = 0.80, 0.05  # [-], a cohort's plants: the note's reference shape
TAIL_SHARE, TAIL_MEAN, TAIL_SPREAD = 0.10, 0.65, 0.02  # [-], the underperformers of the "tail" shape
P10, P50, P90 = (PERCENTILES.index(q) for q in (0.10, 0.50, 0.90))


def normal_prs(plants: int, rng: np.random.Generator) -> np.ndarray:
    """``plants`` PRs drawn from N(PR_MEAN, PR_SPREAD) [-]."""
    return rng.normal(PR_MEAN, PR_SPREAD, size=plants)


def tail_prs(plants: int, rng: np.random.Generator) -> np.ndarray:
    """``plants`` PRs, a binomial TAIL_SHARE of them from the underperformers' N(TAIL_MEAN, TAIL_SPREAD) [-]."""
    prs = normal_prs(plants, rng)
    tail = rng.random(plants) < TAIL_SHARE
    prs[tail] = rng.normal(TAIL_MEAN, TAIL_SPREAD, size=int(tail.sum()))
    return prs


SHAPES: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {"normal": normal_prs, "tail": tail_prs}


def private_spec(epsilon: float, min_noise_sites: int, distributions: tuple[str, ...]) -> spec_pb2.BenchmarkSpec:
    """The private solar spec of the bench: one cohort, half of the budget on ``distributions`` (empty: all)."""
    settings = PrivacySettings(
        epsilon, distribution_share=0.5, min_noise_sites=min_noise_sites, distributions=distributions
    )
    return solar_spec("dp-dist-bench", *PERIOD, [solar_cohort(COHORT)], k_min_operators=3, privacy=settings)


def bar_noise(
    epsilon: float, plants: int, min_noise_sites: int, distributions: tuple[str, ...] = ()
) -> tuple[float, spec_pb2.BinGrid]:
    """Noise on each bar of the summed PR histogram of ``plants`` plants, one site each [plants], and the PR grid.

    ``min_noise_sites`` 0 means every plant is a noise site (t = plants, the sum carries sigma).
    """
    spec = private_spec(epsilon, min_noise_sites or plants, distributions)
    return summed_noise_stddev(spec, COHORT, plants, STATISTIC), spec.solar.performance_ratio_bins


def usable_plants(noise: float, grid: spec_pb2.BinGrid) -> int:
    """The cohort size a release's note states a PR distribution is usable from, at bar noise ``noise``."""
    return usable_cohort_units(
        noise, grid, 1, spread=REFERENCE_PERFORMANCE_RATIO_SPREAD, centre=REFERENCE_PERFORMANCE_RATIO
    )


def break_even(epsilon: float, min_noise_sites: int, distributions: tuple[str, ...] = ()) -> int:
    """Smallest cohort whose note, stated at that cohort's own noise, says it is usable (N >= usable(N)).

    With t fixed the noise grows as sqrt(N) and the note's figure with it, so the figure a release
    states is not where its own cohort size makes the distribution usable; this is. Doubling, then
    bisection: N - usable(N) grows with N (usable(N) grows as sqrt(N)).
    """

    def holds(plants: int) -> bool:
        noise, grid = bar_noise(epsilon, plants, min_noise_sites, distributions)
        return usable_plants(noise, grid) <= plants

    # Fewer plants than the noise sites cannot be a cohort of this spec; start at the least allowed.
    high = max(min_noise_sites, 2)
    while not holds(high):
        high *= 2
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if holds(middle) else (middle, high)
    return high


def measure_cell(
    shape: Callable[[int, np.random.Generator], np.ndarray],
    plants: int,
    noise: float,
    grid: spec_pb2.BinGrid,
    draws: int,
    rng: np.random.Generator,
    bootstrap: np.random.Generator,
) -> tuple[int, list[np.ndarray], list[float]]:
    """Draw, noise and finalise ``draws`` cohorts of ``plants`` plants.

    Returns
    -------
    published : int
        The draws whose distribution is published.
    errors : list of ndarray
        Per published draw, published minus noiseless P10, P50, P90 [-].
    stated : list of float
        Per published draw, the P50 error the release states (p50_noise_stddev) [-].
    """
    published, errors, stated = 0, [], []
    if plants < min_publishable_weight(noise):  # withheld from the census, before any bar is looked at
        return published, errors, stated
    for _ in range(draws):
        prs = shape(plants, rng)
        counts = np.bincount(
            clipped_bin_index(prs, grid.first_centre, grid.width, grid.count), minlength=grid.count
        ).astype(np.float64)
        truth = histogram_percentiles(counts, grid.first_centre, grid.width, PERCENTILES)
        noisy = counts + rng.normal(0.0, noise, size=grid.count)
        result = noisy_histogram_percentiles(noisy, grid, noise, bootstrap)
        if math.isnan(result.mean):  # withheld as dominated by noise, as the server withholds it
            continue
        published += 1
        errors.append(result.percentiles - truth)
        stated.append(result.p50_noise_stddev)
    return published, errors, stated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=40, help="cohorts drawn (fresh plants, fresh noise) per cell")
    parser.add_argument("--epsilons", type=float, nargs="+", default=list(EPSILONS))
    parser.add_argument("--plants", type=int, nargs="+", default=list(COHORT_SIZES), help="cohort sizes")
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=list(SHAPES))
    parser.add_argument(
        "--min-noise-sites", type=int, default=0, help="t of the spec; 0: every plant a noise site (t = N)"
    )
    parser.add_argument(
        "--distributions", nargs="+", default=[], help="the spec's private distributions (default: all eight)"
    )
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    distributions = tuple(args.distributions)
    # Plants and noise from one stream, the releases' bootstrap from its own, so a change to the
    # estimator's bootstrap leaves the drawn cohorts and their noise unchanged.
    rng, bootstrap = np.random.default_rng(args.seed), np.random.default_rng([args.seed, 1])
    started = time.perf_counter()
    t = "N (every plant)" if args.min_noise_sites == 0 else str(args.min_noise_sites)
    print(
        f"PR distribution of one cohort, one plant per site; distribution share 0.5 over "
        f"{', '.join(distributions) or 'all eight distributions'}; min_noise_sites {t}; "
        f"delta 1e-6; {args.draws} draws per cell (fresh plants, fresh noise); seed {args.seed}"
    )
    print(f"shapes: normal N({PR_MEAN}, {PR_SPREAD}); tail: {TAIL_SHARE:.0%} of plants N({TAIL_MEAN}, {TAIL_SPREAD})")
    header = (
        f"{'shape':>6} {'epsilon':>7} {'plants':>6} {'noise':>8} {'note':>6} {'published':>9} "
        f"{'P50 meas':>8} {'P50 stated':>10} {'ratio':>6} {'P10 meas':>8} {'P90 meas':>8}"
    )
    units = (
        f"{'':>6} {'':>7} {'':>6} {'[plants]':>8} {'[from]':>6} {'':>9} "
        f"{'[PR]':>8} {'[PR]':>10} {'':>6} {'[PR]':>8} {'[PR]':>8}"
    )
    print(f"\n{header}\n{units}")
    first_published: dict[tuple[str, float], int] = {}
    ratios: list[float] = []
    for shape in args.shapes:
        for epsilon in args.epsilons:
            for plants in args.plants:
                noise, grid = bar_noise(epsilon, plants, args.min_noise_sites, distributions)
                usable = usable_plants(noise, grid)
                published, errors, stated = measure_cell(SHAPES[shape], plants, noise, grid, args.draws, rng, bootstrap)
                if errors:
                    first_published.setdefault((shape, epsilon), plants)
                    error = np.array(errors)
                    measured, predicted = rms(list(error[:, P50])), rms(stated)
                    ratios.append(measured / predicted)
                    figures = (
                        f"{measured:>8.4f} {predicted:>10.4f} {measured / predicted:>6.2f} "
                        f"{rms(list(error[:, P10])):>8.4f} {rms(list(error[:, P90])):>8.4f}"
                    )
                else:
                    figures = f"{'-':>8} {'-':>10} {'-':>6} {'-':>8} {'-':>8}"
                print(
                    f"{shape:>6} {epsilon:>7g} {plants:>6} {noise:>8.1f} {usable:>6} "
                    f"{published / args.draws:>9.0%} {figures}",
                    flush=True,
                )
    print("\nfrom what cohort size the PR distribution is usable, per epsilon:")
    for epsilon in args.epsilons:
        seen = ", ".join(f"{s} {first_published.get((s, epsilon), '-')}" for s in args.shapes)
        holds = break_even(epsilon, args.min_noise_sites, distributions)
        print(
            f"  epsilon {epsilon:g}: the note's figure holds at its own noise from {holds} plants;"
            f" first published here (of {args.plants[0]}-{args.plants[-1]}): {seen}",
            flush=True,
        )
    ratio = (
        f"P50 measured / stated {min(ratios):.2f}-{max(ratios):.2f} over the cells that published any draw"
        if ratios
        else "no draw published a distribution"
    )
    print(f"\n{time.perf_counter() - started:.0f} s; {ratio}")


if __name__ == "__main__":
    main()
