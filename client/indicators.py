"""Maintenance indicators as pure array kernels.

Normal-behaviour models, performance index, static yaw misalignment, availability, failures and
the persistence rule for alarms.

Every function takes numpy arrays aligned by record (``asset`` indexes the site's turbines) and
returns per-turbine sums or values. They are accumulated chunk by chunk in client/maintenance.py
(streamed as client/streaming.py says); reading the export is client/ingest.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from client.power_curve import clipped_bin_index
from protos.domain import NBM_FEATURES, RECORD_PERIOD


def nbm_design(power_per_unit: np.ndarray, ambient_temperature: np.ndarray, features: tuple[str, ...]) -> np.ndarray:
    """The design matrix (records x features) of a normal-behaviour model, columns in ``features`` order."""
    unknown = sorted(set(features) - set(NBM_FEATURES))
    if unknown:
        raise ValueError(f"normal-behaviour model names unknown feature(s) {unknown}; known: {list(NBM_FEATURES)}")
    columns = {
        "power_per_unit": power_per_unit,
        "power_per_unit_squared": power_per_unit**2,
        "ambient_temperature": ambient_temperature,
    }
    return np.column_stack([columns[name] for name in features]) if features else np.zeros((len(power_per_unit), 0))


@dataclass
class MomentSums:
    """Per-turbine count, sum and sum of outer products of z = [features..., target]."""

    count: np.ndarray  # (turbines,)
    first: np.ndarray  # (turbines, q)
    second: np.ndarray  # (turbines, q, q)

    @classmethod
    def zeros(cls, n_turbines: int, q: int) -> MomentSums:
        """Empty sums for ``n_turbines`` turbines and q = features + 1."""
        return cls(np.zeros(n_turbines), np.zeros((n_turbines, q)), np.zeros((n_turbines, q, q)))

    def add(self, asset: np.ndarray, z: np.ndarray) -> None:
        """Accumulate the rows of ``z`` (records x q) of turbines ``asset``."""
        n_turbines, q = self.first.shape
        self.count += np.bincount(asset, minlength=n_turbines)
        for i in range(q):
            self.first[:, i] += np.bincount(asset, weights=z[:, i], minlength=n_turbines)
            for j in range(i, q):
                self.second[:, i, j] += np.bincount(asset, weights=z[:, i] * z[:, j], minlength=n_turbines)
                self.second[:, j, i] = self.second[:, i, j]


def centred_sums(moments: MomentSums, turbines: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """X^T X, X^T y, y^T y and n over ``turbines`` (bool mask), each turbine centred on its own means.

    Centring per turbine makes the regression a fixed-effects model: each turbine keeps its own
    intercept (cooling, sensor placement), the slopes are shared by the cohort.
    """
    count = moments.count[turbines]
    used = count > 0
    count, first, second = count[used], moments.first[turbines][used], moments.second[turbines][used]
    centred = second - first[:, :, None] * first[:, None, :] / count[:, None, None]
    total = centred.sum(axis=0) if len(count) else np.zeros(second.shape[1:])
    return total[:-1, :-1], total[:-1, -1], float(total[-1, -1]), int(count.sum())


def turbine_intercepts(moments: MomentSums, beta: np.ndarray) -> np.ndarray:
    """Each turbine's intercept, mean(y) - mean(x) . beta over its training records (NaN without any)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        means = moments.first / moments.count[:, None]
    return means[:, -1] - means[:, :-1] @ beta


def expected_power_per_unit(
    wind_speed: np.ndarray, curve_wind_speed: np.ndarray, curve_power_per_unit: np.ndarray
) -> np.ndarray:
    """P / P_rated expected from a cohort curve at normalised wind speed [m/s]; NaN outside the curve.

    The curve is linearly interpolated between its released bins (means of wind speed and power,
    as IEC 61400-12-1 tabulates them); beyond its first and last bin nothing is expected.
    """
    if len(curve_wind_speed) < 2:
        return np.full(len(wind_speed), np.nan)
    return np.interp(wind_speed, curve_wind_speed, curve_power_per_unit, left=np.nan, right=np.nan)


