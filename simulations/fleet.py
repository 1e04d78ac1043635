"""Synthetic wind fleets with ground truth: what a prospective member's data could look like.

Each operator runs turbines of one real type, with the manufacturer power curve windpowerlib
ships (OpenEnergy turbine library). Winds are Weibull-distributed with autocorrelation and site
variation; air density follows temperature and site elevation; 10-min power scatters around the
density-corrected curve; downtime and curtailment periods carry their status codes. Every
operator's data is written as its own export (column names, units, delimiter, time zone) with a
site.toml, and the noiseless truth is kept beside it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import windpowerlib
from scipy.signal import lfilter
from scipy.special import ndtr
from windpowerlib import WindTurbine

from client.air_density import air_density, pressure_at_elevation

DEFAULT_MODELS = ("E-82/2300", "V90/2000", "N117/2400")
RHO_REFERENCE = 1.225  # [kg/m^3], density of the manufacturer curves
RECORD = pd.Timedelta(minutes=10)


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
class ExportStyle:
    """How one operator's SCADA system writes its export."""

    file_format: str
    columns: dict[str, str]
    units: dict[str, str]
    delimiter: str = ","
    decimal: str = "."
    timezone: str = "UTC"
    status_codes: dict[str, int] = field(default_factory=lambda: {"normal": 0, "fault": 1, "curtailed": 2})


EXPORT_STYLES = (
    ExportStyle(
        "csv",
        {
            "time": "Timestamp",
            "asset_id": "Turbine",
            "WTUR_W": "ActivePower_kW",
            "WMET_HorWdSpd": "WindSpeed_ms",
            "WTUR_TurSt": "Status",
            "WMET_EnvTmp": "AmbientTemp_C",
            "WMET_EnvPres": "AirPressure_hPa",
        },
        {"WMET_EnvPres": "hPa"},
    ),
    ExportStyle(
        "csv",
        {
            "time": "Zeitstempel",
            "asset_id": "Anlage",
            "WTUR_W": "Wirkleistung",
            "WMET_HorWdSpd": "Windgeschwindigkeit",
            "WTUR_TurSt": "Betriebszustand",
            "WMET_EnvTmp": "Aussentemperatur",
        },
        {"WTUR_W": "W", "WMET_EnvTmp": "K"},
        delimiter=";",
        decimal=",",
        timezone="Europe/Berlin",
        status_codes={"normal": 100, "fault": 400, "curtailed": 210},
    ),
    ExportStyle(
        "parquet",
        {
            "time": "ts",
            "asset_id": "wtg",
            "WTUR_W": "p_mw",
            "WMET_HorWdSpd": "ws",
            "WTUR_TurSt": "state",
            "WMET_EnvTmp": "t_amb",
        },
        {"WTUR_W": "MW"},
        status_codes={"normal": 1, "fault": 5, "curtailed": 3},
    ),
)


@dataclass(frozen=True)
class FleetConfig:
    """What to simulate.

    Operator i runs ``models[i % len(models)]`` and writes EXPORT_STYLES entry
    ``export_styles[i % len(export_styles)]`` or, when that is empty, ``(i // len(models)) % 3``,
    so every model is seen through several export styles.
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

    @property
    def period_end(self) -> str:
        """End of the simulated period (exclusive), ISO 8601 UTC."""
        end = pd.Timestamp(self.start) + pd.DateOffset(months=self.months)
        return end.isoformat().replace("+00:00", "Z")


def export_style(config: FleetConfig, operator: int) -> ExportStyle:
    """The export style operator ``operator`` writes."""
    if config.export_styles:
        return EXPORT_STYLES[config.export_styles[operator % len(config.export_styles)]]
    return EXPORT_STYLES[(operator // len(config.models)) % len(EXPORT_STYLES)]


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
    """Canonical records (UTC, kW, degC) and the truth for one operator."""
    model = config.models[operator % len(config.models)]
    kind = turbine_type(model)
    times = pd.date_range(config.start, config.period_end, freq=RECORD, inclusive="left")
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
    common = _ar1(rng, n, 0.98)
    frames, truth_frames = [], []
    codes = export_style(config, operator).status_codes
    n_turbines = config.turbines_by_operator[operator] if config.turbines_by_operator else config.turbines_per_operator
    for t in range(n_turbines):
        asset_id = f"WTG{t + 1:02d}"
        wind_speed = _weibull_series(rng, n, scale, shape, common)
        rho = air_density(temperature_c + 273.15, pressure, 0.5)
        expected = kind.power(wind_speed * (rho / RHO_REFERENCE) ** (1 / 3))
        power = expected * (1.0 + config.power_scatter * rng.standard_normal(n))
        fault = _event_mask(rng, n, config.downtime_fraction, 36)
        curtailed = _event_mask(rng, n, config.curtailment_fraction, 18) & ~fault
        power = np.where(fault, 0.0, power)
        power = np.where(curtailed, np.minimum(power, config.curtailment_limit * kind.rated_power_kw), power)
        status = np.where(fault, codes["fault"], np.where(curtailed, codes["curtailed"], codes["normal"]))
        missing = rng.random(n) < 0.002
        power[missing] = np.nan
        # A frozen anemometer repeats the value it had when it froze; the turbine runs on.
        frozen = _event_mask(rng, n, config.frozen_fraction, 12)
        frozen_start = frozen & ~np.r_[False, frozen[:-1]]
        measured_wind_speed = pd.Series(np.where(frozen & ~frozen_start, np.nan, wind_speed)).ffill().to_numpy()
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
                }
            )
        )
    truth = {
        "operator": operator,
        "model": model,
        "rated_power_kw": kind.rated_power_kw,
        "weibull_scale": scale,
        "weibull_shape": shape,
        "elevation_m": elevation,
        "power_scatter": config.power_scatter,
    }
    return pd.concat(frames, ignore_index=True), truth | {"records": pd.concat(truth_frames, ignore_index=True)}


def to_export(records: pd.DataFrame, style: ExportStyle) -> pd.DataFrame:
    """Canonical records -> the operator's own export columns, units and local time."""
    factors = {"W": 1e3, "MW": 1e-3}
    out = pd.DataFrame()
    local = records["time"].dt.tz_convert(style.timezone)
    out[style.columns["time"]] = local if style.file_format == "parquet" else local.map(lambda t: t.isoformat())
    out[style.columns["asset_id"]] = records["asset_id"]
    out[style.columns["WTUR_W"]] = records["WTUR_W"] * factors.get(style.units.get("WTUR_W", "kW"), 1.0)
    out[style.columns["WMET_HorWdSpd"]] = records["WMET_HorWdSpd"].round(3)
    out[style.columns["WTUR_TurSt"]] = records["WTUR_TurSt"]
    temperature = records["WMET_EnvTmp"] + (273.15 if style.units.get("WMET_EnvTmp") == "K" else 0.0)
    out[style.columns["WMET_EnvTmp"]] = temperature.round(2)
    if "WMET_EnvPres" in style.columns:
        out[style.columns["WMET_EnvPres"]] = (records["WMET_EnvPres"] / 100.0).round(2)  # hPa
    return out


