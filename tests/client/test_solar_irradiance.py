"""Plane-of-array irradiance and cell temperature against hand computations from the models' equations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest

from client.solar.irradiance import cell_temperature, plane_of_array_irradiance

# NREL's Solar Radiation Research Laboratory, Golden CO.
LAT, LON, ELEV = 39.742, -105.18, 1828.8


def clear_day(day: str, freq: str = "15min") -> tuple[pd.DatetimeIndex, np.ndarray]:
    times = pd.date_range(f"{day} 00:00", periods=pd.Timedelta("1D") // pd.Timedelta(freq), freq=freq, tz="UTC")
    ghi = pvlib.location.Location(LAT, LON, altitude=ELEV).get_clearsky(times)["ghi"].to_numpy().copy()
    return times, ghi


def solar_noon(day: str) -> pd.DatetimeIndex:
    midnight = pd.DatetimeIndex([pd.Timestamp(f"{day} 00:00", tz="UTC")])
    transit = pvlib.solarposition.sun_rise_set_transit_spa(midnight, LAT, LON)["transit"].iloc[0]
    return pd.DatetimeIndex([transit.round("s")])


def test_fixed_plane_at_solar_noon_is_hay_davies_by_hand():
    # Solar noon on the summer solstice, a plane tilted 30 deg facing south, G_h = 1000 W/m^2.
    times, ghi, tilt = solar_noon("2024-06-21"), np.array([1000.0]), 30.0
    solar = pvlib.solarposition.get_solarposition(times, LAT, LON, altitude=ELEV)
    zenith, azimuth = solar["zenith"].iloc[0], solar["azimuth"].iloc[0]
    assert azimuth == pytest.approx(180.0, abs=0.01)
    assert zenith == pytest.approx(LAT - 23.44, abs=0.05)  # noon on the solstice: latitude - declination
    split = pvlib.irradiance.erbs(ghi, np.array([zenith]), times)
    dni, dhi = float(np.asarray(split["dni"])[0]), float(np.asarray(split["dhi"])[0])
    dni_extra = float(np.asarray(pvlib.irradiance.get_extra_radiation(times))[0])
    # Sun in the plane's azimuth: AOI = zenith - tilt. Hay & Davies (1980):
    # sky = DHI (A R_b + (1 - A)(1 + cos b)/2), A = DNI/DNI_extra, R_b = cos AOI / cos z;
    # ground = G_h * 0.25 * (1 - cos b)/2; beam = DNI cos AOI.
    cz, caoi, cb = np.cos(np.radians(zenith)), np.cos(np.radians(zenith - tilt)), np.cos(np.radians(tilt))
    a = dni / dni_extra
    by_hand = dni * caoi + dhi * (a * caoi / cz + (1 - a) * (1 + cb) / 2) + 1000.0 * 0.25 * (1 - cb) / 2
    assert 0.6 < a < 0.9 and dhi < 200  # a clear-sky split at noon
    poa = plane_of_array_irradiance(times, ghi, LAT, LON, ELEV, "fixed", tilt, 180.0)
    assert poa[0] == pytest.approx(by_hand, rel=1e-9)
    # pandas 3 makes microsecond indexes; nanoseconds give the same.
    assert plane_of_array_irradiance(times.as_unit("ns"), ghi, LAT, LON, ELEV, "fixed", tilt, 180.0) == poa
    # A horizontal plane sees G_h: beam DNI cos z plus the whole DHI.
    flat = plane_of_array_irradiance(times, ghi, LAT, LON, ELEV, "fixed", 0.0, 180.0)
    assert flat[0] == pytest.approx(1000.0, rel=1e-9)


def test_tracker_lies_flat_at_solar_noon_and_collects_more_over_a_clear_summer_day():
    noon = solar_noon("2024-06-21")
    tracked = plane_of_array_irradiance(noon, np.array([950.0]), LAT, LON, ELEV, "single_axis", None, 180.0)
    assert tracked[0] == pytest.approx(950.0, rel=1e-6)  # horizontal N-S axis, rotation 0 at noon
    times, ghi = clear_day("2024-06-21")
    fixed = plane_of_array_irradiance(times, ghi, LAT, LON, ELEV, "fixed", 30.0, 180.0)
    tracked = plane_of_array_irradiance(times, ghi, LAT, LON, ELEV, "single_axis", None, 180.0)
    fixed_kwh, tracked_kwh = fixed.sum() / 4 / 1000, tracked.sum() / 4 / 1000
    # A 1-axis tracker gains some 25-45 % over a fixed plane on a clear summer day at mid latitude.
    assert 1.25 * fixed_kwh < tracked_kwh < 1.45 * fixed_kwh
    assert 8.0 < fixed_kwh < 9.5
    # Morning and afternoon, the tracker faces the sun better than the fixed plane.
    hours = times.hour + times.minute / 60
    shoulder = ((hours > 14) & (hours < 17)) | ((hours > 21) & (hours < 24))  # 7-10 h and 14-17 h local solar
    assert np.all(tracked[shoulder] > fixed[shoulder])


def test_night_is_zero_and_nan_stays_nan():
    times, ghi = clear_day("2024-12-21", "1h")
    ghi[3] = -2.0  # night-time sensor offset
    ghi[19] = np.nan  # noon, missing
    for mounting, tilt in (("fixed", 35.0), ("single_axis", None)):
        poa = plane_of_array_irradiance(times, ghi, LAT, LON, ELEV, mounting, tilt, 180.0)
        solar = pvlib.solarposition.get_solarposition(times, LAT, LON, altitude=ELEV)
        night = solar["zenith"].to_numpy() >= 90
        assert np.all(poa[night] == 0.0)
        assert np.isnan(poa[19]) and np.isnan(poa).sum() == 1
        assert np.all(poa[~night & ~np.isnan(poa)] >= 0)


def test_wrong_settings_raise():
    times, ghi = clear_day("2024-06-21", "1h")
    with pytest.raises(ValueError, match="tilt_deg"):
        plane_of_array_irradiance(times, ghi, LAT, LON, ELEV, "fixed", None, 180.0)
    with pytest.raises(ValueError, match="mounting must be one of"):
        plane_of_array_irradiance(times, ghi, LAT, LON, ELEV, "dual_axis", 30.0, 180.0)
    with pytest.raises(ValueError, match="timezone-aware"):
        plane_of_array_irradiance(times.tz_localize(None), ghi, LAT, LON, ELEV, "fixed", 30.0, 180.0)


def test_cell_temperature_from_module_by_hand():
    # SAPM (King et al. 2004, eq. 12): T_cell = T_mod + G/1000 * 3 degC (open rack glass/glass).
    g = np.array([0.0, 500.0, 1000.0])
    assert cell_temperature(g, t_mod=np.array([10.0, 40.0, 55.0])) == pytest.approx([10.0, 41.5, 58.0], abs=1e-12)


def test_cell_temperature_from_ambient_by_hand():
    # SAPM (eq. 11 and 12): T_cell = T_amb + G exp(-3.47 - 0.0594 v) + G/1000 * 3, v = 1 m/s where missing.
    g = np.array([800.0, 800.0, 800.0])
    t_amb = np.array([25.0, 25.0, 25.0])
    wind = np.array([0.0, 5.0, np.nan])
    expected = 25.0 + 800.0 * np.exp(-3.47 - 0.0594 * np.array([0.0, 5.0, 1.0])) + 2.4
    assert expected[0] == pytest.approx(25 + 24.89 + 2.4, abs=0.01)  # exp(-3.47) = 0.03112
    assert cell_temperature(g, t_amb=t_amb, wind_speed=wind) == pytest.approx(expected, abs=1e-9)
    assert cell_temperature(g, t_amb=t_amb)[0] == pytest.approx(expected[2], abs=1e-9)


def test_cell_temperature_prefers_the_module_and_falls_back_by_record():
    g = np.array([800.0, 800.0, 800.0])
    result = cell_temperature(g, t_mod=np.array([50.0, np.nan, np.nan]), t_amb=np.array([20.0, 20.0, np.nan]))
    assert result[0] == pytest.approx(52.4, abs=1e-12)
    assert result[1] == pytest.approx(20.0 + 800.0 * np.exp(-3.47 - 0.0594) + 2.4, abs=1e-9)
    assert np.isnan(result[2])
    with pytest.raises(ValueError, match=r"t_mod .* or t_amb"):
        cell_temperature(g)
