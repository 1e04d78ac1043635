"""Data-quality filters applied on site before summarising, as the spec lists them.

Each filter returns a boolean mask, True where it flags a record; masks are combined, rows are
never dropped. ``FILTERS`` is the one registry of names, defaults and functions. Two filters need
more than one row at a time: ``frozen_sensor`` needs each turbine's records in time order with
their neighbours, which :func:`client.streaming.chunks_with_context` gives across chunks, and
``bin_outlier`` needs each turbine's statistics over the whole period, gathered in a first pass
(:class:`BinOutlierStatistics`).
Thresholds follow NREL OpenOA's filters (openoa.utils.filters) unless stated.

A filter reads its records either from a canonical DataFrame or from its columns as numpy arrays
(:data:`Records`), so the summaries can run the same filters over slices of arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

import numba
import numpy as np
import pandas as pd

from client.runs import continues_run, long_run_context, long_runs
from client.schema import STATUS
from protos.domain import REFERENCE_AIR_DENSITY

if TYPE_CHECKING:
    from client.site_config import SiteConfig

Records: TypeAlias = pd.DataFrame | Mapping[str, np.ndarray]
"""Canonical records: a DataFrame, or its columns as numpy arrays (``time`` as datetime64, UTC)."""


def values(records: Records, name: str) -> np.ndarray:
    """Column ``name`` of ``records`` as a float64 array (no copy when it already is one)."""
    return np.asarray(records[name], dtype=np.float64)


def n_records(records: Records) -> int:
    """Number of records (rows, not columns, of a mapping of columns)."""
    return len(records) if isinstance(records, pd.DataFrame) else len(next(iter(records.values())))


def missing_time(records: Records) -> np.ndarray:
    """Which records have no valid time (NaT)."""
    time = records["time"]
    return time.isna().to_numpy() if isinstance(time, pd.Series) else np.isnat(time)


@dataclass(frozen=True)
class TurbineArrays:
    """Per-record turbine metadata a filter may need (aligned with the chunk's rows)."""

    asset_index: np.ndarray  # index into the site's turbines
    rated_power_kw: np.ndarray  # [kW]
    rated_wind_speed: np.ndarray  # [m/s], :func:`rated_wind_speed` of the turbine's specific power
    normal_status_codes: tuple[int, ...]

    @classmethod
    def of(cls, site: SiteConfig, asset_index: np.ndarray | None = None) -> TurbineArrays:
        """The metadata of ``site``'s turbines for records of turbines ``asset_index`` (default: one per turbine)."""
        rated = np.array([t.rated_power_kw for t in site.turbines])
        specific = np.array([t.specific_power for t in site.turbines])
        whole = cls(np.arange(len(rated)), rated, rated_wind_speed(specific), site.normal_status_codes)
        return whole if asset_index is None else whole.select(asset_index)

    def select(self, asset_index: np.ndarray) -> TurbineArrays:
        """The metadata for records of turbines ``asset_index``, from one entry per turbine (:meth:`of` a site)."""
        return TurbineArrays(
            asset_index, self.rated_power_kw[asset_index], self.rated_wind_speed[asset_index], self.normal_status_codes
        )


RATED_POWER_COEFFICIENT = 0.35
"""Power coefficient Cp [-] typical of pitch-regulated turbines at rated wind speed (their peak, lower down, ~0.45)."""


def rated_wind_speed(specific_power: np.ndarray) -> np.ndarray:
    """Wind speed [m/s] at which a turbine of ``specific_power`` [W/m^2] reaches rated power, estimated.

    P_rated / A = rho0 Cp V^3 / 2 with rho0 = 1.225 kg/m^3 (the release's reference) and Cp =
    :data:`RATED_POWER_COEFFICIENT`.
    It runs low rather than high (by 0-2.5 m/s on windpowerlib's curves at 99 % of rated): a rule
    that must not judge records above rated then leaves some below rated unjudged, never the reverse.
    """
    return (2.0 * np.asarray(specific_power, dtype=np.float64) / (REFERENCE_AIR_DENSITY * RATED_POWER_COEFFICIENT)) ** (
        1 / 3
    )


def range_flag(frame: Records, turbines: TurbineArrays, parameters: Mapping[str, float]) -> np.ndarray:
    """Flag records without a valid time, wind speed, power or temperature, or with P / P_rated outside [-0.5, 2].

    Ingest has already blanked values outside each channel's physical range (client/schema.py).
    """
    power = values(frame, "WTUR_W")
    per_unit = power / turbines.rated_power_kw
    with np.errstate(invalid="ignore"):
        flagged = (per_unit < -0.5) | (per_unit > 2.0)
    flagged |= missing_time(frame)
    flagged |= ~np.isfinite(values(frame, "WMET_HorWdSpd"))
    flagged |= ~np.isfinite(power)
    if "WMET_EnvTmp" in frame:
        flagged |= ~np.isfinite(values(frame, "WMET_EnvTmp"))
    return flagged


def status_flag(frame: Records, turbines: TurbineArrays, parameters: Mapping[str, float]) -> np.ndarray:
    """Flag downtime and curtailment: by status code when mapped, else by signature.

    Without a status channel, a record is downtime when the wind speed is at least
    ``downtime_wind_speed`` [m/s] but the power is not positive. With a pitch channel, it is
    curtailed when the blades are pitched at least ``curtailment_pitch`` [deg] where a free
    turbine holds fine pitch: between ``downtime_wind_speed`` and its rated wind speed
    (:func:`rated_wind_speed`) with the power below 95 % of rated; above rated, where the blades
    pitch anyway to hold rated power, only with the power below 80 % of rated. Below
    ``downtime_wind_speed`` a pitched turbine is idling, which the power curve includes.
    """
    if STATUS in frame:
        return ~np.isin(np.asarray(frame[STATUS]), turbines.normal_status_codes)
    wind_speed, power = values(frame, "WMET_HorWdSpd"), values(frame, "WTUR_W")
    with np.errstate(invalid="ignore"):
        flagged = (wind_speed >= parameters["downtime_wind_speed"]) & (power <= 0.0)
        if "WROT_BlPthAngVal" in frame:
            pitched = values(frame, "WROT_BlPthAngVal") >= parameters["curtailment_pitch"]
            below_rated = wind_speed < turbines.rated_wind_speed
            in_partial_load = (wind_speed >= parameters["downtime_wind_speed"]) & below_rated
            limited = np.where(below_rated, 0.95, 0.80) * turbines.rated_power_kw
            flagged |= pitched & (in_partial_load | ~below_rated) & (power < limited)
    return flagged


def frozen_sensor_flag(frame: Records, turbines: TurbineArrays, parameters: Mapping[str, float]) -> np.ndarray:
    """Flag every record of a run of at least ``min_run`` equal consecutive wind speeds.

    As OpenOA's ``unresponsive_flag``. Records must be sorted by turbine, then time; NaN never
    forms a run. A record's flag depends on the ``min_run - 1`` records either side of it only
    (:func:`frozen_sensor_context`).
    """
    wind_speed = values(frame, "WMET_HorWdSpd")
    return long_runs(continues_run(turbines.asset_index, wind_speed), int(parameters["min_run"]))


FROZEN_SENSOR_MAX_RUN = 144
"""Longest ``min_run`` a spec may give the frozen-sensor filter: a day of 10-min records.

The stream carries ``min_run`` - 1 records of each turbine either side of a chunk
(:func:`client.streaming.chunks_with_context`): an unbounded run would carry the whole export."""


def frozen_sensor_context(parameters: Mapping[str, float]) -> int:
    """Records either side of a record that decide its frozen-sensor flag: min_run - 1 (:func:`long_run_context`).

    Raises
    ------
    ValueError
        When ``min_run`` is not a whole number from 2 to :data:`FROZEN_SENSOR_MAX_RUN`.
    """
    min_run = parameters["min_run"]
    if not (min_run == int(min_run) and 2 <= min_run <= FROZEN_SENSOR_MAX_RUN):
        raise ValueError(
            f"spec filter 'frozen_sensor' has min_run {min_run!r}; this site takes a whole number of records "
            f"from 2 to {FROZEN_SENSOR_MAX_RUN}"
        )
    return long_run_context(int(min_run))


def window_flag(frame: Records, turbines: TurbineArrays, parameters: Mapping[str, float]) -> np.ndarray:
    """Flag records with wind speed in [wind_speed_min, wind_speed_max] but power outside [power_min, power_max] p.u.

    As OpenOA's ``window_range_flag`` (the reference uses 5 to 40 m/s and 2 % to 120 % of rated).
    """
    wind_speed = values(frame, "WMET_HorWdSpd")
    per_unit = values(frame, "WTUR_W") / turbines.rated_power_kw
    with np.errstate(invalid="ignore"):
        windy = (wind_speed >= parameters["wind_speed_min"]) & (wind_speed <= parameters["wind_speed_max"])
        outside = (per_unit < parameters["power_min"]) | (per_unit > parameters["power_max"])
    return windy & outside


def asset_codes(asset_id: pd.Series, asset_order: pd.Index) -> np.ndarray:
    """Index of each record's turbine in ``asset_order`` (-1 if absent); free for ingest's categoricals."""
    if isinstance(asset_id.dtype, pd.CategoricalDtype) and asset_id.cat.categories.equals(asset_order):
        return asset_id.cat.codes.to_numpy(dtype=np.int64)
    return asset_order.get_indexer(asset_id)


# Power bins of the bin filter, per unit of rated power; wind speed histograms per power bin.
_WS_HIST_WIDTH = 0.02  # [m/s]
_WS_HIST_COUNT = 3000  # 0 to 60 m/s


@dataclass
class BinOutlierStatistics:
    """Per turbine and power bin: wind-speed count, sum, sum of squares and histogram (first pass)."""

    n_turbines: int
    parameters: Mapping[str, float]
    count: np.ndarray = field(init=False)
    total: np.ndarray = field(init=False)
    total_sq: np.ndarray = field(init=False)
    histogram: np.ndarray = field(init=False)
    _limits: tuple[np.ndarray, np.ndarray] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        n_bins = self.n_power_bins
        self.count = np.zeros((self.n_turbines, n_bins))
        self.total = np.zeros((self.n_turbines, n_bins))
        self.total_sq = np.zeros((self.n_turbines, n_bins))
        self.histogram = np.zeros((self.n_turbines, n_bins, _WS_HIST_COUNT), dtype=np.int32)

    @property
    def n_power_bins(self) -> int:
        """Number of power bins between power_min and power_max."""
        p = self.parameters
        return int(np.ceil((p["power_max"] - p["power_min"]) / p["bin_width"]))

    @property
    def n_cells(self) -> int:
        """Number of (turbine, power bin) cells; :meth:`cells` gives this index to records outside every bin."""
        return self.n_turbines * self.n_power_bins

    def power_bin(self, per_unit: np.ndarray) -> np.ndarray:
        """Power bin of each record, -1 outside [power_min, power_max)."""
        p = self.parameters
        low, high = p["power_min"], p["power_max"]
        with np.errstate(invalid="ignore"):
            index = np.floor((per_unit - low) / p["bin_width"])
            inside = (per_unit >= low) & (per_unit < high)
        return np.where(inside, np.nan_to_num(index, nan=-1), -1).astype(np.int64)

    def cells(self, asset_index: np.ndarray, per_unit: np.ndarray) -> np.ndarray:
        """Cell (turbine x n_power_bins + power bin) of each record; ``n_cells`` outside [power_min, power_max)."""
        p = self.parameters
        low, high = p["power_min"], p["power_max"]
        with np.errstate(invalid="ignore"):
            inside = (per_unit >= low) & (per_unit < high)  # False for NaN
            index = ((per_unit - low) / p["bin_width"]).astype(np.int64, casting="unsafe")  # floor: >= 0 inside
        index += asset_index * self.n_power_bins
        index[~inside] = self.n_cells
        return index

    def add(self, asset_index: np.ndarray, wind_speed: np.ndarray, per_unit: np.ndarray) -> None:
        """Accumulate records (those the earlier filters passed) of turbines ``asset_index``."""
        self.add_cells(self.cells(asset_index, per_unit), wind_speed)

    def add_cells(self, cell: np.ndarray, wind_speed: np.ndarray) -> None:
        """Accumulate wind speeds [m/s] by their :meth:`cells` (records outside every bin, or without one, skipped)."""
        self._limits = None
        if len(cell) != len(wind_speed):
            raise ValueError(f"add_cells needs one cell per wind speed, got {len(cell)} and {len(wind_speed)}")
        _wind_speed_moments_kernel(
            np.ascontiguousarray(cell, dtype=np.int64),
            np.ascontiguousarray(wind_speed, dtype=np.float64),
            self.count.reshape(-1),
            self.total.reshape(-1),
            self.total_sq.reshape(-1),
            self.histogram.reshape(self.n_cells, _WS_HIST_COUNT),
            _WS_HIST_WIDTH,
        )

    def outliers(self, cell: np.ndarray, wind_speed: np.ndarray) -> np.ndarray:
        """Whether each wind speed [m/s] lies beyond its :meth:`cells` cell's limits (never outside every cell)."""
        lower, upper = self.limits()
        # One more cell, for the records outside every power bin, whose limits hold every wind speed.
        lower = np.append(lower.reshape(-1), -np.inf)
        upper = np.append(upper.reshape(-1), np.inf)
        with np.errstate(invalid="ignore"):
            return (wind_speed < lower[cell]) | (wind_speed > upper[cell])

    def limits(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper wind-speed limits per turbine and power bin: median -+ n_sigma * std."""
        if self._limits is None:
            self._limits = self._compute_limits()
        return self._limits

    def _compute_limits(self) -> tuple[np.ndarray, np.ndarray]:
        n_sigma = self.parameters["n_sigma"]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.total / self.count
            std = np.sqrt(np.maximum(self.total_sq / self.count - mean**2, 0.0) * self.count / (self.count - 1))
        median_bin = _median_bins_kernel(self.histogram.reshape(self.n_cells, _WS_HIST_COUNT), self.count.reshape(-1))
        median = (median_bin.reshape(self.count.shape) + 0.5) * _WS_HIST_WIDTH
        return median - n_sigma * std, median + n_sigma * std


_INTEGERS = numba.types.Array(numba.int64, 1, "C", readonly=True)  # inputs may be read-only views
_FLOATS = numba.types.Array(numba.float64, 1, "C", readonly=True)


@numba.njit(
    numba.void(
        _INTEGERS,
        _FLOATS,
        numba.float64[::1],
        numba.float64[::1],
        numba.float64[::1],
        numba.int32[:, ::1],
        numba.float64,
    ),
    cache=True,
)
def _wind_speed_moments_kernel(
    cell: np.ndarray,
    wind_speed: np.ndarray,
    count: np.ndarray,
    total: np.ndarray,
    total_sq: np.ndarray,
    histogram: np.ndarray,
    width: float,
) -> None:
    """Loop of :meth:`BinOutlierStatistics.add_cells`, one pass over the records.

    For each record of a cell in [0, n_cells) with a finite wind speed V [m/s]: count += 1,
    total += V [m/s], total_sq += V^2 [m^2/s^2], and one more in its histogram bin
    floor(V / width) (``width`` [m/s]), the end bins holding what lies beyond. Records are added
    in order, as ``np.bincount`` adds them.
    """
    n_cells, n_bins = histogram.shape
    for i in range(cell.shape[0]):
        c = cell[i]
        v = wind_speed[i]
        if c < 0 or c >= n_cells or not np.isfinite(v):
            continue
        count[c] += 1.0
        total[c] += v
        total_sq[c] += v * v
        position = v / width
        b = 0 if position < 1.0 else (n_bins - 1 if position >= n_bins else int(position))
        histogram[c, b] += 1


@numba.njit(numba.int64[::1](numba.types.Array(numba.int32, 2, "C", readonly=True), _FLOATS), cache=True)
def _median_bins_kernel(histogram: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per cell (row of ``histogram``): the first bin at which the running count reaches half of ``count``.

    The bin of the median of a cell's wind speeds (0 for an empty cell), as np.argmax of
    np.cumsum(histogram, axis=1) >= count / 2 finds it, without the cumulative array.
    """
    n_cells, n_bins = histogram.shape
    median = np.zeros(n_cells, dtype=np.int64)
    for c in range(n_cells):
        half = count[c] / 2.0
        total = 0
        for b in range(n_bins):
            total += histogram[c, b]
            if total >= half:
                median[c] = b
                break
    return median


def bin_outlier_flag(
    asset_index: np.ndarray, wind_speed: np.ndarray, per_unit: np.ndarray, statistics: BinOutlierStatistics
) -> np.ndarray:
    """Flag wind speeds [m/s] beyond median -+ n_sigma standard deviations of their turbine's power bin.

    As OpenOA's ``bin_filter`` on power bins of ``bin_width`` p.u. (``per_unit`` = P / P_rated)
    from power_min to power_max with a median centre (the reference: 0.06, 0.01, 0.9 and 2 sigma;
    FleetBench's default spec uses 3 sigma, as 2 removes ~4.6 % of the good records of a Gaussian
    bin by construction).
    """
    return statistics.outliers(statistics.cells(asset_index, per_unit), wind_speed)


RowFilter = Callable[[Records, TurbineArrays, Mapping[str, float]], np.ndarray]


def no_context(parameters: Mapping[str, float]) -> int:
    """A filter that judges each record by itself needs no neighbouring records."""
    return 0


@dataclass(frozen=True)
class FilterMethod:
    """A filter the spec may name: its row function (None: needs a first pass) and parameters.

    ``context`` gives, from the parameters, how many neighbouring records either side of a record
    (same turbine, time order) can change its flag, so records can be judged in slices.
    """

    flag: RowFilter | None
    parameters: tuple[str, ...]
    context: Callable[[Mapping[str, float]], int] = no_context


FILTERS: dict[str, FilterMethod] = {
    "range": FilterMethod(range_flag, ()),
    "status": FilterMethod(status_flag, ("downtime_wind_speed", "curtailment_pitch")),
    "frozen_sensor": FilterMethod(frozen_sensor_flag, ("min_run",), frozen_sensor_context),
    "window": FilterMethod(window_flag, ("wind_speed_min", "wind_speed_max", "power_min", "power_max")),
    "bin_outlier": FilterMethod(None, ("bin_width", "power_min", "power_max", "n_sigma")),
}
"""Every filter a spec may name, by name; the spec carries every parameter."""


def check_filters(filters: Iterable[tuple[str, Mapping[str, float]]]) -> None:
    """Refuse a filter list with unknown names, missing parameters or a context too long, naming what is wrong."""
    for name, parameters in filters:
        if name not in FILTERS:
            raise ValueError(f"spec names unknown filter {name!r}; this site knows {sorted(FILTERS)}")
        missing = sorted(set(FILTERS[name].parameters) - set(parameters))
        if missing:
            raise ValueError(f"spec filter {name!r} lacks parameter(s) {missing}")
        FILTERS[name].context(parameters)  # a context beyond what the stream carries is refused here
