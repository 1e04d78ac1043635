"""The operator's site policy: what this site agrees to take part in, checked on site.

Site policy is the operator's word, not the aggregator's: a round, a spec or a block that breaks
it is refused before anything is computed or sent.

In site.toml::

    [policy]
    min_participants = 5                  # sites in the round, at least
    min_reconstruction_threshold = 3      # SecAgg+ shares needed to unmask, at least
    max_colluding_members = 1             # members that may collude with the aggregator; the threshold must
                                          #   exceed (neighbours + this) / 2 so that they cannot unmask a site
    min_k_operators = 5                   # spec's k_min_operators, at least
    allowed_statistics = ["RECORD_COUNT", "SUM_WIND_SPEED", "SUM_POWER", "SUM_POWER_SQUARED",
                          "NORMALISED_POWER_HISTOGRAM", "BIN_CONTRIBUTOR", "COHORT_CONTRIBUTOR"]
    require_differential_privacy = true   # refuse specs that add no noise
    privacy_epsilon_per_year = 4.0        # differential privacy budget per turbine, last 365 days
    privacy_delta = 1e-6                  # the delta at which that epsilon is counted
    max_cohorts = 32                      # size limits on a spec, checked before anything is computed,
    max_bins = 1000                       #   so a spec cannot make the site allocate what it cannot hold
    max_block_elements = 2000000          #   (every block's elements together)
    max_memory_mib = 2048                 #   (the largest array the spec's shapes imply for a full site)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from client.settings import Setting, unknown_keys
from protos.codec import block_layouts
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import spec_pb2
from protos.roster import COLLUDING_MEMBERS

STATISTICS = tuple(name for name in spec_pb2.Statistic.keys() if name != "STATISTIC_UNSPECIFIED")  # noqa: SIM118


class ContributionRefused(RuntimeError):
    """The site did not contribute.

    The reason is in the site's own log, never in this message, because Flower forwards
    exception text to the aggregator.
    """

    def __init__(self) -> None:
        super().__init__("the site refused to contribute; the reason is in the site's own log")


class PolicyViolation(ValueError):
    """A round or spec the site's policy does not allow; the message says which rule."""


@dataclass(frozen=True)
class SitePolicy:
    """The minimums and allowances a site imposes on every round it joins."""

    min_participants: int = 3
    min_reconstruction_threshold: int = 2
    max_colluding_members: int = COLLUDING_MEMBERS
    min_k_operators: int = 3
    allowed_statistics: frozenset[str] = field(default_factory=lambda: frozenset(STATISTICS))
    require_differential_privacy: bool = False
    privacy_epsilon_per_year: float = 4.0
    privacy_delta: float = 1e-6
    max_cohorts: int = 32
    max_bins: int = 1000
    max_block_elements: int = 2_000_000
    max_memory_mib: int = 2048


_DEFAULT = SitePolicy()
POLICY_SETTINGS = (
    Setting("min_participants", "integer", "sites in a round, at least", _DEFAULT.min_participants, "sites"),
    Setting(
        "min_reconstruction_threshold",
        "integer",
        "SecAgg+ shares needed to unmask, at least",
        _DEFAULT.min_reconstruction_threshold,
        "shares",
    ),
    Setting(
        "max_colluding_members",
        "integer",
        "members that may collude with the aggregator; the threshold must exceed (neighbours + this) / 2 so that "
        "they cannot unmask a site; 0 allowed. The aggregator sizes its rounds for its run config "
        "`max-colluding-members`: a value above it refuses its rounds",
        _DEFAULT.max_colluding_members,
        "members",
    ),
    Setting(
        "min_k_operators", "integer", "the spec's `k_min_operators`, at least", _DEFAULT.min_k_operators, "operators"
    ),
    Setting(
        "allowed_statistics",
        "array of strings",
        "the statistics (names of the contract's `Statistic`) a spec may ask of this site",
        sorted(_DEFAULT.allowed_statistics),
    ),
    Setting(
        "require_differential_privacy",
        "boolean",
        "true: refuse every spec that adds no noise (the maintenance indicators of round 2 included)",
        _DEFAULT.require_differential_privacy,
    ),
    Setting(
        "privacy_epsilon_per_year",
        "float",
        "differential privacy budget per turbine over the last 365 days; a release past it is refused",
        _DEFAULT.privacy_epsilon_per_year,
    ),
    Setting(
        "privacy_delta", "float", "the delta at which that epsilon is counted, in (0, 0.001)", _DEFAULT.privacy_delta
    ),
    Setting(
        "max_cohorts",
        "integer",
        "cohorts a spec may have, at most (checked before anything is computed)",
        _DEFAULT.max_cohorts,
        "cohorts",
    ),
    Setting("max_bins", "integer", "bins of any one grid of a spec, at most", _DEFAULT.max_bins, "bins"),
    Setting(
        "max_block_elements",
        "integer",
        "elements of every block of a spec together, at most",
        _DEFAULT.max_block_elements,
        "elements",
    ),
    Setting(
        "max_memory_mib",
        "integer",
        "the largest array a spec's shapes imply for a full site (a private spec's per-turbine histograms), at most",
        _DEFAULT.max_memory_mib,
        "MiB",
    ),
)
"""The keys of [policy]; their defaults are SitePolicy's."""


