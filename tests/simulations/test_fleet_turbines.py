"""Turbine types: the density- and yaw-corrected power curve, the yaw loss, the IEC class read from the library."""

from __future__ import annotations

import numpy as np
import pytest

from simulations.fleet_turbines import RHO_REFERENCE, iec_wind_class_of, turbine_type, yaw_power_factor


def test_power_at_density_reads_the_curve_at_the_density_normalised_wind_speed():
    """P = P_curve(V (rho / rho0 * f)^(1/3)) (IEC 61400-12-1:2017, 9.1.5, equation 14).

    The E-82/2300 curve in windpowerlib's library gives 532 kW at 7 m/s and 1180 kW at 9 m/s. By
    hand: 0.729^(1/3) = 0.9, so 70/9 m/s and 10 m/s at 0.729 rho0 read the curve at 7 and 9 m/s;
    rho = 0.9 rho0 with a yaw factor of 0.81 is the same product.
    """
    kind = turbine_type("E-82/2300")
    wind_speed = np.array([3.5, 9.0, 13.0])
    np.testing.assert_array_equal(kind.power_at_density(wind_speed, np.full(3, RHO_REFERENCE)), kind.power(wind_speed))
    np.testing.assert_allclose(
        kind.power_at_density(np.array([70 / 9, 10.0]), 0.729 * RHO_REFERENCE), [532.0, 1180.0], rtol=1e-12
    )
    np.testing.assert_allclose(kind.power_at_density(np.array([10.0]), 0.9 * RHO_REFERENCE, 0.81), [1180.0], rtol=1e-12)


@pytest.mark.parametrize(
    ("yaw_error_deg", "yaw_error_std_deg", "expected"),
    [
        (0.0, 0.0, 1.0),
        (10.0, 0.0, 0.9698463103929541),  # cos^2(10 deg)
        (0.0, 7.0, 1.0149251451798278),  # 2 / (1 + exp(-2 (7 pi / 180)^2))
    ],
)
def test_yaw_power_factor_is_cos_squared_over_the_curves_own_tracking_loss(yaw_error_deg, yaw_error_std_deg, expected):
    assert yaw_power_factor(np.array(yaw_error_deg), yaw_error_std_deg) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("IEC/EN IIA", "IIA"), ("IEC 3", "III"), ("IEC IIIA", "IIIA"), ("IEC 2B", "IIB"), ("DIBt WZ3", ""), ("", "")],
)
def test_iec_wind_class_is_read_from_the_librarys_free_text(text, expected):
    assert iec_wind_class_of(text) == expected
