"""The site guard: a Flower mod, outside SecAgg+, that enforces the site's policy at every stage.

It also installs the keyed mask generator in this process before SecAgg+ masks anything. A
refusal is logged on the site and raised as ContributionRefused, whose text carries no detail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from flwr.app import ConfigRecord, Context, Message
from flwr.app.message_type import MessageType
from flwr.clientapp.typing import ClientAppCallable, Mod
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key, Stage
from flwr.compat.common.recorddict_compat import recorddict_to_fitins

from client.policy import (
    ContributionRefused,
    PolicyViolation,
    SitePolicy,
    check_round,
    check_spec,
    check_unmask_request,
)
from client.site_config import SiteConfigError, load_site_config
from protos.fleetbench.v1 import spec_pb2
from protos.masking import install_keyed_masks
from protos.messages import BASELINE_RELEASE_CONFIG_KEY, CENSUS_CONFIG_KEY, SPEC_CONFIG_KEY, SURVIVORS_RECORD

LOG = logging.getLogger("fleetbench.site")


@dataclass(frozen=True)
class RoundState:
    """What the site guard learned of a SecAgg+ round, kept in the node's state for its later stages."""

    participants: int  # sites sampled, as the aggregator announced at setup
    threshold: int  # shares needed to reconstruct a secret
    min_survivors: int = 0  # the fewest sites the sum may be unmasked over (set when the spec arrives)
    census_participants: int = 0  # a values round: the sites its census summed, which it must sum exactly
    spec_id: str = ""  # the round's spec, its release and round (client.audit.round_label), for the calendar
    release_key: str = ""
    round_label: str = ""
    neighbours: tuple[int, ...] = ()  # the nodes this site shared its secrets with (itself included)

    STATE_KEY = "fleetbench.guard"

    def remember(self, context: Context) -> None:
        """Keep this state in ``context`` for the round's later stages (and the ClientApp)."""
        context.state.config_records[self.STATE_KEY] = ConfigRecord(
            {
                name: list(value) if isinstance(value, tuple) else value
                for name, value in ((name, getattr(self, name)) for name in self.__dataclass_fields__)
            }
        )

    @classmethod
    def recall(cls, context: Context) -> RoundState | None:
        """The state remembered in ``context`` for this round, or None if this site took no part in its setup."""
        record = context.state.config_records.get(cls.STATE_KEY)
        if record is None:
            return None
        return cls(
            **{
                name: tuple(value) if isinstance(value, list) else value
                for name, value in ((name, record[name]) for name in cls.__dataclass_fields__)
            }
        )


def check_spec_round(
    policy: SitePolicy,
    state: RoundState,
    spec: spec_pb2.BenchmarkSpec,
    census: bytes | None,
    baseline: bytes | None = None,
) -> RoundState:
    """Check a spec against the round it arrives in; return the state the unmask stage will check against.

    Survivors at unmask must be at least the policy's ``min_participants`` and, for a private
    spec, its ``min_noise_sites`` (already refused here when fewer were sampled). A values round
    must sum exactly the sites of the census it was decided by.

    Raises
    ------
    PolicyViolation
    """
    check_spec(policy, spec)
    check_private_sampling(spec, state)
    min_survivors = policy.min_participants
    if spec.HasField("privacy"):
        min_survivors = max(min_survivors, spec.privacy.min_noise_sites)
    # Imported here: a SuperNode starts a process per SecAgg+ stage, and only this stage and the
    # unmask read the site's records; setup and key sharing stay quick.
    from client.audit import round_label
    from client.contribution import release_key

    census_participants = spec_pb2.Census.FromString(census).participants if census is not None else 0
    if census_participants and state.participants != census_participants:
        raise PolicyViolation(
            f"values round of spec {spec.spec_id} sampled {state.participants} sites; its census summed "
            f"{census_participants}"
        )
    return replace(
        state,
        min_survivors=min_survivors,
        census_participants=census_participants,
        spec_id=spec.spec_id,
        release_key=release_key(spec, baseline),
        round_label=round_label(spec),
    )


