"""Synthetic PV plants with injected ground truth: what a solar site's export could look like.

Each plant runs one real module of the CEC database pvlib ships, fixed-tilt or on single-axis
trackers, under a seeded weather model: Ineichen clear sky times a daily clear-sky index with AR(1)
persistence and intra-day cloud noise, Erbs decomposition and Hay-Davies transposition to the plane
of array, an ambient temperature with seasonal and diurnal cycles, and wind. Cells heat as the SAPM
cell model says; DC power is the CEC single-diode model at the maximum power point, scaled to each
inverter's DC capacity; the inverter is PVWatts, clipping at its AC capacity. The truth injected on
top (:class:`SolarPlantTruth`): linear degradation, soiling between cleanings, outages with their
status codes, underperforming inverters and a mis-tilted plane-of-array sensor.

Start here: :func:`solar_fleet` draws a fleet's truths, :func:`simulate_solar_plant` a plant's
records in the canonical layout (:mod:`client.solar.schema`), :func:`write_solar_site` writes the
export a solar site reads and :func:`write_solar_fleet` does all three.

The single-diode path is used, not PVWatts DC: it costs about 0.4 s per 10^5 records on one core,
once per plant (inverters differ by factors applied after it), so three years at 15 minutes stay
within seconds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from scipy.signal import lfilter

from common.progress import Progress, Stage, silent
from protos.domain import CLIMATE_ZONES, MODULE_TECHNOLOGIES, MOUNTINGS
from simulations.fleet import enrol_members

STATUS_CODES: dict[str, int] = {"available": 0, "inverter_fault": 3, "grid": 2, "maintenance": 4, "curtailment": 5}
"""Status code the export writes for an available inverter and for each outage category; site.toml reads this."""

OUTAGE_CATEGORIES = ("inverter_fault", "grid", "maintenance", "curtailment")
"""What takes an inverter off line (its output is 0 while it lasts)."""

CLEANING_SCHEDULES = ("regular", "irregular")
"""How a plant's modules get clean: by a crew every N days, or by rain at random."""

CEC_MODULES: dict[str, str] = {
    "mono-Si": "Jinko_Solar__Co___Ltd_JKM400M_72L",
    "multi-Si": "Canadian_Solar_Inc__CS6P_250P",
    "CdTe": "First_Solar__Inc__FS_6400",
    "CIGS": "Miasole_FLEX_03_300W",
    "a-Si": "Kaneka_G_SA060",
}
"""The module of pvlib's CEC database (``retrieve_sam('CECMod')``) a plant of each technology runs."""

SAPM_MOUNT = "open_rack_glass_polymer"
"""SAPM temperature model parameters (``pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS['sapm']``) of every plant:
fixed racks and trackers are both open racks (a = -3.56, b = -0.075 s/m, deltaT = 3 degC)."""


@dataclass(frozen=True)
class Climate:
    """A climate zone's weather model and the places a plant of that zone may stand."""

    sites: tuple[tuple[float, float, float], ...]  # (latitude [deg], longitude [deg], elevation [m])
    clear_sky_index: float  # mean daily clear-sky index [-]
    temperature_c: float  # annual mean ambient temperature [degC]
    seasonal_c: float  # half the summer-winter swing [degC]
    diurnal_c: float  # half the day-night swing on a clear day [degC]
    wind_ms: float  # mean wind speed [m/s]
    rain_interval_days: float  # mean days between cleaning rains [d]


CLIMATES: dict[str, Climate] = {
    "tropical": Climate(((-12.46, 130.84, 30.0), (13.08, 80.27, 7.0)), 0.62, 27.5, 2.0, 4.0, 2.5, 12.0),
    "arid": Climate(
        ((32.22, -110.97, 728.0), (30.92, -6.91, 1140.0), (-23.70, 133.88, 545.0)), 0.86, 21.0, 9.0, 8.0, 3.5, 60.0
    ),
    "temperate": Climate(((47.99, 7.85, 278.0), (44.84, -0.58, 50.0)), 0.58, 11.5, 8.0, 5.0, 3.0, 8.0),
    "continental": Climate(((44.98, -93.27, 260.0), (50.45, 30.52, 180.0)), 0.64, 7.0, 15.0, 6.0, 4.0, 10.0),
    "polar": Climate(((78.22, 15.65, 10.0), (69.65, 18.96, 30.0)), 0.52, -3.0, 9.0, 2.0, 5.0, 15.0),
}
"""Weather by climate zone; :data:`protos.domain.CLIMATE_ZONES` lists the same keys."""


