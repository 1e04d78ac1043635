"""A release on Flower's deployment engine, followed until the store says whether it is made.

``flwr run`` only says that a run started; with ``--stream`` it exits 0 whatever became of the
run (seen: 42 s after its ServerApp was killed, the run listed ``finished:failed``), and a run
killed with its SuperLink stays listed ``running`` after a restart. :func:`deploy_release`
submits the run with ``flwr run``, relays the ServerApp's own lines from ``flwr log``, polls the
run's status with ``flwr ls`` and ends with the one fact that makes a release: whether the store
holds it. ``fleetbench release deploy`` prints what it finds.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from google.protobuf import json_format

from common.progress import Progress, silent
from protos.fleetbench.v1 import spec_pb2
from server.secure_sum import COLLUDING_MEMBERS_SETTING, check_colluding_members
from server.store import check_claimable, stored_release_id

METHOD = "secagg+"  # the provenance method of a federated release (server/publish.py)

UNFINISHED = ("pending", "starting", "running")
"""Flower's statuses of a run that has not finished (``flwr ls``); a finished one is "finished:REASON"."""

STATUS_EVERY = 30.0
"""Seconds between two ``flwr ls`` while the run's log still streams (:func:`deploy_release`)."""

LOG_TAIL_SECONDS = 10.0
"""Seconds a finished run's log may take to end on its own before its relay is stopped (:func:`deploy_release`)."""

RELAYED = ("fleetbench:", "ERROR", "Exit Code")
"""What of the run's log is relayed: the ServerApp's own lines, and Flower's errors."""


