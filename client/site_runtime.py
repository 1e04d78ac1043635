"""The site's task runtime: one long-lived process that runs the SuperNode's ClientApp tasks with this site's own code.

With Flower 1.42's default ``flower-supernode --isolation subprocess``, the SuperNode's SuperExec
starts a new ``flwr-clientapp`` process for every message, and that process installs and runs the
FAB the SuperLink sent: the code that runs beside the SCADA export is whatever the aggregator
submitted, and each of a release's 20 SecAgg+ stages pays seconds of Python start-up on every node.
With ``--isolation process`` the SuperNode leaves its tasks to an outside runtime;
``fleetbench site serve`` is that runtime. It takes each ClientApp task from the SuperNode's
Runtime API (``AcquireTask``, as Flower's SuperExec does), pulls its message and context, and
answers with the ClientApp this installation imports (``client.client_app.app``): the FAB is
never installed, imported or run, so an aggregator that ships other code changes nothing at the
site (tests/deployment/test_aggregator_app.py runs that attack, with Flower's own runtime as the
control).
"""

from __future__ import annotations

import threading
import time

from flwr.app import Context, Message
from flwr.app.error import Error
from flwr.clientapp import ClientApp
from flwr.common.constant import ErrorCode, SubStatus
from flwr.common.serde import context_from_proto, fab_from_proto, run_from_proto
from flwr.proto.node_pb2 import Node  # type: ignore[attr-defined]
from flwr.proto.runtime_pb2 import (  # type: ignore[attr-defined]
    AcquireTaskRequest,
    PullAppMessagesRequest,
    PullTaskInputRequest,
)
from flwr.supercore.constant import TaskType
from flwr.supercore.fab import Fab
from flwr.supercore.heartbeat import HeartbeatSender, make_task_heartbeat_fn_http
from flwr.supercore.inflatable.inflatable_protobuf_utils import (
    make_confirm_message_received_fn_protobuf,
    make_pull_object_fn_protobuf,
)
from flwr.supercore.inflatable.inflatable_utils import pull_and_inflate_object_from_tree
from flwr.supercore.interceptors import RuntimeTokenHttpInterceptor, RuntimeVersionHttpInterceptor
from flwr.supercore.retry import make_simple_http_retry_invoker
from flwr.supercore.run import Run, RunNotRunningException
from flwr.supercore.runtime import RuntimeHttpClient
from flwr.supercore.task_identity import TaskIdentity
from flwr.supernode.runtime.run_clientapp import push_message, push_task_output

from common.progress import Progress, silent

RUNTIME_NAME = "fleetbench-site-runtime"
"""How this runtime names itself to the SuperNode (Flower's version header)."""


def _runtime_client(address: str, token: str | None = None) -> RuntimeHttpClient:
    """A client of the SuperNode's Runtime API on loopback (plain HTTP, as the SuperNode serves it by default)."""
    interceptors = [RuntimeVersionHttpInterceptor(component_name=RUNTIME_NAME)]
    if token is not None:
        interceptors.append(RuntimeTokenHttpInterceptor(token))
    return RuntimeHttpClient.from_server_address(
        server_address=address,
        insecure=True,
        root_certificates=None,
        interceptors=interceptors,
        retry_invoker=make_simple_http_retry_invoker(),
    )


OBJECT_PULL_BACKOFF = (0.02, 0.5)
"""First and longest wait (seconds) between two pulls of a message's object the SuperNode has not yet got.

The SuperNode hands out a task before it has pulled the message's objects from the SuperLink;
Flower's own runtime, a new process per message, waits 1 s first (then 2, 4, 8 s), which a
long-lived runtime would pay at nearly every stage.
"""


