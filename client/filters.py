"""Data-quality filters applied on site before summarising, as the spec lists them.

Each filter returns a boolean mask, True where it flags a record; masks are combined, rows are
never dropped. ``FILTERS`` is the one registry of names, defaults and functions. Two filters need
more than one row at a time: ``frozen_sensor`` needs each turbine's records in time order, which
:func:`hold_back_open_runs` guarantees across chunks, and ``bin_outlier`` needs each turbine's
statistics over the whole period, gathered in a first pass (:class:`BinOutlierStatistics`).
Thresholds follow NREL OpenOA's filters (openoa.utils.filters) unless stated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from client.schema import STATUS


@dataclass(frozen=True)
class TurbineArrays:
    """Per-record turbine metadata a filter may need (aligned with the chunk's rows)."""

    asset_index: np.ndarray  # index into the site's turbines
    rated_power_kw: np.ndarray  # [kW]
    normal_status_codes: tuple[int, ...]


def range_flag(frame: pd.DataFrame, turbines: TurbineArrays, parameters: Mapping[str, float]) -> np.ndarray:
    """Flag records without a valid time, wind speed, power or temperature, or with P / P_rated outside [-0.5, 2].

    Ingest has already blanked values outside each channel's physical range (client/schema.py).
    """
    per_unit = frame["WTUR_W"].to_numpy() / turbines.rated_power_kw
    with np.errstate(invalid="ignore"):
        implausible = (per_unit < -0.5) | (per_unit > 2.0)
    missing = (
        frame["time"].isna().to_numpy()
        | ~np.isfinite(frame["WMET_HorWdSpd"].to_numpy())
        | ~np.isfinite(frame["WTUR_W"].to_numpy())
        | ~np.isfinite(frame["WMET_EnvTmp"].to_numpy() if "WMET_EnvTmp" in frame else np.zeros(len(frame)))
    )
    return missing | implausible


def status_flag(frame: pd.DataFrame, turbines: TurbineArrays, parameters: Mapping[str, float]) -> np.ndarray:
    """Flag downtime and curtailment: by status code when mapped, else by signature.

    Without a status channel, a record is downtime when the wind speed is at least
    ``downtime_wind_speed`` [m/s] but the power is not positive, and curtailed when the pitch
    angle (if mapped) is at least ``curtailment_pitch`` [deg] while the power is below 95 % of
    rated.
    """
    if STATUS in frame:
        return ~frame[STATUS].isin(turbines.normal_status_codes).to_numpy()
    wind_speed, power = frame["WMET_HorWdSpd"].to_numpy(), frame["WTUR_W"].to_numpy()
    with np.errstate(invalid="ignore"):
        flagged = (wind_speed >= parameters["downtime_wind_speed"]) & (power <= 0.0)
        if "WROT_BlPthAngVal" in frame:
            pitch = frame["WROT_BlPthAngVal"].to_numpy()
            flagged |= (pitch >= parameters["curtailment_pitch"]) & (power < 0.95 * turbines.rated_power_kw)
    return flagged


def frozen_sensor_flag(frame: pd.DataFrame, turbines: TurbineArrays, parameters: Mapping[str, float]) -> np.ndarray:
    """Flag every record of a run of at least ``min_run`` equal consecutive wind speeds.

    As OpenOA's ``unresponsive_flag``. Records must be sorted by turbine, then time; NaN never
    forms a run.
    """
    min_run = int(parameters["min_run"])
    run = run_ids(turbines.asset_index, frame["WMET_HorWdSpd"].to_numpy())
    lengths = np.bincount(run)
    return lengths[run] >= min_run


def window_flag(frame: pd.DataFrame, turbines: TurbineArrays, parameters: Mapping[str, float]) -> np.ndarray:
    """Flag records with wind speed in [wind_speed_min, wind_speed_max] but power outside [power_min, power_max] p.u.

    As OpenOA's ``window_range_flag`` (the reference uses 5 to 40 m/s and 2 % to 120 % of rated).
    """
    wind_speed = frame["WMET_HorWdSpd"].to_numpy()
    per_unit = frame["WTUR_W"].to_numpy() / turbines.rated_power_kw
    with np.errstate(invalid="ignore"):
        windy = (wind_speed >= parameters["wind_speed_min"]) & (wind_speed <= parameters["wind_speed_max"])
        outside = (per_unit < parameters["power_min"]) | (per_unit > parameters["power_max"])
    return windy & outside


def asset_codes(asset_id: pd.Series, asset_order: pd.Index) -> np.ndarray:
    """Index of each record's turbine in ``asset_order`` (-1 if absent); free for ingest's categoricals."""
    if isinstance(asset_id.dtype, pd.CategoricalDtype) and asset_id.cat.categories.equals(asset_order):
        return asset_id.cat.codes.to_numpy(dtype=np.int64)
    return asset_order.get_indexer(asset_id)


def run_ids(asset_index: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Id of the run of equal consecutive values each record belongs to (runs end at a new turbine)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    new_run = np.ones(len(values), dtype=bool)
    new_run[1:] = (asset_index[1:] != asset_index[:-1]) | ~(values[1:] == values[:-1])
    return np.cumsum(new_run) - 1


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

    def power_bin(self, per_unit: np.ndarray) -> np.ndarray:
        """Power bin of each record, -1 outside [power_min, power_max)."""
        p = self.parameters
        low, high = p["power_min"], p["power_max"]
        with np.errstate(invalid="ignore"):
            index = np.floor((per_unit - low) / p["bin_width"])
            inside = (per_unit >= low) & (per_unit < high)
        return np.where(inside, np.nan_to_num(index, nan=-1), -1).astype(np.int64)

    def add(self, asset_index: np.ndarray, wind_speed: np.ndarray, per_unit: np.ndarray) -> None:
        """Accumulate records (those the earlier filters passed) of turbines ``asset_index``."""
        self._limits = None
        power_bin = self.power_bin(per_unit)
        use = (power_bin >= 0) & np.isfinite(wind_speed)
        cell = asset_index[use] * self.n_power_bins + power_bin[use]
        size = self.n_turbines * self.n_power_bins
        ws = wind_speed[use]
        self.count += np.bincount(cell, minlength=size).reshape(self.count.shape)
        self.total += np.bincount(cell, weights=ws, minlength=size).reshape(self.count.shape)
        self.total_sq += np.bincount(cell, weights=ws * ws, minlength=size).reshape(self.count.shape)
        ws_bin = np.clip((ws / _WS_HIST_WIDTH).astype(np.int64), 0, _WS_HIST_COUNT - 1)
        flat = cell * _WS_HIST_COUNT + ws_bin
        if len(flat):
            # A chunk holds few turbines: count over the span of cells it touches, not the whole histogram.
            low, high = int(flat.min()), int(flat.max()) + 1
            self.histogram.reshape(-1)[low:high] += np.bincount(flat - low, minlength=high - low).astype(np.int32)

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
        cumulative = np.cumsum(self.histogram, axis=2)
        median_bin = np.argmax(cumulative >= (self.count[..., None] / 2.0), axis=2)
        median = (median_bin + 0.5) * _WS_HIST_WIDTH
        return median - n_sigma * std, median + n_sigma * std


def bin_outlier_flag(
    asset_index: np.ndarray, wind_speed: np.ndarray, per_unit: np.ndarray, statistics: BinOutlierStatistics
) -> np.ndarray:
    """Flag wind speeds [m/s] beyond median -+ n_sigma standard deviations of their turbine's power bin.

    As OpenOA's ``bin_filter`` on power bins of ``bin_width`` p.u. (``per_unit`` = P / P_rated)
    from power_min to power_max with a median centre (the reference: 0.06, 0.01, 0.9 and 2 sigma;
    FleetBench's default spec uses 3 sigma, as 2 removes ~4.6 % of the good records of a Gaussian
    bin by construction).
    """
    lower, upper = statistics.limits()
    power_bin = statistics.power_bin(per_unit)
    inside = power_bin >= 0
    flagged = np.zeros(len(wind_speed), dtype=bool)
    a, b = asset_index[inside], power_bin[inside]
    with np.errstate(invalid="ignore"):
        flagged[inside] = (wind_speed[inside] < lower[a, b]) | (wind_speed[inside] > upper[a, b])
    return flagged


RowFilter = Callable[[pd.DataFrame, TurbineArrays, Mapping[str, float]], np.ndarray]


@dataclass(frozen=True)
class FilterMethod:
    """A filter the spec may name: its row function (None: needs a first pass) and parameters."""

    flag: RowFilter | None
    parameters: tuple[str, ...]


FILTERS: dict[str, FilterMethod] = {
    "range": FilterMethod(range_flag, ()),
    "status": FilterMethod(status_flag, ("downtime_wind_speed", "curtailment_pitch")),
    "frozen_sensor": FilterMethod(frozen_sensor_flag, ("min_run",)),
    "window": FilterMethod(window_flag, ("wind_speed_min", "wind_speed_max", "power_min", "power_max")),
    "bin_outlier": FilterMethod(None, ("bin_width", "power_min", "power_max", "n_sigma")),
}
"""Every filter a spec may name, by name; the spec carries every parameter."""


def check_filters(filters: Iterable[tuple[str, Mapping[str, float]]]) -> None:
    """Refuse a filter list with unknown names or missing parameters, naming what is wrong."""
    for name, parameters in filters:
        if name not in FILTERS:
            raise ValueError(f"spec names unknown filter {name!r}; this site knows {sorted(FILTERS)}")
        missing = sorted(set(FILTERS[name].parameters) - set(parameters))
        if missing:
            raise ValueError(f"spec filter {name!r} lacks parameter(s) {missing}")


def hold_back_open_runs(
    chunks: Iterable[pd.DataFrame],
    asset_order: pd.Index,
    max_held: int = 100_000,
    keys: tuple[str, ...] = ("WMET_HorWdSpd",),
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Re-chunk so that no run of equal values of a turbine (in any column of ``keys``) is split.

    Yields each chunk sorted by turbine, then time, with the index of each row's turbine in
    ``asset_order``. The trailing run of each turbine is held back and prepended to the next
    chunk, where it may continue; at most ``max_held`` rows are held (a run longer than that is
    frozen by any definition and is released as it stands). NaN never forms a run, so a key
    column that is NaN except where runs matter (failure codes, say) holds back little.
    """
    held: pd.DataFrame | None = None
    iterator = iter(chunks)
    chunk = next(iterator, None)
    while chunk is not None:
        following = next(iterator, None)  # a look ahead: the last chunk holds nothing back
        frame = chunk if held is None else pd.concat([held, chunk], ignore_index=True)
        chunk = following
        asset = asset_codes(frame["asset_id"], asset_order)
        # Integer nanoseconds sort fast; tz-aware timestamps as objects do not.
        time = frame["time"].array.asi8
        in_order = np.all((asset[1:] > asset[:-1]) | ((asset[1:] == asset[:-1]) & (time[1:] >= time[:-1])))
        if not in_order:
            order = np.lexsort((time, asset))
            frame, asset = frame.iloc[order].reset_index(drop=True), asset[order]
        if following is None:
            yield frame, asset
            return
        last_row_of_asset = np.flatnonzero(np.r_[asset[1:] != asset[:-1], True])
        hold = np.zeros(len(frame), dtype=bool)
        for key in keys:
            # Each key's trailing runs are suffixes of their turbine's rows: their union is too.
            run = run_ids(asset, frame[key].to_numpy())
            hold |= np.isin(run, run[last_row_of_asset])
        n_held = int(hold.sum())
        if n_held > max_held:
            hold[:], n_held = False, 0
        if n_held == 0 or hold[len(hold) - n_held :].all():
            # One turbine per chunk (or nothing held): the held rows are the tail, so slice, not copy.
            cut = len(hold) - n_held
            held = frame.iloc[cut:]
            yield frame.iloc[:cut], asset[:cut]
        else:
            held = frame[hold]
            yield frame[~hold], asset[~hold]