def parse_policy(raw: Mapping[str, Any], problems: list[str]) -> SitePolicy:
    """Read the [policy] table; append a message to ``problems`` for each bad entry."""
    default = SitePolicy()
    values: dict[str, Any] = {}
    for name in (
        "min_participants",
        "min_reconstruction_threshold",
        "min_k_operators",
        "max_cohorts",
        "max_bins",
        "max_block_elements",
        "max_memory_mib",
    ):
        value = raw.get(name, getattr(default, name))
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"[policy] {name} = {value!r}; use a positive integer")
            value = getattr(default, name)
        values[name] = value
    colluding = raw.get("max_colluding_members", default.max_colluding_members)
    if not isinstance(colluding, int) or isinstance(colluding, bool) or colluding < 0:
        problems.append(f"[policy] max_colluding_members = {colluding!r}; use 0 or a positive integer")
        colluding = default.max_colluding_members
    values["max_colluding_members"] = colluding
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
    unknown_keys("[policy]", raw, POLICY_SETTINGS, problems)
    return SitePolicy(
        **values,
        allowed_statistics=frozenset(map(str, statistics)) & frozenset(STATISTICS),
        require_differential_privacy=require,
        privacy_epsilon_per_year=float(budget),
        privacy_delta=float(delta),
    )