def pull_task_input(client: RuntimeHttpClient) -> tuple[Message, Context, Run, Fab]:
    """The task's message, context, run and FAB from the SuperNode: Flower's runtime's pull, with short waits."""
    task = client.PullTaskInput(PullTaskInputRequest())
    # Flower stamps every Message it builds (the reply too) with the task's identity.
    TaskIdentity.task_id, TaskIdentity.run_id = task.task_id, task.run.run_id
    TaskIdentity.node_id = task.context.node_id
    context = context_from_proto(task.context)
    messages = client.PullMessages(PullAppMessagesRequest())
    if not messages.messages_list:
        raise RuntimeError("the SuperNode's Runtime API sent a task without a message")
    node, tree = Node(node_id=context.node_id), messages.message_object_trees[0]
    message: Message = pull_and_inflate_object_from_tree(
        tree,
        make_pull_object_fn_protobuf(client.PullObject, node, context.run_id),
        make_confirm_message_received_fn_protobuf(client.ConfirmMessageReceived, node, context.run_id),
        return_type=Message,
        initial_backoff=OBJECT_PULL_BACKOFF[0],
        backoff_cap=OBJECT_PULL_BACKOFF[1],
    )
    # The deflated message does not carry its own id (its object id), as in Flower's runtime.
    message.metadata.__dict__["_message_id"] = tree.object_id
    return message, context, run_from_proto(task.run), fab_from_proto(task.fab)


def run_task(address: str, token: str, app: ClientApp, progress: Progress = silent) -> None:
    """Run the task ``token`` names with ``app`` and push its reply, context and final sub-status.

    What the ClientApp raises becomes an error reply carrying the exception's type and text, as in
    Flower's own runtime; the site's messages say what was refused without naming data. ``progress``
    hears one line per task (its run, message type and time).
    """
    client = _runtime_client(address, token)
    heartbeat = HeartbeatSender(make_task_heartbeat_fn_http(client))
    heartbeat.start()
    context = None
    status, details = SubStatus.FAILED, "ClientApp task failed"
    try:
        began = time.perf_counter()
        message, context, run, fab = pull_task_input(client)
        try:
            reply = app(message=message, context=context)
            status, details = SubStatus.COMPLETED, ""
        except Exception as exc:  # any failure of the app becomes an error reply, as in Flower
            details = f"{type(exc)}:<'{exc}'>"
            reply = Message(Error(code=ErrorCode.CLIENT_APP_RAISED_EXCEPTION, reason=details), reply_to=message)
        push_message(client, reply, context)
        progress(
            f"run {run.run_id}: {message.metadata.message_type} message answered in "
            f"{time.perf_counter() - began:.2f} s{'' if status == SubStatus.COMPLETED else ' with an error'} "
            f"(FAB {fab.hash_str[:12]} not run)"
        )
    finally:
        push_task_output(client=client, context=context, sub_status=status, details=details)
        heartbeat.stop()
        client.close()


def serve_tasks(
    address: str, app: ClientApp, stop: threading.Event, poll: float = 0.5, progress: Progress = silent
) -> int:
    """Take the SuperNode's ClientApp tasks at ``address`` one at a time until ``stop`` is set; return how many ran.

    ``poll`` (seconds) is the wait between two asks when none is pending; the SuperNode itself
    hands a node one message at a time. A task that fails outside the ClientApp (its run stopped
    meanwhile, the SuperNode restarted) is reported and left to the SuperNode's own expiry: the
    runtime goes on with the next.
    """
    client = _runtime_client(address)
    ran = 0
    try:
        while not stop.is_set():
            acquired = client.AcquireTask(AcquireTaskRequest(supported_task_types=[TaskType.CLIENT_APP]))
            if not (acquired.HasField("task") and acquired.token):
                stop.wait(poll)
                continue
            ran += 1
            try:
                run_task(address, acquired.token, app, progress)
            except RunNotRunningException:  # a BaseException in Flower 1.42
                progress(f"run {acquired.task.run_id}: no longer running; its task was dropped")
            except Exception as exc:
                progress(f"run {acquired.task.run_id}: task not answered ({type(exc).__name__}: {exc})")
    finally:
        client.close()
    return ran
