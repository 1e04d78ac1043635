"""Synthetic wind fleets with ground truth: what a prospective member's data could look like.

Each operator runs turbines of one real type, with the manufacturer power curve windpowerlib
ships (OpenEnergy turbine library). Winds are Weibull-distributed with autocorrelation and site
variation; air density follows temperature and site elevation; 10-min power scatters around the
density-corrected curve and responds to the turbine's yaw error; nacelle vane and bearing
temperatures follow simple normal-behaviour models; downtime and curtailment periods carry their
status codes. With a :class:`FaultConfig`, turbines also underperform, run misaligned, carry
anemometer offsets, develop gearbox-bearing faults (a temperature drift ending in a failure) and
fail at age-dependent rates, and are maintained. Every operator's data is written as its own
export (column names, units, delimiter, time zone) with a site.toml, and the noiseless truth is
kept beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from scipy.special import ndtr

from client.air_density import air_density, pressure_at_elevation
from protos.domain import RECORD_PERIOD
from simulations.fleet_exports import export_style, write_operator_files
from simulations.fleet_faults import (
    DAYS_PER_YEAR,
    FAILURE_OF_LABEL,
    OUTAGE_LABELS,
    FaultConfig,
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

DEFAULT_MODELS = ("E-82/2300", "V90/2000", "N117/2400")


@dataclass(frozen=True)
class FleetConfig:
    """What to simulate.

    Operator i runs ``models[i % len(models)]`` and writes EXPORT_STYLES entry
    ``export_styles[i % len(export_styles)]`` or, when that is empty, ``(i // len(models)) % 3``,
    so every model is seen through several export styles. ``faults = None`` gives a healthy fleet:
    no underperformance, misalignment, sensor offsets, bearing faults, component failures or
    maintenance (generic downtime, curtailment and frozen anemometers are always there).
    """

    operators: int = 10
    turbines_per_operator: int = 5
    months: int = 3
    seed: int = 0
    start: str = "2025-01-01T00:00:00Z"
    models: tuple[str, ...] = DEFAULT_MODELS
    power_scatter: float = 0.05  # relative standard deviation of 10-min power around the curve [-]
    downtime_fraction: float = 0.03
    curtailment_fraction: float = 0.02
    curtailment_limit: float = 0.5  # curtailed power limit, per unit of rated [-]
    frozen_fraction: float = 0.01  # share of records with a frozen anemometer [-]
    turbines_by_operator: tuple[int, ...] = ()  # overrides turbines_per_operator, operator by operator
    export_styles: tuple[int, ...] = ()
    yaw_error_std_deg: float = 7.0  # [deg], 10-min yaw tracking error of a healthy turbine
    max_age_years: float = 20.0  # [yr], sites are commissioned up to this long before the start
    faults: FaultConfig | None = None

    @property
    def period_end(self) -> str:
        """End of the simulated period (exclusive), ISO 8601 UTC."""
        end = pd.Timestamp(self.start) + pd.DateOffset(months=self.months)
        return end.isoformat().replace("+00:00", "Z")


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


def generate_fleet(config: FleetConfig, out_dir: Path, progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write every operator's export, site.toml and truth under ``out_dir``; return the site.tomls.

    Layout: ``out_dir/operator-NN/{scada.csv|scada.parquet, site.toml, truth.parquet, turbines.json}``
    and ``out_dir/ground_truth.json`` (the config, and per operator its parameters and the
    per-turbine truth that turbines.json repeats).
    """
    rng = np.random.default_rng(config.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    site_files, truths = [], []
    for operator in range(config.operators):
        records, truth = simulate_operator(config, operator, rng)
        truth_records = truth.pop("records")
        site_dir = out_dir / f"operator-{operator + 1:02d}"
        site_files.append(write_operator_files(site_dir, export_style(config, operator), records, truth_records, truth))
        truths.append(truth)
        if progress:
            turbines = len(truth["turbines"])
            progress(f"generated {site_dir.name}: {truth['model']}, {turbines} turbines, {len(records):,} records")
    (out_dir / "ground_truth.json").write_text(json.dumps({"config": asdict(config), "operators": truths}, indent=1))
    return site_files
