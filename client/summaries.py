"""A site's contribution to a benchmark: the spec's blocks, computed from its canonical frames.

Everything here stays on site; only :func:`protos.codec.encode_blocks` of ``SiteSummary.values``
is sent, and only through secure aggregation. The per-turbine filter report never leaves.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from client.air_density import air_density, normalise_power, normalise_wind_speed, pressure_at_elevation
from client.filters import (
    FILTERS,
    BinOutlierStatistics,
    Records,
    TurbineArrays,
    asset_codes,
    check_filters,
    n_records,
    values,
)
from client.indicators import MomentSums, centred_sums, nbm_design
from client.power_curve import bin_index, binned_sums, clipped_bin_index, power_histogram
from client.privacy import cap_unit_histograms
from client.schema import STATUS
from client.site_config import SiteConfig, Turbine
from client.streaming import ChunkSource, RecordSpill, array_chunks_with_context
from protos.codec import block_layouts
from protos.disclosure import atom_index, cohort_atoms, turbine_in_cohort
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import STATISTICS, BlockKey, NbmRecordCount

S = spec_pb2.Statistic
BLOCK_ROWS = 65536
"""Records judged at once: a block's temporaries stay small (reused rather than mapped afresh), and the
per-block Python work is paid once per 65,536 records (32,768 measured about 10 % slower at 10 M rows)."""
FILTERED_CHANNELS = ("WTUR_W", "WMET_HorWdSpd", "WMET_EnvTmp", "WMET_EnvPres", "WMET_EnvHum", "WROT_BlPthAngVal")
"""Numeric channels the filters and the density normalisation read, when mapped."""


@dataclass(frozen=True)
class SiteSummary:
    """The blocks a site would send, and what its filters did (which stays on site)."""

    values: dict[BlockKey, np.ndarray]  # the spec's blocks
    census: dict[BlockKey, np.ndarray]  # its census spec's blocks (protos/census.py)
    filter_report: pd.DataFrame  # index asset_id; columns records, one per filter, used
    filters_by_wind_speed: pd.DataFrame  # index 1 m/s bins of measured wind speed; columns records, one per filter


def in_cohort(turbine: Turbine, cohort: spec_pb2.Cohort) -> bool:
    """Whether ``turbine`` belongs to ``cohort`` (:func:`protos.disclosure.turbine_in_cohort`)."""
    return turbine_in_cohort(
        cohort,
        turbine.model,
        turbine.rated_power_kw,
        turbine.specific_power,
        turbine.iec_wind_class,
        turbine.wind_speed_reference,
    )


def cohort_membership(site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    """Boolean matrix (turbines x cohorts): which of the spec's cohorts each turbine belongs to."""
    return np.array([[in_cohort(t, c) for c in spec.cohorts] for t in site.turbines], dtype=bool).reshape(
        len(site.turbines), len(spec.cohorts)
    )


def period_bounds(spec: spec_pb2.BenchmarkSpec) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The spec's period as UTC timestamps, [start, end)."""
    return pd.Timestamp(spec.period.start).tz_convert("UTC"), pd.Timestamp(spec.period.end).tz_convert("UTC")


def utc_times(records: Records) -> np.ndarray:
    """Each record's time as datetime64 in UTC (no copy)."""
    time = records["time"]
    if isinstance(time, pd.Series):
        if isinstance(time.dtype, pd.DatetimeTZDtype):
            return time.array.asi8.view(f"datetime64[{time.dtype.unit}]")  # stored as UTC
        return time.to_numpy()
    return np.asarray(time)


