"""The last steps: which format the result is written in, and writing it."""

from __future__ import annotations

from PIL import Image

from . import codecs
from .pipeline import Job

# Formats whose size the encoder quality controls, for max_bytes().
_LOSSY = frozenset({"jpeg", "webp", "avif", "heic", "heif"})


def choose(job: Job, accepted: str) -> tuple[str, bool]:
    """The output format and whether another Accept header could have changed it."""
    header = job.require_header()
    plan, settings = job.plan, job.settings
    forced = plan.output.format
    animated = len(job.frames) > 1
    fmt = codecs.choose_format(header.format, header.has_alpha, animated, forced, accepted)
    vary = codecs.depends_on_accept(
        header.format, header.has_alpha, animated, forced, settings.auto_formats
    )
    auto_jpg = settings.AUTO_PNG_TO_JPG if plan.output.auto_jpg is None else plan.output.auto_jpg
    if (
        fmt == "png"
        and not forced
        and auto_jpg
        and not animated
        # A PNG the client's Accept chose (AUTO_FORMAT_PREFERENCE) stays one, as in Thumbor.
        and codecs.negotiate(accepted, header.has_alpha, animated) is None
        and not _transparent(job.frames[0])
    ):
        fmt = "jpeg"
    return fmt, vary


def _transparent(image: Image.Image) -> bool:
    if "transparency" in image.info:
        return True
    if "A" not in image.getbands():
        return False
    low, _ = image.getchannel("A").getextrema()
    return bool(low != 255)


def encode(job: Job, fmt: str) -> bytes:
    header = job.require_header()
    plan, settings = job.plan, job.settings
    quality = plan.output.quality
    if quality is None:
        quality = {"webp": settings.webp_quality, "avif": settings.avif_quality}.get(
            fmt, settings.QUALITY
        )
    keep_exif = settings.PRESERVE_EXIF_INFO and not plan.output.strip_exif
    options = codecs.EncodeOptions(
        format=fmt,
        quality=quality,
        icc_profile=None if plan.output.strip_icc else header.icc_profile,
        exif=_exif_without_orientation(job) if keep_exif else None,
        durations=tuple(job.durations),
        loop=header.loop,
        progressive=settings.PROGRESSIVE_JPEG,
        png_level=settings.PNG_COMPRESSION_LEVEL,
        avif_speed=settings.AVIF_SPEED,
    )
    data = codecs.encode(job.frames, options)
    limit = plan.output.max_bytes
    if limit is None or len(data) <= limit or fmt not in _LOSSY:
        return data
    return _fit_in_bytes(job, options, limit)


def _fit_in_bytes(job: Job, options: codecs.EncodeOptions, limit: int) -> bytes:
    """The highest quality whose encoding fits in `limit` bytes, by binary search (at most
    seven encodes for qualities 1-99); the smallest encoding when none fits."""
    low, high = 1, options.quality - 1
    best: bytes | None = None
    smallest: bytes | None = None
    while low <= high:
        quality = (low + high) // 2
        data = codecs.encode(job.frames, _with_quality(options, quality))
        if smallest is None or len(data) < len(smallest):
            smallest = data
        if len(data) <= limit:
            best, low = data, quality + 1
        else:
            high = quality - 1
    if best is not None:
        return best
    return smallest if smallest is not None else codecs.encode(job.frames, options)


def _with_quality(options: codecs.EncodeOptions, quality: int) -> codecs.EncodeOptions:
    return options._replace(quality=quality)


def _exif_without_orientation(job: Job) -> bytes | None:
    # The pixels are upright now; an orientation tag left in would turn them again.
    data = job.require_header().exif
    if not data:
        return None
    exif = Image.Exif()
    exif.load(data)
    if not exif:
        return None
    exif[0x0112] = 1
    return exif.tobytes()
