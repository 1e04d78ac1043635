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
    frame: pd.DataFrame,
    cohort_index: np.ndarray,
    rated_power_kw: np.ndarray,
    n_cohorts: int,
    spec: spec_pb2.BenchmarkSpec,
) -> dict[int, np.ndarray]:
    """Power-curve sums of every cohort at once, by statistic, each of shape (n_cohorts, n_ws, ...).

    Parameters
    ----------
    frame : DataFrame
        Canonical records.
    cohort_index : ndarray of int
        Cohort of each record (index into the spec's cohorts), -1 for records that do not count.
    rated_power_kw : ndarray
        Rated power of each record's turbine [kW], for the normalised-power histogram.
    n_cohorts : int
        Number of cohorts in the spec.
    spec : BenchmarkSpec
        Source of the wind-speed and normalised-power bin grids.
    """
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    wind_speed = frame["WMET_HorWdSpd"].to_numpy(dtype=np.float64)
    power = frame["WTUR_W"].to_numpy(dtype=np.float64)
    ws_bin = bin_index(wind_speed, ws.first_centre, ws.width, ws.count)
    # One flat (cohort, wind-speed bin) index, so every cohort is summed in the same pass.
    cell = np.where((cohort_index >= 0) & (ws_bin >= 0), cohort_index * ws.count + ws_bin, -1)
    power_bin = clipped_bin_index(power / rated_power_kw, pg.first_centre, pg.width, pg.count)
    n_cells = n_cohorts * ws.count
    count, sum_ws, sum_p, sum_p2 = bin_power_curve(cell, wind_speed, power, n_cells)
    shape = (n_cohorts, ws.count)
    return {
        S.RECORD_COUNT: count.reshape(shape),
        S.SUM_WIND_SPEED: sum_ws.reshape(shape),
        S.SUM_POWER: sum_p.reshape(shape),
        S.SUM_POWER_SQUARED: sum_p2.reshape(shape),
        S.NORMALISED_POWER_HISTOGRAM: power_histogram(cell, power_bin, n_cells, pg.count).reshape(*shape, pg.count),
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
    cohorts = [cohort.name for cohort in spec.cohorts]
    cohort_of = turbine_cohorts(site, spec)
    assets = pd.Index([t.asset_id for t in site.turbines])
    asset_cohort = np.array([cohorts.index(cohort_of[a]) if a in cohort_of else -1 for a in assets] + [-1])
    asset_rated = np.array([t.rated_power_kw for t in site.turbines] + [np.nan])
    start, end = period_bounds(spec)
    sums: dict[int, np.ndarray] = {}
    for chunk in chunks:
        asset = assets.get_indexer(chunk["asset_id"])  # -1 (the appended entry) for unknown turbines
        usable = (
            valid_power_curve_mask(chunk)
            & normal_operation_mask(chunk, site.normal_status_codes)
            & ((chunk["time"] >= start) & (chunk["time"] < end)).to_numpy()
        )
        cohort_index = np.where(usable, asset_cohort[asset], -1)
        for statistic, value in power_curve_sums(chunk, cohort_index, asset_rated[asset], len(cohorts), spec).items():
            sums[statistic] = sums[statistic] + value if statistic in sums else value

    n_ws = spec.wind_speed_bins.count
    counts = sums.get(S.RECORD_COUNT, np.zeros((len(cohorts), n_ws)))
    values = {}
    for layout in layouts:
        c = cohorts.index(layout.cohort)
        if layout.statistic == S.BIN_CONTRIBUTOR:
            value = (counts[c] > 0).astype(np.float64)
        elif layout.statistic == S.COHORT_CONTRIBUTOR:
            value = np.array([float(counts[c].sum() > 0)])
        else:
            value = sums[layout.statistic][c] if layout.statistic in sums else np.zeros(layout.shape)
        values[layout.name] = np.asarray(value, dtype=np.float64).reshape(layout.shape)
    return values
