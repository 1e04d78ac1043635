"""What differential privacy per inverter costs a solar cohort's curve: P50 error against the noiseless release.

Draws and simulates ``--plants`` synthetic PV plants (simulations/solar_fleet.py, 2-6 inverters each,
3 months of 15-min records from 2022-01-01) and runs each site's own summary on its export with a
private spec (``summarise_plant``: each inverter's records per irradiance bin capped at ``--cap``).
Larger cohorts repeat those plants (x1, x5, x20, x100): the noiseless row of a bin keeps its shape and
scales with the cohort, which is what the noise is judged against. For epsilon 0.5, 1, 2, 4 and 10
per release, with every site a noise site (``min_noise_sites`` = the sites, so the sum carries the
spec's sigma), it adds the sites' noise (the sum of every site's discrete Gaussian share, drawn as
one Gaussian of the same variance: the sum the aggregator decodes) and finalises each irradiance bin as
a private release does (:func:`server.private_curve.noisy_histogram_percentiles`). For the bins
from 100 to 900 W/m^2 it prints

  - measured: the RMS error of the published P50 specific power against the noiseless P50 (same
    cap, same grid) [kW/kWp], over --trials noise draws;
  - predicted: the RMS of the P50 errors the releases state (p50_noise_stddev), and the ratio;
  - withheld: the share of bins withheld as dominated by noise;
  - from what cohort size (inverters) the curve is usable, as each private release's note states it.

Run: PYTHONPATH=. .venv/bin/python bench/solar_dp_curve_error.py [--plants 20 --trials 20 --seed 3]
(about 2 minutes).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from dp_curve_error import published_p50_errors, rms  # bench/, on the path when a bench runs as a script

from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import summarise_plant
from protos.privacy import summed_noise_stddev
from server.percentiles import histogram_percentiles
from server.private_curve import usable_cohort_units
from server.spec import PrivacySettings, solar_cohort, solar_spec
from simulations.solar_fleet import simulate_solar_plant_with_truth, solar_fleet, write_solar_site

PERIOD = ("2022-01-01T00:00:00Z", "2022-04-01T00:00:00Z")
COHORT = "all plants"
EPSILONS = (0.5, 1.0, 2.0, 4.0, 10.0)
REPEATS = (1, 5, 20, 100)
IRRADIANCE_RANGE = (100.0, 900.0)  # [W/m^2]: the bins a curve is read over


def plant_histograms(plants: int, cap: int, rng: np.random.Generator, folder: Path) -> tuple[list[np.ndarray], int]:
    """Each simulated plant's capped specific-power histogram, from its own summary, and the inverters in all."""
    spec = solar_spec(
        "dp-bench", *PERIOD, [solar_cohort(COHORT)], privacy=PrivacySettings(1.0, max_records_per_turbine_per_bin=cap)
    )
    histograms, inverters = [], 0
    for truth in solar_fleet(plants, 1, rng):
        simulation = simulate_solar_plant_with_truth(truth, PERIOD[0], PERIOD[1], "15min", rng)
        site = load_solar_site_config(write_solar_site(simulation.truth, simulation.frame, folder / truth.name))
        summary = summarise_plant(lambda site=site: read_solar_chunks(site), site, spec)
        assert summary.capped_curve_histogram is not None
        histograms.append(summary.capped_curve_histogram)
        inverters += len(site.inverters)
        print(f"  {truth.name}: {len(site.inverters)} inverters", flush=True)
    return histograms, inverters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=20)
    parser.add_argument("--trials", type=int, default=20, help="noise draws per cohort size and epsilon")
    parser.add_argument("--cap", type=int, default=60, help="max records per inverter per irradiance bin")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    noise_rng, bootstrap = np.random.default_rng([args.seed, 1]), np.random.default_rng([args.seed, 2])
    started = time.perf_counter()
    print(f"simulating {args.plants} plants, 3 months of 15-min records; cap {args.cap} records per inverter per bin")
    with tempfile.TemporaryDirectory() as tmp:
        histograms, inverters = plant_histograms(args.plants, args.cap, rng, Path(tmp))
    base = np.sum(histograms, axis=0)
    print(
        f"\n{args.trials} noise draws each; privacy unit: one inverter; delta 1e-6; seed {args.seed}; "
        f"P50 specific power over {IRRADIANCE_RANGE[0]:.0f}-{IRRADIANCE_RANGE[1]:.0f} W/m^2 [kW/kWp]"
    )
    print(
        f"{'inverters':>9} {'sites':>5} {'epsilon':>7} {'cell noise':>10} {'measured':>9} {'predicted':>9} "
        f"{'ratio':>6} {'withheld':>8} {'usable from (inverters)':>23}"
    )
    for repeat in REPEATS:
        noiseless, sites = base * repeat, len(histograms) * repeat
        for epsilon in EPSILONS:
            # Every site's share is sigma / sqrt(t - 1) with t = the sites: the sum carries sigma, as in the wind bench.
            settings = PrivacySettings(epsilon, max_records_per_turbine_per_bin=args.cap, min_noise_sites=sites)
            spec = solar_spec("dp-bench", *PERIOD, [solar_cohort(COHORT)], privacy=settings)
            irr, grid = spec.solar.irradiance_bins, spec.solar.specific_power_bins
            centres = irr.first_centre + irr.width * np.arange(irr.count)
            rows = np.flatnonzero(
                (centres >= IRRADIANCE_RANGE[0]) & (centres <= IRRADIANCE_RANGE[1]) & (noiseless.sum(axis=1) > 0)
            )
            truth = [histogram_percentiles(noiseless[i], grid.first_centre, grid.width, (0.5,))[0] for i in rows]
            cell_noise = summed_noise_stddev(spec, COHORT, sites)  # every site survives
            errors, stated, withheld = [], [], 0
            for _ in range(args.trials):
                noisy = noiseless + noise_rng.normal(0.0, cell_noise, size=noiseless.shape)
                withheld += published_p50_errors(noisy, rows, truth, grid, cell_noise, bootstrap, errors, stated)
            measured, predicted = rms(errors), rms(stated)
            figures = (
                f"{measured:>9.4f} {predicted:>9.4f} {measured / predicted:>6.2f}"
                if errors
                else f"{'-':>9} {'-':>9} {'-':>6}"
            )
            usable = usable_cohort_units(cell_noise, grid, args.cap)
            print(
                f"{inverters * repeat:>9} {sites:>5} {epsilon:>7g} {cell_noise:>10.0f} {figures} "
                f"{withheld / (args.trials * len(rows)):>8.1%} {usable:>23}",
                flush=True,
            )
    print(f"\n{time.perf_counter() - started:.0f} s (the curve's noiseless P50 at 500 W/m^2: ", end="")
    i500 = int(np.argmin(np.abs(irr.first_centre + irr.width * np.arange(irr.count) - 500.0)))
    print(f"{histogram_percentiles(base[i500], grid.first_centre, grid.width, (0.5,))[0]:.3f} kW/kWp)")


if __name__ == "__main__":
    main()
