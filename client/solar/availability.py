"""Clipping, availability and lost energy of a solar plant: sums over records, pure functions over arrays.

Counts and energies rather than shares are returned where a plant's figure over many chunks is the
ratio of summed terms. Powers in kW, energies in kWh.
"""

from __future__ import annotations

import numpy as np

CLIPPING_THRESHOLD = 0.995
"""A record at or above this fraction of the AC capacity counts as clipped [-]: at the limit, allowing for the
meter's noise. At 0.98 the records an inverter delivers just below its limit, unclipped, doubled the share
on a synthetic plant at DC/AC 1.3 (tests/client/test_solar_summaries.py)."""


def clipping_terms(
    p_out_kw: np.ndarray,
    ac_capacity_kw: np.ndarray,
    daylight: np.ndarray,
    inverter: np.ndarray,
    n_inverters: int,
    threshold: float = CLIPPING_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """Per inverter, daylight records at which it clips (P_out >= threshold * P_ac0) and daylight records.

    The clipping share is the ratio of the two, summed over chunks and, for the plant, over inverters.

    Parameters
    ----------
    p_out_kw : ndarray
        Measured AC output power P_out [kW]; NaN counts as not clipped.
    ac_capacity_kw : ndarray
        Each record's inverter AC rating P_ac0 [kW].
    daylight : ndarray of bool
        True for the records that count (in daylight, and available).
    inverter : ndarray of int
        Each record's inverter, 0 .. n_inverters - 1.
    n_inverters : int
        Inverters of the plant.
    threshold : float
        Fraction of the AC rating [-], in (0, 1].

    Returns
    -------
    clipped, daylight : ndarray
        Records per inverter [-], shape (n_inverters,).

    Raises
    ------
    ValueError
        When ``threshold`` is not in (0, 1].
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    daylight = np.asarray(daylight, dtype=bool)
    with np.errstate(invalid="ignore"):
        clipped = np.asarray(p_out_kw, dtype=np.float64) >= threshold * np.asarray(ac_capacity_kw, dtype=np.float64)
    return (
        np.bincount(inverter[clipped & daylight], minlength=n_inverters).astype(np.float64),
        np.bincount(inverter[daylight], minlength=n_inverters).astype(np.float64),
    )


def availability_terms(
    daylight: np.ndarray, available: np.ndarray, inverter: np.ndarray, n_inverters: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per inverter, the numerator and denominator of its time-based availability: only daylight records count.

    A_t = (daylight records in which the inverter is available) / (daylight records), in the manner
    of IEC TS 61724-3:2016 (energy evaluation), which counts the period in which the plant could produce.

    Parameters
    ----------
    daylight : ndarray of bool
        True for the records in daylight.
    available : ndarray of bool
        True for the records in which the inverter is available (its status says so).
    inverter : ndarray of int
        Each record's inverter, 0 .. n_inverters - 1.
    n_inverters : int
        Inverters of the plant.

    Returns
    -------
    available_daylight, daylight : ndarray
        Records per inverter [-], shape (n_inverters,); A_t = available_daylight / daylight.
    """
    daylight = np.asarray(daylight, dtype=bool)
    available = np.asarray(available, dtype=bool)
    return (
        np.bincount(inverter[daylight & available], minlength=n_inverters).astype(np.float64),
        np.bincount(inverter[daylight], minlength=n_inverters).astype(np.float64),
    )


def lost_energy_by_category(
    p_expected_kw: np.ndarray,
    p_out_kw: np.ndarray,
    category: np.ndarray,
    n_categories: int,
    record_hours: float,
) -> np.ndarray:
    """Energy lost in each category of unavailability: sum of max(P_expected - P_out, 0) * tau.

    Parameters
    ----------
    p_expected_kw : ndarray
        Expected power P_expected [kW] (e.g. :func:`client.solar.performance.expected_ac_power`).
    p_out_kw : ndarray
        Measured power P_out [kW]; NaN counts as 0 (an unavailable inverter that reports nothing
        produced nothing).
    category : ndarray of int
        Category of each record: -1 when available, else the index of its unavailability category in
        0 .. n_categories - 1.
    n_categories : int
        Number of unavailability categories.
    record_hours : float
        Record duration tau [h].

    Returns
    -------
    ndarray
        Lost energy of each category [kWh], shape (n_categories,); records with NaN expected power add
        nothing.

    Raises
    ------
    ValueError
        When a category is below -1 or not below ``n_categories``.
    """
    category = np.asarray(category, dtype=np.int64)
    if category.size and (category.min() < -1 or category.max() >= n_categories):
        raise ValueError(f"category must be -1 (available) or in 0 .. {n_categories - 1}")
    lost = np.asarray(p_expected_kw, dtype=np.float64) - np.nan_to_num(np.asarray(p_out_kw, dtype=np.float64))
    lost = np.where(np.isfinite(lost), np.fmax(lost, 0.0), 0.0) * record_hours
    counted = category >= 0
    return np.bincount(category[counted], weights=lost[counted], minlength=n_categories)


def failure_starts(
    inverter: np.ndarray,
    time_ns: np.ndarray,
    component: np.ndarray,
    last_time_ns: np.ndarray,
    last_component: np.ndarray,
    n_components: int,
    record_ns: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Failures that begin in a chunk of records, per component, and each inverter's last record for the next chunk.

    A failure is a run of an inverter's consecutive records carrying one component's failure code
    (as :func:`client.indicators.failure_events` counts a turbine's); a run continuing from the
    previous chunk (its inverter's last record there, ``last_*``) is not counted again. An inverter's
    records must come in time order across chunks.

    Parameters
    ----------
    inverter : ndarray of int
        Each record's inverter index.
    time_ns : ndarray of int64
        Each record's start [ns since the epoch].
    component : ndarray of int
        Index of the component whose failure code the record carries, -1 for none.
    last_time_ns, last_component : ndarray
        Per inverter: its last record before this chunk, time [ns] and component (-1, and any time, for none).
    n_components : int
        Components counted.
    record_ns : int
        One record's duration [ns]: a later record is not consecutive.

    Returns
    -------
    failures : ndarray
        Failures beginning in the chunk, per component.
    last_time_ns, last_component : ndarray
        The arrays to pass with the next chunk.
    """
    if not len(inverter):
        return np.zeros(n_components, dtype=np.int64), last_time_ns, last_component
    order = np.lexsort((time_ns, inverter))
    asset, t, c = inverter[order], time_ns[order], component[order]
    first = np.r_[True, asset[1:] != asset[:-1]]
    previous_t = np.where(first, last_time_ns[asset], np.r_[0, t[:-1]])
    previous_c = np.where(first, last_component[asset], np.r_[-1, c[:-1]])
    continues = (previous_c == c) & (t - previous_t == record_ns)
    starts = (c >= 0) & ~continues
    last_time_ns, last_component = last_time_ns.copy(), last_component.copy()
    last = np.r_[first[1:], True]  # the last record of each inverter in the chunk
    last_time_ns[asset[last]], last_component[asset[last]] = t[last], c[last]
    return np.bincount(c[starts], minlength=n_components), last_time_ns, last_component
