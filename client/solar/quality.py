"""Data quality of a solar plant's records: stuck (frozen) readings, level shifts, an export clock off the sun.

A sensor or logger that stops updating repeats its last value; in a plant's summary such a
reading would enter the PR, the curve and the daily energies as if measured. Each mask is
boolean, True where a record is flagged (OpenOA-style); the records must be sorted by inverter,
then time, with the neighbours :func:`stuck_context` counts either side of a record, which
:func:`client.streaming.chunks_with_context` gives across chunks. Runs are
found by the kernel of the wind frozen-sensor filter (:func:`client.runs.long_runs`). A level shift
of one inverter against its peers (:func:`level_shift`) and a clock that centres production away
from solar noon (:func:`midday_offset`) are validation findings only. Powers in kW, irradiances in
W/m^2.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable

import numpy as np
import pandas as pd
import pvlib

from client.runs import continues_run, long_run_context, long_runs
from client.solar.availability import CLIPPING_THRESHOLD

DAYLIGHT_IRRADIANCE = 50.0
"""In-plane irradiance from which a record counts as daylight (availability, clipping, stuck readings) [W/m^2]."""

PRODUCING_SHARE = 0.02
"""Share of an inverter's AC capacity above which a record counts as producing [-]: for its day's rise and set
(:func:`production_edges`), and for judging a zero irradiance (:func:`stuck_readings`).

Near sunrise and sunset a plane of any orientation sees diffuse light only, so the day's rise and
set straddle solar noon evenly: on clear-sky days at latitudes -30 to 60 deg, fixed planes facing
the equator, east, west and 22 deg east of the equator and a tracker centre within 5 min of it
(tests/client/test_solar_quality.py); at 5 % an east-facing plane at 60 deg N is 10-21 min early.
Above the few watts some loggers read at night (PVDAQ system 50: 0.05-0.3 W on a 3.4 kW inverter,
tests/client/test_solar_real_export.py)."""

PRODUCTION_MIN_DURATION = pd.Timedelta(hours=1)
"""How long production must last after a rise (before a set) for it to be the day's (:func:`production_edges`).

Spikes some loggers write at night come and go: with a fifth of a synthetic plant's night records
spiked to 3-5 % of its rating, runs of two spikes read as days and named a right clock 34-48 min off
in three inverter-months of 24 when production had to last one record beyond the rise."""

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
    :data:`DAYLIGHT_IRRADIANCE`) or while the inverter produces (P_out above :data:`PRODUCING_SHARE`
    of P_ac0, its power not stuck), so a sensor frozen at night's zero while the plant produces is
    caught; at night, with no power, the few watts some loggers read then, or a power stuck above
    zero, a zero reading is not.

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
    with np.errstate(invalid="ignore"):
        lit = daylight | ((p_out_kw > PRODUCING_SHARE * ac_capacity_kw) & ~stuck_power)
    return stuck_power, stuck_flag(irradiance, inverter, lit, min_run)


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


CLOCK_TOLERANCE_MINUTES = 30.0
"""A month whose median :func:`midday_offset` is further from 0 reports the export's clock [min].

Clouds move a day's first or last producing record by tens of minutes, a month's median by a few;
a clock an hour off (a wrong zone, daylight saving time) stands well clear. A quarter-hour
(timestamps marking the interval's end read as its start) does not: it is no finding."""


def solar_noon(day: np.ndarray, longitude: float) -> np.ndarray:
    """UTC time of solar noon on local solar days [ms since 1970-01-01].

    Local mean solar time is UTC + longitude / 15 h; solar noon is 12:00 of it less the equation of
    time (Spencer 1971, ``pvlib.solarposition.equation_of_time_spencer71``, within about a minute).

    Parameters
    ----------
    day : ndarray
        Local solar days [days since 1970-01-01 in local mean solar time], integers.
    longitude : float
        The plant's longitude, east positive [deg].
    """
    dates = np.asarray(day, dtype=np.int64).astype("datetime64[D]")
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64) + 1
    equation_of_time = np.asarray(pvlib.solarposition.equation_of_time_spencer71(day_of_year))  # [min]
    hour = 3_600_000.0
    return np.asarray(day, dtype=np.int64) * 24 * hour + (12.0 - longitude / 15.0) * hour - equation_of_time * 60_000.0


def day_length(day: np.ndarray, latitude: float) -> np.ndarray:
    """Hours from sunrise to sunset of the sun's centre on local solar days [h]: 0 in polar night, 24 in polar day.

    cos(omega_0) = -tan(latitude) tan(declination), day length 2 omega_0 / 15 deg/h, with the
    declination of Spencer (1971) (``pvlib.solarposition.declination_spencer71``).

    Parameters
    ----------
    day : ndarray
        Local solar days [days since 1970-01-01], integers.
    latitude : float
        The plant's latitude, north positive [deg].
    """
    dates = np.asarray(day, dtype=np.int64).astype("datetime64[D]")
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64) + 1
    declination = np.asarray(pvlib.solarposition.declination_spencer71(day_of_year))  # [rad]
    cos_hour_angle = np.clip(-np.tan(np.radians(latitude)) * np.tan(declination), -1.0, 1.0)
    return 2.0 * np.degrees(np.arccos(cos_hour_angle)) / 15.0


def solar_day(stamp: np.ndarray, longitude: float, hours_after_midnight: float = 0.0) -> np.ndarray:
    """Local solar days of UTC stamps [days since 1970-01-01], each starting ``hours_after_midnight`` after midnight.

    Local mean solar time is UTC + longitude / 15 h; a day that starts at solar midnight holds the
    sun's whole day. Starting it later keeps a day's production together when the stamps are hours
    off the sun.
    """
    shift = (longitude / 15.0 - hours_after_midnight) * 3_600_000.0
    return np.floor((np.asarray(stamp, dtype=np.float64) + shift) / 86_400_000.0).astype(np.int64)


