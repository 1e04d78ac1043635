"""Keys that travel in Flower messages, defined once for both ends."""

SPEC_CONFIG_KEY = "fleetbench.spec"
"""FitIns.config key holding the serialised BenchmarkSpec (bytes)."""

BASELINE_RELEASE_CONFIG_KEY = "fleetbench.baseline-release"
"""FitIns.config key (round 2): the serialised round-1 Release the indicators are measured against."""

CENSUS_CONFIG_KEY = "fleetbench.census"
"""FitIns.config key (values rounds): the serialised Census the round's cells are decided by."""

FINAL_RELEASE_CONFIG_KEY = "fleetbench.release"
"""Query message config key: the serialised final Release every site receives."""

SITE_KIND_CONFIG_KEY = "fleetbench.site-kind"
"""Query message config key: asked (any value), a site answers with the kind of site it serves, "wind" or "solar",
so a release asks only sites of its spec's kind (a member's other site would count it twice)."""

SITE_CONFIG_NODE_KEY = "site-config"
"""SuperNode node-config key: path of the operator's site.toml on the operator's machine."""

FLEET_DIR_RUN_KEY = "fleet-dir"
"""Run-config key (simulation only): folder of synthetic operators, one site.toml each."""

CONSTANT_WEIGHT = 1
"""num_examples every site reports: equal weights make Flower's weighted mean a plain sum."""

SURVIVORS_RECORD = "fleetbench.survivors"
"""ConfigRecord of the consistency stage and unmask requests: ``node_ids``, every site whose masked vector the sum
holds; in unmask requests also ``signatures``, each survivor's over that set (by node id); in a consistency reply,
the site's ``signature``. In a census round's consistency stage also ``commitment_members``, ``commitments`` and
``commitment_signatures``: each survivor's signed census commitment, in the order of ``node_ids``."""

COMMITMENT_RECORD = "fleetbench.commitment"
"""ConfigRecord a site adds to its reply at a census round's collect: its census ``commitment`` and ``signature``."""

MEMBER_RECORD = "fleetbench.member"
"""ConfigRecord a site adds to its SecAgg+ setup reply: ``name`` (its member) and ``signature`` of its keys."""

MEMBERS_RECORD = "fleetbench.members"
"""ConfigRecord of key sharing (the neighbours) and collect (every participant): node id -> signed advertisement."""

CONSISTENCY_STAGE = "fleetbench.consistency"
"""The SecAgg+ stage FleetBench adds before unmasking: every survivor signs the survivor set it is told."""