def time_within(time: np.ndarray, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Which datetime64 (UTC) ``time`` values lie in [start, end) (NaT never does)."""
    unit, _ = np.datetime_data(time.dtype)
    low, high = _ticks(start, unit), _ticks(end, unit)
    if low is None or high is None:  # a bound between two ticks of the unit: compare in nanoseconds
        time, low, high = time.astype("datetime64[ns]"), start.value, end.value
    ticks = time.view(np.int64)  # NaT is the smallest int64: before any start
    return (ticks >= low) & (ticks < high)


def _ticks(timestamp: pd.Timestamp, unit: str) -> int | None:
    """``timestamp`` as an integer count of ``unit`` since the epoch, or None if it is not a whole count."""
    value = np.datetime64(timestamp.value, "ns")
    converted = value.astype(f"datetime64[{unit}]")
    return int(converted.view(np.int64)) if converted == value else None


def record_air_density(frame: Records, site: SiteConfig) -> np.ndarray:
    """Air density of each record [kg/m^3] from temperature, pressure (or elevation) and humidity."""
    temperature_k = values(frame, "WMET_EnvTmp") + 273.15 if "WMET_EnvTmp" in frame else np.nan
    if "WMET_EnvPres" in frame:
        pressure = values(frame, "WMET_EnvPres")
        if site.elevation_m is not None:
            pressure = np.where(np.isfinite(pressure), pressure, pressure_at_elevation(site.elevation_m))
    else:
        pressure = pressure_at_elevation(site.elevation_m)
    humidity = 0.5
    if "WMET_EnvHum" in frame:
        humidity = values(frame, "WMET_EnvHum")
        humidity = np.where(np.isnan(humidity), 0.5, humidity)
    return np.broadcast_to(air_density(temperature_k, pressure, humidity), (n_records(frame),))


def density_normalised(
    frame: Records, site: SiteConfig, stall: np.ndarray, reference_air_density: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wind speed [m/s] and power [kW] of each record, normalised to rho0 (IEC 61400-12-1:2017, 9.1.5).

    Pitch-regulated turbines (``stall`` False) get V_n = V (rho / rho0)^(1/3) and keep P;
    stall-regulated ones keep V and get P_n = P rho0 / rho.
    """
    wind_speed = values(frame, "WMET_HorWdSpd")
    power = values(frame, "WTUR_W")
    density = record_air_density(frame, site)
    stall = np.broadcast_to(stall, wind_speed.shape)
    if not stall.any():
        return normalise_wind_speed(wind_speed, density, reference_air_density), power
    if stall.all():
        return wind_speed, normalise_power(power, density, reference_air_density)
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

    Density-normalised as :func:`density_normalised` says (IEC 61400-12-1:2017, 9.1.5). Not to be
    confused with the contract's "normalised power" (``normalised_power_bins``), which is
    ``power_per_unit``, P / P_rated.
    """

    asset: np.ndarray  # index into site.turbines
    density_normalised_wind_speed: np.ndarray  # [m/s]
    density_normalised_power: np.ndarray  # [kW]
    power_per_unit: np.ndarray  # [-], density-normalised power / rated power
    power_per_area: np.ndarray  # [W/m^2], density-normalised power / swept area


class FilterCounts:
    """What the filters did, per turbine and per measured wind speed: records in the period, flagged, used.

    Row filters count every record of the period they flag (a record may count under several);
    ``bin_outlier`` counts among the records the row filters passed, which its statistics describe.
    By wind speed, records count in 1 m/s bins of the measured wind speed (the last bin holds 25
    m/s and above, and records without one); ``used`` is counted by turbine only.
    """

    WIND_SPEED_BINS = 26

    def __init__(self, asset_ids: pd.Index, filter_names: Iterable[str]) -> None:
        self.asset_ids = asset_ids
        self.counts = {name: np.zeros(len(asset_ids), dtype=np.int64) for name in ("records", *filter_names, "used")}
        self.by_wind_speed = {
            name: np.zeros(self.WIND_SPEED_BINS, dtype=np.int64) for name in ("records", *filter_names)
        }

    def wind_speed_bin(self, wind_speed: np.ndarray) -> np.ndarray:
        """Each record's 1 m/s bin of measured wind speed [m/s] (the last for 25 m/s and above, or none)."""
        with np.errstate(invalid="ignore"):
            return np.clip(np.nan_to_num(wind_speed, nan=np.inf), 0, self.WIND_SPEED_BINS - 1).astype(np.int64)

    def add(self, name: str, asset: np.ndarray, wind_speed_bin: np.ndarray | None = None) -> None:
        """Count one record under ``name`` for each turbine index in ``asset`` (and in its :meth:`wind_speed_bin`)."""
        self.counts[name] += np.bincount(asset, minlength=len(self.asset_ids))
        if wind_speed_bin is not None:
            self.by_wind_speed[name] += np.bincount(wind_speed_bin, minlength=self.WIND_SPEED_BINS)

    def frame(self) -> pd.DataFrame:
        """The counts as a table, one row per turbine (index asset_id)."""
        return pd.DataFrame(self.counts, index=self.asset_ids.rename("asset_id"))

    def wind_speed_frame(self) -> pd.DataFrame:
        """The counts by measured wind speed, one row per 1 m/s bin (index: its lower edge [m/s])."""
        edges = pd.Index(np.arange(self.WIND_SPEED_BINS, dtype=float), name="wind_speed_from")
        return pd.DataFrame(self.by_wind_speed, index=edges)


def canonical_columns(frame: pd.DataFrame, asset_order: pd.Index, names: Iterable[str]) -> dict[str, np.ndarray]:
    """A canonical frame's columns as numpy arrays, without copies where its columns allow.

    ``time`` (datetime64, UTC), ``asset`` (index into ``asset_order``) and those of the channels
    ``names`` the frame has (float64).
    """
    columns = {"time": utc_times(frame), "asset": asset_codes(frame["asset_id"], asset_order)}
    for name in names:
        if name in frame:
            columns[name] = frame[name].to_numpy(dtype=np.float64)
    return columns


Observer = Callable[[Records, np.ndarray, "np.ndarray | None"], None]


def prepared_records(
    read_chunks: ChunkSource,
    site: SiteConfig,
    spec: spec_pb2.BenchmarkSpec,
    counts: FilterCounts | None = None,
    observe: Observer | None = None,
    observed_channels: Iterable[str] = (),
) -> Iterator[PreparedRecords]:
    """The site's records in the spec's period that pass its filters, normalised, block by block.

    The export is read once. Row filters judge each record as it streams past, in blocks of
    ``BLOCK_ROWS`` records (with the neighbours a filter's context needs); with a ``bin_outlier``
    filter the records they pass within its power bins are spilled (:class:`client.streaming.RecordSpill`) while
    each turbine's wind-speed statistics per power bin accumulate, then replayed and judged against
    them (the records outside its power bins are yielded at once). ``counts``, when
    given, receives what each filter removed; ``observe``, when given, sees every canonical record
    before filtering, block by block (sorted by turbine, then time), as numpy columns (also
    ``observed_channels``) with its turbine indices and which of them it owns (None: all; the
    others are neighbours a chunk before or after owns).
    """
    check_filters((f.name, f.parameters) for f in spec.filters)
    turbines = SiteTurbines.of(site, spec)
    site_arrays = TurbineArrays.of(site)
    start, end = period_bounds(spec)
    row_filters = [f for f in spec.filters if FILTERS[f.name].flag]
    contexts = [FILTERS[f.name].context(f.parameters) for f in row_filters]
    context = max(contexts, default=0)
    bin_filter = next((f for f in spec.filters if f.name == "bin_outlier"), None)
    statistics = BinOutlierStatistics(len(site.turbines), bin_filter.parameters) if bin_filter else None
    spill = RecordSpill() if statistics is not None else None
    channels = {*FILTERED_CHANNELS, STATUS, *(observed_channels if observe is not None else ())}

    def chunk_columns() -> Iterator[dict[str, np.ndarray]]:
        for frame in read_chunks():
            yield canonical_columns(frame, turbines.ids, channels)

    # Each record is judged with its turbine's neighbours either side, carried between chunks.
    for chunk, owned_rows in array_chunks_with_context(chunk_columns(), len(turbines.ids), context):
        n = len(chunk)
        for a in range(0, n, BLOCK_ROWS):
            b = min(a + BLOCK_ROWS, n)
            block = chunk.rows(a, b)
            asset = block.pop("asset")
            owned = None if owned_rows is None else owned_rows[a:b]
            if observe is not None:
                observe(block, asset, owned)
            passed = time_within(block["time"], start, end)
            if owned is not None:
                passed &= owned
            counted = passed.copy() if counts is not None else None
            ws_bin = counts.wind_speed_bin(block["WMET_HorWdSpd"]) if counts is not None else None
            if counts is not None:
                counts.add("records", asset[counted], ws_bin[counted])
            here = site_arrays.select(asset)
            low, high = max(a - context, 0), min(b + context, n)
            for f, f_context in zip(row_filters, contexts, strict=True):
                if f_context:  # judged with its neighbours, within the chunk
                    window = chunk.rows(low, high)
                    near = window["asset"]
                    flags = FILTERS[f.name].flag(window, site_arrays.select(near), f.parameters)[a - low : b - low]
                else:
                    flags = FILTERS[f.name].flag(block, here, f.parameters)
                if counts is not None:
                    counts.add(f.name, asset[counted & flags], ws_bin[counted & flags])
                passed &= ~flags
            # Normalising every record of the block costs less than selecting the passed ones first.
            with np.errstate(all="ignore"):
                wind_speed, power = density_normalised(block, site, turbines.stall[asset], spec.reference_air_density)
            if spill is None:
                rows = np.flatnonzero(passed)
                yield _prepared(asset[rows], wind_speed[rows], power[rows], turbines, counts)
                continue
            raw_wind_speed = block["WMET_HorWdSpd"]
            cells = statistics.cells(asset, block["WTUR_W"] / here.rated_power_kw)
            cells[~passed] = -1  # not accumulated, not judged
            statistics.add_cells(cells, raw_wind_speed)
            # Records outside every power bin of the bin filter are never outliers: they need no second pass.
            rows = np.flatnonzero(cells == statistics.n_cells)
            yield _prepared(asset[rows], wind_speed[rows], power[rows], turbines, counts)
            rows = np.flatnonzero((cells >= 0) & (cells < statistics.n_cells))
            # The fewest bytes that replay the record: its cell also says its turbine.
            spill.write((_compact(cells[rows]), wind_speed[rows], power[rows], raw_wind_speed[rows]))

    if spill is not None:
        for cells, wind_speed, power, raw_wind_speed in spill.replay():
            asset = cells // statistics.n_power_bins  # int32, as binned_sums takes it
            outlier = statistics.outliers(cells, raw_wind_speed)
            if counts is not None:
                counts.add("bin_outlier", asset[outlier], counts.wind_speed_bin(raw_wind_speed[outlier]))
            keep = ~outlier
            yield _prepared(asset[keep], wind_speed[keep], power[keep], turbines, counts)


def _compact(index: np.ndarray) -> np.ndarray:
    """Non-negative indices below 2^31 as int32, to spill half the bytes."""
    return index.astype(np.int32)


def _prepared(
    asset: np.ndarray,
    wind_speed: np.ndarray,
    power: np.ndarray,
    turbines: SiteTurbines,
    counts: FilterCounts | None,
) -> PreparedRecords:
    if counts is not None:
        counts.add("used", asset)
    return PreparedRecords(
        asset=asset,
        density_normalised_wind_speed=wind_speed,
        density_normalised_power=power,
        power_per_unit=power / turbines.rated_kw[asset],
        power_per_area=power * 1e3 / turbines.area_m2[asset],
    )


def _nbm_training_mask(chunk: Records, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    """Records a normal-behaviour model trains on: in the training window, normal status, finite inputs."""
    start, end = _training_bounds(spec.training_period.start, spec.training_period.end)
    return time_within(utc_times(chunk), start, end) & normal_status(chunk, site)


@functools.lru_cache(maxsize=8)
def _training_bounds(start: str, end: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")


def normal_status(chunk: Records, site: SiteConfig) -> np.ndarray:
    """Records whose status code means normal operation (all of them without a status channel)."""
    if STATUS in chunk:
        return np.isin(np.asarray(chunk[STATUS]), site.normal_status_codes)
    return np.ones(n_records(chunk), dtype=bool)


def model_rows(
    chunk: Records, rated_kw: np.ndarray, model: spec_pb2.NormalBehaviourModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design matrix, target and which rows are usable (all finite) for ``model``."""
    power_per_unit = values(chunk, "WTUR_W") / rated_kw
    ambient = values(chunk, "WMET_EnvTmp") if "WMET_EnvTmp" in chunk else np.full(len(power_per_unit), np.nan)
    design = nbm_design(power_per_unit, ambient, tuple(model.features))
    target = values(chunk, model.target) if model.target in chunk else np.full(len(power_per_unit), np.nan)
    return design, target, _finite_rows(design, target)


def _finite_rows(design: np.ndarray, target: np.ndarray) -> np.ndarray:
    usable = np.isfinite(target)
    for j in range(design.shape[1]):
        usable &= np.isfinite(design[:, j])
    return usable


def turbine_grams(asset: np.ndarray, weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per turbine of records sorted by turbine: W^T W over its rows of ``weighted`` (records x columns).

    Returns the turbines and their products (turbines x columns x columns), one matrix product
    each. With W = [u, Z] (u: 1 for a usable record, else 0, and Z zero there), W^T W holds a
    turbine's count of usable records, the sums of Z and Z^T Z at once.
    """
    bounds = np.flatnonzero(np.r_[True, asset[1:] != asset[:-1], True]).tolist()
    grams = np.empty((len(bounds) - 1, weighted.shape[1], weighted.shape[1]))
    for k, (begin, stop) in enumerate(itertools.pairwise(bounds)):
        rows = weighted[begin:stop]
        grams[k] = rows.T @ rows
    return asset[bounds[:-1]], grams


class ModelTraining:
    """Round 1: per-turbine moment sums of every model of the spec, over its training records."""

    def __init__(self, site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> None:
        self.site, self.spec = site, spec
        self.turbines = SiteTurbines.of(site, spec)
        self.moments = {m.target: MomentSums.zeros(len(site.turbines), len(m.features) + 1) for m in spec.models}

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels the models read besides power, ambient temperature and status: their targets."""
        return tuple(m.target for m in self.spec.models)

    def observe(self, chunk: Records, asset: np.ndarray, rows: np.ndarray | None = None) -> None:
        """Add one canonical chunk (see :func:`client.summaries.prepared_records`), or its ``rows`` (a mask)."""
        models = [m for m in self.spec.models if m.target in chunk]
        if not models:
            return  # the export maps no modelled channel: nothing to train, nothing to scan
        training = _nbm_training_mask(chunk, self.site, self.spec)
        if rows is not None:
            training &= rows
        index = np.flatnonzero(training)
        asset = asset[index]
        power_per_unit = values(chunk, "WTUR_W")[index] / self.turbines.rated_kw[asset]
        ambient = values(chunk, "WMET_EnvTmp")[index] if "WMET_EnvTmp" in chunk else np.full(len(index), np.nan)
        by_features: dict[tuple[str, ...], list[spec_pb2.NormalBehaviourModel]] = {}
        for model in models:
            by_features.setdefault(tuple(model.features), []).append(model)
        for features, members in by_features.items():
            design = nbm_design(power_per_unit, ambient, features)  # shared by the models of these features
            targets = [values(chunk, model.target)[index] for model in members]
            usable = [_finite_rows(design, target) for target in targets]
            if all(np.array_equal(usable[0], u) for u in usable[1:]):
                together = [(members, targets, usable[0])]  # one product for all of them
            else:
                together = [([m], [t], u) for m, t, u in zip(members, targets, usable, strict=True)]
            for group, group_targets, group_usable in together:
                self._add(asset, design, group, group_targets, group_usable)

    def _add(
        self,
        asset: np.ndarray,
        design: np.ndarray,
        models: list[spec_pb2.NormalBehaviourModel],
        targets: list[np.ndarray],
        usable: np.ndarray,
    ) -> None:
        if len(asset) == 0:
            return
        n_features = design.shape[1]
        # W = [u, design, targets...], column by column (Fortran order): its columns are written contiguously.
        weighted = np.empty((len(asset), 1 + n_features + len(targets)), order="F")
        weighted[:, 0] = usable
        weighted[:, 1 : 1 + n_features] = design
        for j, target in enumerate(targets):
            weighted[:, 1 + n_features + j] = target
        if not usable.all():
            weighted[~usable, 1:] = 0.0  # a record without all its values adds nothing
        sorted_by_turbine = not np.any(asset[1:] < asset[:-1])
        turbines, grams = turbine_grams(asset, weighted) if sorted_by_turbine else (None, None)
        for k, model in enumerate(models):
            moments = self.moments[model.target]
            columns = [*range(1 + n_features), 1 + n_features + k]
            if not sorted_by_turbine:
                moments.add(asset[usable], weighted[np.ix_(usable, columns[1:])])
                continue
            own = grams[:, columns][:, :, columns]
            np.add.at(moments.count, turbines, own[:, 0, 0])
            np.add.at(moments.first, turbines, own[:, 0, 1:])
            np.add.at(moments.second, turbines, own[:, 1:, 1:])

    def blocks(self) -> dict[BlockKey, np.ndarray]:
        """The NBM_* blocks of every cohort and model."""
        values = {}
        for c, cohort in enumerate(self.spec.cohorts):
            members = self.turbines.membership[:, c]
            for model in self.spec.models:
                moments = self.moments[model.target]
                gram, moment, squares, n = centred_sums(moments, members)
                turbines = int(np.count_nonzero(moments.count[members]))
                counts = NbmRecordCount(records=n, turbines=turbines, contributor=float(n > 0))
                values[BlockKey(cohort.name, S.NBM_GRAM, model.target)] = gram
                values[BlockKey(cohort.name, S.NBM_MOMENT, model.target)] = moment
                values[BlockKey(cohort.name, S.NBM_RESPONSE_SQUARES, model.target)] = np.array([squares])
                values[BlockKey(cohort.name, S.NBM_RECORD_COUNT, model.target)] = np.array(counts, dtype=np.float64)
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
) -> tuple[dict[spec_pb2.Statistic, np.ndarray], np.ndarray]:
    """Per-bin sums of every cohort, by statistic, each of shape (n_cohorts, n_ws[, n_p]), and each group's records.

    Turbines that belong to the same cohorts (a group: an atom of the spec, protos/disclosure.py)
    are summed together, once (one bincount per statistic whatever the number of cohorts), then each
    cohort adds its groups. The groups' records per bin (:func:`cohort_groups` order, n_groups x
    n_ws) are what the census counts.

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
    n_cohorts, n_ws, n_p = membership.shape[1], ws_grid.count, p_grid.count
    groups, group_of_turbine = cohort_groups(membership)
    ws_bin = bin_index(records.density_normalised_wind_speed, ws_grid.first_centre, ws_grid.width, ws_grid.count)
    power_bin = clipped_bin_index(records.power_per_unit, p_grid.first_centre, p_grid.width, n_p)
    sums, histogram = binned_sums(
        records.asset,
        group_of_turbine,
        len(groups),
        ws_bin,
        n_ws,
        power_bin,
        n_p,
        records.density_normalised_wind_speed,
        records.density_normalised_power,
        records.power_per_unit,
        records.power_per_area,
    )
    by_group = dict(zip(SUMMED, sums, strict=True))
    by_group[S.NORMALISED_POWER_HISTOGRAM] = histogram
    members = [np.flatnonzero(groups[:, c]) for c in range(n_cohorts)]
    out = {}
    for statistic, value in by_group.items():
        out[statistic] = np.zeros((n_cohorts, *value.shape[1:]))
        for c, groups_of_cohort in enumerate(members):
            if len(groups_of_cohort) == 1:
                out[statistic][c] = value[groups_of_cohort[0]]
            elif len(groups_of_cohort):
                out[statistic][c] = value[groups_of_cohort].sum(axis=0)
    return out, by_group[S.RECORD_COUNT]


@functools.lru_cache(maxsize=16)
def _cohort_groups_of(shape: tuple[int, int], packed: bytes) -> tuple[np.ndarray, np.ndarray]:
    membership = np.frombuffer(packed, dtype=bool).reshape(shape)
    distinct, group = np.unique(membership, axis=0, return_inverse=True)
    some = distinct.any(axis=1)
    n_groups = int(some.sum())
    renumber = np.full(len(distinct), n_groups)  # turbines of no cohort: the group past the last
    renumber[some] = np.arange(n_groups)
    groups, group_of_turbine = distinct[some], renumber[group.reshape(-1)]
    groups.flags.writeable = group_of_turbine.flags.writeable = False  # shared by every call
    return groups, group_of_turbine


def cohort_groups(membership: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct memberships of some cohort (groups x cohorts), and each turbine's group (n_groups: none).

    Records of a group's turbines are summed together once; cells of the group past the last are dropped.
    """
    return _cohort_groups_of(membership.shape, np.ascontiguousarray(membership, dtype=bool).tobytes())


def add_turbine_power_histograms(records: PreparedRecords, spec: spec_pb2.BenchmarkSpec, out: np.ndarray) -> None:
    """Add one block's records per (turbine, wind-speed bin, normalised-power bin) to ``out`` [records].

    Only the (turbine, wind-speed bin) rows the block touches are counted, so a block of a few
    turbines does not allocate and add a whole (turbines x wind-speed bins x power bins) array.
    """
    ws_grid, p_grid = spec.wind_speed_bins, spec.normalised_power_bins
    ws_bin = bin_index(records.density_normalised_wind_speed, ws_grid.first_centre, ws_grid.width, ws_grid.count)
    power_bin = clipped_bin_index(records.power_per_unit, p_grid.first_centre, p_grid.width, p_grid.count)
    row = np.where(ws_bin >= 0, records.asset * ws_grid.count + ws_bin, -1)
    touched = row[row >= 0]
    if touched.size:
        first, last = int(touched.min()), int(touched.max())
        rows = out.reshape(-1, p_grid.count)  # a view: out is C-contiguous
        rows[first : last + 1] += power_histogram(
            np.where(row >= 0, row - first, -1), power_bin, last - first + 1, p_grid.count
        )


def atom_census(atom_totals: np.ndarray, cohort_totals: np.ndarray) -> np.ndarray:
    """A census block (3, atoms + cohorts, ...) from this site's totals per atom and per cohort.

    The site is one operator: it contributes where its total is positive, and its square is its
    own total squared (protos.statistics.CensusFields).
    """
    totals = np.concatenate([atom_totals, cohort_totals])
    return np.stack([(totals > 0).astype(np.float64), totals, totals**2])


def round_one_census(
    spec: spec_pb2.BenchmarkSpec,
    groups: np.ndarray,
    group_records: np.ndarray,
    cohort_records: np.ndarray,
    training: ModelTraining,
) -> dict[BlockKey, np.ndarray]:
    """The census blocks of round-1 spec ``spec``: records per atom (and cohort) and bin, over the period, in training.

    Parameters
    ----------
    groups : ndarray of bool
        The site's membership groups (groups x cohorts, :func:`cohort_groups`): each is an atom.
    group_records : ndarray
        Each group's records per wind-speed bin (groups x bins).
    cohort_records : ndarray
        Each cohort's records per wind-speed bin (cohorts x bins).
    training : ModelTraining
        The models' per-turbine training sums (their record counts).
    """
    atoms = cohort_atoms(spec.cohorts)
    atom_of_group = atom_index(groups, atoms)
    per_atom = np.zeros((len(atoms), group_records.shape[1]))
    per_atom[atom_of_group] = group_records
    census = {
        BlockKey("", S.CURVE_CENSUS): atom_census(per_atom, cohort_records),
        BlockKey("", S.COHORT_CENSUS): atom_census(per_atom.sum(axis=1), cohort_records.sum(axis=1)),
    }
    membership = training.turbines.membership
    atom_of_turbine = atom_index(membership, atoms)
    in_atom = atom_of_turbine >= 0
    for model in spec.models:
        count = training.moments[model.target].count
        records = np.zeros(len(atoms))
        np.add.at(records, atom_of_turbine[in_atom], count[in_atom])
        census[BlockKey("", S.TRAINING_CENSUS, model.target)] = atom_census(records, membership.T @ count)
    return census


def summary_channels(spec: spec_pb2.BenchmarkSpec) -> frozenset[str]:
    """The canonical channels :func:`summarise_site` reads for ``spec``, when the export maps them."""
    return frozenset({*FILTERED_CHANNELS, STATUS, *(model.target for model in spec.models)})


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
    n_cohorts, n_ws, n_p = len(spec.cohorts), spec.wind_speed_bins.count, spec.normalised_power_bins.count
    sums = {statistic: np.zeros((n_cohorts, n_ws)) for statistic in SUMMED}
    sums[S.NORMALISED_POWER_HISTOGRAM] = np.zeros((n_cohorts, n_ws, n_p))
    groups, _ = cohort_groups(membership)
    group_records = np.zeros((len(groups), n_ws))
    private = any(layout.statistic == S.CAPPED_POWER_HISTOGRAM for layout in layouts)
    per_turbine = np.zeros((len(site.turbines), n_ws, n_p) if private else 0)
    for records in prepared_records(read_chunks, site, spec, counts, training.observe, training.channels):
        by_cohort, by_group = cohort_sums(records, membership, spec)
        for statistic, value in by_cohort.items():
            sums[statistic] += value
        group_records += by_group[: len(groups)]
        if private:
            add_turbine_power_histograms(records, spec, per_turbine)
    if private:
        exponent = STATISTICS[S.CAPPED_POWER_HISTOGRAM].scale_exponent
        capped = cap_unit_histograms(per_turbine, spec.privacy.max_records_per_turbine_per_bin, exponent)

    record_count = sums[S.RECORD_COUNT]
    cohort_index = {cohort.name: i for i, cohort in enumerate(spec.cohorts)}
    derived = {
        S.BIN_CONTRIBUTOR: lambda c: (record_count[c] > 0).astype(np.float64),
        S.COHORT_CONTRIBUTOR: lambda c: np.array([float(record_count[c].sum() > 0)]),
        S.CAPPED_POWER_HISTOGRAM: lambda c: capped[membership[:, c]].sum(axis=0),
    }
    values = training.blocks()
    for layout in layouts:
        if layout.key in values:
            continue
        c = cohort_index[layout.cohort]
        if layout.statistic in derived:
            value = derived[layout.statistic](c)
        elif layout.statistic in sums:
            value = sums[layout.statistic][c]
        else:
            raise ValueError(
                f"spec {spec.spec_id} asks for block {layout.name}, which a site does not compute in round 1"
            )
        values[layout.key] = np.asarray(value, dtype=np.float64).reshape(layout.shape)
    census = round_one_census(spec, groups, group_records, sums[S.RECORD_COUNT], training)
    return SiteSummary(values, census, counts.frame(), counts.wind_speed_frame())
