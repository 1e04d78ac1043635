"""One operator's site over the simulated period: weather, turbine time series and their truth.

The site draws its weather (Weibull winds with a component all its turbines share, temperature,
pressure, air density) and its commissioning date; each turbine then draws its faults and
outages and runs: power around the density-corrected manufacturer curve, downtime and
curtailment with their status codes, bearing temperatures, and sensor artefacts (missing power,
frozen anemometers, vane and anemometer offsets). All randomness comes from the numpy Generator
passed in, in a fixed order, so a seed gives the same fleet.
"""

from __future__ import annotations

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
    bearing_temperature,
    turbine_type,
    yaw_power_factor,
)

if TYPE_CHECKING:
    from simulations.fleet import FleetConfig


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


def simulate_operator(config: FleetConfig, operator: int, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Canonical records (UTC, kW, degC, deg) and the truth for one operator.

    The truth holds the site's parameters, ``records`` (per-record truth, a DataFrame) and
    ``turbines`` (per-turbine truth: commissioning date, faults, failures; JSON-ready).
    """
    model = config.models[operator % len(config.models)]
    kind = turbine_type(model)
    times = pd.date_range(config.start, config.period_end, freq=RECORD_PERIOD, inclusive="left")
    n = len(times)
    scale, shape = rng.uniform(6.5, 9.0), rng.uniform(1.8, 2.4)
    elevation = rng.uniform(0.0, 1500.0)
    # Standard atmosphere at the site's elevation, with weather: +-0.8 % slow variation.
    pressure = pressure_at_elevation(elevation) * (1.0 + 0.008 * _ar1(rng, n, 0.999))
    day = (times - times[0]) / pd.Timedelta(days=1)
    temperature_c = (
        rng.uniform(6.0, 12.0)
        - 7.0 * np.cos(2 * np.pi * (np.asarray(day) + (times[0].day_of_year - 15)) / 365.25)
        + 3.0 * np.sin(2 * np.pi * np.asarray(day))
        + 1.5 * _ar1(rng, n, 0.99)
    )
    rho = air_density(temperature_c + 273.15, pressure, 0.5)
    common = _ar1(rng, n, 0.98)
    # A wind farm is commissioned at once: one date per site.
    drawn_age = rng.uniform(0.0, config.max_age_years)
    commissioning = (times[0] - pd.Timedelta(days=drawn_age * DAYS_PER_YEAR)).normalize()
    age_years = (times[0] - commissioning) / pd.Timedelta(days=DAYS_PER_YEAR)
    codes = export_style(config, operator).status_codes
    status_of_label = np.array([codes["normal"]] + [codes[label] for label in OUTAGE_LABELS[1:]])
    bearings = BEARING_MODELS.get(model, DEFAULT_BEARING_MODEL)
    frames, truth_frames, turbines = [], [], []
    n_turbines = config.turbines_by_operator[operator] if config.turbines_by_operator else config.turbines_per_operator
    for t in range(n_turbines):
        asset_id = f"WTG{t + 1:02d}"
        faults = draw_turbine_faults(config.faults, n, rng)
        outage_labels, outages = draw_outages(config.faults, faults, n, age_years, rng)
        stopped = outage_labels > 0
        wind_speed = _weibull_series(rng, n, scale, shape, common)
        # The controller zeroes the vane's mean: a vane offset o leaves the rotor misaligned by -o.
        yaw_error = -faults.vane_offset_deg + config.yaw_error_std_deg * _ar1(rng, n, 0.8)
        expected = kind.power(wind_speed * (rho / RHO_REFERENCE) ** (1 / 3))
        seen = wind_speed * (rho / RHO_REFERENCE * yaw_power_factor(yaw_error, config.yaw_error_std_deg)) ** (1 / 3)
        power = kind.power(seen) * (1.0 - faults.underperformance)
        power = power * (1.0 + config.power_scatter * rng.standard_normal(n))
        fault = _event_mask(rng, n, config.downtime_fraction, 36) & ~stopped
        curtailed = _event_mask(rng, n, config.curtailment_fraction, 18) & ~fault & ~stopped
        power = np.where(fault | stopped, 0.0, power)
        power = np.where(curtailed, np.minimum(power, config.curtailment_limit * kind.rated_power_kw), power)
        status = np.where(fault, codes["fault"], np.where(curtailed, codes["curtailed"], codes["normal"]))
        status = np.where(stopped, status_of_label[outage_labels], status)
        per_unit = np.maximum(power, 0.0) / kind.rated_power_kw  # before blanking: the bearing felt it
        drift = gearbox_drift(faults, n)
        temperatures = {
            BEARING_CHANNELS[part]: bearing_temperature(
                bearings[part], bearings[part].base_c + 1.5 * rng.standard_normal(), temperature_c, per_unit
            )
            + _ar1(rng, n, 0.9)
            for part in ("gearbox", "generator")
        }
        temperatures[BEARING_CHANNELS["gearbox"]] += drift
        missing = rng.random(n) < 0.002
        power[missing] = np.nan
        # A frozen anemometer repeats the value it had when it froze; the turbine runs on.
        frozen = _event_mask(rng, n, config.frozen_fraction, 12)
        frozen_start = frozen & ~np.r_[False, frozen[:-1]]
        measured = np.maximum(0.0, wind_speed + faults.anemometer_offset_ms)
        measured_wind_speed = pd.Series(np.where(frozen & ~frozen_start, np.nan, measured)).ffill().to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "time": times,
                    "asset_id": asset_id,
                    "WTUR_W": power,
                    "WMET_HorWdSpd": measured_wind_speed,
                    "WTUR_TurSt": status,
                    "WMET_EnvTmp": temperature_c,
                    "WMET_EnvPres": pressure,
                    "WMET_HorWdDirRel": yaw_error + faults.vane_offset_deg,
                    **temperatures,
                }
            )
        )
        truth_frames.append(
            pd.DataFrame(
                {
                    "time": times,
                    "asset_id": asset_id,
                    "air_density": rho,
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
        )
        turbines.append(_turbine_truth(asset_id, commissioning, faults, outages, times[0]))
    truth = {
        "operator": operator,
        "model": model,
        "rated_power_kw": kind.rated_power_kw,
        "weibull_scale": scale,
        "weibull_shape": shape,
        "elevation_m": elevation,
        "power_scatter": config.power_scatter,
        "commissioning_date": commissioning.date().isoformat(),
        "turbines": turbines,
    }
    return pd.concat(frames, ignore_index=True), truth | {"records": pd.concat(truth_frames, ignore_index=True)}


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
