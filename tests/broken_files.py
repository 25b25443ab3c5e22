"""Broken GIF, PNG (and APNG), JPEG and WebP files, each crafted to break one thing.

Every case is small (well under 100 KB) and named for what is wrong with it: truncated at a
structural boundary (inside a header, a chunk, a palette, an LZW block, a scan, a frame), chunk
lengths that lie, bad checksums, huge or zero declared sizes, frames outside the canvas,
garbage compressed data, metadata that loops or lies. CORPUS maps each name to a function that
builds the file; tests/test_fuzz_decoders.py serves them all through the App, and the block
and chunk builders here (gif, png, apng, riff, webp_animation, ...) serve tests/test_probe.py.
"""

from __future__ import annotations

import functools
import random
import re
import struct
import zlib
from collections.abc import Callable, Sequence

from PIL import Image

from tests.images import encode

# Builders -------------------------------------------------------------------------------------


def picture(size: tuple[int, int] = (32, 24), mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A small picture with some detail (so every encoder writes real data for it)."""
    width, height = size
    noise = random.Random(seed)
    image = Image.new("RGB", size)
    image.putdata(
        [
            ((x * 255) // max(width - 1, 1), (y * 255) // max(height - 1, 1), noise.randrange(256))
            for y in range(height)
            for x in range(width)
        ]
    )
    return image.convert(mode)


def animation(
    fmt: str, frames: int = 3, size: tuple[int, int] = (32, 24), **params: object
) -> bytes:
    images = [picture(size, seed=index) for index in range(frames)]
    return encode(images[0], fmt, save_all=True, append_images=images[1:], **params)


# GIF


def sub_blocks(data: bytes) -> bytes:
    """GIF data sub-blocks: 255 bytes at most each, ended by a zero length."""
    out = bytearray()
    for start in range(0, len(data), 255):
        chunk = data[start : start + 255]
        out += bytes([len(chunk)]) + chunk
    return bytes(out) + b"\x00"


def lzw_literals(pixels: bytes, min_code_size: int = 8) -> bytes:
    """LZW data that spells every pixel as a literal (a clear code every 200 keeps the code
    width at min_code_size + 1 bits), so any pixels are easy to write."""
    clear, end, width = 1 << min_code_size, (1 << min_code_size) + 1, min_code_size + 1
    codes = [clear]
    for index, pixel in enumerate(pixels):
        if index and index % 200 == 0:
            codes.append(clear)
        codes.append(pixel)
    codes.append(end)
    bits = count = 0
    out = bytearray()
    for code in codes:
        bits |= code << count
        count += width
        while count >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            count -= 8
    if count:
        out.append(bits & 0xFF)
    return bytes(out)


def gif_screen(
    size: tuple[int, int], palette_bits: int | None = 1, version: bytes = b"89a"
) -> bytes:
    """The header and logical screen, with a global palette of 2**palette_bits colours."""
    flags = 0x80 | (palette_bits - 1) if palette_bits else 0
    out = b"GIF" + version + struct.pack("<HHBBB", *size, flags, 0, 0)
    if palette_bits:
        out += bytes(
            value for index in range(1 << palette_bits) for value in (index * 85 % 256,) * 3
        )
    return out


def gif_control(delay: int = 10, transparent: int | None = None) -> bytes:
    flags = 0x04 | (1 if transparent is not None else 0)
    return b"\x21\xf9\x04" + struct.pack("<BHB", flags, delay, transparent or 0) + b"\x00"


def gif_image(
    rect: tuple[int, int, int, int],
    *,
    data: bytes | None = None,
    min_code_size: int = 8,
    palette_bits: int | None = None,
    interlace: bool = False,
) -> bytes:
    """An image descriptor, its local palette if any and its LZW data (colour 1 by default)."""
    left, top, width, height = rect
    flags = (0x80 | (palette_bits - 1) if palette_bits else 0) | (0x40 if interlace else 0)
    out = b"\x2c" + struct.pack("<HHHHB", left, top, width, height, flags)
    if palette_bits:
        out += bytes(range(3)) * (1 << palette_bits)
    if data is None:
        data = lzw_literals(b"\x01" * (width * height), min_code_size)
    return out + bytes([min_code_size]) + sub_blocks(data)


def gif(
    screen: tuple[int, int], rects: Sequence[tuple[int, int, int, int]], trailer: bool = True
) -> bytes:
    out = gif_screen(screen) + b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for rect in rects:
        out += gif_control() + gif_image(rect)
    return out + (b"\x3b" if trailer else b"")


# PNG and APNG


def png_chunk(
    kind: bytes, data: bytes, *, length: int | None = None, crc: int | None = None
) -> bytes:
    """A chunk; `length` and `crc` override the true ones."""
    true_crc = zlib.crc32(kind + data)
    return (
        struct.pack(">I", len(data) if length is None else length)
        + kind
        + data
        + struct.pack(">I", true_crc if crc is None else crc)
    )


def ihdr(width: int, height: int, bit_depth: int = 8, colour: int = 2, interlace: int = 0) -> bytes:
    return png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, interlace)
    )


def scanlines(width: int, height: int, channels: int = 3) -> bytes:
    """Filter type 0 rows of a horizontal ramp."""
    row = b"\x00" + bytes((x * 7) % 256 for x in range(width * channels))
    return zlib.compress(row * height)


def png(*chunks: bytes, size: tuple[int, int] = (16, 16), end: bool = True) -> bytes:
    """A signature and IHDR for an RGB image of `size`, then `chunks` (its IDAT when none)."""
    body = b"".join(chunks) or png_chunk(b"IDAT", scanlines(*size))
    return b"\x89PNG\r\n\x1a\n" + ihdr(*size) + body + (png_chunk(b"IEND", b"") if end else b"")


def actl(frames: int, plays: int = 0) -> bytes:
    return png_chunk(b"acTL", struct.pack(">II", frames, plays))


def fctl(sequence: int, rect: tuple[int, int, int, int]) -> bytes:
    left, top, width, height = rect
    return png_chunk(
        b"fcTL", struct.pack(">IIIIIHHBB", sequence, width, height, left, top, 1, 10, 0, 0)
    )


def apng(
    size: tuple[int, int], rects: Sequence[tuple[int, int, int, int]], frames: int | None = None
) -> bytes:
    """An APNG whose IDAT is the first frame, then fcTL/fdAT pairs; acTL claims `frames`
    (the number of rectangles by default). Empty or huge rectangles get one pixel of data."""
    sequence = 0
    chunks = [actl(len(rects) if frames is None else frames)]
    for index, rect in enumerate(rects):
        chunks.append(fctl(sequence, rect))
        sequence += 1
        width, height = (rect[2], rect[3]) if 0 < rect[2] * rect[3] <= 1 << 16 else (1, 1)
        data = scanlines(width, height)
        if index == 0:
            chunks.append(png_chunk(b"IDAT", data))
        else:
            chunks.append(png_chunk(b"fdAT", struct.pack(">I", sequence) + data))
            sequence += 1
    return png(*chunks, size=size)


# WebP


def riff_chunk(fourcc: bytes, payload: bytes, *, length: int | None = None) -> bytes:
    """A RIFF chunk, padded to an even length; `length` overrides the true one."""
    size = len(payload) if length is None else length
    return fourcc + struct.pack("<I", size) + payload + (b"\x00" if len(payload) % 2 else b"")


def riff(*chunks: bytes, size: int | None = None) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if size is None else size) + body


def vp8x(canvas: tuple[int, int], *, animated: bool = False, alpha: bool = False) -> bytes:
    flags = (0x02 if animated else 0) | (0x10 if alpha else 0)
    width, height = canvas
    payload = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
    return riff_chunk(b"VP8X", payload + (height - 1).to_bytes(3, "little"))


def anim(loops: int = 0) -> bytes:
    return riff_chunk(b"ANIM", struct.pack("<IH", 0xFFFFFFFF, loops))


def anmf(rect: tuple[int, int, int, int], image: bytes, duration: int = 100) -> bytes:
    """An animation frame at an even (left, top) holding `image` (its VP8/VP8L chunk)."""
    left, top, width, height = rect
    header = b"".join(
        value.to_bytes(3, "little")
        for value in (left // 2, top // 2, width - 1, height - 1, duration)
    )
    return riff_chunk(b"ANMF", header + b"\x00" + image)


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (fourcc, payload) chunks of a WebP file."""
    chunks = []
    position = 12
    while position + 8 <= len(data):
        fourcc = data[position : position + 4]
        (length,) = struct.unpack_from("<I", data, position + 4)
        chunks.append((fourcc, data[position + 8 : position + 8 + length]))
        position += 8 + length + (length & 1)
    return chunks


@functools.cache
def webp_bitstream(size: tuple[int, int] = (16, 16), lossless: bool = False) -> bytes:
    """The VP8 or VP8L chunk of a still WebP of `size`, as Pillow writes it."""
    data = encode(picture(size), "WEBP", lossless=lossless, quality=50)
    fourcc, payload = next(c for c in webp_chunks(data) if c[0] in (b"VP8 ", b"VP8L"))
    return riff_chunk(fourcc, payload)


def webp_animation(
    canvas: tuple[int, int], rects: Sequence[tuple[int, int, int, int]], lossless: bool = False
) -> bytes:
    frames = [anmf(rect, webp_bitstream(rect[2:], lossless)) for rect in rects]
    return riff(vp8x(canvas, animated=True), anim(), *frames)


# JPEG


_SCAN_END = re.compile(rb"\xff[\xc0-\xcf\xd8-\xfe]")
SOS, DHT, DQT, SOF0, SOF2, DRI, EOI = 0xDA, 0xC4, 0xDB, 0xC0, 0xC2, 0xDD, 0xD9


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of every segment; a scan's end takes in its entropy-coded data."""
    segments = []
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == EOI:
            segments.append((marker, position, position + 2))
            break
        (length,) = struct.unpack_from(">H", data, position + 2)
        end = position + 2 + length
        if marker == SOS:
            found = _SCAN_END.search(data, end)
            end = found.start() if found else len(data)
        segments.append((marker, position, end))
        position = end
    return segments


def segment(marker: int, payload: bytes, *, length: int | None = None) -> bytes:
    return (
        bytes([0xFF, marker])
        + struct.pack(">H", len(payload) + 2 if length is None else length)
        + payload
    )


def jpeg_with(data: bytes, marker: int, replace: Callable[[bytes], bytes], nth: int = 0) -> bytes:
    """`data` with its `nth` segment of `marker` replaced by `replace(segment bytes)`."""
    found = [s for s in jpeg_segments(data) if s[0] == marker][nth]
    return data[: found[1]] + replace(data[found[1] : found[2]]) + data[found[2] :]


def jpeg_without(data: bytes, marker: int) -> bytes:
    return b"".join(
        [data[:2]] + [data[start:end] for kind, start, end in jpeg_segments(data) if kind != marker]
    )


def jpeg_insert(data: bytes, extra: bytes) -> bytes:
    """`extra` segments right after SOI."""
    return data[:2] + extra + data[2:]


def jpeg_cut(data: bytes, marker: int, into: int, nth: int = 0) -> bytes:
    """`data` cut `into` bytes after the start of the `nth` segment of `marker`."""
    found = [s for s in jpeg_segments(data) if s[0] == marker][nth]
    return data[: found[1] + into]


def jpeg_patch(data: bytes, marker: int, offset: int, value: bytes, nth: int = 0) -> bytes:
    """`data` with `value` written at `offset` into the `nth` segment of `marker`."""
    return jpeg_with(data, marker, lambda s: s[:offset] + value + s[offset + len(value) :], nth)


@functools.cache
def baseline_jpeg() -> bytes:
    return encode(picture((48, 32)), "JPEG", quality=80)


@functools.cache
def progressive_jpeg() -> bytes:
    return encode(picture((48, 32)), "JPEG", quality=80, progressive=True)


# EXIF and ICC


def exif(body: Callable[[int], bytes]) -> bytes:
    """A big-endian TIFF structure behind the Exif header; `body(8)` writes IFD0 at offset 8."""
    return b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + body(8)


def ifd(
    entries: Sequence[tuple[int, int, int, int]], next_ifd: int = 0, count: int | None = None
) -> bytes:
    """An IFD of (tag, type, count, value) entries; `count` overrides the entry count."""
    out = struct.pack(">H", len(entries) if count is None else count)
    for tag, kind, values, value in entries:
        out += struct.pack(">HHII", tag, kind, values, value)
    return out + struct.pack(">I", next_ifd)


ORIENTATION, EXIF_IFD, GPS_IFD, SHORT, LONG = 0x0112, 0x8769, 0x8825, 3, 4


def exif_huge_ifd_count() -> bytes:
    return exif(lambda at: ifd([(ORIENTATION, SHORT, 1, 6 << 16)], count=0xFFFF))


def exif_ifd_loop() -> bytes:
    """IFD0 links to itself as the next IFD and as its Exif and GPS sub-IFDs."""
    return exif(
        lambda at: ifd(
            [(ORIENTATION, SHORT, 1, 6 << 16), (EXIF_IFD, LONG, 1, at), (GPS_IFD, LONG, 1, at)],
            next_ifd=at,
        )
    )


def exif_values_beyond_end() -> bytes:
    """An entry of a billion LONGs whose values lie past the end of the data."""
    return exif(lambda at: ifd([(ORIENTATION, LONG, 1_000_000_000, 0x7FFFFFF0)]))


def icc_profile(declared: int | None = None) -> bytes:
    """A 132-byte ICC profile header with no tags; `declared` overrides the size it states."""
    header = (
        struct.pack(">I", 132 if declared is None else declared) + b"lcms" + b"\x02\x10\x00\x00"
    )
    header += b"mntrRGB XYZ " + bytes(12) + b"acsp" + bytes(128 - 40)
    return header + struct.pack(">I", 0)


def jpeg_icc(chunks: Sequence[tuple[int, int, bytes]]) -> bytes:
    """APP2 ICC_PROFILE segments of (sequence number, count, data)."""
    return b"".join(
        segment(0xE2, b"ICC_PROFILE\x00" + bytes([n, total]) + data) for n, total, data in chunks
    )


def garbage(length: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(length)


# The corpus -----------------------------------------------------------------------------------

Case = Callable[[], bytes]
CORPUS: dict[str, Case] = {}
# The file name suffix each case is served under.
SUFFIX: dict[str, str] = {}


def case(suffix: str) -> Callable[[Case], Case]:
    def register(build: Case) -> Case:
        CORPUS[build.__name__] = build
        SUFFIX[build.__name__] = suffix
        return build

    return register


# GIF


def _two_frames() -> bytes:
    return gif((8, 8), [(0, 0, 8, 8), (2, 2, 4, 4)])


def _second_frame_at() -> int:
    """The offset of the second frame's graphic control extension in _two_frames()."""
    data = _two_frames()
    return data.index(b"\x21\xf9", data.index(b"\x2c") + 1)


@case("gif")
def gif_truncated_in_header() -> bytes:
    return _two_frames()[:9]


@case("gif")
def gif_truncated_in_global_palette() -> bytes:
    return _two_frames()[:15]


@case("gif")
def gif_truncated_in_application_extension() -> bytes:
    data = _two_frames()
    return data[: data.index(b"NETSCAPE") + 4]


@case("gif")
def gif_truncated_after_first_extension_introducer() -> bytes:
    data = _two_frames()
    return data[: data.index(b"\x21\xf9") + 1]


@case("gif")
def gif_truncated_in_image_descriptor() -> bytes:
    data = _two_frames()
    return data[: data.index(b"\x2c") + 5]


@case("gif")
def gif_truncated_in_local_palette() -> bytes:
    data = gif_screen((8, 8)) + gif_image((0, 0, 8, 8), palette_bits=8)
    return data[: len(gif_screen((8, 8))) + 10 + 300]


@case("gif")
def gif_truncated_in_lzw_block() -> bytes:
    data = _two_frames()
    return data[: data.index(b"\x2c") + 20]


@case("gif")
def gif_truncated_before_second_frame() -> bytes:
    return _two_frames()[: _second_frame_at()]


@case("gif")
def gif_truncated_after_second_extension_introducer() -> bytes:
    return _two_frames()[: _second_frame_at() + 1]


@case("gif")
def gif_truncated_in_second_frame_descriptor() -> bytes:
    data = _two_frames()
    return data[: data.index(b"\x2c", _second_frame_at()) + 4]


@case("gif")
def gif_truncated_in_second_frame_lzw() -> bytes:
    data = _two_frames()
    return data[: data.index(b"\x2c", _second_frame_at()) + 14]


@case("gif")
def gif_missing_trailer() -> bytes:
    return _two_frames()[:-1]


@case("gif")
def gif_no_frames() -> bytes:
    return gif_screen((8, 8)) + b"\x3b"


@case("gif")
def gif_only_extensions() -> bytes:
    return gif_screen((8, 8)) + gif_control() * 3 + b"\x3b"


@case("gif")
def gif_short_control_extension_in_second_frame() -> bytes:
    """A graphic control extension of one byte, where Pillow reads three."""
    data = _two_frames()
    at = _second_frame_at()
    return data[:at] + b"\x21\xf9\x01\x05\x00" + data[at + 8 :]


@case("gif")
def gif_short_control_extension_in_first_frame() -> bytes:
    data = _two_frames()
    at = data.index(b"\x21\xf9")
    return data[:at] + b"\x21\xf9\x01\x05\x00" + data[at + 8 :]


@case("gif")
def gif_huge_screen() -> bytes:
    return gif((65535, 65535), [(0, 0, 1, 1)])


@case("gif")
def gif_zero_screen() -> bytes:
    return gif((0, 0), [(0, 0, 4, 4)])


@case("gif")
def gif_zero_size_frame() -> bytes:
    return gif((8, 8), [(0, 0, 0, 0), (0, 0, 8, 8)])


@case("gif")
def gif_frame_outside_screen() -> bytes:
    """A 1x1 screen whose second frame sits at (1999, 1999): Pillow grows the canvas."""
    return gif((1, 1), [(0, 0, 1, 1), (1999, 1999, 1, 1)])


@case("gif")
def gif_frame_at_65535() -> bytes:
    """A frame whose right and bottom edges lie past 65535."""
    return gif((8, 8), [(0, 0, 8, 8), (65535, 65535, 1, 1)])


@case("gif")
def gif_garbage_lzw_codes() -> bytes:
    return gif_screen((32, 32)) + gif_image((0, 0, 32, 32), data=garbage(600)) + b"\x3b"


def _between_good_frames(damaged: bytes) -> bytes:
    """A damaged frame second of three, so that a reader seeking to the third decodes it."""
    good = gif_control() + gif_image((0, 0, 8, 8))
    return gif((8, 8), [(0, 0, 8, 8)], trailer=False) + damaged + good + b"\x3b"


@case("gif")
def gif_garbage_lzw_codes_in_second_frame() -> bytes:
    return _between_good_frames(gif_control() + gif_image((0, 0, 8, 8), data=garbage(100)))


@case("gif")
def gif_lzw_code_size_255_in_second_frame() -> bytes:
    damaged = gif_image((0, 0, 8, 8), data=garbage(40), min_code_size=255)
    return _between_good_frames(gif_control() + damaged)


@case("gif")
def gif_lzw_code_size_zero() -> bytes:
    return gif_screen((8, 8)) + gif_image((0, 0, 8, 8), data=garbage(40), min_code_size=0) + b"\x3b"


@case("gif")
def gif_lzw_code_size_255() -> bytes:
    return (
        gif_screen((8, 8)) + gif_image((0, 0, 8, 8), data=garbage(40), min_code_size=255) + b"\x3b"
    )


@case("gif")
def gif_lzw_data_too_short() -> bytes:
    """The end code after 10 pixels of a 64x64 frame."""
    return (
        gif_screen((64, 64)) + gif_image((0, 0, 64, 64), data=lzw_literals(b"\x01" * 10)) + b"\x3b"
    )


@case("gif")
def gif_lzw_data_too_long() -> bytes:
    """Ten times the pixels the 8x8 frame holds."""
    return gif_screen((8, 8)) + gif_image((0, 0, 8, 8), data=lzw_literals(b"\x01" * 640)) + b"\x3b"


@case("gif")
def gif_missing_palette() -> bytes:
    """No global and no local colour table."""
    return gif_screen((8, 8), palette_bits=None) + gif_image((0, 0, 8, 8)) + b"\x3b"


@case("gif")
def gif_palette_index_beyond_palette() -> bytes:
    frame = gif_image((0, 0, 8, 8), data=lzw_literals(b"\xff" * 64))
    return gif_screen((8, 8), palette_bits=1) + frame + b"\x3b"


@case("gif")
def gif_interlaced_truncated() -> bytes:
    data = gif_screen((32, 32)) + gif_image((0, 0, 32, 32), interlace=True)
    return data[: len(data) // 2]


@case("gif")
def gif_unterminated_comment() -> bytes:
    return gif_screen((8, 8)) + b"\x21\xfe" + b"\xff" + b"x" * 255 + b"\x10"


@case("gif")
def gif_stray_bytes_between_blocks() -> bytes:
    data = _two_frames()
    at = _second_frame_at()
    return data[:at] + bytes(range(0x40, 0x60)) * 20 + data[at:]


@case("gif")
def gif_many_frames() -> bytes:
    """3000 one-pixel frames on a 64x64 screen (about 70 KB)."""
    return gif((64, 64), [(index % 64, index // 64 % 64, 1, 1) for index in range(3000)])


# PNG


@case("png")
def png_truncated_in_signature() -> bytes:
    return png()[:5]


@case("png")
def png_truncated_in_ihdr() -> bytes:
    return png()[:20]


@case("png")
def png_truncated_in_idat() -> bytes:
    data = png()
    return data[: data.index(b"IDAT") + 30]


@case("png")
def png_missing_iend() -> bytes:
    return png(end=False)


@case("png")
def png_bad_ihdr_crc() -> bytes:
    data = bytearray(png())
    data[29] ^= 0xFF
    return bytes(data)


@case("png")
def png_bad_idat_crc() -> bytes:
    return png(png_chunk(b"IDAT", scanlines(16, 16), crc=0))


@case("png")
def png_ihdr_length_too_long() -> bytes:
    data = png()
    return data[:8] + struct.pack(">I", 40) + data[12:]


@case("png")
def png_ihdr_length_too_short() -> bytes:
    data = png()
    return data[:8] + struct.pack(">I", 5) + data[12:]


@case("png")
def png_idat_length_ffffffff() -> bytes:
    return png(png_chunk(b"IDAT", scanlines(16, 16), length=0xFFFFFFFF))


@case("png")
def png_idat_length_too_short() -> bytes:
    data = scanlines(16, 16)
    return png(png_chunk(b"IDAT", data, length=len(data) // 2))


@case("png")
def png_huge_ihdr() -> bytes:
    """IHDR of 2**31-1 x 2**31-1 pixels over a tiny IDAT."""
    return _png_declared((2**31 - 1, 2**31 - 1))


@case("png")
def png_huge_ihdr_one_row() -> bytes:
    return _png_declared((2**31 - 1, 1))


@case("png")
def png_ihdr_width_ffffffff() -> bytes:
    return _png_declared((0xFFFFFFFF, 1))


@case("png")
def png_zero_size() -> bytes:
    return _png_declared((0, 0))


def _png_declared(size: tuple[int, int]) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n"
        + ihdr(*size)
        + png_chunk(b"IDAT", scanlines(16, 16))
        + png_chunk(b"IEND", b"")
    )


@case("png")
def png_garbage_deflate() -> bytes:
    return png(png_chunk(b"IDAT", b"\x78\x9c" + garbage(200)))


@case("png")
def png_deflate_of_too_few_rows() -> bytes:
    return png(png_chunk(b"IDAT", scanlines(16, 3)))


@case("png")
def png_deflate_of_too_many_rows() -> bytes:
    return png(png_chunk(b"IDAT", scanlines(16, 1000)))


@case("png")
def png_bad_filter_type_in_rows() -> bytes:
    rows = (b"\x07" + bytes(48)) * 16
    return png(png_chunk(b"IDAT", zlib.compress(rows)))


@case("png")
def png_palette_missing() -> bytes:
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 3, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress((b"\x00" + bytes(16)) * 16))
    return b"\x89PNG\r\n\x1a\n" + header + idat + png_chunk(b"IEND", b"")


@case("png")
def png_palette_too_short_for_indices() -> bytes:
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 3, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress((b"\x00" + bytes(range(200, 216))) * 16))
    palette = png_chunk(b"PLTE", bytes(6))
    return b"\x89PNG\r\n\x1a\n" + header + palette + idat + png_chunk(b"IEND", b"")


@case("png")
def png_bad_colour_type() -> bytes:
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 7, 0, 0, 0))
    return (
        b"\x89PNG\r\n\x1a\n"
        + header
        + png_chunk(b"IDAT", scanlines(16, 16))
        + png_chunk(b"IEND", b"")
    )


@case("png")
def png_bad_bit_depth() -> bytes:
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 3, 2, 0, 0, 0))
    return (
        b"\x89PNG\r\n\x1a\n"
        + header
        + png_chunk(b"IDAT", scanlines(16, 16))
        + png_chunk(b"IEND", b"")
    )


@case("png")
def png_unknown_filter_method() -> bytes:
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 1, 0))
    return (
        b"\x89PNG\r\n\x1a\n"
        + header
        + png_chunk(b"IDAT", scanlines(16, 16))
        + png_chunk(b"IEND", b"")
    )


