"""A site's contribution to a benchmark: the spec's blocks, computed from its canonical frames.

Everything here stays on site; only :func:`protos.codec.encode_blocks` of ``SiteSummary.values``
is sent, and only through secure aggregation. The per-turbine filter report never leaves.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
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
from client.indicators import MomentSums, centred_sums, nbm_design
from client.power_curve import bin_index, bin_power_curve, clipped_bin_index, power_histogram
from client.privacy import cap_turbine_histograms
from client.schema import STATUS
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


def density_normalised(
    frame: pd.DataFrame, site: SiteConfig, stall: np.ndarray, reference_air_density: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wind speed [m/s] and power [kW] of each record, normalised to rho0 (IEC 61400-12-1:2017, 9.1.5).

    Pitch-regulated turbines (``stall`` False) get V_n = V (rho / rho0)^(1/3) and keep P;
    stall-regulated ones keep V and get P_n = P rho0 / rho.
    """
    wind_speed = frame["WMET_HorWdSpd"].to_numpy(dtype=np.float64)
    power = frame["WTUR_W"].to_numpy(dtype=np.float64)
    density = record_air_density(frame, site)
    return (
        np.where(stall, wind_speed, normalise_wind_speed(wind_speed, density, reference_air_density)),
        np.where(stall, normalise_power(power, density, reference_air_density), power),
    )