def check_private_sampling(spec: spec_pb2.BenchmarkSpec, state: RoundState) -> None:
    """Refuse a private spec's round that sampled fewer sites than its noise is split over.

    Each site adds sigma / sqrt(t - 1) of noise (t = min_noise_sites): with fewer than t sites
    the sum carries less noise than the spec states and every site is charged for.

    Raises
    ------
    PolicyViolation
    """
    if spec.HasField("privacy") and state.participants < spec.privacy.min_noise_sites:
        raise PolicyViolation(
            f"round of private spec {spec.spec_id} sampled {state.participants} sites; its noise needs "
            f"min_noise_sites {spec.privacy.min_noise_sites}"
        )


def check_survivors(state: RoundState, survivors: int) -> None:
    """Refuse to unmask a sum over fewer sites than the round needs, or other than its census's.

    Raises
    ------
    PolicyViolation
    """
    if survivors < state.min_survivors:
        raise PolicyViolation(f"unmask over {survivors} surviving sites; this round needs {state.min_survivors}")
    if state.census_participants and survivors != state.census_participants:
        raise PolicyViolation(
            f"unmask over {survivors} surviving sites; the census these values were decided by summed "
            f"{state.census_participants}"
        )


def _check_stage(msg: Message, context: Context, site_path: Path) -> None:
    configs = msg.content.config_records[RECORD_KEY_CONFIGS]
    stage = configs.get(Key.STAGE)
    policy = load_site_config(site_path).policy
    if stage == Stage.SETUP:
        state = RoundState(participants=int(configs[Key.SAMPLE_NUMBER]), threshold=int(configs[Key.THRESHOLD]))
        check_round(policy, state.participants, int(configs[Key.SHARE_NUMBER]), state.threshold)
        state.remember(context)
    elif stage == Stage.SHARE_KEYS:
        state = _recalled(context)
        # One public-key pair per neighbour, this site included: the real neighbourhood.
        neighbours = tuple(sorted(int(key) for key in configs if key != Key.STAGE))
        check_round(policy, state.participants, len(neighbours), state.threshold)
        replace(state, neighbours=neighbours).remember(context)
    elif stage == Stage.COLLECT_MASKED_VECTORS:
        state = _recalled(context)
        config = recorddict_to_fitins(msg.content, keep_input=True).config
        spec = spec_pb2.BenchmarkSpec.FromString(bytes(config[SPEC_CONFIG_KEY]))
        census, baseline = config.get(CENSUS_CONFIG_KEY), config.get(BASELINE_RELEASE_CONFIG_KEY)
        check_spec_round(
            policy,
            state,
            spec,
            bytes(census) if census is not None else None,
            bytes(baseline) if baseline is not None else None,
        ).remember(context)
    elif stage == Stage.UNMASK:
        state = _recalled(context)
        survivors = frozenset(int(node) for node in msg.content.config_records[SURVIVORS_RECORD]["node_ids"])
        check_unmask_request(
            msg.metadata.dst_node_id,
            frozenset(state.neighbours),
            survivors,
            list(configs[Key.ACTIVE_NODE_ID_LIST]),
            list(configs[Key.DEAD_NODE_ID_LIST]),
        )
        check_survivors(state, len(survivors))
        from client.audit import record_unmask

        # Written (and checked against the calendar) before any share of this round is revealed.
        record_unmask(site_path, state.spec_id, state.release_key, state.round_label, len(survivors))


def _recalled(context: Context) -> RoundState:
    state = RoundState.recall(context)
    if state is None:
        raise PolicyViolation("a stage of a round this site took no part in the setup of")
    return state


def make_site_guard(locate_site: Callable[[Context], Path]) -> Mod:
    """A mod that refuses, per the policy in the site.toml ``locate_site`` finds, any stage it must."""

    def site_guard(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
        install_keyed_masks()
        if msg.metadata.message_type == MessageType.TRAIN and RECORD_KEY_CONFIGS in msg.content.config_records:
            site_path = locate_site(context)
            try:
                _check_stage(msg, context, site_path)
            except (PolicyViolation, SiteConfigError, KeyError, TypeError, ValueError, OSError):
                LOG.exception("site %s: round refused by site policy", site_path)
                raise ContributionRefused() from None
        return call_next(msg, context)

    return site_guard
