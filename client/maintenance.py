"""A site's maintenance indicators (round 2): the blocks it sends and the per-turbine values it keeps.

Round 1 adds, beside the power-curve sums, each cohort's normal-behaviour-model sums over the
training window (:class:`client.summaries.ModelTraining`). Round 2 reads the export once more
against the round-1 release and computes, per turbine, the performance index, static yaw
misalignment, availability, model residuals and failures; only distributions and sums of them
leave (through secure aggregation). The per-turbine values and the daily residuals stay on site,
where the operator's flags are made from them (:mod:`client.flags`).

Each turbine is measured once, against its own cohort: the first cohort of the spec it belongs to
whose released curve (or model, for residuals) it can be measured against. A cohort's distribution
then gathers its turbines' values, so a turbine carries the same value into every cohort it is in
and the census can count, per atom, the turbines each indicator measured (protos/census.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from client.filters import FILTERS, TurbineArrays, check_filters
from client.indicators import (
    LastRecords,
    YawSums,
    age_band,
    availability,
    bridged_records,
    continues_earlier_run,
    expected_power_per_unit,
    failure_events,
    histogram_counts,
    per_turbine_sum,
    record_last_states,
    static_yaw_misalignment,
    turbine_intercepts,
)
from client.power_curve import clipped_bin_index
from client.schema import STATUS
from client.site_config import SiteConfig
from client.streaming import FAILURE_KEY, ChunkSource, RecordSpill, chunks_with_context, with_failure_key
from client.summaries import (
    ModelTraining,
    SiteTurbines,
    atom_census,
    density_normalised,
    model_rows,
    normal_status,
    period_bounds,
)
from protos.codec import block_layouts
from protos.disclosure import atom_index, cohort_atoms
from protos.domain import (
    AVAILABILITY_CATEGORIES,
    JULIAN_YEAR_HOURS,
    KWH_PER_MWH,
    MONTH_FORMAT,
    RECORD_HOURS,
    RECORD_PERIOD,
    month_index,
    period_months,
)
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import INDICATOR_CELLS, MONTHLY_INDICATORS, BlockKey, indicator_cells, monthly_grids

S = spec_pb2.Statistic


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

    values: dict[BlockKey, np.ndarray]  # the round-2 spec's blocks
    census: dict[BlockKey, np.ndarray]  # its census spec's blocks (protos/census.py)
    turbines: pd.DataFrame  # per (cohort, asset_id): performance_index, yaw_misalignment_deg, *_availability
    daily_residuals: pd.DataFrame  # per (cohort, target, asset_id, day): records, mean residual [degC]
    failures: pd.DataFrame  # per failure: asset_id, component, start, downtime_h, age_years
    monthly: pd.DataFrame  # per (asset_id, month "YYYY-MM"): performance_index, time_availability [-]


@dataclass(frozen=True)
class IndicatorRecords:
    """One chunk of canonical records as every round-2 indicator reads it (arrays align with its rows)."""

    chunk: pd.DataFrame  # canonical records sorted by turbine, then time, with FAILURE_KEY
    asset: np.ndarray  # index into site.turbines
    in_period: np.ndarray  # bool, in the spec's period
    normal: np.ndarray  # bool, in the period and passed by every row filter of the spec
    wind_speed: np.ndarray  # [m/s], density-normalised (IEC 61400-12-1:2017, 9.1.5)
    power: np.ndarray  # [kW], density-normalised
    expected_kw: np.ndarray  # [kW], the turbine's own curve at the record's wind speed; NaN beyond it or without one
    month: np.ndarray  # index into the period's months (protos.domain.period_months), -1 outside the period


def own_cohorts(membership: np.ndarray, spec: spec_pb2.BenchmarkSpec, measurable: Iterable[str]) -> np.ndarray:
    """Each turbine's own cohort: the first of the spec's cohorts it belongs to among ``measurable`` (-1: none).

    Parameters
    ----------
    membership : ndarray of bool
        Turbines x cohorts.
    spec : BenchmarkSpec
        Its cohorts, in order.
    measurable : iterable of str
        Names of the cohorts a turbine can be measured against (a released curve, or model).
    """
    usable = np.array([cohort.name in set(measurable) for cohort in spec.cohorts], dtype=bool)
    candidates = membership & usable
    return np.where(candidates.any(axis=1), np.argmax(candidates, axis=1), -1)


def _curve_cohorts(release: release_pb2.Release) -> list[str]:
    """The cohorts of ``release`` a turbine can be measured against: a released curve of two bins or more."""
    return [name for name, cohort in released_cohorts(release).items() if len(cohort.curve_wind_speed) >= 2]


def _indicator_records(
    read_chunks: ChunkSource, site: SiteConfig, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release
) -> Iterator[IndicatorRecords]:
    """The export's canonical records, chunk by chunk, judged by the spec's row filters (checked by the caller).

    Each record carries the power its turbine's own curve expects (:func:`own_cohorts`). Each is
    judged beside the records of its turbine either side that the filters' contexts need
    (:func:`client.streaming.chunks_with_context`), and yielded once.
    """
    turbines = SiteTurbines.of(site, spec)
    cohorts = released_cohorts(release)
    own = own_cohorts(turbines.membership, spec, _curve_cohorts(release))
    start, end = period_bounds(spec)
    row_filters = [f for f in spec.filters if FILTERS[f.name].flag]
    months = period_months(spec.period.start, spec.period.end)
    component_of_code = {code: i for i, (_, codes) in enumerate(site.status_components.items()) for code in codes}
    chunks = with_failure_key(read_chunks(), STATUS, component_of_code)
    site_arrays = TurbineArrays.of(site)
    context = max((FILTERS[f.name].context(f.parameters) for f in row_filters), default=0)
    for frame, frame_asset, owned in chunks_with_context(chunks, turbines.ids, context):
        normal, arrays = np.ones(len(frame), dtype=bool), site_arrays.select(frame_asset)
        for f in row_filters:
            normal &= ~FILTERS[f.name].flag(frame, arrays, f.parameters)
        chunk, asset, normal = frame[owned], frame_asset[owned], normal[owned]
        in_period = ((chunk["time"] >= start) & (chunk["time"] < end)).to_numpy()
        normal &= in_period
        wind_speed, power = density_normalised(chunk, site, turbines.stall[asset], spec.reference_air_density)
        expected_kw = np.full(len(chunk), np.nan)
        for c in np.unique(own[asset]):
            if c < 0:
                continue
            curve = cohorts[spec.cohorts[c].name]
            rows = own[asset] == c
            per_unit = expected_power_per_unit(wind_speed[rows], curve.curve_wind_speed, curve.curve_power_per_unit)
            expected_kw[rows] = per_unit * turbines.rated_kw[asset[rows]]
        month = np.where(in_period, month_index(chunk["time"], months), -1)
        yield IndicatorRecords(chunk, asset, in_period, normal, wind_speed, power, expected_kw, month)


def _histogram(values: np.ndarray, grid: spec_pb2.BinGrid) -> np.ndarray:
    """Counts of the finite ``values`` per bin of one of the spec's indicator grids."""
    return histogram_counts(values, grid.first_centre, grid.width, grid.count)


