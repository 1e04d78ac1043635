"""The pooled reference: the same release computed from every operator's raw rows in one process.

This is what a trusted third party holding everyone's data would compute. It shares ingest and
the release assembly (suppression rule, percentile definition) with the federated path, but
computes every statistic directly from rows with pandas, not from per-site sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from client.ingest import read_canonical_chunks
from client.quality import normal_operation_mask, valid_power_curve_mask
from client.site_config import load_site_config
from client.summaries import period_bounds
from protos.fleetbench.v1 import release_pb2, spec_pb2
from server.finalize import CohortStatistics, build_release


def pooled_rows(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """All operators' usable records, with operator, cohort and rated power columns."""
    start, end = period_bounds(spec)
    by_model = {c.turbine_model: c.name for c in spec.cohorts}
    frames = []
    for operator, path in enumerate(site_configs):
        site = load_site_config(path)
        turbines = pd.DataFrame(
            {
                "asset_id": [t.asset_id for t in site.turbines],
                "model": [t.model for t in site.turbines],
                "rated_power_kw": [t.rated_power_kw for t in site.turbines],
            }
        )
        frame = pd.concat(list(read_canonical_chunks(site)), ignore_index=True)
        keep = valid_power_curve_mask(frame) & normal_operation_mask(frame, site.normal_status_codes)
        frame = frame[keep & (frame["time"] >= start).to_numpy() & (frame["time"] < end).to_numpy()]
        frame = frame.merge(turbines, on="asset_id").assign(operator=operator)
        frames.append(frame.assign(cohort=frame["model"].map(by_model)).dropna(subset=["cohort"]))
    return pd.concat(frames, ignore_index=True)


def pooled_statistics(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> dict[str, CohortStatistics]:
    """Per-cohort, per-bin statistics straight from the rows (pandas group-by)."""
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    rows = rows.assign(
        ws_bin=np.floor((rows["WMET_HorWdSpd"] - ws.first_centre) / ws.width + 0.5),
        p_bin=np.floor((rows["WTUR_W"] / rows["rated_power_kw"] - pg.first_centre) / pg.width + 0.5).clip(
            0, pg.count - 1
        ),
    )
    rows = rows[(rows["ws_bin"] >= 0) & (rows["ws_bin"] < ws.count)].astype({"ws_bin": int, "p_bin": int})
    result = {}
    for cohort in spec.cohorts:
        group = rows[rows["cohort"] == cohort.name]
        per_bin = (
            group.groupby("ws_bin")
            .agg(
                n=("WTUR_W", "size"),
                operators=("operator", "nunique"),
                ws=("WMET_HorWdSpd", "mean"),
                p=("WTUR_W", "mean"),
                sd=("WTUR_W", "std"),
            )
            .reindex(range(ws.count))
        )
        histogram = np.zeros((ws.count, pg.count), dtype=np.int64)
        cells = group.groupby(["ws_bin", "p_bin"]).size()
        histogram[cells.index.get_level_values(0), cells.index.get_level_values(1)] = cells.to_numpy()
        result[cohort.name] = CohortStatistics(
            operator_count=int(group["operator"].nunique()),
            bin_operator_count=per_bin["operators"].fillna(0).to_numpy(dtype=np.int64),
            record_count=per_bin["n"].fillna(0).to_numpy(dtype=np.int64),
            mean_wind_speed=per_bin["ws"].to_numpy(dtype=np.float64),
            mean_power=per_bin["p"].to_numpy(dtype=np.float64),
            std_power=per_bin["sd"].to_numpy(dtype=np.float64),
            histogram=histogram,
        )
    return result


def pooled_release(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> release_pb2.Release:
    """The release a trusted party would publish from all rows, with the same disclosure rules."""
    rows = pooled_rows(site_configs, spec)
    return build_release(
        spec, pooled_statistics(rows, spec), participants=len(site_configs), flower_run_id="", method="pooled"
    )
