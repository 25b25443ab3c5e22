"""AWS Serverless Image Handler's default request style: the path is base64 of a JSON document,
`{"bucket": ..., "key": ..., "edits": {...}}`. It is translated into the Thumbor URL that does the
same, so that one core handles both; grammar.generate() writes it, from Params. Only the common
edits are mapped (resize with its `fit`, `toFormat`, `grayscale`, `flip`, `flop`, `rotate` by
right angles, the per-format `quality`); others are ignored, as the core ignores unknown Thumbor
filters, and listed in the log line.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ..errors import InvalidUrl, SignatureDoesNotMatch
from ..grammar import Filter, Params, generate, generate_url
from ..messages import Request
from ..signing import verify_sih

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


def _size(value: Any) -> int | None:
    if value is None:
        return None
    try:
        number = round(float(value))
    except (TypeError, ValueError, OverflowError):  # Python's json reads Infinity and NaN
        raise InvalidUrl(f"resize sizes must be numbers, got {value!r}") from None
    if number < 0:
        raise InvalidUrl(f"resize sizes must be positive, got {value!r}")
    return number


def thumbor_path(document: dict[str, Any]) -> tuple[str, list[str]]:
    """The Thumbor path (without `unsafe/` or a signature), and the edits that were ignored."""
    params, ignored = thumbor_params(document)
    return generate(params), ignored


def thumbor_params(document: dict[str, Any]) -> tuple[Params, list[str]]:
    """The Thumbor request that does what the document asks, and the edits that were ignored."""
    edits = document.get("edits") or {}
    if not isinstance(edits, dict):
        raise InvalidUrl('"edits" must be an object')
    filters: list[Filter] = []
    resize = edits.get("resize") or {}
    if not isinstance(resize, dict):
        raise InvalidUrl('"resize" must be an object')
    width, height = _size(resize.get("width")), _size(resize.get("height"))
    fit_in = full = False
    if width is not None or height is not None:
        fit = resize.get("fit", "cover")
        if fit == "inside":
            fit_in = True
        elif fit == "outside":
            fit_in = full = True
        elif fit == "contain":
            fit_in = True
            filters.append(Filter("fill", (_color(resize.get("background")),)))
        elif fit == "fill":
            filters.append(Filter("stretch"))
    fmt = edits.get("toFormat")
    if isinstance(fmt, str) and fmt.lower() in _FORMATS:
        filters.append(Filter("format", (fmt.lower(),)))
    if edits.get("grayscale"):
        filters.append(Filter("grayscale"))
    rotate = edits.get("rotate")
    if isinstance(rotate, int | float) and not isinstance(rotate, bool) and rotate % 90 == 0:
        # sharp turns clockwise, Thumbor's rotate() counter-clockwise.
        filters.append(Filter("rotate", (str(int(-rotate) % 360),)))
    for name in _QUALITY_EDITS:  # the output format's options, or the first given
        options = edits.get(name)
        quality = options.get("quality") if isinstance(options, dict) else None
        if isinstance(quality, int) and (not fmt or name == str(fmt).lower()):
            filters.append(Filter("quality", (str(max(1, min(100, quality))),)))
            break
    bucket = document.get("bucket")
    key = document["key"].lstrip("/")
    params = Params(
        image=f"s3:{bucket}/{key}" if isinstance(bucket, str) and bucket else key,
        fit_in=fit_in,
        full=full,
        width=width,
        height=height,
        # sharp's flop mirrors left-right (Thumbor's -W), its flip upside down (-H).
        horizontal_flip=bool(edits.get("flop")),
        vertical_flip=bool(edits.get("flip")),
        filters=tuple(filters),
    )
    return params, sorted(set(edits) - _HANDLED)


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
    params, ignored = thumbor_params(decode(request.path))
    new_path = generate_url(params, security_key or None)
    query = {k: v for k, v in request.query.items() if k != "signature"}
    return request._replace(path=new_path, raw_path=new_path, query=query), ignored
