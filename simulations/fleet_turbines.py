"""Turbine types: manufacturer power curves, the power lost to yaw error, bearing temperature models.

A turbine type is a real model from windpowerlib's bundled OpenEnergy turbine library, with its
manufacturer power curve at the reference air density. Its power responds to air density and
yaw error; its gearbox and generator bearings warm with ambient temperature and load following a
normal-behaviour model fixed per turbine model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import windpowerlib
from windpowerlib import WindTurbine

RHO_REFERENCE = 1.225  # [kg/m^3], density of the manufacturer curves


@dataclass(frozen=True)
class TurbineType:
    """A turbine type and its manufacturer power curve."""

    model: str
    rated_power_kw: float
    rotor_diameter_m: float
    hub_height_m: float
    curve_wind_speed: np.ndarray  # [m/s]
    curve_power_kw: np.ndarray  # [kW]
    iec_wind_class: str  # e.g. "IIA", "" when the library does not say

    def power(self, wind_speed: np.ndarray) -> np.ndarray:
        """Manufacturer power [kW] at hub wind speed [m/s] and rho = 1.225 kg/m^3; 0 beyond cut-out."""
        power = np.interp(wind_speed, self.curve_wind_speed, self.curve_power_kw, left=0.0, right=0.0)
        return np.where(wind_speed > self.curve_wind_speed[-1], 0.0, power)

    def power_at_density(
        self, wind_speed: np.ndarray, air_density: np.ndarray, yaw_factor: np.ndarray | float = 1.0
    ) -> np.ndarray:
        """Power [kW] at hub wind speed and air density, the yaw loss included.

        P = P_curve(V (rho / rho0 * f)^(1/3)): the manufacturer curve, measured at rho0 = 1.225
        kg/m^3, read at the wind speed normalised to rho0 (IEC 61400-12-1:2017, 9.1.5, equation 14),
        with the yaw factor f taken into the cube as well (:func:`yaw_power_factor`).

        Parameters
        ----------
        wind_speed : numpy.ndarray
            Hub wind speed V [m/s].
        air_density : numpy.ndarray
            Air density rho [kg/m^3].
        yaw_factor : numpy.ndarray or float
            Factor f on the power below rated [-]; 1 for a turbine facing the wind as the curve's did.

        Returns
        -------
        numpy.ndarray
            Power [kW]; 0 beyond cut-out.
        """
        return self.power(wind_speed * (air_density / RHO_REFERENCE * yaw_factor) ** (1 / 3))

    def blade_pitch(self, wind_speed: np.ndarray, stopped: np.ndarray, limit_kw: np.ndarray) -> np.ndarray:
        """10-min mean blade pitch angle [deg] of a pitch-regulated turbine's controller.

        Fine pitch (0 deg) in partial load; above the wind speed at which the turbine reaches
        rated power, or its curtailed ``limit_kw`` [kW], the blades pitch by PITCH_SLOPE per m/s
        (at least CURTAILED_PITCH when a curtailment limit sheds power); feathered while
        ``stopped`` and idling below cut-in (the manufacturer curve's first non-zero power).
        """
        limited = np.minimum(limit_kw, self.rated_power_kw)
        full = np.interp(limited, np.maximum.accumulate(self.curve_power_kw), self.curve_wind_speed)
        pitch = np.where(wind_speed > full, PITCH_SLOPE * (wind_speed - full), 0.0)
        curtailing = (limit_kw < self.rated_power_kw) & (wind_speed > full)
        pitch = np.where(curtailing, np.maximum(pitch, CURTAILED_PITCH), pitch)
        cut_in = self.curve_wind_speed[np.argmax(self.curve_power_kw > 0)]
        return np.where(stopped | (wind_speed < cut_in), FEATHERED_PITCH, pitch)


PITCH_SLOPE = 2.5  # [deg per m/s] beyond the wind speed of full (or curtailed) power
CURTAILED_PITCH = 6.0  # [deg], the least pitch of a turbine shedding power to a curtailment limit
FEATHERED_PITCH = 85.0  # [deg], blades feathered: stopped or idling


@cache
def turbine_type(model: str) -> TurbineType:
    """Load ``model`` from windpowerlib's bundled turbine library."""
    turbine = WindTurbine(turbine_type=model, hub_height=100.0)
    curve = turbine.power_curve.sort_values("wind_speed")
    library = pd.read_csv(Path(windpowerlib.__file__).parent / "oedb" / "turbine_data.csv", index_col="turbine_type")
    wind_class = str(library.loc[model, "wind_class_iec"]) if model in library.index else ""
    return TurbineType(
        model=model,
        rated_power_kw=float(turbine.nominal_power) / 1e3,
        rotor_diameter_m=float(turbine.rotor_diameter),
        hub_height_m=100.0,
        curve_wind_speed=curve["wind_speed"].to_numpy(dtype=np.float64),
        curve_power_kw=curve["value"].to_numpy(dtype=np.float64) / 1e3,
        iec_wind_class=iec_wind_class_of(wind_class),
    )


def iec_wind_class_of(text: str) -> str:
    """First IEC 61400-1 class in the library's free text ("IEC/EN IIA" -> "IIA", "IEC 3" -> "III")."""
    match = re.search(r"IEC(?:/EN)?\s+(I{1,3}|[123])([AB]?)", text)
    if not match:
        return ""
    numeral = {"1": "I", "2": "II", "3": "III"}.get(match.group(1), match.group(1))
    return numeral + match.group(2)


@dataclass(frozen=True)
class BearingModel:
    """Normal behaviour of one bearing temperature.

    T = base + ambient * T_amb + linear * pu + quadratic * pu^2 + noise [degC], with T_amb the
    ambient temperature [degC] and pu = P / P_rated [-] (0 while stopped). ``base`` is the
    model's mean; each turbine's own constant scatters around it.
    """

    base_c: float  # [degC]
    ambient: float  # [-], degC per degC of ambient temperature
    linear: float  # [degC] per unit of rated power
    quadratic: float  # [degC] per unit of rated power squared


# Fixed per turbine model, so a normal-behaviour model fitted on one turbine of a model suits its
# siblings. (The real E-82 is gearless; it gets a gearbox channel so every cohort has the same channels.)
BEARING_MODELS: dict[str, dict[str, BearingModel]] = {
    "E-82/2300": {"gearbox": BearingModel(35.0, 0.6, 25.0, 10.0), "generator": BearingModel(30.0, 0.5, 15.0, 12.0)},
    "V90/2000": {"gearbox": BearingModel(37.0, 0.55, 28.0, 8.0), "generator": BearingModel(31.0, 0.45, 18.0, 10.0)},
    "N117/2400": {"gearbox": BearingModel(34.0, 0.65, 22.0, 12.0), "generator": BearingModel(29.0, 0.5, 14.0, 14.0)},
}
DEFAULT_BEARING_MODEL = BEARING_MODELS["E-82/2300"]
BEARING_CHANNELS = {"gearbox": "WTRM_GbxBrgTmp", "generator": "WGEN_GnBrgTmp"}


def yaw_power_factor(yaw_error_deg: np.ndarray, yaw_error_std_deg: float) -> np.ndarray:
    """Power of a turbine at yaw error gamma, relative to the manufacturer curve, below rated [-].

    f = cos^2(gamma) / E[cos^2(eps)], eps ~ N(0, sigma^2): the rotor sees V cos(gamma)^(2/3), so
    the power below rated goes with cos^2(gamma) (the ~0.8 % loss at 5 deg and ~3 % at 10 deg
    vendors quote). The manufacturer curve is measured (IEC 61400-12-1) on a turbine tracking the
    wind with its normal yaw error of standard deviation sigma, so that tracking error is already
    in the curve: E[cos^2(eps)] = (1 + exp(-2 sigma^2)) / 2 normalises it out, and a healthy
    turbine's mean power is the curve's.

    Parameters
    ----------
    yaw_error_deg : numpy.ndarray
        True yaw error gamma, wind direction minus nacelle direction [deg].
    yaw_error_std_deg : float
        Standard deviation sigma of the healthy 10-min yaw tracking error [deg].

    Returns
    -------
    numpy.ndarray
        Factor f on the power below rated [-]; the hub wind speed the rotor sees is V f^(1/3).
    """
    sigma = np.deg2rad(yaw_error_std_deg)
    return np.cos(np.deg2rad(yaw_error_deg)) ** 2 / ((1.0 + np.exp(-2.0 * sigma**2)) / 2.0)


def bearing_temperature(
    model: BearingModel, constant_c: float, ambient_c: np.ndarray, per_unit_power: np.ndarray
) -> np.ndarray:
    """Normal-behaviour bearing temperature [degC], without noise.

    T = c + a T_amb + b pu + c2 pu^2 with a, b, c2 from ``model``.

    Parameters
    ----------
    model : BearingModel
        The turbine model's coefficients.
    constant_c : float
        The turbine's own constant c [degC].
    ambient_c : numpy.ndarray
        Ambient temperature [degC].
    per_unit_power : numpy.ndarray
        Active power per unit of rated power [-], 0 while stopped.
    """
    return constant_c + model.ambient * ambient_c + model.linear * per_unit_power + model.quadratic * per_unit_power**2