def site_toml(
    name: str, data_file: str, style: ExportStyle, kind: TurbineType, asset_ids: list[str], elevation_m: float
) -> str:
    """The site.toml an operator would write for this export."""
    lines = [
        "[site]",
        f'name = "{name}"',
        f'timezone = "{style.timezone}"',
        f"elevation_m = {elevation_m:.0f}",
        "",
        "[source]",
        f'files = ["{data_file}"]',
        f'format = "{style.file_format}"',
        f'delimiter = "{style.delimiter}"',
        f'decimal = "{style.decimal}"',
        "",
        "[columns]",
        *[f'{canonical} = "{column}"' for canonical, column in style.columns.items()],
        "",
        "[units]",
        *[f'{canonical} = "{unit}"' for canonical, unit in style.units.items()],
        "",
        "[status]",
        f"normal = [{style.status_codes['normal']}]",
        "",
    ]
    for asset_id in asset_ids:
        lines += [
            "[[turbines]]",
            f'asset_id = "{asset_id}"',
            f'model = "{kind.model}"',
            f"rated_power_kw = {kind.rated_power_kw}",
            f"rotor_diameter_m = {kind.rotor_diameter_m}",
            f"hub_height_m = {kind.hub_height_m}",
            f'iec_wind_class = "{kind.iec_wind_class}"',
            "",
        ]
    return "\n".join(lines)


def generate_fleet(config: FleetConfig, out_dir: Path, progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write every operator's export, site.toml and truth under ``out_dir``; return the site.tomls.

    Layout: ``out_dir/operator-NN/{scada.csv|scada.parquet, site.toml, truth.parquet}`` and
    ``out_dir/ground_truth.json``.
    """
    rng = np.random.default_rng(config.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    site_files, truths = [], []
    for operator in range(config.operators):
        records, truth = simulate_operator(config, operator, rng)
        style = export_style(config, operator)
        site_dir = out_dir / f"operator-{operator + 1:02d}"
        site_dir.mkdir(exist_ok=True)
        export = to_export(records, style)
        data_file = f"scada.{style.file_format}"
        if style.file_format == "parquet":
            export.to_parquet(site_dir / data_file, index=False)
        else:
            export.to_csv(site_dir / data_file, sep=style.delimiter, decimal=style.decimal, index=False)
        truth.pop("records").to_parquet(site_dir / "truth.parquet", index=False)
        kind = turbine_type(truth["model"])
        asset_ids = sorted(records["asset_id"].unique())
        text = site_toml(site_dir.name, data_file, style, kind, asset_ids, truth["elevation_m"])
        (site_dir / "site.toml").write_text(text)
        site_files.append(site_dir / "site.toml")
        truths.append(truth)
        if progress:
            progress(f"generated {site_dir.name}: {kind.model}, {len(asset_ids)} turbines, {len(records):,} records")
    (out_dir / "ground_truth.json").write_text(json.dumps({"config": asdict(config), "operators": truths}, indent=1))
    return site_files
