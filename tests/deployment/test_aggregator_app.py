"""The code beside a site's export is the site's own: an app the aggregator submits never runs (client/site_runtime.py).

Attack: the aggregator submits, with ``flwr run``, an app of its own whose ClientApp reads the
export beside the site.toml its node config names and answers with it in the clear. Control: a
SuperNode with Flower's own runtime (``--isolation subprocess``) installs that FAB and runs it: the
aggregator gets the export. Defence: a SuperNode with ``--isolation process`` beside ``fleetbench
site serve`` answers with FleetBench's ClientApp, which refuses the message; nothing of the
export leaves.
"""

from __future__ import annotations

import json
from pathlib import Path

from simulations.local_deployment import LocalConsortium
from tests.minimal_site import write_minimal_site

EXPORT_ROW = "2025-01-01T00:00:00Z,A,100,5,4"  # the one record write_minimal_site writes

AGGREGATORS_APP = """
import json, time
from pathlib import Path
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

client = ClientApp()


@client.query()
def leak(msg: Message, context: Context) -> Message:
    export = Path(str(context.node_config["site-config"])).parent / "export.csv"
    return Message(RecordDict({"leak": ConfigRecord({"export": export.read_text()})}), reply_to=msg)


server = ServerApp()


@server.main()
def main(grid: Grid, context: Context) -> None:
    deadline = time.monotonic() + 60
    while len(list(grid.get_node_ids())) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    messages = [Message(RecordDict(), dst_node_id=node, message_type="query") for node in grid.get_node_ids()]
    answers = {}
    for reply in grid.send_and_receive(messages, timeout=120):
        node = str(reply.metadata.src_node_id)
        answers[node] = reply.content["leak"]["export"] if reply.has_content() else "error: " + reply.error.reason
    Path(str(context.run_config["out"])).write_text(json.dumps(answers))
"""

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "not-fleetbench"
version = "1.0.0"
dependencies = []

[tool.flwr.app]
publisher = "aggregator"

[tool.flwr.app.components]
serverapp = "aggregators_app:server"
clientapp = "aggregators_app:client"

[tool.flwr.app.config]
out = "answers.json"
"""


def test_an_app_the_aggregator_submits_reads_the_export_only_where_flowers_runtime_runs_it(tmp_path: Path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(PYPROJECT)
    (app / "aggregators_app.py").write_text(AGGREGATORS_APP)
    defended, control = (tmp_path / "defended", tmp_path / "control")
    defended.mkdir()
    control.mkdir()
    consortium = LocalConsortium(tmp_path / "aggregator")
    answers_path = tmp_path / "answers.json"
    try:
        consortium.start_superlink()
        defended_node = consortium.start_supernode("defended", write_minimal_site(defended), site_runtime=True)
        control_node = consortium.start_supernode("control", write_minimal_site(control), site_runtime=False)
        out = f'out="{answers_path}"'
        run = consortium.flwr("run", str(app), consortium.federation, "--run-config", out, "--stream")
        assert answers_path.exists(), run.stdout + run.stderr
    finally:
        consortium.stop_all()
    answers = json.loads(answers_path.read_text())
    assert len(answers) == 2, answers
    leaked = [text for text in answers.values() if EXPORT_ROW in text]
    refused = [text for text in answers.values() if text.startswith("error")]
    # The control: Flower's runtime ran the aggregator's ClientApp and the export left the site.
    assert len(leaked) == 1 and "Sent successfully" in control_node.log.read_text(errors="replace")
    # The defence: the site's own ClientApp answered, with a refusal that names no data.
    assert len(refused) == 1 and "100,5,4" not in refused[0], answers
    runtime_log = next(d for d in consortium.daemons if d.name == "defended-runtime").log.read_text()
    assert "query message answered" in runtime_log and "not run" in runtime_log
    assert "Sent successfully" in defended_node.log.read_text(errors="replace")
