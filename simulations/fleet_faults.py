"""Maintenance-relevant faults to inject, and how a turbine draws them.

A :class:`FaultConfig` says how often turbines underperform, run misaligned, carry anemometer
offsets, develop a gearbox-bearing fault (a temperature drift ending in a failure) and fail by
component at age-dependent rates (a bathtub curve), and how often they are maintained. Each
turbine draws its own :class:`TurbineFaults` and its outages (:func:`draw_outages`); all
randomness comes from the numpy Generator passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from protos.domain import JULIAN_YEAR, RECORD_PERIOD

RECORDS_PER_DAY = round(pd.Timedelta(days=1) / RECORD_PERIOD)  # 144 10-min records in a day
DAYS_PER_YEAR = JULIAN_YEAR / pd.Timedelta(days=1)  # [d], the year failure rates and ages count in

FAILURE_COMPONENTS = ("gearbox", "generator", "pitch_system", "converter")
"""Components that fail at random (each with its own forced-outage status code)."""

OUTAGE_LABELS = ("", *FAILURE_COMPONENTS, "maintenance")
"""What keeps a turbine stopped, per record: nothing, a failed component, or scheduled maintenance."""
FAILURE_OF_LABEL = np.array([*OUTAGE_LABELS[:-1], ""])  # per outage label: the failed component, or ""


def _check_range(name: str, bounds: tuple[float, float], low: float = 0.0) -> None:
    if len(bounds) != 2 or not low <= bounds[0] <= bounds[1]:
        raise ValueError(f"FaultConfig.{name} = {bounds!r}; give (min, max) with {low} <= min <= max")


@dataclass(frozen=True)
class FaultConfig:
    """Which maintenance-relevant faults to inject, and how often.

    Each turbine draws each fault class independently. Probabilities are per turbine for the
    whole simulated period [-]; failure rates are per turbine-year in mid-life [1/yr], scaled by
    the bathtub curve of :meth:`bathtub`. The default rates are illustrative, of the order of
    magnitude published for onshore fleets, not a fit to any data set.
    """

    underperformance_probability: float = 0.1
    underperformance_levels: tuple[float, ...] = (0.02, 0.03, 0.05)  # power deficit u [-]: P * (1 - u)
    yaw_probability: float = 0.1
    vane_offsets_deg: tuple[float, ...] = (3.0, 6.0, 10.0)  # magnitudes [deg]; the sign is drawn
    anemometer_probability: float = 0.05
    anemometer_offsets_ms: tuple[float, ...] = (0.5,)  # [m/s], added to the true wind speed
    bearing_fault_probability: float = 0.08
    drift_days: tuple[float, float] = (21.0, 56.0)  # [d], temperature drift before the failure
    # Share of the period no drift starts in: leaves the normal-behaviour models' training window clean.
    earliest_drift_fraction: float = 0.0  # [-]
    drift_rise_degc: tuple[float, float] = (10.0, 15.0)  # [degC], drift reached at the failure
    drift_exponent: tuple[float, float] = (1.0, 3.0)  # [-], 1 linear ramp, > 1 convex
    bearing_outage_days: tuple[float, float] = (3.0, 10.0)  # [d], replacement after the failure
    failure_rates: tuple[tuple[str, float], ...] = (
        ("gearbox", 0.1),
        ("generator", 0.1),
        ("pitch_system", 0.4),
        ("converter", 0.3),
    )  # [1/turbine-year] in mid-life
    failure_days: tuple[float, float] = (1.0, 7.0)  # [d], forced outage of a random failure
    infant_factor: float = 2.0  # [-], extra rate at age 0 (early failures)
    infant_years: float = 1.0  # [yr], decay time of the early failures
    wearout_onset_years: float = 15.0  # [yr], age at which wear-out failures set in
    wearout_per_year: float = 0.15  # [1/yr], extra rate per year of age beyond the onset
    maintenance_per_year: float = 2.0  # [1/turbine-year], scheduled visits
    maintenance_days: tuple[float, float] = (0.5, 1.5)  # [d]

    def __post_init__(self) -> None:
        """Raise ValueError naming the first setting out of range."""
        for name in (
            "underperformance_probability",
            "yaw_probability",
            "anemometer_probability",
            "bearing_fault_probability",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultConfig.{name} = {value!r}; give a probability in [0, 1]")
        if not 0.0 <= self.earliest_drift_fraction < 1.0:
            raise ValueError(
                f"FaultConfig.earliest_drift_fraction = {self.earliest_drift_fraction!r}; give a share in [0, 1)"
            )
        for name in ("underperformance_levels", "vane_offsets_deg", "anemometer_offsets_ms"):
            if not getattr(self, name):
                raise ValueError(f"FaultConfig.{name} is empty; give at least one value")
        if not all(0.0 <= u < 1.0 for u in self.underperformance_levels):
            raise ValueError(
                f"FaultConfig.underperformance_levels = {self.underperformance_levels!r}; give u in [0, 1)"
            )
        for name in ("drift_days", "drift_rise_degc", "bearing_outage_days", "failure_days", "maintenance_days"):
            _check_range(name, getattr(self, name))
        _check_range("drift_exponent", self.drift_exponent, low=1.0)
        unknown = sorted({c for c, _ in self.failure_rates} - set(FAILURE_COMPONENTS))
        if unknown or any(rate < 0 for _, rate in self.failure_rates):
            raise ValueError(
                f"FaultConfig.failure_rates = {self.failure_rates!r}; give (component, rate >= 0) pairs with "
                f"components from {FAILURE_COMPONENTS}"
            )

    def bathtub(self, age_years: np.ndarray) -> np.ndarray:
        """Failure-rate multiplier at turbine age ``age_years`` [yr] (the bathtub curve) [-].

        m(a) = 1 + infant_factor * exp(-a / infant_years) + wearout_per_year * max(0, a - wearout_onset_years):
        high in the first year, 1 in mid-life, rising again with wear.
        """
        age = np.asarray(age_years, dtype=np.float64)
        return (
            1.0
            + self.infant_factor * np.exp(-age / self.infant_years)
            + self.wearout_per_year * np.maximum(0.0, age - self.wearout_onset_years)
        )

    def failure_rate(self, component: str, age_years: np.ndarray) -> np.ndarray:
        """Failure rate of ``component`` at age ``age_years`` [yr], in failures per turbine-year [1/yr]."""
        rates = dict(self.failure_rates)
        if component not in FAILURE_COMPONENTS:
            raise ValueError(f"component = {component!r}; use one of {FAILURE_COMPONENTS}")
        return rates.get(component, 0.0) * self.bathtub(age_years)


@dataclass(frozen=True)
class TurbineFaults:
    """The faults one turbine drew (all zero or None for a healthy turbine)."""

    underperformance: float = 0.0  # [-], power deficit u
    vane_offset_deg: float = 0.0  # [deg], vane reading minus true yaw error
    anemometer_offset_ms: float = 0.0  # [m/s], measured minus true wind speed
    bearing_failure: int | None = None  # record index at which the gearbox bearing fails
    drift_records: int = 0  # length of the temperature drift before the failure [records]
    drift_rise_degc: float = 0.0  # [degC], drift reached at the failure
    drift_exponent: float = 1.0  # [-], 1 linear, > 1 convex
    bearing_outage_records: int = 0  # [records]


def draw_turbine_faults(faults: FaultConfig | None, n: int, rng: np.random.Generator) -> TurbineFaults:
    """Draw one turbine's faults for a period of ``n`` records; a healthy turbine when ``faults`` is None.

    A bearing failure is placed so that its whole drift lies inside the period, after its first
    ``earliest_drift_fraction``; a period too short for that gets none.
    """
    if faults is None:
        return TurbineFaults()
    draws = rng.random(4)
    underperformance = float(rng.choice(faults.underperformance_levels))
    vane_offset = float(rng.choice(faults.vane_offsets_deg)) * float(rng.choice((-1.0, 1.0)))
    anemometer_offset = float(rng.choice(faults.anemometer_offsets_ms))
    drift = round(rng.uniform(*faults.drift_days) * RECORDS_PER_DAY)
    earliest_failure = drift + round(faults.earliest_drift_fraction * n)
    bearing = draws[3] < faults.bearing_fault_probability and earliest_failure < n
    return TurbineFaults(
        underperformance=underperformance if draws[0] < faults.underperformance_probability else 0.0,
        vane_offset_deg=vane_offset if draws[1] < faults.yaw_probability else 0.0,
        anemometer_offset_ms=anemometer_offset if draws[2] < faults.anemometer_probability else 0.0,
        bearing_failure=int(rng.integers(earliest_failure, n)) if bearing else None,
        drift_records=drift if bearing else 0,
        drift_rise_degc=float(rng.uniform(*faults.drift_rise_degc)) if bearing else 0.0,
        drift_exponent=float(rng.uniform(*faults.drift_exponent)) if bearing else 1.0,
        bearing_outage_records=round(rng.uniform(*faults.bearing_outage_days) * RECORDS_PER_DAY) if bearing else 0,
    )


def gearbox_drift(turbine: TurbineFaults, n: int) -> np.ndarray:
    """Temperature added to the gearbox bearing [degC]: rise * (k / d)^p over the d records before the failure.

    The drift reaches ``drift_rise_degc`` on the last record before the failure and is gone from
    the failure on (the bearing is replaced). It is added whether or not the turbine runs, so the
    truth column is exactly what a detector should find in the data.
    """
    drift = np.zeros(n)
    if turbine.bearing_failure is not None:
        d, end = turbine.drift_records, turbine.bearing_failure
        drift[end - d : end] = turbine.drift_rise_degc * (np.arange(1, d + 1) / d) ** turbine.drift_exponent
    return drift


@dataclass(frozen=True)
class Outage:
    """A period a turbine stands still for a failed component or scheduled maintenance."""

    label: str  # a component of FAILURE_COMPONENTS, or "maintenance"
    start: int  # first record
    stop: int  # record after the last; may lie beyond the period


def draw_outages(
    faults: FaultConfig | None, turbine: TurbineFaults, n: int, age_years: float, rng: np.random.Generator
) -> tuple[np.ndarray, list[Outage]]:
    """Failures and maintenance of one turbine: the label index per record and the outages placed.

    Random failures are a Poisson process per component whose daily rate follows the turbine's
    age (:meth:`FaultConfig.failure_rate`); maintenance visits are a Poisson process at a constant
    rate, starting in the morning (06:00-10:00 UTC). The gearbox-bearing failure is placed first;
    an event that would start or run into an outage already placed is dropped (a stopped turbine
    does not fail again).

    Parameters
    ----------
    faults : FaultConfig or None
        None: no outages.
    turbine : TurbineFaults
        The turbine's drawn faults (for its bearing failure).
    n : int
        Records in the period (10-min, from midnight UTC).
    age_years : float
        Age at the first record [yr].
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    labels : numpy.ndarray
        Index into :data:`OUTAGE_LABELS` per record (0: running).
    outages : list of Outage
        The outages placed, by start.
    """
    labels = np.zeros(n, dtype=np.int8)
    if faults is None:
        return labels, []
    candidates = []
    if turbine.bearing_failure is not None:
        candidates.append(
            Outage("gearbox", turbine.bearing_failure, turbine.bearing_failure + turbine.bearing_outage_records)
        )
    days = np.arange(-(-n // RECORDS_PER_DAY))
    ages = age_years + days / DAYS_PER_YEAR
    daily = np.stack(
        [faults.failure_rate(c, ages) for c in FAILURE_COMPONENTS] + [np.full(len(days), faults.maintenance_per_year)],
        axis=1,
    )
    counts = rng.poisson(daily / DAYS_PER_YEAR)
    day, kind = np.nonzero(counts)
    repeats = counts[day, kind]
    day, kind = np.repeat(day, repeats), np.repeat(kind, repeats)
    maintenance = kind == len(FAILURE_COMPONENTS)
    # Failures strike at any time of day; maintenance crews start in the morning.
    offset = np.where(maintenance, rng.integers(36, 60, len(day)), rng.integers(0, RECORDS_PER_DAY, len(day)))
    days_range = np.where(maintenance[:, None], faults.maintenance_days, faults.failure_days)
    length = np.maximum(1, np.round(rng.uniform(days_range[:, 0], days_range[:, 1]) * RECORDS_PER_DAY))
    length = length.astype(np.int64)
    start = day * RECORDS_PER_DAY + offset
    order = np.argsort(start, kind="stable")
    candidates += [
        Outage(OUTAGE_LABELS[1 + kind[i]], int(start[i]), int(start[i] + length[i])) for i in order if start[i] < n
    ]
    placed = []
    for outage in candidates:
        if not labels[outage.start : min(outage.stop, n)].any():
            labels[outage.start : outage.stop] = OUTAGE_LABELS.index(outage.label)
            placed.append(outage)
    return labels, sorted(placed, key=lambda o: o.start)
