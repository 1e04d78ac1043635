"""The operator's site policy: what this site agrees to take part in, checked on site.

Site policy is the operator's word, not the aggregator's: a round, a spec or a block that breaks
it is refused before anything is computed or sent.

In site.toml::

    [policy]
    min_participants = 5                  # sites in the round, at least
    min_reconstruction_threshold = 3      # SecAgg+ shares needed to unmask, at least
    min_k_operators = 5                   # spec's k_min_operators, at least
    allowed_statistics = ["RECORD_COUNT", "SUM_WIND_SPEED", "SUM_POWER", "SUM_POWER_SQUARED",
                          "NORMALISED_POWER_HISTOGRAM", "BIN_CONTRIBUTOR", "COHORT_CONTRIBUTOR"]
    require_differential_privacy = true   # refuse specs that add no noise
    privacy_epsilon_per_year = 4.0        # differential privacy budget per turbine, last 365 days
    privacy_delta = 1e-6                  # the delta at which that epsilon is counted
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from protos.fleetbench.v1 import spec_pb2

STATISTICS = tuple(name for name in spec_pb2.Statistic.keys() if name != "STATISTIC_UNSPECIFIED")  # noqa: SIM118


class PolicyViolation(ValueError):
    """A round or spec the site's policy does not allow; the message says which rule."""


@dataclass(frozen=True)
class SitePolicy:
    """The minimums and allowances a site imposes on every round it joins."""

    min_participants: int = 3
    min_reconstruction_threshold: int = 2
    min_k_operators: int = 3
    allowed_statistics: frozenset[str] = field(default_factory=lambda: frozenset(STATISTICS))
    require_differential_privacy: bool = False
    privacy_epsilon_per_year: float = 4.0
    privacy_delta: float = 1e-6


def parse_policy(raw: Mapping[str, Any], problems: list[str]) -> SitePolicy:
    """Read the [policy] table; append a message to ``problems`` for each bad entry."""
    default = SitePolicy()
    values: dict[str, Any] = {}
    for name in ("min_participants", "min_reconstruction_threshold", "min_k_operators"):
        value = raw.get(name, getattr(default, name))
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"[policy] {name} = {value!r}; use a positive integer")
            value = getattr(default, name)
        values[name] = value
    require = raw.get("require_differential_privacy", default.require_differential_privacy)
    if not isinstance(require, bool):
        problems.append(f"[policy] require_differential_privacy = {require!r}; use true or false")
        require = default.require_differential_privacy
    budget = raw.get("privacy_epsilon_per_year", default.privacy_epsilon_per_year)
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not 0 < budget < float("inf"):
        problems.append(f"[policy] privacy_epsilon_per_year = {budget!r}; use a positive number, e.g. 4.0")
        budget = default.privacy_epsilon_per_year
    delta = raw.get("privacy_delta", default.privacy_delta)
    if isinstance(delta, bool) or not isinstance(delta, int | float) or not 0 < delta < 1e-3:
        problems.append(f"[policy] privacy_delta = {delta!r}; use a number in (0, 0.001), e.g. 1e-6")
        delta = default.privacy_delta
    statistics = raw.get("allowed_statistics", list(STATISTICS))
    unknown = sorted(set(map(str, statistics)) - set(STATISTICS))
    if unknown:
        problems.append(f"[policy] allowed_statistics: {unknown} unknown; use names from {list(STATISTICS)}")
    settings = sorted(
        {*values, "allowed_statistics", "require_differential_privacy", "privacy_epsilon_per_year", "privacy_delta"}
    )
    for name in sorted(set(raw) - set(settings)):
        problems.append(f"[policy] {name} is not a policy setting; use one of {settings}")
    return SitePolicy(
        **values,
        allowed_statistics=frozenset(map(str, statistics)) & frozenset(STATISTICS),
        require_differential_privacy=require,
        privacy_epsilon_per_year=float(budget),
        privacy_delta=float(delta),
    )


def check_round(policy: SitePolicy, participants: int, neighbours: int, threshold: int) -> None:
    """Refuse a SecAgg+ round the policy does not allow.

    Besides the site's minimums, the reconstruction threshold must exceed half of the
    neighbourhood: otherwise an aggregator could ask some neighbours for a site's mask seed and
    others for its key, and unmask that site alone (Bell et al. 2020, SecAgg+, section 3).

    Parameters
    ----------
    policy : SitePolicy
        The site's policy.
    participants : int
        Sites sampled for the round, as the aggregator announces it.
    neighbours : int
        Size of this site's neighbourhood (shares of its secrets), including itself.
    threshold : int
        Shares needed to reconstruct a secret.

    Raises
    ------
    PolicyViolation
    """
    if participants < policy.min_participants:
        raise PolicyViolation(
            f"round has {participants} participants; policy min_participants is {policy.min_participants}"
        )
    if threshold < policy.min_reconstruction_threshold:
        raise PolicyViolation(
            f"reconstruction threshold {threshold} is below policy min_reconstruction_threshold "
            f"{policy.min_reconstruction_threshold}"
        )
    if 2 * threshold <= neighbours:
        raise PolicyViolation(
            f"reconstruction threshold {threshold} is not a strict majority of the {neighbours} neighbours"
        )


def check_spec(policy: SitePolicy, spec: spec_pb2.BenchmarkSpec) -> None:
    """Refuse a spec whose disclosure control or blocks the policy does not allow.

    Raises
    ------
    PolicyViolation
    """
    if spec.k_min_operators < policy.min_k_operators:
        raise PolicyViolation(
            f"spec {spec.spec_id} has k_min_operators {spec.k_min_operators}; "
            f"policy min_k_operators is {policy.min_k_operators}"
        )
    asked = {spec_pb2.Statistic.Name(block.statistic) for block in spec.blocks}
    refused = sorted(asked - policy.allowed_statistics)
    if refused:
        raise PolicyViolation(f"spec {spec.spec_id} asks for {refused}, which policy allowed_statistics does not allow")


def check_unmask_request(own_id: int, active: list[int], dead: list[int]) -> None:
    """Refuse an unmask request that calls a node both alive and dropped, or this site dropped.

    Raises
    ------
    PolicyViolation
    """
    contradictory = (set(active) & set(dead)) | ({own_id} & set(dead))
    if contradictory:
        raise PolicyViolation(f"unmask request lists nodes {sorted(contradictory)} as both alive and dropped")
