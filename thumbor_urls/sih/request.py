"""A request read as SIH reads it (v7.0.8's image-request.ts, query-param-mapper.ts and
thumbor-mapper.ts; v6.3.3 is the same less the query parameters and `expires`): its signature,
`expires`, its type, the default request's document and the query parameters' edits.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..errors import ImageServiceError


class SihError(ImageServiceError):
    """A request SIH refuses, with SIH's status and code (its JSON has the same three fields
    as ours: status, code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class InvalidEdit(ImageServiceError):
    """An edit whose value sharp refuses (SIH answers these 500 `ProcessingFailure`: the same
    status here, with a code and message that say which edit)."""

    status, code = 500, "InvalidEdit"


# --- signatures (v6: of the path; v7: of the path and the query) ------------------------------

# The query parameters v7 turns into edits (query-param-mapper.ts), and `expires`: a v6
# signature (of the path alone) does not cover them, so it is refused when they are there.
EDIT_PARAMETERS = frozenset(
    {"format", "fit", "width", "height", "rotate", "flip", "flop", "grayscale", "greyscale"}
)


def string_to_sign(path: str, query: Mapping[str, str]) -> str:
    """v7: `path?k=v&...` of every parameter but `signature`, decoded, sorted as JavaScript's
    default sort orders `[k, v]` pairs (as the strings `k,v`, by UTF-16 code unit)."""
    pairs = sorted(
        ((k, v) for k, v in query.items() if k != "signature"),
        key=lambda pair: f"{pair[0]},{pair[1]}".encode("utf-16-be"),
    )
    text = "&".join(f"{k}={v}" for k, v in pairs)
    return f"{path}?{text}" if text else path


def sih_hmac(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def verify_signature(
    secret: str, path: str, query: Mapping[str, str], raw_path: str | None
) -> None:
    """400 `AuthorizationQueryParametersError` without `?signature=`, 403
    `SignatureDoesNotMatch` when neither v7's string (path and query) nor, for a query that
    changes nothing, v6's (the path alone) matches."""
    signature = query.get("signature")
    if not signature:
        raise SihError(
            400,
            "AuthorizationQueryParametersError",
            "Query-string requires the signature parameter.",
        )
    paths = dict.fromkeys(p for p in (path, raw_path) if p)
    candidates = [string_to_sign(p, query) for p in paths]
    if not (set(query) - {"signature"}) & (EDIT_PARAMETERS | {"expires"}):
        candidates += list(paths)  # v6 signed the path only
    given = signature.lower().encode()
    if not any(hmac.compare_digest(sih_hmac(secret, c).encode(), given) for c in candidates):
        raise SihError(403, "SignatureDoesNotMatch", "Signature does not match.")


# --- expires ----------------------------------------------------------------------------------

_EXPIRES = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$")


def seconds_to_expiry(query: Mapping[str, str], now: float | None = None) -> int | None:
    """None without `expires`; the whole seconds left before it; 400 once it has passed or
    when it is not `YYYYMMDDTHHmmssZ` naming a real date."""
    expires = query.get("expires")
    if expires is None:
        return None
    match = _EXPIRES.match(expires)
    stamp: int | None = None
    if match:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        try:
            moment = time.strptime(expires, "%Y%m%dT%H%M%SZ")
        except ValueError:
            moment = None
        if moment is not None and (moment.tm_mon, moment.tm_mday) == (month, day) and hour < 24:
            stamp = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if stamp is None:
        raise SihError(
            400,
            "ImageRequestExpiryFormat",
            "Request has invalid expires value. The expires query param should map to a real "
            "date and follow the following format: YYYYMMDDTHHmmssZ (Ex: Jan 2nd, 1970 at "
            "12:03:04PM UTC becomes 19700102T120304Z).",
        )
    now = time.time() if now is None else now
    if stamp < now:
        raise SihError(400, "ImageRequestExpired", "Request has expired.")
    return int(stamp - now)


# --- request types ----------------------------------------------------------------------------

_DEFAULT = re.compile(r"^(/?)([0-9a-zA-Z+/]{4})*(([0-9a-zA-Z+/]{2}==)|([0-9a-zA-Z+/]{3}=))?$")
_NO_EXTENSION = re.compile(r"^((.(?!(\.[^.\\/]+$)))*$)", re.S)
_IMAGE_EXTENSION = re.compile(
    r".*(\.jpg$|\.jpeg$|.\.png$|\.webp$|\.tiff$|\.tif$|\.svg$|\.gif$|\.avif$)", re.I | re.S
)


def decode_document(path: str) -> Any:
    """The JSON a default request's path encodes, or None when it is not one: SIH tries
    Node's lenient base64 then JSON.parse, and takes the path for a Thumbor one when that fails."""
    text = path[1:] if path.startswith("/") else path
    if not _DEFAULT.match("/" + text):
        return None
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4))
        return json.loads(raw.decode("utf-8", "replace"))
    except (binascii.Error, ValueError):
        return None