def per_turbine_sum(asset: np.ndarray, values: np.ndarray, n_turbines: int) -> np.ndarray:
    """Sum of ``values`` per turbine."""
    return np.bincount(asset, weights=values, minlength=n_turbines)


@dataclass
class YawSums:
    """Per turbine sums for a least-squares parabola r(phi).

    Sums of phi^k (k = 0..4) and of r phi^k (k = 0..2), phi the vane angle [deg], r the power
    ratio actual / expected [-].
    """

    phi_powers: np.ndarray  # (turbines, 5)
    ratio_phi_powers: np.ndarray  # (turbines, 3)

    @classmethod
    def zeros(cls, n_turbines: int) -> YawSums:
        """Empty sums for ``n_turbines`` turbines."""
        return cls(np.zeros((n_turbines, 5)), np.zeros((n_turbines, 3)))

    def add(self, asset: np.ndarray, vane: np.ndarray, ratio: np.ndarray) -> None:
        """Accumulate records of turbines ``asset``: vane angle [deg] and power ratio [-]."""
        n_turbines = len(self.phi_powers)
        for k in range(5):
            self.phi_powers[:, k] += np.bincount(asset, weights=vane**k, minlength=n_turbines)
        for k in range(3):
            self.ratio_phi_powers[:, k] += np.bincount(asset, weights=ratio * vane**k, minlength=n_turbines)


def static_yaw_misalignment(sums: YawSums, min_records: int = 500) -> np.ndarray:
    """Static yaw misalignment per turbine [deg]: the vane angle at which performance peaks.

    Fits r = a + b phi + c phi^2 by least squares to the power ratio r (actual over the cohort
    curve's expectation) against the vane angle phi over below-rated records, and returns the
    vertex -b / 2c. A vane mounted off by delta makes the controller hold the nacelle delta away
    from the wind, so the rotor sees the wind straight on only when the vane reads delta. This is
    the method of OpenOA's StaticYawMisalignment (NREL; binned power versus vane angle fitted with a
    cosine-type curve, its peak the misalignment) in closed form, so a site needs only 8 sums per
    turbine. NaN where the fit is not concave or rests on fewer than ``min_records`` records.
    """
    s, t = sums.phi_powers, sums.ratio_phi_powers
    normal = np.stack(
        [
            np.stack([s[:, 0], s[:, 1], s[:, 2]], -1),
            np.stack([s[:, 1], s[:, 2], s[:, 3]], -1),
            np.stack([s[:, 2], s[:, 3], s[:, 4]], -1),
        ],
        axis=1,
    )
    out = np.full(len(s), np.nan)
    usable = s[:, 0] >= min_records
    if usable.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            coefficients = np.linalg.solve(normal[usable], t[usable][..., None])[..., 0]
            b, c = coefficients[:, 1], coefficients[:, 2]
            out[usable] = np.where(c < 0, -b / (2.0 * c), np.nan)
    return out


def histogram_counts(values: np.ndarray, first_centre: float, width: float, count: int) -> np.ndarray:
    """Counts of finite ``values`` per bin of a regular grid, values beyond it in the end bins."""
    finite = values[np.isfinite(values)]
    return np.bincount(clipped_bin_index(finite, first_centre, width, count), minlength=count).astype(np.float64)


