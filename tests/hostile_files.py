"""Files an attacker would send: small on the wire, expensive to decode or to process.

Each builder returns the bytes of one file, crafted by hand where Pillow would refuse to write
such a thing (GIF frames outside the screen, a thousand frames of one pixel). The hostile-input
tests and `make stress` (bench/stress.py) both serve them.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Sequence

from PIL import Image

from tests.broken_files import lzw_literals, sub_blocks
from tests.images import encode

Rect = tuple[int, int, int, int]  # left, top, width, height


def gif(
    screen: tuple[int, int],
    frames: Sequence[Rect],
    *,
    colours: int = 2,
    delay: int = 10,
    loop: bool = True,
) -> bytes:
    """A GIF89a with a global palette of `colours` (a power of two) and one frame per rectangle,
    each filled with colour index 1 (transparent index 0)."""
    bits = max(colours.bit_length() - 1, 1)
    palette = bytes(value for index in range(1 << bits) for value in (index * 37 % 256,) * 3)
    out = bytearray(b"GIF89a")
    out += struct.pack("<HHBBB", screen[0], screen[1], 0x80 | (bits - 1), 0, 0)
    out += palette
    if loop:
        out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for left, top, width, height in frames:
        out += b"\x21\xf9\x04\x05" + struct.pack("<H", delay) + b"\x00\x00"
        out += b"\x2c" + struct.pack("<HHHHB", left, top, width, height, 0)
        out += b"\x08" + sub_blocks(lzw_literals(b"\x01" * (width * height)))
    out += b"\x3b"
    return bytes(out)


def gif_frame_far_outside() -> bytes:
    """114 bytes: a 1x1 screen whose second frame sits at (7999, 7999). Pillow grows the
    canvas to hold it: 8000x8000 pixels, in RGBA for every frame."""
    return gif((1, 1), [(0, 0, 1, 1), (7999, 7999, 1, 1)])


def gif_many_frames(frames: int = 1000, screen: int = 1000) -> bytes:
    """A thousand one-pixel frames on a 1000x1000 screen (about 24 KB): each decodes to the
    whole screen."""
    return gif((screen, screen), [(index % screen, 0, 1, 1) for index in range(frames)])


def gif_huge_screen(side: int = 30000) -> bytes:
    """Two one-pixel frames on a 30000x30000 screen."""
    return gif((side, side), [(0, 0, 1, 1), (1, 1, 1, 1)])


def photo(size: tuple[int, int], fmt: str = "JPEG", **params: object) -> bytes:
    """A smooth picture (cheap to make at any size) in `fmt`."""
    horizontal = Image.linear_gradient("L").resize(size)
    vertical = Image.linear_gradient("L").rotate(90).resize(size)
    blue = Image.radial_gradient("L").resize(size)
    image = Image.merge("RGB", (horizontal, vertical, blue))
    return encode(image, fmt, **params)


def nine_patch(padding: int, inner: int = 96) -> bytes:
    """A nine-patch PNG whose content markers (bottom and right borders) leave `padding`
    pixels of padding on every side of the picture it frames."""
    side = inner + 2 * padding + 2
    patch = Image.new("RGBA", (side, side), (200, 180, 40, 255))
    black = (0, 0, 0, 255)
    for index in range(1, side - 1):
        stretch = padding + 1 <= index < side - padding - 1
        patch.putpixel((index, 0), black if stretch else (0, 0, 0, 0))
        patch.putpixel((0, index), black if stretch else (0, 0, 0, 0))
        patch.putpixel((index, side - 1), black if stretch else (0, 0, 0, 0))
        patch.putpixel((side - 1, index), black if stretch else (0, 0, 0, 0))
    return encode(patch, "PNG")


POSTSCRIPT = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n"
    b"%%BoundingBox: 0 0 10 10\n"
    b"%%EndComments\n"
    b"newpath 0 0 moveto 10 10 lineto stroke showpage\n"
    b"%%EOF\n"
)

# Formats Pillow reads (and writes, so they are easy to make) that no browser shows: every
# one is a decoder an attacker could reach if the service opened whatever Pillow recognises.
LEGACY_FORMATS = ("TGA", "PCX", "SGI", "IM", "DDS", "ICO", "TIFF", "BMP", "PPM", "QOI")


def legacy(fmt: str) -> bytes:
    image = Image.new("RGB" if fmt != "DDS" else "RGBA", (16, 16), (10, 120, 200))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Pillow 13 deprecates writing IM
        return encode(image, fmt)


def noise_png(size: tuple[int, int]) -> bytes:
    """Noise: nothing in it compresses or is flat, the worst case of every decoder and filter."""
    grey = Image.effect_noise(size, 100).convert("L")
    bands = (
        grey,
        grey.transpose(Image.Transpose.ROTATE_180),
        grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    )
    return encode(Image.merge("RGB", bands), "PNG", compress_level=1)
