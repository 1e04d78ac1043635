"""The site guard: a Flower mod, outside SecAgg+, that enforces the site's policy at every stage.

It also installs the keyed mask generator in this process before SecAgg+ masks anything. A
refusal is logged on the site and raised as ContributionRefused, whose text carries no detail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from flwr.app import ConfigRecord, Context, Message
from flwr.app.message_type import MessageType
from flwr.clientapp.typing import ClientAppCallable, Mod
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key, Stage
from flwr.compat.common.recorddict_compat import recorddict_to_fitins

from client.contribution import ContributionRefused
from client.policy import PolicyViolation, check_round, check_spec, check_unmask_request
from client.site_config import SiteConfigError, load_site_config
from protos.fleetbench.v1 import spec_pb2
from protos.masking import install_keyed_masks
from protos.messages import SPEC_CONFIG_KEY

LOG = logging.getLogger("fleetbench.site")
GUARD_STATE = "fleetbench.guard"


def _check_stage(msg: Message, context: Context, site_path: Path) -> None:
    configs = msg.content.config_records[RECORD_KEY_CONFIGS]
    stage = configs.get(Key.STAGE)
    policy = load_site_config(site_path).policy
    remembered = context.state.config_records.get(GUARD_STATE, ConfigRecord())
    if stage == Stage.SETUP:
        participants, threshold = int(configs[Key.SAMPLE_NUMBER]), int(configs[Key.THRESHOLD])
        check_round(policy, participants, int(configs[Key.SHARE_NUMBER]), threshold)
        context.state.config_records[GUARD_STATE] = ConfigRecord({"participants": participants, "threshold": threshold})
    elif stage == Stage.SHARE_KEYS:
        # One public-key pair per neighbour, this site included: the real neighbourhood size.
        neighbours = sum(1 for key in configs if key != Key.STAGE)
        check_round(policy, int(remembered["participants"]), neighbours, int(remembered["threshold"]))
    elif stage == Stage.COLLECT_MASKED_VECTORS:
        spec_bytes = recorddict_to_fitins(msg.content, keep_input=True).config[SPEC_CONFIG_KEY]
        check_spec(policy, spec_pb2.BenchmarkSpec.FromString(bytes(spec_bytes)))
    elif stage == Stage.UNMASK:
        check_unmask_request(
            msg.metadata.dst_node_id, list(configs[Key.ACTIVE_NODE_ID_LIST]), list(configs[Key.DEAD_NODE_ID_LIST])
        )


def make_site_guard(locate_site: Callable[[Context], Path]) -> Mod:
    """A mod that refuses, per the policy in the site.toml ``locate_site`` finds, any stage it must."""

    def site_guard(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
        install_keyed_masks()
        if msg.metadata.message_type == MessageType.TRAIN and RECORD_KEY_CONFIGS in msg.content.config_records:
            site_path = locate_site(context)
            try:
                _check_stage(msg, context, site_path)
            except (PolicyViolation, SiteConfigError, KeyError, TypeError, ValueError):
                LOG.exception("site %s: round refused by site policy", site_path)
                raise ContributionRefused() from None
        return call_next(msg, context)

    return site_guard
