"""The consortium roster: the members (legal operators) every site pins, and what they sign.

A member holds an Ed25519 identity key; the roster lists each member's name and public key and is
distributed out of band (a file every operator installs). A site references its roster by the
roster's SHA-256 in its own policy, so a roster changes only when the operator installs a new file
and pins it; the aggregator's word changes nothing.

Within a SecAgg+ round every site signs, with its member key, the public keys it advertises
(:func:`key_advertisement`), and before revealing any share, the set of survivors it was told
(:func:`survivor_statement`): the malicious-server checks of Bonawitz et al. (CCS 2017) and Bell
et al. (CCS 2020), which Flower 1.42's SecAgg+ lacks. The survivor statement also carries the
SHA-256 of the spec (and census) the site received, so that every survivor's values are known to
be computed, and noised, for one and the same spec, and the SHA-256 of the survivors' keys of the
round (:func:`round_keys_sha256`), so that a statement signed in one round of a run does not
verify in another.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ROSTER_FORMAT = "fleetbench/v1 roster"
KEYS_DOMAIN = b"fleetbench/v1 secagg+ keys\n"
COLLUDING_MEMBERS = 1
"""Members the default site policy assumes may collude with the aggregator (the SecAgg+ threshold rule)."""
SURVIVORS_DOMAIN = b"fleetbench/v1 secagg+ survivors\n"
COMMITMENT_DOMAIN = b"fleetbench/v1 census commitment\n"


class RosterError(ValueError):
    """A roster, member key or signature that cannot be trusted; the message says which and why."""


@dataclass(frozen=True)
class Member:
    """One member of the consortium: a legal operator, and the public half of its identity key."""

    name: str
    public_key: bytes  # raw Ed25519 public key (32 bytes)

    def verifies(self, signature: bytes, payload: bytes) -> bool:
        """Whether ``signature`` is this member's over ``payload``."""
        try:
            _public_key(self.public_key).verify(signature, payload)
        except (InvalidSignature, ValueError):
            return False
        return True


@lru_cache(maxsize=1024)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    # Decoded once per process, not per signature: a site verifies each member two or three times a round.
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class Roster:
    """The consortium's members, as every site pins them."""

    consortium: str
    members: tuple[Member, ...]

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no whitespace, members by name (what the fingerprint hashes)."""
        return json.dumps(
            {
                "format": ROSTER_FORMAT,
                "consortium": self.consortium,
                "members": [
                    {"name": m.name, "public_key": base64.b64encode(m.public_key).decode("ascii")}
                    for m in sorted(self.members, key=lambda m: m.name)
                ],
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @cached_property
    def names(self) -> frozenset[str]:
        """Every member's name."""
        return frozenset(self._by_name)

    @cached_property
    def _by_name(self) -> dict[str, Member]:
        # Built once per roster: a round looks members up by name a few hundred times per site.
        by_name: dict[str, Member] = {}
        for m in self.members:
            by_name.setdefault(m.name, m)
        return by_name

    @property
    def sha256(self) -> str:
        """The roster's fingerprint: SHA-256 of its canonical JSON (hex)."""
        return hashlib.sha256(self.to_json().encode("ascii")).hexdigest()

    def member(self, name: str) -> Member:
        """The member called ``name``.

        Raises
        ------
        RosterError
            If the roster has no such member.
        """
        if name in self._by_name:
            return self._by_name[name]
        raise RosterError(f"{name!r} is not a member of consortium {self.consortium!r}")

    @classmethod
    def of(cls, consortium: str, members: Mapping[str, bytes]) -> Roster:
        """A roster of ``members`` (name -> raw public key).

        Raises
        ------
        RosterError
            If a name is empty, or two members share a key.
        """
        if any(not name for name in members) or len(set(members.values())) != len(members):
            raise RosterError("every member needs a name and a key of its own")
        return cls(consortium, tuple(Member(name, bytes(key)) for name, key in sorted(members.items())))


@dataclass(frozen=True)
class Advertisement:
    """A participant's signed key advertisement, as the aggregator relays it."""

    member: str
    public_key_1: bytes
    public_key_2: bytes
    signature: bytes

    @classmethod
    def from_values(cls, values: list[bytes]) -> Advertisement:
        """From the relayed list [member name (UTF-8), pk1, pk2, signature]."""
        member, public_key_1, public_key_2, signature = values
        return cls(member.decode("utf-8"), public_key_1, public_key_2, signature)

    def to_values(self) -> list[bytes]:
        """The relayed list [member name (UTF-8), pk1, pk2, signature]."""
        return [self.member.encode("utf-8"), self.public_key_1, self.public_key_2, self.signature]


