"""IEC 61400-12-1 density formulas against cases computed by hand from the standard's equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from client.air_density import (
    air_density,
    normalise_power,
    normalise_wind_speed,
    pressure_at_elevation,
)


def test_air_density_by_hand():
    # T = 288.15 K, B = 101325 Pa, phi = 0.5:
    # Pw = 0.0000205 * exp(0.0631846 * 288.15) = 0.0000205 * exp(18.2066) = 1655.0 Pa
    # rho = (101325 / 287.05 - 0.5 * 1655.0 * (0.0034837 - 0.0021668)) / 288.15
    #     = (352.988 - 1.0897) / 288.15 = 1.22123 kg/m^3
    pw = 0.0000205 * math.exp(0.0631846 * 288.15)
    assert pw == pytest.approx(1655.0, rel=1e-4)
    expected = (101325 / 287.05 - 0.5 * pw * (1 / 287.05 - 1 / 461.5)) / 288.15
    assert expected == pytest.approx(1.22123, abs=5e-5)
    assert air_density(288.15, 101325.0) == pytest.approx(expected, rel=1e-12)
    # Dry air at the same state: the ideal-gas value B / (R0 T) = 1.22500 kg/m^3.
    assert air_density(288.15, 101325.0, 0.0) == pytest.approx(101325 / (287.05 * 288.15), rel=1e-12)
    assert air_density(288.15, 101325.0, 0.0) == pytest.approx(1.2250, abs=1e-4)


def test_humid_air_is_lighter():
    rho = air_density(np.array([303.15, 303.15]), np.array([1e5, 1e5]), np.array([0.0, 1.0]))
    assert rho[1] < rho[0]


def test_standard_atmosphere_pressure():
    assert pressure_at_elevation(0.0) == pytest.approx(101325.0)
    # ISO 2533 tables: 1000 m -> 89874.6 Pa, 2000 m -> 79495.2 Pa.
    assert pressure_at_elevation(1000.0) == pytest.approx(89874.6, rel=1e-4)
    assert pressure_at_elevation(2000.0) == pytest.approx(79495.2, rel=1e-4)


def test_normalisation_by_hand():
    # rho = 1.1 at rho0 = 1.225: V_n = 10 * (0.897959)^(1/3) = 9.64759 m/s; P_n = 1000 * 1.225 / 1.1 = 1113.64 kW
    assert normalise_wind_speed(10.0, 1.1, 1.225) == pytest.approx(9.64759, abs=1e-5)
    assert normalise_power(1000.0, 1.1, 1.225) == pytest.approx(1113.636, abs=1e-3)
    np.testing.assert_array_equal(normalise_wind_speed(np.array([7.0]), np.array([1.225]), 1.225), [7.0])
