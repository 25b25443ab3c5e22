"""Output formats: which one a request gets, and encoding frames into it."""

from __future__ import annotations

import io
import itertools
import zlib
from typing import NamedTuple

from PIL import Image

from .accept import qualities, takes

CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "heif": "image/heif",
    "heic": "image/heic",
}
SOURCE_FORMATS = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "AVIF": "avif"}
ANIMATED_FORMATS = frozenset({"gif", "webp"})


def accept_class(accept: str, automatic: tuple[str, ...], forced: str | None) -> str:
    """The part of an Accept header that can change the answer: which of the `automatic`
    formats (AUTO_FORMAT_PREFERENCE, or AUTO_AVIF and AUTO_WEBP) the client takes, in the
    order of preference, q-values honoured (accept.py). Requests with the same class always get
    the same bytes: the class is part of the result's cache key."""
    if forced or not automatic:
        return ""
    ranges = qualities(accept)
    return "+".join(fmt for fmt in automatic if takes(ranges, fmt))


def negotiate(accepted: str, has_alpha: bool, animated: bool) -> str | None:
    """The first format of the `accepted` class (accept_class) that suits the image: AVIF and
    JPEG are written for stills only (and JPEG without transparency), PNG for stills (we write an
    animation's first frame only); None when none does."""
    for fmt in accepted.split("+") if accepted else ():
        if fmt == "webp":
            return fmt
        if animated:
            continue
        if fmt == "jpeg" and has_alpha:
            continue
        return fmt
    return None


def choose_format(
    source_format: str, has_alpha: bool, animated: bool, forced: str | None, accepted: str
) -> str:
    """The output format: format() wins, then an automatic format the client takes, then the
    source's own format (or PNG/JPEG for sources we do not write, by transparency)."""
    if forced:
        return forced
    negotiated = negotiate(accepted, has_alpha, animated)
    if negotiated is not None:
        return negotiated
    own = SOURCE_FORMATS.get(source_format)
    if own is not None:
        return own
    return "png" if has_alpha else "jpeg"


def depends_on_accept(
    source_format: str,
    has_alpha: bool,
    animated: bool,
    forced: str | None,
    automatic: tuple[str, ...],
) -> bool:
    """Whether another Accept header could have changed the format (then `Vary: Accept`):
    every class a client could fall in (each subset of `automatic`, at most 16) is tried."""
    if forced or not automatic:
        return False
    classes = (
        "+".join(fmt for fmt, taken in zip(automatic, subset, strict=True) if taken)
        for subset in itertools.product((False, True), repeat=len(automatic))
    )
    formats = {choose_format(source_format, has_alpha, animated, forced, c) for c in classes}
    return len(formats) > 1


class EncodeOptions(NamedTuple):
    """Everything an encode depends on: the request's choices and the encoder settings."""

    format: str
    quality: int
    icc_profile: bytes | None = None
    exif: bytes | None = None
    durations: tuple[int, ...] = ()
    loop: int | None = 0
    progressive: bool = True  # PROGRESSIVE_JPEG
    png_level: int = 4  # PNG_COMPRESSION_LEVEL
    avif_speed: int | None = None  # AVIF_SPEED