@dataclass(frozen=True)
class Federation:
    """Where runs go: a Flower app directory, a federation of ``flwr``'s config, and the ``flwr`` to call.

    ``environment`` (None: this process's) holds ``FLWR_HOME``, where ``flwr`` finds the
    federation's address and certificates.
    """

    app: Path
    name: str
    flwr: str = "flwr"
    environment: Mapping[str, str] | None = None

    def call(self, *arguments: str, timeout: float = 120.0) -> dict[str, Any]:
        """``flwr ARGUMENTS --format json``: its answer, or RuntimeError with Flower's reason."""
        try:
            result = subprocess.run(
                [self.flwr, *arguments, "--format", "json"],
                capture_output=True,
                text=True,
                env=None if self.environment is None else dict(self.environment),
                timeout=timeout,
                cwd=self.app,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"`flwr {arguments[0]}` did not answer: {exc}") from None
        # `--format json` exits 0 on failure too: the answer's "success" says (docs/deploying-facts.md).
        text = result.stdout[result.stdout.find("{") :]
        try:
            answer: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError:
            raise RuntimeError(
                f"`flwr {arguments[0]}` answered no JSON: {(result.stdout + result.stderr)[-500:]}"
            ) from None
        if not answer.get("success"):
            raise RuntimeError(f"`flwr {arguments[0]}` failed: {answer.get('error-message', answer)}")
        return answer

    def runs(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """The runs the SuperLink lists (``flwr ls``), or the one run ``run_id``."""
        arguments = ["ls", self.name] + ([] if run_id is None else ["--run-id", str(run_id)])
        return list(self.call(*arguments)["runs"])


@dataclass
class DeployOutcome:
    """Where a deployed release stands: its run, the run's last status, and its release in the store."""

    run_id: int
    status: str = "submitted"
    release_id: int | None = None  # in the store; None: no release of the spec there
    stale: list[str] = field(default_factory=list)  # other runs listed unfinished when this one was submitted

    @property
    def stored(self) -> bool:
        """Whether the store holds the spec's release: the release is made, whatever the run's status says."""
        return self.release_id is not None


def deploy_release(
    federation: Federation,
    run_config: Mapping[str, object],
    *,
    timeout: float = 3600.0,
    poll: float = 5.0,
    progress: Progress = silent,
) -> DeployOutcome:
    """Run a release on the deployment engine with ``run_config`` (pyproject.toml's keys), and follow it.

    Refuses, before submitting, a spec whose release the store already holds, and a
    ``max-colluding-members`` the ServerApp would refuse. Reports every other
    run the SuperLink lists unfinished (after a SuperLink restart a killed run stays "running").
    Then submits, relays the ServerApp's lines, and follows the run's status (every ``poll``
    seconds once its log has ended) until it is finished or ``timeout`` seconds pass. Paths in
    ``run_config`` are made absolute: the ServerApp runs elsewhere.

    Raises
    ------
    ReleaseExistsError
        If the store already holds the spec's release, sent to every site.
    ReleaseClaimedError
        If another run's claim on the spec's release is pending (``fleetbench release claims``).
    RuntimeError
        If ``flwr`` cannot submit the run or reach the SuperLink.
    ValueError
        If ``max-colluding-members`` is given and not an integer >= 0.
    """
    spec_path, store = Path(str(run_config["spec"])).resolve(), Path(str(run_config["store"])).resolve()
    spec = json_format.Parse(spec_path.read_text(encoding="utf-8"), spec_pb2.BenchmarkSpec())
    check_claimable(store, spec, METHOD)
    if COLLUDING_MEMBERS_SETTING in run_config:  # left out, the app's own default applies
        check_colluding_members(run_config[COLLUDING_MEMBERS_SETTING])
    config = {**run_config, "spec": spec_path, "store": store}
    if config.get("release-json"):
        config["release-json"] = Path(str(config["release-json"])).resolve()
    stale = [f"run {r['run-id']} ({r['status']} since {_since(r)})" for r in federation.runs() if _unfinished(r)]
    for run in stale:
        progress(
            f"the SuperLink lists {run}: if no ServerApp runs it (a SuperLink restart leaves killed runs "
            f"so), end it with `flwr stop RUN_ID {federation.name}`"
        )
    answer = federation.call("run", str(federation.app), federation.name, "--run-config", run_config_text(config))
    outcome = DeployOutcome(int(answer["run-id"]), stale=stale)
    progress(f"submitted: run {outcome.run_id} on {federation.name}")
    log = _relay_log(federation, outcome.run_id, progress)
    try:
        outcome.status = _follow(federation, outcome, timeout, poll, progress, log)
        if outcome.status.startswith("finished"):
            # The log ends with the run, but its last lines (the release stored, say) may come after the status.
            with contextlib.suppress(subprocess.TimeoutExpired):
                log.process.wait(timeout=LOG_TAIL_SECONDS)
    finally:
        log.stop()
    outcome.release_id = stored_release_id(store, spec, METHOD)
    return outcome


def _follow(
    federation: Federation, outcome: DeployOutcome, timeout: float, poll: float, progress: Progress, log: _LogRelay
) -> str:
    """The run's status once it is finished, or its last status when ``timeout`` seconds have passed.

    Each ``flwr ls`` is a new Python process of over a second of CPU, which a deployment on few
    cores takes from the release itself; while the run's log streams (``flwr log --stream`` ends
    with the run) the status is asked every :data:`STATUS_EVERY` seconds, once it has ended every
    ``poll`` seconds.
    """
    deadline, status, unreachable = time.monotonic() + timeout, outcome.status, False
    next_ask = time.monotonic()
    while time.monotonic() < deadline:
        streaming = log.process.poll() is None
        if not streaming or time.monotonic() >= next_ask:
            next_ask = time.monotonic() + STATUS_EVERY
            try:
                listed = federation.runs(outcome.run_id)
            except RuntimeError as exc:  # a SuperLink restarting; it may be back before the deadline
                if not unreachable:
                    progress(f"run {outcome.run_id}: the SuperLink does not answer ({exc}); still asking")
                unreachable = True
            else:
                unreachable = False
                if listed and listed[0]["status"] != status:
                    status = str(listed[0]["status"])
                    progress(f"run {outcome.run_id}: {status}")
                if status.startswith("finished"):
                    return status
        if streaming:
            with contextlib.suppress(subprocess.TimeoutExpired):
                log.process.wait(timeout=poll)
        else:
            time.sleep(poll)
    return status


@dataclass
class _LogRelay:
    """``flwr log RUN --stream`` in a process of its own, its relevant lines relayed by a thread."""

    process: subprocess.Popen[str]
    thread: threading.Thread

    def stop(self) -> None:
        """Stop the stream (by its pid) and wait for the relay to end."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.thread.join(timeout=10)


def _relay_log(federation: Federation, run_id: int, progress: Progress) -> _LogRelay:
    # `flwr log` starts no process of its own: its pipe closes when it exits (not so for the daemons,
    # docs/deploying-facts.md).
    process = subprocess.Popen(
        [federation.flwr, "log", str(run_id), federation.name, "--stream"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=None if federation.environment is None else dict(federation.environment),
        cwd=federation.app,
    )
    thread = threading.Thread(target=_relay, args=(process.stdout, progress), daemon=True)
    thread.start()
    return _LogRelay(process, thread)


def _relay(stream: IO[str] | None, progress: Progress) -> None:
    for line in stream or ():
        line = line.rstrip()
        if any(marker in line for marker in RELAYED):
            progress(line[line.find("fleetbench:") :] if "fleetbench:" in line else line)


def _unfinished(run: Mapping[str, Any]) -> bool:
    return str(run.get("status", "")).split(":")[0] in UNFINISHED


def _since(run: Mapping[str, Any]) -> str:
    return str(run.get("running-at") or run.get("starting-at") or run.get("pending-at") or "?")


def run_config_text(config: Mapping[str, object]) -> str:
    """``config`` as ``flwr run --run-config`` takes it: TOML literals (true/false, integers bare, the rest quoted)."""
    return " ".join(f"{key}={_toml_value(value)}" for key, value in config.items())


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int) else json.dumps(str(value))
