"""One exact secure sum of every site's blocks through Flower's SecAgg+ workflow.

FleetBench uses SecAgg+ (which computes a weighted mean of quantized floats) as an exact
integer sum: every site sends the constant weight 1, and the quantizer is made the identity on
30-bit limbs (protos.codec). The workflow hands the unmasked aggregate to the strategy's
``aggregate_fit``; nothing individual ever reaches the strategy.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.common import FitIns, FitRes, Parameters, Scalar, parameters_to_ndarrays
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key
from flwr.server import LegacyContext, ServerConfig
from flwr.server.client_manager import ClientManager, SimpleClientManager
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD
from flwr.server.workflow.constant import Key as WorkflowKey
from flwr.server.workflow.secure_aggregation.secaggplus_workflow import WorkflowState
from flwr.serverapp import Grid
from flwr.supercore.run import Run

from protos.codec import CLIPPING_RANGE, MODULUS_RANGE, QUANTIZATION_RANGE, check_secure_sum_capacity
from protos.fleetbench.v1 import spec_pb2
from protos.masking import install_keyed_masks
from protos.messages import (
    COMMITMENT_RECORD,
    CONSISTENCY_STAGE,
    MEMBER_RECORD,
    MEMBERS_RECORD,
    SPEC_CONFIG_KEY,
    SURVIVORS_RECORD,
)
from protos.privacy import min_private_participants
from protos.roster import COLLUDING_MEMBERS, Advertisement
from protos.shamir import install_fast_shamir

LOG = logging.getLogger("fleetbench.aggregator")

MIN_SECURE_SUM_SITES = 3
"""The fewest sites a SecAgg+ round can have here (:func:`neighbourhood`)."""

POLL_SECONDS = 0.2
"""How often a stage looks for replies (Flower's own ``send_and_receive`` sleeps 3 s between looks)."""

REPORT_SECONDS = 5.0
"""How often a wait names the sites it is still waiting for."""

COLLUDING_MEMBERS_SETTING = "max-colluding-members"
"""The run config key of the members every round is sized against (:func:`check_colluding_members`)."""


@dataclass(frozen=True)
class Waits:
    """How long a secure-sum round waits, in seconds (run config ``sampling-timeout`` and ``stage-timeout``).

    ``sampling``: for the sites the round needs to be connected before it starts (Flower's own
    wait is a day, silent). ``stage``: for the replies to one SecAgg+ stage (Flower's default
    waits for ever); a site that has not answered by then is dropped from the round.
    """

    sampling: int = 300
    stage: int = 600


DEFAULT_WAITS = Waits()


@dataclass
class SecureSumOutcome:
    """What a secure-sum round produced: the element-wise mean over surviving sites, per array."""

    n_sites: int = 0
    mean_arrays: list[np.ndarray] = field(default_factory=list)
    node_ids: frozenset[int] = frozenset()  # the sites summed
    # A census round's: each summed member's signed commitment to its census, as the sites sent them.
    census_commitments: tuple[spec_pb2.CensusCommitment, ...] = ()


class SecureSumStrategy(FedAvg):
    """Sends the spec to every site and keeps the unmasked aggregate SecAgg+ hands over."""

    def __init__(
        self,
        spec: spec_pb2.BenchmarkSpec,
        min_sites: int,
        extra_config: Mapping[str, bytes] | None = None,
        only_nodes: frozenset[int] | None = None,
        sampling_timeout: int = Waits.sampling,
    ) -> None:
        super().__init__(
            fraction_fit=1.0,
            fraction_evaluate=0.0,
            min_fit_clients=min_sites,
            min_available_clients=min_sites,
            accept_failures=True,
        )
        self.config: dict[str, Scalar] = {SPEC_CONFIG_KEY: spec.SerializeToString(deterministic=True)}
        self.config.update(extra_config or {})
        self.only_nodes = only_nodes
        self.sampling_timeout = sampling_timeout
        self.outcome: SecureSumOutcome | None = None

    def initialize_parameters(self, client_manager: ClientManager) -> Parameters:
        """No model: an empty parameter set, so no site is asked for one."""
        return Parameters(tensors=[], tensor_type="numpy.ndarray")

    def configure_fit(
        self, server_round: int, parameters: Parameters, client_manager: ClientManager
    ) -> list[tuple[ClientProxy, FitIns]]:
        """Every connected site (of ``only_nodes``, when given), each sent the serialised spec.

        First waits, at most ``sampling_timeout`` seconds, until ``min_available_clients`` sites
        are connected (none is asked if they never are). Refuses a count that could wrap the sum.
        """
        # Flower's node-update thread refreshes the client manager when num_available or all is called
        # (and every 5 s); Flower's own sampling would pick a random sample_size of the sites it saw before
        # the wait, and could leave out a census site that connected during it.
        client_manager.num_available()
        if not client_manager.wait_for(self.min_available_clients, timeout=self.sampling_timeout):
            return []
        sampled = [
            proxy
            for proxy in client_manager.all().values()
            if self.only_nodes is None or proxy.node_id in self.only_nodes
        ]
        check_secure_sum_capacity(len(sampled))
        return [(proxy, FitIns(parameters, dict(self.config))) for proxy in sampled]

    def aggregate_fit(
        self,
        server_round: int,
        results: list[tuple[ClientProxy, FitRes]],
        failures: list[tuple[ClientProxy, FitRes] | BaseException],
    ) -> tuple[Parameters | None, dict[str, Scalar]]:
        """Keep the aggregate (every FitRes carries the same unmasked mean) and its site count."""
        if results:
            self.outcome = SecureSumOutcome(
                n_sites=len(results),
                mean_arrays=parameters_to_ndarrays(results[0][1].parameters),
                node_ids=frozenset(proxy.node_id for proxy, _ in results),
            )
        # A failed site is worth seeing without the info logs (the command line shows those with --verbose only).
        LOG.log(
            logging.WARNING if failures else logging.INFO,
            "secure sum over %d sites (%d failures)",
            len(results),
            len(failures),
        )
        return None, {}


class BoundedClientManager(SimpleClientManager):
    """Flower's client manager, whose wait for sites counts the round's own and names the missing.

    Flower's ``SimpleClientManager`` waits silently (``sample`` for a day). Here the wait
    counts only ``expected`` sites (when given: the round's own, e.g. a census's), says which
    are missing every :data:`REPORT_SECONDS`, and keeps why it gave up in :attr:`shortfall`.

    Parameters
    ----------
    name : str
        The round, as logs name it ("round 2 census").
    expected : frozenset of int, optional
        The sites the round is for; None: any site.
    """

    def __init__(self, name: str, expected: frozenset[int] | None = None) -> None:
        super().__init__()
        self.name, self.expected = name, expected
        self.shortfall: str | None = None  # why the wait gave up, for the round's error

    def connected(self) -> set[int]:
        """The connected sites the wait counts."""
        # A copy: Flower's node-update thread adds and removes clients meanwhile.
        nodes = {proxy.node_id for proxy in tuple(self.clients.values())}
        return nodes if self.expected is None else nodes & self.expected

    def wait_for(self, num_clients: int, timeout: int = Waits.sampling) -> bool:
        """Wait until ``num_clients`` of the sites the round counts are connected, at most ``timeout`` seconds."""
        if self.expected is not None and len(self.expected) < num_clients:
            self.shortfall = f"it is for {len(self.expected)} sites, at least {num_clients} needed"
            LOG.error("%s: not started: %s", self.name, self.shortfall)
            return False
        began = time.monotonic()
        reported = False
        while len(self.connected()) < num_clients:
            waited = time.monotonic() - began
            if waited >= timeout:
                self.shortfall = f"{self._missing(num_clients)} after {timeout} s (sampling-timeout)"
                LOG.error("%s: gave up waiting for sites: %s", self.name, self.shortfall)
                return False
            LOG.warning(
                "%s: waiting for sites (%.0f of at most %d s): %s",
                self.name,
                waited,
                timeout,
                self._missing(num_clients),
            )
            reported = True
            with self._cv:  # a registration or departure wakes it; else it reports again
                self._cv.wait_for(
                    lambda: len(self.connected()) >= num_clients, timeout=min(REPORT_SECONDS, timeout - waited)
                )
        if reported:
            LOG.warning("%s: the sites it needs are connected after %.0f s", self.name, time.monotonic() - began)
        return True

    def _missing(self, num_clients: int) -> str:
        connected = sorted(self.connected())
        if self.expected is None:
            return f"{len(connected)} connected {connected}, at least {num_clients} needed"
        missing = sorted(self.expected - set(connected))
        return (
            f"{len(connected)} of its {len(self.expected)} sites connected, at least {num_clients} needed; "
            f"missing {missing}"
        )


class SignedSecAggPlusWorkflow(SecAggPlusWorkflow):
    """Flower's SecAgg+ workflow, relaying member signatures, with a consistency stage and dropout tolerance.

    Member signatures (client/membership.py checks them on every site): the signed key
    advertisement each site adds to its setup reply is relayed with the public keys at key
    sharing (the neighbours') and with the spec at collect (every participant's). A site that
    sends no advertisement is left out at setup, as if it had dropped.

    Consistency (Bonawitz et al. 2017, Bell et al. 2020): after collect, every survivor is sent
    the survivor set and signs it; the unmask requests carry all those signatures. A survivor
    that does not sign ends the round: its masked vector is in the sum, and no site would reveal
    shares without its signature.

    Dropouts: in Flower 1.42 a site that drops during setup or key sharing stays "sampled" and in
    its neighbours' neighbourhoods, although no one holds a share of its secrets and no one masked
    with it: unmasking then asks for shares that do not exist ("Not enough shares", the round
    halts) or for public keys never received (KeyError). After each of these two stages this
    workflow forgets such sites, which is exactly their role in the protocol (Bell et al. 2020:
    a site that shared no keys is not part of any mask), and re-checks the threshold.
    """

    def __init__(self, *args: Any, name: str = "secure sum", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name = name  # the round, as logs name it
        self.advertisements: dict[int, Advertisement] = {}
        self.survivor_signatures: dict[int, bytes] = {}
        self.census_commitments: dict[int, spec_pb2.CensusCommitment] = {}  # a census round's, per survivor

    def setup_stage(self, grid: Grid, context: LegacyContext, state: WorkflowState) -> bool:
        """Flower's setup, keeping each site's signed advertisement; then forget the sites that sent none."""

        def keep_advertisement(reply: Message) -> None:
            member = None if reply.has_error() else reply.content.config_records.get(MEMBER_RECORD)
            if member is None:
                return
            keys = reply.content.config_records[RECORD_KEY_CONFIGS]
            fields = (
                member.get("name"),
                keys.get(Key.PUBLIC_KEY_1),
                keys.get(Key.PUBLIC_KEY_2),
                member.get("signature"),
            )
            if isinstance(fields[0], str) and all(isinstance(f, bytes) for f in fields[1:]):
                self.advertisements[reply.metadata.src_node_id] = Advertisement(*fields)  # type: ignore[arg-type]

        if not super().setup_stage(RelayGrid(grid, read=keep_advertisement, name=self.name), context, state):
            return False
        state.active_node_ids &= set(self.advertisements)
        return _forget_absent(self, state)

    def share_keys_stage(self, grid: Grid, context: LegacyContext, state: WorkflowState) -> bool:
        """Flower's key sharing, with the neighbours' advertisements; then forget the sites that sent no key shares."""

        def add_neighbours(message: Message) -> None:
            neighbours = (int(node) for node in message.content.config_records[RECORD_KEY_CONFIGS] if node != Key.STAGE)
            message.content.config_records[MEMBERS_RECORD] = self._advertisements_of(neighbours)

        return super().share_keys_stage(
            RelayGrid(grid, add_neighbours, name=self.name), context, state
        ) and _forget_absent(self, state)

    def collect_masked_vectors_stage(self, grid: Grid, context: LegacyContext, state: WorkflowState) -> bool:
        """Flower's collect, each site sent every participant's advertisement; then the consistency stage."""
        participants = self._advertisements_of(state.active_node_ids)

        def add_participants(message: Message) -> None:
            message.content.config_records[MEMBERS_RECORD] = participants

        def keep_commitment(reply: Message) -> None:
            signed = None if reply.has_error() else reply.content.config_records.get(COMMITMENT_RECORD)
            node = reply.metadata.src_node_id
            if signed is None or node not in self.advertisements:
                return
            committed, signature = signed.get("commitment"), signed.get("signature")
            if isinstance(committed, bytes) and isinstance(signature, bytes):
                self.census_commitments[node] = spec_pb2.CensusCommitment(
                    member=self.advertisements[node].member, commitment=committed, signature=signature
                )

        return super().collect_masked_vectors_stage(
            RelayGrid(grid, add_participants, keep_commitment, name=self.name), context, state
        ) and self.consistency_stage(grid, context, state)

    def consistency_stage(self, grid: Grid, context: LegacyContext, state: WorkflowState) -> bool:
        """Send every survivor the survivor set; keep each one's signature over it. False unless all sign."""
        survivors = sorted(state.active_node_ids)
        group_id = str(context.state.config_records[MAIN_CONFIGS_RECORD][WorkflowKey.CURRENT_ROUND])
        told: dict[str, Any] = {"node_ids": survivors}
        if self.census_commitments:  # a census round: each survivor checks every commitment before unmasking
            listed = [self.census_commitments.get(node, spec_pb2.CensusCommitment()) for node in survivors]
            told |= {
                "commitment_members": [c.member for c in listed],
                "commitments": [c.commitment for c in listed],
                "commitment_signatures": [c.signature for c in listed],
            }
        content = RecordDict(
            {
                RECORD_KEY_CONFIGS: ConfigRecord({Key.STAGE: CONSISTENCY_STAGE}),
                SURVIVORS_RECORD: ConfigRecord(told),
            }
        )
        messages = [
            Message(content=content, dst_node_id=node, message_type=MessageType.TRAIN, group_id=group_id)
            for node in survivors
        ]
        for reply in RelayGrid(grid, name=self.name).send_and_receive(messages, timeout=self.timeout):
            signed = None if reply.has_error() else reply.content.config_records.get(SURVIVORS_RECORD)
            if signed is not None and isinstance(signed.get("signature"), bytes):
                self.survivor_signatures[reply.metadata.src_node_id] = signed["signature"]  # type: ignore[assignment]
        unsigned = sorted(set(survivors) - set(self.survivor_signatures))
        if unsigned:
            LOG.error("sites %s did not sign the survivor set; no site will unmask without their signatures", unsigned)
            return False
        return True

    def unmask_stage(self, grid: Grid, context: LegacyContext, state: WorkflowState) -> bool:
        """Flower's unmasking, each request carrying the survivor set and every survivor's signature over it.

        Beyond 15 sites a request lists only the site's neighbours; the signed set lets every site
        check the count its policy and census hold the sum to, and that no site was told another.
        """
        survivors = sorted(state.active_node_ids)
        signed = ConfigRecord(
            {"node_ids": survivors, "signatures": [self.survivor_signatures[node] for node in survivors]}
        )

        def add_survivors(message: Message) -> None:
            message.content.config_records[SURVIVORS_RECORD] = signed

        return super().unmask_stage(RelayGrid(grid, add_survivors, name=self.name), context, state)

    def _advertisements_of(self, nodes: Iterable[int]) -> ConfigRecord:
        return ConfigRecord({str(node): self.advertisements[node].to_values() for node in nodes})


class RelayGrid(Grid):
    """A grid that passes every message it sends through ``amend`` and every reply through ``read``.

    Flower's SecAgg+ stages build and read their own messages; FleetBench adds its records on the way.
    """

    def __init__(
        self,
        grid: Grid,
        amend: Callable[[Message], None] | None = None,
        read: Callable[[Message], None] | None = None,
        name: str = "secure sum",
    ) -> None:
        self.grid, self.amend, self.read, self.name = grid, amend, read, name

    def set_run(self, run: Run) -> None:
        """Adopt ``run``."""
        self.grid.set_run(run)

    @property
    def run(self) -> Run:
        """The current run."""
        return self.grid.run

    def create_message(
        self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str, ttl: float | None = None
    ) -> Message:
        """Flower's deprecated helper, passed through."""
        return self.grid.create_message(content, message_type, dst_node_id, group_id, ttl)

    def get_node_ids(self) -> Iterable[int]:
        """The wrapped grid's nodes."""
        return self.grid.get_node_ids()

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Amend, then push."""
        return self.grid.push_messages(self._amended(messages))

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        """Pull, and read each reply."""
        return self._read(self.grid.pull_messages(message_ids))

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        """Amend, send, and read the replies that come within ``timeout`` seconds, naming the sites awaited.

        Flower's own loop looks for replies every 3 s and says nothing while it waits; this one
        looks every :data:`POLL_SECONDS` and names the sites it waits for every :data:`REPORT_SECONDS`.
        """
        messages = self._amended(messages)
        stage = _stage(messages)
        what = f"{self.name}, {stage} stage" if stage else self.name
        pushed = list(self.grid.push_messages(messages))
        awaited = {mid: m.metadata.dst_node_id for mid, m in zip(pushed, messages, strict=True) if mid}
        unreachable = sorted(m.metadata.dst_node_id for mid, m in zip(pushed, messages, strict=True) if not mid)
        if unreachable:
            LOG.warning("%s: sites %s could not be sent their message; they leave the round", what, unreachable)
        replies: list[Message] = []
        began = reported = time.monotonic()
        while awaited:
            for reply in self.grid.pull_messages(list(awaited)):
                awaited.pop(reply.metadata.reply_to_message_id, None)
                replies.append(reply)
            now = time.monotonic()
            if not awaited:
                break
            if timeout is not None and now - began >= timeout:
                LOG.error(
                    "%s: no reply from sites %s within %.0f s (stage-timeout); they leave the round",
                    what,
                    sorted(awaited.values()),
                    timeout,
                )
                break
            if now - reported >= REPORT_SECONDS:
                LOG.info("%s: %.0f s, waiting for sites %s", what, now - began, sorted(awaited.values()))
                reported = now
            time.sleep(POLL_SECONDS)
        return self._read(replies)

    def _amended(self, messages: Iterable[Message]) -> list[Message]:
        messages = list(messages)
        if self.amend is not None:
            for message in messages:
                self.amend(message)
        return messages

    def _read(self, replies: Iterable[Message]) -> list[Message]:
        replies = list(replies)
        for reply in replies:
            if reply.has_error():
                # The reason a site left, as it sent it (sites' errors name no data): shown without the
                # sites' own logs, which the simulation engine forwards only with --verbose.
                LOG.warning("site %d left the round: %s", reply.metadata.src_node_id, reply.error.reason)
        if self.read is not None:
            for reply in replies:
                self.read(reply)
        return replies


def _stage(messages: list[Message]) -> str:
    """The SecAgg+ stage ``messages`` are for, as they say it ("" when they are not SecAgg+'s)."""
    configs = messages[0].content.config_records.get(RECORD_KEY_CONFIGS) if messages else None
    return str(configs.get(Key.STAGE, "")) if configs is not None else ""


def _forget_absent(workflow: SecAggPlusWorkflow, state: WorkflowState) -> bool:
    present = set(state.active_node_ids)
    state.sampled_node_ids = present
    state.nid_to_neighbours = {
        nid: neighbours & present for nid, neighbours in state.nid_to_neighbours.items() if nid in present
    }
    return workflow._check_threshold(state)


FULL_GRAPH_MAX_SITES = 15


def check_colluding_members(value: object) -> int:
    """The run config's ``max-colluding-members``: the members every round is sized against, an integer >= 0.

    The federation's agreement, as each site's policy states it (``max_colluding_members``, default
    1): a site refuses a round whose threshold, or a private round whose size, holds against fewer
    colluders than its policy's. Set it to the largest of the members' values.

    Raises
    ------
    ValueError
        Naming the setting, the value and how to set it.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"run config {COLLUDING_MEMBERS_SETTING} = {value!r}: use 0 or a positive integer, the largest "
            f"max_colluding_members of the sites' policies (default {COLLUDING_MEMBERS}), in [tool.flwr.app.config] "
            f"of the app's pyproject.toml or as `fleetbench release deploy --{COLLUDING_MEMBERS_SETTING} N`"
        )
    return value


def private_round_sites(spec: spec_pb2.BenchmarkSpec, colluding_members: int) -> int:
    """The fewest sites a round of ``spec`` may sum against ``colluding_members`` colluders, for its noise.

    For a private spec the sites' own rule (:func:`protos.privacy.min_private_participants`); 0 for any other.
    """
    if not spec.HasField("privacy"):
        return 0
    return min_private_participants(spec.privacy.min_noise_sites, colluding_members)


def check_private_round(spec: spec_pb2.BenchmarkSpec, sites: int, colluding_members: int, name: str) -> None:
    """Decline, before any site is sent the spec, a round of private ``spec`` that can have only ``sites`` sites.

    Every site whose policy assumes ``colluding_members`` colluders refuses, at collect, a private
    round of fewer than :func:`private_round_sites` (client/guard.py: check_private_sampling): the
    round would fail only after setup and key sharing, each site naming the reason in its own log.

    Raises
    ------
    RuntimeError
        Naming the round, the numbers and the setting.
    """
    needed = private_round_sites(spec, colluding_members)
    if sites < needed:
        t = spec.privacy.min_noise_sites
        raise RuntimeError(
            f"{name}: declined before any site was sent the spec: private spec {spec.spec_id} would be summed "
            f"over {sites} sites, and its noise needs {needed} against {COLLUDING_MEMBERS_SETTING} {colluding_members} "
            f"(min_noise_sites {t} - 1 + {colluding_members}, at least min_noise_sites), which every site whose "
            f"policy max_colluding_members is {colluding_members} would insist on; connect {needed} sites of the "
            "spec's kind (min-sites, sampling-timeout), or release a spec with a smaller min_noise_sites; no release "
            "was written"
        )


def neighbourhood(n_sites: int, colluding_members: int = COLLUDING_MEMBERS) -> tuple[int, int]:
    """SecAgg+ neighbourhood size and reconstruction threshold for ``n_sites`` sites.

    Up to 15 sites every site shares its secrets with all others; beyond, with a ring of
    k = 2 ceil(log2 n) + 1 sites (itself included), the logarithmic neighbourhood of SecAgg+
    (Bell et al. 2020, CCS, section 3.2) that keeps the protocol's cost O(n log n), not O(n^2).

    The threshold t = floor((k + c) / 2) + 1 exceeds half the neighbourhood plus the c members
    (``colluding_members``, the run config's ``max-colluding-members``) that may collude with the
    aggregator: whatever the aggregator tells whom, it never holds both t shares of a site's mask
    seed and t of its key (client.policy.check_round insists, with the site's own c). Flower needs
    t < k; where that leaves no such t (a full graph of c + 2 sites or fewer: 3 sites and one
    colluder; 3 or 4 sites and two) the threshold is k - 1, the largest it allows, and the signed survivor set
    does the work: a full graph of k sites cannot be split into two signed survivor sets that each
    hold the sites' minimum of survivors, when that minimum (each site's ``min_participants``)
    exceeds (k + c) / 2, which here means every one of the k sites. The price is dropout
    tolerance: a neighbourhood survives k - t dropouts.

    Returns
    -------
    num_shares, threshold : int

    Raises
    ------
    ValueError
        If there are fewer than :data:`MIN_SECURE_SUM_SITES` sites, or no more sites than
        colluding members (no site's policy can accept such a round).
    """
    if n_sites < MIN_SECURE_SUM_SITES:
        raise ValueError(f"secure aggregation needs at least {MIN_SECURE_SUM_SITES} sites, got {n_sites}")
    if n_sites <= colluding_members:
        raise ValueError(
            f"{n_sites} sites cannot be summed against {COLLUDING_MEMBERS_SETTING} {colluding_members}: a site "
            "accepts a round only with more sites than members that may collude with the aggregator"
        )
    k = n_sites if n_sites <= FULL_GRAPH_MAX_SITES else min(n_sites, 2 * math.ceil(math.log2(n_sites)) + 1)
    return k, min((k + colluding_members) // 2 + 1, k - 1)


def run_secure_sum(
    grid: Grid,
    context: Context,
    spec: spec_pb2.BenchmarkSpec,
    min_sites: int,
    extra_config: Mapping[str, bytes] | None = None,
    only_nodes: frozenset[int] | None = None,
    *,
    expected: frozenset[int] | None = None,
    waits: Waits = DEFAULT_WAITS,
    name: str = "secure sum",
    colluding_members: int = COLLUDING_MEMBERS,
) -> SecureSumOutcome:
    """Run one SecAgg+ round in which every connected site (of ``only_nodes``, when given) contributes to ``spec``.

    ``extra_config`` travels beside the spec to every site (round 2: the round-1 release; a
    values round: its census, whose sites are the ``only_nodes``). The round starts once
    ``min_sites`` of the ``expected`` sites (default ``only_nodes``; None: any) are connected,
    waiting at most ``waits.sampling`` seconds; each SecAgg+ stage waits at most ``waits.stage``
    seconds for its replies. ``name`` is the round in the logs ("round 2 census").

    The round is sized against ``colluding_members`` colluders (run config
    ``max-colluding-members``): its threshold (:func:`neighbourhood`) and, for a private spec,
    its fewest sites (:func:`check_private_round`, for ``only_nodes``; a round of any connected
    sites waits for that many).

    Raises
    ------
    RuntimeError
        If the round ends without an aggregate (the sites it needs never connected, or too few
        sites survived to unmask), or a private round is declined before it starts.
    """
    if only_nodes is not None:
        check_private_round(spec, len(only_nodes), colluding_members, name)
    min_sites = max(min_sites, private_round_sites(spec, colluding_members))
    install_keyed_masks()
    install_fast_shamir()
    connected = set(grid.get_node_ids())
    sites = len(connected & only_nodes) if only_nodes is not None else len(connected)
    num_shares, threshold = neighbourhood(max(min_sites, sites), colluding_members)
    if 2 * threshold <= num_shares + colluding_members:
        # The sites' refusal would name the rule in their own logs only; the aggregator's operator reads it here.
        LOG.info(
            "%s: threshold %d of %d neighbours; no threshold below %d exceeds (neighbours + %s %d) / 2, so each "
            "site accepts the round only if its policy's min_participants is at least %d (client/policy.py "
            "check_round, full graph)",
            name,
            threshold,
            num_shares,
            num_shares,
            COLLUDING_MEMBERS_SETTING,
            colluding_members,
            num_shares,
        )
    strategy = SecureSumStrategy(spec, min_sites, extra_config, only_nodes, waits.sampling)
    manager = BoundedClientManager(name, expected if expected is not None else only_nodes)
    secure = SignedSecAggPlusWorkflow(
        num_shares=num_shares,
        reconstruction_threshold=threshold,
        max_weight=1.0,
        clipping_range=float(CLIPPING_RANGE),
        quantization_range=QUANTIZATION_RANGE,
        modulus_range=MODULUS_RANGE,
        timeout=waits.stage,
        name=name,
    )
    legacy = LegacyContext(context, config=ServerConfig(num_rounds=1), strategy=strategy, client_manager=manager)
    DefaultWorkflow(fit_workflow=secure)(grid, legacy)
    if strategy.outcome is None:
        why = manager.shortfall or "too few sites took part or survived to unmask"
        raise RuntimeError(f"{name}: secure aggregation ended without a result ({why}); no release was written")
    committed = tuple(
        secure.census_commitments[n] for n in sorted(strategy.outcome.node_ids) if n in secure.census_commitments
    )
    return replace(strategy.outcome, census_commitments=committed)
