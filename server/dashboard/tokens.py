"""Member tokens of the dashboard: created once, shown once, stored only as salted scrypt hashes.

A token reads ``fbt_<id>_<secret>``. The id (public, not secret) finds the stored entry, so each
check costs one scrypt evaluation whatever the number of members; the secret is 256 random bits.
Every check does the same work whatever is wrong with the token: an unknown id or a malformed
token costs one scrypt of the secret (with the cost parameters new tokens get) against a stand-in
salt and hash, ids and hashes are compared in constant time, and the answer is only ever "no", so
neither the time taken nor the reply tells which token ids exist.
The tokens file is JSON, written atomically with mode 0600:
``{"tokens": [{"id", "name", "created_utc", "kdf": "scrypt", "n", "r", "p", "salt", "hash"}]}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from common.atomic_file import write_text_atomically

TOKEN_PREFIX = "fbt"
# scrypt cost (RFC 7914): N = 2^14, r = 8, p = 1 costs 16 MiB and some tens of ms per check, which
# is negligible beside a page load and makes a stolen tokens file useless for guessing.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
# What a token without a stored entry is checked against, so that it costs what a real check costs.
# Random per process; the hash is no scrypt output, so no secret can match it (nor would a match count).
_STAND_IN_SALT, _STAND_IN_HASH = secrets.token_bytes(16), secrets.token_bytes(32)


class TokenFileError(ValueError):
    """A tokens file that cannot be read or a token request that cannot be met; the message says how to fix it."""


@dataclass(frozen=True)
class StoredToken:
    """One member token as the file keeps it: never the token itself."""

    id: str
    name: str
    created_utc: str
    kdf: str
    n: int
    r: int
    p: int
    salt: str  # hex
    hash: str  # hex, scrypt(secret, salt)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * r * n, dklen=32)


def read_tokens(path: Path) -> list[StoredToken]:
    """The stored tokens of ``path`` (an empty list when the file does not exist).

    Raises
    ------
    TokenFileError
        If the file is not a tokens file written by ``fleetbench dashboard token``.
    """
    path = Path(path)
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["tokens"]
        return [StoredToken(**entry) for entry in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenFileError(
            f"{path} is not a dashboard tokens file ({exc}); create tokens with "
            f"`fleetbench dashboard token --tokens {path} --name NAME`"
        ) from None


def _write_tokens(path: Path, tokens: list[StoredToken]) -> None:
    """Replace ``path`` atomically; only the owner may read it."""
    write_text_atomically(path, json.dumps({"tokens": [asdict(t) for t in tokens]}, indent=1))


def create_token(path: Path, name: str) -> str:
    """Add a token for member ``name`` to ``path`` and return it: the only time it is ever shown.

    Raises
    ------
    TokenFileError
        If ``name`` is empty or already has a token (revoke it first).
    """
    path = Path(path)
    if not name.strip():
        raise TokenFileError("--name must not be empty: name the member the token is for")
    tokens = read_tokens(path)
    if any(t.name == name for t in tokens):
        raise TokenFileError(
            f"{path} already holds a token for {name!r}; revoke it first "
            f"(`fleetbench dashboard revoke --tokens {path} --name {name}`) or choose another name"
        )
    token_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_bytes(16)
    stored = StoredToken(
        id=token_id,
        name=name,
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        kdf="scrypt",
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        salt=salt.hex(),
        hash=_scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P).hex(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_tokens(path, [*tokens, stored])
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


def revoke_token(path: Path, name: str) -> None:
    """Remove member ``name``'s token from ``path``; the dashboard refuses it (and its sessions) from then on.

    Raises
    ------
    TokenFileError
        If ``path`` holds no token for ``name``.
    """
    tokens = read_tokens(Path(path))
    kept = [t for t in tokens if t.name != name]
    if len(kept) == len(tokens):
        raise TokenFileError(f"{path} holds no token for {name!r}; members: {sorted(t.name for t in tokens)}")
    _write_tokens(Path(path), kept)


class MemberTokens:
    """Checks tokens against a tokens file, re-read whenever it changes (so a revocation takes effect)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._by_id: dict[str, StoredToken] = {}

    def _current(self) -> dict[str, StoredToken]:
        stat = self.path.stat() if self.path.is_file() else None
        stamp = (stat.st_mtime_ns, stat.st_size) if stat else (0, 0)
        if stamp != self._stamp:
            self._by_id = {t.id: t for t in read_tokens(self.path)}
            self._stamp = stamp
        return self._by_id

    def members(self) -> list[str]:
        """Names of the members holding a token."""
        return sorted(t.name for t in self._current().values())

    def holds(self, token_id: str) -> bool:
        """Whether token ``token_id`` is still in the file (not revoked)."""
        return token_id in self._current()

    def verify(self, token: str) -> StoredToken | None:
        """The stored entry ``token`` matches, or None (malformed, unknown or wrong secret: the same work for each)."""
        parts = token.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            _check_stand_in(token)
            return None
        stored = _find(self._current(), parts[1])
        if stored is None or stored.kdf != "scrypt":
            _check_stand_in(parts[2])
            return None
        digest = _scrypt(parts[2], bytes.fromhex(stored.salt), stored.n, stored.r, stored.p)
        return stored if hmac.compare_digest(digest, bytes.fromhex(stored.hash)) else None


def _find(by_id: dict[str, StoredToken], token_id: str) -> StoredToken | None:
    """The entry of ``token_id``, found by comparing it with every stored id in constant time."""
    wanted, found = token_id.encode(), None
    for stored_id, stored in by_id.items():
        if hmac.compare_digest(stored_id.encode(), wanted):
            found = stored
    return found


def _check_stand_in(secret: str) -> None:
    """Spend on ``secret`` what checking a stored token costs (one scrypt, one comparison); the answer is always no."""
    digest = _scrypt(secret, _STAND_IN_SALT, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    hmac.compare_digest(digest, _STAND_IN_HASH)
