"""The site guard: a Flower mod, outside SecAgg+, that enforces the site's policy at every stage.

Stage by stage (client/membership.py has the member checks):

- setup: the round's size and threshold; the site signs the fresh public keys SecAgg+ made;
- key sharing: every neighbour a distinct roster member, before any secret is shared;
- collect: every participant a distinct member, this site advertised with the keys it made, and
  the spec and census, before the masked vector;
- consistency (FleetBench's own stage): sign the survivor set, which must be verified participants,
  with the SHA-256 of the spec and census this site received and of the survivors' keys;
- unmask: every survivor signed that same set and the same hashes, and the request splits the
  neighbours by it, before any share is revealed.

It also installs the keyed mask generator (and the faster, share-compatible Shamir sharing of
protos/shamir.py) in this process before SecAgg+ masks or shares anything. A
refusal is logged on the site and raised as ContributionRefused, whose text carries no detail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from secrets import token_hex

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.clientapp.typing import ClientAppCallable, Mod
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key, Stage
from flwr.compat.common.recorddict_compat import recorddict_to_fitins

from client.membership import (
    check_census_commitments,
    check_commitment_list,
    check_neighbours,
    check_own_keys,
    check_participants,
    check_survivor_set,
    check_survivor_signatures,
    signature_check,
)
from client.policy import (
    ContributionRefused,
    PolicyViolation,
    SitePolicy,
    check_round,
    check_spec,
    check_unmask_request,
)
from client.site_config import MemberConfig, SiteConfig, SiteConfigError
from client.site_kinds import load_any_site_config
from client.solar.site_config import SolarSiteConfig
from protos.census import census_sha256, census_spec
from protos.codec import spec_sha256
from protos.fleetbench.v1 import spec_pb2
from protos.masking import install_keyed_masks
from protos.messages import (
    BASELINE_RELEASE_CONFIG_KEY,
    CENSUS_CONFIG_KEY,
    COMMITMENT_RECORD,
    CONSISTENCY_STAGE,
    MEMBER_RECORD,
    MEMBERS_RECORD,
    SPEC_CONFIG_KEY,
    SURVIVORS_RECORD,
)
from protos.privacy import min_private_participants
from protos.roster import (
    Advertisement,
    Roster,
    RosterError,
    census_commitment_statement,
    key_advertisement,
    round_keys_sha256,
    survivor_statement,
)
from protos.shamir import install_fast_shamir

LOG = logging.getLogger("fleetbench.site")


@dataclass(frozen=True)
class RoundState:
    """What the site guard learned of a SecAgg+ round, kept in the node's state for its later stages."""

    sampled: int  # sites sampled, as the aggregator announced at setup
    threshold: int  # shares needed to reconstruct a secret
    round_id: str = ""  # random, drawn at setup: names the round's identity in this process (see _site_identity)
    own_keys: tuple[bytes, ...] = ()  # the two public keys SecAgg+ made for this site at setup, as it signed them
    min_survivors: int = 0  # the fewest sites the sum may be unmasked over (set when the spec arrives)
    census_participants: int = 0  # a values round: the sites its census summed, which it must sum exactly
    spec_id: str = ""  # the round's spec, its release and round (client.audit.round_label), for the calendar
    spec_sha256: str = ""  # the spec and census this site received, which every survivor must sign alike
    census_sha256: str = ""  # "" in a round without a census
    release_key: str = ""
    round_label: str = ""
    neighbours: tuple[int, ...] = ()  # the nodes this site shared its secrets with (itself included)
    neighbour_members: tuple[str, ...] = ()  # their members, verified
    verified_signatures: tuple[bytes, ...] = ()  # membership.signature_check of each neighbour's advertisement
    participants: tuple[int, ...] = ()  # every node of the round, each verified a distinct member (at collect)
    participant_members: tuple[str, ...] = ()
    participant_keys_1: tuple[bytes, ...] = ()  # each participant's advertised public keys, as verified at collect
    participant_keys_2: tuple[bytes, ...] = ()
    survivors: tuple[int, ...] = ()  # the survivor set this site signed
    round_keys_sha256: str = ""  # the survivors' keys (protos.roster.round_keys_sha256), signed with the set
    census_commitment: bytes = b""  # a census round: this site's commitment to its census (protos/commitment.py)

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
    spec, :func:`protos.privacy.min_private_participants` (already refused here when fewer
    take part). A values round must sum exactly the sites of the census it was decided by. The
    state keeps the spec's and census's SHA-256, which this site signs with the survivor set and
    every survivor must have signed alike.

    Raises
    ------
    PolicyViolation
    """
    check_spec(policy, spec)
    check_private_sampling(policy, spec, state)
    min_survivors = policy.min_participants
    if spec.HasField("privacy"):
        needed = min_private_participants(spec.privacy.min_noise_sites, policy.max_colluding_members)
        min_survivors = max(min_survivors, needed)
    # Imported here: a SuperNode starts a process per SecAgg+ stage, and only this stage and the
    # unmask read the site's records; setup and key sharing stay quick.
    from client.audit import round_label
    from client.contribution import release_key

    received = spec_pb2.Census.FromString(census) if census is not None else None
    census_participants = received.participants if received is not None else 0
    if census_participants and len(state.participants) != census_participants:
        raise PolicyViolation(
            f"values round of spec {spec.spec_id} has {len(state.participants)} members; its census summed "
            f"{census_participants}"
        )
    return replace(
        state,
        min_survivors=min_survivors,
        census_participants=census_participants,
        spec_id=spec.spec_id,
        spec_sha256=spec_sha256(spec),
        census_sha256=census_sha256(received) if received is not None else "",
        release_key=release_key(spec, baseline),
        round_label=round_label(spec),
    )


def check_private_sampling(policy: SitePolicy, spec: spec_pb2.BenchmarkSpec, state: RoundState) -> None:
    """Refuse a private spec's round with fewer sites than its noise needs against the policy's colluders.

    Each site adds sigma / sqrt(t - 1) of noise (t = min_noise_sites), and c colluding members
    (the policy's ``max_colluding_members``) can subtract their own shares: with fewer than
    t - 1 + c sites (:func:`protos.privacy.min_private_participants`) the noise left on this
    site's values is less than the spec states and the site is charged for.

    Raises
    ------
    PolicyViolation
    """
    if not spec.HasField("privacy"):
        return
    needed = min_private_participants(spec.privacy.min_noise_sites, policy.max_colluding_members)
    if len(state.participants) < needed:
        raise PolicyViolation(
            f"round of private spec {spec.spec_id} has {len(state.participants)} members; its noise needs "
            f"{needed}: min_noise_sites {spec.privacy.min_noise_sites} - 1 + policy max_colluding_members "
            f"{policy.max_colluding_members}, and at least min_noise_sites"
        )


def check_survivors(state: RoundState, survivors: int) -> None:
    """Refuse to unmask a sum over fewer sites than the round needs, or other than its census's.

    Raises
    ------
    PolicyViolation
    """
    if survivors < state.min_survivors:
        raise PolicyViolation(
            f"unmask over {survivors} surviving sites; this round needs {state.min_survivors} (policy "
            "min_participants and, for a private spec, min_noise_sites - 1 + policy max_colluding_members, at least "
            "min_noise_sites)"
        )
    if state.census_participants and survivors != state.census_participants:
        raise PolicyViolation(
            f"unmask over {survivors} surviving sites; the census these values were decided by summed "
            f"{state.census_participants}"
        )


def _check_stage(msg: Message, context: Context, site_path: Path) -> None:
    """The checks before SecAgg+ handles a stage (the consistency stage is the guard's own: :func:`_sign_survivors`)."""
    configs = msg.content.config_records[RECORD_KEY_CONFIGS]
    stage = configs.get(Key.STAGE)
    if stage == Stage.SETUP:
        state = RoundState(
            sampled=int(configs[Key.SAMPLE_NUMBER]), threshold=int(configs[Key.THRESHOLD]), round_id=token_hex(16)
        )
        # Read afresh at every setup; a site that cannot sign refuses before it makes keys.
        site = _site_identity(site_path, state.round_id)
        check_round(site.config.policy, state.sampled, int(configs[Key.SHARE_NUMBER]), state.threshold)
        state.remember(context)
    elif stage == Stage.SHARE_KEYS:
        state = _recalled(context)
        site = _site_identity(site_path, state.round_id)
        # One public-key pair per neighbour, this site included: the real neighbourhood.
        keys = {int(node): (bytes(pair[0]), bytes(pair[1])) for node, pair in configs.items() if node != Key.STAGE}
        check_round(site.config.policy, state.sampled, len(keys), state.threshold)
        advertisements = _advertisements(msg)
        members = check_neighbours(
            site.roster, context.run_id, (context.node_id, site.member.name), keys, advertisements
        )
        replace(
            state,
            neighbours=tuple(members),
            neighbour_members=tuple(members.values()),
            verified_signatures=tuple(
                signature_check(site.roster, context.run_id, node, advertisements[node]) for node in members
            ),
        ).remember(context)
    elif stage == Stage.COLLECT_MASKED_VECTORS:
        state = _recalled(context)
        site = _site_identity(site_path, state.round_id)
        advertisements = _advertisements(msg)
        members = check_participants(
            site.roster,
            context.run_id,
            (context.node_id, site.member.name),
            dict(zip(state.neighbours, state.neighbour_members, strict=True)),
            state.sampled,
            advertisements,
            frozenset(state.verified_signatures),
        )
        check_own_keys(context.node_id, state.own_keys, advertisements)
        state = replace(
            state,
            participants=tuple(members),
            participant_members=tuple(members.values()),
            participant_keys_1=tuple(advertisements[node].public_key_1 for node in members),
            participant_keys_2=tuple(advertisements[node].public_key_2 for node in members),
        )
        fit_config = recorddict_to_fitins(msg.content, keep_input=True).config
        spec = spec_pb2.BenchmarkSpec.FromString(bytes(fit_config[SPEC_CONFIG_KEY]))
        census, baseline = fit_config.get(CENSUS_CONFIG_KEY), fit_config.get(BASELINE_RELEASE_CONFIG_KEY)
        state = check_spec_round(
            site.config.policy,
            state,
            spec,
            bytes(census) if census is not None else None,
            bytes(baseline) if baseline is not None else None,
        )
        if census is not None:
            from client.audit import census_commitments_seen

            received = spec_pb2.Census.FromString(bytes(census))
            seen = census_commitments_seen(site_path, spec_sha256(census_spec(spec)), context.run_id)
            check_census_commitments(received, spec, state.participant_members, seen)
        state.remember(context)
    elif stage == Stage.UNMASK:
        state = _recalled(context)
        site = _site_identity(site_path, state.round_id)
        record = msg.content.config_records[SURVIVORS_RECORD]
        survivors = tuple(int(node) for node in record["node_ids"])
        check_survivor_signatures(
            site.roster,
            context.run_id,
            dict(zip(state.participants, state.participant_members, strict=True)),
            state.survivors,
            survivors,
            [bytes(signature) for signature in record["signatures"]],
            state.spec_sha256,
            state.census_sha256,
            state.round_keys_sha256,
        )
        check_unmask_request(
            context.node_id,
            frozenset(state.neighbours),
            frozenset(survivors),
            list(configs[Key.ACTIVE_NODE_ID_LIST]),
            list(configs[Key.DEAD_NODE_ID_LIST]),
        )
        check_survivors(state, len(survivors))
        from client.audit import record_unmask

        # Written (and checked against the calendar) before any share of this round is revealed.
        members = dict(zip(state.participants, state.participant_members, strict=True))
        record_unmask(
            site_path,
            state.spec_id,
            state.release_key,
            state.round_label,
            [members[node] for node in survivors],
        )


def _sign_keys(reply: Message, context: Context, site_path: Path) -> None:
    """Sign, in the setup reply, the public keys SecAgg+ just made, with this site's member key."""
    keys = reply.content.config_records[RECORD_KEY_CONFIGS]
    state = _recalled(context)
    site = _site_identity(site_path, state.round_id)
    own_keys = (bytes(keys[Key.PUBLIC_KEY_1]), bytes(keys[Key.PUBLIC_KEY_2]))
    replace(state, own_keys=own_keys).remember(context)
    payload = key_advertisement(context.run_id, context.node_id, *own_keys)
    reply.content.config_records[MEMBER_RECORD] = ConfigRecord(
        {"name": site.member.name, "signature": site.key.sign(payload)}
    )


def _sign_commitment(reply: Message, context: Context, site_path: Path) -> None:
    """A census round's collect reply: the site's commitment to the census it just sent, signed with its member key."""
    state = _recalled(context)
    if not state.census_commitment:
        return
    site = _site_identity(site_path, state.round_id)
    statement = census_commitment_statement(
        context.run_id, state.spec_sha256, site.member.name, state.census_commitment
    )
    reply.content.config_records[COMMITMENT_RECORD] = ConfigRecord(
        {"commitment": state.census_commitment, "signature": site.key.sign(statement)}
    )


def _sign_survivors(msg: Message, context: Context, site_path: Path) -> Message:
    """The consistency stage: check the survivor set (:func:`check_survivor_round`), remember it and sign it."""
    record = msg.content.config_records[SURVIVORS_RECORD]
    survivors = tuple(int(node) for node in record["node_ids"])
    state = check_survivor_round(_recalled(context), context.node_id, survivors)
    site = _site_identity(site_path, state.round_id)
    key = site.key
    if state.census_commitment:  # a census round: every survivor's commitment fixed before any share is revealed
        members = dict(zip(state.participants, state.participant_members, strict=True))
        relayed = zip(record["commitment_members"], record["commitments"], record["commitment_signatures"], strict=True)
        listed = [spec_pb2.CensusCommitment(member=m, commitment=c, signature=s) for m, c, s in relayed]
        own = spec_pb2.CensusCommitment(member=site.member.name, commitment=state.census_commitment)
        seen = check_commitment_list(
            site.roster, context.run_id, state.spec_sha256, [members[n] for n in state.survivors], own, listed
        )
        from client.audit import record_census_commitments

        record_census_commitments(site_path, state.spec_id, state.spec_sha256, context.run_id, seen)
    state.remember(context)
    statement = survivor_statement(
        context.run_id, state.survivors, state.spec_sha256, state.census_sha256, state.round_keys_sha256
    )
    return Message(RecordDict({SURVIVORS_RECORD: ConfigRecord({"signature": key.sign(statement)})}), reply_to=msg)


def check_survivor_round(state: RoundState, own_node: int, survivors: tuple[int, ...]) -> RoundState:
    """Check the survivor set this site is asked to sign; return the state that signs it, and checks it at unmask.

    A site signs one survivor set per round: signing a second would let the aggregator show
    different sites different sets. The state keeps the hash of the survivors' keys as this site
    verified them at collect (:func:`protos.roster.round_keys_sha256`), which the statement binds
    so that it holds for this round only.

    Raises
    ------
    PolicyViolation
    """
    if state.survivors or not state.participants:
        raise PolicyViolation("a survivor set to sign out of turn (before collect, or a second one)")
    survivors = tuple(sorted(survivors))
    check_survivor_set(own_node, state.participants, survivors)
    check_survivors(state, len(survivors))
    keys = dict(
        zip(state.participants, zip(state.participant_keys_1, state.participant_keys_2, strict=True), strict=True)
    )
    return replace(state, survivors=survivors, round_keys_sha256=round_keys_sha256({n: keys[n] for n in survivors}))


@dataclass(frozen=True)
class SiteIdentity:
    """The site's validated config, its [member] table, its member key and the roster it pinned."""

    config: SiteConfig | SolarSiteConfig
    member: MemberConfig
    key: Ed25519PrivateKey
    roster: Roster


# site.toml -> (round_id, the bytes of site.toml, member key and roster, what was read from them). One round per
# site: a stage of the same round reuses the identity while the three files hold the same bytes, and the next
# round's setup reads them afresh.
_IDENTITIES: dict[Path, tuple[str, tuple[bytes, ...], SiteIdentity]] = {}


def _site_identity(site_path: Path, round_id: str) -> SiteIdentity:
    """The site's config and identity, as every stage of a round must see them: read and checked as its files now are.

    Parsing and checking site.toml, its member key and its roster (fingerprint and all) took
    several milliseconds, twice per stage; within one round (in one process) they are parsed once
    and each stage compares the files' bytes with those parsed: any change is read and checked
    again, as before.
    """
    cached = _IDENTITIES.get(site_path)
    if cached is not None and cached[0] == round_id and cached[1] == _identity_sources(site_path, cached[2].member):
        return cached[2]
    site_toml = site_path.read_bytes()  # read before parsing: a file changed meanwhile misses next time
    config = load_any_site_config(site_path)
    if config.member is None:
        raise PolicyViolation(
            f"{config.path} has no [member] table: a site takes part in rounds only as a consortium member "
            "(see client/site_config.py)"
        )
    sources = (site_toml, config.member.key_path.read_bytes(), config.member.roster_path.read_bytes())
    key, roster = config.member.identity()
    site = SiteIdentity(config, config.member, key, roster)
    _IDENTITIES[site_path] = (round_id, sources, site)
    return site


def _identity_sources(site_path: Path, member: MemberConfig) -> tuple[bytes, ...]:
    """The bytes of the files a site's identity is read from: site.toml, the member key, the roster."""
    return site_path.read_bytes(), member.key_path.read_bytes(), member.roster_path.read_bytes()


def _advertisements(msg: Message) -> dict[int, Advertisement]:
    record = msg.content.config_records.get(MEMBERS_RECORD, ConfigRecord())
    return {int(node): Advertisement.from_values([bytes(v) for v in values]) for node, values in record.items()}


def _recalled(context: Context) -> RoundState:
    state = RoundState.recall(context)
    if state is None:
        raise PolicyViolation("a stage of a round this site took no part in the setup of")
    return state


def make_site_guard(locate_site: Callable[[Context], Path]) -> Mod:
    """A mod that refuses, per the policy in the site.toml ``locate_site`` finds, any stage it must."""

    def site_guard(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
        install_keyed_masks()
        install_fast_shamir()
        if msg.metadata.message_type != MessageType.TRAIN or RECORD_KEY_CONFIGS not in msg.content.config_records:
            return call_next(msg, context)
        site_path = locate_site(context)
        stage = msg.content.config_records[RECORD_KEY_CONFIGS].get(Key.STAGE)
        try:
            if stage == CONSISTENCY_STAGE:
                return _sign_survivors(msg, context, site_path)
            _check_stage(msg, context, site_path)
            reply = call_next(msg, context)
            if stage == Stage.SETUP and not reply.has_error():
                _sign_keys(reply, context, site_path)
            if stage == Stage.COLLECT_MASKED_VECTORS and not reply.has_error():
                _sign_commitment(reply, context, site_path)
            return reply
        except (PolicyViolation, SiteConfigError, RosterError, KeyError, TypeError, ValueError, OSError) as error:
            # Imported on refusal only: setup and key sharing stay quick (see check_spec_round).
            from client.contribution import leaving_reason

            LOG.exception("site %s: %s", site_path, leaving_reason(error))
            raise ContributionRefused() from None

    return site_guard