def check_round(policy: SitePolicy, sampled: int, neighbours: int, threshold: int) -> None:
    """Refuse a SecAgg+ round the policy does not allow.

    Besides the site's minimums, the round must not let the aggregator unmask this site alone,
    even with ``max_colluding_members`` (c) members on its side. The aggregator would tell some
    neighbours the site survived (they reveal shares of its mask seed) and others that it
    dropped (shares of its key). Either of two rules defeats it:

    - the threshold t exceeds half the neighbourhood k plus c: k - c honest shares split two
      ways, plus c of each kind from colluders, never make t of both (2t > k + c; Bonawitz et
      al. 2017, section 6; Bell et al. 2020, section 3);
    - in a full graph (every participant a neighbour), twice the policy's ``min_participants``
      exceeds k + c: each site reveals only for a survivor set that every survivor signed and
      that holds at least ``min_participants``, and two such sets cannot be made of k sites of
      which only the c colluders sign both (client/membership.py).

    Parameters
    ----------
    policy : SitePolicy
        The site's policy.
    sampled : int
        Sites sampled for the round, as the aggregator announces it.
    neighbours : int
        Size of this site's neighbourhood (shares of its secrets), including itself.
    threshold : int
        Shares needed to reconstruct a secret.

    Raises
    ------
    PolicyViolation
    """
    if sampled < policy.min_participants:
        raise PolicyViolation(f"round has {sampled} participants; policy min_participants is {policy.min_participants}")
    if threshold < policy.min_reconstruction_threshold:
        raise PolicyViolation(
            f"reconstruction threshold {threshold} is below policy min_reconstruction_threshold "
            f"{policy.min_reconstruction_threshold}"
        )
    colluders = policy.max_colluding_members
    full_graph_holds = neighbours == sampled and 2 * policy.min_participants > neighbours + colluders
    if 2 * threshold <= neighbours + colluders and not full_graph_holds:
        raise PolicyViolation(
            f"reconstruction threshold {threshold} of {neighbours} neighbours would let the aggregator and policy "
            f"max_colluding_members {colluders} unmask one site: it must exceed (neighbours + colluders) / 2"
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
    # The commitment randomness says nothing of the site (protos/commitment.py): a policy never lists it.
    randomness = spec_pb2.Statistic.CENSUS_COMMITMENT_RANDOMNESS
    asked = {spec_pb2.Statistic.Name(b.statistic) for b in spec.blocks if b.statistic != randomness}
    refused = sorted(asked - policy.allowed_statistics)
    if refused:
        raise PolicyViolation(f"spec {spec.spec_id} asks for {refused}, which policy allowed_statistics does not allow")
    check_spec_size(policy, spec)


def check_spec_size(policy: SitePolicy, spec: spec_pb2.BenchmarkSpec) -> None:
    """Refuse a spec larger than the site's size limits, from its declared shapes alone, before any allocation.

    Every limit reads the spec, never the site's data or fleet: the largest array is the one a
    private spec's per-turbine histograms take for the spec's ``max_turbines_per_site``.

    Raises
    ------
    PolicyViolation
        Naming the limit and the spec's size.
    """
    if len(spec.cohorts) > policy.max_cohorts:
        raise PolicyViolation(
            f"spec {spec.spec_id} has {len(spec.cohorts)} cohorts; policy max_cohorts is {policy.max_cohorts}"
        )
    ind = spec.indicators
    grids = {
        "wind_speed_bins": spec.wind_speed_bins.count,
        "normalised_power_bins": spec.normalised_power_bins.count,
        "performance_index_bins": ind.performance_index_bins.count,
        "yaw_misalignment_bins": ind.yaw_misalignment_bins.count,
        "residual_bins": ind.residual_bins.count,
        "availability_bins": ind.availability_bins.count,
    }
    for grid, count in grids.items():
        if count > policy.max_bins:
            raise PolicyViolation(f"spec {spec.spec_id} has {count} {grid}; policy max_bins is {policy.max_bins}")
    try:
        cohort_atoms(spec.cohorts)
        elements = sum(layout.size for layout in block_layouts(spec))
    except ValueError as error:
        raise PolicyViolation(f"spec {spec.spec_id}: {error}") from None
    if elements > policy.max_block_elements:
        raise PolicyViolation(
            f"spec {spec.spec_id} asks for {elements} block elements; policy max_block_elements is "
            f"{policy.max_block_elements}"
        )
    solar = spec.solar
    if spec.HasField("solar"):
        units, cells = "inverter", solar.irradiance_bins.count * solar.specific_power_bins.count
        histogram_mib = solar.max_inverters_per_site * cells * 8 / 2**20
    else:
        units, cells = "turbine", grids["wind_speed_bins"] * grids["normalised_power_bins"]
        histogram_mib = spec.max_turbines_per_site * cells * 8 / 2**20
    if spec.HasField("privacy") and histogram_mib > policy.max_memory_mib:
        raise PolicyViolation(
            f"spec {spec.spec_id} implies {histogram_mib:.0f} MiB of per-{units} histograms; policy max_memory_mib is "
            f"{policy.max_memory_mib}"
        )


def check_unmask_request(
    own_id: int, neighbours: frozenset[int], survivors: frozenset[int], active: list[int], dead: list[int]
) -> None:
    """Refuse an unmask request inconsistent with the survivor set it comes with.

    A site reveals, for each neighbour, a share of its mask seed (listed active) or of its key
    (listed dead), never both: the active neighbours must be exactly the neighbours among the
    ``survivors`` (this site one of them) and no dead one a survivor.

    Raises
    ------
    PolicyViolation
    """
    if own_id not in survivors:
        raise PolicyViolation(f"unmask request to node {own_id}, which its survivor set does not list")
    contradictory = set(active) & set(dead)
    if contradictory:
        raise PolicyViolation(f"unmask request lists nodes {sorted(contradictory)} as both alive and dropped")
    if set(active) != neighbours & survivors or set(dead) & survivors or not set(dead) <= neighbours:
        raise PolicyViolation(
            f"unmask request names active neighbours {sorted(active)} and dropped {sorted(dead)}, not the "
            f"neighbours {sorted(neighbours)} split by the survivor set"
        )