@dataclass(frozen=True)
class SiteTurbines:
    """The site's turbine metadata as arrays, indexed like ``site.turbines``."""

    ids: pd.Index
    rated_kw: np.ndarray
    area_m2: np.ndarray
    stall: np.ndarray
    membership: np.ndarray

    @classmethod
    def of(cls, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> SiteTurbines:
        """The arrays of ``site``'s turbines, with their membership of ``spec``'s cohorts."""
        return cls(
            ids=pd.Index([t.asset_id for t in site.turbines]),
            rated_kw=np.array([t.rated_power_kw for t in site.turbines]),
            area_m2=np.array([t.swept_area_m2 for t in site.turbines]),
            stall=np.array([t.regulation == "stall" for t in site.turbines]),
            membership=cohort_membership(site, spec),
        )


@dataclass(frozen=True)
class PreparedRecords:
    """Records that passed every filter of the spec, density-normalised, ready to bin (arrays align).

    Normalised as :func:`density_normalised` says.
    """

    asset: np.ndarray  # index into site.turbines
    time: np.ndarray  # datetime64, UTC
    wind_speed: np.ndarray  # [m/s], normalised
    power: np.ndarray  # [kW], normalised
    power_per_unit: np.ndarray  # [-]
    power_per_area: np.ndarray  # [W/m^2]


class FilterCounts:
    """What the filters did per turbine: records in the period, flagged by each filter, used.

    Row filters count every record of the period they flag (a record may count under several);
    ``bin_outlier`` counts among the records the row filters passed, which its statistics describe.
    """

    def __init__(self, asset_ids: pd.Index, filter_names: Iterable[str]) -> None:
        self.asset_ids = asset_ids
        self.counts = {name: np.zeros(len(asset_ids), dtype=np.int64) for name in ("records", *filter_names, "used")}

    def add(self, name: str, asset: np.ndarray) -> None:
        """Count one record under ``name`` for each turbine index in ``asset``."""
        self.counts[name] += np.bincount(asset, minlength=len(self.asset_ids))

    def frame(self) -> pd.DataFrame:
        """The counts as a table, one row per turbine (index asset_id)."""
        return pd.DataFrame(self.counts, index=self.asset_ids.rename("asset_id"))


class RecordSpill:
    """Arrays written to an unnamed site-local temporary file and read back in order.

    A second pass (the bin filter, model residuals) replays compact records from here instead of
    reading and converting the export again; memory stays one chunk whatever the export's size.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by replay()
        self._chunks = 0

    def write(self, arrays: tuple[np.ndarray, ...]) -> None:
        """Append one chunk's arrays (the same number, in the same order, every time)."""
        for array in arrays:
            np.lib.format.write_array(self._file, np.ascontiguousarray(array), allow_pickle=False)
        self._chunks += 1

    def replay(self, arrays_per_chunk: int) -> Iterator[tuple[np.ndarray, ...]]:
        """The chunks in the order written; the file is closed (and gone) afterwards."""
        with self._file:
            self._file.seek(0)
            for _ in range(self._chunks):
                yield tuple(np.lib.format.read_array(self._file) for _ in range(arrays_per_chunk))


def prepared_records(
    read_chunks: ChunkSource,
    site: SiteConfig,
    spec: spec_pb2.BenchmarkSpec,
    counts: FilterCounts | None = None,
    observe: Callable[[pd.DataFrame, np.ndarray], None] | None = None,
) -> Iterator[PreparedRecords]:
    """The site's records in the spec's period that pass its filters, normalised, chunk by chunk.

    The export is read once. Row filters judge each record as it streams past; with a
    ``bin_outlier`` filter the records they pass are spilled to a local temporary file while each
    turbine's wind-speed statistics per power bin accumulate, then replayed and judged against
    them. ``counts``, when given, receives what each filter removed; ``observe``, when given, sees
    every canonical chunk (sorted by turbine, then time) with its turbine indices, before filtering.
    """
    check_filters((f.name, f.parameters) for f in spec.filters)
    turbines = SiteTurbines.of(site, spec)
    start, end = period_bounds(spec)
    row_filters = [f for f in spec.filters if FILTERS[f.name].flag]
    bin_filter = next((f for f in spec.filters if f.name == "bin_outlier"), None)
    statistics = BinOutlierStatistics(len(site.turbines), bin_filter.parameters) if bin_filter else None
    spill = RecordSpill() if statistics is not None else None

    for chunk, asset in hold_back_open_runs(read_chunks(), turbines.ids):
        if observe is not None:
            observe(chunk, asset)
        arrays = TurbineArrays(asset, turbines.rated_kw[asset], site.normal_status_codes)
        in_period = ((chunk["time"] >= start) & (chunk["time"] < end)).to_numpy()
        passed = in_period.copy()
        if counts is not None:
            counts.add("records", asset[in_period])
        for f in row_filters:
            flagged = FILTERS[f.name].flag(chunk, arrays, f.parameters)
            passed &= ~flagged
            if counts is not None:
                counts.add(f.name, asset[in_period & flagged])
        wind_speed = chunk["WMET_HorWdSpd"].to_numpy(dtype=np.float64)[passed]
        power = chunk["WTUR_W"].to_numpy(dtype=np.float64)[passed]
        normalised = density_normalised(chunk[passed], site, turbines.stall[asset[passed]], spec.reference_air_density)
        asset = asset[passed]
        records = (asset, chunk["time"].dt.tz_convert(None).to_numpy()[passed], *normalised)
        if spill is None:
            yield _prepared(*records, turbines, counts)
        else:
            per_unit = power / turbines.rated_kw[asset]
            statistics.add(asset, wind_speed, per_unit)
            spill.write((*records, wind_speed, per_unit))

    if spill is not None:
        for asset, time, wind_speed, power, raw_wind_speed, raw_per_unit in spill.replay(6):
            outlier = bin_outlier_flag(asset, raw_wind_speed, raw_per_unit, statistics)
            if counts is not None:
                counts.add("bin_outlier", asset[outlier])
            keep = ~outlier
            yield _prepared(asset[keep], time[keep], wind_speed[keep], power[keep], turbines, counts)


def _prepared(
    asset: np.ndarray,
    time: np.ndarray,
    wind_speed: np.ndarray,
    power: np.ndarray,
    turbines: SiteTurbines,
    counts: FilterCounts | None,
) -> PreparedRecords:
    if counts is not None:
        counts.add("used", asset)
    return PreparedRecords(
        asset=asset,
        time=time,
        wind_speed=wind_speed,
        power=power,
        power_per_unit=power / turbines.rated_kw[asset],
        power_per_area=power * 1e3 / turbines.area_m2[asset],
    )


def _nbm_training_mask(chunk: pd.DataFrame, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    """Records a normal-behaviour model trains on: in the training window, normal status, finite inputs."""
    start = pd.Timestamp(spec.training_period.start).tz_convert("UTC")
    end = pd.Timestamp(spec.training_period.end).tz_convert("UTC")
    mask = ((chunk["time"] >= start) & (chunk["time"] < end)).to_numpy()
    return mask & normal_status(chunk, site)


def normal_status(chunk: pd.DataFrame, site: SiteConfig) -> np.ndarray:
    """Records whose status code means normal operation (all of them without a status channel)."""
    if STATUS in chunk:
        return chunk[STATUS].isin(site.normal_status_codes).to_numpy()
    return np.ones(len(chunk), dtype=bool)


def model_rows(
    chunk: pd.DataFrame, rated_kw: np.ndarray, model: spec_pb2.NormalBehaviourModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design matrix, target and which rows are usable (all finite) for ``model``."""
    power_per_unit = chunk["WTUR_W"].to_numpy(dtype=np.float64) / rated_kw
    ambient = chunk["WMET_EnvTmp"].to_numpy(dtype=np.float64)
    design = nbm_design(power_per_unit, ambient, tuple(model.features))
    target = chunk[model.target].to_numpy(dtype=np.float64) if model.target in chunk else np.full(len(chunk), np.nan)
    usable = np.isfinite(target) & np.all(np.isfinite(design), axis=1)
    return design, target, usable


class ModelTraining:
    """Round 1: per-turbine moment sums of every model of the spec, over its training records."""

    def __init__(self, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> None:
        self.site, self.spec = site, spec
        self.turbines = SiteTurbines.of(site, spec)
        self.moments = {m.target: MomentSums.zeros(len(site.turbines), len(m.features) + 1) for m in spec.models}

    def observe(self, chunk: pd.DataFrame, asset: np.ndarray) -> None:
        """Add one canonical chunk (see :func:`client.summaries.prepared_records`)."""
        models = [m for m in self.spec.models if m.target in chunk]
        if not models:
            return  # the export maps no modelled channel: nothing to train, nothing to scan
        training = _nbm_training_mask(chunk, self.site, self.spec)
        for model in models:
            design, target, usable = model_rows(chunk[training], self.turbines.rated_kw[asset[training]], model)
            self.moments[model.target].add(asset[training][usable], np.column_stack([design[usable], target[usable]]))

    def blocks(self) -> dict[str, np.ndarray]:
        """The NBM_* blocks of every cohort and model."""
        values = {}
        for c, cohort in enumerate(self.spec.cohorts):
            members = self.turbines.membership[:, c]
            for model in self.spec.models:
                moments = self.moments[model.target]
                gram, moment, squares, n = centred_sums(moments, members)
                turbines = int(np.count_nonzero(moments.count[members]))
                prefix = f"{cohort.name}:"
                values[f"{prefix}NBM_GRAM:{model.target}"] = gram
                values[f"{prefix}NBM_MOMENT:{model.target}"] = moment
                values[f"{prefix}NBM_RESPONSE_SQUARES:{model.target}"] = np.array([squares])
                values[f"{prefix}NBM_RECORD_COUNT:{model.target}"] = np.array([n, turbines, float(n > 0), n**2])
        return values


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
        cell = np.where(membership[records.asset, c], ws_bin, -1)
        count, sum_ws, sum_p, sum_p2 = bin_power_curve(cell, records.wind_speed, records.power, n_ws)
        _, sum_area, sum_pu, sum_pu2 = bin_power_curve(cell, records.power_per_area, records.power_per_unit, n_ws)
        for statistic, value in zip(SUMMED, (count, sum_ws, sum_p, sum_p2, sum_pu, sum_pu2, sum_area), strict=True):
            out[statistic][c] = value
        out[S.NORMALISED_POWER_HISTOGRAM][c] = power_histogram(cell, power_bin, n_ws, p_grid.count)
    return out


def turbine_power_histograms(records: PreparedRecords, spec: spec_pb2.BenchmarkSpec, n_turbines: int) -> np.ndarray:
    """Records per (turbine, wind-speed bin, normalised-power bin) of one chunk [records]."""
    ws_grid, p_grid = spec.wind_speed_bins, spec.normalised_power_bins
    ws_bin = bin_index(records.wind_speed, ws_grid.first_centre, ws_grid.width, ws_grid.count)
    power_bin = clipped_bin_index(records.power_per_unit, p_grid.first_centre, p_grid.width, p_grid.count)
    turbine_bin = np.where(ws_bin >= 0, records.asset * ws_grid.count + ws_bin, -1)
    histogram = power_histogram(turbine_bin, power_bin, n_turbines * ws_grid.count, p_grid.count)
    return histogram.reshape(n_turbines, ws_grid.count, p_grid.count)


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
    counts = FilterCounts(pd.Index([t.asset_id for t in site.turbines]), [f.name for f in spec.filters])
    training = ModelTraining(site, spec)
    sums: dict[int, np.ndarray] = {}
    private = any(layout.statistic == S.CAPPED_POWER_HISTOGRAM for layout in layouts)
    n_turbines = len(site.turbines)
    per_turbine = np.zeros((n_turbines, spec.wind_speed_bins.count, spec.normalised_power_bins.count) if private else 0)
    for records in prepared_records(read_chunks, site, spec, counts, training.observe):
        for statistic, value in cohort_sums(records, membership, spec).items():
            sums[statistic] = sums[statistic] + value if statistic in sums else value
        if private:
            per_turbine += turbine_power_histograms(records, spec, n_turbines)
    if private:
        capped = cap_turbine_histograms(per_turbine, spec.privacy.max_records_per_turbine_per_bin)

    n_cohorts, n_ws = len(spec.cohorts), spec.wind_speed_bins.count
    record_count = sums.get(S.RECORD_COUNT, np.zeros((n_cohorts, n_ws)))
    cohort_index = {cohort.name: i for i, cohort in enumerate(spec.cohorts)}
    derived = {
        S.BIN_CONTRIBUTOR: lambda c: (record_count[c] > 0).astype(np.float64),
        S.COHORT_CONTRIBUTOR: lambda c: np.array([float(record_count[c].sum() > 0)]),
        S.SQUARED_RECORD_COUNT: lambda c: record_count[c] ** 2,
        S.SQUARED_COHORT_RECORD_COUNT: lambda c: np.array([record_count[c].sum() ** 2]),
        S.CAPPED_POWER_HISTOGRAM: lambda c: capped[membership[:, c]].sum(axis=0),
    }
    values = training.blocks()
    for layout in layouts:
        if layout.name in values:
            continue
        c = cohort_index[layout.cohort]
        if layout.statistic in derived:
            value = derived[layout.statistic](c)
        else:
            value = sums[layout.statistic][c] if layout.statistic in sums else np.zeros(layout.shape)
        values[layout.name] = np.asarray(value, dtype=np.float64).reshape(layout.shape)
    return SiteSummary(values, counts.frame())
