"""Data quality of a solar plant's records: stuck (frozen) power, irradiance and temperature readings, level shifts.

A sensor or logger that stops updating repeats its last value; in a plant's summary such a
reading would enter the PR, the curve and the daily energies as if measured. Each mask is
boolean, True where a record is flagged (OpenOA-style); the records must be sorted by inverter,
then time, with the neighbours :func:`stuck_context` counts either side of a record, which
:func:`client.streaming.chunks_with_context` gives across chunks. Runs are
found by the kernel of the wind frozen-sensor filter (:func:`client.runs.long_runs`). A level shift
of one inverter against its peers (:func:`level_shift`) is a validation finding only. Powers in kW,
irradiances in W/m^2.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable

import numpy as np
import pandas as pd

from client.runs import continues_run, long_run_context, long_runs
from client.solar.availability import CLIPPING_THRESHOLD

DAYLIGHT_IRRADIANCE = 50.0
"""In-plane irradiance from which a record counts as daylight (availability, clipping, stuck readings) [W/m^2]."""

STUCK_MIN_DURATION = pd.Timedelta(hours=2)
"""How long a reading must not change to count as stuck, in daylight or while producing.

Measured 15-min means of a working sensor or inverter do not repeat to the last digit for 2 h (8
records); a frozen sensor's or logger's do, and averaging a frozen 1-min export keeps them equal."""


TEMPERATURE_STUCK_MIN_DURATIONS = {"T_mod": pd.Timedelta(hours=6), "T_amb": pd.Timedelta(hours=8)}
"""How long each temperature must not change in daylight to count as stuck.

Longer than power's 2 h: a sensor logged in whole degrees repeats itself. Over the bench fleet of
12 synthetic plants x 1 year (one-off check, 2026-11-30) with both temperatures rounded to whole
degrees, runs of 4 h flagged 132 module-temperature and 29,351 ambient records of working sensors,
6 h none and 2,872, 8 h none and 216 (one polar summer day); the sun moves a module's temperature
far more than the air's. A module temperature frozen at a cold morning's value understates a summer
afternoon's cell temperature by tens of degrees, and overstates expected power by ~0.4 %/degC."""


def stuck_min_records(resolution: pd.Timedelta, duration: pd.Timedelta = STUCK_MIN_DURATION) -> int:
    """Records of ``resolution`` that span ``duration`` (at least 2): for 2 h, 8 at 15 min, 120 at 1 min."""
    return max(math.ceil(duration / resolution), 2)


def irradiance_channel(columns: Container[str]) -> str:
    """The measured irradiance a plant's summary reads: ``G_i`` when mapped, else ``G_h``."""
    return "G_i" if "G_i" in columns else "G_h"


def stuck_context(min_run: int, temperature_runs: Iterable[int] = ()) -> int:
    """Records either side of a record that decide its stuck flags (:func:`stuck_readings`, :func:`stuck_temperature`).

    Power's flag depends on the ``min_run`` - 1 records either side of it
    (:func:`client.runs.long_run_context`); irradiance's on as many, each judged by its power's
    flag: 2 (``min_run`` - 1). A temperature's depends on its own run's neighbours
    (``temperature_runs``: each channel's ``min_run``), each judged by whether its irradiance
    reads daylight after stuck readings are blanked; a daylight reading is judged whatever the
    power does, so that takes ``min_run`` - 1 more, not 2 (``min_run`` - 1). With this many records
    of its inverter either side (:func:`client.streaming.chunks_with_context`) a record is judged
    as over the whole export.
    """
    power = long_run_context(min_run)
    return max([2 * power, *(long_run_context(run) + power for run in temperature_runs)])


def stuck_flag(
    values: np.ndarray, inverter: np.ndarray, judged: np.ndarray, min_run: int, atol: float = 0.0
) -> np.ndarray:
    """Flag every record of a run of at least ``min_run`` judged records over which a reading stays put.

    A run: consecutive records of one inverter, each judged, each within ``atol`` of the one
    before (:func:`client.runs.continues_run`). A record not judged (night, say) ends a run; NaN
    never forms one. A record's flag depends on the ``min_run - 1`` records either side of it.

    Parameters
    ----------
    values : ndarray
        The channel's readings, in its unit (kW, W/m^2, ...).
    inverter : ndarray of int
        Each record's inverter; records sorted by inverter, then time.
    judged : ndarray of bool
        The records a run may hold.
    min_run : int
        Records a run needs to be flagged [-], at least 2.
    atol : float
        Largest step between consecutive readings that still counts as unchanged, in the channel's
        unit; 0 asks for identical readings.

    Returns
    -------
    ndarray of bool
        True for the records of each such run.

    Raises
    ------
    ValueError
        When ``min_run`` is below 2 (every judged record would be stuck) or ``atol`` is negative.
    """
    if min_run < 2:
        raise ValueError(f"min_run must be at least 2 records, got {min_run}")
    if not atol >= 0.0:
        raise ValueError(f"atol must be >= 0, got {atol}")
    continues = continues_run(inverter, values, atol)
    continues[1:] &= judged[1:] & judged[:-1]
    return long_runs(continues, min_run)


