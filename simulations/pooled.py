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

from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from client.summaries import cohort_membership, prepared_records
from protos.fleetbench.v1 import release_pb2, spec_pb2
from server.finalize import CohortStatistics, build_release


def pooled_rows(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """All operators' usable records: operator, normalised values and one membership column per cohort."""
    frames = []
    for operator, path in enumerate(site_configs):
        site = load_site_config(path)
        membership = cohort_membership(site, spec)
        for records in prepared_records(lambda site=site: read_canonical_chunks(site), site, spec):
            frame = pd.DataFrame(
                {
                    "operator": operator,
                    "wind_speed": records.wind_speed,
                    "power": records.power,
                    "power_per_unit": records.power_per_unit,
                    "power_per_area": records.power_per_area,
                }
            )
            for c, cohort in enumerate(spec.cohorts):
                frame[cohort.name] = membership[records.asset, c]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def pooled_statistics(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> dict[str, CohortStatistics]:
    """Per-cohort, per-bin statistics straight from the rows (pandas group-by)."""
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    rows = rows.assign(
        ws_bin=np.floor((rows["wind_speed"] - ws.first_centre) / ws.width + 0.5),
        p_bin=np.floor((rows["power_per_unit"] - pg.first_centre) / pg.width + 0.5).clip(0, pg.count - 1),
    )
    rows = rows[(rows["ws_bin"] >= 0) & (rows["ws_bin"] < ws.count)].astype({"ws_bin": int, "p_bin": int})
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
