"""The Accept header as RFC 9110 (section 12.5.1) reads it: media ranges with q-values, where
q=0 means "not acceptable". Pure: text in, answers out.

Which ranges count for which output format is a choice about real browsers, not the RFC's
wildcards: AVIF and WebP are taken only when named (a browser too old to decode WebP still sends
`image/*`), while JPEG and PNG, which every client decodes, are also taken through `image/*` or
`*/*`. A format named with q=0 is refused whatever the wildcards say.
"""

from __future__ import annotations

# The media types that name each output format, and whether wildcards stand for it.
_NAMES = {
    "avif": ("image/avif",),
    "webp": ("image/webp",),
    "jpeg": ("image/jpeg", "image/jpg"),
    "png": ("image/png",),
}
_WILDCARDS_TAKE = frozenset({"jpeg", "png"})
NEGOTIABLE = tuple(_NAMES)


def qualities(header: str) -> dict[str, float]:
    """Each media range of `header`, lower-cased, with its q-value (the highest when a range is
    listed twice). A q that is not a number from 0 to 1 counts as 0, as Thumbor reads it; a
    range with other parameters before its q names a variant we never write, so it is left out."""
    found: dict[str, float] = {}
    for part in header.split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() != "q":
                quality = -1.0  # e.g. `image/webp;profile=x`: not the plain type
                break
            quality = _quality(value)
            break
        if quality >= 0:
            media = media.lower()
            found[media] = max(quality, found.get(media, 0.0))
    return found


def _quality(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        return 0.0
    return value if 0.0 <= value <= 1.0 else 0.0


def takes(accepted: dict[str, float], fmt: str) -> bool:
    """Whether a client that sent these ranges (qualities()) takes `fmt` (one of NEGOTIABLE)."""
    named = [accepted[name] for name in _NAMES[fmt] if name in accepted]
    if named:
        return max(named) > 0
    if fmt not in _WILDCARDS_TAKE:
        return False
    for wildcard in ("image/*", "*/*"):
        if wildcard in accepted:
            return accepted[wildcard] > 0
    return False