def read_roster(path: Path, pinned_sha256: str | None = None) -> Roster:
    """The roster at ``path``, checked against the fingerprint a site pinned.

    Raises
    ------
    RosterError
        If the file is not a roster, or its fingerprint is not ``pinned_sha256``.
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if raw.get("format") != ROSTER_FORMAT:
            raise ValueError(f"format is {raw.get('format')!r}, not {ROSTER_FORMAT!r}")
        members = {m["name"]: base64.b64decode(m["public_key"], validate=True) for m in raw["members"]}
        roster = Roster.of(str(raw["consortium"]), members)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RosterError(
            f"{path} is not a FleetBench roster ({error}); install the file the consortium sent"
        ) from None
    if pinned_sha256 is not None and roster.sha256 != pinned_sha256:
        raise RosterError(
            f"{path} has fingerprint {roster.sha256[:16]}..., the site pinned {pinned_sha256[:16]}...; a roster "
            "changes only when its operator installs the new file and pins its fingerprint: if its members "
            f'{sorted(roster.names)} are the consortium\'s, set roster_sha256 = "{roster.sha256}" '
            "(fleetbench consortium pinned then shows them)"
        )
    return roster


def write_member_key(directory: Path, name: str) -> tuple[Path, Path]:
    """Create a member's identity key pair: ``NAME.member.key`` (PEM, mode 0600, stays on site) and ``NAME.member.pub``.

    Returns
    -------
    private_path, public_path : Path
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_path, public_path = directory / f"{name}.member.key", directory / f"{name}.member.pub"
    write_private_key(private_path, key)
    public_path.write_text(base64.b64encode(public_bytes(key)).decode("ascii") + "\n", encoding="ascii")
    return private_path, public_path


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write a member's private key as PEM, readable by its owner only; never over an existing file."""
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def read_public_key(path: Path) -> bytes:
    """A member's public key file (``NAME.member.pub``: base64 of the raw 32 bytes).

    Raises
    ------
    RosterError
    """
    try:
        key = base64.b64decode(Path(path).read_text(encoding="ascii").strip(), validate=True)
        Ed25519PublicKey.from_public_bytes(key)
    except (OSError, ValueError) as error:
        raise RosterError(
            f"{path} is not a member public key ({error}); use the NAME.member.pub a member sent"
        ) from None
    return key


def read_member_key(path: Path) -> Ed25519PrivateKey:
    """A member's identity private key (PEM).

    Raises
    ------
    RosterError
        If the file is not an Ed25519 private key.
    """
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise RosterError(
            f"{path} is not a member key ({error}); make one with fleetbench consortium member-key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise RosterError(f"{path} is a {type(key).__name__}, not an Ed25519 member key")
    return key


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw public key (32 bytes) of a member's private key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_advertisement(run_id: int, node_id: int, public_key_1: bytes, public_key_2: bytes) -> bytes:
    """What a site signs at SecAgg+ setup: its node's two fresh public keys, bound to the run."""
    body = {"run_id": run_id, "node_id": node_id, "pk1": public_key_1.hex(), "pk2": public_key_2.hex()}
    return KEYS_DOMAIN + json.dumps(body, sort_keys=True).encode("ascii")


def round_keys_sha256(keys: Mapping[int, tuple[bytes, bytes]]) -> str:
    """SHA-256 (hex) of the SecAgg+ public keys ``keys`` (node -> pk1, pk2), as a survivor statement binds them.

    A node keeps its id and its member key for all the rounds of a Flower run, and the spec and
    census may repeat; only the keys SecAgg+ makes afresh at every setup tell one round from
    another. Every honest site of a round verified the same advertisements, so hashes the same
    canonical JSON: the nodes in order, each with its two keys.
    """
    body = [[node, pk1.hex(), pk2.hex()] for node, (pk1, pk2) in sorted(keys.items())]
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode("ascii")).hexdigest()


def survivor_statement(
    run_id: int, survivors: Iterable[int], spec_sha256: str, census_sha256: str, round_keys_sha256: str
) -> bytes:
    """What a site signs before unmasking: the survivors it is told, the spec and census it was sent, the round's keys.

    A site's noise share is drawn for the spec it received, and the noise on its values is the
    sum of every survivor's share: an aggregator that sent the others a spec of the same block
    layout but less noise would leave the site less noise than its spec states and its ledger is
    charged for. Every survivor signing the same hashes rules that out. The round's keys rule out
    a replay: without them a survivor's signature from an earlier round of the run, over the same
    survivors, spec and census, would stand in for one it never gave in this round.

    Parameters
    ----------
    run_id : int
        The Flower run.
    survivors : Iterable[int]
        Node ids of the sites whose masked vectors the sum holds.
    spec_sha256 : str
        :func:`protos.codec.spec_sha256` of the spec the site received.
    census_sha256 : str
        :func:`protos.census.census_sha256` of the census the values round carries; "" for a round without one.
    round_keys_sha256 : str
        :func:`round_keys_sha256` of the survivors' public keys, as the site verified their advertisements.
    """
    body = {
        "run_id": run_id,
        "survivors": sorted(int(n) for n in survivors),
        "spec_sha256": spec_sha256,
        "census_sha256": census_sha256,
        "round_keys_sha256": round_keys_sha256,
    }
    return SURVIVORS_DOMAIN + json.dumps(body, sort_keys=True).encode("ascii")


def census_commitment_statement(run_id: int, census_spec_sha256: str, member: str, commitment: bytes) -> bytes:
    """What a member signs with its census commitment (protos/commitment.py): the run, the census spec, itself.

    Bound to the run and the census spec, a commitment cannot be relayed into another census; bound to
    the member, it counts once, for the member that made it.
    """
    body = {
        "run_id": run_id,
        "census_spec_sha256": census_spec_sha256,
        "member": member,
        "commitment": commitment.hex(),
    }
    return COMMITMENT_DOMAIN + json.dumps(body, sort_keys=True).encode("ascii")


def member_table(name: str, roster_sha256: str) -> str:
    """The [member] table of a site.toml for member ``name``, with its key and roster in ``consortium/``."""
    return (
        "[member]\n"
        f'name = "{name}"\n'
        f'key = "consortium/{name}.member.key"\n'
        'roster = "consortium/roster.json"\n'
        f'roster_sha256 = "{roster_sha256}"\n'
    )