def encode(frames: list[Image.Image], options: EncodeOptions) -> bytes:
    fmt = options.format
    buffer = io.BytesIO()
    params: dict[str, object] = {}
    # Always passed, None included: Pillow's encoders otherwise fall back to the frame's own
    # profile, and strip_icc() would keep it.
    params["icc_profile"] = options.icc_profile
    if options.exif and fmt in ("jpeg", "webp", "png", "avif"):
        params["exif"] = options.exif
    animated = len(frames) > 1 and fmt in ANIMATED_FORMATS
    frames = [_mode_for(frame, fmt) for frame in (frames if animated else frames[:1])]
    if animated:
        params.update(
            save_all=True,
            append_images=frames[1:],
            duration=list(options.durations) or 100,
            loop=options.loop if options.loop is not None else 0,
        )
    if fmt == "jpeg":
        params.update(quality=options.quality, progressive=options.progressive)
        if not options.progressive:
            params["optimize"] = True
        try:
            frames[0].save(buffer, "JPEG", **params)
        except OSError:
            # Pillow gives libjpeg one byte a pixel (two at quality >= 95) to write a
            # progressive or optimised file into, and noisy pictures at quality 90-94 need more:
            # libjpeg then fails ("Suspension not allowed here"). A plain baseline file is
            # written as it goes, with no such limit.
            buffer = io.BytesIO()
            frames[0].save(buffer, "JPEG", **{**params, "progressive": False, "optimize": False})
    elif fmt == "png":
        level = options.png_level
        if png_strategy(frames[0], level) == zlib.Z_RLE:
            params["compress_type"] = zlib.Z_RLE
        frames[0].save(buffer, "PNG", compress_level=level, **params)
    elif fmt == "webp":
        if options.quality >= 100:
            params["lossless"] = True
        frames[0].save(buffer, "WEBP", quality=min(options.quality, 100), method=4, **params)
    elif fmt == "gif":
        if animated and any("A" in f.getbands() for f in frames):
            params["disposal"] = 2
        frames[0].save(buffer, "GIF", **params)
    elif fmt == "avif":
        if options.avif_speed is not None:
            params["speed"] = options.avif_speed
        frames[0].save(buffer, "AVIF", quality=options.quality, **params)
    else:  # heic / heif, through the optional pillow-heif plugin
        from pillow_heif import register_heif_opener  # type: ignore[import-not-found]  # noqa: PLC0415

        register_heif_opener()
        frames[0].save(buffer, "HEIF", quality=options.quality, **params)
    return buffer.getvalue()


# png_strategy() tries both zlib strategies on this many rows from three places in the image.
_SAMPLE_ROWS = 4
_SAMPLE_WIDTH = 512


def png_strategy(image: Image.Image, level: int) -> int | None:
    """zlib.Z_RLE when it suits `image`, else None (Pillow's default strategy). With PNG's
    filters, run-length matching encodes photographic content in about half the time and 0-2 %
    smaller, but it gives up the long LZ77 matches that graphics (text, flat shapes, patterns)
    live on: 1.3 to 60 times larger there (measured on the samples, the corpus and drawn test
    graphics). So four rows at a quarter, half and three quarters of the height (at most 512
    pixels of them, from the middle) are compressed both ways, and RLE is chosen if it costs at
    most 3 % more there."""
    if level == 0:
        return None
    width = min(image.width, _SAMPLE_WIDTH)
    left = (image.width - width) // 2
    if image.height < 3 * _SAMPLE_ROWS * 2:
        sample = image
    else:
        sample = Image.new(image.mode, (width, 3 * _SAMPLE_ROWS))
        if image.mode == "P":
            sample.putpalette(image.getpalette() or [])
        for index, fraction in enumerate((0.25, 0.5, 0.75)):
            top = int(image.height * fraction)
            band = image.crop((left, top, left + width, top + _SAMPLE_ROWS))
            sample.paste(band, (0, index * _SAMPLE_ROWS))
    rle = _png_size(sample, level, zlib.Z_RLE)
    return zlib.Z_RLE if rle <= 1.03 * _png_size(sample, level, None) else None


def _png_size(image: Image.Image, level: int, strategy: int | None) -> int:
    buffer = io.BytesIO()
    extra = {} if strategy is None else {"compress_type": strategy}
    image.save(buffer, "PNG", compress_level=level, **extra)
    return buffer.tell()


def _mode_for(image: Image.Image, fmt: str) -> Image.Image:
    """Convert to a mode the encoder takes. JPEG has no alpha: flatten onto white, as a
    browser shows a transparent image, rather than Thumbor's black-or-garbage alpha drop."""
    if fmt == "jpeg":
        if image.mode in ("RGB", "L"):
            return image
        if "A" in image.getbands():
            rgba = image.convert("RGBA")
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background
        return image.convert("RGB")
    if image.mode == "CMYK":
        return image.convert("RGB")
    if fmt == "gif" and image.mode not in ("P", "L"):
        return image.convert("RGBA") if "A" in image.getbands() else image
    return image