def stuck_readings(
    p_out_kw: np.ndarray,
    irradiance: np.ndarray,
    inverter: np.ndarray,
    ac_capacity_kw: np.ndarray,
    min_run: int,
    commanded: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Records whose AC power, and whose irradiance, is stuck (:func:`stuck_flag` with identical readings).

    Power is judged while the inverter produces below its AC limit, 0 < P_out < CLIPPING_THRESHOLD
    * P_ac0, or produces anything out of daylight, and its status does not say its output is
    commanded: flat zero power in daylight is an outage (availability's business), flat power at the
    limit in daylight is clipping, a curtailment setpoint holds power flat on purpose, and at night
    zero (or a negative tare) is no fault; a reading stuck above zero runs on through the night,
    where a frozen clipping value at the limit is caught too (its daylight records are not: they
    read as clipping). Irradiance is judged in daylight (``irradiance`` >=
    :data:`DAYLIGHT_IRRADIANCE`) or while the inverter produces (P_out > 0, its power not stuck), so
    a sensor frozen at night's zero while the plant produces is caught; at night, with no power (or
    a power stuck above zero), a zero reading is not.

    Parameters
    ----------
    p_out_kw : ndarray
        AC output power P_out [kW].
    irradiance : ndarray
        The plant's measured irradiance on each inverter's row, G_i or G_h [W/m^2]
        (:func:`irradiance_channel`).
    inverter : ndarray of int
        Each record's inverter; records sorted by inverter, then time.
    ac_capacity_kw : ndarray
        Each record's inverter AC rating P_ac0 [kW].
    min_run : int
        Records a run needs to be flagged [-] (:func:`stuck_min_records` of the records' resolution).
    commanded : ndarray of bool, optional
        Records whose status is not one of the site's available codes (a loss category's, an unlisted
        code): their power is not judged. None: every record's is.

    Returns
    -------
    stuck_power, stuck_irradiance : ndarray of bool
        True for the records whose reading is stuck.
    """
    with np.errstate(invalid="ignore"):
        daylight = irradiance >= DAYLIGHT_IRRADIANCE
        producing = p_out_kw > 0.0
        below_limit = p_out_kw < CLIPPING_THRESHOLD * ac_capacity_kw
    judged = producing & (below_limit | ~daylight)
    if commanded is not None:
        judged &= ~commanded
    stuck_power = stuck_flag(p_out_kw, inverter, judged, min_run)
    return stuck_power, stuck_flag(irradiance, inverter, daylight | (producing & ~stuck_power), min_run)


def stuck_temperature(
    temperature: np.ndarray, inverter: np.ndarray, irradiance: np.ndarray, min_run: int
) -> np.ndarray:
    """Records whose temperature reading is stuck: unchanged over ``min_run`` daylight records.

    Judged in daylight only (``irradiance`` >= :data:`DAYLIGHT_IRRADIANCE`), where the sun moves a
    working module or air temperature; at night a steady reading is no fault. Plant sensors repeat
    on every inverter's row, so each inverter's rows find the same runs.

    Parameters
    ----------
    temperature : ndarray
        T_mod or T_amb [degC].
    inverter : ndarray of int
        Each record's inverter; records sorted by inverter, then time.
    irradiance : ndarray
        The plant's measured irradiance on each row, G_i or G_h [W/m^2].
    min_run : int
        Records a run needs to be flagged [-] (:func:`stuck_min_records` over the channel's
        :data:`TEMPERATURE_STUCK_MIN_DURATIONS`).

    Returns
    -------
    ndarray of bool
        True for the records whose temperature is stuck.
    """
    with np.errstate(invalid="ignore"):
        daylight = irradiance >= DAYLIGHT_IRRADIANCE
    return stuck_flag(temperature, inverter, daylight, min_run)


SHIFT_WINDOW_DAYS = 14
"""Days either side of a day whose medians a level shift compares [d]: long enough that clouds and a dirty
fortnight average out, short enough that the season (module temperature) moves the ratio by about 1 %."""

SHIFT_MIN_DROP = 0.05
"""Smallest fall of the daily ratio, after over before, reported as a level shift [-]: a string or a fuse
lost, a sensor moved or recalibrated. Steps up are not reported: a cleaning makes them."""


def level_shift(daily_ratio: np.ndarray, window: int = SHIFT_WINDOW_DAYS) -> tuple[int, float]:
    """The largest fall of a daily ratio: median of ``window`` days from a day over the ``window`` days before it.

    step_d = median(r_d .. r_(d+w-1)) / median(r_(d-w) .. r_(d-1)) - 1, over the days with a finite
    ratio (``window`` of them either side), in the manner of a two-window changepoint test with
    medians, robust to a few cloudy or missing days. The day of the largest fall is then placed
    within its 2 w days by least absolute deviation from each side's median.

    Parameters
    ----------
    daily_ratio : ndarray
        Per day, measured energy over the energy the irradiance promises, e.g. a daily performance
        ratio [-]; NaN for a day without one.
    window : int
        Days with a ratio on each side [d], at least 1.

    Returns
    -------
    day, step : int, float
        Index into ``daily_ratio`` of the first day at the lower level, and the largest fall step_d
        [-] (negative); -1 and NaN with fewer than 2 ``window`` days or no fall.

    Raises
    ------
    ValueError
        When ``window`` is below 1.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1 day, got {window}")
    days = np.flatnonzero(np.isfinite(daily_ratio))
    if len(days) < 2 * window:
        return -1, math.nan
    medians = np.median(np.lib.stride_tricks.sliding_window_view(daily_ratio[days], window), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = medians[window:] / medians[:-window] - 1.0  # the window from day k + window over the one from k
    k = int(np.nanargmin(steps)) if np.isfinite(steps).any() else -1
    if k < 0 or steps[k] >= 0.0:
        return -1, math.nan
    # Medians hardly move while a window takes in a few days of the other level, so the largest step is a plateau
    # a few days wide: the day is the split of those 2 w days that leaves the least absolute deviation from each
    # side's median (a least-absolute-deviation changepoint).
    around = daily_ratio[days[k : k + 2 * window]]
    deviation = [
        np.abs(around[:j] - np.median(around[:j])).sum() + np.abs(around[j:] - np.median(around[j:])).sum()
        for j in range(1, 2 * window)
    ]
    return int(days[k + 1 + int(np.argmin(deviation))]), float(steps[k])