@dataclass(frozen=True)
class Outage:
    """An inverter off line from ``start`` (inclusive) to ``end`` (exclusive), both ISO 8601 UTC."""

    inverter: str
    start: str
    end: str
    category: str
    status_code: int


@dataclass(frozen=True)
class Underperformance:
    """An inverter whose DC power is ``factor`` times a healthy one's from ``start`` on (None: the whole period)."""

    inverter: str
    factor: float  # [-]
    start: str | None = None


@dataclass(frozen=True)
class SolarPlantTruth:
    """What a synthetic PV plant is, and what was injected into its records.

    ``soiling_loss_pct`` and ``clipping_share`` are realised by the weather, so they are ``None`` in
    the truth :func:`solar_fleet` draws and filled in by :func:`simulate_solar_plant_with_truth`:
    the insolation-weighted soiling loss ``100 (1 - sum(SR G_poa) / sum(G_poa))`` over records with
    ``G_poa`` > 0 [%] (``SR`` the soiling ratio, ``G_poa`` the unsoiled plane-of-array irradiance), and
    the share of inverter records with the sensor's true irradiance above 50 W/m^2 in which the
    inverter is at its AC limit [-].
    """

    name: str
    latitude: float  # [deg]
    longitude: float  # [deg]
    elevation_m: float  # [m]
    module_technology: str
    mounting: str
    tilt_deg: float  # [deg]; the tracker's maximum rotation for single_axis
    azimuth_deg: float  # [deg]; the tracker's axis azimuth for single_axis
    climate_zone: str
    commissioned: str  # ISO date; degradation counts from here
    inverters: tuple[str, ...]
    dc_capacity_kw: tuple[float, ...]  # [kW] per inverter, STC
    ac_capacity_kw: tuple[float, ...]  # [kW] per inverter
    degradation_pct_per_year: float  # [%/yr], negative
    soiling_schedule: str
    soiling_rate_pct_per_day: float  # [%/d]
    cleaning_dates: tuple[str, ...]  # ISO dates; the modules are clean from that day's 00:00 UTC
    outages: tuple[Outage, ...] = ()
    underperforming: tuple[Underperformance, ...] = ()
    sensor_tilt_error_deg: float = 0.0  # [deg]
    # (start, end) ISO 8601 UTC: snow covers every module, the inverters stay available (the fleet draws none)
    snow: tuple[tuple[str, str], ...] = ()
    soiling_loss_pct: float | None = None  # [%]
    clipping_share: float | None = None  # [-]

    @property
    def gamma_pdc_per_c(self) -> float:
        """The module's temperature coefficient of maximum power, from the CEC database [1/degC]."""
        return float(cec_module(self.module_technology)["gamma_r"]) / 100.0


@dataclass(frozen=True)
class SolarSimulation:
    """A simulated plant: its canonical records, its realised truth and the per-record truth behind them.

    ``records`` holds per inverter and time: ``poa_wm2`` (unsoiled plane of array) [W/m^2],
    ``sensor_wm2`` (the sensor's noiseless reading) [W/m^2], ``soiling_ratio`` [-], ``p_dc_kw`` [kW],
    ``p_ac_kw`` (noiseless) [kW] and ``at_ac_limit``.
    """

    frame: pd.DataFrame
    truth: SolarPlantTruth
    records: pd.DataFrame


@cache
def cec_module(technology: str) -> pd.Series:
    """The CEC database's parameters of the module a plant of ``technology`` runs (:data:`CEC_MODULES`)."""
    if technology not in CEC_MODULES:
        raise ValueError(f"module_technology {technology!r}: expected one of {sorted(CEC_MODULES)}")
    return pvlib.pvsystem.retrieve_sam("CECMod")[CEC_MODULES[technology]]


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """A stationary AR(1) series of unit variance, ``x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t``."""
    e = rng.standard_normal(n)
    return lfilter([np.sqrt(1.0 - phi**2)], [1.0, -phi], e, zi=[phi * e[0]])[0] if n else e


def soiling_ratio(times: pd.DatetimeIndex, truth: SolarPlantTruth) -> np.ndarray:
    """Soiling ratio at ``times``: ``1 - rate/100 * days since the last cleaning`` (or since commissioning) [-].

    Floored at 0.5. A cleaning restores the ratio to 1 at 00:00 UTC of its date.
    """
    resets = pd.DatetimeIndex([truth.commissioned, *truth.cleaning_dates]).tz_localize("UTC").sort_values()
    resets = resets.as_unit("us")
    index = np.searchsorted(resets.asi8, times.as_unit("us").asi8, side="right") - 1
    days = (times.as_unit("us").asi8 - resets.asi8[np.clip(index, 0, None)]) / 86400e6
    days = np.where(index >= 0, days, 0.0)
    return np.maximum(1.0 - truth.soiling_rate_pct_per_day / 100.0 * days, 0.5)


