"""TensorFlow's string hashes in pure Python, so plait's hash bins equal Keras's.

Keras's `Hashing` layer buckets strings with TensorFlow's `Fingerprint64` (Google's
FarmHash, its "na" 64-bit variant) and, when salted, with SipHash-2-4 keyed by the
salt; `HashedCrossing` chains feature fingerprints with `FingerprintCat64`. These
are the published algorithms, written here from their descriptions on Python ints
(every result masked to 64 bits); `tests/layers/preprocessing/test_hashing.py`
checks them against Keras's and TensorFlow's documented outputs and the
reference test vectors.
"""

from __future__ import annotations

__all__ = ["fingerprint64", "fingerprint_cat64", "siphash24"]

_M = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F
_KMUL = 0x9DDFEA08EB382D69


def _u64(s: bytes, i: int) -> int:
    return int.from_bytes(s[i : i + 8], "little")


def _u32(s: bytes, i: int) -> int:
    return int.from_bytes(s[i : i + 4], "little")


def _rot(v: int, shift: int) -> int:
    return v if shift == 0 else ((v >> shift) | (v << (64 - shift))) & _M


def _mix(v: int) -> int:
    return v ^ (v >> 47)


def _len16(u: int, v: int, mul: int = _KMUL) -> int:
    a = _mix(((u ^ v) * mul) & _M)
    b = _mix(((v ^ a) * mul) & _M)
    return (b * mul) & _M


