"""Building the BenchmarkSpec the aggregator publishes for a benchmark period."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from protos.codec import CONTRACT
from protos.fleetbench.v1 import spec_pb2

S = spec_pb2.Statistic
RECORD_PERIOD = pd.Timedelta(minutes=10)
# Largest |value| a single 10-min record may have, matching client/schema.py's valid ranges.
MAX_WIND_SPEED = 60.0  # [m/s]
MAX_ABS_POWER = 3.0e4  # [kW]
# Fixed-point exponents: finer than the float64 resolution of any sum above 2^13 kW (power) or
# 2^21 kW^2, so the secure sum matches a pooled float64 computation to ~1e-12 relative.
SCALE_EXPONENTS = {
    S.RECORD_COUNT: 0,
    S.SUM_WIND_SPEED: 40,
    S.SUM_POWER: 40,
    S.SUM_POWER_SQUARED: 32,
    S.NORMALISED_POWER_HISTOGRAM: 0,
    S.BIN_CONTRIBUTOR: 0,
    S.COHORT_CONTRIBUTOR: 0,
}
UNITS = {
    S.RECORD_COUNT: "1",
    S.SUM_WIND_SPEED: "m/s",
    S.SUM_POWER: "kW",
    S.SUM_POWER_SQUARED: "kW^2",
    S.NORMALISED_POWER_HISTOGRAM: "1",
    S.BIN_CONTRIBUTOR: "1",
    S.COHORT_CONTRIBUTOR: "1",
}


def power_curve_spec(
    spec_id: str,
    period_start: str,
    period_end: str,
    turbine_models: Sequence[str],
    k_min_operators: int = 3,
    max_turbines_per_site: int = 500,
) -> spec_pb2.BenchmarkSpec:
    """A spec for one industry power curve per turbine model.

    Wind-speed bins are 0.5 m/s wide and centred on multiples of 0.5 m/s from 0 to 30 m/s
    (IEC 61400-12-1:2017, 9.1); the normalised-power histogram has 0.01 p.u. bins centred on
    multiples of 0.01 p.u. from -0.1 to 1.3 p.u. (round values such as a 0.5 p.u. curtailment limit sit
    mid-bin, not on an edge), values beyond falling into the end bins.

    Parameters
    ----------
    spec_id : str
        Name of the benchmark, e.g. "power-curve-2025-Q1".
    period_start, period_end : str
        ISO 8601 UTC bounds of the benchmark period, [start, end).
    turbine_models : sequence of str
        One cohort per model (windpowerlib turbine-type names, e.g. "E-82/2300").
    k_min_operators : int
        Minimum number of contributing operators for a released cell.
    max_turbines_per_site : int
        Largest fleet one site may bring; sets every block's per-site bound.
    """
    if k_min_operators < 1:
        raise ValueError(f"k_min_operators must be at least 1, got {k_min_operators}")
    start, end = pd.Timestamp(period_start), pd.Timestamp(period_end)
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError(f"period must be two UTC timestamps with start < end, got {period_start!r}, {period_end!r}")
    max_records = max_turbines_per_site * math.ceil((end - start) / RECORD_PERIOD)
    spec = spec_pb2.BenchmarkSpec(
        contract=CONTRACT,
        spec_id=spec_id,
        period=spec_pb2.Period(start=period_start, end=period_end),
        wind_speed_bins=spec_pb2.BinGrid(first_centre=0.0, width=0.5, count=61, unit="m/s"),
        normalised_power_bins=spec_pb2.BinGrid(first_centre=-0.1, width=0.01, count=141, unit="1"),
        k_min_operators=k_min_operators,
        max_turbines_per_site=max_turbines_per_site,
    )
    n_ws, n_p = spec.wind_speed_bins.count, spec.normalised_power_bins.count
    bounds = {
        S.RECORD_COUNT: max_records,
        S.SUM_WIND_SPEED: max_records * MAX_WIND_SPEED,
        S.SUM_POWER: max_records * MAX_ABS_POWER,
        S.SUM_POWER_SQUARED: max_records * MAX_ABS_POWER**2,
        S.NORMALISED_POWER_HISTOGRAM: max_records,
        S.BIN_CONTRIBUTOR: 1,
        S.COHORT_CONTRIBUTOR: 1,
    }
    shapes = {S.NORMALISED_POWER_HISTOGRAM: [n_ws, n_p], S.COHORT_CONTRIBUTOR: [1]}
    for model in dict.fromkeys(turbine_models):
        spec.cohorts.add(name=model, turbine_model=model)
        for statistic, bound in bounds.items():
            spec.blocks.add(
                cohort=model,
                statistic=statistic,
                shape=shapes.get(statistic, [n_ws]),
                unit=UNITS[statistic],
                scale_exponent=SCALE_EXPONENTS[statistic],
                per_site_bound=float(bound),
            )
    return spec
