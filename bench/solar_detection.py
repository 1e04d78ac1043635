"""Solar summaries against injected ground truth: degradation, soiling, clipping, underperforming inverters (issue 21).

Draws a synthetic fleet (default 12 plants x 3 years at 15 min, seed 2121) with the simulator's own
truths (simulations/solar_fleet.py: solar_fleet), simulates and writes each plant's export and
site.toml, then runs each site's own code on it: ``summarise_plant`` over ``read_solar_chunks``,
with a spec over the whole period. It prints per plant the injected against the recovered
degradation rate (and RdTools' 68.2 % interval), soiling loss and clipping share, and for the fleet

  - degradation: mean and largest absolute error, share within 0.2 %/year (target: all, 3 years);
  - soiling loss: mean and largest absolute error, share within 1 percentage point (target: all);
  - underperforming inverters (``underperforming_inverters(summary.inverter_ratio)``, 0.97 of the
    plant's median over the last 90 days) against the injected ones: an inverter is truly
    underperforming when an Underperformance entry covers the whole of the last 90 days; one that
    began inside them is neither counted as positive nor, when flagged, as a false positive.
    Precision and recall, target >= 0.9 each.

The simulator injects underperformance into plants 1 and 2 only (2 positives in any fleet), too few
for a precision or recall. ``--extra-underperforming N`` (default 10: plants 3-12) gives one inverter
of N more plants a DC factor drawn from 0.85-0.95 (the simulator's range for plant 2) over the
whole period, from a generator of its own: the weather and every other truth stay the simulator's
(with N = 0 the fleet is ``write_solar_fleet(folder, plants, years, seed)``'s). A constant factor on
one inverter scales the plant's normalised energy by a constant, which neither year-on-year
degradation nor the soiling fit sees.

Run: PYTHONPATH=. .venv/bin/python bench/solar_detection.py [--plants 12 --years 3 --seed 2121 --out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd

from client.solar.degradation import year_on_year_degradation
from client.solar.ingest import read_solar_chunks
from client.solar.performance import underperforming_inverters
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import RECENT_DAYS, summarise_plant
from server.spec import solar_cohort, solar_spec
from simulations.solar_fleet import (
    SolarPlantTruth,
    Underperformance,
    simulate_solar_plant_with_truth,
    soiling_ratio,
    solar_fleet,
    write_solar_site,
)

START = "2022-01-01"
DEGRADATION_TOLERANCE = 0.2  # [%/year]
SOILING_TOLERANCE = 1.0  # [percentage points]
DETECTION_TARGET = 0.9


def with_extra_underperformance(
    fleet: list[SolarPlantTruth], extra: int, rng: np.random.Generator
) -> list[SolarPlantTruth]:
    """The fleet with one whole-period underperforming inverter (DC factor 0.85-0.95) in plants 3 to 2 + ``extra``."""
    out = list(fleet)
    for i in range(2, min(2 + extra, len(fleet))):
        plant = out[i]
        inverter = plant.inverters[int(rng.integers(len(plant.inverters)))]
        case = Underperformance(inverter, round(float(rng.uniform(0.85, 0.95)), 3))
        out[i] = replace(plant, underperforming=(*plant.underperforming, case))
    return out


def write_fleet(folder: Path, plants: int, years: int, seed: int, extra: int) -> tuple[list[SolarPlantTruth], str]:
    """Draw, simulate and write the bench's fleet as write_solar_fleet does; return the truths and the period's end."""
    rng = np.random.default_rng(seed)
    begin = pd.Timestamp(START, tz="UTC")
    end = (begin + pd.DateOffset(years=years)).isoformat()
    planned = with_extra_underperformance(
        solar_fleet(plants, years, rng, START), extra, np.random.default_rng([seed, 21])
    )
    truths = []
    for i, plant in enumerate(planned):
        began = time.perf_counter()
        simulation = simulate_solar_plant_with_truth(plant, begin.isoformat(), end, "15min", rng)
        write_solar_site(simulation.truth, simulation.frame, folder / plant.name)
        truths.append(simulation.truth)
        print(
            f"  simulated {plant.name} ({i + 1}/{plants}): {len(plant.inverters)} inverters, "
            f"{len(simulation.frame):,} records in {time.perf_counter() - began:.1f} s",
            flush=True,
        )
    settings = {"seed": seed, "years": years, "start": begin.isoformat(), "end": end, "extra_underperforming": extra}
    plants_json = [{**asdict(t), "gamma_pdc_per_c": t.gamma_pdc_per_c} for t in truths]
    (folder / "ground_truth.json").write_text(
        json.dumps({**settings, "plants": plants_json}, indent=1), encoding="utf-8"
    )
    return truths, end


def truly_underperforming(truth: SolarPlantTruth, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Per inverter: underperforming over the whole of the last RECENT_DAYS, and only over part of them."""
    recent = end - pd.Timedelta(days=RECENT_DAYS)
    whole, part = np.zeros(len(truth.inverters), dtype=bool), np.zeros(len(truth.inverters), dtype=bool)
    for case in truth.underperforming:
        k = truth.inverters.index(case.inverter)
        start = pd.Timestamp(case.start, tz="UTC") if case.start else None
        if start is None or start <= recent:
            whole[k] = True
        elif start < end:
            part[k] = True
    return whole, part & ~whole


