"""The operator's Flower ClientApp: wiring only.

SecAgg+ (``secaggplus_mod``) calls the handler once per round, in its "collect masked vectors"
stage, with the legacy FitIns layout; the handler answers with the site's encoded blocks, a
constant weight and no metrics, and the mod masks them before anything leaves the site. Each
contribution and each received release is recorded in the site's own audit log (client.audit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.client.mod import secaggplus_mod
from flwr.clientapp import ClientApp
from flwr.clientapp.typing import Mod
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters
from flwr.compat.common.recorddict_compat import fitres_to_recorddict, recorddict_to_fitins

from client.guard import RoundState, make_site_guard
from client.policy import ContributionRefused
from protos.domain import SITE_KINDS
from protos.messages import (
    BASELINE_RELEASE_CONFIG_KEY,
    CENSUS_CONFIG_KEY,
    CONSTANT_WEIGHT,
    FINAL_RELEASE_CONFIG_KEY,
    FLEET_DIR_RUN_KEY,
    SITE_CONFIG_NODE_KEY,
    SITE_KIND_CONFIG_KEY,
    SPEC_CONFIG_KEY,
)


def resolve_site_config(context: Context, site_configs: Sequence[Path] | None = None) -> Path:
    """The site.toml this node serves.

    A SuperNode names it in its node config (``site-config``); in simulation, virtual node
    ``partition-id`` serves entry ``partition-id`` of ``site_configs`` or, failing that, of the
    sorted ``*/site.toml`` under the run config's ``fleet-dir``.
    """
    if SITE_CONFIG_NODE_KEY in context.node_config:
        return Path(str(context.node_config[SITE_CONFIG_NODE_KEY]))
    if site_configs is None:
        fleet_dir = Path(str(context.run_config.get(FLEET_DIR_RUN_KEY, "")))
        site_configs = sorted(fleet_dir.glob("*/site.toml"))
    partition = int(context.node_config["partition-id"])
    return Path(site_configs[partition])


def build_client_app(site_configs: Sequence[Path] | None = None, outer_mods: Sequence[Mod] = ()) -> ClientApp:
    """A ClientApp behind SecAgg+ that contributes the site's blocks to the spec it is sent.

    The site guard (policy checks, keyed masks) wraps SecAgg+; ``outer_mods`` wrap both, so they
    see only what actually leaves the site.
    """

    def locate_site(context: Context) -> Path:
        return resolve_site_config(context, site_configs)

    app = ClientApp(mods=[*outer_mods, make_site_guard(locate_site), secaggplus_mod])

    @app.train()
    def send_blocks(msg: Message, context: Context) -> Message:
        fitins = recorddict_to_fitins(msg.content, keep_input=True)
        baseline, census = fitins.config.get(BASELINE_RELEASE_CONFIG_KEY), fitins.config.get(CENSUS_CONFIG_KEY)
        site, spec_bytes = locate_site(context), bytes(fitins.config[SPEC_CONFIG_KEY])
        # Imported here: a SuperNode starts a process per message, and only this one computes blocks.
        from client.contribution import contribute

        round_state = RoundState.recall(context)
        # Recorded in the audit log before SecAgg+ masks and sends the blocks: a contribution the site
        # cannot record (or its release calendar refuses) is not sent.
        sent = contribute(
            site,
            spec_bytes,
            bytes(baseline) if baseline is not None else None,
            bytes(census) if census is not None else None,
            len(round_state.participants) if round_state is not None else None,
            context.run_id,
            context.node_id,
        )
        if round_state is not None and sent.census_commitment:  # the guard signs it into the reply
            replace(round_state, census_commitment=sent.census_commitment).remember(context)
        fitres = FitRes(
            status=Status(code=Code.OK, message=""),
            parameters=ndarrays_to_parameters(sent.arrays),
            num_examples=CONSTANT_WEIGHT,
            metrics={},
        )
        return Message(fitres_to_recorddict(fitres, keep_input=False), reply_to=msg)

    @app.query()
    def answer_query(msg: Message, context: Context) -> Message:
        """The site's kind when asked for it (nothing else of the site), else the final release to keep."""
        site = locate_site(context)
        config = msg.content.config_records.get("config")
        if config is not None and SITE_KIND_CONFIG_KEY in config:
            from client.site_kinds import site_kind

            kind = site_kind(site)
            if kind not in SITE_KINDS:  # the answer is one of two words, never what site.toml holds
                raise ContributionRefused()
            return Message(RecordDict({"config": ConfigRecord({SITE_KIND_CONFIG_KEY: kind})}), reply_to=msg)
        from client.contribution import receive_release

        try:
            release_bytes = bytes(msg.content["config"][FINAL_RELEASE_CONFIG_KEY])
        except (KeyError, TypeError):
            raise ContributionRefused() from None
        receive_release(site, release_bytes)
        return Message(RecordDict(), reply_to=msg)

    return app


app = build_client_app()
