"""A whole consortium on one machine, on Flower's deployment engine (SuperLink, SuperNodes, ``flwr run``).

For the deployment test, the deployment benchmark and trying the steps of docs/deploying.md on
loopback. Every daemon runs in its own process session, so stopping it by pid also stops the
processes it started (Flower's SuperExec and its app processes).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from common.progress import Progress, silent
from server.deployment import DeployOutcome, Federation, deploy_release, run_config_text

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # flower-superlink, flower-supernode, flwr live beside this Python


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Daemon:
    """A started process (and its session) with its log file."""

    name: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        """Process id (also the id of its process group)."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the process has not exited."""
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Send ``sig`` to the process group, wait, then SIGKILL what is left; return the exit code."""
        for signum in (sig, signal.SIGKILL):
            try:
                os.killpg(self.pid, signum)
            except ProcessLookupError:
                break
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                continue
        return self.process.poll()


@dataclass
class LocalConsortium:
    """SuperLink, SuperNodes and the ``flwr`` CLI of one consortium, under ``root``, on 127.0.0.1.

    Parameters
    ----------
    root : Path
        Working folder: state database, logs, FLWR_HOME.
    ca_certificate, server_certificate, server_key : Path, optional
        TLS files (server/consortium.py makes them); all None runs insecure.
    node_authentication : bool
        Whether the SuperLink admits only registered SuperNodes.
    """

    root: Path
    ca_certificate: Path | None = None
    server_certificate: Path | None = None
    server_key: Path | None = None
    node_authentication: bool = False
    port: int = field(default_factory=free_port)
    daemons: list[Daemon] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.flwr_home.mkdir(exist_ok=True)
        connection = [f"[superlink.{self.federation}]", f'address = "127.0.0.1:{self.port}"']
        connection.append(f'root-certificates = "{self.ca_certificate}"' if self.tls else "insecure = true")
        (self.flwr_home / "config.toml").write_text("\n".join(connection) + "\n")

    federation = "consortium"

    @property
    def tls(self) -> bool:
        """Whether the SuperLink serves TLS."""
        return self.ca_certificate is not None

    @property
    def flwr_home(self) -> Path:
        """FLWR_HOME of this consortium's ``flwr`` CLI (connection config, installed app bundles)."""
        return self.root / "flwr-home"

    def environment(self) -> dict[str, str]:
        """Environment for every Flower process: FLWR_HOME, PATH with Flower's executables first, and fast polling.

        A SuperExec looks for new ClientApp and ServerApp tasks once a second by default; a
        release runs 20 SecAgg+ stages, each a new ClientApp task on every node, so it polls every
        0.2 s (FLWR_SUPEREXEC_TASK_POLL_INTERVAL, docs/deploying-facts.md).
        """
        return {
            **os.environ,
            "FLWR_HOME": str(self.flwr_home),
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "FLWR_SUPEREXEC_TASK_POLL_INTERVAL": "0.2",
        }

    def _start(self, name: str, command: list[str]) -> Daemon:
        log = self.root / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=self.environment(), start_new_session=True
            )
        daemon = Daemon(name, process, log)
        self.daemons.append(daemon)
        return daemon

    def _tls_client_flags(self) -> list[str]:
        return ["--root-certificates", str(self.ca_certificate)] if self.tls else ["--insecure"]

    def start_superlink(self, database: Path | None = None) -> Daemon:
        """Start the SuperLink on ``port`` and wait until it accepts connections."""
        command = [str(BIN / "flower-superlink"), "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--database", str(database or self.root / "superlink-state.db")]
        command += ["--disable-runtime-dependency-installation"]
        if self.tls:
            command += ["--ssl-ca-certfile", str(self.ca_certificate), "--ssl-certfile", str(self.server_certificate)]
            command += ["--ssl-keyfile", str(self.server_key)]
        else:
            command += ["--insecure"]
        if self.node_authentication:
            command += ["--enable-supernode-auth"]
        daemon = self._start("superlink", command)
        wait_for_port(self.port, daemon)
        return daemon

    def start_supernode(
        self, name: str, site_config: Path, private_key: Path | None = None, site_runtime: bool = True
    ) -> Daemon:
        """Start a SuperNode serving the operator whose data ``site_config`` maps (key: OpenSSH ECDSA).

        With ``site_runtime`` (as docs/deploying.md sets a site up) the SuperNode runs with
        ``--isolation process`` beside ``fleetbench site serve``, which answers its tasks with this
        installation's ClientApp; without, Flower's own SuperExec runs the FAB's ClientApp in a new
        process per message.
        """
        runtime_port = free_port()
        command = [str(BIN / "flower-supernode"), "--superlink", f"127.0.0.1:{self.port}", *self._tls_client_flags()]
        command += ["--port", str(runtime_port), "--node-config", f'site-config="{site_config}"']
        if private_key is not None:
            command += ["--auth-supernode-private-key", str(private_key)]
        if site_runtime:
            command += ["--isolation", "process"]
        supernode = self._start(name, command)
        if site_runtime:
            wait_for_port(runtime_port, supernode)
            serve = [sys.executable, "-m", "fleetbench.cli", "site", "serve"]
            self._start(f"{name}-runtime", [*serve, "--runtime-api-address", f"127.0.0.1:{runtime_port}"])
        return supernode

    def flwr(self, *arguments: str, timeout: float = 300.0) -> subprocess.CompletedProcess:
        """Run the ``flwr`` CLI against this consortium's SuperLink (output captured)."""
        return subprocess.run(
            [str(BIN / "flwr"), *arguments],
            capture_output=True,
            text=True,
            env=self.environment(),
            timeout=timeout,
            cwd=REPO_ROOT,
        )

    def deploy_release(
        self, run_config: Mapping[str, object], timeout: float = 900.0, progress: Progress = silent
    ) -> DeployOutcome:
        """The FleetBench app's release with ``run_config``, as ``fleetbench release deploy`` runs and follows it.

        ``progress`` hears what the command would print: the run's status and the ServerApp's lines.
        """
        federation = Federation(REPO_ROOT, self.federation, str(BIN / "flwr"), self.environment())
        return deploy_release(federation, run_config, timeout=timeout, poll=2.0, progress=progress)

    def start_release(self, run_config: Mapping[str, object]) -> subprocess.Popen:
        """Start ``flwr run`` of the FleetBench app with ``run_config``; its output streams to a pipe."""
        command = [str(BIN / "flwr"), "run", str(REPO_ROOT), self.federation]
        return subprocess.Popen(
            [*command, "--run-config", run_config_text(run_config), "--stream"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.environment(),
            cwd=REPO_ROOT,
        )

    def stop_all(self) -> None:
        """Stop every daemon this consortium started, newest first."""
        for daemon in reversed(self.daemons):
            daemon.stop()


def wait_for_port(port: int, daemon: Daemon, timeout: float = 60.0) -> None:
    """Wait until something listens on 127.0.0.1:``port``; raise if ``daemon`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not daemon.alive():
            raise RuntimeError(f"{daemon.name} exited with {daemon.process.returncode}; see {daemon.log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{daemon.name} did not listen on port {port} within {timeout:.0f} s; see {daemon.log}")
