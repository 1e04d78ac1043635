"""What one site sends for a benchmark round, and the refusal that hides why it refused."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from secrets import randbelow
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from client.audit import (
    AuditLogError,
    audit_entries,
    record_contribution,
    record_inconsistent_release,
    record_release,
)
from client.ingest import read_canonical_chunks
from client.maintenance import site_indicators
from client.policy import ContributionRefused, PolicyViolation, SitePolicy
from client.privacy import add_site_noise, charge_private_spec, private_spec_cost
from client.release_check import census_contradictions, keep_census, kept_census
from client.site_config import SiteConfig, SiteConfigError
from client.site_kinds import load_any_site_config, validate_any_site
from client.solar.site_config import SolarSiteConfig
from client.summaries import SiteSummary, summarise_site, summary_channels
from client.validate import Finding
from common.progress import Progress, silent
from common.release_json import export_json, read_release_json
from protos import commitment
from protos.census import (
    COMMITMENT_RANDOMNESS,
    census_totals,
    committed_census,
    decide,
    fixed_point_integers,
    is_round_two,
    is_solar,
    values_spec_of,
    withhold_failing_cells,
)
from protos.codec import BlockLayout, block_layouts, clip_to_bounds, encode_blocks, spec_sha256
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.privacy import min_publishable_weight, summed_noise_stddev
from protos.roster import RosterError
from protos.statistics import BlockKey, CensusFields, noise_headroom

if TYPE_CHECKING:
    from client.solar.summaries import PlantSummary

S = spec_pb2.Statistic

LOG = logging.getLogger("fleetbench.site")


def summarise_export(site: SiteConfig, spec: spec_pb2.BenchmarkSpec, progress: Progress = silent) -> SiteSummary:
    """Round 1 over the site's export, reading only the columns of the channels the spec needs.

    ``progress`` hears how far into each file the reading is (:func:`client.ingest.raw_chunks`).
    """
    narrowed = site.with_channels(summary_channels(spec))
    return summarise_site(lambda: read_canonical_chunks(narrowed, progress=progress), site, spec)


class SiteValidationError(ValueError):
    """The site's mapping or data failed validation; nothing is computed or sent."""


def leaving_reason(error: Exception) -> str:
    """What the site's own log says when it leaves a round: the real reason, named by its kind.

    A refusal by the site's rules is not a failure of its files: an operator whose export was
    deleted must not read "refused by site policy". Only the site's log says this; the aggregator
    hears :class:`ContributionRefused`, which names nothing.
    """
    if isinstance(error, PolicyViolation | RosterError):  # a roster that is not the one pinned is refused as policy
        return f"round refused by site policy: {error}"
    if isinstance(error, SiteValidationError):
        return f"cannot take part: the export fails validation ({error})"
    if isinstance(error, SiteConfigError):
        return f"cannot take part: site.toml or a file it names cannot be used: {error}"
    if isinstance(error, AuditLogError):
        return f"cannot take part: the audit log cannot be extended: {error}"
    if isinstance(error, OSError):
        return f"cannot take part: a file cannot be read or written: {error}"
    return f"round failed on this site ({type(error).__name__}): {error}"


@dataclass(frozen=True)
class SiteBlocks:
    """What a site computes for a release's spec: the values of its blocks and of its census's blocks."""

    values: dict[BlockKey, np.ndarray]
    census: dict[BlockKey, np.ndarray]


def site_blocks(site: SiteConfig | SolarSiteConfig, spec: spec_pb2.BenchmarkSpec, baseline: bytes | None) -> SiteBlocks:
    """Every block of values spec ``spec`` and of its census, from the site's export.

    A round-2 spec (``spec.indicators`` set) needs ``baseline``, the serialised round-1 release,
    whose SHA-256 the spec names. A solar spec is answered by a solar site only, and a wind spec
    by a wind site.

    Raises
    ------
    ValueError
        If the spec asks for another kind of site than this one.
    """
    if isinstance(site, SolarSiteConfig) != is_solar(spec):
        kind = "solar" if isinstance(site, SolarSiteConfig) else "wind"
        raise ValueError(f"spec {spec.spec_id} is not for a {kind} site like {site.path}: nothing is computed")
    if isinstance(site, SolarSiteConfig):
        # Imported here: pvlib takes ~2 s to import, which a wind site's every process would pay.
        from client.solar.summaries import solar_blocks

        values, census = solar_blocks(_plant_summary(site, spec), site, spec)
        return SiteBlocks(values, census)
    if is_round_two(spec):
        if baseline is None or hashlib.sha256(baseline).hexdigest() != spec.indicators.baseline_release_sha256:
            raise ValueError("round-2 spec without the round-1 release it names (SHA-256 mismatch)")
        release = release_pb2.Release.FromString(baseline)
        indicators = site_indicators(lambda: read_canonical_chunks(site), site, spec, release)
        return SiteBlocks(indicators.values, indicators.census)
    summary = summarise_export(site, spec)
    return SiteBlocks(summary.values, summary.census)


