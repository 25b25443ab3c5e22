"""All settings, read once from the environment.

Names follow Thumbor's settings wherever Thumbor has one, so a Thumbor user's configuration
carries over. Defaults work on one machine with no AWS at all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingError(ValueError):
    pass


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name} must be true or false, got {raw!r}")


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


RESAMPLING_FILTERS = ("LANCZOS", "BICUBIC", "BILINEAR", "HAMMING", "NEAREST")


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
    SECURITY_KEY: str = ""
    ALLOW_UNSAFE_URL: bool = True
    # Where originals and results live
    FILE_LOADER_ROOT_PATH: Path = Path("samples")
    RESULT_STORAGE_FILE_STORAGE_ROOT_PATH: Path | None = Path(
        _TEMPORARY, "thumbor_urls", "result_storage"
    )
    # Output
    QUALITY: int = 80
    WEBP_QUALITY: int | None = None
    AVIF_QUALITY: int | None = None
    # aom's speed, 0 (slowest, smallest) to 10; None keeps Pillow's default (6), as Thumbor does.
    AVIF_SPEED: int | None = None
    PROGRESSIVE_JPEG: bool = True
    # zlib level 4: within 1% of level 6's size in half the time (measured on the samples).
    PNG_COMPRESSION_LEVEL: int = 4
    AUTO_WEBP: bool = False
    AUTO_AVIF: bool = False
    AUTO_PNG_TO_JPG: bool = False
    PRESERVE_EXIF_INFO: bool = False
    RESPECT_ORIENTATION: bool = True
    PILLOW_RESAMPLING_FILTER: str = "LANCZOS"
    # JPEG DCT scaling keeps at least this many times the pixels the resize needs per axis.
    JPEG_DRAFT_MIN_RATIO: float = 1.0
    # Caching headers
    MAX_AGE: int = 86400
    ERROR_MAX_AGE: int = 60
    ENABLE_ETAGS: bool = True
    # Behaviour
    DETECTORS: tuple[str, ...] = ()
    STRICT_FILTERS: bool = False
    # Smart crop and moderation (detectors/, moderation.py): what they look at, and the policy
    DETECTION_MAX_SIDE: int = 600  # detectors see a copy at most this large, never the original
    MODERATION: bool = False  # moderate every image served, not only moderate() requests
    MODERATION_BACKEND: str = "rekognition"  # rekognition, or none (moderation then fails)
    MODERATION_MIN_CONFIDENCE: float = 75.0
    MODERATION_LABELS: tuple[str, ...] = ()  # act on these labels (or parents) only; empty: any
    MODERATION_BLUR: float = 5.0  # blur radius, in % of the output's longer side
    MODERATION_FAIL_OPEN: bool = False  # serve unmoderated (uncached) when the backend fails
    REKOGNITION_TIMEOUT_SECONDS: float = 5.0
    # Limits
    MAX_SOURCE_BYTES: int = 50 << 20  # originals (and watermarks) larger than this are refused
    MAX_SOURCE_PIXELS: int = 100_000_000
    MAX_OUTPUT_SIDE: int = 16383
    MAX_OUTPUT_PIXELS: int = 50_000_000
    MAX_ANIMATION_FRAMES: int = 1000
    # Thumbor sets no limit; each filter is a pass over every pixel of every frame.
    MAX_FILTERS: int = 20
    # The memory one request may hold at its peak, estimated before decoding (budget.py). None:
    # derived from MEMORY_LIMIT_MB (or Lambda's memory size) and the number of threads.
    MAX_REQUEST_MEMORY_MB: int | None = None
    MEMORY_LIMIT_MB: int | None = None  # the process's; None: Lambda's memory size, else 1024
    MAX_REQUEST_CPU_SECONDS: float = 10.0  # estimated, on one core of the reference machine
    # Work is abandoned (503) once a request has run this long; on Lambda, at most the time
    # left less a second, before API Gateway gives up at 29-30 s.
    REQUEST_DEADLINE_SECONDS: float = 27.0
    RESULT_STORAGE_MAX_BYTES: int = 10 << 20  # larger results are served but not stored
    # AWS (the Lambda handler only; named like AWS's Serverless Image Handler's variables)
    SOURCE_BUCKETS: tuple[str, ...] = ()  # allow-list; the first is the default bucket
    RESULT_STORAGE_BUCKET: str = ""  # S3 bucket for results (and oversize responses)
    ENABLE_SIGNATURE: bool = False  # read SECURITY_KEY from the SECRETS_MANAGER secret
    SECRETS_MANAGER: str = ""  # secret id or ARN
    SECRET_KEY: str = ""  # field of a JSON secret; empty: the whole secret string is the key
    ENABLE_DEFAULT_FALLBACK_IMAGE: bool = False
    DEFAULT_FALLBACK_IMAGE_BUCKET: str = ""
    DEFAULT_FALLBACK_IMAGE_KEY: str = ""
    CORS_ENABLED: bool = False
    CORS_ORIGIN: str = "*"
    MAX_RESPONSE_BYTES: int = 4_500_000  # larger bodies are redirected to a presigned S3 URL
    PRESIGNED_URL_EXPIRY: int = 600
    S3_TIMEOUT_SECONDS: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, parse in _PARSERS.items():
            if name in env:
                values[name] = parse(name, env[name])
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Settings:
        return self._replace(**changes)  # type: ignore[arg-type]

    @property
    def webp_quality(self) -> int:
        return self.QUALITY if self.WEBP_QUALITY is None else self.WEBP_QUALITY

    @property
    def avif_quality(self) -> int:
        return self.QUALITY if self.AVIF_QUALITY is None else self.AVIF_QUALITY

    def output_fingerprint(self) -> str:
        """A short hash of every setting that changes the bytes of a result (for cache keys)."""
        relevant = (
            self.QUALITY,
            self.webp_quality,
            self.avif_quality,
            self.AVIF_SPEED,
            self.PROGRESSIVE_JPEG,
            self.PNG_COMPRESSION_LEVEL,
            self.PRESERVE_EXIF_INFO,
            self.AUTO_PNG_TO_JPG,
            self.RESPECT_ORIENTATION,
            self.PILLOW_RESAMPLING_FILTER,
            self.JPEG_DRAFT_MIN_RATIO,
            self.DETECTORS,
            self.DETECTION_MAX_SIDE,
            self.MODERATION,
            self.MODERATION_MIN_CONFIDENCE,
            self.MODERATION_LABELS,
            self.MODERATION_BLUR,
        )
        return hashlib.blake2b(repr(relevant).encode(), digest_size=6).hexdigest()


def _path_or_none(name: str, raw: str) -> Path | None:
    return Path(raw) if raw.strip() else None


def _resampling(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if value not in RESAMPLING_FILTERS:
        raise SettingError(f"{name} must be one of {', '.join(RESAMPLING_FILTERS)}, got {raw!r}")
    return value


MODERATION_BACKENDS = ("rekognition", "none")


def _choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in choices:
        raise SettingError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value


def _optional_quality(name: str, raw: str) -> int | None:
    return _int(name, raw, 1, 100) if raw.strip() else None


_PARSERS: dict[str, Callable[[str, str], object]] = {
    "SECURITY_KEY": lambda name, raw: raw,
    "ALLOW_UNSAFE_URL": _bool,
    "FILE_LOADER_ROOT_PATH": lambda name, raw: Path(raw),
    "RESULT_STORAGE_FILE_STORAGE_ROOT_PATH": _path_or_none,
    "QUALITY": lambda name, raw: _int(name, raw, 1, 100),
    "WEBP_QUALITY": _optional_quality,
    "AVIF_QUALITY": _optional_quality,
    "AVIF_SPEED": lambda name, raw: _int(name, raw, 0, 10) if raw.strip() else None,
    "PROGRESSIVE_JPEG": _bool,
    "PNG_COMPRESSION_LEVEL": lambda name, raw: _int(name, raw, 0, 9),
    "AUTO_WEBP": _bool,
    "AUTO_AVIF": _bool,
    "AUTO_PNG_TO_JPG": _bool,
    "PRESERVE_EXIF_INFO": _bool,
    "RESPECT_ORIENTATION": _bool,
    "PILLOW_RESAMPLING_FILTER": _resampling,
    "JPEG_DRAFT_MIN_RATIO": lambda name, raw: _float(name, raw, 1.0, 8.0),
    "MAX_AGE": lambda name, raw: _int(name, raw, 0, 10 * 365 * 86400),
    "ERROR_MAX_AGE": lambda name, raw: _int(name, raw, 0, 86400),
    "ENABLE_ETAGS": _bool,
    "DETECTORS": lambda name, raw: _list(raw),
    "STRICT_FILTERS": _bool,
    "DETECTION_MAX_SIDE": lambda name, raw: _int(name, raw, 64, 4096),
    "MODERATION": _bool,
    "MODERATION_BACKEND": lambda name, raw: _choice(name, raw, MODERATION_BACKENDS),
    "MODERATION_MIN_CONFIDENCE": lambda name, raw: _float(name, raw, 0.0, 100.0),
    "MODERATION_LABELS": lambda name, raw: _list(raw),
    "MODERATION_BLUR": lambda name, raw: _float(name, raw, 0.1, 100.0),
    "MODERATION_FAIL_OPEN": _bool,
    "REKOGNITION_TIMEOUT_SECONDS": lambda name, raw: _float(name, raw, 0.1, 60.0),
    "MAX_SOURCE_BYTES": lambda name, raw: _int(name, raw, 1, 2**40),
    "MAX_SOURCE_PIXELS": lambda name, raw: _int(name, raw, 1, 2**40),
    "MAX_OUTPUT_SIDE": lambda name, raw: _int(name, raw, 1, 65500),
    "MAX_OUTPUT_PIXELS": lambda name, raw: _int(name, raw, 1, 2**32),
    "RESULT_STORAGE_MAX_BYTES": lambda name, raw: _int(name, raw, 0, 2**40),
    "MAX_ANIMATION_FRAMES": lambda name, raw: _int(name, raw, 1, 100_000),
    "MAX_FILTERS": lambda name, raw: _int(name, raw, 1, 1000),
    "MAX_REQUEST_MEMORY_MB": lambda name, raw: _int(name, raw, 16, 2**20) if raw.strip() else None,
    "MEMORY_LIMIT_MB": lambda name, raw: _int(name, raw, 64, 2**20) if raw.strip() else None,
    "MAX_REQUEST_CPU_SECONDS": lambda name, raw: _float(name, raw, 0.01, 3600.0),
    "SOURCE_BUCKETS": lambda name, raw: _list(raw),
    "RESULT_STORAGE_BUCKET": lambda name, raw: raw.strip(),
    "ENABLE_SIGNATURE": _bool,
    "SECRETS_MANAGER": lambda name, raw: raw.strip(),
    "SECRET_KEY": lambda name, raw: raw.strip(),
    "ENABLE_DEFAULT_FALLBACK_IMAGE": _bool,
    "DEFAULT_FALLBACK_IMAGE_BUCKET": lambda name, raw: raw.strip(),
    "DEFAULT_FALLBACK_IMAGE_KEY": lambda name, raw: raw.strip(),
    "CORS_ENABLED": _bool,
    "CORS_ORIGIN": lambda name, raw: raw.strip() or "*",
    "REQUEST_DEADLINE_SECONDS": lambda name, raw: _float(name, raw, 0.1, 900.0),
    "MAX_RESPONSE_BYTES": lambda name, raw: _int(name, raw, 1, 6 * 1024 * 1024),
    "PRESIGNED_URL_EXPIRY": lambda name, raw: _int(name, raw, 1, 7 * 86400),
    "S3_TIMEOUT_SECONDS": lambda name, raw: _float(name, raw, 0.1, 60.0),
}
