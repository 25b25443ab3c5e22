"""URL signatures: Thumbor's HMAC-SHA1 (libthumbor), imagor's HMAC-SHA256 and HMAC-SHA512 (cut
to a length when imagor's `IMAGOR_SIGNER_TRUNCATE` is set), and AWS SIH's `?signature=`
HMAC-SHA256 in hex. Several keys may verify (rotation): the first signs. Pure: no settings.

Thumbor's and imagor's signatures sit in the same place (`/<signature>/<path>`) and are the
same urlsafe base64 of an HMAC of the path, so one verifier reads both: the signature's length
says which hash made it (28 characters SHA-1, 44 SHA-256, 88 SHA-512), and a truncated one is
tried as each hash it could be cut from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

# imagor's IMAGOR_SIGNER_TYPE values.
SIGNERS = ("sha1", "sha256", "sha512")
_HASHES: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
# Padded urlsafe base64 of the digest: 4 characters for every 3 bytes, rounded up.
FULL_LENGTH = {name: -(-_HASHES[name]().digest_size // 3) * 4 for name in SIGNERS}


def signature(key: str, path: str, signer: str = "sha1", truncate: int = 0) -> str:
    """The urlsafe base64 (padded) HMAC of `path` (without its leading slash), cut to its first
    `truncate` characters when that is shorter: libthumbor's with sha1, imagor's hmacSigner."""
    digest = hmac.new(key.encode(), path.lstrip("/").encode(), _HASHES[signer]).digest()
    text = base64.urlsafe_b64encode(digest).decode()
    return text[:truncate] if 0 < truncate < len(text) else text


def sign_path(key: str, path: str, signer: str = "sha1", truncate: int = 0) -> str:
    """`300x200/x.jpg` -> `/<signature>/300x200/x.jpg`."""
    path = path.lstrip("/")
    return f"/{signature(key, path, signer, truncate)}/{path}"


def signers_of_length(
    length: int, signers: Iterable[str] = SIGNERS, truncate: int = 0
) -> tuple[str, ...]:
    """The hashes a signature of `length` characters can come from: each one's full length
    (libthumbor's URLs keep working whatever the truncation), and `truncate` for those it cuts."""
    return tuple(
        name
        for name in signers
        if length == FULL_LENGTH[name] or (0 < truncate == length < FULL_LENGTH[name])
    )


def verify(
    keys: Sequence[str],
    given: str,
    path: str,
    signers: Iterable[str] = SIGNERS,
    truncate: int = 0,
) -> bool:
    """Whether `given` signs `path` with one of `keys` by one of `signers`."""
    candidates = signers_of_length(len(given), signers, truncate)
    return any(
        hmac.compare_digest(signature(key, path, name, len(given)).encode(), given.encode())
        for name in candidates
        for key in keys
    )


# --- Thumbor's names, kept for callers that sign with SHA-1 only -------------------------------


def thumbor_signature(key: str, path: str) -> str:
    """The urlsafe-base64 HMAC-SHA1 of the path after the signature, as libthumbor computes it."""
    return signature(key, path, "sha1")


def sign_thumbor_path(key: str, path: str) -> str:
    """`300x200/x.jpg` -> `/<signature>/300x200/x.jpg`."""
    return sign_path(key, path, "sha1")


def verify_thumbor(key: str, given: str, path: str) -> bool:
    return verify((key,), given, path, ("sha1",))


# --- AWS Serverless Image Handler -------------------------------------------------------------


def sih_signature(secret: str, path: str) -> str:
    """AWS Serverless Image Handler: lowercase hex HMAC-SHA256 of the request path."""
    return hmac.new(secret.encode(), path.encode(), hashlib.sha256).hexdigest()


def verify_sih(secret: str, given: str, path: str) -> bool:
    return verify_sih_keys((secret,), given, path)


def verify_sih_keys(keys: Sequence[str], given: str, text: str) -> bool:
    """Whether `given` (hex, any case) is SIH's signature of `text` with one of `keys`."""
    wanted = given.lower().encode()
    return any(hmac.compare_digest(sih_signature(key, text).encode(), wanted) for key in keys)


def sih_string_to_sign(path: str, query: Mapping[str, str]) -> str:
    """What SIH v7 signs: the path, then `?k=v&...` of every query parameter but `signature`
    (decoded), in the order JavaScript's default sort gives the `[k, v]` pairs (compared as the
    strings `k,v`, by UTF-16 code unit). Without parameters, the path alone (as v6 signs)."""
    pairs = sorted(
        ((k, v) for k, v in query.items() if k != "signature"),
        key=lambda pair: f"{pair[0]},{pair[1]}".encode("utf-16-be"),
    )
    text = "&".join(f"{k}={v}" for k, v in pairs)
    return f"{path}?{text}" if text else path
