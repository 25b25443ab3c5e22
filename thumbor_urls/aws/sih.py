"""AWS Serverless Image Handler's default request style: the path is base64 of a JSON document,
`{"bucket": ..., "key": ..., "edits": {...}}`. It is translated into the Thumbor URL that does the
same, so that one core handles both. Only the common edits are mapped (resize with its `fit`,
`toFormat`, `grayscale`, `flip`, `flop`, `rotate` by right angles, the per-format `quality`);
others are ignored, as the core ignores unknown Thumbor filters, and listed in the log line.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ..errors import InvalidUrl, SignatureDoesNotMatch
from ..messages import Request
from ..signing import sign_thumbor_path, verify_sih

_BASE64 = re.compile(r"^eyJ[0-9a-zA-Z+/]*={0,2}$")  # '{"' is "eyJ"
_FORMATS = {"jpeg", "jpg", "png", "webp", "avif", "gif", "heif", "heic"}
_QUALITY_EDITS = ("jpeg", "webp", "avif", "png", "heif")
_HANDLED = {"resize", "toFormat", "grayscale", "flip", "flop", "rotate", *_QUALITY_EDITS}


def is_sih_path(path: str) -> bool:
    return bool(_BASE64.match(path.lstrip("/")))


def decode(path: str) -> dict[str, Any]:
    text = path.lstrip("/")
    try:
        document = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    except (binascii.Error, ValueError):
        raise InvalidUrl("the request is not base64 of a JSON document") from None
    if not isinstance(document, dict) or not isinstance(document.get("key"), str):
        raise InvalidUrl('the request must be a JSON object with a "key"')
    return document


def _color(background: Any) -> str:
    if isinstance(background, dict):
        channels = [int(background.get(c, 0)) for c in ("r", "g", "b")]
        if float(background.get("alpha", 1)) == 0:
            return "transparent"
        return "".join(f"{max(0, min(255, c)):02x}" for c in channels)
    if isinstance(background, str) and re.fullmatch(r"#?[0-9a-fA-F]{6}", background):
        return background.lstrip("#")
    return "000000"  # sharp's default for contain


def _size(value: Any) -> str:
    if value is None:
        return ""
    try:
        number = round(float(value))
    except (TypeError, ValueError):
        raise InvalidUrl(f"resize sizes must be numbers, got {value!r}") from None
    if number < 0:
        raise InvalidUrl(f"resize sizes must be positive, got {value!r}")
    return str(number)


def thumbor_path(document: dict[str, Any]) -> tuple[str, list[str]]:
    """The Thumbor path (without `unsafe/` or a signature), and the edits that were ignored."""
    edits = document.get("edits") or {}
    if not isinstance(edits, dict):
        raise InvalidUrl('"edits" must be an object')
    parts: list[str] = []
    filters: list[str] = []
    resize = edits.get("resize") or {}
    if not isinstance(resize, dict):
        raise InvalidUrl('"resize" must be an object')
    width, height = _size(resize.get("width")), _size(resize.get("height"))
    flop, flip = bool(edits.get("flop")), bool(edits.get("flip"))
    fit = resize.get("fit", "cover")
    if width or height or flip or flop:
        if width or height:
            if fit == "inside":
                parts.append("fit-in")
            elif fit == "outside":
                parts.append("full-fit-in")
            elif fit == "contain":
                parts.append("fit-in")
                filters.append(f"fill({_color(resize.get('background'))})")
            elif fit == "fill":
                filters.append("stretch()")
        parts.append(f"{'-' if flop else ''}{width}x{'-' if flip else ''}{height}")
    fmt = edits.get("toFormat")
    if isinstance(fmt, str) and fmt.lower() in _FORMATS:
        filters.append(f"format({fmt.lower()})")
    if edits.get("grayscale"):
        filters.append("grayscale()")
    rotate = edits.get("rotate")
    if isinstance(rotate, int | float) and not isinstance(rotate, bool) and rotate % 90 == 0:
        # sharp turns clockwise, Thumbor's rotate() counter-clockwise.
        filters.append(f"rotate({int(-rotate) % 360})")
    for name in _QUALITY_EDITS:  # the output format's options, or the first given
        options = edits.get(name)
        quality = options.get("quality") if isinstance(options, dict) else None
        if isinstance(quality, int) and (not fmt or name == str(fmt).lower()):
            filters.append(f"quality({max(1, min(100, quality))})")
            break
    if filters:
        parts.append("filters:" + ":".join(filters))
    bucket = document.get("bucket")
    key = document["key"].lstrip("/")
    parts.append(f"s3:{bucket}/{key}" if isinstance(bucket, str) and bucket else key)
    ignored = sorted(set(edits) - _HANDLED)
    return "/".join(parts), ignored


def rewrite(request: Request, security_key: str) -> tuple[Request, list[str]]:
    """The SIH request as the Thumbor request that does the same. With a key, SIH's
    `?signature=` (hex HMAC-SHA256 of the path) must match, and the Thumbor path is then signed
    with the same key for the core to verify; without one, it becomes an `/unsafe/` URL."""
    raw = request.raw_path or request.path
    if security_key:
        signature = request.query.get("signature")
        if signature is None:
            raise SignatureDoesNotMatch("this request must carry a ?signature= query parameter")
        if not verify_sih(security_key, signature, raw):
            raise SignatureDoesNotMatch("the signature query parameter does not match the path")
    path, ignored = thumbor_path(decode(request.path))
    new_path = sign_thumbor_path(security_key, path) if security_key else f"/unsafe/{path}"
    query = {k: v for k, v in request.query.items() if k != "signature"}
    return request._replace(path=new_path, raw_path=new_path, query=query), ignored
