"""imagor's `expire(UNIX_MS)`: a moment, in the signed part of the URL, after which the URL is
refused (403 `UrlExpired`), and which no cache may keep the image past. The filter itself
(filters/options.py) records the moment in the Plan; this module decides with it. Pure: the
time is an argument.
"""

from __future__ import annotations

from .errors import InvalidUrl, UrlExpired
from .grammar import generate, parse

FILTER = "expire"


def check(expires_ms: int | None, now: float) -> None:
    """UrlExpired once `now` (UNIX seconds) is past `expires_ms`: the moment itself is still
    valid, as in imagor."""
    if expires_ms is not None and now * 1000 > expires_ms:
        raise UrlExpired(f"this URL expired at {expires_ms} (UNIX milliseconds); ask for a new one")


def capped_max_age(max_age: int, expires_ms: int | None, now: float) -> int:
    """`max_age`, or fewer seconds so that a cache never keeps the image past `expires_ms`
    (rounded down: imagor rounds up, which lets a cache serve it for up to a second after)."""
    if expires_ms is None:
        return max_age
    left = (expires_ms - now * 1000) // 1000
    return max(0, min(max_age, int(left)))


def without_expire(path: str) -> str:
    """`path` with its `expire()` filters left out: the same image whatever its expiry, so one
    result-store entry serves every URL of it (imagor leaves them out of its result path too).
    `path` itself when no other path says the rest."""
    try:
        params = parse(path)
        kept = tuple(f for f in params.filters if f.name != FILTER)
        return generate(params._replace(filters=kept))
    except InvalidUrl:
        return path
