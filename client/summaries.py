"""A site's contribution to a benchmark: the spec's blocks, computed from its canonical frames.

Everything here stays on site; only :func:`protos.codec.encode_blocks` of ``SiteSummary.values``
is sent, and only through secure aggregation. The per-turbine filter report never leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from client.air_density import air_density, normalise_power, normalise_wind_speed, pressure_at_elevation
from client.filters import (
    FILTERS,
    BinOutlierStatistics,
    TurbineArrays,
    bin_outlier_flag,
    check_filters,
    hold_back_open_runs,
)
from client.power_curve import bin_index, bin_power_curve, clipped_bin_index, power_histogram
from client.site_config import SiteConfig, Turbine
from protos.codec import block_layouts
from protos.fleetbench.v1 import spec_pb2

S = spec_pb2.Statistic
ChunkSource = Callable[[], Iterable[pd.DataFrame]]


@dataclass(frozen=True)
class SiteSummary:
    """The blocks a site would send, and what its filters did (which stays on site)."""

    values: dict[str, np.ndarray]
    filter_report: pd.DataFrame  # index asset_id; columns records, one per filter, used


def in_cohort(turbine: Turbine, cohort: spec_pb2.Cohort) -> bool:
    """Whether ``turbine`` belongs to ``cohort`` (by model, or by its bands; 0 leaves a bound open)."""
    if cohort.turbine_model:
        return turbine.model == cohort.turbine_model

    def within(value: float, low: float, high: float) -> bool:
        return (low == 0 or value >= low) and (high == 0 or value < high)

    return (
        within(turbine.rated_power_kw, cohort.rated_power_kw_min, cohort.rated_power_kw_max)
        and within(turbine.specific_power, cohort.specific_power_min, cohort.specific_power_max)
        and (not cohort.iec_wind_class or turbine.iec_wind_class.startswith(cohort.iec_wind_class))
    )


def cohort_membership(site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    """Boolean matrix (turbines x cohorts): which of the spec's cohorts each turbine belongs to."""
    return np.array([[in_cohort(t, c) for c in spec.cohorts] for t in site.turbines], dtype=bool).reshape(
        len(site.turbines), len(spec.cohorts)
    )


def period_bounds(spec: spec_pb2.BenchmarkSpec) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The spec's period as UTC timestamps, [start, end)."""
    return pd.Timestamp(spec.period.start).tz_convert("UTC"), pd.Timestamp(spec.period.end).tz_convert("UTC")


def record_air_density(frame: pd.DataFrame, site: SiteConfig) -> np.ndarray:
    """Air density of each record [kg/m^3] from temperature, pressure (or elevation) and humidity."""
    temperature_k = frame["WMET_EnvTmp"].to_numpy(dtype=np.float64) + 273.15 if "WMET_EnvTmp" in frame else np.nan
    if "WMET_EnvPres" in frame:
        pressure = frame["WMET_EnvPres"].to_numpy(dtype=np.float64)
        if site.elevation_m is not None:
            pressure = np.where(np.isfinite(pressure), pressure, pressure_at_elevation(site.elevation_m))
    else:
        pressure = pressure_at_elevation(site.elevation_m)
    humidity = frame["WMET_EnvHum"].fillna(0.5).to_numpy(dtype=np.float64) if "WMET_EnvHum" in frame else 0.5
    return np.broadcast_to(air_density(temperature_k, pressure, humidity), (len(frame),))


