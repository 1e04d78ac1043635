"""The pooled reference: the same release computed from every operator's raw rows in one process.

This is what a trusted third party holding everyone's data would compute. It shares ingest, the
filters and the density normalisation (the sites' own, applied to their own rows) and the release
assembly (suppression rules, percentile definition) with the federated path, but computes every
statistic directly from the pooled rows with pandas, not from per-site sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from client.filters import FILTERS, TurbineArrays
from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from client.summaries import cohort_membership, prepared_records, record_air_density
from protos.domain import (
    AVAILABILITY_CATEGORIES,
    JULIAN_YEAR,
    JULIAN_YEAR_HOURS,
    KWH_PER_MWH,
    RECORD_HOURS,
    RECORD_PERIOD,
)
from protos.fleetbench.v1 import release_pb2, spec_pb2
from server.finalize import CohortStatistics, build_release


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


def pooled_release(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> release_pb2.Release:
    """The release a trusted party would publish from all rows, with the same disclosure rules."""
    rows = pooled_rows(site_configs, spec)
    return build_release(
        spec, pooled_statistics(rows, spec), participants=len(site_configs), flower_run_id="", method="pooled"
    )


def pooled_canonical_records(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """Every operator's canonical records in one frame, with operator, turbine metadata and cohort columns.

    ``passes_row_filters`` marks the records the spec's row filters (all but the bin filter) pass.
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
        frame = frame.assign(
            operator=operator,
            turbine=f"{operator}/" + frame["asset_id"].astype(str),
            rated_power_kw=rated,
            stall=[site.turbines[i].regulation == "stall" for i in index],
            normal=frame["WTUR_TurSt"].isin(site.normal_status_codes) if "WTUR_TurSt" in frame else True,
            passes_row_filters=passes,
            density=record_air_density(frame, site),
            commissioned=[site.turbines[i].commissioning_date for i in index],
            component=frame["WTUR_TurSt"].map(
                {code: name for name, codes in site.status_components.items() for code in codes}
            )
            if "WTUR_TurSt" in frame
            else None,
            category=frame["WTUR_TurSt"].map(
                {code: name for name, codes in site.status_categories.items() for code in codes}
            )
            if "WTUR_TurSt" in frame
            else "full_performance",
        )
        for c, cohort in enumerate(spec.cohorts):
            frame[cohort.name] = membership[:, c]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def pooled_model_coefficients(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, cohort: str, model: spec_pb2.NormalBehaviourModel
) -> np.ndarray:
    """The fixed-effects ridge regression on the pooled training rows: demean per turbine, then solve."""
    start, end = (pd.Timestamp(t) for t in (spec.training_period.start, spec.training_period.end))
    pu = rows["WTUR_W"] / rows["rated_power_kw"]
    columns = {"power_per_unit": pu, "power_per_unit_squared": pu**2, "ambient_temperature": rows["WMET_EnvTmp"]}
    data = pd.DataFrame({name: columns[name] for name in model.features}).assign(
        y=rows[model.target], turbine=rows["turbine"]
    )
    use = rows[cohort] & rows["normal"] & (rows["time"] >= start) & (rows["time"] < end) & data.notna().all(axis=1)
    data = data[use]
    centred = data.drop(columns="turbine") - data.groupby("turbine").transform("mean")
    x, y = centred[list(model.features)].to_numpy(), centred["y"].to_numpy()
    return np.linalg.solve(x.T @ x + model.ridge_lambda * len(y) * np.eye(x.shape[1]), x.T @ y)


def pooled_performance_and_yaw(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release, cohort: str
) -> pd.DataFrame:
    """Per turbine of ``cohort``: performance index and the vertex of np.polyfit(vane, ratio, 2)."""
    curve = next(c for c in release.curves if c.cohort == cohort)
    bins = [b for b in curve.bins if not b.suppressed]
    ws_curve = np.array([b.mean_wind_speed for b in bins])
    pu_curve = np.array([b.mean_power_per_unit for b in bins])
    rho0 = spec.reference_air_density
    v_n = np.where(rows["stall"], rows["WMET_HorWdSpd"], rows["WMET_HorWdSpd"] * (rows["density"] / rho0) ** (1 / 3))
    p_n = np.where(rows["stall"], rows["WTUR_W"] * rho0 / rows["density"], rows["WTUR_W"])
    expected = np.interp(v_n, ws_curve, pu_curve, left=np.nan, right=np.nan) * rows["rated_power_kw"]
    start, end = (pd.Timestamp(t) for t in (spec.period.start, spec.period.end))
    frame = pd.DataFrame(
        {
            "turbine": rows["turbine"],
            "actual": p_n,
            "expected": expected,
            "v": v_n,
            "vane": rows.get("WMET_HorWdDirRel", np.nan),
            "rated": rows["rated_power_kw"],
        }
    )
    use = rows[cohort] & rows["passes_row_filters"] & (rows["time"] >= start) & (rows["time"] < end)
    frame = frame[use & frame["expected"].notna() & frame["actual"].notna()]
    out = frame.groupby("turbine")[["actual", "expected"]].sum()
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

    out["yaw_misalignment"] = fit.groupby("turbine")[["vane", "actual", "expected"]].apply(vertex)
    return out


