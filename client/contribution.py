"""What one site sends for a benchmark round, and the refusal that hides why it refused."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from client.ingest import read_canonical_chunks
from client.maintenance import site_indicators
from client.privacy import add_site_noise, charge_private_spec
from client.site_config import SiteConfig, load_site_config
from client.summaries import SiteSummary, summarise_site, summary_channels
from client.validate import validate_site
from common.release_json import export_json
from protos.codec import block_layouts, encode_blocks
from protos.fleetbench.v1 import release_pb2, spec_pb2

LOG = logging.getLogger("fleetbench.site")


def summarise_export(site: SiteConfig, spec: spec_pb2.BenchmarkSpec) -> SiteSummary:
    """Round 1 over the site's export, reading only the columns of the channels the spec needs."""
    narrowed = site.with_channels(summary_channels(spec))
    return summarise_site(lambda: read_canonical_chunks(narrowed), site, spec)


class SiteValidationError(ValueError):
    """The site's mapping or data failed validation; nothing is computed or sent."""


class ContributionRefused(RuntimeError):
    """The site did not contribute.

    The reason is in the site's own log, never in this message, because Flower forwards
    exception text to the aggregator.
    """

    def __init__(self) -> None:
        super().__init__("the site refused to contribute; the reason is in the site's own log")


def site_contribution(
    site_config: Path, spec: spec_pb2.BenchmarkSpec, baseline: bytes | None = None
) -> list[np.ndarray]:
    """The encoded blocks this site sends for ``spec`` (limb arrays, see protos.codec).

    A round-2 spec (``spec.indicators`` set) needs ``baseline``, the serialised round-1 release,
    whose SHA-256 the spec names. A private spec (``spec.privacy`` set) is charged to the site's
    privacy ledger, within its policy's budget, before its noise is added and anything leaves.
    """
    report = validate_site(site_config)
    if not report.usable:
        errors = [
            f"{f.file} {f.column} {f.turbine}: {f.problem} ({f.fix})" for f in report.findings if f.severity == "error"
        ]
        raise SiteValidationError("site validation failed:\n  - " + "\n  - ".join(errors))
    site = load_site_config(site_config)
    if spec.HasField("indicators"):
        if baseline is None or hashlib.sha256(baseline).hexdigest() != spec.indicators.baseline_release_sha256:
            raise ValueError("round-2 spec without the round-1 release it names (SHA-256 mismatch)")
        release = release_pb2.Release.FromString(baseline)
        values = site_indicators(lambda: read_canonical_chunks(site), site, spec, release).values
    else:
        values = summarise_export(site, spec).values
    if charge_private_spec(site_config, site.policy, spec) is not None:
        values = add_site_noise(values, spec)
    return encode_blocks(block_layouts(spec), values)


def guarded_site_contribution(site_config: Path, spec_bytes: bytes, baseline: bytes | None = None) -> list[np.ndarray]:
    """:func:`site_contribution`, logging any failure locally and raising ContributionRefused."""
    try:
        spec = spec_pb2.BenchmarkSpec.FromString(spec_bytes)
        arrays = site_contribution(site_config, spec, baseline)
    except Exception:
        LOG.exception("site %s: contribution refused", site_config)
        raise ContributionRefused() from None
    LOG.info("site %s: contributing %d blocks to spec %s", site_config, len(arrays), spec.spec_id)
    return arrays


def received_releases_dir(site_config: Path) -> Path:
    """Where a site keeps the releases it received: ``releases/`` beside its site.toml."""
    return Path(site_config).parent / "releases"


def keep_received_release(site_config: Path, release_bytes: bytes) -> Path:
    """Store a final release the aggregator sent, as JSON, atomically; return its path."""
    release = release_pb2.Release.FromString(release_bytes)
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in release.spec_id)
    path = received_releases_dir(site_config) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    export_json(release, path)
    LOG.info("site %s: received release %s -> %s", site_config, release.spec_id, path)
    return path
