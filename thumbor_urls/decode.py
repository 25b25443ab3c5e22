"""Reading images: the header first (cheap), then pixels, shrunk while decoding when allowed."""

from __future__ import annotations

import importlib
import io
import warnings
from collections.abc import Callable
from typing import NamedTuple

from PIL import Image, ImageFile, ImageSequence, UnidentifiedImageError

from .errors import ImageTooLarge, UnsupportedImageFormat
from .jpeg_scans import without_unused_scans

# Our own limit (MAX_SOURCE_PIXELS) is checked from the header; Pillow's bomb check would
# otherwise refuse or warn about large but legitimate photos first.
Image.MAX_IMAGE_PIXELS = None

# The decoders a URL can reach: what browsers show. Pillow recognises some forty formats, and
# each legacy decoder (TGA, PCX, SGI, DDS, ...) is attack surface no user needs; EPS and PDF run
# Ghostscript, a PostScript interpreter with a history of remote code execution. TIFF and BMP
# are left out too: no browser shows TIFF, BMP is rare on the web, and both would be one more
# decoder to budget for (TIFF alone has a dozen compressions, tiles and pages).
SOURCE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF")
# Registered on first use, by the file's signature: Pillow's preinit() covers the others, and
# Image.open would otherwise import all forty plugins (init()) to look for a missing one.
_LATE_PLUGINS: tuple[tuple[str, str, Callable[[bytes], bool]], ...] = (
    ("WEBP", "PIL.WebPImagePlugin", lambda p: p[:4] == b"RIFF" and p[8:12] == b"WEBP"),
    ("AVIF", "PIL.AvifImagePlugin", lambda p: p[4:8] == b"ftyp"),
)

ORIENTATION_TAG = 0x0112
# Modes the resampler and every encoder handle as they are (others are converted first).
NATIVE_MODES = frozenset({"L", "LA", "RGB", "RGBA"})


class Header(NamedTuple):
    format: str  # Pillow's format name: JPEG, PNG, GIF, WEBP, AVIF, ...
    size: tuple[int, int]  # as stored, before orientation
    mode: str
    orientation: int
    frames: int
    loop: int | None
    icc_profile: bytes | None
    exif: bytes | None

    @property
    def animated(self) -> bool:
        return self.frames > 1

    @property
    def has_alpha(self) -> bool:
        return self.mode in ("RGBA", "LA", "PA", "La", "RGBa") or self.mode == "P"


