"""All settings, read once from the environment, each described once.

A setting is a field of `Settings`: its name (named like Thumbor's setting wherever Thumbor
has one, so a Thumbor user's configuration carries over), its type and default, and in its
annotation a `Setting`: how the environment's text is read, what it means, and whether it
changes the bytes of a result. Parsing (`Settings.from_env`), the result cache's fingerprint
and the reference table (docs/reference.md) are all derived from these. Defaults work on one
machine with no AWS at all.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, NamedTuple, get_type_hints

from . import __version__
from .accept import NEGOTIABLE
from .jsonp import InvalidCallback, checked_callback
from .signing import FULL_LENGTH, SIGNERS

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingError(ValueError):
    pass


Parse = Callable[[str, str], object]  # (name, text) -> value, or SettingError


class Setting(NamedTuple):
    """How a setting is read and what it means."""

    parse: Parse
    doc: str
    output: bool = False  # it changes the bytes of a result: part of every result's cache key
    shown_default: str = ""  # the default as the docs show it, where the value itself would not


# --- parsers ----------------------------------------------------------------------------------


def boolean(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name} must be true or false, got {raw!r}")


def _within(convert: Callable[[str], float], kind: str, low: float, high: float) -> Parse:
    def parse(name: str, raw: str) -> object:
        try:
            value = convert(raw.strip())
        except ValueError:
            raise SettingError(f"{name} must be {kind}, got {raw!r}") from None
        if not low <= value <= high:
            raise SettingError(f"{name} must be between {low} and {high}, got {value}")
        return value

    return parse


def integer(low: int, high: int) -> Parse:
    return _within(int, "a whole number", low, high)


def number(low: float, high: float) -> Parse:
    return _within(float, "a number", low, high)


def optional(parse: Parse) -> Parse:
    """`parse`, or None for an empty value."""
    return lambda name, raw: parse(name, raw) if raw.strip() else None


def choice(*choices: str, upper: bool = False) -> Parse:
    def parse(name: str, raw: str) -> str:
        value = raw.strip().upper() if upper else raw.strip().lower()
        if value not in choices:
            raise SettingError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return value

    return parse


def names(name: str, raw: str) -> tuple[str, ...]:
    """A comma-separated list."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def choices(*allowed: str) -> Parse:
    """A comma-separated list of some of `allowed` (lower-cased), at least one."""

    def parse(name: str, raw: str) -> tuple[str, ...]:
        values = tuple(dict.fromkeys(item.lower() for item in names(name, raw)))
        wrong = [value for value in values if value not in allowed]
        if wrong or not values:
            raise SettingError(f"{name} must list some of {', '.join(allowed)}, got {raw!r}")
        return values

    return parse


def formats(allowed: tuple[str, ...]) -> Parse:
    """A comma list of output formats, in order, each once (`jpg` is `jpeg`)."""

    def parse(name: str, raw: str) -> tuple[str, ...]:
        chosen: list[str] = []
        for item in names(name, raw.lower()):
            fmt = "jpeg" if item == "jpg" else item
            if fmt not in allowed:
                raise SettingError(f"{name} takes {', '.join(allowed)}, got {item!r}")
            if fmt not in chosen:
                chosen.append(fmt)
        return tuple(chosen)

    return parse


def truncation(name: str, raw: str) -> int:
    """0, or a length a signature may be cut to that still leaves 96 bits of it (16 base64
    characters): imagor lets any length through, which would make signatures guessable."""
    value = integer(0, max(FULL_LENGTH.values()))(name, raw)
    assert isinstance(value, int)
    if 0 < value < MIN_SIGNATURE_LENGTH:
        raise SettingError(f"{name} must be 0 or at least {MIN_SIGNATURE_LENGTH}, got {value}")
    return value


def integers(low: int, high: int) -> Parse:
    """A comma list of whole numbers from `low` to `high`, sorted, each once."""
    number = integer(low, high)

    def parse(name: str, raw: str) -> tuple[int, ...]:
        values = {number(name, item) for item in names(name, raw)}
        return tuple(sorted(value for value in values if isinstance(value, int)))

    return parse


