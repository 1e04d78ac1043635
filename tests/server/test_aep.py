"""AEP and completeness against IEC 61400-12-1 definitions, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from server.aep import annual_energy_production, completeness_range, interpolated_share, rayleigh_cdf


def test_rayleigh_cdf_by_hand():
    # F(V) = 1 - exp(-pi/4 (V / V_ave)^2): at V = V_ave, 1 - exp(-pi/4) = 0.544062
    assert rayleigh_cdf(7.0, 7.0) == pytest.approx(0.5440619, abs=1e-7)
    assert rayleigh_cdf(0.0, 7.0) == 0.0


def test_aep_of_a_two_bin_curve_by_hand():
    # Bins V = 5, 5.5 m/s with P = 100, 200 kW; V_0 = 4.5, P_0 = 0; V_ave = 6 m/s.
    v_ave = 6.0
    f = [1 - math.exp(-math.pi / 4 * (v / v_ave) ** 2) for v in (4.5, 5.0, 5.5, 25.0)]
    measured = 8760 * ((f[1] - f[0]) * 50 + (f[2] - f[1]) * 150)
    extrapolated = measured + 8760 * (f[3] - f[2]) * 200
    wind_speed, power = np.array([5.0, 5.5]), np.array([100.0, 200.0])
    assert annual_energy_production(wind_speed, power, v_ave) == pytest.approx(measured, rel=1e-12)
    assert annual_energy_production(wind_speed, power, v_ave, 25.0) == pytest.approx(extrapolated, rel=1e-12)


def test_a_constant_rated_curve_produces_nearly_8760_full_load_hours():
    # P = 1 p.u. from 0.5 to 40 m/s: all of the year but half the first trapezoid (P_0 = 0 at V_0 = 0).
    wind_speed = np.arange(0.5, 40.01, 0.5)
    expected = 8760 * (rayleigh_cdf(40.0, 8.0) - rayleigh_cdf(0.5, 8.0) / 2)
    assert expected == pytest.approx(8746.58, abs=0.01)
    assert annual_energy_production(wind_speed, np.ones_like(wind_speed), 8.0) == pytest.approx(expected, rel=1e-12)


def test_completeness_range_by_hand():
    # Cut-in at the 3 m/s bin (first positive), 85 % reached between 10 (0.8) and 10.5 (0.9): V85 = 10.25.
    wind_speed = np.arange(1.0, 15.01, 0.5)
    power = np.interp(wind_speed, [1.0, 2.5, 3.0, 10.0, 10.5, 12.0, 15.0], [0, 0, 0.01, 0.8, 0.9, 1.0, 1.0])
    low, high = completeness_range(wind_speed, power)
    assert low == pytest.approx(2.0)
    assert high == pytest.approx(1.5 * 10.25)
    assert np.isnan(completeness_range(wind_speed, power * 0.5)[0])  # never reaches 85 %


def test_interpolated_share_is_the_energy_of_the_intervals_that_read_the_point_by_hand():
    # Bins V = 5, 5.5, 6 m/s with P = 100, 200, 300; the middle one interpolated. Its trapezoids are
    # [5, 5.5] and [5.5, 6]; the first, [4.5, 5] from P_0 = 0, does not read it.
    v_ave = 6.0
    f = [1 - math.exp(-math.pi / 4 * (v / v_ave) ** 2) for v in (4.5, 5.0, 5.5, 6.0)]
    terms = [(f[1] - f[0]) * 50, (f[2] - f[1]) * 150, (f[3] - f[2]) * 250]
    wind_speed, power = np.array([5.0, 5.5, 6.0]), np.array([100.0, 200.0, 300.0])
    share = interpolated_share(wind_speed, power, v_ave, np.array([1]))
    assert share == pytest.approx((terms[1] + terms[2]) / sum(terms), rel=1e-12)
    # The last point reads only its own interval; no point, no share.
    assert interpolated_share(wind_speed, power, v_ave, np.array([2])) == pytest.approx(terms[2] / sum(terms))
    assert interpolated_share(wind_speed, power, v_ave, np.array([], dtype=np.int64)) == 0.0
