"""Annual energy production and database completeness of a binned power curve (IEC 61400-12-1)."""

from __future__ import annotations

import numpy as np

HOURS_PER_YEAR = 8760.0
RAYLEIGH_MEAN_WIND_SPEEDS = (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0)  # [m/s], IEC 61400-12-1, 9.3
PRODUCING_PER_UNIT = 0.005  # [-], mean P/P_rated above which a bin is producing (its first is cut-in)


def rayleigh_cdf(wind_speed: np.ndarray, mean_wind_speed: float) -> np.ndarray:
    """Rayleigh cumulative distribution F(V) = 1 - exp(-pi/4 (V / V_ave)^2) (IEC 61400-12-1:2017, eq. 16)."""
    return 1.0 - np.exp(-np.pi / 4.0 * (np.asarray(wind_speed) / mean_wind_speed) ** 2)


def annual_energy_production(
    wind_speed: np.ndarray, power: np.ndarray, mean_wind_speed: float, cut_out_wind_speed: float | None = None
) -> float:
    """AEP from a binned power curve for a Rayleigh wind distribution (IEC 61400-12-1:2017, 9.3).

    AEP = N_h sum_i [F(V_i) - F(V_{i-1})] (P_{i-1} + P_i) / 2, with V_0 = V_1 - 0.5 m/s and
    P_0 = 0. AEP-measured takes zero power beyond the last bin; with ``cut_out_wind_speed``, the
    last bin's power is held to cut-out (AEP-extrapolated).

    Parameters
    ----------
    wind_speed : ndarray
        Bin mean wind speeds V_i, increasing [m/s].
    power : ndarray
        Bin mean power P_i, any unit X.
    mean_wind_speed : float
        Annual mean wind speed at hub height V_ave [m/s].
    cut_out_wind_speed : float, optional
        Cut-out wind speed [m/s] for AEP-extrapolated.

    Returns
    -------
    float
        AEP [X h].
    """
    energy = float(interval_energy(wind_speed, power, mean_wind_speed).sum())
    if cut_out_wind_speed is not None and cut_out_wind_speed > wind_speed[-1]:
        last = rayleigh_cdf(np.array([wind_speed[-1], cut_out_wind_speed]), mean_wind_speed)
        energy += HOURS_PER_YEAR * float(last[1] - last[0]) * float(power[-1])
    return energy


def interval_energy(wind_speed: np.ndarray, power: np.ndarray, mean_wind_speed: float) -> np.ndarray:
    """The terms of AEP-measured: N_h [F(V_i) - F(V_{i-1})] (P_{i-1} + P_i) / 2 for i = 1..n [X h].

    Term i is the interval ending at bin i (bin 0's interval starts at V_1 - 0.5 m/s with P_0 = 0),
    so the terms that read bin i are i and i + 1. Arguments as :func:`annual_energy_production`.
    """
    v = np.concatenate(([wind_speed[0] - 0.5], wind_speed))
    p = np.concatenate(([0.0], power))
    terms: np.ndarray = HOURS_PER_YEAR * np.diff(rayleigh_cdf(v, mean_wind_speed)) * (p[:-1] + p[1:]) / 2.0
    return terms


def interpolated_share(wind_speed: np.ndarray, power: np.ndarray, mean_wind_speed: float, points: np.ndarray) -> float:
    """Share of AEP-measured in the intervals next to ``points`` (indices of interpolated bins) [-].

    The energy of every interval whose trapezoid reads an interpolated bin's power, over the whole:
    how much of the figure rests on interpolation. Arguments as :func:`annual_energy_production`.
    """
    terms = interval_energy(wind_speed, power, mean_wind_speed)
    total = terms.sum()
    if total <= 0 or len(points) == 0:
        return 0.0
    reads = np.zeros(len(terms), dtype=bool)
    reads[points] = True
    reads[np.minimum(np.asarray(points) + 1, len(terms) - 1)] = True
    return float(terms[reads].sum() / total)


def completeness_range(wind_speed: np.ndarray, power_per_unit: np.ndarray) -> tuple[float, float]:
    """Wind-speed range a complete database must cover (IEC 61400-12-1:2017, 8.3).

    From 1 m/s below cut-in (the first bin whose mean power is positive) to 1.5 times the wind
    speed at 85 % of rated power (interpolated on the curve).

    Parameters
    ----------
    wind_speed : ndarray
        Bin mean wind speeds, increasing [m/s].
    power_per_unit : ndarray
        Bin mean power per unit of rated power [-].
    """
    producing = np.flatnonzero(power_per_unit > PRODUCING_PER_UNIT)
    if len(producing) == 0 or power_per_unit.max() < 0.85:
        return float("nan"), float("nan")
    cut_in = wind_speed[producing[0]]
    first_above = np.flatnonzero(power_per_unit >= 0.85)[0]
    if first_above == 0:
        v85 = wind_speed[0]
    else:
        v0, v1 = wind_speed[first_above - 1], wind_speed[first_above]
        p0, p1 = power_per_unit[first_above - 1], power_per_unit[first_above]
        v85 = v0 + (0.85 - p0) * (v1 - v0) / (p1 - p0)
    return float(cut_in - 1.0), float(1.5 * v85)