def _weather(
    truth: SolarPlantTruth, times: pd.DatetimeIndex, step_h: float, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Solar position, GHI/DNI/DHI [W/m^2], ambient temperature [degC] and wind speed [m/s] at ``times``.

    Draws from ``rng`` in this order: daily clear-sky index, intra-day cloud noise, daily temperature
    anomaly, daily and per-record wind.
    """
    climate = CLIMATES[truth.climate_zone]
    location = pvlib.location.Location(truth.latitude, truth.longitude, tz="UTC", altitude=truth.elevation_m)
    solpos = location.get_solarposition(times)
    clearsky = location.get_clearsky(times, model="ineichen", solar_position=solpos)
    n = len(times)
    solar_hours = np.asarray(times.as_unit("us").asi8) / 3600e6 + truth.longitude / 15.0
    day = np.floor(solar_hours / 24.0).astype(np.int64)
    day -= day[0]
    n_days = int(day[-1]) + 1 if n else 0
    kc_day = np.clip(climate.clear_sky_index + 0.22 * _ar1(rng, n_days, 0.6), 0.08, 1.0)[day]
    cloud = _ar1(rng, n, float(np.exp(-step_h / 0.5)))  # half-hour decorrelation
    kc = np.clip(kc_day + (0.02 + 0.4 * (1.0 - kc_day)) * cloud, 0.03, 1.08)
    ghi = clearsky["ghi"].to_numpy() * kc
    decomposed = pvlib.irradiance.erbs(ghi, solpos["zenith"].to_numpy(), times.day_of_year.to_numpy())
    irradiance = pd.DataFrame(
        {"ghi": ghi, "dni": np.nan_to_num(decomposed["dni"]), "dhi": np.nan_to_num(decomposed["dhi"])}, index=times
    )
    summer_day = 200 if truth.latitude >= 0 else 17
    season = np.cos(2 * np.pi * (times.day_of_year.to_numpy() - summer_day) / 365.25)
    diurnal = np.cos(2 * np.pi * ((solar_hours % 24.0) - 15.0) / 24.0) * (0.4 + 0.6 * kc_day)
    anomaly = 2.5 * _ar1(rng, n_days, 0.7)[day]
    t_amb = climate.temperature_c + climate.seasonal_c * season + climate.diurnal_c * diurnal + anomaly
    wind_day = climate.wind_ms * rng.weibull(2.0, n_days)[day] / 0.886
    wind = np.clip(wind_day * np.exp(0.25 * _ar1(rng, n, float(np.exp(-step_h))) - 0.03), 0.0, 40.0)
    return solpos, irradiance, t_amb, wind


def _orientation(truth: SolarPlantTruth, solpos: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The modules' surface tilt and azimuth [deg]: fixed, or a horizontal single-axis tracker with backtracking."""
    n = len(solpos)
    if truth.mounting == "fixed":
        return np.full(n, truth.tilt_deg), np.full(n, truth.azimuth_deg)
    tracking = pvlib.tracking.singleaxis(
        solpos["apparent_zenith"],
        solpos["azimuth"],
        axis_tilt=0.0,
        axis_azimuth=truth.azimuth_deg,
        max_angle=truth.tilt_deg,
        backtrack=True,
        gcr=0.35,
    )
    tilt = tracking["surface_tilt"].fillna(0.0).to_numpy()
    azimuth = tracking["surface_azimuth"].fillna(truth.azimuth_deg + 90.0).to_numpy()
    return tilt, azimuth


def _poa(tilt: np.ndarray, azimuth: np.ndarray, solpos: pd.DataFrame, irradiance: pd.DataFrame) -> np.ndarray:
    """Plane-of-array global irradiance, Hay-Davies sky diffuse, albedo 0.2 [W/m^2]."""
    poa = pvlib.irradiance.get_total_irradiance(
        tilt,
        azimuth,
        solpos["apparent_zenith"].to_numpy(),
        solpos["azimuth"].to_numpy(),
        irradiance["dni"].to_numpy(),
        irradiance["ghi"].to_numpy(),
        irradiance["dhi"].to_numpy(),
        dni_extra=pvlib.irradiance.get_extra_radiation(irradiance.index).to_numpy(),
        albedo=0.2,
        model="haydavies",
    )
    return np.clip(np.nan_to_num(np.asarray(poa["poa_global"], dtype=float)), 0.0, None)


def dc_per_unit(technology: str, effective_irradiance: np.ndarray, temp_cell: np.ndarray) -> np.ndarray:
    """DC power per unit of STC capacity: CEC single-diode model at the maximum power point [-].

    Parameters
    ----------
    technology : str
        One of :data:`CEC_MODULES`.
    effective_irradiance : numpy.ndarray
        Irradiance the cells convert [W/m^2]; at or below 1 W/m^2 the power is 0.
    temp_cell : numpy.ndarray
        Cell temperature [degC].
    """
    module = cec_module(technology)
    out = np.zeros(len(effective_irradiance))
    lit = effective_irradiance > 1.0
    params = pvlib.pvsystem.calcparams_cec(
        effective_irradiance[lit],
        temp_cell[lit],
        module["alpha_sc"],
        module["a_ref"],
        module["I_L_ref"],
        module["I_o_ref"],
        module["R_sh_ref"],
        module["R_s"],
        module["Adjust"],
    )
    out[lit] = np.asarray(pvlib.pvsystem.max_power_point(*params, method="newton")["p_mp"]) / module["STC"]
    return np.clip(np.nan_to_num(out), 0.0, None)


def _utc(when: str) -> pd.Timestamp:
    """``when`` (ISO 8601) as a UTC timestamp; without an offset it is read as UTC."""
    stamp = pd.Timestamp(when)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _in_windows(times: pd.DatetimeIndex, windows: list[tuple[str, str]]) -> np.ndarray:
    """Whether each time lies in any ``[start, end)`` window."""
    inside = np.zeros(len(times), dtype=bool)
    for start, end in windows:
        inside |= (times >= _utc(start)) & (times < _utc(end))
    return inside


def check_truth(truth: SolarPlantTruth) -> None:
    """Raise a ValueError naming the first setting of ``truth`` a plant cannot have, and the values it accepts."""
    cec_module(truth.module_technology)
    if truth.climate_zone not in CLIMATES:
        raise ValueError(f"climate_zone {truth.climate_zone!r}: expected one of {CLIMATE_ZONES}")
    if truth.mounting not in MOUNTINGS:
        raise ValueError(f"mounting {truth.mounting!r}: expected one of {MOUNTINGS}")
    if truth.soiling_schedule not in CLEANING_SCHEDULES:
        raise ValueError(f"soiling_schedule {truth.soiling_schedule!r}: expected one of {CLEANING_SCHEDULES}")
    if not len(truth.inverters) == len(truth.dc_capacity_kw) == len(truth.ac_capacity_kw):
        raise ValueError(f"{len(truth.inverters)} inverters: dc_capacity_kw and ac_capacity_kw need one value each")
    for case in (*truth.outages, *truth.underperforming):
        if case.inverter not in truth.inverters:
            raise ValueError(f"inverter {case.inverter!r} of {case}: expected one of {truth.inverters}")
    for outage in truth.outages:
        if outage.category not in OUTAGE_CATEGORIES:
            raise ValueError(f"outage category {outage.category!r}: expected one of {OUTAGE_CATEGORIES}")


def simulate_solar_plant_with_truth(
    truth: SolarPlantTruth, start: str, end: str, resolution: str, rng: np.random.Generator
) -> SolarSimulation:
    """Simulate a plant's records from ``start`` (inclusive) to ``end`` (exclusive), with the truth they realise.

    Parameters
    ----------
    truth : SolarPlantTruth
        The plant and what to inject.
    start, end : str
        The period, ISO 8601 (UTC when no offset is given).
    resolution : str
        Record period, a pandas frequency: ``"15min"`` (a solar record) or finer, e.g. ``"1min"``.
    rng : numpy.random.Generator
        Every random draw: the weather (:func:`_weather`), then measurement noise.

    Returns
    -------
    SolarSimulation
        The canonical frame (one row per inverter and time, time labels the start of each interval;
        ``P_out`` [kW], ``G_i``, ``G_h`` [W/m^2], ``T_mod``, ``T_amb`` [degC], ``v_w`` [m/s],
        ``INV_St``), the truth with ``soiling_loss_pct`` and ``clipping_share`` filled in, and the
        per-record truth.

    Notes
    -----
    Physics is evaluated at each interval's midpoint. Soiling multiplies the irradiance reaching the
    cells, not the sensor's; snow (``truth.snow``) takes all of it, and holds the modules at
    min(T_amb, 0 degC), the melting snow's, while the inverters stay available and the (heated)
    sensor reads on; degradation multiplies DC power by ``1 + d/100 * years since
    commissioning``; underperformance multiplies an inverter's DC power by its factor; the PVWatts
    inverter (nominal efficiency 0.96) clips at its AC capacity and draws a tare of 0.02 % of it at
    night. During an outage ``P_out`` is exactly 0 and ``INV_St`` the category's code
    (:data:`STATUS_CODES`). Noise: ``P_out`` 0.1 % relative, ``G_i`` and ``G_h`` 1 % relative plus
    1 W/m^2, temperatures 0.2 degC, wind 0.1 m/s.
    """
    check_truth(truth)
    times = pd.date_range(_utc(start), _utc(end), freq=resolution, inclusive="left").as_unit("us")
    step = pd.Timedelta(resolution)
    mid = times + step / 2
    solpos, irradiance, t_amb, wind = _weather(truth, mid, step / pd.Timedelta(hours=1), rng)
    tilt, azimuth = _orientation(truth, solpos)
    poa = _poa(tilt, azimuth, solpos, irradiance)
    sensor = _poa(np.clip(tilt + truth.sensor_tilt_error_deg, 0.0, 90.0), azimuth, solpos, irradiance)
    sapm = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][SAPM_MOUNT]
    temp_cell = np.asarray(pvlib.temperature.sapm_cell(poa, t_amb, wind, **sapm))
    temp_module = np.asarray(pvlib.temperature.sapm_module(poa, t_amb, wind, sapm["a"], sapm["b"]))
    ratio = soiling_ratio(mid, truth)
    snow = _in_windows(times, list(truth.snow))
    temp_module = np.where(snow, np.minimum(t_amb, 0.0), temp_module)
    per_unit = np.where(snow, 0.0, dc_per_unit(truth.module_technology, poa * ratio, temp_cell))
    years = ((mid - _utc(truth.commissioned)) / pd.Timedelta(days=365.25)).to_numpy()
    degradation = 1.0 + truth.degradation_pct_per_year / 100.0 * years

    n_inv, n = len(truth.inverters), len(times)
    factor = np.ones((n_inv, n))
    for case in truth.underperforming:
        since = times >= _utc(case.start) if case.start else np.ones(n, dtype=bool)
        factor[truth.inverters.index(case.inverter), since] *= case.factor
    dc_kw = np.asarray(truth.dc_capacity_kw)[:, None] * per_unit * degradation * factor
    ac_kw = np.asarray(truth.ac_capacity_kw)[:, None]
    pac = np.asarray(pvlib.inverter.pvwatts(dc_kw, ac_kw / 0.96, eta_inv_nom=0.96))
    at_limit = pac >= ac_kw * (1.0 - 1e-9)
    pac = np.where(dc_kw > 0.0, pac, -2e-4 * ac_kw)
    status = np.zeros((n_inv, n), dtype=np.int64)
    for outage in truth.outages:
        row = truth.inverters.index(outage.inverter)
        inside = _in_windows(times, [(outage.start, outage.end)])
        status[row, inside] = STATUS_CODES[outage.category]
    off = status != 0
    at_limit &= ~off

    p_out = np.where(off, 0.0, pac * (1.0 + 0.001 * rng.standard_normal((n_inv, n))))
    g_i = sensor * (1.0 + 0.01 * rng.standard_normal(n)) + rng.standard_normal(n)
    g_h = irradiance["ghi"].to_numpy() * (1.0 + 0.01 * rng.standard_normal(n)) + rng.standard_normal(n)
    t_mod = temp_module + 0.2 * rng.standard_normal(n)
    t_amb_measured = t_amb + 0.2 * rng.standard_normal(n)
    v_w = np.clip(wind + 0.1 * rng.standard_normal(n), 0.0, None)

    frame = pd.DataFrame(
        {
            "time": np.tile(times, n_inv),
            "asset_id": np.repeat(truth.inverters, n),
            "P_out": p_out.ravel(),
            "G_i": np.tile(g_i, n_inv),
            "G_h": np.tile(g_h, n_inv),
            "T_mod": np.tile(t_mod, n_inv),
            "T_amb": np.tile(t_amb_measured, n_inv),
            "v_w": np.tile(v_w, n_inv),
            "INV_St": status.ravel(),
        }
    )
    records = pd.DataFrame(
        {
            "time": frame["time"],
            "asset_id": frame["asset_id"],
            "poa_wm2": np.tile(poa, n_inv),
            "sensor_wm2": np.tile(sensor, n_inv),
            "soiling_ratio": np.tile(ratio, n_inv),
            "p_dc_kw": dc_kw.ravel(),
            "p_ac_kw": np.where(off, 0.0, pac).ravel(),
            "at_ac_limit": at_limit.ravel(),
        }
    )
    lit = poa > 0.0
    loss = 100.0 * (1.0 - float(np.sum(ratio[lit] * poa[lit]) / np.sum(poa[lit]))) if lit.any() else 0.0
    daylight = np.broadcast_to(sensor > 50.0, at_limit.shape)
    clipping = float(at_limit[daylight].mean()) if daylight.any() else 0.0
    return SolarSimulation(frame, replace(truth, soiling_loss_pct=loss, clipping_share=clipping), records)


