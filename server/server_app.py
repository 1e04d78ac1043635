"""The aggregator's Flower ServerApp: wiring only.

Run config (``[tool.flwr.app.config]`` in pyproject.toml declares every key :class:`ReleaseRun` reads):
``spec`` (path of a BenchmarkSpec in protobuf JSON), ``store`` (SQLite release store),
``release-json`` (JSON export, empty for none), ``min-sites`` (round 1), ``indicators`` (true: a second
round of maintenance indicators against the first's release), ``sampling-timeout`` (seconds a round
waits for the sites it needs to connect), ``stage-timeout`` (seconds a SecAgg+ stage waits for replies)
and ``max-colluding-members`` (the members every round is sized against: the largest
``max_colluding_members`` of the sites' policies).
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.serverapp import Grid, ServerApp
from google.protobuf import json_format

from common.progress import Progress, Stage, silent
from protos.census import census_spec, is_solar
from protos.domain import SITE_KINDS
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.messages import (
    BASELINE_RELEASE_CONFIG_KEY,
    CENSUS_CONFIG_KEY,
    FINAL_RELEASE_CONFIG_KEY,
    SITE_KIND_CONFIG_KEY,
)
from protos.roster import COLLUDING_MEMBERS
from server.publish import (
    census_from_secure_sum,
    complete_release,
    release_from_secure_sum,
    solar_release_from_secure_sum,
    store_release,
    stored_release,
)
from server.secure_sum import (
    COLLUDING_MEMBERS_SETTING,
    DEFAULT_WAITS,
    MIN_SECURE_SUM_SITES,
    RelayGrid,
    SecureSumOutcome,
    Waits,
    check_colluding_members,
    private_round_sites,
    run_secure_sum,
)
from server.spec import indicator_spec
from server.store import claim_dropped_on_failure, claim_release, mark_sent

KIND_POLL_SECONDS = 1.0  # how often sites_of_kind looks for newly connected sites while it waits

LOG = logging.getLogger("fleetbench.aggregator")


RUN_CONFIG_KEYS = (
    "spec",
    "store",
    "release-json",
    "min-sites",
    "indicators",
    "sampling-timeout",
    "stage-timeout",
    COLLUDING_MEMBERS_SETTING,
)
"""Every run-config key the ServerApp reads; pyproject.toml declares each (tests/server/test_server_app.py)."""


@dataclass(frozen=True)
class ReleaseRun:
    """What one run of the ServerApp is to do: the spec, where the release goes, and its rounds."""

    spec: spec_pb2.BenchmarkSpec
    store: Path
    min_sites: int
    release_json: Path | None = None
    indicators: bool = True  # a second round of maintenance indicators against the first's release
    waits: Waits = DEFAULT_WAITS
    colluding_members: int = COLLUDING_MEMBERS  # every round sized against them (run config max-colluding-members)

    def __post_init__(self) -> None:
        """Refuse, before any round, an impossible ``colluding_members`` (ValueError).

        It must be an integer >= 0 and below ``min_sites``: no site accepts a round of no more sites
        than members that may collude.
        """
        check_colluding_members(self.colluding_members)
        if self.min_sites <= self.colluding_members:
            raise ValueError(
                f"min-sites {self.min_sites} against {COLLUDING_MEMBERS_SETTING} {self.colluding_members}: a site "
                "accepts a round only with more sites than members that may collude with the aggregator; raise "
                f"min-sites above {self.colluding_members}"
            )

    @classmethod
    def from_run_config(cls, config: Mapping[str, object]) -> ReleaseRun:
        """The run that ``flwr run --run-config`` asks for (keys :data:`RUN_CONFIG_KEYS`).

        Raises
        ------
        ValueError
            If ``max-colluding-members`` is not an integer >= 0.
        """
        spec_path = Path(str(config["spec"]))
        return cls(
            spec=json_format.Parse(spec_path.read_text(encoding="utf-8"), spec_pb2.BenchmarkSpec()),
            store=Path(str(config["store"])),
            min_sites=int(str(config["min-sites"])),
            release_json=Path(str(config["release-json"])) if config["release-json"] else None,
            indicators=bool(config["indicators"]),
            waits=Waits(int(str(config["sampling-timeout"])), int(str(config["stage-timeout"]))),
            colluding_members=check_colluding_members(config[COLLUDING_MEMBERS_SETTING]),
        )


def build_server_app(
    run: ReleaseRun | None = None,
    on_outcome: Callable[[SecureSumOutcome], None] | None = None,
    progress: Progress = silent,
) -> ServerApp:
    """A ServerApp that claims a release in the store, runs its secure sums, stores it and sends it to every site.

    Round 1 sums the power curves and model training sums; with ``run.indicators``, round 2 sums
    each site's indicators against round 1's release into industry baselines. Without ``run``, the
    run config says what to do (:meth:`ReleaseRun.from_run_config`). ``on_outcome`` is called with
    each round's unmasked aggregate before it is finalised (tests and benchmarks check exactness
    with it). ``progress`` hears each round and the sending of the release start and end (an
    in-process run: Flower's simulation engine runs this app in the caller's process).

    Claimed, stored, then sent: the release is claimed in the store before any round (a spec that
    another run claimed, or stored and sent, is refused before any site is asked anything), stored
    in place of the claim, and then sent as the store holds it. A run that fails before storing
    drops its claim; one killed outright leaves it pending (``fleetbench release claims``, ``release
    abandon``). A rerun of a spec whose release is stored but not yet sent to every site runs no
    round: it sends the stored release again (docs/architecture.md, "One release, round by round").
    """
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        if run is None:  # Flower's deployment engine: what this process writes on stderr is the run's log
            _log_to_the_run()
        settings = run or ReleaseRun.from_run_config(context.run_config)
        run_id = str(context.run_id)
        # Before any site is asked anything: a spec another run claimed (or stored and sent) is refused here.
        release_id = claim_release(settings.store, settings.spec, "secagg+", run_id)
        if release_id is None:
            with claim_dropped_on_failure(settings.store, settings.spec, "secagg+", run_id):
                release = run_release(
                    grid,
                    context,
                    settings.spec,
                    settings.min_sites,
                    settings.indicators,
                    on_outcome,
                    progress,
                    settings.waits,
                    settings.colluding_members,
                )
                # Committed before the send below: no site can hold a release the store lacks.
                release_id = store_release(release, settings.store)
        else:
            LOG.warning(
                "%s holds release %d of spec %s, stored by a run that did not finish sending it: no round runs, "
                "its stored bytes are sent to every site again",
                settings.store,
                release_id,
                settings.spec.spec_id,
            )
        send_release(grid, stored_release(settings.store, release_id, settings.release_json), progress=progress)
        mark_sent(settings.store, release_id)

    return app


def sites_of_kind(
    grid: Grid, spec: spec_pb2.BenchmarkSpec, min_sites: int, waits: Waits = DEFAULT_WAITS
) -> frozenset[int]:
    """The connected sites of ``spec``'s kind (wind or solar), once ``min_sites`` of them answer or the wait ends.

    Each newly connected site is asked which kind it serves (a query it answers with that word
    only). A member with a wind farm and a solar plant runs a node for each; a round that asked both
    would see the member twice and every site would refuse it (k counts members, not nodes).
    """
    kind = "solar" if is_solar(spec) else "wind"
    answers: dict[int, str] = {}  # node -> its kind, for the nodes that answered
    question = RecordDict({"config": ConfigRecord({SITE_KIND_CONFIG_KEY: kind})})
    relay = RelayGrid(grid, name="site kinds")  # looks for replies every 0.2 s, not Flower's 3
    began = time.monotonic()
    while True:
        # A node that has not answered (yet: its ClientApp may be starting) is asked again on the next pass.
        unanswered = [node for node in grid.get_node_ids() if node not in answers]
        messages = [Message(content=question, dst_node_id=node, message_type=MessageType.QUERY) for node in unanswered]
        for reply in relay.send_and_receive(messages, timeout=waits.stage) if messages else ():
            config = None if reply.has_error() else reply.content.config_records.get("config")
            if config is not None and config.get(SITE_KIND_CONFIG_KEY) in SITE_KINDS:
                answers[reply.metadata.src_node_id] = str(config[SITE_KIND_CONFIG_KEY])
        matching = frozenset(node for node, answer in answers.items() if answer == kind)
        if len(matching) >= min_sites or time.monotonic() - began >= waits.sampling:
            others = len(set(grid.get_node_ids()) - matching)
            if others:
                LOG.info("%d connected sites are %s sites; %d others are not asked", len(matching), kind, others)
            return matching
        time.sleep(KIND_POLL_SECONDS)


def run_census(
    grid: Grid,
    context: Context,
    spec: spec_pb2.BenchmarkSpec,
    min_sites: int,
    extra_config: Mapping[str, bytes] | None = None,
    *,
    only_nodes: frozenset[int] | None = None,
    expected: frozenset[int] | None = None,
    waits: Waits = DEFAULT_WAITS,
    name: str = "census",
    colluding_members: int = COLLUDING_MEMBERS,
) -> tuple[spec_pb2.Census, frozenset[int]]:
    """The census round of values spec ``spec``: its disclosure-control inputs summed, and nothing else.

    ``extra_config`` travels beside the census spec (round 2: the round-1 release); the round asks
    the ``only_nodes`` sites (None: every connected one) and starts once ``min_sites`` of the
    ``expected`` sites (default ``only_nodes``) are connected. It is sized against
    ``colluding_members`` (:func:`server.secure_sum.run_secure_sum`). Returns the census and the
    sites it summed, the only ones its values round may ask.
    """
    census = census_spec(spec)
    outcome = run_secure_sum(
        grid,
        context,
        census,
        min_sites,
        extra_config,
        only_nodes=only_nodes,
        expected=expected,
        waits=waits,
        name=name,
        colluding_members=colluding_members,
    )
    return census_from_secure_sum(census, outcome), outcome.node_ids


def round_two_min_sites(spec: spec_pb2.BenchmarkSpec) -> int:
    """How many of round 1's sites round 2 needs: the spec's k (fewer can release no cell), and SecAgg+'s 3.

    Not round 1's ``min-sites``: a site lost in round 1 must not stall round 2 for the count it no
    longer has. Each site's own ``min_participants`` it checks itself, at setup.
    """
    return max(MIN_SECURE_SUM_SITES, spec.k_min_operators)


def run_release(
    grid: Grid,
    context: Context,
    spec: spec_pb2.BenchmarkSpec,
    min_sites: int,
    indicators: bool = True,
    on_outcome: Callable[[SecureSumOutcome], None] | None = None,
    progress: Progress = silent,
    waits: Waits = DEFAULT_WAITS,
    colluding_members: int = COLLUDING_MEMBERS,
) -> release_pb2.Release:
    """Round 1 (curves, model sums) and, with ``indicators``, round 2 (baselines) of one release.

    Each round is a census round, then a values round: every site receives the census with the
    values spec and sends values only for the cells the census lets through (protos/census.py),
    so the aggregator never decodes a cell that fails disclosure control. Round 1's census waits
    for ``min_sites`` sites (for a private spec, at least the sites its noise needs against
    ``colluding_members``: :func:`server.secure_sum.private_round_sites`; fewer, and it is declined
    before any site is sent the spec); each values round for every site of its census (each site's
    guard insists on them all); round 2's census for :func:`round_two_min_sites` of round 1's sites.
    Every round is sized against ``colluding_members`` (run config ``max-colluding-members``), and
    every wait is bounded by ``waits``. ``on_outcome`` sees the values rounds' sums; ``progress``
    hears each census and values round start and end. When round 2 ends without a result (sites
    dropped, or refused it), round 1's release stands alone: its provenance then names no
    indicator spec. A private spec has no round 2: the indicators are not yet differentially private.
    A solar spec is one round (census, values) and its release is the plants' (server/solar.py).
    """
    kind = "solar" if is_solar(spec) else "wind"
    # A private round of fewer sites would be refused by every site: wait for as many as its noise needs.
    min_sites = max(min_sites, private_round_sites(spec, colluding_members))
    stage = _round_started(progress, "round 1 census", f"asking every {kind} site (at least {min_sites})")
    of_kind = sites_of_kind(grid, spec, min_sites, waits)
    census, sites = run_census(
        grid,
        context,
        spec,
        min_sites,
        only_nodes=of_kind,
        waits=waits,
        name="round 1 census",
        colluding_members=colluding_members,
    )
    stage.done(f"{len(sites)} sites summed")
    stage = _round_started(progress, "round 1 values", f"asking the census's {len(sites)} sites")
    outcome = run_secure_sum(
        grid,
        context,
        spec,
        len(sites),
        {CENSUS_CONFIG_KEY: _bytes(census)},
        sites,
        waits=waits,
        name="round 1 values",
        colluding_members=colluding_members,
    )
    stage.done(f"{outcome.n_sites} sites summed")
    if on_outcome is not None:
        on_outcome(outcome)
    if is_solar(spec):  # one round: a solar release has no indicators against a baseline
        return solar_release_from_secure_sum(spec, outcome, census, flower_run_id=str(context.run_id))
    release = release_from_secure_sum(spec, outcome, census, flower_run_id=str(context.run_id))
    if not indicators or spec.HasField("privacy"):
        return release
    baseline = release.SerializeToString(deterministic=True)
    round_two = indicator_spec(spec, hashlib.sha256(baseline).hexdigest())
    needed = round_two_min_sites(round_two)
    try:
        asking = f"asking every {kind} site (at least {needed} of round 1's)"
        stage = _round_started(progress, "round 2 census", asking)
        census, sites = run_census(
            grid,
            context,
            round_two,
            needed,
            {BASELINE_RELEASE_CONFIG_KEY: baseline},
            only_nodes=of_kind,
            expected=outcome.node_ids,
            waits=waits,
            name="round 2 census",
            colluding_members=colluding_members,
        )
        stage.done(f"{len(sites)} sites summed")
        stage = _round_started(progress, "round 2 values", f"asking the census's {len(sites)} sites")
        outcome = run_secure_sum(
            grid,
            context,
            round_two,
            len(sites),
            {BASELINE_RELEASE_CONFIG_KEY: baseline, CENSUS_CONFIG_KEY: _bytes(census)},
            sites,
            waits=waits,
            name="round 2 values",
            colluding_members=colluding_members,
        )
        stage.done(f"{outcome.n_sites} sites summed")
        if on_outcome is not None:
            on_outcome(outcome)
        return complete_release(release, round_two, outcome, census)
    except (RuntimeError, ValueError):  # too few sites left, or too few took part
        LOG.exception("round 2 (indicators) ended without a result; the release has round 1 only")
        return release


def _round_started(progress: Progress, name: str, asking: str) -> Stage:
    """A secure-sum round's :class:`~common.progress.Stage`, its start told: "NAME: ASKING"."""
    stage = Stage(progress, name)
    stage.update(asking)
    return stage


