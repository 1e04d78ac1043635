"""Distributed differential privacy on site: the record cap, the noise, and the operator's own ledger.

A private spec (``spec.privacy``) asks every site to bound each turbine's weight per wind-speed bin
(a solar spec: each inverter's per irradiance bin, :func:`cap_unit_histograms`) and to add
discrete Gaussian noise to the noised blocks before they are masked (:func:`add_site_noise`). The
noise comes from OpenDP's exact discrete Gaussian sampler, which draws from the operating
system's cryptographically secure generator: no seed exists to leak or reuse. What a release
costs is recomputed here from the spec (:func:`protos.privacy.spec_rho`), checked against the
site's yearly budget and written to the site's ledger, ``privacy-ledger.jsonl`` beside site.toml,
before anything is sent.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import opendp.prelude as dp

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a site runs one SuperNode, so charges do not race.
    fcntl = None  # type: ignore[assignment]

from client.policy import PolicyViolation, SitePolicy
from protos.codec import spec_sha256
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import PRIVACY_UNITS, composed_epsilon, spec_rho
from protos.statistics import BlockKey, site_noise_stddev

LEDGER_NAME = "privacy-ledger.jsonl"
BUDGET_WINDOW = timedelta(days=365)
# |value| * 2^e must stay an exact float64 integer once noise is added.
_EXACT_FLOAT_INTEGER = 2.0**53


def cap_unit_histograms(
    histograms: np.ndarray, max_records_per_turbine_per_bin: int, scale_exponent: int
) -> np.ndarray:
    """Each privacy unit's histogram with its records in every row weighing at most the cap, on the block's grid.

    A unit is a turbine (rows: wind-speed bins), an inverter (rows: irradiance bins; or one row, its
    failures by component). A row holding n > c records is scaled by c / n, so the unit keeps the shape
    of its own distribution in that bin while its weight is bounded (the sensitivity the noise is
    calibrated for, :func:`protos.privacy.capped_histogram_l2_sensitivity`), and each cell's weight
    is rounded down to a multiple of 2^-e, the fixed point its block is sent in (exactly, in integers:
    floor(k c 2^e / n) 2^-e): a site's sum of its units' rows then encodes exactly, so one unit more or
    fewer moves it by at most c per row, where rounding the sum instead could move it by 2^-(e+1) more
    per cell.

    Parameters
    ----------
    histograms : ndarray
        Records per (unit, row bin, power bin) [records], whole numbers.
    max_records_per_turbine_per_bin : int
        The cap c [records].
    scale_exponent : int
        e, the block's fixed-point exponent (protos/statistics.py).

    Returns
    -------
    ndarray
        Same shape, weights [record weight], multiples of 2^-e; every (unit, row bin) row sums to at most
        min(n, c), and to n where n <= c.
    """
    counts = np.rint(histograms).astype(np.int64)
    records = counts.sum(axis=-1, keepdims=True)
    grid = 1 << scale_exponent
    cap = max_records_per_turbine_per_bin
    if int(counts.max(initial=0)) * max(cap, 1) * grid >= 1 << 63:  # int64 would wrap: Python's integers do not
        counts, records = counts.astype(object), records.astype(object)
    capped = np.where(records > cap, counts * (cap * grid) // np.maximum(records, 1), counts * grid)
    return np.ldexp(capped.astype(np.float64), -scale_exponent)


def discrete_gaussian_noise(size: int, stddev: float) -> np.ndarray:
    """``size`` independent draws of the discrete Gaussian N_Z(0, stddev^2) (OpenDP, exact sampler) [-]."""
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    # OpenDP lists its exact sampler under "contrib" (not yet vetted by its own review); enabled here, when a
    # site draws noise, rather than as a side effect of importing this module.
    dp.enable_features("contrib")
    measurement = dp.m.make_gaussian(dp.vector_domain(dp.atom_domain(T="i64")), dp.l2_distance(T="i64"), scale=stddev)
    return np.asarray(measurement([0] * size), dtype=np.int64)


def add_site_noise(values: Mapping[BlockKey, np.ndarray], spec: spec_pb2.BenchmarkSpec) -> dict[BlockKey, np.ndarray]:
    """The site's block values with its share of the spec's noise added to every noised block.

    The noise is an integer in the block's fixed-point units (2^-scale_exponent of its unit), so
    the sum over sites of the encoded integers carries exactly the sum of the sites' draws.

    Raises
    ------
    ValueError
        If a noised value would lose integer exactness in float64.
    """
    noisy = dict(values)
    for block in spec.blocks:
        if block.noise_stddev <= 0:
            continue
        key = BlockKey.of(block)
        scale = math.ldexp(1.0, block.scale_exponent)
        stddev = site_noise_stddev(block.noise_stddev * scale, spec.privacy.min_noise_sites)
        value = np.asarray(values[key], dtype=np.float64)
        noise = discrete_gaussian_noise(value.size, stddev).reshape(value.shape)
        result = np.rint(value * scale) + noise
        if np.any(np.abs(result) >= _EXACT_FLOAT_INTEGER):
            raise ValueError(f"block {key}: noised fixed-point values exceed 2^53; lower its scale_exponent")
        noisy[key] = np.ldexp(result, -block.scale_exponent)
    return noisy


@dataclass(frozen=True)
class LedgerEntry:
    """One private contribution: what it cost this site's privacy units."""

    time_utc: str
    spec_id: str
    spec_sha256: str
    period_start: str
    period_end: str
    privacy_unit: str
    rho: float
    epsilon: float  # of this release alone, at the delta of the site's policy
    delta: float