def request_type(path: str, rewriting: bool) -> str:
    """`default`, `custom` (rewrite rules set) or `thumbor`; 400 `RequestTypeError` for a
    path that names a file of a type SIH does not read."""
    if decode_document(path) is not None:
        return "default"
    if rewriting:
        return "custom"
    if _NO_EXTENSION.match(path) or _IMAGE_EXTENSION.match(path):
        return "thumbor"
    raise SihError(
        400,
        "RequestTypeError",
        "The type of request you are making could not be processed. Please ensure that your "
        "original image is of a supported file type (jpg/jpeg, png, tiff/tif, webp, svg, gif, "
        "avif) and that your image request is provided in the correct syntax.",
    )


# --- rewrite rules (the "custom" request type) ------------------------------------------------


def compile_rewrite(pattern: str) -> tuple[re.Pattern[str], bool]:
    """REWRITE_MATCH_PATTERN, a JavaScript regular expression literal (`/.../flags`), as a
    Python pattern and whether it replaces every match (`g`)."""
    flags = pattern.rsplit("/", 1)[-1] if pattern.startswith("/") else ""
    body = pattern[1 : len(pattern) - 1 - len(flags)] if pattern.startswith("/") else pattern
    options = 0
    for flag, option in (("i", re.I), ("m", re.M), ("s", re.S)):
        if flag in flags:
            options |= option
    # JavaScript's named groups are written (?<name>...); Python's (?P<name>...).
    body = re.sub(r"\(\?<(?![=!])", "(?P<", body)
    return re.compile(body, options), "g" in flags


def rewrite(path: str, pattern: str, substitution: str) -> str:
    """`path.replace(regExp, REWRITE_SUBSTITUTION)` as JavaScript does it: `$1`, `$&`, `$$`."""
    regex, every = compile_rewrite(pattern)

    def expand(match: re.Match[str]) -> str:
        def one(token: re.Match[str]) -> str:
            text = token.group(0)
            if text == "$$":
                return "$"
            if text == "$&":
                return match.group(0)
            index = int(text[1:])
            if index <= (regex.groups or 0):
                return match.group(index) or ""
            return text

        return re.sub(r"\$\$|\$&|\$\d{1,2}", one, substitution)

    return regex.sub(expand, path, count=0 if every else 1)


# --- query parameters (v7) --------------------------------------------------------------------


def _parse_int(text: str) -> float | None:
    """JavaScript's parseInt(text) (NaN as nan), and None for "" (stringToNullInt)."""
    if text == "":
        return None
    match = re.match(r"^\s*([+-]?\d+)", text)
    return float(int(match.group(1))) if match else math_nan()


def math_nan() -> float:
    return float("nan")


def _zero_null_int(text: str) -> float | None:
    return None if text == "0" else _parse_int(text)


