"""The curve diagnosis against the faults a synthetic fleet injects: anemometer offsets and underperformance."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from client.curve_diagnosis import diagnose_curve
from client.ingest import read_canonical_chunks
from client.report import turbine_power_curves
from client.site_config import load_site_config
from simulations.fleet import FleetConfig, generate_fleet
from simulations.fleet_faults import FaultConfig
from simulations.onboarding import fleet_spec, run_release_in_process

FAULTS = FaultConfig(
    underperformance_probability=0.3,
    underperformance_levels=(0.03, 0.05),
    yaw_probability=0.0,
    anemometer_probability=0.3,
    anemometer_offsets_ms=(0.5,),
    bearing_fault_probability=0.0,
)
CONFIG = FleetConfig(operators=6, turbines_per_operator=5, months=2, seed=21, models=("E-82/2300",), faults=FAULTS)


def test_each_injected_fault_gets_its_shape_and_healthy_turbines_none(tmp_path):
    sites = generate_fleet(CONFIG, tmp_path)
    spec = fleet_spec(CONFIG)
    release = run_release_in_process(sites, spec, send=False)
    curve = next(c for c in release.curves if c.cohort == "E-82/2300")
    bins = [b for b in curve.bins if not b.suppressed and b.HasField("mean_power_per_unit")]
    cohort_v = np.array([b.mean_wind_speed for b in bins])
    cohort_p = np.array([b.mean_power_per_unit for b in bins])
    typical = next(
        d.p50 for d in release.distributions if d.cohort == curve.cohort and d.indicator == "performance_index"
    )
    pairs = []
    for path in sites:
        site = load_site_config(path)
        truth = {t["asset_id"]: t for t in json.loads((path.parent / "turbines.json").read_text())}
        for asset_id, own in turbine_power_curves(lambda site=site: read_canonical_chunks(site), site, spec).items():
            injected = [
                k for k, f in (("shift", "anemometer_offset_ms"), ("scale", "underperformance")) if truth[asset_id][f]
            ]
            if len(injected) > 1:
                continue  # both at once: either name is right
            found = diagnose_curve(own.wind_speed, own.power_per_unit, cohort_v, cohort_p, typical)
            pairs.append((injected[0] if injected else "none", found.shape))
            if found.shape == "shift":
                assert abs(found.shift_ms - truth[asset_id]["anemometer_offset_ms"]) < 0.15
    truths = Counter(t for t, _ in pairs)
    assert truths["shift"] >= 4 and truths["scale"] >= 4 and truths["none"] >= 10  # enough of each to judge
    for shape in ("none", "shift", "scale"):
        hits = sum(t == f == shape for t, f in pairs)
        recall, precision = hits / truths[shape], hits / max(1, sum(f == shape for _, f in pairs))
        assert recall >= 0.9 and precision >= 0.9, (shape, pairs)
