"""One operator's site over the simulated period: weather, turbine time series and their truth.

The site draws its weather (Weibull winds with a component all its turbines share, temperature,
pressure, air density) and its commissioning date; each turbine then draws its faults and
outages and runs: power around the density-corrected manufacturer curve, downtime and
curtailment with their status codes, bearing temperatures, and sensor artefacts (missing power,
frozen anemometers, vane and anemometer offsets). All randomness comes from the numpy Generator
passed in, in a fixed order, so a seed gives the same fleet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from scipy.special import ndtr

from client.air_density import air_density, pressure_at_elevation
from protos.domain import RECORD_PERIOD
from simulations.fleet_exports import export_style
from simulations.fleet_faults import (
    DAYS_PER_YEAR,
    FAILURE_OF_LABEL,
    OUTAGE_LABELS,
    Outage,
    TurbineFaults,
    draw_outages,
    draw_turbine_faults,
    gearbox_drift,
)
from simulations.fleet_turbines import (
    BEARING_CHANNELS,
    BEARING_MODELS,
    DEFAULT_BEARING_MODEL,
    RHO_REFERENCE,
    TurbineType,
    bearing_temperature,
    turbine_type,
    yaw_power_factor,
)

if TYPE_CHECKING:
    from simulations.fleet import FleetConfig


def simulate_operator(config: FleetConfig, operator: int, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Canonical records (UTC, kW, degC, deg) and the truth for one operator.

    The truth holds the site's parameters, ``records`` (per-record truth, a DataFrame) and
    ``turbines`` (per-turbine truth: commissioning date, faults, failures; JSON-ready).
    """
    model = config.models[operator % len(config.models)]
    times = pd.date_range(config.start, config.period_end, freq=RECORD_PERIOD, inclusive="left")
    weather = draw_site_weather(times, rng)
    site = Site(
        kind=turbine_type(model),
        status_codes=export_style(config, operator).status_codes,
        commissioning=draw_commissioning(times[0], config.max_age_years, rng),
        weather=weather,
    )
    n_turbines = config.turbines_by_operator[operator] if config.turbines_by_operator else config.turbines_per_operator
    turbines = [simulate_turbine(config, site, f"WTG{t + 1:02d}", rng) for t in range(n_turbines)]
    truth = {
        "operator": operator,
        "model": model,
        "rated_power_kw": site.kind.rated_power_kw,
        "weibull_scale": weather.weibull_scale,
        "weibull_shape": weather.weibull_shape,
        "elevation_m": weather.elevation_m,
        "power_scatter": config.power_scatter,
        "commissioning_date": site.commissioning.date().isoformat(),
        "turbines": [turbine.truth for turbine in turbines],
    }
    records = pd.concat([turbine.records for turbine in turbines], ignore_index=True)
    return records, truth | {"records": pd.concat([turbine.truth_records for turbine in turbines], ignore_index=True)}


@dataclass(frozen=True)
class SiteWeather:
    """One site's weather over the simulated period, shared by its turbines."""

    times: pd.DatetimeIndex  # start of each 10-min record, UTC
    weibull_scale: float  # [m/s], Weibull scale A of the hub wind speed
    weibull_shape: float  # [-], Weibull shape k
    elevation_m: float  # [m] above sea level
    pressure_pa: np.ndarray  # [Pa]
    temperature_c: np.ndarray  # [degC], ambient
    air_density: np.ndarray  # [kg/m^3]
    common_wind: np.ndarray  # [-], the standard-normal AR(1) part every turbine's wind shares


