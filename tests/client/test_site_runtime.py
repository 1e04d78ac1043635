"""The site runtime outlives a task that fails outside the ClientApp (client/site_runtime.py).

The runtime's end-to-end behaviour (tasks answered with the installed ClientApp, the aggregator's
FAB never run) is tested on the deployment engine: tests/deployment/test_aggregator_app.py.
"""

from __future__ import annotations

import threading

import pytest
from flwr.proto.runtime_pb2 import AcquireTaskResponse
from flwr.proto.task_pb2 import Task
from flwr.supercore.run import RunNotRunningException

import client.site_runtime as site_runtime


class FakeRuntimeApi:
    """A SuperNode's Runtime API with the given tasks pending; stops the runtime once they are taken."""

    def __init__(self, tasks: int, stop: threading.Event) -> None:
        self.pending, self.stop, self.closed = tasks, stop, False

    def AcquireTask(self, request: object) -> AcquireTaskResponse:  # noqa: N802 - Flower's method name
        if self.pending == 0:
            self.stop.set()
            return AcquireTaskResponse()
        self.pending -= 1
        return AcquireTaskResponse(task=Task(task_id=self.pending, run_id=42), token=f"token-{self.pending}")

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (RunNotRunningException(), "run 42: no longer running; its task was dropped"),
        (ConnectionError("refused"), "run 42: task not answered (ConnectionError: refused)"),
    ],
)
def test_a_task_that_fails_outside_the_app_is_reported_and_the_next_one_still_runs(
    failure: BaseException, said: str, monkeypatch: pytest.MonkeyPatch
):
    stop = threading.Event()
    api = FakeRuntimeApi(tasks=2, stop=stop)
    answered: list[str] = []

    def run_task(address: str, token: str, app: object, progress: object) -> None:
        if token == "token-1":
            raise failure
        answered.append(token)

    monkeypatch.setattr(site_runtime, "_runtime_client", lambda address, token=None: api)
    monkeypatch.setattr(site_runtime, "run_task", run_task)
    lines: list[str] = []
    ran = site_runtime.serve_tasks(
        "127.0.0.1:9094",
        app=None,  # type: ignore[arg-type]
        stop=stop,
        poll=0.01,
        progress=lambda message, **_: lines.append(message),
    )
    assert ran == 2 and answered == ["token-0"]  # the failed task is reported, the next one runs
    assert lines == [said]
    assert api.closed
