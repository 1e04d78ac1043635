"""Turn a secure sum into a release, stored in place of its run's claim and exported."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from common.release_json import export_json
from protos.census import Decision, census_message, census_totals, decide
from protos.codec import block_layouts, decode_limb_sums, limb_sums_from_weighted_mean, spec_sha256
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import BlockKey
from server.baselines import block_values, indicator_baselines, model_fits
from server.finalize import build_release, cohort_statistics_from_totals
from server.plausibility import without_impossible_cells
from server.secure_sum import SecureSumOutcome
from server.solar import build_solar_release, distributions_below_their_noise, implausible_irradiance_bins
from server.store import read_release, store_claimed_release

LOG = logging.getLogger("fleetbench.aggregator")


def decoded_totals(spec: spec_pb2.BenchmarkSpec, outcome: SecureSumOutcome) -> dict[BlockKey, np.ndarray]:
    """The exact fixed-point totals of every block of ``spec`` that ``outcome`` summed."""
    return decode_limb_sums(block_layouts(spec), limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites))


def census_from_secure_sum(census: spec_pb2.BenchmarkSpec, outcome: SecureSumOutcome) -> spec_pb2.Census:
    """The census every site of the values round receives, from the census round's sum."""
    return census_message(census, decoded_totals(census, outcome), outcome.n_sites, outcome.census_commitments)


def _checked_decision(spec: spec_pb2.BenchmarkSpec, outcome: SecureSumOutcome, census: spec_pb2.Census) -> Decision:
    """The census's decision for ``spec``, once the values round is known to sum exactly the census's sites.

    Raises
    ------
    ValueError
        If the values round summed another number of sites than the census (its cells were
        decided for other operators), or too few for a private spec's noise.
    """
    if outcome.n_sites != census.participants:
        raise ValueError(
            f"the values round of spec {spec.spec_id} summed {outcome.n_sites} sites, its census "
            f"{census.participants}: nothing is published"
        )
    if spec.HasField("privacy") and outcome.n_sites < spec.privacy.min_noise_sites:
        raise ValueError(
            f"{outcome.n_sites} sites took part; spec {spec.spec_id}'s noise needs at least "
            f"{spec.privacy.min_noise_sites} (privacy.min_noise_sites): nothing is published"
        )
    return decide(spec, census_totals(census, spec))


def release_from_secure_sum(
    spec: spec_pb2.BenchmarkSpec, outcome: SecureSumOutcome, census: spec_pb2.Census, flower_run_id: str
) -> release_pb2.Release:
    """Decode the summed limbs and finalise the industry curves and normal-behaviour models (round 1).

    Raises
    ------
    ValueError
        If the values round's sites are not the census's, or too few for a private spec's noise.
    """
    decision = _checked_decision(spec, outcome, census)
    totals = decoded_totals(spec, outcome)
    decision = without_impossible_cells(spec, totals, census_totals(census, spec), decision)
    statistics = cohort_statistics_from_totals(spec, totals)
    release = build_release(
        spec, statistics, decision, participants=outcome.n_sites, flower_run_id=flower_run_id, method="secagg+"
    )
    release.models.extend(model_fits(spec, block_values(spec, totals), decision))
    release.training_period.CopyFrom(spec.training_period)
    return release


def solar_release_from_secure_sum(
    spec: spec_pb2.BenchmarkSpec, outcome: SecureSumOutcome, census: spec_pb2.Census, flower_run_id: str
) -> release_pb2.Release:
    """Decode the summed limbs and finalise a solar release (curves, distributions, lost production).

    Raises
    ------
    ValueError
        If the values round's sites are not the census's.
    """
    decision = _checked_decision(spec, outcome, census)
    totals = decoded_totals(spec, outcome)
    counted = census_totals(census, spec)
    decision = implausible_irradiance_bins(spec, totals, counted, decision)
    decision = distributions_below_their_noise(spec, counted, decision, outcome.n_sites)
    return build_solar_release(
        spec,
        totals,
        block_values(spec, totals),
        decision,
        participants=outcome.n_sites,
        flower_run_id=flower_run_id,
        method="secagg+",
    )


def complete_release(
    round_one: release_pb2.Release, spec: spec_pb2.BenchmarkSpec, outcome: SecureSumOutcome, census: spec_pb2.Census
) -> release_pb2.Release:
    """The final release: ``round_one`` with round 2's industry baselines (``spec`` is the round-2 spec)."""
    decision = _checked_decision(spec, outcome, census)
    release = release_pb2.Release()
    release.CopyFrom(round_one)
    suppressed = indicator_baselines(spec, block_values(spec, decoded_totals(spec, outcome)), release, decision)
    release.provenance.suppressed_cells += suppressed
    release.provenance.indicator_spec_sha256 = spec_sha256(spec)
    release.provenance.indicator_participants = outcome.n_sites
    release.indicator_spec.CopyFrom(spec)
    return release


def store_release(release: release_pb2.Release, store: Path) -> int:
    """Write the release in place of its run's claim, in one transaction, before any site receives it; return its id.

    Raises
    ------
    server.store.ReleaseClaimedError
        If the run no longer holds the claim (the operator abandoned it): nothing is stored.
    server.store.StoreError
        If the store cannot be written (a full or read-only disk): nothing is stored.
    """
    release_id = store_claimed_release(store, release)
    LOG.info(
        "release %d written to %s: %d participants, %d suppressed cells",
        release_id,
        store,
        release.provenance.participants,
        release.provenance.suppressed_cells,
    )
    return release_id


def stored_release(store: Path, release_id: int, json_path: Path | None = None) -> release_pb2.Release:
    """Release ``release_id`` as stored (what every site is sent) and, if asked, as JSON (atomic replace)."""
    release = read_release(store, release_id)
    if json_path is not None:
        export_json(release, json_path)
    return release
