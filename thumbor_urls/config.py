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


def text(name: str, raw: str) -> str:
    return raw.strip()


def secret(name: str, raw: str) -> str:
    return raw  # a key is taken as written: spaces may be part of it


def folder(name: str, raw: str) -> Path:
    return Path(raw)


def folder_or_none(name: str, raw: str) -> Path | None:
    return Path(raw) if raw.strip() else None


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

    # Signing
    SECURITY_KEY: Annotated[str, Setting(secret, "key for Thumbor's HMAC-SHA1 URL signatures")] = ""
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
    # Smart crop and moderation (detectors/, moderation.py): what they look at, and the policy
    DETECTORS: Annotated[
        tuple[str, ...],
        Setting(
            names,
            "comma list of focal-point detectors for `smart/`, tried in order: `opencv`, "
            "`saliency`, `rekognition`",
            True,
        ),
    ] = ()
    DETECTION_MAX_SIDE: Annotated[
        int,
        Setting(
            integer(64, 4096), "the detectors (and moderation) see a copy this large at most", True
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
    ENABLE_SIGNATURE: Annotated[
        bool, Setting(boolean, "(Lambda) read `SECURITY_KEY` from the `SECRETS_MANAGER` secret")
    ] = False
    SECRETS_MANAGER: Annotated[str, Setting(text, "(Lambda) the signing secret's id or ARN")] = ""
    SECRET_KEY: Annotated[
        str,
        Setting(text, "(Lambda) field of a JSON secret; empty: the whole secret string is the key"),
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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {
            name: setting.parse(name, env[name])
            for name, setting in described().items()
            if name in env
        }
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Settings:
        return self._replace(**changes)  # type: ignore[arg-type]

    @property
    def auto_formats(self) -> tuple[str, ...]:
        """The formats picked from the Accept header (AUTO_AVIF, AUTO_WEBP)."""
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
