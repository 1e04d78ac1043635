"""The pooled reference: the same release computed from every operator's raw rows in one process.

This is what a trusted third party holding everyone's data would publish, both rounds. It shares
ingest, the filters and the density normalisation (the sites' own, applied to their own rows) with
the federated path, and computes every statistic directly from the pooled rows with pandas, not
from per-site sums: the value of each block of the round-1 and round-2 specs (keyed by BlockKey).
Those values then go through the aggregator's own finalisation (server.finalize.build_release,
server.baselines.model_fits and indicator_baselines: suppression rules, percentile definition,
model solve), so the pooled and the federated release differ only where the sums do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from client.filters import FILTERS, TurbineArrays
from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from client.summaries import cohort_membership, prepared_records, record_air_density
from protos.codec import block_layouts, spec_sha256
from protos.domain import (
    AVAILABILITY_CATEGORIES,
    JULIAN_YEAR,
    JULIAN_YEAR_HOURS,
    KWH_PER_MWH,
    RECORD_HOURS,
    RECORD_PERIOD,
)
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import BlockKey, NbmRecordCount
from server.baselines import indicator_baselines, model_fits
from server.finalize import CohortStatistics, build_release
from server.spec import indicator_spec

S = spec_pb2.Statistic
METHOD = "pooled"
"""The provenance method of the pooled reference (a federated release says "secagg+")."""


def pooled_rows(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """All operators' usable records: operator, turbine, normalised values and one membership column per cohort."""
    frames = []
    for operator, path in enumerate(site_configs):
        site = load_site_config(path)
        membership = cohort_membership(site, spec)
        asset_ids = np.array([t.asset_id for t in site.turbines])
        for records in prepared_records(lambda site=site: read_canonical_chunks(site), site, spec):
            frame = pd.DataFrame(
                {
                    "operator": operator,
                    "turbine": np.char.add(f"{operator}/", asset_ids[records.asset]),
                    "wind_speed": records.density_normalised_wind_speed,
                    "power": records.density_normalised_power,
                    "power_per_unit": records.power_per_unit,
                    "power_per_area": records.power_per_area,
                }
            )
            for c, cohort in enumerate(spec.cohorts):
                frame[cohort.name] = membership[records.asset, c]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _with_bins(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    rows = rows.assign(
        ws_bin=np.floor((rows["wind_speed"] - ws.first_centre) / ws.width + 0.5),
        p_bin=np.floor((rows["power_per_unit"] - pg.first_centre) / pg.width + 0.5).clip(0, pg.count - 1),
    )
    return rows[(rows["ws_bin"] >= 0) & (rows["ws_bin"] < ws.count)].astype({"ws_bin": int, "p_bin": int})


def pooled_capped_histograms(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> dict[str, np.ndarray]:
    """Per cohort, the capped power histogram of a private spec, weighting each record by min(1, c / n).

    n is the number of records its turbine has in its wind-speed bin, c the spec's
    max_records_per_turbine_per_bin: the pooled form of the sites' per-turbine cap.
    """
    rows = _with_bins(rows, spec)
    n = rows.groupby(["turbine", "ws_bin"])["power"].transform("size").to_numpy(dtype=np.float64)
    weight = np.minimum(1.0, spec.privacy.max_records_per_turbine_per_bin / n)
    n_ws, n_p = spec.wind_speed_bins.count, spec.normalised_power_bins.count
    cell = rows["ws_bin"].to_numpy() * n_p + rows["p_bin"].to_numpy()
    return {
        cohort.name: np.bincount(
            cell[rows[cohort.name].to_numpy()], weights=weight[rows[cohort.name].to_numpy()], minlength=n_ws * n_p
        ).reshape(n_ws, n_p)
        for cohort in spec.cohorts
    }


def pooled_statistics(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> dict[str, CohortStatistics]:
    """Per-cohort, per-bin statistics straight from the rows (pandas group-by)."""
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    rows = _with_bins(rows, spec)
    result = {}
    for cohort in spec.cohorts:
        group = rows[rows[cohort.name]]
        per_bin = (
            group.groupby("ws_bin")
            .agg(
                n=("power", "size"),
                operators=("operator", "nunique"),
                ws=("wind_speed", "mean"),
                p=("power", "mean"),
                sd=("power", "std"),
                pu=("power_per_unit", "mean"),
                sd_pu=("power_per_unit", "std"),
                area=("power_per_area", "mean"),
            )
            .reindex(range(ws.count))
        )
        per_operator_bin = group.groupby(["ws_bin", "operator"]).size()
        squares = (per_operator_bin**2).groupby(level=0).sum().reindex(range(ws.count), fill_value=0)
        histogram = np.zeros((ws.count, pg.count), dtype=np.int64)
        cells = group.groupby(["ws_bin", "p_bin"]).size()
        histogram[cells.index.get_level_values(0), cells.index.get_level_values(1)] = cells.to_numpy()
        result[cohort.name] = CohortStatistics(
            operator_count=int(group["operator"].nunique()),
            cohort_records_squared=int((group.groupby("operator").size() ** 2).sum()),
            bin_operator_count=per_bin["operators"].fillna(0).to_numpy(dtype=np.int64),
            record_count=per_bin["n"].fillna(0).to_numpy(dtype=np.int64),
            records_squared=squares.to_numpy(dtype=np.float64),
            mean_wind_speed=per_bin["ws"].to_numpy(dtype=np.float64),
            mean_power=per_bin["p"].to_numpy(dtype=np.float64),
            std_power=per_bin["sd"].to_numpy(dtype=np.float64),
            mean_power_per_unit=per_bin["pu"].to_numpy(dtype=np.float64),
            std_power_per_unit=per_bin["sd_pu"].to_numpy(dtype=np.float64),
            mean_power_per_area=per_bin["area"].to_numpy(dtype=np.float64),
            histogram=histogram,
        )
    return result


def pooled_release(
    site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec, indicators: bool = True
) -> release_pb2.Release:
    """The release a trusted party would publish from all rows: both rounds, finalised as the aggregator does.

    Round 1: the curves (:func:`server.finalize.build_release`) and the normal-behaviour models
    (:func:`server.baselines.model_fits`) from the pooled values of the ``spec``'s blocks. With
    ``indicators``, round 2 against that release: its spec built as the aggregator builds it
    (:func:`server.spec.indicator_spec`, with the sha256 of the pooled round-1 release) and its
    baselines finalised by :func:`server.baselines.indicator_baselines` from the pooled value of
    every round-2 block. A private spec has no models and no round 2 (as in
    server.server_app.run_release).

    Parameters
    ----------
    site_configs : sequence of Path
        Every operator's site.toml; each is one participant.
    spec : BenchmarkSpec
        The round-1 spec.
    indicators : bool
        Add round 2 (the industry baselines).
    """
    participants = len(site_configs)
    rows = pooled_rows(site_configs, spec)
    release = build_release(spec, pooled_statistics(rows, spec), participants, flower_run_id="", method=METHOD)
    release.training_period.CopyFrom(spec.training_period)
    if spec.HasField("privacy"):
        return release
    records = pooled_canonical_records(site_configs, spec)
    release.models.extend(model_fits(spec, pooled_model_values(records, spec)))
    if not indicators:
        return release
    round_two = indicator_spec(spec, hashlib.sha256(release.SerializeToString(deterministic=True)).hexdigest())
    final = release_pb2.Release()
    final.CopyFrom(release)
    values = pooled_indicator_values(records, round_two, release)
    final.provenance.suppressed_cells += indicator_baselines(round_two, values, final)
    final.provenance.indicator_spec_sha256 = spec_sha256(round_two)
    final.provenance.indicator_participants = participants
    final.indicator_spec.CopyFrom(round_two)
    return final


def pooled_canonical_records(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """Every operator's canonical records in one frame, with operator, turbine metadata and cohort columns.

    ``passes_row_filters`` marks the records the spec's row filters (all but the bin filter) pass.
    ``category`` is each record's IEC 61400-26 information category: the site's [status.categories];
    without them, normal status codes are full performance and any other code a forced outage;
    without a status channel, every record is full performance.
    """
    frames = []
    for operator, path in enumerate(site_configs):
        site = load_site_config(path)
        frame = pd.concat(read_canonical_chunks(site), ignore_index=True)
        frame = frame.sort_values(["asset_id", "time"], kind="stable").reset_index(drop=True)
        index = pd.Index([t.asset_id for t in site.turbines]).get_indexer(frame["asset_id"].astype(str))
        rated = np.array([t.rated_power_kw for t in site.turbines])[index]
        arrays = TurbineArrays(index, rated, site.normal_status_codes)
        passes = np.ones(len(frame), dtype=bool)
        for f in spec.filters:
            if FILTERS[f.name].flag:
                passes &= ~FILTERS[f.name].flag(frame, arrays, f.parameters)
        membership = cohort_membership(site, spec)[index]
        has_status = "WTUR_TurSt" in frame
        normal = frame["WTUR_TurSt"].isin(site.normal_status_codes) if has_status else pd.Series(True, frame.index)
        if not has_status:
            category = pd.Series("full_performance", frame.index)
        elif site.status_categories:
            category = frame["WTUR_TurSt"].map(
                {code: name for name, codes in site.status_categories.items() for code in codes}
            )
        else:
            category = pd.Series(np.where(normal, "full_performance", "forced_outage"), frame.index)
        frame = frame.assign(
            operator=operator,
            turbine=f"{operator}/" + frame["asset_id"].astype(str),
            rated_power_kw=rated,
            stall=[site.turbines[i].regulation == "stall" for i in index],
            normal=normal,
            passes_row_filters=passes,
            density=record_air_density(frame, site),
            commissioned=[site.turbines[i].commissioning_date for i in index],
            component=frame["WTUR_TurSt"].map(
                {code: name for name, codes in site.status_components.items() for code in codes}
            )
            if has_status
            else None,
            category=category,
        )
        for c, cohort in enumerate(spec.cohorts):
            frame[cohort.name] = membership[:, c]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _in_period(rows: pd.DataFrame, period: spec_pb2.Period) -> pd.Series:
    return (rows["time"] >= pd.Timestamp(period.start)) & (rows["time"] < pd.Timestamp(period.end))


def _histogram(values: np.ndarray, grid: spec_pb2.BinGrid) -> np.ndarray:
    """Counts of the finite ``values`` per bin of ``grid`` (bin i centred on first_centre + i width), ends open."""
    finite = values[np.isfinite(values)]
    index = np.clip(np.floor((finite - grid.first_centre) / grid.width + 0.5), 0, grid.count - 1)
    return np.bincount(index.astype(np.int64), minlength=grid.count).astype(np.float64)


def _design(rows: pd.DataFrame, model: spec_pb2.NormalBehaviourModel) -> pd.DataFrame:
    """Each record's features of ``model`` and its target ``y``, NaN where an export has no such channel.

    Features: P / P_rated [-], its square [-], ambient temperature [degC].
    """
    pu = rows["WTUR_W"] / rows["rated_power_kw"]
    ambient = rows.get("WMET_EnvTmp", np.nan)
    columns = {"power_per_unit": pu, "power_per_unit_squared": pu**2, "ambient_temperature": ambient}
    data = pd.DataFrame({name: columns[name] for name in model.features}, index=rows.index, dtype=np.float64)
    data["y"] = rows.get(model.target, np.nan)
    return data


def _modelled(rows: pd.DataFrame, data: pd.DataFrame, cohort: str) -> pd.Series:
    """Normal-status records of ``cohort`` whose features and target (``data``) are all finite."""
    return rows[cohort] & rows["normal"] & np.isfinite(data.to_numpy(dtype=np.float64)).all(axis=1)


def _training_rows(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, cohort: str, model: spec_pb2.NormalBehaviourModel
) -> pd.DataFrame:
    """A model's training records of ``cohort`` (in the training window): features, ``y``, operator, turbine."""
    data = _design(rows, model)
    use = _modelled(rows, data, cohort) & _in_period(rows, spec.training_period)
    return data[use].assign(operator=rows["operator"][use], turbine=rows["turbine"][use])


def _centred(data: pd.DataFrame, model: spec_pb2.NormalBehaviourModel) -> tuple[np.ndarray, np.ndarray]:
    """Features X and target y of training rows, each turbine's demeaned (the fixed-effects model)."""
    columns = [*model.features, "y"]
    centred = data[columns] - data.groupby("turbine")[columns].transform("mean")
    return centred[list(model.features)].to_numpy(), centred["y"].to_numpy()


def pooled_model_coefficients(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, cohort: str, model: spec_pb2.NormalBehaviourModel
) -> np.ndarray:
    """The fixed-effects ridge regression on the pooled training rows: demean per turbine, then solve."""
    x, y = _centred(_training_rows(rows, spec, cohort, model), model)
    return np.linalg.solve(x.T @ x + model.ridge_lambda * len(y) * np.eye(x.shape[1]), x.T @ y)


def pooled_model_values(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> dict[BlockKey, np.ndarray]:
    """The pooled value of every normal-behaviour-model block of the round-1 ``spec``.

    Per cohort and model, over the pooled training rows each turbine demeaned: X^T X, X^T y,
    y^T y, and the record count block (records, turbines, operators with training records and the
    sum over operators of their records squared).
    """
    values = {}
    for cohort in spec.cohorts:
        for model in spec.models:
            data = _training_rows(rows, spec, cohort.name, model)
            x, y = _centred(data, model)
            per_operator = data.groupby("operator").size().to_numpy(dtype=np.float64)
            counts = NbmRecordCount(
                records=float(len(y)),
                turbines=float(data["turbine"].nunique()),
                contributor=float(len(per_operator)),
                records_squared=float((per_operator**2).sum()),
            )
            values[BlockKey(cohort.name, S.NBM_GRAM, model.target)] = x.T @ x
            values[BlockKey(cohort.name, S.NBM_MOMENT, model.target)] = x.T @ y
            values[BlockKey(cohort.name, S.NBM_RESPONSE_SQUARES, model.target)] = np.array([y @ y])
            values[BlockKey(cohort.name, S.NBM_RECORD_COUNT, model.target)] = np.array(counts, dtype=np.float64)
    return values


def _expected_power(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release, cohort: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each record's density-normalised wind speed [m/s] and power [kW], and the power the cohort curve expects [kW].

    The expectation interpolates linearly between the released bins of ``cohort``'s curve (mean
    wind speed, mean P / P_rated), times rated power; NaN beyond its first and last bin, and
    everywhere when fewer than two bins are released.
    """
    rho0 = spec.reference_air_density
    wind_speed = np.where(
        rows["stall"], rows["WMET_HorWdSpd"], rows["WMET_HorWdSpd"] * (rows["density"] / rho0) ** (1 / 3)
    )
    power = np.where(rows["stall"], rows["WTUR_W"] * rho0 / rows["density"], rows["WTUR_W"])
    curve = next(c for c in release.curves if c.cohort == cohort)
    bins = [b for b in curve.bins if not b.suppressed]
    if len(bins) < 2:
        return wind_speed, power, np.full(len(rows), np.nan)
    per_unit = np.interp(
        wind_speed, [b.mean_wind_speed for b in bins], [b.mean_power_per_unit for b in bins], left=np.nan, right=np.nan
    )
    return wind_speed, power, per_unit * rows["rated_power_kw"].to_numpy()


def pooled_performance_and_yaw(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release, cohort: str
) -> pd.DataFrame:
    """Per turbine of ``cohort``: operator, performance index and the vertex of np.polyfit(vane, ratio, 2).

    Turbines with a positive expected energy, over the period's records that pass the row filters
    and have an expectation from the cohort curve [kW]; the yaw misalignment [deg] needs 500
    records in the spec's yaw wind-speed range whose expected power is above 5 % of rated, and a
    concave parabola, else it is NaN.
    """
    wind_speed, power, expected = _expected_power(rows, spec, release, cohort)
    frame = pd.DataFrame(
        {
            "operator": rows["operator"],
            "turbine": rows["turbine"],
            "actual": power,
            "expected": expected,
            "v": wind_speed,
            "vane": rows.get("WMET_HorWdDirRel", np.nan),
            "rated": rows["rated_power_kw"],
        }
    )
    use = rows[cohort] & rows["passes_row_filters"] & _in_period(rows, spec.period)
    frame = frame[use & frame["expected"].notna() & frame["actual"].notna()]
    out = frame.groupby("turbine").agg(
        operator=("operator", "first"), actual=("actual", "sum"), expected=("expected", "sum")
    )
    out = out[out["expected"] > 0]
    out["performance_index"] = out["actual"] / out["expected"]
    ind = spec.indicators
    fit = frame[
        (frame["v"] >= ind.yaw_wind_speed_min)
        & (frame["v"] < ind.yaw_wind_speed_max)
        & frame["vane"].notna()
        & (frame["expected"] > 0.05 * frame["rated"])
    ]

    def vertex(group: pd.DataFrame) -> float:
        if len(group) < 500:
            return np.nan
        c, b, _ = np.polyfit(group["vane"], group["actual"] / group["expected"], 2)
        return -b / (2 * c) if c < 0 else np.nan

    yaw = {turbine: vertex(group) for turbine, group in fit.groupby("turbine")}
    out["yaw_misalignment"] = out.index.map(yaw).astype(np.float64)
    return out


def pooled_reliability(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, cohort: str
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Failures and their downtime [h] (components x age bands), turbine-years (operators x age bands) of ``cohort``.

    A failure is a run of one component's failure code on one turbine, consecutive 10-min records;
    its age band is the turbine's age at the run's first record, its downtime the run's length.
    Turbine-years count the period's records of turbines with a commissioning date, by age band,
    one row per operator (index: operator) [year].
    """
    ind = spec.indicators
    edges = np.array(ind.age_band_edges)
    rows = rows[rows[cohort] & _in_period(rows, spec.period) & rows["commissioned"].notna()]
    age = (rows["time"] - pd.to_datetime(rows["commissioned"], utc=True)) / JULIAN_YEAR
    band = np.searchsorted(edges, age.to_numpy(), side="right") - 1
    aged = band >= 0
    records = pd.crosstab(rows["operator"].to_numpy()[aged], band[aged])
    years = records.reindex(columns=range(len(edges)), fill_value=0) * (RECORD_HOURS / JULIAN_YEAR_HOURS)
    component = rows["component"].fillna("")
    new_run = (
        (rows["turbine"] != rows["turbine"].shift())
        | (component != component.shift())
        | (rows["time"].diff() != RECORD_PERIOD)
    )
    starts = new_run & (component != "") & aged
    run_length = new_run.cumsum().map(new_run.cumsum().value_counts())
    failures = np.zeros((len(ind.components), len(edges)))
    downtime = np.zeros((len(ind.components), len(edges)))
    for name, b, length in zip(component[starts], band[starts.to_numpy()], run_length[starts], strict=True):
        failures[list(ind.components).index(name), b] += 1
        downtime[list(ind.components).index(name), b] += length * RECORD_HOURS
    return failures, downtime, years


def pooled_production(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release, cohort: str
) -> tuple[pd.Series, float, pd.Series]:
    """Lost production [MWh] per IEC 61400-26 category, potential production [MWh], production availability.

    Lost = what the cohort curve expects at the record's normalised wind speed less what came (not
    below 0), in every loss category of the spec but full performance; potential = actual
    production + lost; production-based availability per turbine = actual / (actual + lost in the
    unavailable categories).
    """
    _, _, expected = _expected_power(rows, spec, release, cohort)
    frame = pd.DataFrame(
        {"turbine": rows["turbine"], "power": rows["WTUR_W"], "expected": expected, "category": rows["category"]}
    )[rows[cohort] & _in_period(rows, spec.period) & rows["WTUR_W"].notna()]
    actual = frame["power"].clip(lower=0) * (RECORD_HOURS / KWH_PER_MWH)
    counted = frame["category"].isin(list(spec.indicators.loss_categories)) & (frame["category"] != "full_performance")
    lost = ((frame["expected"] - frame["power"]).clip(lower=0) * (RECORD_HOURS / KWH_PER_MWH)).where(
        counted & frame["expected"].notna(), 0.0
    )
    by_category = lost.groupby(frame["category"]).sum()
    unavailable = frame["category"].map(AVAILABILITY_CATEGORIES) == False  # noqa: E712 - None is excluded
    production = actual.groupby(frame["turbine"]).sum()
    lost_unavailable = lost.where(unavailable, 0.0).groupby(frame["turbine"]).sum()
    return by_category, float(actual.sum() + lost.sum()), production / (production + lost_unavailable)


def pooled_time_availability(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, cohort: str) -> pd.Series:
    """Time-based availability per turbine (IEC 61400-26-1): available / (available + unavailable) time."""
    rows = rows[rows[cohort] & _in_period(rows, spec.period)]
    state = rows["category"].map(AVAILABILITY_CATEGORIES)
    counted = rows[state.notna()].assign(available=state[state.notna()].astype(bool))
    return counted.groupby("turbine")["available"].mean()


def pooled_residuals(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, fit: release_pb2.NormalBehaviourModelFit
) -> np.ndarray:
    """A released model's residuals on the pooled monitored records, intercepts from each turbine's training rows.

    Monitored: the model's usable records of the period from the end of the training window on,
    of turbines with training records; a turbine's intercept is its mean of y - X beta over them.
    """
    model = next(m for m in spec.models if m.target == fit.target)
    data = _design(rows, model)
    residual = data["y"] - data[list(model.features)].to_numpy() @ np.array(fit.coefficients)
    usable = _modelled(rows, data, fit.cohort)
    training = usable & _in_period(rows, spec.training_period)
    intercept = residual[training].groupby(rows["turbine"][training]).mean()
    monitored = usable & _in_period(rows, spec.period) & (rows["time"] >= pd.Timestamp(spec.training_period.end))
    monitored &= rows["turbine"].isin(intercept.index)
    return (residual[monitored] - rows["turbine"][monitored].map(intercept)).to_numpy()


def pooled_indicator_values(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release
) -> dict[BlockKey, np.ndarray]:
    """The pooled value of every block of the round-2 ``spec``, measured against the round-1 ``release``.

    Per cohort: histograms over its turbines with expected energy of performance index, yaw
    misalignment and time- and production-based availability; histograms over monitored records
    of each released model's residuals (empty for a suppressed model); lost production per loss
    category and the potential; failures, downtime and turbine-years by component and age band;
    and the disclosure inputs (operators per age band and in the cohort, turbines, and the sums
    over operators of their turbine-years and turbines squared).

    Raises
    ------
    ValueError
        If the spec asks for a block this reference does not compute.
    """
    ind = spec.indicators
    values: dict[BlockKey, np.ndarray] = {}
    for cohort in spec.cohorts:
        name = cohort.name
        turbines = pooled_performance_and_yaw(rows, spec, release, name)
        lost, potential, production_availability = pooled_production(rows, spec, release, name)
        per_turbine = {
            S.PERFORMANCE_INDEX_HISTOGRAM: (turbines["performance_index"], ind.performance_index_bins),
            S.YAW_MISALIGNMENT_HISTOGRAM: (turbines["yaw_misalignment"], ind.yaw_misalignment_bins),
            S.TIME_AVAILABILITY_HISTOGRAM: (pooled_time_availability(rows, spec, name), ind.availability_bins),
            S.PRODUCTION_AVAILABILITY_HISTOGRAM: (production_availability, ind.availability_bins),
        }
        for statistic, (kpi, grid) in per_turbine.items():
            values[BlockKey(name, statistic)] = _histogram(kpi.reindex(turbines.index).to_numpy(np.float64), grid)
        fits = {m.target: m for m in release.models if m.cohort == name and not m.suppressed}
        for model in spec.models:
            residuals = pooled_residuals(rows, spec, fits[model.target]) if model.target in fits else np.zeros(0)
            values[BlockKey(name, S.NBM_RESIDUAL_HISTOGRAM, model.target)] = _histogram(residuals, ind.residual_bins)
        lost_by_category = lost.reindex(list(ind.loss_categories), fill_value=0.0).to_numpy(np.float64)
        values[BlockKey(name, S.LOST_PRODUCTION)] = np.r_[lost_by_category, potential]
        failures, downtime, years = pooled_reliability(rows, spec, name)
        values[BlockKey(name, S.FAILURE_COUNT)] = failures
        values[BlockKey(name, S.FAILURE_DOWNTIME)] = downtime
        values[BlockKey(name, S.TURBINE_YEARS)] = years.sum(axis=0).to_numpy(np.float64)
        values[BlockKey(name, S.AGE_BAND_CONTRIBUTOR)] = (years > 0).sum(axis=0).to_numpy(np.float64)
        values[BlockKey(name, S.SQUARED_TURBINE_YEARS)] = (years**2).sum(axis=0).to_numpy(np.float64)
        per_operator = turbines.groupby("operator").size().to_numpy(dtype=np.float64)
        values[BlockKey(name, S.COHORT_CONTRIBUTOR)] = np.array([float(len(per_operator))])
        values[BlockKey(name, S.TURBINE_COUNT)] = np.array([per_operator.sum()])
        values[BlockKey(name, S.SQUARED_TURBINE_COUNT)] = np.array([(per_operator**2).sum()])
    unknown = [layout.name for layout in block_layouts(spec) if layout.key not in values]
    if unknown:
        raise ValueError(f"spec {spec.spec_id} asks for blocks {unknown}, which the pooled reference does not compute")
    return values
