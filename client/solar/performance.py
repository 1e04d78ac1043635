"""Expected power and performance ratio of a solar plant (IEC 61724-1:2021): pure functions over arrays.

Powers in kW, energies in kWh, irradiances in W/m^2, temperatures in degC. The performance ratio is
returned as its numerator and denominator, both sums, so that a plant's ratio over many chunks (or
many plants' pooled ratio) is the ratio of the summed terms.
"""

from __future__ import annotations

import numpy as np
import pvlib

G_REF = 1000.0
"""Reference (STC) irradiance G_i,ref [W/m^2]."""

T_REF = 25.0
"""Reference (STC) cell temperature [degC]."""

MIN_PR_INSOLATION = 0.5
"""In-plane insolation H_i a plant's records must average per day for its performance ratio [kWh/m^2 per day].

IEC 61724-1:2021 sets no floor; the measurement does. A class A pyranometer may read up to 7 W/m^2 off zero
(ISO 9060:2018, zero offset a), some 0.05 kWh/m^2 over a winter day's 7 hours of light, and the inverters'
night consumption adds to the PR's numerator whatever the light: under 0.5 kWh/m^2 a day the offset alone
is a tenth of the PR or more, wider than a cohort's plants spread from P10 to P90, and in polar night the
ratio of two near-zero sums can even turn negative. Below it the plant has no PR (nor PR_STC)."""

UNDERPERFORMANCE_THRESHOLD = 0.97
"""An inverter below this fraction of the plant's median measured/expected energy ratio underperforms [-]."""


def expected_dc_power(
    g_poa: np.ndarray, t_cell: np.ndarray, dc_capacity_kw: float, gamma_pdc_per_c: float
) -> np.ndarray:
    """Expected DC power of the PVWatts model.

    P_dc = P_dc0 * G_i / 1000 * (1 + gamma (T_cell - 25)) (Dobos 2014, PVWatts Version 5 Manual,
    NREL/TP-6A20-62641, equation 1; ``pvlib.pvsystem.pvwatts_dc``).

    Parameters
    ----------
    g_poa : ndarray
        Plane-of-array (effective) irradiance G_i [W/m^2].
    t_cell : ndarray
        Cell temperature T_cell [degC].
    dc_capacity_kw : float
        DC nameplate power at STC P_dc0 [kW].
    gamma_pdc_per_c : float
        Temperature coefficient of power gamma [1/degC], negative for silicon (e.g. -0.004).

    Returns
    -------
    ndarray
        P_dc [kW]; NaN where an input is NaN.
    """
    return np.asarray(
        pvlib.pvsystem.pvwatts_dc(
            np.asarray(g_poa, dtype=np.float64),
            np.asarray(t_cell, dtype=np.float64),
            dc_capacity_kw,
            gamma_pdc_per_c,
            temp_ref=T_REF,
        ),
        dtype=np.float64,
    )


def expected_ac_power(p_dc_kw: np.ndarray, ac_capacity_kw: float, nominal_efficiency: float = 0.96) -> np.ndarray:
    """Expected AC power of the PVWatts inverter model, clipped at the inverter's AC rating.

    P_ac = min(eta P_dc, P_ac0),  eta = eta_nom / 0.9637 * (-0.0162 zeta - 0.0059 / zeta + 0.9858),
    zeta = P_dc / P_dc0, P_dc0 = P_ac0 / eta_nom (Dobos 2014, NREL/TP-6A20-62641, equations 2-4;
    ``pvlib.inverter.pvwatts``), and P_ac >= 0.

    Parameters
    ----------
    p_dc_kw : ndarray
        DC input power P_dc [kW].
    ac_capacity_kw : float
        Inverter AC rating P_ac0 [kW].
    nominal_efficiency : float
        Nominal inverter efficiency eta_nom [-].

    Returns
    -------
    ndarray
        P_ac [kW], between 0 and ``ac_capacity_kw``; NaN where ``p_dc_kw`` is NaN.
    """
    p_dc = np.asarray(p_dc_kw, dtype=np.float64)
    p_ac = pvlib.inverter.pvwatts(p_dc, ac_capacity_kw / nominal_efficiency, eta_inv_nom=nominal_efficiency)
    p_ac = np.minimum(np.asarray(p_ac, dtype=np.float64), ac_capacity_kw)
    p_ac[np.isnan(p_dc)] = np.nan
    return p_ac


