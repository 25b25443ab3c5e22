"""Which part of a request's path its signature covers, and that part as it is then routed.

A path arrives twice: as sent, percent-encoded (`raw_path`, when the adapter knows it), and
decoded once (`path`). libthumbor signs the path as written, so a URL with a space or an `é` is
signed decoded and sent encoded by the browser; a path whose key holds `%2F` or `%3A` on
purpose is signed encoded. Either may verify, and the one that does is the one routed:

- the decoded path verifies: it is parsed as it is, nothing decoded again;
- the path as sent verifies: its parts are read from that very string, then each value (the
  image's key, each filter argument) decoded once, as Thumbor does (Tornado matches the URL
  as sent and decodes each part it captured) and imagor too. A `%2F` stays inside the key it
  was signed in instead of starting a new part of the path.

Either way nothing is routed that the signature did not cover. Pure: no I/O.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import unquote

from . import grammar, signing
from .config import Settings
from .errors import SignatureDoesNotMatch, UnsafeUrlNotAllowed
from .messages import Request


def verified_rest(request: Request, settings: Settings) -> str:
    """The path after `unsafe/` or a valid signature, to be parsed as it is; 403
    SignatureDoesNotMatch or UnsafeUrlNotAllowed otherwise."""
    keys = settings.security_keys
    raw_path = request.raw_path or request.path
    sih = request.query.get("signature")
    if sih is not None and keys:
        # AWS SIH: `?signature=` is the hex HMAC-SHA256 of the whole path, leading slash included.
        for path, decode in _candidates(request.path, raw_path):
            if signing.verify_sih_keys(keys, sih, path):
                return routed(path.lstrip("/").removeprefix("unsafe/"), decode)
        raise SignatureDoesNotMatch("the signature query parameter does not match the path")
    first, _, rest = request.path.lstrip("/").partition("/")
    if first == "unsafe":
        if not settings.ALLOW_UNSAFE_URL:
            raise UnsafeUrlNotAllowed("unsafe URLs are turned off here; sign the URL")
        return rest
    if not keys:
        raise SignatureDoesNotMatch(
            "the URL must start with /unsafe/ or a signature, and this server has no "
            "SECURITY_KEY to check signatures with"
        )
    raw_first, _, raw_rest = raw_path.lstrip("/").partition("/")
    given = unquote(raw_first)  # a browser may have encoded the base64's `=` as %3D
    valid = partial(signing.verify, keys, given, signers=settings.SIGNER_TYPES,
                    truncate=settings.SIGNER_TRUNCATE)  # fmt: skip
    for path, decode in _candidates(rest, raw_rest):
        if valid(path):
            return routed(path, decode)
    raise SignatureDoesNotMatch("the URL signature does not match the URL")


def _candidates(decoded: str, raw: str) -> list[tuple[str, bool]]:
    """The strings a signature may cover, the decoded one first, each with whether it is still
    percent-encoded."""
    return [(decoded, False)] + ([(raw, True)] if raw != decoded else [])


def routed(signed: str, percent_encoded: bool) -> str:
    """The path to parse for the `signed` string: itself when it was decoded already; else
    the path its parts say once each value is decoded (grammar.generate writes it, so parsing
    it gives exactly those parts)."""
    if not percent_encoded or "%" not in signed:
        return signed
    params = grammar.parse(signed)
    filters = tuple(
        grammar.Filter(f.name, tuple(unquote(arg) for arg in f.args)) for f in params.filters
    )
    return grammar.generate(params._replace(image=unquote(params.image), filters=filters))