@dataclass(frozen=True)
class _Turbines:
    """The site's turbine metadata as arrays, indexed like ``site.turbines``."""

    ids: pd.Index
    rated_kw: np.ndarray
    area_m2: np.ndarray
    stall: np.ndarray
    membership: np.ndarray

    @classmethod
    def of(cls, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> _Turbines:
        return cls(
            ids=pd.Index([t.asset_id for t in site.turbines]),
            rated_kw=np.array([t.rated_power_kw for t in site.turbines]),
            area_m2=np.array([t.swept_area_m2 for t in site.turbines]),
            stall=np.array([t.regulation == "stall" for t in site.turbines]),
            membership=cohort_membership(site, spec),
        )


def _row_flags(
    chunk: pd.DataFrame, arrays: TurbineArrays, spec: spec_pb2.BenchmarkSpec, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    in_period = ((chunk["time"] >= start) & (chunk["time"] < end)).to_numpy()
    flags = {f.name: FILTERS[f.name].flag(chunk, arrays, f.parameters) for f in spec.filters if FILTERS[f.name].flag}
    return in_period, flags


@dataclass(frozen=True)
class PreparedRecords:
    """One chunk's records, flagged and density-normalised, ready to bin (arrays align with rows).

    Pitch-regulated turbines are binned on V_n = V (rho / rho0)^(1/3); stall-regulated ones keep
    V and report P_n = P rho0 / rho (IEC 61400-12-1:2017, 9.1.5).
    """

    frame: pd.DataFrame  # the canonical records themselves
    asset: np.ndarray  # index into site.turbines
    in_period: np.ndarray
    flags: dict[str, np.ndarray]
    keep: np.ndarray  # in the period and flagged by no filter
    wind_speed: np.ndarray  # [m/s], normalised
    power: np.ndarray  # [kW], normalised
    power_per_unit: np.ndarray  # [-]
    power_per_area: np.ndarray  # [W/m^2]


def prepared_records(
    read_chunks: ChunkSource, site: SiteConfig, spec: spec_pb2.BenchmarkSpec
) -> Iterable[PreparedRecords]:
    """Flag and normalise the site's records, chunk by chunk, as the spec asks.

    With a ``bin_outlier`` filter the export is read twice: once for each turbine's wind-speed
    statistics per power bin (over the records the other filters pass), once to flag.
    """
    check_filters((f.name, f.parameters) for f in spec.filters)
    turbines = _Turbines.of(site, spec)
    start, end = period_bounds(spec)
    rho0 = spec.reference_air_density
    bin_filter = next((f for f in spec.filters if f.name == "bin_outlier"), None)
    statistics = BinOutlierStatistics(len(site.turbines), bin_filter.parameters) if bin_filter else None

    def chunks() -> Iterable[tuple[pd.DataFrame, np.ndarray, TurbineArrays]]:
        for chunk, asset in hold_back_open_runs(read_chunks(), turbines.ids):
            yield chunk, asset, TurbineArrays(asset, turbines.rated_kw[asset], site.normal_status_codes)

    if statistics is not None:
        for chunk, asset, arrays in chunks():
            in_period, flags = _row_flags(chunk, arrays, spec, start, end)
            keep = in_period & ~np.logical_or.reduce(list(flags.values()), initial=False)
            per_unit = chunk["WTUR_W"].to_numpy() / arrays.rated_power_kw
            statistics.add(asset, chunk["WMET_HorWdSpd"].to_numpy(dtype=np.float64), per_unit, keep)

    for chunk, asset, arrays in chunks():
        in_period, flags = _row_flags(chunk, arrays, spec, start, end)
        if statistics is not None:
            flags["bin_outlier"] = bin_outlier_flag(chunk, arrays, statistics)
        density = record_air_density(chunk, site)
        stall = turbines.stall[asset]
        wind_speed = chunk["WMET_HorWdSpd"].to_numpy(dtype=np.float64)
        power = chunk["WTUR_W"].to_numpy(dtype=np.float64)
        wind_speed = np.where(stall, wind_speed, normalise_wind_speed(wind_speed, density, rho0))
        power = np.where(stall, normalise_power(power, density, rho0), power)
        yield PreparedRecords(
            frame=chunk,
            asset=asset,
            in_period=in_period,
            flags=flags,
            keep=in_period & ~np.logical_or.reduce(list(flags.values()), initial=False),
            wind_speed=wind_speed,
            power=power,
            power_per_unit=power / turbines.rated_kw[asset],
            power_per_area=power * 1e3 / turbines.area_m2[asset],
        )


SUMMED = (
    S.RECORD_COUNT,
    S.SUM_WIND_SPEED,
    S.SUM_POWER,
    S.SUM_POWER_SQUARED,
    S.SUM_POWER_PER_UNIT,
    S.SUM_POWER_PER_UNIT_SQUARED,
    S.SUM_POWER_PER_AREA,
)


def cohort_sums(
    records: PreparedRecords, membership: np.ndarray, spec: spec_pb2.BenchmarkSpec
) -> dict[int, np.ndarray]:
    """Per-bin sums of every cohort, by statistic, each of shape (n_cohorts, n_ws[, n_p]).

    Parameters
    ----------
    records : PreparedRecords
        One chunk, flagged and normalised.
    membership : ndarray of bool
        Turbines x cohorts (:func:`cohort_membership`).
    spec : BenchmarkSpec
        Source of the bin grids.
    """
    ws_grid, p_grid = spec.wind_speed_bins, spec.normalised_power_bins
    ws_bin = bin_index(records.wind_speed, ws_grid.first_centre, ws_grid.width, ws_grid.count)
    power_bin = clipped_bin_index(records.power_per_unit, p_grid.first_centre, p_grid.width, p_grid.count)
    n_cohorts, n_ws = membership.shape[1], ws_grid.count
    out = {statistic: np.zeros((n_cohorts, n_ws)) for statistic in SUMMED}
    out[S.NORMALISED_POWER_HISTOGRAM] = np.zeros((n_cohorts, n_ws, p_grid.count))
    for c in range(n_cohorts):
        cell = np.where(records.keep & membership[records.asset, c], ws_bin, -1)
        count, sum_ws, sum_p, sum_p2 = bin_power_curve(cell, records.wind_speed, records.power, n_ws)
        _, sum_area, sum_pu, sum_pu2 = bin_power_curve(cell, records.power_per_area, records.power_per_unit, n_ws)
        for statistic, value in zip(SUMMED, (count, sum_ws, sum_p, sum_p2, sum_pu, sum_pu2, sum_area), strict=True):
            out[statistic][c] = value
        out[S.NORMALISED_POWER_HISTOGRAM][c] = power_histogram(cell, power_bin, n_ws, p_grid.count)
    return out


def summarise_site(read_chunks: ChunkSource, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> SiteSummary:
    """Every block of ``spec`` for this site, streamed over canonical chunks, and the filter report.

    A record counts when it lies in the spec's period, no filter of the spec flags it and its
    turbine belongs to the cohort (see :func:`prepared_records`).

    Parameters
    ----------
    read_chunks : callable
        Returns a fresh iterable of canonical frames each time it is called.
    site : SiteConfig
        The site's configuration (turbine metadata, status codes, elevation).
    spec : BenchmarkSpec
        What to compute.
    """
    layouts = block_layouts(spec)
    membership = cohort_membership(site, spec)
    ids = pd.Index([t.asset_id for t in site.turbines], name="asset_id")
    sums: dict[int, np.ndarray] = {}
    report = pd.DataFrame(0, index=ids, columns=["records", *[f.name for f in spec.filters], "used"])
    for records in prepared_records(read_chunks, site, spec):
        for statistic, value in cohort_sums(records, membership, spec).items():
            sums[statistic] = sums[statistic] + value if statistic in sums else value
        report["records"] += np.bincount(records.asset[records.in_period], minlength=len(ids))
        for name, flagged in records.flags.items():
            report[name] += np.bincount(records.asset[records.in_period & flagged], minlength=len(ids))
        report["used"] += np.bincount(records.asset[records.keep], minlength=len(ids))

    n_cohorts, n_ws = len(spec.cohorts), spec.wind_speed_bins.count
    counts = sums.get(S.RECORD_COUNT, np.zeros((n_cohorts, n_ws)))
    cohort_index = {cohort.name: i for i, cohort in enumerate(spec.cohorts)}
    derived = {
        S.BIN_CONTRIBUTOR: lambda c: (counts[c] > 0).astype(np.float64),
        S.COHORT_CONTRIBUTOR: lambda c: np.array([float(counts[c].sum() > 0)]),
        S.SQUARED_RECORD_COUNT: lambda c: counts[c] ** 2,
        S.SQUARED_COHORT_RECORD_COUNT: lambda c: np.array([counts[c].sum() ** 2]),
    }
    values = {}
    for layout in layouts:
        c = cohort_index[layout.cohort]
        if layout.statistic in derived:
            value = derived[layout.statistic](c)
        else:
            value = sums[layout.statistic][c] if layout.statistic in sums else np.zeros(layout.shape)
        values[layout.name] = np.asarray(value, dtype=np.float64).reshape(layout.shape)
    return SiteSummary(values, report)
