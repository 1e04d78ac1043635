"""What one site sends for a benchmark round, and the refusal that hides why it refused."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from client.summaries import summarise_site
from client.validate import validate_site
from protos.codec import block_layouts, encode_blocks
from protos.fleetbench.v1 import spec_pb2

LOG = logging.getLogger("fleetbench.site")


class SiteValidationError(ValueError):
    """The site's mapping or data failed validation; nothing is computed or sent."""


class ContributionRefused(RuntimeError):
    """The site did not contribute.

    The reason is in the site's own log, never in this message, because Flower forwards
    exception text to the aggregator.
    """

    def __init__(self) -> None:
        super().__init__("the site refused to contribute; the reason is in the site's own log")


def site_contribution(site_config: Path, spec: spec_pb2.BenchmarkSpec) -> list[np.ndarray]:
    """The encoded blocks this site sends for ``spec`` (limb arrays, see protos.codec)."""
    report = validate_site(site_config)
    if not report.usable:
        errors = [
            f"{f.file} {f.column} {f.turbine}: {f.problem} ({f.fix})" for f in report.findings if f.severity == "error"
        ]
        raise SiteValidationError("site validation failed:\n  - " + "\n  - ".join(errors))
    site = load_site_config(site_config)
    summary = summarise_site(lambda: read_canonical_chunks(site), site, spec)
    return encode_blocks(block_layouts(spec), summary.values)


def guarded_site_contribution(site_config: Path, spec_bytes: bytes) -> list[np.ndarray]:
    """:func:`site_contribution`, logging any failure locally and raising ContributionRefused."""
    try:
        spec = spec_pb2.BenchmarkSpec.FromString(spec_bytes)
        arrays = site_contribution(site_config, spec)
    except Exception:
        LOG.exception("site %s: contribution refused", site_config)
        raise ContributionRefused() from None
    LOG.info("site %s: contributing %d blocks to spec %s", site_config, len(arrays), spec.spec_id)
    return arrays