def ledger_path(site_config: Path) -> Path:
    """The site's privacy ledger: ``privacy-ledger.jsonl`` beside site.toml."""
    return Path(site_config).parent / LEDGER_NAME


def read_ledger(path: Path) -> list[LedgerEntry]:
    """Every entry of the ledger at ``path`` (none when it does not exist yet).

    Raises
    ------
    PolicyViolation
        If a line is not a ledger entry: the site cannot know what it spent, so it must not spend more.
    """
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entries.append(LedgerEntry(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as error:
            raise PolicyViolation(
                f"{path} line {number} is not a ledger entry ({error}); restore the ledger from backup "
                "(private contributions are refused until it reads)"
            ) from None
    return entries


def append_ledger_entry(path: Path, entry: LedgerEntry) -> None:
    """Append ``entry`` and force it to disk before the contribution that it records is sent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(entry), sort_keys=True) + "\n")
        out.flush()
        os.fsync(out.fileno())


def rhos_in_window(entries: Sequence[LedgerEntry], now: datetime) -> list[float]:
    """The rho of every entry in the budget window, the 365 days up to ``now``."""
    since = now - BUDGET_WINDOW
    return [e.rho for e in entries if datetime.fromisoformat(e.time_utc) > since]


def private_spec_cost(
    site_config: Path, policy: SitePolicy, spec: spec_pb2.BenchmarkSpec, now: datetime | None = None
) -> LedgerEntry | None:
    """What ``spec`` would cost this site, checked against its policy and budget; nothing is written.

    Returns the ledger entry a charge would append, or None for a spec without privacy (which
    costs nothing and is refused when the policy requires privacy).

    Raises
    ------
    PolicyViolation
        If the policy requires privacy and the spec has none, the spec's privacy claim does not
        hold, or the release would take the site past its yearly epsilon.
    """
    now = now or datetime.now(UTC)
    try:
        rho = spec_rho(spec)
    except ValueError as error:
        raise PolicyViolation(f"spec {spec.spec_id}: {error}") from None
    if not spec.HasField("privacy") or spec.census_of_sha256:
        if policy.require_differential_privacy and not spec.HasField("privacy"):
            raise PolicyViolation(f"spec {spec.spec_id} adds no noise; policy require_differential_privacy is true")
        return None  # a census costs no budget: it is never published (its suppression pattern is, see docs)
    spent = rhos_in_window(read_ledger(ledger_path(site_config)), now)
    after = composed_epsilon([*spent, rho], policy.privacy_delta)
    if after > policy.privacy_epsilon_per_year:
        raise PolicyViolation(
            f"spec {spec.spec_id} would take the site to epsilon {after:.3f} over the last 365 days "
            f"(delta {policy.privacy_delta:g}); policy privacy_epsilon_per_year is {policy.privacy_epsilon_per_year:g}"
        )
    return LedgerEntry(
        time_utc=now.isoformat(timespec="seconds"),
        spec_id=spec.spec_id,
        spec_sha256=spec_sha256(spec),
        period_start=spec.period.start,
        period_end=spec.period.end,
        privacy_unit=spec.privacy.privacy_unit,
        rho=rho,
        epsilon=composed_epsilon([rho], policy.privacy_delta),
        delta=policy.privacy_delta,
    )


def charge_private_spec(
    site_config: Path, policy: SitePolicy, spec: spec_pb2.BenchmarkSpec, now: datetime | None = None
) -> LedgerEntry | None:
    """Check a spec against the site's policy and budget, and record its cost in the ledger when private.

    The ledger is read, checked and appended to under an exclusive lock, so two private
    contributions at once cannot both pass a budget that covers one.

    Raises
    ------
    PolicyViolation
        As :func:`private_spec_cost`.
    """
    if private_spec_cost(site_config, policy, spec, now) is None:
        return None
    path = ledger_path(site_config)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as lock:
        if fcntl is not None:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes
        entry = private_spec_cost(site_config, policy, spec, now)  # again, now that no one else can charge
        if entry is not None:
            append_ledger_entry(path, entry)
    return entry


def within_budget_from(entries: Sequence[LedgerEntry], policy: SitePolicy, now: datetime) -> datetime | None:
    """When the charges in the budget window, as they leave it, compose to the budget again (None: they already do).

    A ledger can hold more than the budget allows: charged by a FleetBench whose ledger took no
    lock, before the policy's budget was lowered, or edited by hand. Until the oldest charges leave
    the 365-day window every private contribution is refused.
    """
    since = now - BUDGET_WINDOW
    window = sorted((e for e in entries if datetime.fromisoformat(e.time_utc) > since), key=lambda e: e.time_utc)
    for dropped in range(len(window)):
        if composed_epsilon([e.rho for e in window[dropped:]], policy.privacy_delta) <= policy.privacy_epsilon_per_year:
            # Once the charges before this one have left the window.
            return datetime.fromisoformat(window[dropped - 1].time_utc) + BUDGET_WINDOW if dropped else None
    # Even the latest charge alone is past the budget: it has to leave the window too.
    return datetime.fromisoformat(window[-1].time_utc) + BUDGET_WINDOW if window else None


def privacy_status(site_config: Path, policy: SitePolicy, now: datetime | None = None, kind: str = "wind") -> dict:
    """What the site has spent in the budget window and what is left, as plain data.

    ``kind`` is the site's (``"wind"``, ``"solar"``): its privacy unit is a turbine or an inverter.

    ``overspent_epsilon`` is how far the window's charges compose past the budget (0 when they do
    not), and ``within_budget_from`` when they no longer will (None when not overspent).
    """
    now = now or datetime.now(UTC)
    entries = read_ledger(ledger_path(site_config))
    window = rhos_in_window(entries, now)
    spent = composed_epsilon(window, policy.privacy_delta) if window else 0.0
    overspent = max(0.0, spent - policy.privacy_epsilon_per_year)
    back = within_budget_from(entries, policy, now)
    return {
        "ledger": str(ledger_path(site_config)),
        "privacy_unit": PRIVACY_UNITS[kind],
        "delta": policy.privacy_delta,
        "budget_epsilon_per_year": policy.privacy_epsilon_per_year,
        "spent_epsilon_last_365_days": spent,
        "left_epsilon": max(0.0, policy.privacy_epsilon_per_year - spent),
        "overspent_epsilon": overspent,
        "within_budget_from": back.isoformat(timespec="seconds") if back else None,
        "releases_last_365_days": len(window),
        "entries": [asdict(e) for e in entries],
    }
