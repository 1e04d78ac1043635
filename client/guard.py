"""The site guard: a Flower mod, outside SecAgg+, that enforces the site's policy at every stage.

It also installs the keyed mask generator in this process before SecAgg+ masks anything. A
refusal is logged on the site and raised as ContributionRefused, whose text carries no detail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class RoundState:
    """What the site guard learned of a SecAgg+ round at setup, kept in the node's state for later stages."""

    participants: int  # sites sampled, as the aggregator announced
    threshold: int  # shares needed to reconstruct a secret

    STATE_KEY = "fleetbench.guard"

    def remember(self, context: Context) -> None:
        """Keep this state in ``context`` for the round's later stages (and the ClientApp)."""
        context.state.config_records[self.STATE_KEY] = ConfigRecord(
            {"participants": self.participants, "threshold": self.threshold}
        )

    @classmethod
    def recall(cls, context: Context) -> RoundState | None:
        """The state remembered in ``context`` at this round's setup, or None if there was none."""
        record = context.state.config_records.get(cls.STATE_KEY)
        if record is None:
            return None
        return cls(participants=int(record["participants"]), threshold=int(record["threshold"]))


def _check_stage(msg: Message, context: Context, site_path: Path) -> None:
    configs = msg.content.config_records[RECORD_KEY_CONFIGS]
    stage = configs.get(Key.STAGE)
    policy = load_site_config(site_path).policy
    if stage == Stage.SETUP:
        state = RoundState(participants=int(configs[Key.SAMPLE_NUMBER]), threshold=int(configs[Key.THRESHOLD]))
        check_round(policy, state.participants, int(configs[Key.SHARE_NUMBER]), state.threshold)
        state.remember(context)
    elif stage == Stage.SHARE_KEYS:
        state = RoundState.recall(context)
        if state is None:
            raise PolicyViolation("key sharing without a setup stage this site took part in")
        # One public-key pair per neighbour, this site included: the real neighbourhood size.
        neighbours = sum(1 for key in configs if key != Key.STAGE)
        check_round(policy, state.participants, neighbours, state.threshold)
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
