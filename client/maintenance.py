"""A site's maintenance indicators (round 2): the blocks it sends and the per-turbine values it keeps.

Round 1 adds, beside the power-curve sums, each cohort's normal-behaviour-model sums over the
training window (:class:`client.summaries.ModelTraining`). Round 2 reads the export once more
against the round-1 release and computes, per turbine, the performance index, static yaw
misalignment, availability, model residuals and failures; only distributions and sums of them
leave (through secure aggregation). The per-turbine values and the daily residuals stay on site,
where the operator's flags are made from them (:mod:`client.flags`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from client.filters import FILTERS, TurbineArrays, check_filters
from client.indicators import (
    YawSums,
    age_band,
    availability,
    expected_power_per_unit,
    failure_events,
    histogram_counts,
    per_turbine_sum,
    static_yaw_misalignment,
    turbine_intercepts,
)
from client.schema import STATUS
from client.site_config import SiteConfig
from client.streaming import ChunkSource, RecordSpill, hold_back_open_runs
from client.summaries import (
    ModelTraining,
    SiteTurbines,
    density_normalised,
    model_rows,
    normal_status,
    period_bounds,
)
from protos.codec import block_layouts
from protos.domain import AVAILABILITY_CATEGORIES, JULIAN_YEAR_HOURS, KWH_PER_MWH, RECORD_HOURS
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import BlockKey

S = spec_pb2.Statistic
FAILURE_KEY = "failure_component"  # per-record component index of a failure code, NaN otherwise


@dataclass(frozen=True)
class ReleasedCohort:
    """What round 2 needs of one cohort of the round-1 release."""

    curve_wind_speed: np.ndarray  # [m/s], released bins' mean normalised wind speed
    curve_power_per_unit: np.ndarray  # [-]
    models: dict[str, tuple[np.ndarray, float]]  # target -> (coefficients, residual std)


def released_cohorts(release: release_pb2.Release) -> dict[str, ReleasedCohort]:
    """Cohort curves and models of a round-1 release (suppressed bins and models left out)."""
    out = {}
    for curve in release.curves:
        bins = [b for b in curve.bins if not b.suppressed and b.HasField("mean_power_per_unit")]
        models = {
            m.target: (np.array(m.coefficients), m.residual_std)
            for m in release.models
            if m.cohort == curve.cohort and not m.suppressed
        }
        out[curve.cohort] = ReleasedCohort(
            np.array([b.mean_wind_speed for b in bins]), np.array([b.mean_power_per_unit for b in bins]), models
        )
    return out


@dataclass(frozen=True)
class SiteIndicators:
    """Round 2 on one site: the blocks it sends, and what stays (per-turbine values, daily residuals)."""

    values: dict[BlockKey, np.ndarray]
    turbines: pd.DataFrame  # per (cohort, asset_id): performance_index, yaw_misalignment, availabilities
    daily_residuals: pd.DataFrame  # per (cohort, target, asset_id, day): records, mean residual [degC]
    failures: pd.DataFrame  # per failure: asset_id, component, start, downtime_h, age_years


def _with_failure_key(chunks: Iterable[pd.DataFrame], site: SiteConfig) -> Iterator[pd.DataFrame]:
    component_of_code = {
        code: float(i) for i, (_, codes) in enumerate(site.status_components.items()) for code in codes
    }
    for chunk in chunks:
        key = chunk[STATUS].map(component_of_code) if STATUS in chunk else pd.Series(np.nan, index=chunk.index)
        yield chunk.assign(**{FAILURE_KEY: key.to_numpy(dtype=np.float64)})


def _categories(chunk: pd.DataFrame, site: SiteConfig, loss_categories: list[str]) -> np.ndarray:
    """Index into ``loss_categories`` of each record's IEC 61400-26 category; -1 excluded.

    Without [status.categories], normal codes are full performance and any other code a forced
    outage; without a status channel every record is full performance.
    """
    full = loss_categories.index("full_performance")
    if STATUS not in chunk:
        return np.full(len(chunk), full)
    status = chunk[STATUS].to_numpy(dtype=np.float64)
    if not site.status_categories:
        normal = np.isin(status, site.normal_status_codes)
        return np.where(normal, full, loss_categories.index("forced_outage"))
    out = np.full(len(chunk), -1)
    for category, codes in site.status_categories.items():
        if category in loss_categories:
            out[np.isin(status, codes)] = loss_categories.index(category)
    return out


def site_indicators(
    read_chunks: ChunkSource, site: SiteConfig, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release
) -> SiteIndicators:
    """Every block of the round-2 ``spec`` for this site, computed against the round-1 ``release``.

    Parameters
    ----------
    read_chunks : callable
        Returns a fresh iterable of canonical frames.
    site : SiteConfig
        The site's configuration (turbines, status categories and components).
    spec : BenchmarkSpec
        A round-2 spec (``spec.indicators`` set, see server.spec.indicator_spec).
    release : Release
        The round-1 release whose curves and models the indicators are measured against.
    """
    check_filters((f.name, f.parameters) for f in spec.filters)
    ind = spec.indicators
    turbines = SiteTurbines.of(site, spec)
    n_turbines, n_cohorts = len(site.turbines), len(spec.cohorts)
    cohorts = released_cohorts(release)
    start, end = period_bounds(spec)
    training_end = pd.Timestamp(spec.training_period.end).tz_convert("UTC")
    loss_categories = list(ind.loss_categories)
    available = np.array([AVAILABILITY_CATEGORIES[c] is True for c in loss_categories])
    edges = np.array(ind.age_band_edges)
    commissioned = np.array(
        [t.commissioning_date.value if t.commissioning_date is not None else -1 for t in site.turbines], dtype=np.int64
    )
    row_filters = [f for f in spec.filters if FILTERS[f.name].flag]

    actual = np.zeros((n_cohorts, n_turbines))
    expected = np.zeros((n_cohorts, n_turbines))
    yaw = [YawSums.zeros(n_turbines) for _ in range(n_cohorts)]
    category_hours = np.zeros((n_turbines, len(loss_categories)))
    actual_mwh = np.zeros((n_cohorts, n_turbines))
    lost_mwh = np.zeros((n_cohorts, n_turbines, len(loss_categories)))
    turbine_years = np.zeros((n_turbines, len(edges)))
    failures: list[pd.DataFrame] = []
    training = ModelTraining(site, spec)
    spill = RecordSpill()

    for chunk, asset in hold_back_open_runs(
        _with_failure_key(read_chunks(), site), turbines.ids, keys=("WMET_HorWdSpd", FAILURE_KEY)
    ):
        in_period = ((chunk["time"] >= start) & (chunk["time"] < end)).to_numpy()
        training.observe(chunk, asset)
        arrays = TurbineArrays(asset, turbines.rated_kw[asset], site.normal_status_codes)
        normal = in_period.copy()
        for f in row_filters:
            normal &= ~FILTERS[f.name].flag(chunk, arrays, f.parameters)
        wind_speed, power = density_normalised(chunk, site, turbines.stall[asset], spec.reference_air_density)
        raw_power = chunk["WTUR_W"].to_numpy(dtype=np.float64)
        vane = (
            chunk["WMET_HorWdDirRel"].to_numpy(dtype=np.float64)
            if "WMET_HorWdDirRel" in chunk
            else np.full(len(chunk), np.nan)
        )
        category = _categories(chunk, site, loss_categories)
        category[~in_period] = -1
        counted = category >= 0
        category_hours += (
            np.bincount(
                asset[counted] * len(loss_categories) + category[counted], minlength=n_turbines * len(loss_categories)
            ).reshape(n_turbines, -1)
            * RECORD_HOURS
        )
        for c, cohort in enumerate(spec.cohorts):
            released = cohorts.get(cohort.name)
            member = turbines.membership[asset, c]
            if released is None or not member.any():
                continue
            expected_kw = (
                expected_power_per_unit(wind_speed, released.curve_wind_speed, released.curve_power_per_unit)
                * turbines.rated_kw[asset]
            )
            scored = normal & member & np.isfinite(expected_kw) & np.isfinite(power)
            actual[c] += per_turbine_sum(asset[scored], power[scored], n_turbines)
            expected[c] += per_turbine_sum(asset[scored], expected_kw[scored], n_turbines)
            below_rated = (
                scored
                & (wind_speed >= ind.yaw_wind_speed_min)
                & (wind_speed < ind.yaw_wind_speed_max)
                & np.isfinite(vane)
                & (expected_kw > 0.05 * turbines.rated_kw[asset])
            )
            yaw[c].add(asset[below_rated], vane[below_rated], power[below_rated] / expected_kw[below_rated])
            # Lost production: what the cohort curve expects at the measured wind speed, less what came.
            energy = in_period & member & np.isfinite(raw_power)
            actual_mwh[c] += per_turbine_sum(asset[energy], np.maximum(raw_power[energy], 0.0), n_turbines) * (
                RECORD_HOURS / KWH_PER_MWH
            )
            short = energy & counted & np.isfinite(expected_kw)
            lost = np.maximum(expected_kw - np.nan_to_num(raw_power), 0.0) * (RECORD_HOURS / KWH_PER_MWH)
            lost[category == loss_categories.index("full_performance")] = 0.0
            flat = asset[short] * len(loss_categories) + category[short]
            lost_mwh[c] += np.bincount(flat, weights=lost[short], minlength=n_turbines * len(loss_categories)).reshape(
                n_turbines, -1
            )
        # Reliability: turbine-time and failures by age band (turbines with a commissioning date).
        dated = in_period & (commissioned[asset] >= 0)
        time_ns = chunk["time"].array.as_unit("ns").asi8
        age = (time_ns - commissioned[asset]) / (JULIAN_YEAR_HOURS * 3600e9)
        band = age_band(age, edges)
        aged = dated & (band >= 0)
        turbine_years += np.bincount(asset[aged] * len(edges) + band[aged], minlength=n_turbines * len(edges)).reshape(
            n_turbines, -1
        ) * (RECORD_HOURS / JULIAN_YEAR_HOURS)
        component = np.nan_to_num(chunk[FAILURE_KEY].to_numpy(), nan=-1).astype(np.int64)
        component[~aged] = -1
        events = failure_events(asset, chunk["time"].dt.tz_convert(None).to_numpy(), component)
        if len(events.asset):
            first = np.searchsorted(time_ns, events.start.astype("datetime64[ns]").astype(np.int64))
            failures.append(
                pd.DataFrame(
                    {
                        "asset": events.asset,
                        "component": np.array(list(site.status_components))[events.component],
                        "start": events.start,
                        "downtime_h": events.records * RECORD_HOURS,
                        "age_years": age[np.clip(first, 0, len(age) - 1)],
                        "band": band[np.clip(first, 0, len(band) - 1)],
                    }
                )
            )
        # Model inputs of monitored records, replayed once every turbine's intercept is known.
        monitored = in_period & (chunk["time"] >= training_end).to_numpy() & normal_status(chunk, site)
        for model in spec.models:
            design, target, usable = model_rows(chunk, turbines.rated_kw[asset], model)
            use = monitored & usable
            spill.write((asset[use], chunk["time"].dt.tz_convert(None).to_numpy()[use], design[use], target[use]))

    values: dict[BlockKey, np.ndarray] = {}
    per_turbine, daily = [], []
    residual_hist = {(c, m.target): np.zeros(ind.residual_bins.count) for c in range(n_cohorts) for m in spec.models}
    # The spill holds, per chunk, one entry per model in spec order.
    for i, (asset_m, time_m, design_m, target_m) in enumerate(spill.replay()):
        model = spec.models[i % len(spec.models)]
        for c, cohort in enumerate(spec.cohorts):
            released = cohorts.get(cohort.name)
            if released is None or model.target not in released.models:
                continue
            beta, _ = released.models[model.target]
            intercept = turbine_intercepts(training.moments[model.target], beta)
            member = turbines.membership[asset_m, c] & np.isfinite(intercept[asset_m])
            residual = target_m[member] - intercept[asset_m[member]] - design_m[member] @ beta
            grid = ind.residual_bins
            residual_hist[c, model.target] += histogram_counts(residual, grid.first_centre, grid.width, grid.count)
            day = time_m[member].astype("datetime64[D]")
            by_day = pd.DataFrame({"asset": asset_m[member], "day": day, "residual": residual})
            daily.append(
                by_day.groupby(["asset", "day"])["residual"]
                .agg(["sum", "size"])
                .reset_index()
                .assign(cohort=cohort.name, target=model.target)
            )
    for c, cohort in enumerate(spec.cohorts):
        members = turbines.membership[:, c]
        with np.errstate(invalid="ignore", divide="ignore"):
            performance_index = actual[c] / expected[c]
        misalignment = static_yaw_misalignment(yaw[c])
        hours_available = (category_hours * available).sum(axis=1)
        hours_unavailable = (category_hours * ~available).sum(axis=1)
        lost_unavailable = (lost_mwh[c] * ~available).sum(axis=1)
        time_av, production_av = availability(hours_available, hours_unavailable, actual_mwh[c], lost_unavailable)
        scored = members & (expected[c] > 0)
        grids = {
            S.PERFORMANCE_INDEX_HISTOGRAM: (performance_index, ind.performance_index_bins),
            S.YAW_MISALIGNMENT_HISTOGRAM: (misalignment, ind.yaw_misalignment_bins),
            S.TIME_AVAILABILITY_HISTOGRAM: (time_av, ind.availability_bins),
            S.PRODUCTION_AVAILABILITY_HISTOGRAM: (production_av, ind.availability_bins),
        }
        for statistic, (kpi, grid) in grids.items():
            values[BlockKey(cohort.name, statistic)] = histogram_counts(
                kpi[scored], grid.first_centre, grid.width, grid.count
            )
        for model in spec.models:
            values[BlockKey(cohort.name, S.NBM_RESIDUAL_HISTOGRAM, model.target)] = residual_hist[c, model.target]
        lost = lost_mwh[c][members].sum(axis=0)
        values[BlockKey(cohort.name, S.LOST_PRODUCTION)] = np.r_[lost, actual_mwh[c][members].sum() + lost.sum()]
        n_comp, n_age = len(ind.components), len(edges)
        failure_count, downtime = np.zeros((n_comp, n_age)), np.zeros((n_comp, n_age))
        for frame in failures:
            mine = frame[members[frame["asset"].to_numpy()]]
            comp = np.array([list(ind.components).index(name) for name in mine["component"]], dtype=np.int64)
            np.add.at(failure_count, (comp, mine["band"].to_numpy()), 1)
            np.add.at(downtime, (comp, mine["band"].to_numpy()), mine["downtime_h"].to_numpy())
        values[BlockKey(cohort.name, S.FAILURE_COUNT)] = failure_count
        values[BlockKey(cohort.name, S.FAILURE_DOWNTIME)] = downtime
        years = turbine_years[members].sum(axis=0)
        values[BlockKey(cohort.name, S.TURBINE_YEARS)] = years
        values[BlockKey(cohort.name, S.AGE_BAND_CONTRIBUTOR)] = (years > 0).astype(np.float64)
        values[BlockKey(cohort.name, S.SQUARED_TURBINE_YEARS)] = years**2
        count = float(np.count_nonzero(scored))
        values[BlockKey(cohort.name, S.COHORT_CONTRIBUTOR)] = np.array([float(count > 0)])
        values[BlockKey(cohort.name, S.TURBINE_COUNT)] = np.array([count])
        values[BlockKey(cohort.name, S.SQUARED_TURBINE_COUNT)] = np.array([count**2])
        per_turbine.append(
            pd.DataFrame(
                {
                    "cohort": cohort.name,
                    "asset_id": turbines.ids,
                    "performance_index": performance_index,
                    "yaw_misalignment_deg": misalignment,
                    "time_availability": time_av,
                    "production_availability": production_av,
                }
            )[scored]
        )
    unknown = [layout.name for layout in block_layouts(spec) if layout.key not in values]
    if unknown:
        raise ValueError(f"spec {spec.spec_id} asks for blocks {unknown}, which a site does not compute in round 2")
    failure_table = (
        pd.concat(failures, ignore_index=True)
        if failures
        else pd.DataFrame(columns=["asset", "component", "start", "downtime_h", "age_years", "band"])
    )
    failure_table.insert(0, "asset_id", turbines.ids[failure_table["asset"].to_numpy(dtype=np.int64)])
    residuals = (
        pd.concat(daily, ignore_index=True)
        if daily
        else pd.DataFrame(columns=["asset", "day", "sum", "size", "cohort", "target"])
    )
    daily_residuals = residuals.groupby(["cohort", "target", "asset", "day"])[["sum", "size"]].sum().reset_index()
    daily_residuals["residual"] = daily_residuals.pop("sum") / daily_residuals["size"]
    daily_residuals = daily_residuals.rename(columns={"size": "records"})
    daily_residuals.insert(2, "asset_id", turbines.ids[daily_residuals["asset"].to_numpy(dtype=np.int64)])
    return SiteIndicators(
        values,
        pd.concat(per_turbine, ignore_index=True),
        daily_residuals.drop(columns="asset"),
        failure_table.drop(columns=["asset", "band"]),
    )
