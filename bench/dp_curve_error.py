"""What differential privacy costs the industry curve (issue 9): P50 error against the noiseless release.

For cohorts of 50, 500 and 2,000 turbines (one turbine type, 3 months of 10-min records each,
site-specific Weibull winds, anemometer scatter, per-turbine performance) the bench builds each
site's capped power histograms with the sites' own kernels, then for epsilon 0.5, 1, 2 and 4 per
release draws every site's noise with the sites' own sampler (OpenDP's discrete Gaussian) and
finalises the noisy sum as a private release does (:func:`server.private_curve.noisy_histogram_percentiles`).
For the bins from cut-in to rated wind speed it prints

  - measured: the RMS error of the published P50s against the noiseless curve (same cap, same
    grid), in % of rated power, over --trials noise draws;
  - predicted: the RMS of the P50 errors the releases state (each published bin's
    p50_noise_stddev, a parametric bootstrap from the released row and the known noise, which
    sees nothing noiseless), and the ratio measured / predicted;
  - withheld: the share of bins a release withholds as dominated by noise (no P50 published;
    measured and predicted are over the published bins only);
  - what the same noise means per operator (group privacy over its turbines);
  - from what cohort size the curve is usable, as each private release's note states it.

Targets: measured within 10 % of predicted; under 2 % of rated at epsilon 1 with 2,000 turbines.

Run: .venv/bin/python bench/dp_curve_error.py [--trials 40 --seed 5] (about 12 minutes at 40 trials)
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence

import numpy as np

from client.privacy import add_site_noise, cap_unit_histograms
from client.summaries import PreparedRecords, add_turbine_power_histograms
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import composed_epsilon, spec_rho, summed_noise_stddev
from protos.statistics import STATISTICS, BlockKey
from server.percentiles import histogram_percentiles
from server.private_curve import noisy_histogram_percentiles, usable_cohort_units
from server.spec import PrivacySettings, power_curve_spec
from simulations.fleet_turbines import turbine_type

MODEL = "E-82/2300"
PERIOD = ("2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z")
RECORDS = 90 * 144
COHORT_SIZES = (50, 500, 2000)
EPSILONS = (0.5, 1.0, 2.0, 4.0)
CUT_IN, RATED = 3.0, 13.0  # [m/s], E-82/2300
STATISTIC = "CAPPED_POWER_HISTOGRAM"


def site_histograms(spec, n_turbines: int, rng: np.random.Generator) -> np.ndarray:
    """One site's capped histogram (wind-speed bin x normalised-power bin) of ``n_turbines`` synthetic turbines."""
    kind = turbine_type(MODEL)
    scale, shape = rng.uniform(6.5, 9.0), rng.uniform(1.8, 2.4)
    true_speed = scale * rng.weibull(shape, size=(n_turbines, RECORDS))
    performance = rng.uniform(0.96, 1.0, size=(n_turbines, 1))
    power = kind.power(true_speed) * performance * (1 + 0.03 * rng.standard_normal(true_speed.shape))
    measured = true_speed * (1 + 0.05 * rng.standard_normal(true_speed.shape))  # nacelle anemometer scatter
    records = PreparedRecords(
        asset=np.repeat(np.arange(n_turbines), RECORDS),
        density_normalised_wind_speed=measured.ravel(),
        density_normalised_power=power.ravel(),
        power_per_unit=power.ravel() / kind.rated_power_kw,
        power_per_area=np.zeros(n_turbines * RECORDS),
    )
    per_turbine = np.zeros((n_turbines, spec.wind_speed_bins.count, spec.normalised_power_bins.count))
    add_turbine_power_histograms(records, spec, per_turbine)
    exponent = STATISTICS[spec_pb2.Statistic.CAPPED_POWER_HISTOGRAM].scale_exponent
    return cap_unit_histograms(per_turbine, spec.privacy.max_records_per_turbine_per_bin, exponent).sum(axis=0)


def published_p50_errors(
    noisy: np.ndarray,
    rows: np.ndarray,
    truth: Sequence[float],
    grid: spec_pb2.BinGrid,
    cell_noise: float,
    bootstrap: np.random.Generator,
    errors: list[float],
    stated: list[float],
) -> int:
    """Finalise each row of ``noisy`` in ``rows`` as a private release does; return how many it withholds.

    For each published row, appends its P50's error against ``truth`` (the noiseless P50, in the
    grid's unit) to ``errors`` and the error the release states (``p50_noise_stddev``) to ``stated``.
    """
    withheld = 0
    for i, p50 in zip(rows, truth, strict=True):
        result = noisy_histogram_percentiles(noisy[i], grid, cell_noise, bootstrap)
        if math.isnan(result.mean):
            withheld += 1
            continue
        errors.append(result.percentiles[1] - p50)
        stated.append(result.p50_noise_stddev)
    return withheld


