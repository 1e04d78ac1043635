"""A site's contribution to a benchmark: the spec's blocks, computed from its canonical frames.

Everything here stays on site; only :func:`protos.codec.encode_blocks` of the result is sent,
and only through secure aggregation.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from client.power_curve import bin_index, bin_power_curve, clipped_bin_index, power_histogram
from client.quality import normal_operation_mask, valid_power_curve_mask
from client.site_config import SiteConfig
from protos.codec import block_layouts
from protos.fleetbench.v1 import spec_pb2

S = spec_pb2.Statistic


def turbine_cohorts(site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> dict[str, str]:
    """Cohort name of each of the site's turbines that belongs to one of the spec's cohorts."""
    by_model = {cohort.turbine_model: cohort.name for cohort in spec.cohorts}
    return {t.asset_id: by_model[t.model] for t in site.turbines if t.model in by_model}


def period_bounds(spec: spec_pb2.BenchmarkSpec) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The spec's period as UTC timestamps, [start, end)."""
    return pd.Timestamp(spec.period.start).tz_convert("UTC"), pd.Timestamp(spec.period.end).tz_convert("UTC")


def power_curve_sums(
    frame: pd.DataFrame, rated_power_kw: np.ndarray, spec: spec_pb2.BenchmarkSpec
) -> dict[int, np.ndarray]:
    """Power-curve sums of the records of one cohort, by statistic.

    Parameters
    ----------
    frame : DataFrame
        Canonical records already masked for quality, all of one cohort.
    rated_power_kw : ndarray
        Rated power of each record's turbine [kW], for the normalised-power histogram.
    spec : BenchmarkSpec
        Source of the wind-speed and normalised-power bin grids.

    """
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    wind_speed = frame["WMET_HorWdSpd"].to_numpy(dtype=np.float64)
    power = frame["WTUR_W"].to_numpy(dtype=np.float64)
    ws_bin = bin_index(wind_speed, ws.first_centre, ws.width, ws.count)
    power_bin = clipped_bin_index(power / rated_power_kw, pg.first_centre, pg.width, pg.count)
    count, sum_ws, sum_p, sum_p2 = bin_power_curve(ws_bin, wind_speed, power, ws.count)
    return {
        S.RECORD_COUNT: count,
        S.SUM_WIND_SPEED: sum_ws,
        S.SUM_POWER: sum_p,
        S.SUM_POWER_SQUARED: sum_p2,
        S.NORMALISED_POWER_HISTOGRAM: power_histogram(ws_bin, power_bin, ws.count, pg.count),
    }


def summarise_site(
    chunks: Iterable[pd.DataFrame], site: SiteConfig, spec: spec_pb2.BenchmarkSpec
) -> dict[str, np.ndarray]:
    """Every block of ``spec`` for this site, accumulated over canonical chunks.

    Records count when time, wind speed and power are valid, the status is normal operation,
    the time lies in the spec's period and the turbine belongs to one of the spec's cohorts.

    Returns
    -------
    dict
        Block name -> array with the block's shape.

    """
    layouts = block_layouts(spec)
    cohort_of = turbine_cohorts(site, spec)
    rated = {t.asset_id: t.rated_power_kw for t in site.turbines}
    start, end = period_bounds(spec)
    sums: dict[tuple[str, int], np.ndarray] = {}
    for chunk in chunks:
        cohort = chunk["asset_id"].map(cohort_of)
        in_period = ((chunk["time"] >= start) & (chunk["time"] < end)).to_numpy()
        usable = (
            valid_power_curve_mask(chunk)
            & normal_operation_mask(chunk, site.normal_status_codes)
            & in_period
            & cohort.notna().to_numpy()
        )
        for name, rows in chunk[usable].groupby(cohort[usable], sort=False):
            rated_kw = rows["asset_id"].map(rated).to_numpy(dtype=np.float64)
            for statistic, value in power_curve_sums(rows, rated_kw, spec).items():
                key = (str(name), statistic)
                sums[key] = sums[key] + value if key in sums else value

    values = {}
    for layout in layouts:
        count = sums.get((layout.cohort, S.RECORD_COUNT), np.zeros(spec.wind_speed_bins.count))
        if layout.statistic == S.BIN_CONTRIBUTOR:
            value = (count > 0).astype(np.float64)
        elif layout.statistic == S.COHORT_CONTRIBUTOR:
            value = np.array([float(count.sum() > 0)])
        else:
            value = sums.get((layout.cohort, layout.statistic), np.zeros(layout.shape))
        values[layout.name] = np.asarray(value, dtype=np.float64).reshape(layout.shape)
    return values