class CurvePerformance:
    """Performance index and static yaw misalignment of each turbine, against its own cohort's released curve.

    Over a turbine's records in normal operation where the curve expects a power, PI = sum(P) /
    sum(P_expected) [-], P the density-normalised power [kW] and P_expected the curve's at the
    record's normalised wind speed; over the below-rated ones, the power ratio P / P_expected
    against the vane angle gives the misalignment (:func:`client.indicators.static_yaw_misalignment`).
    """

    def __init__(self, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> None:
        self.spec = spec
        self.turbines = SiteTurbines.of(site, spec)
        n_turbines = len(site.turbines)
        self.yaw = YawSums.zeros(n_turbines)
        self.months = len(period_months(spec.period.start, spec.period.end))
        # Per turbine and month; the period's sums are their totals over the months.
        self.actual_kw = np.zeros((n_turbines, self.months))  # [kW], summed over scored records
        self.expected_kw = np.zeros((n_turbines, self.months))  # [kW], summed over scored records

    def observe(self, records: IndicatorRecords) -> None:
        """Add one chunk's records."""
        ind, chunk, asset = self.spec.indicators, records.chunk, records.asset
        n_turbines = len(self.turbines.ids)
        wind_speed, power, expected_kw = records.wind_speed, records.power, records.expected_kw
        vane = (
            chunk["WMET_HorWdDirRel"].to_numpy(dtype=np.float64)
            if "WMET_HorWdDirRel" in chunk
            else np.full(len(chunk), np.nan)
        )
        scored = records.normal & np.isfinite(expected_kw) & np.isfinite(power)
        by_month = asset[scored] * self.months + records.month[scored]
        self.actual_kw += per_turbine_sum(by_month, power[scored], n_turbines * self.months).reshape(n_turbines, -1)
        self.expected_kw += per_turbine_sum(by_month, expected_kw[scored], n_turbines * self.months).reshape(
            n_turbines, -1
        )
        below_rated = (
            scored
            & (wind_speed >= ind.yaw_wind_speed_min)
            & (wind_speed < ind.yaw_wind_speed_max)
            & np.isfinite(vane)
            & (expected_kw > 0.05 * self.turbines.rated_kw[asset])
        )
        self.yaw.add(asset[below_rated], vane[below_rated], power[below_rated] / expected_kw[below_rated])

    def turbine_values(self) -> dict[str, np.ndarray]:
        """Per turbine: performance_index [-], yaw_misalignment_deg [deg] and expected_mwh [MWh].

        The performance index is NaN where the curve expected nothing; expected_mwh is the energy
        the curve expected over the scored records (it stays on site: the report's MWh).
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            actual_kw, expected_kw = self.actual_kw.sum(axis=1), self.expected_kw.sum(axis=1)
            performance_index = np.where(expected_kw > 0, actual_kw / expected_kw, np.nan)
        return {
            "performance_index": performance_index,
            "yaw_misalignment_deg": static_yaw_misalignment(self.yaw),
            "expected_mwh": expected_kw * (RECORD_HOURS / KWH_PER_MWH),
        }

    def monthly_performance_index(self) -> np.ndarray:
        """Per turbine and month of the period, the performance index over that month's scored records [-]."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.expected_kw > 0, self.actual_kw / self.expected_kw, np.nan)


def _categories(chunk: pd.DataFrame, site: SiteConfig, loss_categories: list[str]) -> np.ndarray:
    """Index into ``loss_categories`` of each record's IEC 61400-26 category; -1 excluded.

    Without [status.categories], normal codes are full performance and any other code a forced
    outage; without a status channel every record is full performance. A blank status is
    information unavailable (IEC 61400-26-1): excluded, neither available nor unavailable.
    """
    full = loss_categories.index("full_performance")
    if STATUS not in chunk:
        return np.full(len(chunk), full)
    status = chunk[STATUS].to_numpy(dtype=np.float64)
    if not site.status_categories:
        normal = np.isin(status, site.normal_status_codes)
        return np.where(normal, full, np.where(np.isnan(status), -1, loss_categories.index("forced_outage")))
    out = np.full(len(chunk), -1)
    for category, codes in site.status_categories.items():
        if category in loss_categories:
            out[np.isin(status, codes)] = loss_categories.index(category)
    return out


class Availability:
    """Time- and production-based availability and lost production by IEC 61400-26 category, per turbine.

    Per turbine, the hours of each of the spec's loss categories in the period (from its status
    codes, :func:`_categories`), the energy produced [MWh] and the energy lost per category [MWh]:
    what its own cohort's released curve expects at the measured wind speed, less what came
    (nothing in full performance).
    """

    def __init__(self, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> None:
        self.site, self.spec = site, spec
        self.turbines = SiteTurbines.of(site, spec)
        self.loss_categories = list(spec.indicators.loss_categories)
        self.available = np.array([AVAILABILITY_CATEGORIES[c] is True for c in self.loss_categories])
        n_turbines, n_categories = len(site.turbines), len(self.loss_categories)
        self.months = len(period_months(spec.period.start, spec.period.end))
        self.category_hours = np.zeros((n_turbines, self.months, n_categories))  # [h]
        self.actual_mwh = np.zeros(n_turbines)  # [MWh]
        self.lost_mwh = np.zeros((n_turbines, n_categories))  # [MWh]

    def observe(self, records: IndicatorRecords) -> None:
        """Add one chunk's records."""
        chunk, asset = records.chunk, records.asset
        n_turbines, n_categories = len(self.turbines.ids), len(self.loss_categories)
        category = _categories(chunk, self.site, self.loss_categories)
        category[~records.in_period] = -1
        counted = category >= 0
        cell = (asset[counted] * self.months + records.month[counted]) * n_categories + category[counted]
        self.category_hours += (
            np.bincount(cell, minlength=self.category_hours.size).reshape(self.category_hours.shape) * RECORD_HOURS
        )
        raw_power = chunk["WTUR_W"].to_numpy(dtype=np.float64)
        full_performance = category == self.loss_categories.index("full_performance")
        member = self.turbines.membership[asset].any(axis=1)
        energy = records.in_period & member & np.isfinite(raw_power)
        self.actual_mwh += per_turbine_sum(asset[energy], np.maximum(raw_power[energy], 0.0), n_turbines) * (
            RECORD_HOURS / KWH_PER_MWH
        )
        short = energy & counted & np.isfinite(records.expected_kw)
        lost = np.maximum(records.expected_kw - np.nan_to_num(raw_power), 0.0) * (RECORD_HOURS / KWH_PER_MWH)
        lost[full_performance] = 0.0
        flat = asset[short] * n_categories + category[short]
        self.lost_mwh += np.bincount(flat, weights=lost[short], minlength=n_turbines * n_categories).reshape(
            n_turbines, -1
        )

    def turbine_values(self) -> dict[str, np.ndarray]:
        """Per turbine: time and production availability, the energy lost and the category it was most lost in.

        time_availability and production_availability [-] (IEC 61400-26-1, -2); lost_mwh and
        potential_mwh [MWh] (produced + lost) and main_loss_category, the IEC 61400-26 category it
        lost most in ("" when it lost nothing): the last three stay on site (the report's).
        """
        hours = self.category_hours.sum(axis=1)
        hours_available = (hours * self.available).sum(axis=1)
        hours_unavailable = (hours * ~self.available).sum(axis=1)
        lost_unavailable = (self.lost_mwh * ~self.available).sum(axis=1)
        time_av, production_av = availability(hours_available, hours_unavailable, self.actual_mwh, lost_unavailable)
        main = np.array(self.loss_categories, dtype=object)[np.argmax(self.lost_mwh, axis=1)]
        return {
            "time_availability": time_av,
            "production_availability": production_av,
            "lost_mwh": self.lost_mwh.sum(axis=1),
            "potential_mwh": self.potential_mwh(),
            "main_loss_category": np.where(self.lost_mwh.sum(axis=1) > 0, main, ""),
        }

    def monthly_time_availability(self) -> np.ndarray:
        """Per turbine and month of the period, its time-based availability that month [-] (NaN: no counted time)."""
        available = (self.category_hours * self.available).sum(axis=2)
        unavailable = (self.category_hours * ~self.available).sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return available / (available + unavailable)  # IEC 61400-26-1, as availability() over the period

    def potential_mwh(self) -> np.ndarray:
        """Per turbine: the energy it produced and lost, its potential production [MWh]."""
        return self.actual_mwh + self.lost_mwh.sum(axis=1)


class Reliability:
    """Turbine-years and failures by component and age band, of the turbines with a commissioning date.

    Only a site whose status channel carries failure codes ([status.components]) observes failures:
    any other counts no turbine-years (its failure rates are not measured, rather than zero).
    A record in the period adds its duration (RECORD_HOURS) to its turbine's age band; a run of consecutive
    records carrying one component's failure code is one failure
    (:func:`client.indicators.failure_events`), its downtime the run's length [h], its age band
    that of its first record.
    """

    def __init__(self, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> None:
        self.spec = spec
        self.turbines = SiteTurbines.of(site, spec)
        self.edges = np.array(spec.indicators.age_band_edges)  # [year]
        self.commissioned = np.array(  # [ns] since the epoch, -1 without a commissioning date
            [t.commissioning_date.value if t.commissioning_date is not None else -1 for t in site.turbines],
            dtype=np.int64,
        )
        self.components = np.array(list(site.status_components))  # the site's, by FAILURE_KEY index
        self.observes_failures = site.has_status and bool(site.status_components)
        self.turbine_years = np.zeros((len(site.turbines), len(self.edges)))  # [year]
        self.failures: list[pd.DataFrame] = []  # per chunk with failures: asset, component, start, downtime_h, ...
        # A failure whose records two chunks share is one, its downtime added to the event that began it.
        self.last_record = LastRecords.none(len(site.turbines))
        self.last_event = np.full((len(site.turbines), 2), -1)  # (frame, row) in self.failures of its last event

    def observe(self, records: IndicatorRecords) -> None:
        """Add one chunk's records."""
        chunk, asset = records.chunk, records.asset
        n_turbines, n_bands = len(self.turbines.ids), len(self.edges)
        if not self.observes_failures:
            return
        dated = records.in_period & (self.commissioned[asset] >= 0)
        time_ns = chunk["time"].array.as_unit("ns").asi8
        age = (time_ns - self.commissioned[asset]) / (JULIAN_YEAR_HOURS * 3600e9)
        band = age_band(age, self.edges)
        aged = dated & (band >= 0)
        self.turbine_years += np.bincount(asset[aged] * n_bands + band[aged], minlength=n_turbines * n_bands).reshape(
            n_turbines, -1
        ) * (RECORD_HOURS / JULIAN_YEAR_HOURS)
        component = np.nan_to_num(chunk[FAILURE_KEY].to_numpy(), nan=-1).astype(np.int64)
        component[~aged] = -1
        # A blank status is unknown: a short stretch of it inside a failure does not split it (failure_events).
        known = np.isfinite(chunk[STATUS].to_numpy(dtype=np.float64)) | ~aged if STATUS in chunk else None
        stamps = chunk["time"].dt.tz_convert(None).to_numpy()
        events = failure_events(asset, stamps, component, known=known)
        continued = continues_earlier_run(events, self.last_record, RECORD_PERIOD.seconds)
        bridged = bridged_records(events, self.last_record, RECORD_PERIOD.seconds)
        for e in np.flatnonzero(continued):
            frame, row = self.last_event[events.asset[e]]
            self.failures[frame].loc[row, "downtime_h"] += (events.records[e] + bridged[e]) * RECORD_HOURS
        self.last_record = record_last_states(self.last_record, asset, stamps, component, known)
        new = ~continued
        if new.any():
            first = np.searchsorted(time_ns, events.start[new].astype("datetime64[ns]").astype(np.int64))
            self.failures.append(
                pd.DataFrame(
                    {
                        "asset": events.asset[new],
                        "component": self.components[events.component[new]],
                        "start": events.start[new],
                        "downtime_h": events.records[new] * RECORD_HOURS,
                        "age_years": age[np.clip(first, 0, len(age) - 1)],
                        "band": band[np.clip(first, 0, len(band) - 1)],
                    }
                )
            )
            rows = np.arange(int(new.sum()))
            self.last_event[events.asset[new]] = np.column_stack([np.full(len(rows), len(self.failures) - 1), rows])

    def failure_table(self) -> pd.DataFrame:
        """One row per failure: asset_id, component, start, downtime_h [h], age_years [year]."""
        table = (
            pd.concat(self.failures, ignore_index=True)
            if self.failures
            else pd.DataFrame(columns=["asset", "component", "start", "downtime_h", "age_years", "band"])
        )
        table.insert(0, "asset_id", self.turbines.ids[table["asset"].to_numpy(dtype=np.int64)])
        return table.drop(columns=["asset", "band"])

    def blocks(self) -> dict[BlockKey, np.ndarray]:
        """Each cohort's failures and downtime [h] by component and age band, and its turbine-years by age band."""
        components = list(self.spec.indicators.components)
        values = {}
        for c, cohort in enumerate(self.spec.cohorts):
            members = self.turbines.membership[:, c]
            shape = (len(components), len(self.edges))
            failure_count, downtime = np.zeros(shape), np.zeros(shape)
            for frame in self.failures:
                mine = frame[members[frame["asset"].to_numpy()]]
                comp = np.array([components.index(name) for name in mine["component"]], dtype=np.int64)
                np.add.at(failure_count, (comp, mine["band"].to_numpy()), 1)
                np.add.at(downtime, (comp, mine["band"].to_numpy()), mine["downtime_h"].to_numpy())
            values[BlockKey(cohort.name, S.FAILURE_COUNT)] = failure_count
            values[BlockKey(cohort.name, S.FAILURE_DOWNTIME)] = downtime
            years = self.turbine_years[members].sum(axis=0)
            values[BlockKey(cohort.name, S.TURBINE_YEARS)] = years
            values[BlockKey(cohort.name, S.AGE_BAND_CONTRIBUTOR)] = (years > 0).astype(np.float64)
        return values


class ModelResiduals:
    """Residuals of the released normal-behaviour models over the monitored records (after the training window).

    A residual is the measured target less the prediction a_t + x . beta [degC]: beta the released
    coefficients of the turbine's own cohort for that target (the first of its cohorts with a
    released model, :func:`own_cohorts`), a_t the turbine's own intercept over its training records
    (:func:`client.indicators.turbine_intercepts`). The intercepts are known only once the whole
    export has been read, so the models' inputs of monitored records in normal operation are
    spilled as chunks pass (:class:`client.streaming.RecordSpill`) and replayed once, by
    :meth:`replay`, before :meth:`turbine_histograms` and :meth:`daily_residuals`.
    """

    def __init__(self, site: SiteConfig, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release) -> None:
        self.site, self.spec = site, spec
        self.turbines = SiteTurbines.of(site, spec)
        self.cohorts = released_cohorts(release)
        self.training = ModelTraining(site, spec)
        self.training_end = pd.Timestamp(spec.training_period.end).tz_convert("UTC")
        self.spill = RecordSpill()  # per chunk, one entry per model in spec order
        grid = spec.indicators.residual_bins
        n_turbines = len(site.turbines)
        self.histograms = {model.target: np.zeros((n_turbines, grid.count)) for model in spec.models}  # [records]
        self.daily: list[pd.DataFrame] = []  # per (asset, day): sum and size of residuals, with cohort and target

    def observe(self, records: IndicatorRecords) -> None:
        """Add one chunk's records: to the intercepts' training sums, and its monitored model inputs to the spill."""
        chunk, asset = records.chunk, records.asset
        self.training.observe(chunk, asset)
        monitored = (
            records.in_period & (chunk["time"] >= self.training_end).to_numpy() & normal_status(chunk, self.site)
        )
        time = chunk["time"].dt.tz_convert(None).to_numpy()
        for model in self.spec.models:
            design, target, usable = model_rows(chunk, self.turbines.rated_kw[asset], model)
            use = monitored & usable
            self.spill.write((asset[use], time[use], design[use], target[use]))

    def replay(self) -> None:
        """Residuals of every spilled record under its turbine's own released model."""
        own, fits = {}, {}  # target -> each turbine's own cohort; (target, cohort) -> (beta, intercepts)
        for model in self.spec.models:
            with_model = [name for name, c in self.cohorts.items() if model.target in c.models]
            own[model.target] = own_cohorts(self.turbines.membership, self.spec, with_model)
            for c in np.unique(own[model.target][own[model.target] >= 0]).tolist():
                beta, _ = self.cohorts[self.spec.cohorts[c].name].models[model.target]
                fits[model.target, c] = beta, turbine_intercepts(self.training.moments[model.target], beta)
        grid = self.spec.indicators.residual_bins
        for i, (asset, time, design, target) in enumerate(self.spill.replay()):
            model = self.spec.models[i % len(self.spec.models)]
            for (fitted, c), (beta, intercept) in fits.items():
                if fitted != model.target:
                    continue
                mine = (own[model.target][asset] == c) & np.isfinite(intercept[asset])
                residual = target[mine] - intercept[asset[mine]] - design[mine] @ beta
                bins = clipped_bin_index(residual, grid.first_centre, grid.width, grid.count)
                np.add.at(self.histograms[model.target], (asset[mine], bins), 1.0)
                by_day = pd.DataFrame(
                    {"asset": asset[mine], "day": time[mine].astype("datetime64[D]"), "residual": residual}
                )
                self.daily.append(
                    by_day.groupby(["asset", "day"])["residual"]
                    .agg(["sum", "size"])
                    .reset_index()
                    .assign(cohort=self.spec.cohorts[c].name, target=model.target)
                )

    def turbine_histograms(self, target: str) -> np.ndarray:
        """Per turbine (rows), its residuals of ``target``'s model per residual bin [records]."""
        return self.histograms[target]

    def daily_residuals(self) -> pd.DataFrame:
        """Per (cohort, target, asset_id, day): records, and their mean residual [degC]; the cohort is the model's."""
        residuals = (
            pd.concat(self.daily, ignore_index=True)
            if self.daily
            else pd.DataFrame(columns=["asset", "day", "sum", "size", "cohort", "target"])
        )
        daily = residuals.groupby(["cohort", "target", "asset", "day"])[["sum", "size"]].sum().reset_index()
        daily["residual"] = daily.pop("sum") / daily["size"]
        daily = daily.rename(columns={"size": "records"})
        daily.insert(2, "asset_id", self.turbines.ids[daily["asset"].to_numpy(dtype=np.int64)])
        return daily.drop(columns="asset")


def _turbine_census(
    turbine_totals: np.ndarray, atom_of_turbine: np.ndarray, n_atoms: int, membership: np.ndarray
) -> np.ndarray:
    """A census block (3, atoms + cohorts, ...) from per-turbine totals (turbines, ...): this site's sums.

    The site is one operator: its total in an atom's (or a cohort's) cell is the sum over its
    turbines there (:func:`client.summaries.atom_census`).
    """
    in_atom = atom_of_turbine >= 0
    per_atom = np.zeros((n_atoms, *turbine_totals.shape[1:]))
    np.add.at(per_atom, atom_of_turbine[in_atom], turbine_totals[in_atom])
    per_cohort = np.tensordot(membership.T.astype(np.float64), turbine_totals, axes=1)
    return atom_census(per_atom, per_cohort)


def site_indicators(
    read_chunks: ChunkSource, site: SiteConfig, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release
) -> SiteIndicators:
    """Every block of the round-2 ``spec`` and of its census for this site, against the round-1 ``release``.

    The export is read once; each indicator family observes every chunk, then gives its
    per-turbine values. A cohort's blocks gather its turbines that each indicator measured; the
    census counts those turbines per atom, and the turbine-years per atom and age band.

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

    Raises
    ------
    ValueError
        If the spec names an unknown filter, or asks for blocks a site does not compute in round 2.
    """
    check_filters((f.name, f.parameters) for f in spec.filters)
    performance = CurvePerformance(site, spec)
    availability = Availability(site, spec)
    reliability = Reliability(site, spec)
    residuals = ModelResiduals(site, spec, release)
    for records in _indicator_records(read_chunks, site, spec, release):
        for indicator in (performance, availability, reliability, residuals):
            indicator.observe(records)
    residuals.replay()
    kpis = {**performance.turbine_values(), **availability.turbine_values()}
    ind, membership = spec.indicators, performance.turbines.membership
    # Availability and lost production need the turbine's state: without a status channel they are
    # not measured (sent as nothing), never invented as full performance.
    has_status = site.has_status
    # Per turbine and indicator cell (protos.statistics.indicator_cells): was it measured?
    # Production availability and lost production need the turbine's own curve (what it lost is what
    # that curve expected); time availability does not.
    has_curve = own_cohorts(membership, spec, _curve_cohorts(release)) >= 0
    measured = np.column_stack(
        [
            *(np.isfinite(kpis[name]) for name in ("performance_index", "yaw_misalignment_deg")),
            np.isfinite(kpis["time_availability"]) & has_status,
            np.isfinite(kpis["production_availability"]) & has_curve & has_status,
            (availability.potential_mwh() > 0) & has_curve & has_status,
            *(residuals.turbine_histograms(m.target).sum(axis=1) > 0 for m in spec.models),
        ]
    ).reshape(len(site.turbines), len(indicator_cells(spec)))
    grids = {
        S.PERFORMANCE_INDEX_HISTOGRAM: ("performance_index", ind.performance_index_bins),
        S.YAW_MISALIGNMENT_HISTOGRAM: ("yaw_misalignment_deg", ind.yaw_misalignment_bins),
        S.TIME_AVAILABILITY_HISTOGRAM: ("time_availability", ind.availability_bins),
        S.PRODUCTION_AVAILABILITY_HISTOGRAM: ("production_availability", ind.availability_bins),
    }
    values = reliability.blocks()
    monthly = {
        "performance_index": performance.monthly_performance_index(),
        "time_availability": np.where(has_status, availability.monthly_time_availability(), np.nan),
    }
    monthly_measured = np.hstack([np.isfinite(monthly[name]) for name in MONTHLY_INDICATORS])
    for c, cohort in enumerate(spec.cohorts):
        member = membership[:, c]
        for cell, (statistic, (name, grid)) in enumerate(grids.items()):
            values[BlockKey(cohort.name, statistic)] = _histogram(kpis[name][member & measured[:, cell]], grid)
        mine = member & measured[:, INDICATOR_CELLS.index("lost_production")]
        lost = availability.lost_mwh[mine].sum(axis=0)
        values[BlockKey(cohort.name, S.LOST_PRODUCTION)] = np.r_[lost, availability.actual_mwh[mine].sum() + lost.sum()]
        for m, model in enumerate(spec.models):
            values[BlockKey(cohort.name, S.NBM_RESIDUAL_HISTOGRAM, model.target)] = residuals.turbine_histograms(
                model.target
            )[member & measured[:, len(INDICATOR_CELLS) + m]].sum(axis=0)
        values[BlockKey(cohort.name, S.INDICATOR_CONTRIBUTOR)] = (member[:, None] & measured).any(axis=0).astype(float)
        for name, (statistic, grid) in monthly_grids(spec).items():
            values[BlockKey(cohort.name, statistic)] = np.array(
                [_histogram(month[member], grid) for month in monthly[name].T]
            ).reshape(-1, grid.count)
        values[BlockKey(cohort.name, S.MONTHLY_CONTRIBUTOR)] = (
            (member[:, None] & monthly_measured).any(axis=0).astype(float)
        )
    unknown = [layout.name for layout in block_layouts(spec) if layout.key not in values]
    if unknown:
        raise ValueError(f"spec {spec.spec_id} asks for blocks {unknown}, which a site does not compute in round 2")
    atoms = cohort_atoms(spec.cohorts)
    atom_of_turbine = atom_index(membership, atoms)
    census = {
        BlockKey("", S.INDICATOR_CENSUS): _turbine_census(
            measured.astype(np.float64), atom_of_turbine, len(atoms), membership
        ),
        BlockKey("", S.AGE_BAND_CENSUS): _turbine_census(
            reliability.turbine_years, atom_of_turbine, len(atoms), membership
        ),
        BlockKey("", S.MONTHLY_CENSUS): _turbine_census(
            monthly_measured.astype(np.float64), atom_of_turbine, len(atoms), membership
        ),
    }
    asset_ids = pd.Index([t.asset_id for t in site.turbines])
    per_turbine = [
        pd.DataFrame({"cohort": cohort.name, "asset_id": asset_ids, **kpis})[membership[:, c] & measured[:, 0]]
        for c, cohort in enumerate(spec.cohorts)
    ]
    months = period_months(spec.period.start, spec.period.end).strftime(MONTH_FORMAT)
    per_month = pd.DataFrame(
        {
            "asset_id": np.repeat(asset_ids, len(months)),
            "month": np.tile(months, len(asset_ids)),
            **{name: monthly[name].ravel() for name in MONTHLY_INDICATORS},
        }
    )
    return SiteIndicators(
        values,
        census,
        pd.concat(per_turbine, ignore_index=True),
        residuals.daily_residuals(),
        reliability.failure_table(),
        per_month,
    )