def simulate_solar_plant(
    truth: SolarPlantTruth, start: str, end: str, resolution: str, rng: np.random.Generator
) -> pd.DataFrame:
    """A plant's records in the canonical long layout; :func:`simulate_solar_plant_with_truth` says how."""
    return simulate_solar_plant_with_truth(truth, start, end, resolution, rng).frame


def _daytime_start(day: pd.Timestamp, longitude: float, rng: np.random.Generator) -> pd.Timestamp:
    """A time between 08:00 and 14:00 local solar time on ``day``, on a quarter hour (UTC)."""
    hours = rng.uniform(8.0, 14.0) - longitude / 15.0
    return (day + pd.Timedelta(hours=hours)).floor("15min")


def _outages(
    inverters: tuple[str, ...], longitude: float, start: pd.Timestamp, days: int, rng: np.random.Generator
) -> tuple[Outage, ...]:
    """One to three outages of a plant, each starting in daylight: faults last days, the rest hours."""
    hours = {"inverter_fault": (24.0, 168.0), "grid": (2.0, 12.0), "maintenance": (4.0, 8.0), "curtailment": (1.0, 5.0)}
    cases = []
    for _ in range(int(rng.integers(1, 4))):
        category = OUTAGE_CATEGORIES[int(rng.integers(len(OUTAGE_CATEGORIES)))]
        begin = _daytime_start(start + pd.Timedelta(days=int(rng.integers(1, days - 8))), longitude, rng)
        end = (begin + pd.Timedelta(hours=rng.uniform(*hours[category]))).floor("15min")
        inverter = inverters[int(rng.integers(len(inverters)))]
        cases.append(Outage(inverter, begin.isoformat(), end.isoformat(), category, STATUS_CODES[category]))
    return tuple(sorted(cases, key=lambda o: o.start))


