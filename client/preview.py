"""What would leave the site for a spec: every block with its shape and totals, and what was filtered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from client.contribution import summarise_export
from client.site_config import load_site_config
from client.summaries import cohort_membership
from protos.codec import block_layouts
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey

S = spec_pb2.Statistic


@dataclass(frozen=True)
class SitePreview:
    """The blocks this site would send (before masking) and the local filter report."""

    blocks: pd.DataFrame  # one row per block: name, shape, unit, total, nonzero cells
    filter_report: pd.DataFrame  # per turbine: records, one column per filter, used
    filters_by_wind_speed: pd.DataFrame  # per 1 m/s of measured wind speed: records, one column per filter
    cells_filled: pd.DataFrame  # per cohort: wind-speed bins this site has records in
    outside_every_cohort: pd.DataFrame  # turbines the spec has no cohort for, with their wind-speed reference

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "blocks": self.blocks.to_dict(orient="records"),
            "filter_report": self.filter_report.reset_index().to_dict(orient="records"),
            "filters_by_wind_speed": self.filters_by_wind_speed.reset_index().to_dict(orient="records"),
            "cells_filled": self.cells_filled.to_dict(orient="records"),
            "outside_every_cohort": self.outside_every_cohort.to_dict(orient="records"),
        }


def preview_site(site_config: Path, spec: spec_pb2.BenchmarkSpec) -> SitePreview:
    """Compute, but do not send, this site's blocks for ``spec``."""
    site = load_site_config(site_config)
    summary = summarise_export(site, spec)
    blocks = pd.DataFrame(
        [
            {
                "block": layout.name,
                "shape": "x".join(map(str, layout.shape)),
                "unit": layout.unit,
                "total": float(np.sum(summary.values[layout.key])),
                "nonzero_cells": int(np.count_nonzero(summary.values[layout.key])),
            }
            for layout in block_layouts(spec)
        ]
    )
    ws = spec.wind_speed_bins
    cells = []
    for cohort in spec.cohorts:
        filled = np.flatnonzero(summary.values[BlockKey(cohort.name, S.BIN_CONTRIBUTOR)])
        centres = ws.first_centre + ws.width * filled
        cells.append(
            {
                "cohort": cohort.name,
                "bins_filled": len(filled),
                "from_wind_speed": float(centres.min()) if len(filled) else None,
                "to_wind_speed": float(centres.max()) if len(filled) else None,
            }
        )
    membership = cohort_membership(site, spec)
    outside = pd.DataFrame(
        [
            {"asset_id": t.asset_id, "wind_speed_reference": spec_pb2.WindSpeedReference.Name(t.wind_speed_reference)}
            for t, member in zip(site.turbines, membership.any(axis=1), strict=True)
            if not member
        ],
        columns=["asset_id", "wind_speed_reference"],
    )
    return SitePreview(blocks, summary.filter_report, summary.filters_by_wind_speed, pd.DataFrame(cells), outside)