def availability(
    time_available: np.ndarray, time_unavailable: np.ndarray, actual_energy: np.ndarray, lost_energy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Time-based and production-based availability per turbine [-] (IEC 61400-26-1 and -2).

    A_t = available time / (available + unavailable time), excluded categories left out of both;
    A_p = actual energy / (actual + lost energy). NaN where the denominator is zero.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return (
            time_available / (time_available + time_unavailable),
            actual_energy / (actual_energy + lost_energy),
        )


UNKNOWN_STATUS_BRIDGE_SECONDS = 3600
"""Longest stretch of unknown status [s] (blank status cells or missing records) that continues a failure when
the records either side carry the same component's failure code. A blank cell is the logger's or the transfer's
fault, not the unit's, so inside a failure it is far likelier than a repair, a return to service and the same
fault again, all unseen; an hour keeps the downtime counted through an unseen stretch (its records are the
failure's) to an hour a stretch, and splits a failure over a longer outage of the logger, which may hide a repair."""


@dataclass(frozen=True)
class FailureEvents:
    """Failures found in a status log: one entry per failure."""

    asset: np.ndarray  # turbine index
    component: np.ndarray  # index into the component list
    start: np.ndarray  # datetime64 of the first record
    records: np.ndarray  # records from its first to its last, the unknown ones it bridges included


def failure_events(
    asset: np.ndarray,
    time: np.ndarray,
    component: np.ndarray,
    record_seconds: int = RECORD_PERIOD.seconds,
    known: np.ndarray | None = None,
    bridge_seconds: int = UNKNOWN_STATUS_BRIDGE_SECONDS,
) -> FailureEvents:
    """Runs of one asset's records carrying one component's failure code, across short stretches of unknown status.

    A run is broken by a new asset, another component, a record whose known status is no failure of
    it, or a stretch of unknown status (records with ``known`` False, or missing records) longer
    than ``bridge_seconds``; a shorter one between two records of the same component continues it
    (:data:`UNKNOWN_STATUS_BRIDGE_SECONDS` says why), and its records are the failure's.

    Parameters
    ----------
    asset : ndarray of int
        Each record's asset (turbine or inverter); records sorted by asset, then time.
    time : ndarray of datetime64
        Each record's start.
    component : ndarray of int
        Index of the component whose failure code the record carries; -1 where it carries none.
    record_seconds : int
        The record period [s].
    known : ndarray of bool or None
        False where the record's status is unknown (a blank status cell); None: every status is known.
    bridge_seconds : int
        Longest stretch of unknown status a failure continues across [s].

    Returns
    -------
    FailureEvents
        One entry per failure, ``records`` its span from its first to its last record [records].
    """
    keep = np.ones(len(asset), dtype=bool) if known is None else np.asarray(known, dtype=bool)
    asset, time, component = asset[keep], time[keep], component[keep]
    failing = component >= 0
    step = np.diff(time).astype("timedelta64[s]").astype(np.int64) if len(time) else np.zeros(0, dtype=np.int64)
    continues = np.r_[
        False,
        (asset[1:] == asset[:-1]) & (component[1:] == component[:-1]) & (step <= record_seconds + bridge_seconds),
    ]
    starts = np.flatnonzero(failing & ~continues)
    ends = np.flatnonzero(failing & ~np.r_[continues[1:], False])
    span = (time[ends] - time[starts]).astype("timedelta64[s]").astype(np.int64)
    return FailureEvents(asset[starts], component[starts], time[starts], span // record_seconds + 1)


@dataclass(frozen=True)
class LastRecords:
    """Each asset's last record of known status in the chunks read so far: its time and its failure's component.

    The component is -1 where that record carries no failure.
    """

    time: np.ndarray  # datetime64[ns]; NaT before any record
    component: np.ndarray

    @classmethod
    def none(cls, n_assets: int) -> LastRecords:
        """No record read yet."""
        return cls(np.full(n_assets, np.datetime64("NaT"), dtype="datetime64[ns]"), np.full(n_assets, -1))


def continues_earlier_run(
    events: FailureEvents, last: LastRecords, record_seconds: int, bridge_seconds: int = UNKNOWN_STATUS_BRIDGE_SECONDS
) -> np.ndarray:
    """Per event of a chunk: whether it continues its asset's failure run from an earlier chunk.

    It does when the asset's last record of known status before carried the same component's failure,
    at most ``bridge_seconds`` of unknown status earlier (:func:`failure_events`): then the chunks split
    one failure, which counts once.

    Parameters
    ----------
    events : FailureEvents
        The chunk's failures (:func:`failure_events`).
    last : LastRecords
        Each asset's last record of known status in the chunks before (:func:`record_last_states`).
    record_seconds : int
        The record period [s].
    bridge_seconds : int
        Longest stretch of unknown status a failure continues across [s].

    Returns
    -------
    ndarray of bool
        Per event: True where it continues a run already counted.
    """
    step = _seconds_since_last(events, last)
    return (step > 0) & (step <= record_seconds + bridge_seconds) & (last.component[events.asset] == events.component)


def bridged_records(events: FailureEvents, last: LastRecords, record_seconds: int) -> np.ndarray:
    """Per event of a chunk: the records of unknown status between its asset's last known record before and it.

    What a failure continued from an earlier chunk (:func:`continues_earlier_run`) adds to its span
    besides the event's own records [records]; 0 where the two records are adjacent.
    """
    return np.maximum(_seconds_since_last(events, last) // record_seconds - 1, 0)


def _seconds_since_last(events: FailureEvents, last: LastRecords) -> np.ndarray:
    """Seconds from each event's asset's last known record before to the event's start (negative without one)."""
    step = events.start.astype("datetime64[ns]") - last.time[events.asset]
    return np.where(np.isnat(step), -1, step.astype("timedelta64[s]").astype(np.int64))


def record_last_states(
    last: LastRecords, asset: np.ndarray, time: np.ndarray, component: np.ndarray, known: np.ndarray | None = None
) -> LastRecords:
    """``last`` with each asset of a chunk at its final record of known status.

    Parameters
    ----------
    last : LastRecords
        The state before the chunk.
    asset, time, component : ndarray
        The chunk's records, sorted by asset, then time: asset index, datetime64, failure component (-1 none).
    known : ndarray of bool or None
        False where a record's status is unknown; None: every status is known.

    Returns
    -------
    LastRecords
        A new state; assets without records of known status in the chunk keep theirs.
    """
    if known is not None:
        keep = np.asarray(known, dtype=bool)
        asset, time, component = asset[keep], time[keep], component[keep]
    if len(asset) == 0:
        return last
    ends = np.flatnonzero(np.r_[asset[1:] != asset[:-1], True])
    times, components = last.time.copy(), last.component.copy()
    times[asset[ends]] = time[ends].astype("datetime64[ns]")
    components[asset[ends]] = component[ends]
    return LastRecords(times, components)


def age_band(age_years: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of each age's band: [edges[i], edges[i+1]), the last band open; -1 below the first edge."""
    return np.searchsorted(edges, age_years, side="right") - 1


def criticality_alarms(exceeds: np.ndarray, raise_at: int) -> np.ndarray:
    """Persistence rule over a sequence of periods: alarm while the criticality counter >= ``raise_at``.

    The counter rises by one in every period that exceeds its threshold and falls by one (not
    below 0) otherwise.

    As the criticality counter of the CARE-to-Compare benchmark (Gueck et al. 2024): one hot
    period never alarms, a sustained drift does.
    """
    counter, out = 0, np.zeros(len(exceeds), dtype=bool)
    for i, hot in enumerate(exceeds):
        counter = counter + 1 if hot else max(counter - 1, 0)
        out[i] = counter >= raise_at
    return out


def position_in_distribution(value: float, counts: np.ndarray, first_centre: float, width: float) -> float:
    """Share of the distribution below ``value`` [0..1] (the "you are here" percentile), half the own bin."""
    total = counts.sum()
    if not np.isfinite(value) or total == 0:
        return float("nan")
    index = int(clipped_bin_index(np.array([value]), first_centre, width, len(counts))[0])
    return float((counts[:index].sum() + 0.5 * counts[index]) / total)