def draw_site_weather(times: pd.DatetimeIndex, rng: np.random.Generator) -> SiteWeather:
    """Draw a site's wind climate, elevation, pressure, temperature and air density for ``times``.

    Weibull scale A ~ U(6.5, 9) m/s and shape k ~ U(1.8, 2.4); elevation ~ U(0, 1500) m; pressure
    [Pa] is the standard atmosphere at that elevation times 1 + 0.008 e, e a unit AR(1) series
    (lag-1 correlation 0.999); air density [kg/m^3] follows from temperature and pressure at 50 %
    relative humidity (:func:`client.air_density.air_density`).
    """
    n = len(times)
    scale, shape = rng.uniform(6.5, 9.0), rng.uniform(1.8, 2.4)
    elevation = rng.uniform(0.0, 1500.0)
    pressure = pressure_at_elevation(elevation) * (1.0 + 0.008 * _ar1(rng, n, 0.999))
    temperature_c = _ambient_temperature(times, rng)
    rho = air_density(temperature_c + 273.15, pressure, 0.5)
    common = _ar1(rng, n, 0.98)
    return SiteWeather(times, scale, shape, elevation, pressure, temperature_c, rho, common)


def _ambient_temperature(times: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Ambient temperature [degC] at ``times``.

    T = T_site - 7 cos(2 pi (d + doy0 - 15) / 365.25) + 3 sin(2 pi d) + 1.5 e, with T_site ~ U(6, 12)
    degC, d the days since the first record, doy0 its day of the year (coldest in mid-January)
    and e a unit AR(1) series (lag-1 correlation 0.99).
    """
    day = np.asarray((times - times[0]) / pd.Timedelta(days=1))
    return (
        rng.uniform(6.0, 12.0)
        - 7.0 * np.cos(2 * np.pi * (day + (times[0].day_of_year - 15)) / 365.25)
        + 3.0 * np.sin(2 * np.pi * day)
        + 1.5 * _ar1(rng, len(times), 0.99)
    )


def draw_commissioning(start: pd.Timestamp, max_age_years: float, rng: np.random.Generator) -> pd.Timestamp:
    """A site's commissioning date: midnight UTC, uniformly up to ``max_age_years`` [yr] before ``start``.

    A wind farm is commissioned at once: one date per site.
    """
    drawn_age = rng.uniform(0.0, max_age_years)
    return (start - pd.Timedelta(days=drawn_age * DAYS_PER_YEAR)).normalize()


@dataclass(frozen=True)
class Site:
    """What one operator's turbines share: their type, the operator's status codes, age and weather."""

    kind: TurbineType
    status_codes: dict[str, int]  # status -> the operator's code, as ExportStyle.status_codes
    commissioning: pd.Timestamp  # midnight UTC
    weather: SiteWeather

    @property
    def age_years(self) -> float:
        """Age of the turbines at the first record [yr]."""
        return (self.weather.times[0] - self.commissioning) / pd.Timedelta(days=DAYS_PER_YEAR)


@dataclass(frozen=True)
class SimulatedTurbine:
    """One turbine's canonical records and truth over the simulated period."""

    records: pd.DataFrame  # canonical columns: UTC, kW, degC, deg, the operator's status codes
    truth_records: pd.DataFrame  # per-record truth
    truth: dict  # per-turbine truth, JSON-ready


def simulate_turbine(config: FleetConfig, site: Site, asset_id: str, rng: np.random.Generator) -> SimulatedTurbine:
    """Simulate one turbine of ``site``: its faults and outages, then wind, power, status, temperatures, sensors.

    The steps draw from ``rng`` in this order: faults, outages, wind, yaw error, power scatter,
    downtime, curtailment, bearing temperatures, missing power, frozen anemometer.
    """
    weather, kind = site.weather, site.kind
    n = len(weather.times)
    faults = draw_turbine_faults(config.faults, n, rng)
    outage_labels, outages = draw_outages(config.faults, faults, n, site.age_years, rng)
    stopped = outage_labels > 0
    wind_speed = _weibull_series(rng, n, weather.weibull_scale, weather.weibull_shape, weather.common_wind)
    # The controller zeroes the vane's mean: a vane offset o leaves the rotor misaligned by -o.
    yaw_error = -faults.vane_offset_deg + config.yaw_error_std_deg * _ar1(rng, n, 0.8)
    expected = kind.power_at_density(wind_speed, weather.air_density)
    yaw_factor = yaw_power_factor(yaw_error, config.yaw_error_std_deg)
    power = kind.power_at_density(wind_speed, weather.air_density, yaw_factor) * (1.0 - faults.underperformance)
    power = power * (1.0 + config.power_scatter * rng.standard_normal(n))
    fault = _event_mask(rng, n, config.downtime_fraction, 36) & ~stopped
    curtailed = _event_mask(rng, n, config.curtailment_fraction, 18) & ~fault & ~stopped
    limit_kw = np.where(curtailed, config.curtailment_limit * kind.rated_power_kw, np.inf)
    power = _delivered_power(power, fault | stopped, curtailed, config.curtailment_limit * kind.rated_power_kw)
    pitch = kind.blade_pitch(wind_speed * (weather.air_density / RHO_REFERENCE) ** (1 / 3), fault | stopped, limit_kw)
    status = _status(site.status_codes, fault, curtailed, outage_labels) if site.status_codes else np.zeros(n, int)
    per_unit = np.maximum(power, 0.0) / kind.rated_power_kw  # before blanking: the bearing felt it
    drift = gearbox_drift(faults, n)
    temperatures = _bearing_temperatures(kind.model, weather.temperature_c, per_unit, drift, rng)
    power = np.where(rng.random(n) < 0.002, np.nan, power)  # missing records
    frozen = _event_mask(rng, n, config.frozen_fraction, 12)
    measured_wind_speed = _frozen_anemometer(np.maximum(0.0, wind_speed + faults.anemometer_offset_ms), frozen)
    records = pd.DataFrame(
        {
            "time": weather.times,
            "asset_id": asset_id,
            "WTUR_W": power,
            "WMET_HorWdSpd": measured_wind_speed,
            "WTUR_TurSt": status,
            "WMET_EnvTmp": weather.temperature_c,
            "WMET_EnvPres": weather.pressure_pa,
            "WMET_HorWdDirRel": yaw_error + faults.vane_offset_deg,
            "WROT_BlPthAngVal": pitch,
            **temperatures,
        }
    )
    truth_records = pd.DataFrame(
        {
            "time": weather.times,
            "asset_id": asset_id,
            "air_density": weather.air_density,
            "wind_speed": wind_speed,
            "expected_power_kw": expected,
            "fault": fault,
            "curtailed": curtailed,
            "frozen": frozen,
            "yaw_error_deg": yaw_error,
            "gearbox_drift_degC": drift,
            "failure_component": FAILURE_OF_LABEL[outage_labels],
            "maintenance": outage_labels == OUTAGE_LABELS.index("maintenance"),
        }
    )
    truth = _turbine_truth(asset_id, site.commissioning, faults, outages, weather.times[0])
    return SimulatedTurbine(records, truth_records, truth)


def _delivered_power(power: np.ndarray, stopped: np.ndarray, curtailed: np.ndarray, limit_kw: float) -> np.ndarray:
    """Power [kW] a turbine delivers: 0 where ``stopped``, at most ``limit_kw`` [kW] where ``curtailed``."""
    power = np.where(stopped, 0.0, power)
    return np.where(curtailed, np.minimum(power, limit_kw), power)


def _status(
    codes: Mapping[str, int], fault: np.ndarray, curtailed: np.ndarray, outage_labels: np.ndarray
) -> np.ndarray:
    """The operator's status code per record: an outage's code, else fault, curtailed or normal."""
    status_of_label = np.array([codes["normal"]] + [codes[label] for label in OUTAGE_LABELS[1:]])
    status = np.where(fault, codes["fault"], np.where(curtailed, codes["curtailed"], codes["normal"]))
    return np.where(outage_labels > 0, status_of_label[outage_labels], status)


def _bearing_temperatures(
    model: str, ambient_c: np.ndarray, per_unit_power: np.ndarray, gearbox_drift_c: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Gearbox and generator bearing temperatures [degC] of one turbine, by canonical channel.

    Each follows the turbine model's :class:`BearingModel` with the turbine's own constant (the
    model's base + N(0, 1.5^2) degC) and unit AR(1) noise (lag-1 correlation 0.9) [degC]; the
    gearbox bearing also carries ``gearbox_drift_c`` [degC]. ``per_unit_power`` is P / P_rated [-].
    """
    bearings = BEARING_MODELS.get(model, DEFAULT_BEARING_MODEL)
    temperatures = {
        BEARING_CHANNELS[part]: bearing_temperature(
            bearings[part], bearings[part].base_c + 1.5 * rng.standard_normal(), ambient_c, per_unit_power
        )
        + _ar1(rng, len(ambient_c), 0.9)
        for part in ("gearbox", "generator")
    }
    temperatures[BEARING_CHANNELS["gearbox"]] += gearbox_drift_c
    return temperatures


def _frozen_anemometer(wind_speed: np.ndarray, frozen: np.ndarray) -> np.ndarray:
    """Wind speed [m/s] as read: a frozen anemometer repeats the value it had when it froze; the turbine runs on."""
    frozen_start = frozen & ~np.r_[False, frozen[:-1]]
    return pd.Series(np.where(frozen & ~frozen_start, np.nan, wind_speed)).ffill().to_numpy()


def _weibull_series(rng: np.random.Generator, n: int, scale: float, shape: float, common: np.ndarray) -> np.ndarray:
    """Autocorrelated Weibull wind speeds [m/s]: a Gaussian AR(1) process mapped through its CDF."""
    z = np.sqrt(0.85) * common + np.sqrt(0.15) * _ar1(rng, n, 0.9)
    u = np.clip(ndtr(z), 1e-12, 1 - 1e-12)
    return scale * (-np.log1p(-u)) ** (1.0 / shape)


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Stationary Gaussian AR(1) series with unit variance and lag-1 correlation ``phi``."""
    innovations = rng.standard_normal(n) * np.sqrt(1 - phi**2)
    innovations[0] = rng.standard_normal()
    return lfilter([1.0], [1.0, -phi], innovations)


def _event_mask(rng: np.random.Generator, n: int, fraction: float, mean_length: int) -> np.ndarray:
    """Runs of consecutive records covering about ``fraction`` of the series."""
    mask = np.zeros(n, dtype=bool)
    for start in rng.integers(0, n, size=max(0, round(fraction * n / mean_length))):
        mask[start : start + int(rng.integers(mean_length // 2, 2 * mean_length))] = True
    return mask


def _iso(start: pd.Timestamp, record: int) -> str:
    return (start + record * RECORD_PERIOD).isoformat().replace("+00:00", "Z")


def _turbine_truth(
    asset_id: str, commissioning: pd.Timestamp, faults: TurbineFaults, outages: list[Outage], start: pd.Timestamp
) -> dict:
    """Per-turbine truth, JSON-ready; times ISO 8601 UTC, ``end`` exclusive (may lie after the period)."""
    failure = faults.bearing_failure
    return {
        "asset_id": asset_id,
        "commissioning_date": commissioning.date().isoformat(),
        "underperformance": faults.underperformance,
        "vane_offset_deg": faults.vane_offset_deg,
        "anemometer_offset_ms": faults.anemometer_offset_ms,
        "bearing_failure_time": None if failure is None else _iso(start, failure),
        "bearing_drift_start": None if failure is None else _iso(start, failure - faults.drift_records),
        "failures": [
            {"component": o.label, "start": _iso(start, o.start), "end": _iso(start, o.stop)}
            for o in outages
            if o.label != "maintenance"
        ],
        "maintenance": [
            {"start": _iso(start, o.start), "end": _iso(start, o.stop)} for o in outages if o.label == "maintenance"
        ],
    }