def _cleanings(schedule: str, climate: Climate, start: pd.Timestamp, days: int, rng: np.random.Generator) -> list[str]:
    """Cleaning dates (ISO): every N days (N drawn from 30-120) or rain as a Poisson process."""
    if schedule == "regular":
        every = int(rng.integers(30, 121))
        offsets = np.arange(every, days, every)
    else:
        gaps = rng.exponential(climate.rain_interval_days, int(3 * days / climate.rain_interval_days) + 10)
        offsets = np.unique(np.ceil(np.cumsum(gaps)).astype(int))
        offsets = offsets[offsets < days]
    return [(start + pd.Timedelta(days=int(d))).date().isoformat() for d in offsets]


def solar_fleet(
    n_plants: int, years: int, rng: np.random.Generator, start: str = "2022-01-01"
) -> list[SolarPlantTruth]:
    """Draw a varied fleet of PV plants commissioned at ``start``, with the truth to inject over ``years``.

    Technologies and climate zones are shuffled and cycled; mountings alternate (fixed, single-axis);
    cleaning schedules run regular, irregular, irregular, regular, ...; DC/AC ratios are drawn from
    1.1-1.5 and 2-6 identical inverters per plant; each plant has one to three outages. Plant 1 has
    an inverter at 0.90 of its DC power for the whole period, plant 2 (when there is one) an
    inverter at 0.85-0.95 from a date in the period on; the last plant of a fleet of two or more has
    a plane-of-array sensor tilted 4-10 degrees off the modules. ``soiling_loss_pct`` and
    ``clipping_share`` stay ``None`` until simulated (:func:`simulate_solar_plant_with_truth`).
    """
    if n_plants < 1 or years < 1:
        raise ValueError(f"n_plants={n_plants}, years={years}: expected at least 1 of each")
    begin = pd.Timestamp(start, tz="UTC")
    days = (begin + pd.DateOffset(years=years) - begin).days
    technologies = [str(t) for t in rng.permutation(MODULE_TECHNOLOGIES)]
    zones = [str(z) for z in rng.permutation(CLIMATE_ZONES)]
    fleet = []
    for i in range(n_plants):
        zone = zones[i % len(zones)]
        climate = CLIMATES[zone]
        lat, lon, elevation = climate.sites[int(rng.integers(len(climate.sites)))]
        lat, lon = round(lat + rng.uniform(-0.3, 0.3), 3), round(lon + rng.uniform(-0.3, 0.3), 3)
        mounting = MOUNTINGS[i % 2]
        facing = 180.0 if lat >= 0 else 0.0
        if mounting == "fixed":
            tilt = round(float(np.clip(0.8 * abs(lat) + rng.normal(0.0, 3.0), 5.0, 60.0)), 1)
            azimuth = round(facing + rng.normal(0.0, 5.0), 1)
        else:
            tilt, azimuth = 55.0, 180.0
        inverters = tuple(f"INV{k + 1:02d}" for k in range(int(rng.integers(2, 7))))
        ac_kw = float(rng.choice([500.0, 1000.0, 1250.0, 2500.0]))
        dc_kw = round(ac_kw * rng.uniform(1.1, 1.5), 1)
        schedule = CLEANING_SCHEDULES[(i + i // 2) % 2]
        rate = round(rng.uniform(0.05, 0.3), 3)
        cleanings = _cleanings(schedule, climate, begin, days, rng)
        under = []
        if i == 0:
            under.append(Underperformance(inverters[-1], 0.90))
        elif i == 1:
            since = (begin + pd.Timedelta(days=int(rng.integers(days // 4, 3 * days // 4)))).date().isoformat()
            under.append(Underperformance(inverters[0], round(rng.uniform(0.85, 0.95), 3), since))
        tilt_error = round(float(rng.choice([-1.0, 1.0]) * rng.uniform(4.0, 10.0)), 1) if 1 < n_plants == i + 1 else 0.0
        fleet.append(
            SolarPlantTruth(
                name=f"solar-{i + 1:02d}",
                latitude=lat,
                longitude=lon,
                elevation_m=elevation,
                module_technology=technologies[i % len(technologies)],
                mounting=mounting,
                tilt_deg=tilt,
                azimuth_deg=azimuth,
                climate_zone=zone,
                commissioned=begin.date().isoformat(),
                inverters=inverters,
                dc_capacity_kw=(dc_kw,) * len(inverters),
                ac_capacity_kw=(ac_kw,) * len(inverters),
                degradation_pct_per_year=round(-rng.uniform(0.3, 1.2), 2),
                soiling_schedule=schedule,
                soiling_rate_pct_per_day=rate,
                cleaning_dates=tuple(cleanings),
                outages=_outages(inverters, lon, begin, days, rng),
                underperforming=tuple(under),
                sensor_tilt_error_deg=tilt_error,
            )
        )
    return fleet


EXPORT_COLUMNS: dict[str, str] = {
    "time": "timestamp",
    "asset_id": "inverter",
    "P_out": "ac_power_kw",
    "G_i": "poa_irradiance_wm2",
    "G_h": "ghi_wm2",
    "T_mod": "module_temp_c",
    "T_amb": "ambient_temp_c",
    "v_w": "wind_speed_ms",
    "INV_St": "status",
}
"""Canonical column -> the export's column; site.toml's ``[columns]`` is written from this."""

FILE_FORMATS = ("parquet", "csv")


def _resolution(times: pd.Series) -> str:
    """The record period of ``times`` as a pandas frequency alias (``"15min"``, ``"1min"``)."""
    unique = pd.DatetimeIndex(times.unique()).sort_values()
    step = (unique[1:] - unique[:-1]).min() if len(unique) > 1 else pd.Timedelta(minutes=15)
    return f"{int(step / pd.Timedelta(minutes=1))}min"


def site_toml(truth: SolarPlantTruth, file_format: str, resolution: str) -> str:
    """The site.toml a solar operator writes for its export (:func:`write_solar_site`)."""
    lines = [
        "[site]",
        f'name = "{truth.name}"',
        'kind = "solar"',
        'timezone = "UTC"',
        "",
        "[plant]",
        f"latitude = {truth.latitude}",
        f"longitude = {truth.longitude}",
        f"elevation_m = {truth.elevation_m}",
        f'module_technology = "{truth.module_technology}"',
        f'mounting = "{truth.mounting}"',
    ]
    if truth.mounting == "fixed":
        lines.append(f"tilt_deg = {truth.tilt_deg}")
    lines += [
        f"azimuth_deg = {truth.azimuth_deg}",
        f'climate_zone = "{truth.climate_zone}"',
        f"gamma_pdc_per_c = {truth.gamma_pdc_per_c:.6g}",
        f'commissioned = "{truth.commissioned}"',
        "",
    ]
    for inverter, dc_kw, ac_kw in zip(truth.inverters, truth.dc_capacity_kw, truth.ac_capacity_kw, strict=True):
        lines += ["[[inverters]]", f'id = "{inverter}"', f"dc_capacity_kw = {dc_kw}", f"ac_capacity_kw = {ac_kw}", ""]
    lines += [
        "[source]",
        f'files = ["scada/*.{file_format}"]',
        f'format = "{file_format}"',
        f'resolution = "{resolution}"',
        "",
        "[columns]",
        *[f'{canonical} = "{column}"' for canonical, column in EXPORT_COLUMNS.items()],
        "",
        "[status]",
        *[f"{category} = [{code}]" for category, code in STATUS_CODES.items()],
        "",
        "[status.components]",  # an inverter fault is a failure of the inverter
        f"inverter = [{STATUS_CODES['inverter_fault']}]",
        "",
    ]
    return "\n".join(lines)


def write_solar_site(truth: SolarPlantTruth, frame: pd.DataFrame, folder: Path, file_format: str = "parquet") -> Path:
    """Write a plant's export (one file a year under ``folder/scada/``) and its site.toml; return the site.toml.

    Parameters
    ----------
    truth : SolarPlantTruth
        The plant (its site.toml ``[plant]`` and ``[[inverters]]``).
    frame : pandas.DataFrame
        Canonical records, as :func:`simulate_solar_plant` returns them (UTC, kW, W/m^2, degC, m/s).
    folder : pathlib.Path
        The site's folder; created if missing.
    file_format : str
        ``"parquet"`` (UTC timestamps) or ``"csv"`` (ISO 8601 text with offset).
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format {file_format!r}: expected one of {FILE_FORMATS}")
    scada = Path(folder) / "scada"
    scada.mkdir(parents=True, exist_ok=True)
    export = frame.rename(columns=EXPORT_COLUMNS)[list(EXPORT_COLUMNS.values())]
    export = export.round({c: 3 for c in ("ac_power_kw", "poa_irradiance_wm2", "ghi_wm2")}).round(
        {c: 2 for c in ("module_temp_c", "ambient_temp_c", "wind_speed_ms")}
    )
    for year, part in export.groupby(frame["time"].dt.year, sort=True):
        if file_format == "parquet":
            part.to_parquet(scada / f"{year}.parquet", index=False)
        else:
            part.assign(timestamp=part["timestamp"].map(lambda t: t.isoformat())).to_csv(
                scada / f"{year}.csv", index=False
            )
    path = Path(folder) / "site.toml"
    path.write_text(site_toml(truth, file_format, _resolution(frame["time"])), encoding="utf-8")
    return path


def write_solar_fleet(
    folder: Path,
    n_plants: int,
    years: int,
    seed: int,
    resolution: str = "15min",
    progress: Progress | None = None,
    start: str = "2022-01-01",
    file_format: str = "parquet",
) -> list[SolarPlantTruth]:
    """Draw, simulate and write a solar fleet; return the plants' realised truths.

    One Generator seeded with ``seed`` draws the fleet (:func:`solar_fleet`), then each plant's
    records in turn. Layout: ``folder/<plant name>/{site.toml, scada/<year>.<format>, truth.parquet}``
    (``truth.parquet``: the per-record truth of :class:`SolarSimulation`) and ``folder/ground_truth.json``
    (the settings and each plant's truth). Each plant is a consortium member of its own
    (:func:`simulations.fleet.enrol_members`). ``progress`` hears each plant as it is written.
    """
    progress = progress or silent
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    begin = pd.Timestamp(start, tz="UTC")
    end = (begin + pd.DateOffset(years=years)).isoformat()
    truths = []
    for i, planned in enumerate(solar_fleet(n_plants, years, rng, start)):
        stage = Stage(progress, f"simulating {planned.name} ({i + 1}/{n_plants})")
        simulation = simulate_solar_plant_with_truth(planned, begin.isoformat(), end, resolution, rng)
        write_solar_site(simulation.truth, simulation.frame, folder / planned.name, file_format)
        simulation.records.to_parquet(folder / planned.name / "truth.parquet", index=False)
        truths.append(simulation.truth)
        stage.done(f"{len(planned.inverters)} inverters, {len(simulation.frame):,} records")
    settings = {"seed": seed, "years": years, "start": begin.isoformat(), "end": end, "resolution": resolution}
    plants = [{**asdict(t), "gamma_pdc_per_c": t.gamma_pdc_per_c} for t in truths]
    (folder / "ground_truth.json").write_text(json.dumps({**settings, "plants": plants}, indent=1), encoding="utf-8")
    enrol_members([folder / truth.name / "site.toml" for truth in truths])
    return truths
