"""What would leave the site for a spec: every block with its shape and totals, and what was filtered."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from client.contribution import summarise_export
from client.policy import PolicyViolation
from client.privacy import private_spec_cost
from client.site_config import SiteConfig, load_site_config
from client.solar.site_config import SolarSiteConfig
from client.summaries import cohort_membership
from common.progress import Progress, silent
from protos.codec import block_layouts
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import (
    capped_curve,
    distribution_units_needed,
    failure_inverters_needed,
    min_private_participants,
    min_publishable_weight,
    noised_distributions,
    private_failure_rates,
    summed_noise_stddev,
)
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
    private_cohorts: pd.DataFrame  # a private spec: per cohort, the weight a bin needs and what this site brings
    private_charge: str  # a private spec: what it would cost the site's budget, or why the site would decline

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "blocks": self.blocks.to_dict(orient="records"),
            "filter_report": self.filter_report.reset_index().to_dict(orient="records"),
            "filters_by_wind_speed": self.filters_by_wind_speed.reset_index().to_dict(orient="records"),
            "cells_filled": self.cells_filled.to_dict(orient="records"),
            "outside_every_cohort": self.outside_every_cohort.to_dict(orient="records"),
            "private_cohorts": self.private_cohorts.to_dict(orient="records"),
            "private_charge": self.private_charge,
        }


def preview_site(site_config: Path, spec: spec_pb2.BenchmarkSpec, progress: Progress = silent) -> SitePreview:
    """Compute, but do not send, this site's blocks for ``spec``; ``progress`` hears how far the export is read."""
    site = load_site_config(site_config)
    summary = summarise_export(site, spec, progress)
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
        contributor = BlockKey(cohort.name, S.BIN_CONTRIBUTOR)
        if contributor in summary.values:
            filled = np.flatnonzero(summary.values[contributor])
        else:  # a private spec sends the capped histogram only
            filled = np.flatnonzero(summary.values[BlockKey(cohort.name, S.CAPPED_POWER_HISTOGRAM)].sum(axis=1))
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
    private_cohorts, charge = private_outlook(site_config, site, spec, summary.values)
    return SitePreview(
        blocks,
        summary.filter_report,
        summary.filters_by_wind_speed,
        pd.DataFrame(cells),
        outside,
        private_cohorts,
        charge,
    )


def private_outlook(
    site_config: Path,
    site: SiteConfig | SolarSiteConfig,
    spec: spec_pb2.BenchmarkSpec,
    values: Mapping[BlockKey, np.ndarray],
) -> tuple[pd.DataFrame, str]:
    """For a private spec: per cohort, what a bin must weigh to be published and what this site brings; the charge.

    The weight is :func:`protos.privacy.min_publishable_weight` for the noise of the fewest sites
    that may take part (:func:`protos.privacy.min_private_participants`, or the site's
    min_participants if more): with more sites the noise, and the weight needed, grows. In the
    round the site declines, before anything is charged, when the census shows no bin of any
    cohort with that weight. A solar spec that noises the plants' distributions also says how
    many plants (a site each) a cohort's distribution needs at that noise before the aggregator
    publishes it, and one that noises failures the inverters its failure rates need.
    """
    columns = ["cohort", "weight_needed_per_bin", "largest_bin_weight_here", "sites_like_this_needed"]
    if not spec.HasField("privacy"):
        return pd.DataFrame(columns=columns), ""
    fewest = min_private_participants(spec.privacy.min_noise_sites, site.policy.max_colluding_members)
    participants = max(fewest, site.policy.min_participants)
    capped = capped_curve(spec).statistic
    noised, failures = noised_distributions(spec), private_failure_rates(spec)
    rows = []
    for cohort in spec.cohorts:
        needed = min_publishable_weight(summed_noise_stddev(spec, cohort.name, participants))
        own = float(values[BlockKey(cohort.name, capped)].sum(axis=1).max(initial=0.0))
        row = [cohort.name, needed, own, math.ceil(needed / own) if own > 0 else None]
        if noised:  # one noise for every distribution of a cohort
            row.append(distribution_units_needed(spec, cohort.name, participants, next(iter(noised.values()))))
        if failures:
            row.append(failure_inverters_needed(spec, cohort.name, participants))
        rows.append(row)
    columns += ["plants_needed_per_distribution"] if noised else []
    columns += ["inverters_needed_for_failure_rates"] if failures else []
    try:
        entry = private_spec_cost(site_config, site.policy, spec)
    except PolicyViolation as refusal:
        return pd.DataFrame(rows, columns=columns), f"the site would decline this spec: {refusal}"
    charge = (
        f"would charge epsilon {entry.epsilon:.3f} at delta {entry.delta:g} per {entry.privacy_unit} to the site's "
        "ledger, and only if the census shows a cohort bin with the weight needed (else the site declines, uncharged)"
        if entry is not None
        else ""
    )
    return pd.DataFrame(rows, columns=columns), charge
