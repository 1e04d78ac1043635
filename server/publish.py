"""Turn a secure sum into a stored, exported release."""

from __future__ import annotations

import logging
from pathlib import Path

from protos.codec import block_layouts, decode_limb_sums, limb_sums_from_weighted_mean
from protos.fleetbench.v1 import release_pb2, spec_pb2
from server.finalize import build_release, cohort_statistics_from_totals
from server.secure_sum import SecureSumOutcome
from server.store import export_json, write_release

LOG = logging.getLogger("fleetbench.aggregator")


def release_from_secure_sum(
    spec: spec_pb2.BenchmarkSpec, outcome: SecureSumOutcome, flower_run_id: str
) -> release_pb2.Release:
    """Decode the summed limbs and finalise the industry curves."""
    layouts = block_layouts(spec)
    totals = decode_limb_sums(layouts, limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites))
    statistics = cohort_statistics_from_totals(spec, totals)
    return build_release(spec, statistics, participants=outcome.n_sites, flower_run_id=flower_run_id, method="secagg+")


def store_release(release: release_pb2.Release, store: Path, json_path: Path | None = None) -> int:
    """Write the release to the store (one transaction) and, if asked, to JSON (atomic replace)."""
    release_id = write_release(store, release)
    if json_path is not None:
        export_json(release, json_path)
    LOG.info(
        "release %d written to %s: %d participants, %d suppressed cells",
        release_id,
        store,
        release.provenance.participants,
        release.provenance.suppressed_cells,
    )
    return release_id
