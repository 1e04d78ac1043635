"""The site's checks that every party to a SecAgg+ round is a distinct consortium member, and agrees on who survived.

Flower 1.42's SecAgg+ trusts the aggregator to say who the other parties are and who dropped
out. Here each site signs, with its member key (protos/roster.py), the fresh public keys it
advertises, and checks before each step of a round:

- before sharing its secrets (key sharing): every neighbour is a member of the roster the site
  pinned, with a valid signature on the keys the site is about to encrypt to, and no member twice;
- before sending its masked vector (collect): the same for every participant of the round, so the
  site knows how many distinct members it is summed with;
- before revealing any share (unmask): every survivor signed the same survivor set as this site
  (the consistency check of Bonawitz et al. 2017 and Bell et al. 2020), and the same spec and
  census hashes: the noise on this site's values is every survivor's share, each drawn for the
  spec that survivor received; and the same round keys, so that no signature of an earlier round
  of the run stands in for one of this round;
- before revealing any share of a census round (consistency): every survivor's signed commitment to
  its census, this site's own among them, so that none can be chosen once the sum is known;
- before acting on a census (collect of a values round): its commitments are those this site saw
  before unmasking the census round, their members are this round's participants, and their
  product opens to the totals (protos/commitment.py).

Every check raises PolicyViolation; the guard turns it into a refusal that names nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping, Sequence

from client.policy import PolicyViolation
from protos import commitment
from protos.census import (
    COMMITMENT_RANDOMNESS,
    census_commitments_sha256,
    census_spec,
    committed_census,
    summed_integers,
)
from protos.codec import block_layouts
from protos.fleetbench.v1 import spec_pb2
from protos.roster import Advertisement, Roster, census_commitment_statement, key_advertisement, survivor_statement


def verified_members(
    roster: Roster,
    run_id: int,
    advertisements: Mapping[int, Advertisement],
    verified: Collection[bytes] = frozenset(),
) -> dict[int, str]:
    """Node -> member for ``advertisements`` that are all signed by distinct roster members.

    ``verified``: :func:`signature_check` digests of the signatures this site already verified
    in this round (the neighbours', at key sharing), not verified again.

    Raises
    ------
    PolicyViolation
        Naming the node that is not a member, whose signature does not verify, or whose member
        already has a node in the round.
    """
    for node, advert in sorted(advertisements.items()):
        check_on_roster(roster, node, advert)
        check_signature(roster, run_id, node, advert, verified)
    members = {node: advert.member for node, advert in sorted(advertisements.items())}
    check_one_node_per_member(members)
    return members


def check_on_roster(roster: Roster, node: int, advert: Advertisement) -> None:
    """Refuse a node whose member is not on the roster the site pinned (whatever the aggregator says)."""
    if advert.member not in roster.names:
        raise PolicyViolation(f"node {node} signs as {advert.member!r}, who is not on the roster this site pinned")


def check_signature(
    roster: Roster, run_id: int, node: int, advert: Advertisement, verified: Collection[bytes] = frozenset()
) -> None:
    """Refuse a node whose keys its member did not sign, for this node in this run.

    A signature whose :func:`signature_check` is in ``verified`` passed this very check before:
    the same member key, payload and signature.
    """
    if advert.member not in roster.names:
        raise PolicyViolation(f"node {node}'s keys are not signed by member {advert.member!r}")
    member = roster.member(advert.member)
    payload = key_advertisement(run_id, node, advert.public_key_1, advert.public_key_2)
    if verified and _check_digest(member.public_key, payload, advert.signature) in verified:
        return
    if not member.verifies(advert.signature, payload):
        raise PolicyViolation(f"node {node}'s keys are not signed by member {advert.member!r}")


def signature_check(roster: Roster, run_id: int, node: int, advert: Advertisement) -> bytes:
    """SHA-256 of all :func:`check_signature` decides on: the member's key on ``roster``, the payload, the signature.

    Equal digests, the same check: a site keeps the digests of the checks it passed for a round's
    later stages, where the outcome (Ed25519 verification is deterministic) would be the same.
    """
    payload = key_advertisement(run_id, node, advert.public_key_1, advert.public_key_2)
    return _check_digest(roster.member(advert.member).public_key, payload, advert.signature)


def _check_digest(public_key: bytes, payload: bytes, signature: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in (public_key, payload, signature):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.digest()


def check_one_node_per_member(members: Mapping[int, str]) -> None:
    """Refuse a round in which a member has more than one node: k counts members, not nodes."""
    names = list(members.values())
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise PolicyViolation(f"member(s) {twice} take part in this round with more than one node")


def check_neighbours(
    roster: Roster,
    run_id: int,
    own: tuple[int, str],
    neighbour_keys: Mapping[int, tuple[bytes, bytes]],
    advertisements: Mapping[int, Advertisement],
) -> dict[int, str]:
    """Before sharing secrets: each neighbour's keys, as SecAgg+ hands them over, signed by a distinct member.

    ``own`` is this site's (node, member). Returns node -> member of the neighbourhood.

    Raises
    ------
    PolicyViolation
    """
    for node, keys in neighbour_keys.items():
        advert = advertisements.get(node)
        if advert is None or (advert.public_key_1, advert.public_key_2) != tuple(keys):
            raise PolicyViolation(f"neighbour {node}'s keys come without its member's signature")
    members = verified_members(roster, run_id, {node: advertisements[node] for node in neighbour_keys})
    _check_own(members, own)
    return members


def check_participants(
    roster: Roster,
    run_id: int,
    own: tuple[int, str],
    neighbours: Mapping[int, str],
    sampled: int,
    advertisements: Mapping[int, Advertisement],
    verified: Collection[bytes] = frozenset(),
) -> dict[int, str]:
    """Before sending the masked vector: every participant a distinct member, the neighbours as they were.

    No more participants than ``sampled`` at setup and, in a full graph (as many neighbours as
    sampled), none but the neighbours: the guarantee client.policy.check_round relies on there.
    ``verified``: the signature checks this site passed at key sharing (see :func:`verified_members`).
    Returns node -> member of every participant: the members this site's values are summed with.

    Raises
    ------
    PolicyViolation
    """
    members = verified_members(roster, run_id, advertisements, verified)
    _check_own(members, own)
    changed = sorted(node for node, member in neighbours.items() if node in members and members[node] != member)
    if changed:
        raise PolicyViolation(f"neighbours {changed} changed member since they shared keys")
    strangers = sorted(set(members) - set(neighbours)) if len(neighbours) == sampled else []
    if len(members) > sampled or strangers:
        raise PolicyViolation(
            f"{len(members)} participants (beyond the neighbours: {strangers}) in a round that sampled {sampled}"
        )
    return members


def check_own_keys(own_node: int, made: tuple[bytes, ...], advertisements: Mapping[int, Advertisement]) -> None:
    """Before sending the masked vector: this site's advertisement carries the keys it made at this round's setup.

    A survivor statement tells rounds apart by the survivors' keys
    (:func:`protos.roster.round_keys_sha256`), which are fresh only if this site's own are: its
    advertisement's signature names the run and node, not the round, so an aggregator could relay
    the one of an earlier round and make that round's signatures verify again.

    Raises
    ------
    PolicyViolation
    """
    advert = advertisements.get(own_node)
    if advert is None or (advert.public_key_1, advert.public_key_2) != made:
        raise PolicyViolation(f"this site (node {own_node}) is advertised with other keys than it made for this round")


def check_survivor_set(own_node: int, participants: Collection[int], survivors: Collection[int]) -> None:
    """Before signing a survivor set: this site in it, and every survivor a participant it verified.

    Raises
    ------
    PolicyViolation
    """
    if own_node not in survivors:
        raise PolicyViolation(f"survivor set to sign leaves out node {own_node}, this site")
    strangers = sorted(set(survivors) - set(participants))
    if strangers:
        raise PolicyViolation(f"survivor set names nodes {strangers} that are not verified participants")


def check_survivor_signatures(
    roster: Roster,
    run_id: int,
    members: Mapping[int, str],
    signed: tuple[int, ...],
    survivors: tuple[int, ...],
    signatures: list[bytes],
    spec_sha256: str,
    census_sha256: str,
    round_keys_sha256: str,
) -> None:
    """Before revealing any share: every survivor signed this site's survivor set, with its spec, census and round.

    ``spec_sha256`` and ``census_sha256`` are those of the spec and census this site received
    (:func:`protos.roster.survivor_statement`): a survivor that was sent another spec or census
    signed other hashes, and its signature does not verify over this site's statement.
    ``round_keys_sha256`` is that of the survivors' keys this site verified: a signature given in
    another round of the run was over other keys.

    Raises
    ------
    PolicyViolation
        If the aggregator tells this site another set than the one it signed, or any survivor's
        signature is missing or over another set, spec, census or round: different sites were told
        different stories, or a signature is replayed.
    """
    if tuple(sorted(survivors)) != tuple(sorted(signed)):
        raise PolicyViolation("unmask request names another survivor set than the one this site signed")
    if len(signatures) != len(survivors):
        raise PolicyViolation(f"{len(signatures)} survivor signatures for {len(survivors)} survivors")
    statement = survivor_statement(run_id, survivors, spec_sha256, census_sha256, round_keys_sha256)
    census = f"census {census_sha256[:16]}..." if census_sha256 else "no census"
    for node, signature in zip(sorted(survivors), signatures, strict=True):
        if not roster.member(members[node]).verifies(signature, statement):
            raise PolicyViolation(
                f"survivor {node} did not sign this survivor set with spec {spec_sha256[:16]}... and {census} in "
                f"this round (keys {round_keys_sha256[:16]}...): sites were told different sets, or sent different "
                "specs or censuses, or the signature is of another round"
            )


def _check_own(members: Mapping[int, str], own: tuple[int, str]) -> None:
    node, member = own
    if members.get(node) != member:
        raise PolicyViolation(f"this site (node {node}) is listed as {members.get(node)!r}, not as {member!r}")


def check_commitment_list(
    roster: Roster,
    run_id: int,
    census_spec_sha256: str,
    survivor_members: Sequence[str],
    own: spec_pb2.CensusCommitment,
    commitments: Sequence[spec_pb2.CensusCommitment],
) -> str:
    """At a census round's consistency stage: every survivor's commitment, signed, this site's own unchanged.

    Returns the list's :func:`protos.census.census_commitments_sha256`, which the site records before it
    reveals any share and checks the census of the values round against
    (:func:`check_census_commitments`): the aggregator learns the sum only after every commitment is fixed,
    so it cannot have a colluding member sign one that makes made-up totals open.

    Raises
    ------
    PolicyViolation
        If the commitments are not the survivors' one each, one is unsigned, or this site's is not its own.
    """
    if sorted(c.member for c in commitments) != sorted(survivor_members):
        raise PolicyViolation(
            f"census commitments of members {sorted(c.member for c in commitments)}; the survivors are "
            f"{sorted(survivor_members)}"
        )
    for entry in commitments:
        statement = census_commitment_statement(run_id, census_spec_sha256, entry.member, entry.commitment)
        if not roster.member(entry.member).verifies(entry.signature, statement):
            raise PolicyViolation(f"member {entry.member}'s census commitment is not signed by it for this census")
    if not any(entry.member == own.member and entry.commitment == own.commitment for entry in commitments):
        raise PolicyViolation("the census commitments leave out this site's own")
    return census_commitments_sha256(commitments)


def check_census_commitments(
    census: spec_pb2.Census, spec: spec_pb2.BenchmarkSpec, members: Sequence[str], seen_sha256: Collection[str]
) -> None:
    """Before acting on a census: its totals are the sum of its members' commitments, and they are ``members``.

    The aggregator decodes the census round's sum and could send any totals (a lone operator's counts
    tripled pass k = 3: every site would then send that operator's cells). ``seen_sha256`` are the
    hashes of the commitment lists this site checked (each signed by its member for the run and the
    census spec) before unmasking a census round of this spec in this run (:func:`check_commitment_list`,
    recorded in its audit log): the census must carry one such list, none chosen after the sum was
    known. Their product opens only to the true sums of what was committed to
    (:func:`protos.commitment.opens_to`), with the randomness summed in the same round. ``members`` are
    the values round's participants, verified at collect: the census must be theirs, member for member.
    Each total must lie between 0 and the participants' summed bounds before any exponentiation (a huge
    or negative one would only cost time).

    Raises
    ------
    PolicyViolation
        If the commitments are not a list seen, or not the round's members', or if the totals are out
        of bounds or not what the commitments sum to.
    """
    if census_commitments_sha256(census.commitments) not in seen_sha256:
        raise PolicyViolation(
            "the census carries other commitments than this site saw before it unmasked the census round"
        )
    committed = [c.member for c in census.commitments]
    if sorted(committed) != sorted(members):  # a member twice is check_one_node_per_member's to refuse
        raise PolicyViolation(
            f"the census carries commitments of members {sorted(committed)}; this round's are {sorted(members)}"
        )
    expected = census_spec(spec)
    layouts = block_layouts(expected)
    totals = summed_integers(census, layouts)
    for layout in layouts:
        largest = len(committed) * math.ceil(math.ldexp(layout.per_site_bound, layout.scale_exponent))
        if any(not 0 <= v <= largest for v in totals[layout.key]):
            raise PolicyViolation(f"census block {layout.name} holds totals beyond what its sites can sum")
    randomness = commitment.randomness_from_limb_sums(totals[COMMITMENT_RANDOMNESS])
    opened = [commitment.from_bytes(entry.commitment) for entry in census.commitments]
    if not commitment.opens_to(opened, committed_census(expected, totals), randomness):
        raise PolicyViolation(
            "the census's totals are not the sum of what its members committed to: the aggregator sent totals "
            "the secure sum did not give"
        )
