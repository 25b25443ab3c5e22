"""Reading images: the header first (cheap), then pixels, shrunk while decoding when allowed."""

from __future__ import annotations

import importlib
import io
import struct
import warnings
from collections.abc import Callable
from typing import NamedTuple

from PIL import Image, ImageFile, ImageSequence, JpegImagePlugin, UnidentifiedImageError

from .deadline import checkpoint
from .errors import ImageTooLarge, UnsupportedImageFormat
from .jpeg_scans import without_unused_scans

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


_GUARDED: list[int] = []  # the MAX_SOURCE_PIXELS of every App of this process


def guard_pixels(limit: int) -> None:
    """Keep Pillow's own decompression-bomb guard on, at our limit: MAX_SOURCE_PIXELS is checked
    from the header and the file's structure first, and Pillow's check (which refuses twice
    its limit) stays as a second line where Pillow sizes something we did not read. Pillow's
    limit is one for the process: with several Apps, the largest of theirs (each App checks
    its own)."""
    _GUARDED.append(limit)
    Image.MAX_IMAGE_PIXELS = max(_GUARDED)


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
    except Image.DecompressionBombError as error:
        raise _bomb(error) from None
    except (OSError, ValueError, SyntaxError, struct.error) as error:
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
        # A camera's multi-picture JPEG (MPO: stereo pairs, gain maps) is served as its
        # primary image, as a browser shows it.
        format="JPEG" if image.format == "MPO" else image.format or "",
        size=image.size,
        mode=image.mode,
        orientation=orientation,
        frames=1,
        loop=image.info.get("loop"),
        icc_profile=image.info.get("icc_profile"),
        exif=image.info.get("exif"),
    )
    return image, header


def _bomb(error: Exception) -> ImageTooLarge:
    return ImageTooLarge(f"{error} (Pillow's guard, set from MAX_SOURCE_PIXELS)")


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


def count_frames(image: Image.Image) -> int:
    """The frames of a file whose structure probe.py does not read (JPEG, AVIF): what Pillow's
    header says, which costs no decoding there. An MPO's other pictures are not frames."""
    if image.format == "MPO" or not getattr(image, "is_animated", False):
        return 1
    return int(getattr(image, "n_frames", 1))


def jpeg_draft_size(size: tuple[int, int], wanted: tuple[int, int]) -> tuple[int, int]:
    """What JPEG draft() decodes to for `wanted`: the largest DCT scale of 1/2, 1/4, 1/8 that
    keeps both sides at least as large (Pillow's JpegImageFile.draft, as arithmetic)."""
    ratio = min(size[0] // max(wanted[0], 1), size[1] // max(wanted[1], 1))
    scale = next(s for s in (8, 4, 2, 1) if ratio >= s)
    return (size[0] + scale - 1) // scale, (size[1] + scale - 1) // scale


def draft(
    image: Image.Image, data: bytes, size: tuple[int, int], mode: str | None = None
) -> Image.Image:
    """Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 to no less than `size`, and decode
    only luma when `mode` is L. Returns the image to decode: `image`, or for a progressive JPEG
    a lighter copy of it without the scans this decode would not read (same pixels)."""
    if not isinstance(image, JpegImagePlugin.JpegImageFile):
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


def decode_frames(
    image: Image.Image, max_frames: int, canvas: tuple[int, int] | None = None
) -> tuple[list[Image.Image], list[int]]:
    """The frames (at most `max_frames`: the header's count, or 1) as full, composed images in
    a mode every step handles, and their durations. Pillow grows a GIF's canvas as frames
    outside it come; `canvas`, the size it grows to, gives every frame the same size."""
    try:
        # Not Pillow's is_animated, which for a GIF reads (and may fail on) the next frame.
        if max_frames == 1:
            image.load()
            frame = _on_canvas(_normalize_mode(image), canvas)
            return [frame], [int(image.info.get("duration", 0) or 0)]
        frames: list[Image.Image] = []
        durations: list[int] = []
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= max_frames:
                break
            checkpoint()
            pixels = frame.copy()  # loads the frame; WebP sets its duration only then
            durations.append(int(frame.info.get("duration", 100) or 0))
            frames.append(_on_canvas(_normalize_mode(pixels, prefer_alpha=True), canvas))
        return frames, durations
    except Image.DecompressionBombError as error:
        raise _bomb(error) from None
    except (OSError, ValueError, SyntaxError, struct.error, EOFError, IndexError) as error:
        raise UnsupportedImageFormat(f"the image data is damaged: {error}") from None


def _on_canvas(frame: Image.Image, canvas: tuple[int, int] | None) -> Image.Image:
    if canvas is None or frame.size == canvas:
        return frame
    grown = Image.new("RGBA", canvas)  # transparent where no frame has drawn yet
    grown.paste(frame.convert("RGBA"), (0, 0))
    return grown


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
