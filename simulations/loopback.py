"""An in-process federation for protocol tests: the real ServerApp logic and ClientApps, no Ray.

:class:`LoopbackGrid` is a Flower ``Grid`` that delivers each message straight to the
destination node's ClientApp in this process (when pushed), with one persistent Context per node (as a
SuperNode keeps one). It can make chosen nodes drop out at a chosen SecAgg+ stage and keeps
every message the server received, so tests can see exactly what the aggregator held.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from uuid import uuid4

from flwr.app import Context, Error, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.common.constant import SUPERLINK_NODE_ID, ErrorCode
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key
from flwr.serverapp import Grid
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

FIRST_NODE_ID = 100


@dataclass
class LoopbackGrid(Grid):
    """Delivers messages to in-process ClientApps, one per node.

    Parameters
    ----------
    client_app : ClientApp
        The app every node runs.
    n_nodes : int
        Number of nodes; node ``FIRST_NODE_ID + i`` has ``partition-id`` i.
    drop_at : mapping
        Partition id -> SecAgg+ stage name at which that node stops answering (and stays gone).
    """

    client_app: ClientApp
    n_nodes: int
    drop_at: Mapping[int, str] = field(default_factory=dict)
    received: list[Message] = field(default_factory=list)
    _run: Run = field(default_factory=lambda: Run.create_empty(run_id=7))
    _contexts: dict[int, Context] = field(default_factory=dict)
    _dropped: set[int] = field(default_factory=set)
    _replies: dict[str, Message] = field(default_factory=dict)  # pushed message id -> reply not yet pulled

    def __post_init__(self) -> None:
        # Flower stamps new messages with the identity of the process's task, as run_simulation sets it.
        TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, self._run.run_id, SUPERLINK_NODE_ID
        for partition in range(self.n_nodes):
            node_id = FIRST_NODE_ID + partition
            self._contexts[node_id] = Context(
                run_id=self._run.run_id,
                node_id=node_id,
                node_config={"partition-id": partition, "num-partitions": self.n_nodes},
                state=RecordDict(),
                run_config={},
            )

    def set_run(self, run: Run) -> None:
        """Adopt ``run``."""
        self._run = run

    @property
    def run(self) -> Run:
        """The current run."""
        return self._run

    def create_message(
        self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str, ttl: float | None = None
    ) -> Message:
        """A message to ``dst_node_id`` (Flower's deprecated helper, kept for the interface)."""
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def leave(self, node_id: int) -> None:
        """Node ``node_id`` disconnects (between stages or rounds, where ``drop_at`` cannot say)."""
        self._dropped.add(node_id)

    def rejoin(self, node_id: int) -> None:
        """Node ``node_id`` connects again, as a restarted SuperNode does, with the same Context."""
        self._dropped.discard(node_id)

    def get_node_ids(self) -> Iterable[int]:
        """Every node that has not dropped out."""
        return [node for node in self._contexts if node not in self._dropped]

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Deliver every message now; its reply waits for :meth:`pull_messages`.

        A message to a node that has dropped out cannot be pushed: its id is "" (Flower's
        deployment grid gives None for such a message).
        """
        ids = []
        for message in messages:
            node = message.metadata.dst_node_id
            stage = message.content.config_records.get(RECORD_KEY_CONFIGS, {}).get(Key.STAGE)
            if node - FIRST_NODE_ID in self.drop_at and self.drop_at[node - FIRST_NODE_ID] == stage:
                self._dropped.add(node)
            if node in self._dropped:
                ids.append("")
                continue
            # A copy, as if serialised: Flower's workflow shares one content object between messages.
            message = deepcopy(message)
            message.metadata.__dict__["_message_id"] = str(uuid4())
            ids.append(message.metadata.message_id)
            try:
                self._replies[message.metadata.message_id] = self.client_app(
                    message=message, context=self._contexts[node]
                )
            except Exception as exc:
                # The same reason text Flower's SuperNode sends (supernode/runtime/run_clientapp.py).
                reason = str(type(exc)) + ":<'" + str(exc) + "'>"
                error = Error(code=ErrorCode.CLIENT_APP_RAISED_EXCEPTION, reason=reason)
                self._replies[message.metadata.message_id] = Message(error, reply_to=message)
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        """The replies to ``message_ids`` (each once), kept in :attr:`received`."""
        replies = [self._replies.pop(mid) for mid in message_ids if mid in self._replies]
        self.received.extend(replies)
        return replies

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        """Deliver every message and return the replies of the nodes that answer."""
        return self.pull_messages(self.push_messages(messages))