def _boolean(text: str) -> bool:
    return text.lower() not in ("0", "false", "")


_QUERY: dict[str, tuple[str | None, str, Callable[[str], Any] | None]] = {
    "format": (None, "toFormat", None),
    "fit": ("resize", "fit", None),
    "width": ("resize", "width", _zero_null_int),
    "height": ("resize", "height", _zero_null_int),
    "rotate": (None, "rotate", _parse_int),
    "flip": (None, "flip", _boolean),
    "flop": (None, "flop", _boolean),
    "grayscale": (None, "greyscale", _boolean),
    "greyscale": (None, "greyscale", _boolean),
}


def query_edits(query: Mapping[str, str]) -> dict[str, Any]:
    """The edits v7 reads from the query (`?format=&fit=&width=&height=&rotate=&flip=&flop=
    &grayscale=`), in the query's order; `resize` is one object that replaces the request's."""
    edits: dict[str, Any] = {}
    for name, value in query.items():
        mapping = _QUERY.get(name)
        if mapping is None:
            continue
        group, key, transform = mapping
        converted = transform(value) if transform else value
        if group is None:
            edits[key] = converted
        else:
            edits.setdefault(group, {})[key] = converted
    return edits


def merge(edits: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`{...edits, ...overrides}`: key by key, a key already there keeps its place (which is
    its place in sharp's calls), a new one goes last."""
    merged = dict(edits)
    merged.update(overrides)
    return merged


class Document(NamedTuple):
    """A default request, checked as far as SIH checks it before loading the image."""

    bucket: str | None
    key: str
    edits: dict[str, Any]
    output_format: str | None
    effort: int | None
    headers: dict[str, str]


# Response headers a default request may not set (v7.0.8's HEADER_DENY_LIST; v6 lacks
# Set-Cookie, denied here all the same).
HEADER_DENY_LIST = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        r"^authorization$",
        r"^connection$",
        r"^server$",
        r"^transfer-encoding$",
        r"^referrer-policy$",
        r"^permissions-policy$",
        r"^www-authenticate$",
        r"^proxy-authenticate$",
        r"^x-api-key$",
        r"^set-cookie$",
        r"^x-frame-.*$",
        r"^x-content-.*$",
        r"^x-xss-.*$",
        r"^strict-transport-.*$",
        r"^permissions-.*$",
        r"^x-amz-.*$",
        r"^x-amzn-.*$",
        r"^access-control-.*$",
        r"^cross-origin-.*$",
        r"^content-.*$",
    )
)


def allowed_headers(headers: object) -> dict[str, str]:
    if not isinstance(headers, dict):
        return {}
    return {
        str(name): str(value)
        for name, value in headers.items()
        if not any(pattern.match(str(name)) for pattern in HEADER_DENY_LIST)
        and "\n" not in str(value)
        and "\r" not in str(value)
    }


def document(path: str) -> Document:
    decoded = decode_document(path)
    if not isinstance(decoded, dict):
        decoded = {}
    key = decoded.get("key")
    if not isinstance(key, str):
        # SIH asks S3 for the key `undefined`.
        raise SihError(
            404,
            "NoSuchKey",
            "The image undefined does not exist or the request may not be base64 encoded properly.",
        )
    bucket = decoded.get("bucket")
    edits = decoded.get("edits")
    output_format = decoded.get("outputFormat")
    effort = decoded.get("effort")
    if isinstance(effort, int | float) and not isinstance(effort, bool):
        effort = int(effort) if 0 <= int(effort) <= 6 else 4
    elif effort is not None:
        effort = 4
    return Document(
        bucket=bucket if isinstance(bucket, str) else None,
        key=key,
        edits=dict(edits) if isinstance(edits, dict) else {},
        output_format=output_format if isinstance(output_format, str) else None,
        effort=effort,
        headers=allowed_headers(decoded.get("headers")),
    )
