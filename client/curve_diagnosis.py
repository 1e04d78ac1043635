"""What a turbine's power-curve deficit against its cohort's curve looks like, and so what to check.

The shape of the difference separates the usual causes (pure functions over binned curves, wind
speed in m/s, power per unit of rated power):

- an even shift along the wind-speed axis: the turbine's wind speed reads wrong (anemometer
  calibration or mounting, the nacelle transfer function), so the same power is logged at another
  wind speed;
- a proportional deficit below rated: the rotor turns less of the wind into power (blade soiling,
  erosion or damage, pitch-angle calibration, yaw misalignment);
- a plateau below rated power: a power limit (a derate setpoint, converter or temperature limits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHIFTS = np.round(np.arange(-2.0, 2.0001, 0.01), 2)  # [m/s], the shifts tried
PARTIAL_LOAD = (0.05, 0.85)  # [-], cohort P/P_rated between which the curve's shape is read
FULL_LOAD = 0.97  # [-], cohort P/P_rated from which it is at rated power


@dataclass(frozen=True)
class CurveDiagnosis:
    """The deficit's shape and its size, with what to check.

    ``shape`` is "none" (within the tolerances), "shift", "scale", "plateau" or "unknown" (too few
    bins to tell). ``shift_ms`` [m/s] is how far right of the cohort's curve the turbine's lies,
    ``scale`` [-] its power over the cohort's below rated, ``plateau_per_unit`` [-] where its power
    levels off (NaN unless it does so below rated).
    """

    shape: str
    shift_ms: float
    scale: float
    plateau_per_unit: float
    hint: str


def diagnose_curve(
    wind_speed: np.ndarray,
    power_per_unit: np.ndarray,
    cohort_wind_speed: np.ndarray,
    cohort_power_per_unit: np.ndarray,
    typical_performance: float = 1.0,
    min_shift_ms: float = 0.2,
    min_deficit: float = 0.015,
    plateau_below: float = 0.93,
) -> CurveDiagnosis:
    """Compare a turbine's binned curve with its cohort's and name the deficit's shape.

    Below rated, two one-parameter models of the turbine's curve are fitted to the typical one by least
    squares over the bins where it is between 5 % and 85 % of rated: a shift, P(v) = P_typical(v - s),
    and a scale, P(v) = a P_typical(v); the one that fits better names the shape,
    when its parameter passes its tolerance. Above rated, a turbine whose median power from 1 m/s
    past the cohort's rated wind speed stays below ``plateau_below`` has a plateau, whatever its
    partial-load shape.

    Parameters
    ----------
    wind_speed, power_per_unit : ndarray
        The turbine's bins: mean wind speed [m/s] and mean P/P_rated [-].
    cohort_wind_speed, cohort_power_per_unit : ndarray
        The cohort's released bins, increasing in wind speed [m/s], [-].
    typical_performance : float
        The industry's median performance index [-]: the typical turbine's curve is the cohort's
        times this (the cohort's curve is the mean of its turbines, which its underperformers pull down).
    min_shift_ms : float
        Smallest shift called a shift [m/s].
    min_deficit : float
        Smallest 1 - a called a deficit [-]; a turbine above the typical one has none.
    plateau_below : float
        P/P_rated below which a turbine is held under rated [-].
    """
    wind_speed, power_per_unit = np.asarray(wind_speed, float), np.asarray(power_per_unit, float)
    curve_v, curve_p = np.asarray(cohort_wind_speed, float), np.asarray(cohort_power_per_unit, float)
    known = np.isfinite(curve_v) & np.isfinite(curve_p)
    curve_v, curve_p = curve_v[known], curve_p[known] * typical_performance
    expected = np.interp(wind_speed, curve_v, curve_p, left=np.nan, right=np.nan)
    partial = (expected > PARTIAL_LOAD[0]) & (expected < PARTIAL_LOAD[1]) & np.isfinite(power_per_unit)
    plateau = _plateau(wind_speed, power_per_unit, curve_v, curve_p, plateau_below)
    if partial.sum() < 4:
        return CurveDiagnosis("unknown", np.nan, np.nan, plateau, "too few bins below rated to read the curve's shape")
    own, cohort = power_per_unit[partial], expected[partial]
    scale = float(own @ cohort / (cohort @ cohort))
    scale_rms = float(np.sqrt(np.mean((own - scale * cohort) ** 2)))
    shifted = np.interp(wind_speed[partial][None, :] - SHIFTS[:, None], curve_v, curve_p)
    shift_rms = np.sqrt(np.mean((own[None, :] - shifted) ** 2, axis=1))
    shift = float(SHIFTS[np.argmin(shift_rms)])
    if np.isfinite(plateau):
        hint = (
            f"power levels off at {plateau:.2f} of rated, where the industry reaches rated: a power limit; "
            "check the derate setpoint, converter and temperature limits"
        )
        return CurveDiagnosis("plateau", shift, scale, plateau, hint)
    if abs(shift) < min_shift_ms and scale > 1.0 - min_deficit:  # more power than typical is no fault to find
        return CurveDiagnosis("none", shift, scale, plateau, "")
    if shift_rms.min() < scale_rms:
        side = "high" if shift > 0 else "low"
        hint = (
            f"the curve lies {shift:+.2f} m/s along the wind-speed axis from the industry's: its wind speed reads "
            f"{side}; check the anemometer (calibration, mounting, icing) and the nacelle transfer function"
        )
        return CurveDiagnosis("shift", shift, scale, plateau, hint)
    hint = (
        f"{100 * (scale - 1):+.1f} % power at every wind speed below rated: the rotor converts less; check the "
        "blades (soiling, erosion, damage), pitch-angle calibration and yaw alignment"
    )
    return CurveDiagnosis("scale", shift, scale, plateau, hint)


def _plateau(
    wind_speed: np.ndarray, power_per_unit: np.ndarray, curve_v: np.ndarray, curve_p: np.ndarray, below: float
) -> float:
    """The turbine's median P/P_rated from 1 m/s past the cohort's rated wind speed, if below ``below``; else NaN."""
    full = np.flatnonzero(curve_p >= FULL_LOAD)
    if not len(full):
        return float("nan")
    beyond = (wind_speed >= curve_v[full[0]] + 1.0) & (wind_speed <= curve_v[-1]) & np.isfinite(power_per_unit)
    if beyond.sum() < 2:
        return float("nan")
    level = float(np.median(power_per_unit[beyond]))
    return level if level < below else float("nan")