@case("png")
def png_interlaced_truncated() -> bytes:
    data = encode(picture((64, 64)), "PNG", interlace=1)
    return data[: len(data) * 2 // 3]


@case("png")
def png_no_ihdr() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IDAT", scanlines(16, 16)) + png_chunk(b"IEND", b"")


@case("png")
def png_no_idat() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + ihdr(16, 16) + png_chunk(b"IEND", b"")


@case("png")
def png_junk_chunk_type() -> bytes:
    return png(png_chunk(b"\x00\x01\x02\x03", b"junk"), png_chunk(b"IDAT", scanlines(16, 16)))


@case("png")
def png_text_bomb() -> bytes:
    """A zTXt chunk that inflates to 64 MB."""
    text = b"Comment\x00\x00" + zlib.compress(bytes(64 << 20), 9)
    return png(png_chunk(b"zTXt", text), png_chunk(b"IDAT", scanlines(16, 16)))


@case("png")
def png_icc_chunk_length_lies() -> bytes:
    """An iCCP chunk whose length field says 5000 bytes: it swallows the IDAT."""
    payload = b"icc\x00\x00" + zlib.compress(icc_profile())
    return png(png_chunk(b"iCCP", payload, length=5000), png_chunk(b"IDAT", scanlines(16, 16)))


@case("png")
def png_icc_profile_size_lies() -> bytes:
    """A well-formed iCCP chunk whose profile header claims 100 MB."""
    payload = b"icc\x00\x00" + zlib.compress(icc_profile(declared=100 << 20))
    return png(png_chunk(b"iCCP", payload), png_chunk(b"IDAT", scanlines(16, 16)))


@case("png")
def png_icc_garbage_deflate() -> bytes:
    payload = b"icc\x00\x00" + b"\x78\x9c" + garbage(100)
    return png(png_chunk(b"iCCP", payload), png_chunk(b"IDAT", scanlines(16, 16)))


@case("png")
def png_exif_huge_ifd_count() -> bytes:
    return png(png_chunk(b"eXIf", exif_huge_ifd_count()[6:]), png_chunk(b"IDAT", scanlines(16, 16)))


@case("png")
def png_exif_ifd_loop() -> bytes:
    return png(png_chunk(b"eXIf", exif_ifd_loop()[6:]), png_chunk(b"IDAT", scanlines(16, 16)))


@case("png")
def apng_fctl_beyond_canvas() -> bytes:
    return apng((16, 16), [(0, 0, 16, 16), (8, 8, 16, 16)])


@case("png")
def apng_huge_fctl() -> bytes:
    """A frame of 2**31-1 x 2**31-1 pixels on a 16x16 canvas."""
    return apng((16, 16), [(0, 0, 16, 16), (0, 0, 2**31 - 1, 2**31 - 1)])


@case("png")
def apng_actl_2_31_frames() -> bytes:
    return apng((16, 16), [(0, 0, 16, 16), (0, 0, 8, 8)], frames=2**31)


@case("png")
def apng_actl_ffffffff_frames() -> bytes:
    return apng((16, 16), [(0, 0, 16, 16), (0, 0, 8, 8)], frames=0xFFFFFFFF)


@case("png")
def apng_actl_zero_frames() -> bytes:
    return apng((16, 16), [(0, 0, 16, 16), (0, 0, 8, 8)], frames=0)


@case("png")
def apng_actl_claims_more_frames_than_present() -> bytes:
    return apng((16, 16), [(0, 0, 16, 16), (0, 0, 8, 8)], frames=5000)


@case("png")
def apng_zero_size_frame() -> bytes:
    return apng((16, 16), [(0, 0, 16, 16), (0, 0, 0, 0)])


@case("png")
def apng_sequence_error() -> bytes:
    data = apng((16, 16), [(0, 0, 16, 16), (0, 0, 8, 8), (0, 0, 4, 4)])
    at = data.index(b"fcTL", data.index(b"fdAT"))
    return data[: at + 4] + struct.pack(">I", 9) + data[at + 8 :]  # CRC now wrong too


@case("png")
def apng_missing_fdat() -> bytes:
    return png(
        actl(3),
        fctl(0, (0, 0, 16, 16)),
        png_chunk(b"IDAT", scanlines(16, 16)),
        fctl(1, (0, 0, 8, 8)),
        fctl(2, (0, 0, 8, 8)),
    )


@case("png")
def apng_truncated_in_second_frame() -> bytes:
    data = apng((16, 16), [(0, 0, 16, 16), (0, 0, 16, 16)])
    return data[: data.index(b"fdAT") + 20]


@case("png")
def apng_fdat_garbage() -> bytes:
    return png(
        actl(2),
        fctl(0, (0, 0, 16, 16)),
        png_chunk(b"IDAT", scanlines(16, 16)),
        fctl(1, (0, 0, 16, 16)),
        png_chunk(b"fdAT", struct.pack(">I", 2) + garbage(100)),
    )


@case("png")
def apng_many_frames() -> bytes:
    """1200 frames of one pixel."""
    return apng((16, 16), [(0, 0, 16, 16)] + [(index % 16, 0, 1, 1) for index in range(1199)])


# JPEG


@case("jpg")
def jpeg_truncated_in_app0() -> bytes:
    return baseline_jpeg()[:10]


@case("jpg")
def jpeg_truncated_in_dqt() -> bytes:
    return jpeg_cut(baseline_jpeg(), DQT, 30)


@case("jpg")
def jpeg_truncated_in_sof() -> bytes:
    return jpeg_cut(baseline_jpeg(), SOF0, 9)


@case("jpg")
def jpeg_truncated_in_dht() -> bytes:
    return jpeg_cut(baseline_jpeg(), DHT, 12)


@case("jpg")
def jpeg_truncated_in_sos_header() -> bytes:
    return jpeg_cut(baseline_jpeg(), SOS, 6)


@case("jpg")
def jpeg_truncated_in_scan() -> bytes:
    data = baseline_jpeg()
    scan = next(s for s in jpeg_segments(data) if s[0] == SOS)
    return data[: (scan[1] + scan[2]) // 2]


@case("jpg")
def jpeg_missing_eoi() -> bytes:
    return baseline_jpeg()[:-2]


@case("jpg")
def jpeg_missing_sos() -> bytes:
    return jpeg_without(baseline_jpeg(), SOS)


@case("jpg")
def jpeg_missing_sof() -> bytes:
    return jpeg_without(baseline_jpeg(), SOF0)


@case("jpg")
def jpeg_missing_huffman_tables() -> bytes:
    return jpeg_without(baseline_jpeg(), DHT)


@case("jpg")
def jpeg_missing_quantization_tables() -> bytes:
    return jpeg_without(baseline_jpeg(), DQT)


@case("jpg")
def jpeg_bogus_huffman_counts() -> bytes:
    """A DHT whose 16 code counts add up to 16 * 200 symbols."""
    return jpeg_with(
        baseline_jpeg(),
        DHT,
        lambda s: segment(DHT, b"\x00" + bytes([200]) * 16 + bytes(range(256)) * 13),
    )


@case("jpg")
def jpeg_bogus_huffman_overfull() -> bytes:
    """Three codes of one bit."""
    table = b"\x00" + bytes([3] + [0] * 15) + b"\x00\x01\x02"
    return jpeg_with(baseline_jpeg(), DHT, lambda s: segment(DHT, table))


@case("jpg")
def jpeg_huffman_table_slot_7() -> bytes:
    return jpeg_patch(baseline_jpeg(), DHT, 4, b"\x17")


@case("jpg")
def jpeg_sof_65500() -> bytes:
    """The SOF of a 48x32 picture saying 65500x65500."""
    return jpeg_patch(baseline_jpeg(), SOF0, 5, struct.pack(">HH", 65500, 65500))


@case("jpg")
def jpeg_progressive_sof_65500() -> bytes:
    return jpeg_patch(progressive_jpeg(), SOF2, 5, struct.pack(">HH", 65500, 65500))


@case("jpg")
def jpeg_sof_width_zero() -> bytes:
    return jpeg_patch(baseline_jpeg(), SOF0, 7, b"\x00\x00")


@case("jpg")
def jpeg_sof_height_zero() -> bytes:
    return jpeg_patch(baseline_jpeg(), SOF0, 5, b"\x00\x00")


@case("jpg")
def jpeg_sof_precision_12() -> bytes:
    return jpeg_patch(baseline_jpeg(), SOF0, 4, b"\x0c")


@case("jpg")
def jpeg_sof_component_count_lies() -> bytes:
    return jpeg_patch(baseline_jpeg(), SOF0, 9, b"\x09")


@case("jpg")
def jpeg_sof_sampling_factor_zero() -> bytes:
    return jpeg_patch(baseline_jpeg(), SOF0, 11, b"\x00")


@case("jpg")
def jpeg_sof_undefined_quantization_table() -> bytes:
    return jpeg_patch(baseline_jpeg(), SOF0, 12, b"\x03")


@case("jpg")
def jpeg_arithmetic_coding_sof() -> bytes:
    """SOF9 (arithmetic coding) over Huffman-coded data."""
    return jpeg_patch(baseline_jpeg(), SOF0, 1, b"\xc9")


@case("jpg")
def jpeg_lossless_sof() -> bytes:
    return jpeg_patch(baseline_jpeg(), SOF0, 1, b"\xc3")


@case("jpg")
def jpeg_two_sofs() -> bytes:
    return jpeg_with(
        baseline_jpeg(), SOF0, lambda s: s + s[:5] + struct.pack(">HH", 9000, 9000) + s[9:]
    )


@case("jpg")
def jpeg_sos_unknown_component() -> bytes:
    return jpeg_patch(baseline_jpeg(), SOS, 5, b"\x09")


@case("jpg")
def jpeg_garbage_scan_data() -> bytes:
    data = baseline_jpeg()
    scan = next(s for s in jpeg_segments(data) if s[0] == SOS)
    header_end = scan[1] + 2 + struct.unpack_from(">H", data, scan[1] + 2)[0]
    noise = garbage(scan[2] - header_end).replace(b"\xff", b"\xfe")
    return data[:header_end] + noise + data[scan[2] :]


@case("jpg")
def jpeg_app0_length_ffff() -> bytes:
    return jpeg_patch(baseline_jpeg(), 0xE0, 2, b"\xff\xff")


@case("jpg")
def jpeg_app0_length_zero() -> bytes:
    return jpeg_patch(baseline_jpeg(), 0xE0, 2, b"\x00\x00")


@case("jpg")
def jpeg_restart_interval_without_markers() -> bytes:
    return jpeg_insert(baseline_jpeg(), segment(DRI, b"\x00\x01"))


@case("jpg")
def jpeg_restart_interval_length_wrong() -> bytes:
    return jpeg_insert(baseline_jpeg(), segment(DRI, b"\x00\x01\x00", length=2))


@case("jpg")
def jpeg_progressive_truncated_between_scans() -> bytes:
    return jpeg_cut(progressive_jpeg(), SOS, 0, nth=3)


@case("jpg")
def jpeg_progressive_truncated_in_scan() -> bytes:
    return jpeg_cut(progressive_jpeg(), SOS, 40, nth=4)


@case("jpg")
def jpeg_progressive_spectral_selection_reversed() -> bytes:
    """An AC scan with Ss=5, Se=2."""
    return _progressive_scan_params(1, b"\x05\x02\x00")


@case("jpg")
def jpeg_progressive_spectral_selection_beyond_63() -> bytes:
    return _progressive_scan_params(1, b"\x01\x46\x00")


@case("jpg")
def jpeg_progressive_dc_and_ac_in_one_scan() -> bytes:
    return _progressive_scan_params(1, b"\x00\x05\x00")


@case("jpg")
def jpeg_progressive_bad_successive_approximation() -> bytes:
    return _progressive_scan_params(0, b"\x00\x00\xdd")


@case("jpg")
def jpeg_progressive_missing_dc_scan() -> bytes:
    data = progressive_jpeg()
    first = next(s for s in jpeg_segments(data) if s[0] == SOS)
    return data[: first[1]] + data[first[2] :]


def _progressive_scan_params(nth: int, params: bytes) -> bytes:
    """The progressive JPEG with the `nth` scan's Ss, Se and Ah/Al replaced."""

    def patch(scan: bytes) -> bytes:
        header_end = 2 + struct.unpack_from(">H", scan, 2)[0]
        return scan[: header_end - 3] + params + scan[header_end:]

    return jpeg_with(progressive_jpeg(), SOS, patch, nth)


@case("jpg")
def jpeg_cmyk_adobe() -> bytes:
    """A valid CMYK JPEG with its Adobe APP14 marker (inverted CMYK, as Photoshop writes)."""
    return encode(picture((32, 32), "CMYK"), "JPEG")


@case("jpg")
def jpeg_adobe_marker_truncated() -> bytes:
    data = encode(picture((32, 32), "CMYK"), "JPEG")
    return jpeg_with(data, 0xEE, lambda s: segment(0xEE, b"Adobe"))


@case("jpg")
def jpeg_adobe_ycck_on_grey() -> bytes:
    data = encode(picture((32, 32), "L"), "JPEG")
    return jpeg_insert(data, segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x02"))


@case("jpg")
def jpeg_exif_huge_ifd_count() -> bytes:
    return jpeg_insert(baseline_jpeg(), segment(0xE1, exif_huge_ifd_count()))


@case("jpg")
def jpeg_exif_ifd_loop() -> bytes:
    return jpeg_insert(baseline_jpeg(), segment(0xE1, exif_ifd_loop()))


@case("jpg")
def jpeg_exif_values_beyond_end() -> bytes:
    return jpeg_insert(baseline_jpeg(), segment(0xE1, exif_values_beyond_end()))


@case("jpg")
def jpeg_exif_truncated_tiff_header() -> bytes:
    return jpeg_insert(baseline_jpeg(), segment(0xE1, b"Exif\x00\x00MM\x00"))


@case("jpg")
def jpeg_icc_profile_size_lies() -> bytes:
    """One ICC chunk whose profile header claims 100 MB."""
    return jpeg_insert(baseline_jpeg(), jpeg_icc([(1, 1, icc_profile(declared=100 << 20))]))


@case("jpg")
def jpeg_icc_chunks_missing() -> bytes:
    """Chunk 1 of 3, and chunk 3 of 3: the second never comes."""
    profile = icc_profile()
    return jpeg_insert(baseline_jpeg(), jpeg_icc([(1, 3, profile[:60]), (3, 3, profile[120:])]))


@case("jpg")
def jpeg_icc_chunk_zero_of_zero() -> bytes:
    return jpeg_insert(baseline_jpeg(), jpeg_icc([(0, 0, icc_profile())]))


@case("jpg")
def jpeg_icc_segment_length_lies() -> bytes:
    """An APP2 ICC segment whose length runs 40 KB past the end of the file."""
    return jpeg_insert(
        baseline_jpeg(), segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + icc_profile(), length=40000)
    )


# WebP


@case("webp")
def webp_lossy_truncated_in_riff_header() -> bytes:
    return encode(picture(), "WEBP")[:10]


@case("webp")
def webp_lossy_truncated_in_vp8_header() -> bytes:
    return encode(picture(), "WEBP")[:24]


@case("webp")
def webp_lossy_truncated_in_vp8_data() -> bytes:
    data = encode(picture(), "WEBP")
    return data[: len(data) // 2]


@case("webp")
def webp_lossless_truncated_in_vp8l_data() -> bytes:
    data = encode(picture(), "WEBP", lossless=True)
    return data[: len(data) // 2]


@case("webp")
def webp_riff_size_too_small() -> bytes:
    data = encode(picture(), "WEBP")
    return data[:4] + struct.pack("<I", 4) + data[8:]


@case("webp")
def webp_riff_size_ffffffff() -> bytes:
    data = encode(picture(), "WEBP")
    return data[:4] + struct.pack("<I", 0xFFFFFFFF) + data[8:]


@case("webp")
def webp_vp8_length_ffffffff() -> bytes:
    data = encode(picture(), "WEBP")
    return data[:16] + struct.pack("<I", 0xFFFFFFFF) + data[20:]


@case("webp")
def webp_vp8_length_too_short() -> bytes:
    data = encode(picture(), "WEBP")
    return data[:16] + struct.pack("<I", 12) + data[20:]


@case("webp")
def webp_vp8_garbage() -> bytes:
    data = encode(picture(), "WEBP")
    return data[:30] + garbage(len(data) - 30)


@case("webp")
def webp_vp8l_garbage() -> bytes:
    data = encode(picture(), "WEBP", lossless=True)
    return data[:25] + garbage(len(data) - 25)


@case("webp")
def webp_vp8_zero_size() -> bytes:
    data = encode(picture(), "WEBP")
    return data[:26] + b"\x00\x00\x00\x00" + data[30:]


@case("webp")
def webp_vp8_16383() -> bytes:
    """A VP8 frame header of 16383x16383 over the data of a 32x24 picture."""
    data = encode(picture(), "WEBP")
    return data[:26] + struct.pack("<HH", 16383, 16383) + data[30:]


@case("webp")
def webp_vp8x_16383_still() -> bytes:
    return riff(vp8x((16383, 16383)), webp_bitstream())


@case("webp")
def webp_vp8x_16383_animated() -> bytes:
    """A 16383x16383 canvas holding one 16x16 frame: libwebp allocates the canvas twice."""
    return riff(vp8x((16383, 16383), animated=True), anim(), anmf((0, 0, 16, 16), webp_bitstream()))


@case("webp")
def webp_vp8x_without_image() -> bytes:
    return riff(vp8x((16, 16)))


@case("webp")
def webp_animated_without_frames() -> bytes:
    return riff(vp8x((16, 16), animated=True), anim())


@case("webp")
def webp_animated_frame_outside_canvas() -> bytes:
    return webp_animation((16, 16), [(0, 0, 16, 16), (100, 100, 16, 16)])


@case("webp")
def webp_animated_frame_larger_than_canvas() -> bytes:
    return riff(
        vp8x((16, 16), animated=True), anim(), anmf((0, 0, 64, 64), webp_bitstream((64, 64)))
    )


@case("webp")
def webp_animated_frame_size_disagrees_with_bitstream() -> bytes:
    return riff(vp8x((64, 64), animated=True), anim(), anmf((0, 0, 64, 64), webp_bitstream()))


@case("webp")
def webp_animated_truncated_in_frame() -> bytes:
    data = webp_animation((16, 16), [(0, 0, 16, 16), (0, 0, 16, 16)])
    return data[: data.rindex(b"ANMF") + 30]


@case("webp")
def webp_animated_lossless_truncated_in_frame() -> bytes:
    data = webp_animation((16, 16), [(0, 0, 16, 16), (0, 0, 16, 16)], lossless=True)
    return data[: data.rindex(b"ANMF") + 30]


@case("webp")
def webp_animated_frames_before_anim() -> bytes:
    frame = anmf((0, 0, 16, 16), webp_bitstream())
    return riff(vp8x((16, 16), animated=True), frame, anim())


@case("webp")
def webp_animated_odd_chunk_without_padding() -> bytes:
    """An odd-sized unknown chunk before the frames, not padded."""
    odd = b"ODDC" + struct.pack("<I", 3) + b"abc"
    return riff(vp8x((16, 16), animated=True), anim(), odd, anmf((0, 0, 16, 16), webp_bitstream()))


@case("webp")
def webp_animated_frame_length_lies() -> bytes:
    frame = anmf((0, 0, 16, 16), webp_bitstream())
    return riff(
        vp8x((16, 16), animated=True), anim(), frame[:4] + struct.pack("<I", 0x7FFFFFF0) + frame[8:]
    )


@case("webp")
def webp_animated_many_frames() -> bytes:
    """1000 frames of the same 2x2 picture (about 75 KB)."""
    image = webp_bitstream((2, 2))
    return riff(vp8x((16, 16), animated=True), anim(), *[anmf((0, 0, 2, 2), image)] * 1000)


@case("webp")
def webp_icc_chunk_length_lies() -> bytes:
    icc = riff_chunk(b"ICCP", icc_profile(), length=1 << 20)
    return riff(
        riff_chunk(b"VP8X", b"\x20\x00\x00\x00" + (15).to_bytes(3, "little") * 2),
        icc,
        webp_bitstream(),
    )


@case("webp")
def webp_exif_ifd_loop() -> bytes:
    flags = b"\x08\x00\x00\x00"  # EXIF present
    chunk = riff_chunk(b"EXIF", exif_ifd_loop()[6:])
    return riff(
        riff_chunk(b"VP8X", flags + (15).to_bytes(3, "little") * 2), webp_bitstream(), chunk
    )


@case("webp")
def webp_unknown_first_chunk() -> bytes:
    return riff(riff_chunk(b"JUNK", b"x" * 10), webp_bitstream())
