"""Plane-of-array irradiance and cell temperature of a solar plant: pure functions over arrays.

Irradiances in W/m^2, temperatures in degC, angles in degrees (azimuth clockwise from north,
180 = south). Built from pvlib's models (Holmgren et al. 2018, JOSS 3(29) 884,
doi:10.21105/joss.00884).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pvlib

from protos.domain import MOUNTINGS, SOLAR_RECORD_PERIOD

if TYPE_CHECKING:
    from client.solar.site_config import Plant

MAX_TRACKER_ANGLE = 60.0
"""Rotation limit of a single-axis tracker [deg]."""

TRACKER_GCR = 2.0 / 7.0
"""Ground coverage ratio of a single-axis tracker's rows [-], pvlib's default (backtracking uses it)."""

SAPM_OPEN_RACK_GLASS_GLASS = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
"""SAPM thermal parameters a = -3.47, b = -0.0594 [s/m], deltaT = 3 [degC] (King et al. 2004)."""

DEFAULT_WIND_SPEED = 1.0
"""Wind speed [m/s] assumed where none is measured (cell temperature from ambient)."""


def plane_of_array_irradiance(
    times: pd.DatetimeIndex,
    ghi: np.ndarray,
    latitude: float,
    longitude: float,
    elevation_m: float,
    mounting: str,
    tilt_deg: float | None,
    azimuth_deg: float,
) -> np.ndarray:
    """Plane-of-array (in-plane) irradiance G_i from global horizontal irradiance G_h.

    The sun's position (NREL SPA, Reda & Andreas 2004, doi:10.1016/j.solener.2003.12.003) and the
    Erbs et al. (1982) decomposition of G_h into direct normal (DNI) and diffuse horizontal (DHI)
    irradiance, then the Hay-Davies transposition (Hay & Davies 1980):

    G_i = DNI cos(AOI) + DHI (A_i R_b + (1 - A_i) (1 + cos beta) / 2) + G_h rho (1 - cos beta) / 2,

    with A_i = DNI / DNI_extra (anisotropy index), R_b = cos(AOI) / cos(zenith), beta the plane's tilt
    and rho = 0.25 the ground albedo. A single-axis tracker's plane follows
    ``pvlib.tracking.singleaxis`` (horizontal axis pointing to ``azimuth_deg``, backtracking, rotation
    limit +-60 deg; Marion & Dobos 2013, NREL/TP-6A20-58891).

    Parameters
    ----------
    times : pandas.DatetimeIndex
        Time of each record, timezone-aware (UTC); the middle of an averaging interval is best.
    ghi : ndarray
        Global horizontal irradiance G_h [W/m^2]; negative values (sensor offset at night) count as 0.
    latitude, longitude : float
        Plant position [deg], north and east positive.
    elevation_m : float
        Elevation above sea level [m].
    mounting : str
        ``"fixed"`` or ``"single_axis"``.
    tilt_deg : float or None
        Fixed: the plane's tilt from horizontal [deg], required. Single axis: the axis tilt [deg],
        None for a horizontal axis.
    azimuth_deg : float
        Fixed: the azimuth the plane faces [deg]. Single axis: the azimuth of the axis [deg]
        (180 for a north-south axis).

    Returns
    -------
    ndarray
        G_i [W/m^2]: NaN where ``ghi`` is NaN, 0 while the sun is below the horizon.

    Raises
    ------
    ValueError
        When ``times`` is not timezone-aware, its length differs from ``ghi``'s, ``mounting`` is not
        one of the mountings, or a fixed plane has no tilt.
    """
    if mounting not in MOUNTINGS:
        raise ValueError(f"mounting must be one of {MOUNTINGS}, got {mounting!r}")
    if mounting == "fixed" and tilt_deg is None:
        raise ValueError("a fixed plane needs tilt_deg (its tilt from horizontal, degrees)")
    times = pd.DatetimeIndex(times)
    if times.tz is None:
        raise ValueError("times must be timezone-aware (UTC)")
    ghi = np.asarray(ghi, dtype=np.float64)
    if ghi.shape != (len(times),):
        raise ValueError(f"ghi has shape {ghi.shape}, times has {len(times)} records")

    solar = pvlib.solarposition.get_solarposition(times, latitude, longitude, altitude=elevation_m)
    zenith = solar["zenith"].to_numpy()
    azimuth = solar["azimuth"].to_numpy()
    ghi_clean = np.fmax(ghi, 0.0)  # NaN stays NaN
    split = pvlib.irradiance.erbs(ghi_clean, zenith, times)
    dni, dhi = np.asarray(split["dni"], dtype=np.float64), np.asarray(split["dhi"], dtype=np.float64)
    dni_extra = pvlib.irradiance.get_extra_radiation(times).to_numpy()

    if mounting == "fixed" and tilt_deg is not None:  # (a fixed plane without tilt raised above)
        surface_tilt = np.full(len(times), float(tilt_deg))
        surface_azimuth = np.full(len(times), float(azimuth_deg))
    else:
        tracking = pvlib.tracking.singleaxis(
            solar["apparent_zenith"],
            solar["azimuth"],
            axis_tilt=0.0 if tilt_deg is None else float(tilt_deg),
            axis_azimuth=float(azimuth_deg),
            max_angle=MAX_TRACKER_ANGLE,
            backtrack=True,
            gcr=TRACKER_GCR,
        )
        surface_tilt = tracking["surface_tilt"].to_numpy()
        surface_azimuth = tracking["surface_azimuth"].to_numpy()

    night = zenith >= 90.0
    surface_tilt = np.where(night, 0.0, surface_tilt)  # the tracker's angles are NaN at night
    surface_azimuth = np.where(night, 180.0, surface_azimuth)
    total = pvlib.irradiance.get_total_irradiance(
        surface_tilt,
        surface_azimuth,
        zenith,
        azimuth,
        dni,
        ghi_clean,
        dhi,
        dni_extra=dni_extra,
        model="haydavies",
    )
    poa = np.asarray(total["poa_global"], dtype=np.float64)
    poa = np.where(night, 0.0, poa)
    poa[np.isnan(ghi)] = np.nan
    return poa


def plant_plane_of_array(plant: Plant, interval_starts: pd.DatetimeIndex, ghi: np.ndarray) -> np.ndarray:
    """G_i of a plant's 15-min records from their global horizontal irradiance [W/m^2], its geometry from site.toml.

    :func:`plane_of_array_irradiance` with the sun at the middle of each record.
    """
    return plane_of_array_irradiance(
        pd.DatetimeIndex(interval_starts) + SOLAR_RECORD_PERIOD / 2,
        ghi,
        plant.latitude,
        plant.longitude,
        plant.elevation_m,
        plant.mounting,
        plant.tilt_deg,
        plant.azimuth_deg,
    )


def cell_temperature(
    g_poa: np.ndarray,
    t_mod: np.ndarray | None = None,
    t_amb: np.ndarray | None = None,
    wind_speed: np.ndarray | None = None,
) -> np.ndarray:
    """Cell temperature T_cell of the Sandia array performance model (SAPM), by record.

    From the back-of-module temperature where it is measured (King et al. 2004, SAND2004-3535,
    equation 12; ``pvlib.temperature.sapm_cell_from_module``):

    T_cell = T_mod + G_i / 1000 * deltaT,  deltaT = 3 degC (open rack, glass/glass),

    otherwise from the ambient temperature and wind speed (equations 11 and 12;
    ``pvlib.temperature.sapm_cell``):

    T_cell = T_amb + G_i exp(a + b v_w) + G_i / 1000 * deltaT,  a = -3.47, b = -0.0594 s/m,

    with v_w = 1 m/s where the wind speed is not measured.

    Parameters
    ----------
    g_poa : ndarray
        Plane-of-array irradiance G_i [W/m^2].
    t_mod : ndarray, optional
        Back-of-module temperature T_mod [degC]; NaN records fall back to ``t_amb``.
    t_amb : ndarray, optional
        Ambient air temperature T_amb [degC].
    wind_speed : ndarray, optional
        Wind speed v_w [m/s]; NaN records and None count as 1 m/s.

    Returns
    -------
    ndarray
        T_cell [degC]; NaN where neither temperature is known or G_i is NaN.

    Raises
    ------
    ValueError
        When neither ``t_mod`` nor ``t_amb`` is given.
    """
    if t_mod is None and t_amb is None:
        raise ValueError("cell_temperature needs t_mod (module temperature) or t_amb (ambient temperature)")
    g_poa = np.asarray(g_poa, dtype=np.float64)
    params = SAPM_OPEN_RACK_GLASS_GLASS
    result = np.full(g_poa.shape, np.nan)
    if t_amb is not None:
        wind = np.full(g_poa.shape, DEFAULT_WIND_SPEED)
        if wind_speed is not None:
            wind = np.where(np.isnan(wind_speed), DEFAULT_WIND_SPEED, np.asarray(wind_speed, dtype=np.float64))
        result = np.asarray(
            pvlib.temperature.sapm_cell(
                g_poa, np.asarray(t_amb, dtype=np.float64), wind, params["a"], params["b"], params["deltaT"]
            ),
            dtype=np.float64,
        )
    if t_mod is not None:
        from_module = np.asarray(
            pvlib.temperature.sapm_cell_from_module(np.asarray(t_mod, dtype=np.float64), g_poa, params["deltaT"]),
            dtype=np.float64,
        )
        result = np.where(np.isnan(from_module), result, from_module)
    return result
