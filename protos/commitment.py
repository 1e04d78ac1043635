"""Pedersen vector commitments to a site's census, so that no site acts on census totals the sums do not give.

The aggregator decodes the census round's secure sum and sends the totals to every site; SecAgg+ alone
lets it send any totals it likes (three times a lone operator's counts pass k = 3), and every site would
then send that operator's cells. So each site commits to its census vector x (the fixed-point integers
it sends) with fresh randomness r, C = h^r prod_j g_j^{x_j} mod p, signs C with its member key, and
sends r's 16-bit limbs inside the same secure sum. The product of every member's C opens to the summed
census and the summed randomness only: prod_i C_i = h^R prod_j g_j^{T_j} with R = sum_i r_i and
T_j = sum_i x_ij. Totals T' != T with any R' would give a discrete-logarithm relation between the
generators, which nobody knows (Pedersen 1991, doi:10.1007/3-540-46766-1_9; the generators are hashed
into the group). A commitment hides x: r is uniform and secret, and only the sum R is ever decoded.

The group is the prime-order subgroup of quadratic residues of RFC 3526's 2048-bit MODP prime p = 2q + 1
(q prime), about 112-bit security. Pure functions of Python integers: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

MODULUS = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF",
    16,
)
"""p: RFC 3526's 2048-bit MODP group 14 prime, a safe prime."""

ORDER = (MODULUS - 1) // 2
"""q: the prime order of the subgroup of quadratic residues mod p, where commitments live."""

RANDOMNESS_LIMB_BITS = 16
"""Bits per limb of a site's commitment randomness in the secure sum: a limb summed over 65,536 sites fits 32 bits."""

RANDOMNESS_LIMBS = -(-ORDER.bit_length() // RANDOMNESS_LIMB_BITS)
"""Limbs that hold any randomness r < q (128)."""

COMMITMENT_BYTES = (MODULUS.bit_length() + 7) // 8
"""A commitment's length, big-endian [bytes]."""

_DOMAIN = b"fleetbench census commitment v1"


def generator(index: int) -> int:
    """The ``index``-th generator of the commitment group (-1: h, the randomness's), hashed into it.

    SHA-256 in counter mode over the domain and index gives 2,304 bits, reduced mod p and squared: a
    quadratic residue no one knows the logarithm of to any other generator's base.
    """
    label = _DOMAIN + index.to_bytes(8, "big", signed=True)
    stream = b"".join(hashlib.sha256(label + counter.to_bytes(2, "big")).digest() for counter in range(9))
    value = pow(int.from_bytes(stream, "big") % MODULUS, 2, MODULUS)
    if value in (0, 1):  # probability about 2^-2047; never seen, but neither is the identity a generator
        raise ArithmeticError(f"generator {index} hashed to {value}")
    return value


_GENERATORS: list[int] = []


def _generators(count: int) -> list[int]:
    """g_0 .. g_{count-1}, hashed once per process."""
    while len(_GENERATORS) < count:
        _GENERATORS.append(generator(len(_GENERATORS)))
    return _GENERATORS[:count]


_H = generator(-1)


def commit(values: Sequence[int], randomness: int) -> int:
    """C = h^r prod_j g_j^{x_j} mod p, for the integers ``values`` (x_j, any sign) and ``randomness`` (r).

    Zeros cost nothing: a site's census is mostly zeros (the atoms it is not in).
    """
    generators = _generators(len(values))
    terms = [(generators[j], int(value) % ORDER) for j, value in enumerate(values) if value]
    return pow(_H, randomness % ORDER, MODULUS) * _product_of_powers(terms) % MODULUS


def _product_of_powers(terms: Sequence[tuple[int, int]]) -> int:
    """The product of base^exponent mod p over ``terms``, squaring once per bit for all terms, not per term.

    A census's exponents are counts of tens of bits: one pass over their bits costs a few dozen squarings
    and a multiplication per set bit, several times less than a power per term.
    """
    bits = max((exponent.bit_length() for _, exponent in terms), default=0)
    product = 1
    for bit in reversed(range(bits)):
        product = product * product % MODULUS
        for base, exponent in terms:
            if exponent >> bit & 1:
                product = product * base % MODULUS
    return product


def opens_to(commitments: Iterable[int], totals: Sequence[int], randomness_sum: int) -> bool:
    """Whether the product of ``commitments`` is the commitment to ``totals`` with ``randomness_sum``.

    Each commitment must be a residue 1 < C < p. It need not be checked to lie in the subgroup of order
    q: the product is compared with h^R prod g_j^{T_j}, which does, and any product equal to it opens only
    to these totals (two members negating their commitments change nothing it opens to).
    """
    product = 1
    for commitment in commitments:
        if not 1 < commitment < MODULUS:
            return False
        product = product * commitment % MODULUS
    return product == commit(totals, randomness_sum)


def randomness_limbs(randomness: int) -> np.ndarray:
    """The randomness r as :data:`RANDOMNESS_LIMBS` little-endian limbs of :data:`RANDOMNESS_LIMB_BITS` bits.

    Float64 arrays, as the codec sends every block; each limb is exact.
    """
    if not 0 <= randomness < ORDER:
        raise ValueError("commitment randomness must lie in [0, q)")
    mask = (1 << RANDOMNESS_LIMB_BITS) - 1
    return np.array(
        [(randomness >> (RANDOMNESS_LIMB_BITS * k)) & mask for k in range(RANDOMNESS_LIMBS)], dtype=np.float64
    )


def randomness_from_limb_sums(limb_sums: Sequence[int]) -> int:
    """R = sum_k L_k 2^(16 k) mod q from the summed limbs L_k of every site's randomness."""
    return sum(int(total) << (RANDOMNESS_LIMB_BITS * k) for k, total in enumerate(limb_sums)) % ORDER


def to_bytes(commitment: int) -> bytes:
    """A commitment as :data:`COMMITMENT_BYTES` big-endian bytes (how it is signed and sent)."""
    return commitment.to_bytes(COMMITMENT_BYTES, "big")


def from_bytes(data: bytes) -> int:
    """The commitment ``data`` holds; ValueError unless it is :data:`COMMITMENT_BYTES` long."""
    if len(data) != COMMITMENT_BYTES:
        raise ValueError(f"a census commitment is {COMMITMENT_BYTES} bytes, got {len(data)}")
    return int.from_bytes(data, "big")
