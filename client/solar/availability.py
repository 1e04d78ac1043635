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


SNOW_TEMPERATURE_C = 2.0
"""At or below this module temperature [degC] (ambient, when the export has no module temperature), zero output
in good light may be snow on the modules, on an export without status codes."""
SNOW_MODULE_ABOVE_AIR_K = 2.0
"""Most a snow-covered module is above the air [K]: in good light an uncovered one is several kelvin above it
(SAPM: 4 K at 200 W/m^2 in a 4 m/s wind), snow holds a covered one at or below 0 degC."""


def snow_covered(
    no_output: np.ndarray,
    module_temperature_c: np.ndarray | None,
    ambient_temperature_c: np.ndarray | None,
    threshold_c: float = SNOW_TEMPERATURE_C,
    above_air_k: float = SNOW_MODULE_ABOVE_AIR_K,
) -> np.ndarray:
    """Records whose zero output in good light is snow on the modules rather than an inverter that is out.

    For exports without status codes, which cannot tell. Snow holds a covered module at or below
    0 degC, its melting point, and no warmer than the air; in good light an uncovered module whose
    inverter is off is warmer than the air by what it absorbs, even on a freezing day. So zero
    output in good light is snow where the module temperature is at or below ``threshold_c`` and at
    most ``above_air_k`` above the ambient temperature. With only one of the two channels, that one
    at or below ``threshold_c`` decides (the ambient alone also takes an inverter fault on a freezing
    day for snow); with neither, nothing is taken as snow.

    Parameters
    ----------
    no_output : ndarray of bool
        Records without output in good light.
    module_temperature_c, ambient_temperature_c : ndarray or None
        T_mod and T_amb [degC], NaN where not read; None where the export has no such channel.
    threshold_c : float
        [degC].
    above_air_k : float
        [K].

    Returns
    -------
    ndarray of bool
        Snow-covered records (a subset of ``no_output``).
    """
    no_output = np.asarray(no_output, dtype=bool)
    module, ambient = (
        None if t is None else np.asarray(t, dtype=np.float64) for t in (module_temperature_c, ambient_temperature_c)
    )
    with np.errstate(invalid="ignore"):
        if module is not None and ambient is not None:
            return no_output & (module <= threshold_c) & (module - ambient <= above_air_k)
        one = module if module is not None else ambient
        if one is not None:
            return no_output & (one <= threshold_c)
    return np.zeros_like(no_output)


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