def open_image(data: bytes) -> tuple[Image.Image, Header]:
    """Parse the header only; no pixels are decoded here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data), formats=_registered_formats(data[:16]))
    except UnidentifiedImageError:
        raise UnsupportedImageFormat(
            "the file is not a JPEG, PNG, GIF, WebP or AVIF image"
        ) from None
    except (OSError, ValueError, SyntaxError) as error:
        raise UnsupportedImageFormat(f"the image header cannot be read: {error}") from None
    _read_whole(image, data)
    orientation = 1
    try:
        # Image's own getexif reads what the header holds; PNG's would decode every pixel
        # (before the size limit is checked) to look for an eXIf chunk after them, which
        # Thumbor does not look for either.
        value = Image.Image.getexif(image).get(ORIENTATION_TAG, 1)
        orientation = value if isinstance(value, int) and 1 <= value <= 8 else 1
    except Exception:
        orientation = 1
    header = Header(
        format=image.format or "",
        size=image.size,
        mode=image.mode,
        orientation=orientation,
        frames=1,
        loop=image.info.get("loop"),
        icc_profile=image.info.get("icc_profile"),
        exif=image.info.get("exif"),
    )
    return image, header


def _registered_formats(prefix: bytes) -> tuple[str, ...]:
    """SOURCE_FORMATS whose Pillow plugin is loaded, loading the one `prefix` calls for."""
    Image.preinit()  # JPEG, PNG, GIF (once per process)
    for name, module, matches in _LATE_PLUGINS:
        if name not in Image.OPEN and matches(prefix):
            importlib.import_module(module)
    return tuple(name for name in SOURCE_FORMATS if name in Image.OPEN)


def _read_whole(image: Image.Image, data: bytes) -> None:
    """Hand the JPEG decoder the whole file in one call. Fed Pillow's default 64 KB blocks,
    libjpeg stops at the end of each and starts the unfinished MCU over with the next: 1-4 %
    of a decode (measured on the bench's 16 MP photos)."""
    if isinstance(image, ImageFile.ImageFile) and image.format == "JPEG":
        image.decodermaxblock = max(image.decodermaxblock, len(data))


def count_frames(image: Image.Image, limit: int) -> int:
    """The number of frames, or ImageTooLarge once it passes `limit` (counting stops there)."""
    if not getattr(image, "is_animated", False):
        return 1
    n_frames = getattr(image, "_n_frames", None)
    if n_frames is None and image.format == "GIF":
        # GIF has no frame count in its header; seek frame by frame, but stop at the limit so
        # that a file with a hundred thousand frames costs no more than one over the limit.
        count = 1
        try:
            while True:
                image.seek(count)
                count += 1
                if count > limit:
                    break
        except EOFError:
            pass
        image.seek(0)
        n_frames = count
    frames = int(n_frames if n_frames is not None else getattr(image, "n_frames", 1))
    if frames > limit:
        raise ImageTooLarge(f"the animation has more than {limit} frames (MAX_ANIMATION_FRAMES)")
    return frames


def draft(
    image: Image.Image, data: bytes, size: tuple[int, int], mode: str | None = None
) -> Image.Image:
    """Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 to no less than `size`, and decode
    only luma when `mode` is L. Returns the image to decode: `image`, or for a progressive JPEG
    a lighter copy of it without the scans this decode would not read (same pixels)."""
    if image.format != "JPEG":
        return image
    original_width = image.width
    drafted = image.draft(mode if mode == "L" and image.mode == "RGB" else image.mode, size)
    if drafted is None or not image.info.get("progressive"):
        return image
    scale = round(original_width / drafted[1][2])
    lighter = without_unused_scans(data, scale, luma_only=image.mode == "L")
    if lighter is None:
        return image
    try:
        copy = Image.open(io.BytesIO(lighter), formats=("JPEG",))
        _read_whole(copy, lighter)
        copy.draft(image.mode, size)
    except (OSError, ValueError, SyntaxError):
        return image
    return copy if (copy.size, copy.mode) == (image.size, image.mode) else image


def decode_frames(image: Image.Image, max_frames: int) -> tuple[list[Image.Image], list[int]]:
    """All frames as full, composed images in a mode every step handles, and their durations."""
    try:
        if not getattr(image, "is_animated", False):
            image.load()
            return [_normalize_mode(image)], [int(image.info.get("duration", 0) or 0)]
        frames: list[Image.Image] = []
        durations: list[int] = []
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= max_frames:
                break
            pixels = frame.copy()  # loads the frame; WebP sets its duration only then
            durations.append(int(frame.info.get("duration", 100) or 0))
            frames.append(_normalize_mode(pixels, prefer_alpha=True))
        return frames, durations
    except (OSError, ValueError, SyntaxError) as error:
        raise UnsupportedImageFormat(f"the image data is damaged: {error}") from None


def _normalize_mode(image: Image.Image, prefer_alpha: bool = False) -> Image.Image:
    if image.mode in NATIVE_MODES or image.mode == "CMYK":
        return image
    if image.mode == "P" and ("transparency" in image.info or prefer_alpha):
        return image.convert("RGBA")
    if image.mode in ("PA", "La", "RGBa"):
        return image.convert("RGBA" if image.mode != "La" else "LA")
    if image.mode == "1":
        return image.convert("L")
    if image.mode.startswith("I") or image.mode == "F":
        # 16- and 32-bit greys: scale to 8 bits instead of clipping at 255.
        return image.point(lambda v: v / 256).convert("L")
    return image.convert("RGB")