def degradation_with_true_soiling(daily: pd.DataFrame, truth: SolarPlantTruth) -> float:
    """Year-on-year rate [%/year] of the plant's normalised energy with the injected soiling divided out.

    The injected soiling ratio at each local solar day's noon replaces RdTools' SRR profile: where this
    rate is right and the summary's is not, the soiling profile is what biased it.
    """
    # The index is each local solar date at 00:00 UTC: its noon is longitude / 15 hours earlier in UTC.
    noon = pd.Timedelta(hours=12.0 - truth.longitude / 15.0)
    ratio = soiling_ratio(pd.DatetimeIndex(daily.index + noon), truth)
    estimate = year_on_year_degradation(daily["normalised"] / ratio, np.random.default_rng(0))
    return estimate.rate_pct_per_year if estimate else np.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plants", type=int, default=12)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2121)
    parser.add_argument("--out", type=Path, help="keep the fleet here (default: a temporary folder)")
    parser.add_argument(
        "--extra-underperforming",
        type=int,
        default=10,
        help="plants beyond the simulator's two that get one whole-period underperforming inverter",
    )
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"simulating {args.plants} plants x {args.years} years at 15 min (seed {args.seed}) into {folder}")
        truths, end = write_fleet(folder, args.plants, args.years, args.seed, args.extra_underperforming)
        spec = solar_spec("solar-detection", pd.Timestamp(START, tz="UTC").isoformat(), end, [solar_cohort("all")])
        rows, inverter_rows = [], []
        for truth in truths:
            site = load_solar_site_config(folder / truth.name / "site.toml")
            started = time.perf_counter()
            summary = summarise_plant(lambda site=site: read_solar_chunks(site), site, spec)
            seconds = time.perf_counter() - started
            print(f"  summarised {truth.name} in {seconds:.1f} s", flush=True)
            degradation, soiling = summary.degradation, summary.soiling
            rows.append(
                {
                    "plant": truth.name,
                    "technology": truth.module_technology,
                    "mounting": truth.mounting,
                    "schedule": truth.soiling_schedule,
                    "climate": truth.climate_zone,
                    "inverters": len(truth.inverters),
                    "dc_ac": truth.dc_capacity_kw[0] / truth.ac_capacity_kw[0],
                    "tilt_error": truth.sensor_tilt_error_deg,
                    "cleanings": len(truth.cleaning_dates),
                    "deg_true": truth.degradation_pct_per_year,
                    "deg": degradation.rate_pct_per_year if degradation else np.nan,
                    "deg_low": degradation.ci_low if degradation else np.nan,
                    "deg_high": degradation.ci_high if degradation else np.nan,
                    "soil_true": truth.soiling_loss_pct,
                    "soil": soiling.loss_pct if soiling else np.nan,
                    "clip_true": truth.clipping_share,
                    "clip": summary.clipping_share,
                    "mid_period_fault": any(c.start for c in truth.underperforming),
                    "deg_true_soiling": degradation_with_true_soiling(summary.daily, truth),
                }
            )
            whole, part = truly_underperforming(truth, pd.Timestamp(end))
            flagged = underperforming_inverters(summary.inverter_ratio)
            factor = {c.inverter: c.factor for c in truth.underperforming}
            for k, inverter in enumerate(truth.inverters):
                inverter_rows.append(
                    {
                        "plant": truth.name,
                        "inverter": inverter,
                        "inverters": len(truth.inverters),
                        "factor": factor.get(inverter, 1.0),
                        "ratio": summary.inverter_ratio[k] / np.nanmedian(summary.inverter_ratio),
                        "true": whole[k],
                        "partial": part[k],
                        "flagged": bool(flagged[k]),
                    }
                )
    print(f"\nbench ran in {time.perf_counter() - began:.0f} s")
    _report(pd.DataFrame(rows), pd.DataFrame(inverter_rows))


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _report(plants: pd.DataFrame, inverters: pd.DataFrame) -> None:
    p = plants.assign(deg_error=plants["deg"] - plants["deg_true"], soil_error=plants["soil"] - plants["soil_true"])
    print(
        f"\n{'plant':<9} {'technology':<9} {'mounting':<11} {'cleaning':<9} {'inv':>3} "
        f"{'degradation %/yr: true  found [68% interval]':>44} {'soiling loss %: true found':>27} "
        f"{'clipping: true measured':>24}"
    )
    for r in p.itertuples():
        inside = "in " if r.deg_low <= r.deg_true <= r.deg_high else "out"
        print(
            f"{r.plant:<9} {r.technology:<9} {r.mounting:<11} {r.schedule:<9} {r.inverters:>3} "
            f"{r.deg_true:>20.2f} {r.deg:6.2f} [{r.deg_low:6.2f}, {r.deg_high:6.2f}] {inside} "
            f"{r.soil_true:>18.2f} {r.soil:6.2f} {r.clip_true:>16.4f} {r.clip:8.4f}"
        )

    deg = p["deg_error"].abs()
    within = float((deg <= DEGRADATION_TOLERANCE).sum() / len(p))  # a plant without an estimate is not within
    print(f"\ndegradation rate, {len(p)} plants ({int(deg.notna().sum())} with an estimate)")
    print(
        f"  |found - true|: mean {deg.mean():.3f}, largest {deg.max():.3f} %/year; within {DEGRADATION_TOLERANCE}: "
        f"{int((deg <= DEGRADATION_TOLERANCE).sum())}/{len(p)} = {within:.0%}  target all: {_verdict(within == 1.0)}"
    )
    inside = ((p["deg_low"] <= p["deg_true"]) & (p["deg_true"] <= p["deg_high"])).sum()
    print(f"  truth inside RdTools' 68.2 % interval: {int(inside)}/{len(p)}")
    soil = p["soil_error"].abs()
    within_soil = float((soil <= SOILING_TOLERANCE).sum() / len(p))
    print(f"\nsoiling loss, {len(p)} plants ({int(soil.notna().sum())} with an estimate)")
    print(
        f"  |found - true|: mean {soil.mean():.2f}, largest {soil.max():.2f} percentage points; within "
        f"{SOILING_TOLERANCE:g}: {int((soil <= SOILING_TOLERANCE).sum())}/{len(p)} = {within_soil:.0%}  "
        f"target all: {_verdict(within_soil == 1.0)}"
    )
    clip = (p["clip"] - p["clip_true"]).abs()
    print(f"\nclipping share: |measured - true| mean {clip.mean():.4f}, largest {clip.max():.4f}")

    missed = p[(deg > DEGRADATION_TOLERANCE) | deg.isna() | (soil > SOILING_TOLERANCE) | soil.isna()]
    if len(missed):
        print("\nwhere the estimates miss (mean |error| by group: degradation %/year, soiling points)")
        for column in ("schedule", "mounting", "technology", "climate"):
            groups = p.groupby(column)[["deg_error", "soil_error"]].agg(lambda s: s.abs().mean())
            print(
                f"  by {column}: "
                + "; ".join(f"{k} {v.deg_error:.2f} / {v.soil_error:.2f}" for k, v in groups.iterrows())
            )
        for r in missed.itertuples():
            notes = [f"{r.cleanings} cleanings", f"climate {r.climate}", f"DC/AC {r.dc_ac:.2f}"]
            if r.tilt_error:
                notes.append(f"sensor tilted {r.tilt_error:+.1f} deg")
            if r.mid_period_fault:
                notes.append("an inverter underperforms from mid-period on (a step the plant's series sees)")
            print(
                f"  {r.plant}: degradation error {r.deg_error:+.2f} %/year, soiling error {r.soil_error:+.2f} points "
                f"({r.schedule}, {r.mounting}, {r.technology}; {', '.join(notes)}); with the injected soiling "
                f"divided out instead of RdTools' profile: {r.deg_true_soiling - r.deg_true:+.2f} %/year"
            )
        alt = (p["deg_true_soiling"] - p["deg_true"]).abs()
        print(
            f"  every plant with the injected soiling divided out: within {DEGRADATION_TOLERANCE} "
            f"{int((alt <= DEGRADATION_TOLERANCE).sum())}/{len(p)}, mean |error| {alt.mean():.3f} %/year"
        )

    inv = inverters[~inverters["partial"]]
    tp = int((inv["flagged"] & inv["true"]).sum())
    fp = int((inv["flagged"] & ~inv["true"]).sum())
    fn = int((~inv["flagged"] & inv["true"]).sum())
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    print(
        f"\nunderperforming inverters (ratio < 0.97 x the plant's median over the last {RECENT_DAYS} days), "
        f"{len(inverters)} inverters, {int(inverters['true'].sum())} truly underperforming"
        + (
            f", {int(inverters['partial'].sum())} only from inside the last {RECENT_DAYS} days (left out)"
            if inverters["partial"].any()
            else ""
        )
    )
    print(f"  true positives {tp}, false positives {fp}, false negatives {fn}")
    print(
        f"  precision {precision:.2f} ({_verdict(precision >= DETECTION_TARGET)}), recall {recall:.2f} "
        f"({_verdict(recall >= DETECTION_TARGET)})  target >= {DETECTION_TARGET} each"
    )
    for r in inverters[inverters["true"] | inverters["flagged"] | inverters["partial"]].itertuples():
        kind = "true" if r.true else ("partial" if r.partial else "healthy")
        print(
            f"    {r.plant} {r.inverter} ({r.inverters} inverters): DC factor {r.factor:.3f}, ratio / plant median "
            f"{r.ratio:.4f}, {kind}, {'flagged' if r.flagged else 'not flagged'}"
        )
    healthy = inverters[~inverters["true"] & ~inverters["partial"]]
    print(f"  healthy inverters' ratio / plant median: {healthy['ratio'].min():.4f} to {healthy['ratio'].max():.4f}")


if __name__ == "__main__":
    main()