def _in_period(rows: pd.DataFrame, period: spec_pb2.Period) -> pd.Series:
    return (rows["time"] >= pd.Timestamp(period.start)) & (rows["time"] < pd.Timestamp(period.end))


def pooled_reliability(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, cohort: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Failures and their downtime [h] (components x age bands), turbine-years (age bands) of ``cohort``.

    A failure is a run of one component's failure code on one turbine, consecutive 10-min records;
    its age band is the turbine's age at the run's first record, its downtime the run's length.
    """
    ind = spec.indicators
    edges = np.array(ind.age_band_edges)
    rows = rows[rows[cohort] & _in_period(rows, spec.period) & rows["commissioned"].notna()]
    age = (rows["time"] - pd.to_datetime(rows["commissioned"], utc=True)) / JULIAN_YEAR
    band = np.searchsorted(edges, age.to_numpy(), side="right") - 1
    years = np.bincount(band[band >= 0], minlength=len(edges)) * (RECORD_HOURS / JULIAN_YEAR_HOURS)
    component = rows["component"].fillna("")
    new_run = (
        (rows["turbine"] != rows["turbine"].shift())
        | (component != component.shift())
        | (rows["time"].diff() != RECORD_PERIOD)
    )
    starts = new_run & (component != "") & (band >= 0)
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
    below 0), in every category but full performance; production-based availability per turbine =
    actual / (actual + lost in the unavailable categories).
    """
    curve = next(c for c in release.curves if c.cohort == cohort)
    bins = [b for b in curve.bins if not b.suppressed]
    rho0 = spec.reference_air_density
    v_n = np.where(rows["stall"], rows["WMET_HorWdSpd"], rows["WMET_HorWdSpd"] * (rows["density"] / rho0) ** (1 / 3))
    expected = (
        np.interp(
            v_n, [b.mean_wind_speed for b in bins], [b.mean_power_per_unit for b in bins], left=np.nan, right=np.nan
        )
        * rows["rated_power_kw"].to_numpy()
    )
    frame = pd.DataFrame(
        {"turbine": rows["turbine"], "power": rows["WTUR_W"], "expected": expected, "category": rows["category"]}
    )[rows[cohort] & _in_period(rows, spec.period) & rows["WTUR_W"].notna()]
    actual = frame["power"].clip(lower=0) * (RECORD_HOURS / KWH_PER_MWH)
    lost = ((frame["expected"] - frame["power"]).clip(lower=0) * (RECORD_HOURS / KWH_PER_MWH)).where(
        frame["category"].notna() & (frame["category"] != "full_performance") & frame["expected"].notna(), 0.0
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
    """A released model's residuals on the pooled monitored records, intercepts from each turbine's training rows."""
    model = next(m for m in spec.models if m.target == fit.target)
    pu = rows["WTUR_W"] / rows["rated_power_kw"]
    columns = {"power_per_unit": pu, "power_per_unit_squared": pu**2, "ambient_temperature": rows["WMET_EnvTmp"]}
    x = pd.DataFrame({name: columns[name] for name in model.features})
    residual = rows[fit.target] - x.to_numpy() @ np.array(fit.coefficients)
    usable = rows[fit.cohort] & rows["normal"] & x.notna().all(axis=1) & rows[fit.target].notna()
    training = usable & _in_period(rows, spec.training_period)
    intercept = residual[training].groupby(rows["turbine"][training]).mean()
    monitored = usable & _in_period(rows, spec.period) & (rows["time"] >= pd.Timestamp(spec.training_period.end))
    monitored &= rows["turbine"].isin(intercept.index)
    return (residual[monitored] - rows["turbine"][monitored].map(intercept)).to_numpy()