def _bytes(message: spec_pb2.Census) -> bytes:
    return message.SerializeToString(deterministic=True)


def send_release(grid: Grid, release: release_pb2.Release, timeout: float = 120.0, progress: Progress = silent) -> int:
    """Send the final release to every connected site (a query message); return how many acknowledged.

    ``progress`` hears the sending start and end.
    """
    # Deterministic: the bytes the store holds, so a site sent the release twice (a resumed send) keeps the same.
    release_bytes = release.SerializeToString(deterministic=True)
    payload = RecordDict({"config": ConfigRecord({FINAL_RELEASE_CONFIG_KEY: release_bytes})})
    messages = [
        Message(content=payload, dst_node_id=node, message_type=MessageType.QUERY) for node in grid.get_node_ids()
    ]
    stage = Stage(progress, "final release")
    stage.update(f"sending to {len(messages)} sites")
    replies = list(RelayGrid(grid, name="final release").send_and_receive(messages, timeout=timeout))
    acknowledged = sum(1 for reply in replies if not reply.has_error())
    LOG.info("final release sent to %d sites, %d acknowledged", len(messages), acknowledged)
    stage.done(f"{acknowledged} of {len(messages)} sites acknowledged")
    return acknowledged


def logged(message: str, *, ongoing: bool = False) -> None:
    """The :class:`~common.progress.Progress` of a deployed release: every line an info log of the aggregator."""
    LOG.info(message)


def _log_to_the_run() -> None:
    """The aggregator's info logs on stderr, each line marked "fleetbench:".

    ``flwr log`` shows them and ``fleetbench release deploy`` relays them; without this handler
    Python would show only the warnings, unmarked.
    """
    logger = logging.getLogger("fleetbench")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("fleetbench: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


app = build_server_app(progress=logged)