def rms(values: list[float]) -> float:
    """Root mean square of ``values`` (NaN for none)."""
    return math.sqrt(np.mean(np.square(values))) if values else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="noise draws per cohort size and epsilon")
    parser.add_argument("--turbines-per-site", type=int, default=100)
    parser.add_argument("--cap", type=int, default=60, help="max records per turbine per wind-speed bin")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    bootstrap = np.random.default_rng([args.seed, 1])  # the releases' own bootstrap draws
    started = time.perf_counter()
    print(
        f"cohorts of {COHORT_SIZES} {MODEL} turbines, 3 months of 10-min records each, up to "
        f"{args.turbines_per_site} turbines per site; cap {args.cap} records per turbine per bin; "
        f"{args.trials} noise draws each; privacy unit: one turbine; delta 1e-6; seed {args.seed}"
    )
    print(
        f"{'turbines':>8} {'sites':>5} {'epsilon':>7} {'cell noise':>10} {'measured %':>10} {'predicted %':>11} "
        f"{'ratio':>6} {'withheld':>8} {'operator eps (T=site)':>22}"
    )
    for n_turbines in COHORT_SIZES:
        sizes = [min(args.turbines_per_site, n_turbines - i) for i in range(0, n_turbines, args.turbines_per_site)]
        sizes = sizes if len(sizes) >= 5 else [n_turbines // 5] * 5  # at least five sites
        cap = PrivacySettings(1.0, max_records_per_turbine_per_bin=args.cap)
        base = power_curve_spec("dp-bench", *PERIOD, [MODEL], privacy=cap)
        sites = [site_histograms(base, n, rng) for n in sizes]
        noiseless = np.sum(sites, axis=0)
        ws, pg = base.wind_speed_bins, base.normalised_power_bins
        centres = ws.first_centre + ws.width * np.arange(ws.count)
        rows = np.flatnonzero((centres >= CUT_IN) & (centres <= RATED))
        truth = np.array([histogram_percentiles(noiseless[i], pg.first_centre, pg.width, (0.5,))[0] for i in rows])
        for epsilon in EPSILONS:
            settings = PrivacySettings(epsilon, max_records_per_turbine_per_bin=args.cap, min_noise_sites=len(sites))
            spec = power_curve_spec("dp-bench", *PERIOD, [MODEL], privacy=settings)
            block = next(b for b in spec.blocks if b.noise_stddev > 0)
            name = BlockKey.of(block)
            cell_noise = summed_noise_stddev(spec, MODEL, len(sites))  # all sites survive
            errors, stated, withheld = [], [], 0
            for _ in range(args.trials):
                noisy = sum(add_site_noise({name: site}, spec)[name] for site in sites)
                withheld += published_p50_errors(noisy, rows, truth, pg, cell_noise, bootstrap, errors, stated)
            measured, predicted = rms(errors), rms(stated)
            operator = composed_epsilon([spec_rho(spec) * max(sizes) ** 2], settings.delta)
            share = withheld / (args.trials * len(rows))
            figures = (
                f"{100 * measured:>10.2f} {100 * predicted:>11.2f} {measured / predicted:>6.2f}"
                if errors
                else f"{'-':>10} {'-':>11} {'-':>6}"
            )
            print(
                f"{n_turbines:>8} {len(sites):>5} {epsilon:>7g} {cell_noise:>10.0f} {figures} {share:>8.1%} "
                f"{operator:>22.0f}",
                flush=True,
            )
    print("\nfrom what cohort size DP is usable (what each private release's note states):")
    for epsilon in EPSILONS:
        usable = []
        for sites in (5, 20):
            settings = PrivacySettings(epsilon, max_records_per_turbine_per_bin=args.cap, min_noise_sites=sites)
            spec = power_curve_spec("dp-bench", *PERIOD, [MODEL], privacy=settings)
            noise = summed_noise_stddev(spec, MODEL, sites)
            usable.append(usable_cohort_units(noise, spec.normalised_power_bins, args.cap))
        print(f"  epsilon {epsilon:g} per release: about {usable[0]} turbines (5 sites), {usable[1]} (20 sites)")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
