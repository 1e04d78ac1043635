"""What would leave a solar site for a solar spec: every block with its shape and totals, and the plant's cells."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from client.preview import private_outlook
from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import plant_cells, plant_values, solar_blocks, summarise_plant
from common.progress import Progress, silent
from protos.codec import block_layouts
from protos.disclosure import plant_in_cohort
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import SOLAR_CELLS


@dataclass(frozen=True)
class SolarPreview:
    """The blocks this plant would send (before masking), the cohorts it is in, and the figures it sends binned."""

    blocks: pd.DataFrame  # one row per block: name, shape, unit, total, nonzero cells
    cohorts: pd.DataFrame  # per cohort of the spec: whether the plant is in it
    cells: pd.DataFrame  # per solar cell: the census's count (plants or inverters) and the plant's figure
    private_cohorts: pd.DataFrame  # a private spec: per cohort, the weight a bin needs and what this plant brings
    private_charge: str  # a private spec: what it would cost the site's budget, or why the site would decline

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "blocks": self.blocks.to_dict(orient="records"),
            "cohorts": self.cohorts.to_dict(orient="records"),
            "cells": self.cells.astype(object).where(self.cells.notna(), None).to_dict(orient="records"),
            "private_cohorts": self.private_cohorts.to_dict(orient="records"),
            "private_charge": self.private_charge,
        }


def preview_solar_site(site_config: Path, spec: spec_pb2.BenchmarkSpec, progress: Progress = silent) -> SolarPreview:
    """Compute, but do not send, this plant's blocks for ``spec``; ``progress`` hears how far the export is read."""
    site = load_solar_site_config(site_config)
    summary = summarise_plant(lambda: read_solar_chunks(site, progress=progress), site, spec)
    values, _ = solar_blocks(summary, site, spec)
    blocks = pd.DataFrame(
        [
            {
                "block": layout.name,
                "shape": "x".join(map(str, layout.shape)),
                "unit": layout.unit,
                "total": float(np.sum(values[layout.key])),
                "nonzero_cells": int(np.count_nonzero(values[layout.key])),
            }
            for layout in block_layouts(spec)
        ]
    )
    plant = site.plant
    cohorts = pd.DataFrame(
        [
            {
                "cohort": cohort.name,
                "member": plant_in_cohort(
                    cohort, plant.module_technology, plant.mounting, plant.climate_zone, site.dc_ac_ratio
                ),
            }
            for cohort in spec.cohorts
        ]
    )
    counts, figures = plant_cells(summary), plant_values(summary)
    cells = pd.DataFrame(
        [{"cell": cell, "census_count": counts[cell], "figure_binned": figures.get(cell)} for cell in SOLAR_CELLS]
    )
    return SolarPreview(blocks, cohorts, cells, *private_outlook(site_config, site, spec, values))