def performance_ratio_terms(
    p_out_kw: np.ndarray,
    g_poa: np.ndarray,
    record_hours: float,
    dc_capacity_kw: float,
    t_cell: np.ndarray | None = None,
    gamma_pdc_per_c: float | None = None,
) -> tuple[float, float]:
    """Numerator and denominator of the performance ratio PR (or PR_STC) over the finite records.

    PR = sum_k P_out,k tau_k / sum_k (P_0 G_i,k / G_i,ref tau_k) (IEC 61724-1:2021, performance ratio),
    with G_i,ref = 1000 W/m^2; the temperature-corrected PR_STC multiplies each term of the
    denominator by C_k = 1 + gamma (T_cell,k - 25 degC) (IEC 61724-1:2021, STC temperature-corrected
    performance ratio; Dierauf et al. 2013, NREL/TP-5200-57991, equation 2 with T_cell,typ_avg =
    25 degC). A record counts when every input it needs is finite.

    Parameters
    ----------
    p_out_kw : ndarray
        Measured output power P_out, interval means [kW].
    g_poa : ndarray
        Plane-of-array irradiance G_i, interval means [W/m^2].
    record_hours : float
        Record duration tau [h] (0.25 for 15-minute records).
    dc_capacity_kw : float
        DC nameplate power at STC P_0 [kW].
    t_cell : ndarray, optional
        Cell temperature T_cell [degC]; with ``gamma_pdc_per_c``, the denominator is PR_STC's.
    gamma_pdc_per_c : float, optional
        Temperature coefficient of power gamma [1/degC].

    Returns
    -------
    numerator : float
        Measured energy sum(P_out tau) [kWh].
    denominator : float
        Reference energy sum(P_0 G_i / G_i,ref tau [C]) [kWh]; PR = numerator / denominator.

    Raises
    ------
    ValueError
        When only one of ``t_cell`` and ``gamma_pdc_per_c`` is given.
    """
    if (t_cell is None) != (gamma_pdc_per_c is None):
        raise ValueError("the temperature-corrected PR needs both t_cell and gamma_pdc_per_c")
    p_out = np.asarray(p_out_kw, dtype=np.float64)
    reference = dc_capacity_kw * np.asarray(g_poa, dtype=np.float64) / G_REF
    if t_cell is not None and gamma_pdc_per_c is not None:
        reference = reference * (1.0 + gamma_pdc_per_c * (np.asarray(t_cell, dtype=np.float64) - T_REF))
    finite = np.isfinite(p_out) & np.isfinite(reference)
    return float(p_out[finite].sum() * record_hours), float(reference[finite].sum() * record_hours)


def underperforming_inverters(inverter_ratio: np.ndarray, threshold: float = UNDERPERFORMANCE_THRESHOLD) -> np.ndarray:
    """Inverters whose measured/expected energy ratio is below ``threshold`` times the plant's median ratio.

    The ratio r_j = E_out,j / E_expected,j of each inverter over the same period; inverter j
    underperforms when r_j < threshold * median_j(r_j). Comparing to the plant's median cancels what
    all inverters share (irradiance sensor calibration, soiling, the expected-power model's bias).

    The default 0.97 sits three standard deviations below a healthy inverter when the ratios scatter
    by about 1 %: on a simulated plant of 20 inverters, 0.09 % of healthy inverters are flagged. Where
    the inverters clip (DC/AC 1.25, 7 % of daylight records at the AC limit), a 5 % loss of DC power
    costs only 4.4 % of the energy, a ratio 1.3 standard deviations below 0.97: found 90 % of the time;
    a 10 % loss (9.1 % of the energy) always. 0.95 finds only 24 % of the 5 % losses; 0.975 finds 96 %
    but flags 0.4 % of healthy inverters. tests/client/test_solar_performance.py measures these rates
    on a plant simulated with pvlib.

    Parameters
    ----------
    inverter_ratio : ndarray
        Measured/expected energy ratio of each inverter [-]; NaN for an inverter without data.
    threshold : float
        Fraction of the plant's median ratio [-], in (0, 1].

    Returns
    -------
    ndarray of bool
        True for an underperforming inverter; False for NaN ratios.

    Raises
    ------
    ValueError
        When ``threshold`` is not in (0, 1].
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    ratio = np.asarray(inverter_ratio, dtype=np.float64)
    if not np.isfinite(ratio).any():
        return np.zeros(ratio.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return ratio < threshold * np.nanmedian(ratio)


UNDERPERFORMANCE_WINDOW_DAYS = 14
"""Days of energy each day's ratio in :func:`underperforming_since` sums: enough to average out weather."""


def underperforming_since(
    inverter_daily: np.ndarray,
    threshold: float = UNDERPERFORMANCE_THRESHOLD,
    window: int = UNDERPERFORMANCE_WINDOW_DAYS,
) -> np.ndarray:
    """Per inverter, the first day of its latest run below ``threshold`` times the plant's median ratio.

    Each day d gets every inverter's ratio over the ``window`` days ending on d (measured over
    expected energy summed over them) and the plant's median of those ratios; a run is the days on
    which an inverter's ratio stays below ``threshold`` times the median, days without expected
    energy neither ending nor starting one. The run must reach the last day with data, so a fault
    the inverter has recovered from gives none. The first day of the run is when the window first
    holds enough of the fault to fall below: a fault from day f shows from about f + window / 2.

    Parameters
    ----------
    inverter_daily : ndarray
        (measured, expected) x inverter x day: daily energies [kWh]
        (:attr:`client.solar.summaries.PlantSummary.inverter_daily`).
    threshold : float
        Fraction of the plant's median ratio [-], in (0, 1].
    window : int
        Days each ratio sums [d], at least 1.

    Returns
    -------
    ndarray of int
        Per inverter, the day index the run begins on; -1 when the inverter is not below at the end.
    """
    if not 0.0 < threshold <= 1.0 or window < 1:
        raise ValueError(f"threshold must be in (0, 1] and window at least 1, got {threshold}, {window}")
    measured, expected = (np.cumsum(np.nan_to_num(np.asarray(a, dtype=np.float64)), axis=1) for a in inverter_daily)
    summed = [np.concatenate([c[:, :window], c[:, window:] - c[:, :-window]], axis=1) for c in (measured, expected)]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(summed[1] > 0, summed[0] / summed[1], np.nan)
        median = np.nanmedian(np.where(np.isfinite(ratio).any(axis=0), ratio, 0.0), axis=0)
        below = ratio < threshold * median
    valid = np.isfinite(ratio)
    since = np.full(ratio.shape[0], -1)
    for i in range(ratio.shape[0]):
        days = np.flatnonzero(valid[i])
        if len(days) == 0 or not below[i, days[-1]]:
            continue
        above = days[~below[i, days]]
        since[i] = days[np.searchsorted(days, above[-1], side="right")] if len(above) else days[0]
    return since