# (the summary key of the spec, site.toml and each export file: path, size, modification time) -> the plant's
# summary. A release's census and values rounds read the same export for the same spec
# (client/solar/summaries.py: summary_key); the second pass is skipped while no file changed. A few entries:
# one process serves one site.
_PLANT_SUMMARIES: dict[tuple[object, ...], PlantSummary] = {}


def _plant_summary(site: SolarSiteConfig, spec: spec_pb2.BenchmarkSpec) -> PlantSummary:
    """The plant's summary for ``spec``, computed once per unchanged site.toml and export (see _PLANT_SUMMARIES)."""
    from client.solar.ingest import read_solar_chunks
    from client.solar.summaries import summarise_plant, summary_key

    files = tuple((str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in (site.path, *site.files))
    key = (summary_key(spec), files)
    if key not in _PLANT_SUMMARIES:
        if len(_PLANT_SUMMARIES) >= 4:
            _PLANT_SUMMARIES.pop(next(iter(_PLANT_SUMMARIES)))
        _PLANT_SUMMARIES[key] = summarise_plant(lambda: read_solar_chunks(site), site, spec)
    return _PLANT_SUMMARIES[key]


def check_private_release_usable(
    spec: spec_pb2.BenchmarkSpec, totals: Mapping[BlockKey, np.ndarray], participants: int
) -> None:
    """Decline a private spec, before any budget is spent, when its census says no bin can be published.

    Every site reads the same census, so every site declines alike: whether a site takes part
    never depends on its own data. A bin can be published only if its records reach
    :func:`protos.privacy.min_publishable_weight` for the noise the participants put on each cell.

    Raises
    ------
    PolicyViolation
        If no cohort's bin holds the weight the private curve needs.
    """
    curve = CensusFields(*totals[BlockKey("", S.IRRADIANCE_CENSUS if is_solar(spec) else S.CURVE_CENSUS)])
    atoms = cohort_atoms(spec.cohorts)
    for c, cohort in enumerate(spec.cohorts):
        in_cohort = [a for a, members in enumerate(atoms) if c in members]
        records = curve.total[in_cohort].sum(axis=0)
        if records.max(initial=0.0) >= min_publishable_weight(summed_noise_stddev(spec, cohort.name, participants)):
            return
    raise PolicyViolation(
        f"private spec {spec.spec_id}: the census shows no bin with the weight its noise needs to publish anything; "
        "nothing is charged or sent"
    )


@dataclass(frozen=True)
class PreparedContribution:
    """A round's blocks as this site would send them, before any privacy budget is spent."""

    spec: spec_pb2.BenchmarkSpec
    layouts: list[BlockLayout]
    values: dict[BlockKey, np.ndarray]  # clipped to the bounds, withheld where the census says
    policy: SitePolicy
    release_key: str  # the release the round belongs to: its round-1 spec's SHA-256
    census_commitment: bytes = b""  # a census round's: the commitment to the census vector sent (protos/commitment.py)


class Contribution(NamedTuple):
    """What a site sends for a round: the limb arrays SecAgg+ masks, and a census round's commitment to sign."""

    arrays: list[np.ndarray]
    census_commitment: bytes  # b"" but in a census round


def release_key(spec: spec_pb2.BenchmarkSpec, baseline: bytes | None) -> str:
    """The release a round belongs to, as the site's calendar keys it: the round-1 spec's SHA-256."""
    if is_round_two(spec) and baseline is not None:
        return release_pb2.Release.FromString(baseline).provenance.spec_sha256
    return spec.census_of_sha256 or spec_sha256(spec)


def prepare_contribution(
    site_config: Path,
    spec: spec_pb2.BenchmarkSpec,
    baseline: bytes | None = None,
    census: bytes | None = None,
) -> PreparedContribution:
    """The site's blocks for ``spec``, validated, decided, clipped and once encoded, but not yet noised.

    A census spec (``spec.census_of_sha256`` set) gets the site's census of the values spec it
    decides, with fresh randomness in its last block and the commitment to it (protos/commitment.py),
    which the site's guard signs into its reply. A values spec needs ``census``, the
    serialised :class:`Census` the aggregator summed for it: the site decides from it, as the
    aggregator does, which cells may carry values, and sends zeros for every other
    (:func:`protos.census.withhold_failing_cells`). Every block is clipped to its per-site bound
    (the counts go to the site's log). A private spec is declined when the census says it cannot
    publish anything, and when it would overrun the site's budget. The blocks are encoded once here
    so that nothing fails after a charge.
    """
    report = validate_any_site(site_config)
    errors = [f for f in report.findings if f.severity == "error"]
    left_out = units_left_out(errors, spec)
    if errors and not left_out:
        described = [f"{f.file} {f.column} {f.turbine}: {f.problem} ({f.fix})" for f in errors]
        raise SiteValidationError("site validation failed:\n  - " + "\n  - ".join(described))
    site = load_any_site_config(site_config)
    if left_out:
        LOG.warning(
            "site %s: spec %s is private per unit: units %s fail validation and are left out (fix them for the "
            "next round: fleetbench validate)",
            site_config,
            spec.spec_id,
            sorted(left_out),
        )
        site = site.without_units(left_out)
    layouts = block_layouts(spec)
    # Every unit left out: the site takes part with nothing of its own, as zeros (and its noise share).
    nothing = {layout.key: np.zeros(layout.shape) for layout in layouts} if not site.asset_ids else None
    randomness = None
    if spec.census_of_sha256:
        values = nothing if nothing is not None else site_blocks(site, values_spec_of(spec), baseline).census
        # Fresh and secret (the operating system's generator): r hides the census vector in its commitment.
        randomness = randbelow(commitment.ORDER)
        values = {**values, COMMITMENT_RANDOMNESS: commitment.randomness_limbs(randomness)}
    else:
        if census is None:
            raise ValueError(f"spec {spec.spec_id}: a values round needs the census it is decided by")
        received = spec_pb2.Census.FromString(census)
        totals = census_totals(received, spec)
        if spec.HasField("privacy"):
            check_private_release_usable(spec, totals, received.participants)
            private_spec_cost(site_config, site.policy, spec)
        own = nothing if nothing is not None else site_blocks(site, spec, baseline).values
        values = withhold_failing_cells(own, spec, decide(spec, totals))
    values, clipped = clip_before_noise(spec, layouts, values)
    if any(clipped.values()):
        LOG.warning(
            "site %s: spec %s: values clipped to the spec's per-site bounds in %s",
            site_config,
            spec.spec_id,
            {key.name: n for key, n in clipped.items() if n},
        )
    encode_blocks(layouts, values)
    committed = b""
    if randomness is not None:
        census_vector = committed_census(spec, fixed_point_integers(layouts, values))
        committed = commitment.to_bytes(commitment.commit(census_vector, randomness))
    return PreparedContribution(spec, layouts, values, site.policy, release_key(spec, baseline), committed)


def units_left_out(errors: Sequence[Finding], spec: spec_pb2.BenchmarkSpec) -> frozenset[str]:
    """The units a site leaves out of a private spec's rounds instead of refusing them: those its errors name.

    Under a spec private per unit (turbine, inverter), whether the site takes part must not depend on one
    unit's records: the published participants would then move with that unit by a whole site. So where
    every error names a unit (its unit of power looks wrong, its records come late, none has a time), those
    units are left out, which the per-unit guarantee covers (all of them: the site takes part with zeros); an
    error of the site itself (its site.toml, an unreadable file, a missing column) still refuses. Empty for a
    spec without privacy, which refuses on any error, and where no error names a unit.
    """
    if not spec.HasField("privacy") or not errors or any(not f.turbine for f in errors):
        return frozenset()
    return frozenset(f.turbine for f in errors)


def clip_before_noise(
    spec: spec_pb2.BenchmarkSpec, layouts: list[BlockLayout], values: Mapping[BlockKey, np.ndarray]
) -> tuple[dict[BlockKey, np.ndarray], dict[BlockKey, int]]:
    """The site's block values clipped to their per-site bounds, a noised block's to its bound less its headroom.

    The only clipping a site does: its noise is added after it (:func:`sendable_arrays`) and never cut, so a
    spec whose per-site bound a large site's values exceed cannot make that site's noise one-sided.
    """
    headroom = {BlockKey.of(b): noise_headroom(b, spec.privacy.min_noise_sites) for b in spec.blocks if b.noise_stddev}
    return clip_to_bounds(layouts, values, headroom)


def sendable_arrays(site_config: Path, prepared: PreparedContribution) -> list[np.ndarray]:
    """The limb arrays to send: a private spec's blocks noised and encoded, and only then charged to the ledger.

    The charge is the last step that can fail: a contribution that fails on the way (its noise,
    its encoding) costs the site nothing, and one that is charged is sent. Noise drawn for a
    contribution that is then refused (the budget ran out meanwhile) is discarded, never sent.
    """
    values = prepared.values
    if prepared.spec.HasField("privacy") and not prepared.spec.census_of_sha256:  # a census is never noised
        # Never clipped again: the values sit within their bounds less the noise's headroom (prepare_contribution),
        # which the noise exceeds with probability below 1e-340 (then the encoding refuses, whatever the data).
        values = add_site_noise(prepared.values, prepared.spec)
    arrays = encode_blocks(prepared.layouts, values)
    charge_private_spec(site_config, prepared.policy, prepared.spec)
    return arrays


def contribute(
    site_config: Path,
    spec_bytes: bytes,
    baseline: bytes | None = None,
    census: bytes | None = None,
    participants: int | None = None,
    run_id: int | None = None,
    node_id: int | None = None,
) -> Contribution:
    """Everything a site does for one round, in the order that leaks nothing and spends nothing in vain.

    Prepare the blocks (:func:`prepare_contribution`); record the contribution in the audit log,
    where the site's release calendar may refuse it (:func:`client.audit.check_release_calendar`);
    then add a private spec's noise, encode, and charge it last (:func:`sendable_arrays`). Any
    failure is logged here and raised as :class:`ContributionRefused`, which carries no detail to
    the aggregator.
    """
    try:
        spec = spec_pb2.BenchmarkSpec.FromString(spec_bytes)
        prepared = prepare_contribution(site_config, spec, baseline, census)
        record_contribution(site_config, spec, participants, run_id, node_id, prepared.release_key, census)
        if census is not None:  # to check the release against (client/release_check.py)
            keep_census(site_config, spec, spec_pb2.Census.FromString(census))
        arrays = sendable_arrays(site_config, prepared)
    except Exception as error:
        LOG.exception("site %s: no contribution: %s", site_config, leaving_reason(error))
        raise ContributionRefused() from None
    LOG.info("site %s: contributing %d blocks to spec %s", site_config, len(arrays), spec.spec_id)
    return Contribution(arrays, prepared.census_commitment)


def site_contribution(
    site_config: Path, spec: spec_pb2.BenchmarkSpec, baseline: bytes | None = None, census: bytes | None = None
) -> list[np.ndarray]:
    """The limb arrays the site would send for ``spec``, without recording or charging (previews, tests)."""
    prepared = prepare_contribution(site_config, spec, baseline, census)
    return encode_blocks(prepared.layouts, prepared.values)


def received_releases_dir(site_config: Path) -> Path:
    """Where a site keeps the releases it received: ``releases/`` beside its site.toml."""
    return Path(site_config).parent / "releases"


def keep_received_release(site_config: Path, release_bytes: bytes) -> Path:
    """Store a final release the aggregator sent, as JSON, atomically; return its path.

    Only a release of a spec this site contributed to (its audit log says so) is kept, under that
    spec's name; a different release is never written over one the site already keeps.

    Raises
    ------
    ValueError
        If the site did not contribute to the release's spec, or already keeps another release under its name.
    """
    release = release_pb2.Release.FromString(release_bytes)
    contributed = {
        entry["spec_sha256"]: entry["spec_id"]
        for entry in audit_entries(site_config)
        if entry.get("event") == "contribution" and entry.get("round") == "1"
    }
    if release.provenance.spec_sha256 not in contributed:
        raise ValueError(
            f"a release of spec {release.spec_id!r} ({release.provenance.spec_sha256[:12]}...) this site did not "
            "contribute to: not kept"
        )
    spec_id = contributed[release.provenance.spec_sha256]
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in spec_id)
    path = received_releases_dir(site_config) / f"{name}.json"
    if path.exists() and read_release_json(path).SerializeToString(deterministic=True) != release.SerializeToString(
        deterministic=True
    ):
        raise ValueError(f"{path} already holds another release of spec {spec_id}: not overwritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    export_json(release, path)
    LOG.info("site %s: received release %s -> %s", site_config, release.spec_id, path)
    return path


def receive_release(site_config: Path, release_bytes: bytes) -> None:
    """Keep a final release (:func:`keep_received_release`), record it, and flag what contradicts its censuses.

    A release that contradicts a census the site contributed under (client/release_check.py) is
    kept, and a ``release_inconsistent`` entry in the audit log lists each contradiction. Any
    failure is logged here and raised as :class:`ContributionRefused`, without detail.
    """
    try:
        release = release_pb2.Release.FromString(release_bytes)
        record_release(site_config, release_bytes, keep_received_release(site_config, release_bytes))
        hashes = (release.provenance.spec_sha256, release.provenance.indicator_spec_sha256)
        rounds = [kept for kept in (kept_census(site_config, h) for h in hashes if h) if kept is not None]
        try:
            contradictions = census_contradictions(release, rounds)
        except Exception as error:  # a release the check cannot read is flagged, not waved through
            contradictions = [f"the release could not be checked against its censuses: {type(error).__name__}"]
        if contradictions:
            LOG.warning(
                "site %s: release %s contradicts its censuses: %s", site_config, release.spec_id, contradictions
            )
            record_inconsistent_release(site_config, release_bytes, contradictions)
    except Exception:
        LOG.exception("site %s: release not kept", site_config)
        raise ContributionRefused() from None