def presets(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    """Named option sets: a JSON object of names to options, or the path of a file holding
    one, or holding `name=options` lines (a line starting with `#` is a comment). Whether each
    is a valid set of options is presets.py's to say, when the App starts."""
    import json  # noqa: PLC0415 - only servers with presets read them

    text = raw.strip()
    if not text:
        return ()
    if not text.startswith("{"):
        try:
            text = Path(text).read_text()
        except OSError as error:
            raise SettingError(
                f"{name} must be a JSON object or the path of a file, and {raw!r} cannot be "
                f"read: {error.strerror}"
            ) from None
    if text.lstrip().startswith("{"):
        try:
            table = json.loads(text)
        except ValueError as error:
            raise SettingError(f"{name} is not valid JSON: {error}") from None
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise SettingError(f"{name} must map names to option strings")
        return tuple(table.items())
    pairs = []
    for number, written in enumerate(text.splitlines(), 1):
        line = written.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, options = line.partition("=")
        if not equals:
            raise SettingError(f"{name}: line {number} is not name=options: {line!r}")
        pairs.append((key.strip(), options.strip()))
    return tuple(pairs)


def callback_name(name: str, raw: str) -> str:
    """A JSONP callback: a JavaScript name or dotted path (jsonp.py), or empty for none."""
    try:
        return checked_callback(raw.strip()) or ""
    except InvalidCallback as error:
        raise SettingError(f"{name}: {error}") from None


def text(name: str, raw: str) -> str:
    return raw.strip()


def secret(name: str, raw: str) -> str:
    return raw  # a key is taken as written: spaces may be part of it


def folder(name: str, raw: str) -> Path:
    return Path(raw)


def folder_or_none(name: str, raw: str) -> Path | None:
    return Path(raw) if raw.strip() else None


LOADER_NAMES = ("file", "s3", "http")


def loaders(name: str, raw: str) -> tuple[str, ...]:
    """A comma list of loader names, each once."""
    chosen = tuple(item.lower() for item in names(name, raw))
    unknown = [item for item in chosen if item not in LOADER_NAMES]
    if unknown:
        raise SettingError(f"{name}: unknown loader {unknown[0]!r}; use {', '.join(LOADER_NAMES)}")
    if len(set(chosen)) != len(chosen):
        raise SettingError(f"{name} names a loader twice: {raw!r}")
    return chosen


def source_patterns(name: str, raw: str) -> tuple[str, ...]:
    """ALLOWED_SOURCES: a comma list of hosts and regular expressions (commas inside a
    regular expression's braces or brackets do not split it), each regular expression
    compiled once here so that a typo stops the start, not a request."""
    import re  # noqa: PLC0415 - only when the setting is given

    items: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(raw + ","):
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            items.append(raw[start:index].strip())
            start = index + 1
    patterns = tuple(item for item in items if item)
    for pattern in patterns:
        text = pattern.removeprefix("re:")
        try:
            re.compile(text)
        except re.error as error:
            raise SettingError(
                f"{name}: {pattern!r} is not a regular expression: {error}"
            ) from None
    return patterns


# Never sent to an origin, whatever HTTP_LOADER_FORWARD_HEADERS_WHITELIST says: credentials,
# and the headers that frame the request itself.
NEVER_FORWARDED = frozenset(
    {
        "authorization",
        "cookie",
        "proxy-authorization",
        "host",
        "connection",
        "content-length",
        "transfer-encoding",
        "te",
        "upgrade",
        "keep-alive",
        "proxy-connection",
        "expect",
        "accept-encoding",
        "range",
        "if-range",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "x-amz-security-token",
        "x-api-key",
    }
)


def header_names(name: str, raw: str) -> tuple[str, ...]:
    """A comma list of request header names, lower-cased; credentials are refused."""
    chosen = tuple(item.lower() for item in names(name, raw))
    refused = [item for item in chosen if item in NEVER_FORWARDED]
    if refused:
        raise SettingError(f"{name}: {refused[0]!r} is never forwarded to an origin")
    return chosen


MIN_SIGNATURE_LENGTH = 16
RESAMPLING_FILTERS = ("LANCZOS", "BICUBIC", "BILINEAR", "HAMMING", "NEAREST")
MODERATION_BACKENDS = ("rekognition", "none")
# Lambda's response is at most 6 MiB of JSON, the body in base64 (4 bytes for 3) and the
# headers beside it: 16 KiB are kept for the headers and the JSON around the body.
MAX_LAMBDA_BODY_BYTES = (6 * 1024 * 1024 - 16 * 1024) // 4 * 3
_QUALITY = integer(1, 100)

# The system's temporary directory, looked up in the variables tempfile.gettempdir() reads
# first (without its checks that the folder is writable): importing tempfile costs about 6 ms of
# every cold start, for this one default.
_TEMPORARY = next(
    (os.environ[name] for name in ("TMPDIR", "TEMP", "TMP") if os.environ.get(name)),
    "/tmp",  # noqa: S108
)


class Settings(NamedTuple):
    """Every setting, with its default. (A NamedTuple, not a dataclass: importing dataclasses
    costs 7 ms of every cold start.)"""

    # Signing (signing.py, docs/signing.md)
    SECURITY_KEY: Annotated[
        str,
        Setting(secret, "key URL signatures are made and checked with (Thumbor's setting)"),
    ] = ""
    SECURITY_KEYS: Annotated[
        tuple[str, ...],
        Setting(
            names,
            "comma list of keys, for rotating them: the first signs, every one (and "
            "`SECURITY_KEY`) verifies",
        ),
    ] = ()
    SIGNER_TYPES: Annotated[
        tuple[str, ...],
        Setting(
            choices(*SIGNERS),
            "signatures accepted, told apart by their length: `sha1` (Thumbor's, libthumbor's), "
            "`sha256`, `sha512` (imagor's `IMAGOR_SIGNER_TYPE`); the first is what `sign` makes",
        ),
    ] = SIGNERS
    SIGNER_TRUNCATE: Annotated[
        int,
        Setting(
            truncation,
            "also accept signatures cut to this many characters (imagor's "
            "`IMAGOR_SIGNER_TRUNCATE`; 0: none, else at least 16)",
        ),
    ] = 0
    ALLOW_UNSAFE_URL: Annotated[bool, Setting(boolean, "accept `/unsafe/` URLs")] = True
    # Where originals and results live
    FILE_LOADER_ROOT_PATH: Annotated[
        Path, Setting(folder, "folder of originals (`--root` overrides)")
    ] = Path("samples")
    RESULT_STORAGE_FILE_STORAGE_ROOT_PATH: Annotated[
        Path | None,
        Setting(
            folder_or_none,
            "folder for cached results; empty turns caching off",
            shown_default="$TMPDIR/thumbor_urls/result_storage",
        ),
    ] = Path(_TEMPORARY, "thumbor_urls", "result_storage")
    RESULT_STORAGE_MAX_BYTES: Annotated[
        int, Setting(integer(0, 2**40), "larger results are served but not stored")
    ] = 10 << 20
    # Output
    QUALITY: Annotated[int, Setting(_QUALITY, "JPEG (and default WebP/AVIF) quality", True)] = 80
    WEBP_QUALITY: Annotated[
        int | None,
        Setting(optional(_QUALITY), "WebP quality (100: lossless)", True, "`QUALITY`"),
    ] = None
    AVIF_QUALITY: Annotated[
        int | None, Setting(optional(_QUALITY), "AVIF quality", True, "`QUALITY`")
    ] = None
    AVIF_SPEED: Annotated[
        int | None,
        Setting(
            optional(integer(0, 10)),
            "aom encoder speed, 0 (slowest, smallest files) to 10; AVIF is by far the slowest "
            "output",
            True,
            "Pillow's (6)",
        ),
    ] = None
    PROGRESSIVE_JPEG: Annotated[bool, Setting(boolean, "progressive JPEG output", True)] = True
    PNG_COMPRESSION_LEVEL: Annotated[
        int,
        Setting(
            integer(0, 9),
            "zlib level 0-9 (Thumbor's default is 6: level 4 is within 1% of its size in half "
            "the time)",
            True,
        ),
    ] = 4
    AUTO_WEBP: Annotated[bool, Setting(boolean, "pick WebP when the `Accept` header allows")] = (
        False
    )
    AUTO_AVIF: Annotated[
        bool, Setting(boolean, "pick AVIF (for stills) when the `Accept` header allows")
    ] = False
    AUTO_FORMAT_PREFERENCE: Annotated[
        tuple[str, ...],
        Setting(
            formats(NEGOTIABLE),
            "ordered comma list of `avif`, `webp`, `jpeg`, `png`: the first one the client's "
            "`Accept` takes (q > 0) and the image suits is written; replaces `AUTO_AVIF` and "
            "`AUTO_WEBP` (Thumbor's unreleased `AUTO_IMAGE_FORMAT_PREFERENCE`)",
        ),
    ] = ()
    AUTO_PNG_TO_JPG: Annotated[
        bool, Setting(boolean, "write PNGs without transparency as JPEG", True)
    ] = False
    PRESERVE_EXIF_INFO: Annotated[
        bool,
        Setting(
            boolean,
            "keep EXIF metadata (with the orientation reset, since the pixels are upright)",
            True,
        ),
    ] = False
    RESPECT_ORIENTATION: Annotated[
        bool,
        Setting(boolean, "apply EXIF orientation (Thumbor's default is `false`)", True),
    ] = True
    PILLOW_RESAMPLING_FILTER: Annotated[
        str,
        Setting(
            choice(*RESAMPLING_FILTERS, upper=True),
            "`LANCZOS`, `BICUBIC`, `BILINEAR`, `HAMMING` or `NEAREST`",
            True,
        ),
    ] = "LANCZOS"
    JPEG_DRAFT_MIN_RATIO: Annotated[
        float,
        Setting(
            number(1.0, 8.0),
            "JPEG DCT scaling keeps at least this many times the pixels the resize needs",
            True,
        ),
    ] = 1.0
    # Caching headers
    MAX_AGE: Annotated[
        int, Setting(integer(0, 10 * 365 * 86400), "`Cache-Control: max-age` of images")
    ] = 86400
    ERROR_MAX_AGE: Annotated[
        int,
        Setting(integer(0, 86400), "`max-age` of client errors (server errors are `no-store`)"),
    ] = 60
    ENABLE_ETAGS: Annotated[
        bool, Setting(boolean, "send `ETag` and answer `If-None-Match` with 304")
    ] = True
    # Filters
    STRICT_FILTERS: Annotated[
        bool, Setting(boolean, "400 for unknown filters and bad filter arguments")
    ] = False
    # What URLs may ask for (docs/beyond-thumbor.md): presets, allow-lists
    PRESETS: Annotated[
        tuple[tuple[str, str], ...],
        Setting(
            presets,
            "named options used as `preset:NAME/IMAGE`: a JSON object such as "
            '`{"thumb": "fit-in/200x200/filters:quality(70)"}`, or the path of a file holding one '
            "(or `name=options` lines)",
        ),
    ] = ()
    ONLY_PRESETS: Annotated[
        bool,
        Setting(boolean, "refuse (403) every image URL, signed or not, but `preset:NAME/IMAGE`"),
    ] = False
    ALLOWED_WIDTHS: Annotated[
        tuple[int, ...],
        Setting(
            integers(1, 65500),
            "comma list: other widths written in a URL are refused (400); `0` and `orig` pass",
            shown_default="(any)",
        ),
    ] = ()
    ALLOWED_HEIGHTS: Annotated[
        tuple[int, ...],
        Setting(
            integers(1, 65500),
            "comma list: other heights written in a URL are refused (400); `0` and `orig` pass",
            shown_default="(any)",
        ),
    ] = ()
    ALLOWED_QUALITIES: Annotated[
        tuple[int, ...],
        Setting(
            integers(1, 100),
            "comma list: other `quality()` values are refused (400)",
            shown_default="(any)",
        ),
    ] = ()
    CLIENT_HINTS: Annotated[
        bool,
        Setting(
            boolean,
            "size images from `Sec-CH-DPR` (URLs that write a size) and `Sec-CH-Width` (URLs "
            "that write none), quantised into a few classes; answers say `Accept-CH`, `Vary` "
            "and `Content-DPR`",
        ),
    ] = False
    # meta/
    META_CALLBACK_NAME: Annotated[
        str,
        Setting(
            callback_name,
            "`meta/` answers JSONP calling this function (a JavaScript name or dotted path), "
            "whatever `?callback=` asks; empty: `?callback=NAME` chooses",
        ),
    ] = ""
    # Smart crop and moderation (detectors/, moderation.py): what they look at, and the policy
    DETECTORS: Annotated[
        tuple[str, ...] | None,
        Setting(
            names,
            "comma list of focal-point detectors for `smart/`, tried in order until one finds "
            "something: `opencv` (Thumbor's faces), `features` (Thumbor's corners), "
            "`saliency`, `rekognition`; empty: none (`smart/` crops around the alignment)",
            True,
            "every detector installed: `opencv,features` with OpenCV, else `saliency`",
        ),
    ] = None
    DETECTION_MAX_SIDE: Annotated[
        int,
        Setting(
            integer(64, 4096),
            "the detectors (and moderation) see a copy this large at most; `features` sees every "
            "pixel, as Thumbor's feature detector does",
            True,
        ),
    ] = 600
    MODERATION: Annotated[
        bool, Setting(boolean, "moderate every image served (flagged images are blurred)", True)
    ] = False
    MODERATION_BACKEND: Annotated[
        str,
        Setting(
            choice(*MODERATION_BACKENDS),
            "`rekognition` (DetectModerationLabels) or `none` (moderation then answers 503)",
        ),
    ] = "rekognition"
    MODERATION_MIN_CONFIDENCE: Annotated[
        float,
        Setting(number(0.0, 100.0), "labels below this confidence (0-100) are ignored", True),
    ] = 75.0
    MODERATION_LABELS: Annotated[
        tuple[str, ...],
        Setting(
            names,
            "comma list: act only on these labels or their parents, e.g. "
            "`Explicit Nudity,Violence`",
            True,
            "(any)",
        ),
    ] = ()
    MODERATION_BLUR: Annotated[
        float,
        Setting(
            number(0.1, 100.0),
            "blur radius of flagged images, in % of the output's longer side",
            True,
        ),
    ] = 5.0
    MODERATION_FAIL_OPEN: Annotated[
        bool,
        Setting(
            boolean,
            "when the backend fails: `false` answers 503, `true` serves the image unmoderated "
            "(not cached)",
        ),
    ] = False
    REKOGNITION_TIMEOUT_SECONDS: Annotated[
        float, Setting(number(0.1, 60.0), "per Rekognition call")
    ] = 5.0
    # Limits (README "Limits")
    MAX_SOURCE_BYTES: Annotated[
        int,
        Setting(
            integer(1, 2**40),
            "originals and watermarks larger than this are refused (413) from their size, "
            "before they are read",
        ),
    ] = 50 << 20
    MAX_SOURCE_PIXELS: Annotated[
        int,
        Setting(
            integer(1, 2**40),
            "larger originals are refused (413) from their header or structure; Pillow's own "
            "guard is set from it",
        ),
    ] = 100_000_000
    MAX_ANIMATION_FRAMES: Annotated[
        int,
        Setting(
            integer(1, 100_000),
            "animations with more frames are refused (413), counted without decoding",
        ),
    ] = 1000
    MAX_OUTPUT_SIDE: Annotated[
        int, Setting(integer(1, 65500), "larger requested or resulting sides are refused (413)")
    ] = 16383
    MAX_OUTPUT_PIXELS: Annotated[
        int,
        Setting(
            integer(1, 2**32),
            "larger requested or resulting images (width x height) are refused (413)",
        ),
    ] = 50_000_000
    # Thumbor sets no limit; each filter is a pass over every pixel of every frame.
    MAX_FILTERS: Annotated[
        int, Setting(integer(1, 1000), "URLs with more filters are refused (400)")
    ] = 20
    MAX_REQUEST_MEMORY_MB: Annotated[
        int | None,
        Setting(
            optional(integer(16, 2**20)),
            "the memory one request may hold at its peak, estimated before decoding (413 "
            "beyond it)",
            shown_default="derived: (`MEMORY_LIMIT_MB` x 0.9 - idle) / threads",
        ),
    ] = None
    MEMORY_LIMIT_MB: Annotated[
        int | None,
        Setting(
            optional(integer(64, 2**20)),
            "what the process may use: the per-request budget is derived from it",
            shown_default="Lambda's memory size, else 1024",
        ),
    ] = None
    MAX_REQUEST_CPU_SECONDS: Annotated[
        float,
        Setting(
            number(0.01, 3600.0),
            "the CPU one request may take, estimated before decoding on one core of the "
            "reference machine (413 beyond it)",
        ),
    ] = 10.0
    REQUEST_DEADLINE_SECONDS: Annotated[
        float,
        Setting(
            number(0.1, 900.0),
            "work is abandoned (503) past it; on Lambda, at most the time left less 1 s",
        ),
    ] = 27.0
    # HTTP origins (thumbor_urls/http_loader/, docs/http-origins.md): off unless LOADERS says http
    LOADERS: Annotated[
        tuple[str, ...],
        Setting(
            loaders,
            "comma list of where originals come from, tried in order: `file`, `s3`, `http` "
            "(`file,http` is Thumbor's `file_loader_http_fallback`); an image URL with "
            "`http://` or `https://` goes to `http` alone",
            shown_default="`file`; on Lambda with `SOURCE_BUCKETS`: `s3`",
        ),
    ] = ()
    ALLOWED_SOURCES: Annotated[
        tuple[str, ...],
        Setting(
            source_patterns,
            "(http) comma list of hosts the HTTP loader fetches from, as Thumbor reads it: a "
            "plain host matches itself, a regular expression the whole host, `re:EXPR` the "
            "whole URL from its start; also checked on every redirect",
            shown_default="(any public host)",
        ),
    ] = ()
    HTTP_LOADER_ALLOW_LOOPBACK: Annotated[
        bool,
        Setting(boolean, "(http) fetch from loopback addresses (127.0.0.0/8, ::1): tests only"),
    ] = False
    HTTP_LOADER_ALLOW_PRIVATE: Annotated[
        bool,
        Setting(
            boolean,
            "(http) fetch from private and other non-public addresses (10/8, 172.16/12, "
            "192.168/16, 100.64/10, fc00::/7, ...): internal origins; link-local, metadata, "
            "multicast and reserved addresses stay refused",
        ),
    ] = False
    HTTP_LOADER_CONNECT_TIMEOUT: Annotated[
        float,
        Setting(number(0.1, 60.0), "(http) seconds to connect, within the request's deadline"),
    ] = 5.0
    HTTP_LOADER_REQUEST_TIMEOUT: Annotated[
        float,
        Setting(
            number(0.1, 900.0),
            "(http) seconds for a whole fetch, redirects and body included, within the "
            "request's deadline",
        ),
    ] = 20.0
    HTTP_LOADER_MAX_REDIRECTS: Annotated[
        int,
        Setting(integer(0, 10), "(http) redirects followed, each target checked as the first"),
    ] = 5
    HTTP_LOADER_DEFAULT_USER_AGENT: Annotated[
        str, Setting(text, "(http) the `User-Agent` sent to origins")
    ] = f"thumbor-urls/{__version__}"
    HTTP_LOADER_FORWARD_USER_AGENT: Annotated[
        bool, Setting(boolean, "(http) send the client's `User-Agent` instead")
    ] = False
    HTTP_LOADER_FORWARD_HEADERS_WHITELIST: Annotated[
        tuple[str, ...],
        Setting(
            header_names,
            "(http) comma list of the client's request headers sent on to origins (never "
            "`Cookie`, `Authorization` or the like)",
        ),
    ] = ()
    HTTP_LOADER_CA_CERTS: Annotated[
        Path | None,
        Setting(folder_or_none, "(http) CA bundle for HTTPS origins", shown_default="the system's"),
    ] = None
    HTTP_LOADER_DEFAULT_MAX_AGE: Annotated[
        int,
        Setting(
            integer(0, 365 * 86400),
            "(http) seconds an original whose origin sends no `Cache-Control` or `Expires` is "
            "used before it is asked again (conditionally)",
        ),
    ] = 3600
    HTTP_LOADER_CACHE_MAX_BYTES: Annotated[
        int,
        Setting(
            integer(0, 2**40),
            "(http) size of the cache of originals kept beside the results (in a folder; S3 "
            "expires them with the results); 0 keeps none",
        ),
    ] = 1 << 30
    # The playground (the local server only: thumbor_urls/playground.py)
    PLAYGROUND: Annotated[
        bool,
        Setting(
            boolean,
            "serve the playground page at `/playground/` (and `/` redirects there) with a "
            "listing of the originals' names",
        ),
    ] = True
    PLAYGROUND_SIGNING: Annotated[
        bool,
        Setting(
            boolean,
            "let the playground page have its URLs signed with `SECURITY_KEY`, for development: "
            "only while the server listens on loopback and is asked by a loopback name",
        ),
    ] = False
    # AWS (the Lambda handler only; named like AWS's Serverless Image Handler's variables)
    SOURCE_BUCKETS: Annotated[
        tuple[str, ...],
        Setting(names, "(Lambda) allow-list of source buckets; the first is the default"),
    ] = ()
    RESULT_STORAGE_BUCKET: Annotated[
        str, Setting(text, "(Lambda) bucket for results (and oversize responses)")
    ] = ""
    RESULT_STORAGE_AFTER_ANSWER: Annotated[
        bool,
        Setting(
            boolean,
            "(Lambda) write results to the bucket after the answer has gone (an internal Lambda "
            "extension keeps the invocation open for the write); off: before answering",
        ),
    ] = True
    ENABLE_SIGNATURE: Annotated[
        bool,
        Setting(boolean, "(Lambda) read the signing key(s) from the `SECRETS_MANAGER` secret"),
    ] = False
    SECRETS_MANAGER: Annotated[str, Setting(text, "(Lambda) the signing secret's id or ARN")] = ""
    SECRET_KEY: Annotated[
        str,
        Setting(
            text,
            "(Lambda) field of a JSON secret; empty: the whole secret string. Either holds a "
            "key or a JSON array of keys (the first signs, all verify)",
        ),
    ] = ""
    ENABLE_DEFAULT_FALLBACK_IMAGE: Annotated[
        bool, Setting(boolean, "(Lambda) answer errors with the fallback image")
    ] = False
    DEFAULT_FALLBACK_IMAGE_BUCKET: Annotated[
        str, Setting(text, "(Lambda) the fallback image's bucket")
    ] = ""
    DEFAULT_FALLBACK_IMAGE_KEY: Annotated[
        str, Setting(text, "(Lambda) the fallback image's key")
    ] = ""
    CORS_ENABLED: Annotated[
        bool, Setting(boolean, "(Lambda) send `Access-Control-Allow-Origin`")
    ] = False
    CORS_ORIGIN: Annotated[
        str, Setting(lambda name, raw: raw.strip() or "*", "(Lambda) the allowed origin")
    ] = "*"
    MAX_RESPONSE_BYTES: Annotated[
        int,
        Setting(
            integer(1, MAX_LAMBDA_BODY_BYTES),
            "(Lambda) larger bodies are stored in the result bucket and redirected to "
            "`/oversize/` (at most what fits Lambda's 6 MB response once in base64)",
        ),
    ] = 4_500_000
    ORIGIN_SECRET: Annotated[
        str,
        Setting(
            text,
            "(Lambda) id of the secret CloudFront sends as `X-Origin-Verify`; requests without "
            "it are refused (403); empty: no check",
        ),
    ] = ""
    S3_TIMEOUT_SECONDS: Annotated[float, Setting(number(0.1, 60.0), "(Lambda) per S3 call")] = 5.0
    # AWS Serverless Image Handler compatibility (thumbor_urls/sih, docs/sih.md)
    SIH_COMPAT: Annotated[
        bool,
        Setting(
            boolean,
            "read requests as AWS's Serverless Image Handler does: default (base64) requests, "
            "query parameters, `expires`, SIH's `?signature=` on every request style, Thumbor "
            "paths without `unsafe/`",
            output=True,
        ),
    ] = False
    REWRITE_MATCH_PATTERN: Annotated[
        str,
        Setting(text, "(SIH_COMPAT) SIH's rewrite rule, a JavaScript regular expression `/.../i`"),
    ] = ""
    REWRITE_SUBSTITUTION: Annotated[
        str,
        Setting(text, "(SIH_COMPAT) what REWRITE_MATCH_PATTERN's match becomes (`$1`, `$&`)"),
    ] = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {
            name: setting.parse(name, env[name])
            for name, setting in described().items()
            if name in env
        }
        return cls(**values)  # type: ignore[arg-type]

    @property
    def security_keys(self) -> tuple[str, ...]:
        """Every key that verifies a signature, the one that signs first: SECURITY_KEYS, then
        SECURITY_KEY (so that adding SECURITY_KEYS=new beside SECURITY_KEY=old rotates)."""
        return tuple(dict.fromkeys(k for k in (*self.SECURITY_KEYS, self.SECURITY_KEY) if k))

    @property
    def signing_key(self) -> str:
        """The key new signatures are made with; empty when signing is off."""
        keys = self.security_keys
        return keys[0] if keys else ""

    def replace(self, **changes: object) -> Settings:
        return self._replace(**changes)  # type: ignore[arg-type]

    @property
    def auto_formats(self) -> tuple[str, ...]:
        """The formats picked from the Accept header, in order of preference:
        AUTO_FORMAT_PREFERENCE, else AUTO_AVIF and AUTO_WEBP."""
        if self.AUTO_FORMAT_PREFERENCE:
            return self.AUTO_FORMAT_PREFERENCE
        return ("avif",) * self.AUTO_AVIF + ("webp",) * self.AUTO_WEBP

    @property
    def webp_quality(self) -> int:
        return self.QUALITY if self.WEBP_QUALITY is None else self.WEBP_QUALITY

    @property
    def avif_quality(self) -> int:
        return self.QUALITY if self.AVIF_QUALITY is None else self.AVIF_QUALITY

    def output_fingerprint(self) -> str:
        """A short hash of every setting that changes the bytes of a result (for cache keys)."""
        relevant = [(name, getattr(self, name)) for name in output_settings()]
        return hashlib.blake2b(repr(relevant).encode(), digest_size=6).hexdigest()


_DESCRIBED: dict[str, Setting] = {}


def described() -> dict[str, Setting]:
    """Every setting's description, by name, in the order of Settings (read from the
    annotations once, when first asked: it costs a millisecond nobody's import should pay)."""
    if not _DESCRIBED:
        hints = get_type_hints(Settings, globalns=vars(sys.modules[__name__]), include_extras=True)
        for name in Settings._fields:
            _DESCRIBED[name] = _setting_of(hints[name])
    return _DESCRIBED


def _setting_of(hint: Any) -> Setting:
    for extra in getattr(hint, "__metadata__", ()):
        if isinstance(extra, Setting):
            return extra
    raise TypeError(f"a setting without a description: {hint!r}")


def output_settings() -> tuple[str, ...]:
    return tuple(name for name, setting in described().items() if setting.output)


def shown_default(name: str) -> str:
    """The default as the reference shows it."""
    setting = described()[name]
    if setting.shown_default:
        return setting.shown_default
    value = Settings._field_defaults[name]
    if value is None or value in ((), ""):
        return "(none)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`"
    return f"`{value}`"