def midday_offset(first: np.ndarray, last: np.ndarray, longitude: float, resolution: pd.Timedelta) -> np.ndarray:
    """How late a day's production is centred against solar noon [min]: the export clock's error, seen from the sun.

    The middle of the span from the start of the day's first producing record to the end of its
    last (:data:`PRODUCING_SHARE`), less the nearest :func:`solar_noon`, in [-720, 720) min. Near 0
    for a right clock; a clock on daylight saving time read as standard time is about +60 min in
    summer; local time read as UTC is late by minus the zone's offset.

    Parameters
    ----------
    first, last : ndarray
        Start of the day's first and last producing record [ms since 1970-01-01, UTC].
    longitude : float
        The plant's longitude, east positive [deg].
    resolution : pandas.Timedelta
        The records' period.
    """
    period = resolution / pd.Timedelta(milliseconds=1)
    middle = (np.asarray(first, dtype=np.float64) + np.asarray(last, dtype=np.float64) + period) / 2.0
    late = (middle - solar_noon(solar_day(middle, longitude), longitude)) / 60_000.0
    return (late + 720.0) % 1440.0 - 720.0


def about_their_circular_mean(offset: np.ndarray) -> np.ndarray:
    """Midday offsets [min], each moved by whole days to within 12 h of their circular mean.

    :func:`midday_offset` wraps into [-720, 720): a clock about 12 h off reads +715 on one day and
    -712 on the next, and a median of both sides is meaningless; about their common direction on
    the 24-h circle they are one cluster. A clock near the sun's is left as it is.
    """
    offset = np.asarray(offset, dtype=np.float64)
    if offset.size == 0:
        return offset
    angle = offset / 1440.0 * 2.0 * np.pi
    centre = np.arctan2(np.sin(angle).mean(), np.cos(angle).mean()) / (2.0 * np.pi) * 1440.0
    return (offset - centre + 720.0) % 1440.0 - 720.0 + centre


def production_min_records(resolution: pd.Timedelta) -> int:
    """Records either side of a record that decide its :func:`production_edges` [records].

    Those of :data:`PRODUCTION_MIN_DURATION` at period ``resolution``, and at least 2.
    """
    return max(2, math.ceil(PRODUCTION_MIN_DURATION / resolution))


def production_edges(
    power: np.ndarray, threshold: np.ndarray, inverter: np.ndarray, stamp: np.ndarray, resolution: pd.Timedelta
) -> tuple[np.ndarray, np.ndarray]:
    """Records where an inverter rises into production, and where it sets out of it.

    A rise is a producing record (power above ``threshold``) right after a record of the same
    inverter about one ``resolution`` earlier (within half of it) that was not producing, whose
    production lasts: its stretch of producing records (the records with a reading, less than
    :data:`PRODUCTION_MIN_DURATION` apart: gaps in the data or readings missing for less than that
    are bridged) spans :data:`PRODUCTION_MIN_DURATION` or more. A set is the mirror of it. So a gap in the data is
    no sunrise, nor is production that comes and goes (spikes at night). A record's edges depend on
    the :func:`production_min_records` records either side of it.

    Parameters
    ----------
    power : ndarray
        AC power [kW], sorted by inverter, then time.
    threshold : ndarray
        Per record, the power above which it counts as producing [kW], e.g. :data:`PRODUCING_SHARE`
        times its inverter's AC capacity.
    inverter : ndarray
        Per record, its inverter's index.
    stamp : ndarray
        Per record, its interval's start [ms since 1970-01-01, UTC].
    resolution : pandas.Timedelta
        The records' period.

    Returns
    -------
    rises, sets : ndarray of bool
    """
    rises, sets = np.zeros(len(power), dtype=bool), np.zeros(len(power), dtype=bool)
    if len(power) < 2:
        return rises, sets
    with np.errstate(invalid="ignore"):
        producing, quiet = power > threshold, power <= threshold  # NaN: neither
    period = int(resolution / pd.Timedelta(milliseconds=1))
    least = int(PRODUCTION_MIN_DURATION / pd.Timedelta(milliseconds=1))
    same, step = np.diff(inverter) == 0, np.diff(stamp)
    # Record i + 1 comes right after record i: a logger's stamps may jitter by seconds about the period.
    follows = same & (np.abs(step - period) < period // 2)
    # Stretches of production over the records with a reading, bridging less than an hour without one (so
    # that a record's edges depend on the records within the hour about it only).
    read = np.flatnonzero(producing | quiet)
    if len(read) < 2:
        return rises, sets
    bridged = (
        (np.diff(inverter[read]) == 0) & (np.diff(stamp[read]) < least) & producing[read][1:] & producing[read][:-1]
    )
    starts = np.flatnonzero(np.r_[True, ~bridged])
    stretch = np.cumsum(np.r_[True, ~bridged]) - 1
    first = np.minimum.reduceat(np.where(producing[read], stamp[read], np.iinfo(np.int64).max), starts)
    last = np.maximum.reduceat(np.where(producing[read], stamp[read], np.iinfo(np.int64).min), starts)
    lasting = np.zeros(len(power), dtype=bool)
    lasting[read] = producing[read] & (last - first + period > least - period // 2)[stretch]  # stamps may jitter
    rises[1:] = lasting[1:] & follows & quiet[:-1]
    sets[:-1] = lasting[:-1] & follows & quiet[1:]
    return rises, sets
