"""Air density and density normalisation of power curves (IEC 61400-12-1:2017, 9.1.5).

Pure functions over arrays; temperatures in K, pressures in Pa, densities in kg/m^3.
"""

from __future__ import annotations

import numpy as np

R_DRY_AIR = 287.05  # gas constant of dry air [J/(kg K)]
R_WATER_VAPOUR = 461.5  # gas constant of water vapour [J/(kg K)]
DEFAULT_RELATIVE_HUMIDITY = 0.5  # [-], IEC 61400-12-1 when humidity is not measured


def air_density(
    temperature_k: np.ndarray,
    pressure_pa: np.ndarray,
    relative_humidity: np.ndarray | float = DEFAULT_RELATIVE_HUMIDITY,
) -> np.ndarray:
    """Air density from 10-min means of temperature, pressure and humidity.

    rho = (1 / T) * (B / R0 - phi * Pw * (1 / R0 - 1 / Rw)),  Pw = 0.0000205 * exp(0.0631846 * T)
    (IEC 61400-12-1:2017, 9.1.5, equation 12).

    Parameters
    ----------
    temperature_k : ndarray
        Absolute air temperature T [K].
    pressure_pa : ndarray
        Air pressure B [Pa].
    relative_humidity : ndarray or float
        Relative humidity phi [-], 0 to 1; 0.5 when not measured.

    Returns
    -------
    ndarray
        Air density [kg/m^3].
    """
    temperature_k = np.asarray(temperature_k, dtype=np.float64)
    vapour_pressure = 0.0000205 * np.exp(0.0631846 * temperature_k)
    return (1.0 / temperature_k) * (
        np.asarray(pressure_pa) / R_DRY_AIR
        - np.asarray(relative_humidity) * vapour_pressure * (1.0 / R_DRY_AIR - 1.0 / R_WATER_VAPOUR)
    )


def pressure_at_elevation(elevation_m: np.ndarray | float) -> np.ndarray:
    """Pressure of the ISO 2533 standard atmosphere at an elevation, a fallback when none is measured.

    B = 101325 * (1 - 2.25577e-5 * h) ^ 5.25588 (ISO 2533:1975, troposphere).

    Parameters
    ----------
    elevation_m : ndarray or float
        Elevation above sea level h [m].

    Returns
    -------
    ndarray
        Pressure [Pa].
    """
    return 101325.0 * (1.0 - 2.25577e-5 * np.asarray(elevation_m, dtype=np.float64)) ** 5.25588


def normalise_wind_speed(wind_speed: np.ndarray, density: np.ndarray, reference_density: float) -> np.ndarray:
    """Density-normalised wind speed of an active-power-controlled (pitch-regulated) turbine.

    V_n = V * (rho / rho0)^(1/3) (IEC 61400-12-1:2017, 9.1.5, equation 14).

    Parameters
    ----------
    wind_speed : ndarray
        Measured wind speed V [m/s].
    density : ndarray
        Air density rho of each record [kg/m^3].
    reference_density : float
        Reference air density rho0 [kg/m^3].

    Returns
    -------
    ndarray
        V_n [m/s].
    """
    return np.asarray(wind_speed) * np.cbrt(np.asarray(density) / reference_density)


def normalise_power(power: np.ndarray, density: np.ndarray, reference_density: float) -> np.ndarray:
    """Density-normalised power of a stall-regulated turbine.

    P_n = P * rho0 / rho (IEC 61400-12-1:2017, 9.1.5, equation 13).

    Parameters
    ----------
    power : ndarray
        Measured power P, any unit.
    density : ndarray
        Air density rho of each record [kg/m^3].
    reference_density : float
        Reference air density rho0 [kg/m^3].

    Returns
    -------
    ndarray
        P_n, in the unit of ``power``.
    """
    return np.asarray(power) * reference_density / np.asarray(density)