def _len0to16(s: bytes) -> int:
    n = len(s)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_u64(s, 0) + _K2) & _M
        b = _u64(s, n - 8)
        c = (_rot(b, 37) * mul + a) & _M
        d = ((_rot(a, 25) + b) * mul) & _M
        return _len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _len16(n + (_u32(s, 0) << 3), _u32(s, n - 4), mul)
    if n > 0:
        y = (s[0] + (s[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (s[n - 1] << 2)) & 0xFFFFFFFF
        return (_mix(((y * _K2) ^ (z * _K0)) & _M) * _K2) & _M
    return _K2


def _ends(s: bytes, k: int) -> tuple[int, int, int, int]:
    """`mul`, the first word (times `k`), and the two mixes of the first and
    last 16 bytes that start both the 17-32 and the 33-64 byte hashes."""
    n = len(s)
    mul = _K2 + n * 2
    a = (_u64(s, 0) * k) & _M
    b = _u64(s, 8)
    c = (_u64(s, n - 8) * mul) & _M
    d = (_u64(s, n - 16) * _K2) & _M
    y = (_rot((a + b) & _M, 43) + _rot(c, 30) + d) & _M
    z = _len16(y, (a + _rot((b + _K2) & _M, 18) + c) & _M, mul)
    return mul, a, y, z


def _len17to32(s: bytes) -> int:
    return _ends(s, _K1)[3]


def _len33to64(s: bytes) -> int:
    n = len(s)
    mul, a, y, z = _ends(s, _K2)
    e = (_u64(s, 16) * mul) & _M
    f = _u64(s, 24)
    g = ((y + _u64(s, n - 32)) * mul) & _M
    h = ((z + _u64(s, n - 24)) * mul) & _M
    return _len16(
        (_rot((e + f) & _M, 43) + _rot(g, 30) + h) & _M,
        (e + _rot((f + a) & _M, 18) + g) & _M,
        mul,
    )


def _weak32(s: bytes, i: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = _u64(s, i), _u64(s, i + 8), _u64(s, i + 16), _u64(s, i + 24)
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def fingerprint64(data: bytes | str) -> int:
    """TensorFlow's `Fingerprint64` (FarmHash `Fingerprint64`) of `data`, unsigned.

    Example:
        >>> hex(fingerprint64(b""))
        '0x9ae16a3b2f90404f'
    """
    s = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    n = len(s)
    if n <= 16:
        return _len0to16(s)
    if n <= 32:
        return _len17to32(s)
    if n <= 64:
        return _len33to64(s)
    seed = 81
    y = (seed * _K1 + 113) & _M
    z = (_mix((y * _K2 + 113) & _M) * _K2) & _M
    v, w = (0, 0), (0, 0)
    x = (seed * _K2 + _u64(s, 0)) & _M
    end = ((n - 1) // 64) * 64
    last = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rot((x + y + v[0] + _u64(s, i + 8)) & _M, 37) * _K1) & _M
        y = (_rot((y + v[1] + _u64(s, i + 48)) & _M, 42) * _K1) & _M
        x ^= w[1]
        y = (y + v[0] + _u64(s, i + 40)) & _M
        z = (_rot((z + w[0]) & _M, 33) * _K1) & _M
        v = _weak32(s, i, (v[1] * _K1) & _M, (x + w[0]) & _M)
        w = _weak32(s, i + 32, (z + w[1]) & _M, (y + _u64(s, i + 16)) & _M)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last
    w0 = (w[0] + ((n - 1) & 63)) & _M
    v0 = (v[0] + w0) & _M
    w0 = (w0 + v0) & _M
    v, w = (v0, v[1]), (w0, w[1])
    x = (_rot((x + y + v[0] + _u64(s, i + 8)) & _M, 37) * mul) & _M
    y = (_rot((y + v[1] + _u64(s, i + 48)) & _M, 42) * mul) & _M
    x ^= (w[1] * 9) & _M
    y = (y + v[0] * 9 + _u64(s, i + 40)) & _M
    z = (_rot((z + w[0]) & _M, 33) * mul) & _M
    v = _weak32(s, i, (v[1] * mul) & _M, (x + w[0]) & _M)
    w = _weak32(s, i + 32, (z + w[1]) & _M, (y + _u64(s, i + 16)) & _M)
    z, x = x, z
    return _len16(
        (_len16(v[0], w[0], mul) + _mix(y) * _K0 + z) & _M,
        (_len16(v[1], w[1], mul) + x) & _M,
        mul,
    )


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """TensorFlow's `FingerprintCat64`: combine two fingerprints, order-dependent."""
    mul = 0xC6A4A7935BD1E995
    result = fp1 ^ mul
    result ^= (_mix((fp2 * mul) & _M) * mul) & _M
    result = (result * mul) & _M
    result = (_mix(result) * mul) & _M
    return _mix(result)


def _sipround(v0: int, v1: int, v2: int, v3: int) -> tuple[int, int, int, int]:
    v0 = (v0 + v1) & _M
    v1 = _rot(v1, 64 - 13) ^ v0
    v0 = _rot(v0, 32)
    v2 = (v2 + v3) & _M
    v3 = _rot(v3, 64 - 16) ^ v2
    v0 = (v0 + v3) & _M
    v3 = _rot(v3, 64 - 21) ^ v0
    v2 = (v2 + v1) & _M
    v1 = _rot(v1, 64 - 17) ^ v2
    v2 = _rot(v2, 32)
    return v0, v1, v2, v3


def siphash24(k0: int, k1: int, data: bytes | str) -> int:
    """SipHash-2-4 of `data` under the 128-bit key `(k0, k1)` (TF's strong hash).

    Example:
        >>> key = bytes(range(16))
        >>> k0, k1 = (int.from_bytes(key[i : i + 8], "little") for i in (0, 8))
        >>> hex(siphash24(k0, k1, b""))
        '0x726fdb47dd0e0e31'
    """
    s = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    k0, k1 = k0 & _M, k1 & _M
    v = (
        k0 ^ 0x736F6D6570736575,
        k1 ^ 0x646F72616E646F6D,
        k0 ^ 0x6C7967656E657261,
        k1 ^ 0x7465646279746573,
    )
    n = len(s)
    full = n - n % 8
    blocks = [_u64(s, i) for i in range(0, full, 8)]
    blocks.append(((n & 0xFF) << 56) | int.from_bytes(s[full:], "little"))
    for m in blocks:
        v0, v1, v2, v3 = v
        v = _sipround(*_sipround(v0, v1, v2, v3 ^ m))
        v = (v[0] ^ m, v[1], v[2], v[3])
    v0, v1, v2, v3 = v
    v = (v0, v1, v2 ^ 0xFF, v3)
    for _ in range(4):
        v = _sipround(*v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]
