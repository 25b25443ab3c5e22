"""Correlation in fixed point, three by three cells at a time: the engine of blur() and
convolution().

Thumbor's _convolution.c sums weight x pixel over the kernel's window (not mirrored) in double
precision, with coordinates clamped at the edges, then truncates the sum to int and clamps it to
0..255 (`ADJUST_COLOR((int)sum)`). Pillow's own kernels stop at 5x5, round instead of truncating
and leave the border unfiltered, so neither is used as is; never a Python loop over pixels
either.

Pillow's ImageFilter.Kernel computes a 3x3 kernel over a mode I image in one vectorised pass
(about 1.5 ms per megapixel; one ImageMath multiply-add on mode F takes 3 ms, and Pillow's 5x5
and 8-bit multiband kernels are 5 to 10 times slower per cell). It sums in single precision,
rounds to int32 and clips at 0. So a kernel is cut into 3x3 chunks, all bands are laid side by
side in one edge-padded mode I strip, and each chunk is one Kernel pass over the strip with its
weights scaled to fixed point and an offset ("lift") that keeps its sums >= 0; int32.add_into
adds the chunks' int32 results exactly. Decoding the total truncates like _convolution.c's
`(int)sum` and clamps like ADJUST_COLOR, reading the int32 as bytes (a shift in ImageMath would
cost a constant image and twice the time).

Where a sum is exactly an integer n (flat areas under a normalised kernel, above all), Thumbor's
double-precision sum lands a hair above or below n, and (int) then gives n or n - 1 depending on
n and the weights. Our sums carry rounding errors of their own there, so within a few 1/65536ths
of an integer the result is taken from a table of what Thumbor's arithmetic gives for a flat
area of n (measured on blur(8,2) over a cut-out: 58.5 dB against Thumbor before, 79.9 dB with
the table: tests/peers/test_differential_filters.py).
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Sequence
from typing import NamedTuple, cast

from PIL import Image, ImageChops, ImageFilter

from ..budget import Cost, Frame
from ..deadline import checkpoint
from . import int32
from .bands import IDENTITY, band_math

Kernel = Sequence[Sequence[float]]  # rows of weights; both sides odd


def _pad_edges(band: Image.Image, dx: int, dy: int) -> Image.Image:
    """`band` with its outermost columns/rows repeated dx/dy times: reading the padded band at
    an offset is reading the original at coordinates clamped into it, like Thumbor's MINMAX."""
    width, height = band.size
    padded = Image.new(band.mode, (width + 2 * dx, height + 2 * dy))
    padded.paste(band, (dx, dy))
    nearest = Image.Resampling.NEAREST
    if dx:
        left = band.crop((0, 0, 1, height)).resize((dx, height), nearest)
        right = band.crop((width - 1, 0, width, height)).resize((dx, height), nearest)
        padded.paste(left, (0, dy))
        padded.paste(right, (dx + width, dy))
    if dy:
        full = width + 2 * dx
        top = padded.crop((0, dy, full, dy + 1)).resize((full, dy), nearest)
        bottom = padded.crop((0, dy + height - 1, full, dy + height)).resize((full, dy), nearest)
        padded.paste(top, (0, 0))
        padded.paste(bottom, (0, dy + height))
    return padded


_FRACTION_BITS = 16  # sums in 1/65536ths: byte 2 of the int32 holds the integer part
_CARRY = 1 << 24  # the lifts add up to whole multiples of this: they only touch byte 3
_INT32_END = 1 << 31
_FLOAT_RANGE = 1 << 29  # the fallback's scale keeps every sum well inside int32
_HUGE = 2.0**1000  # caps sums of weights, which can overflow to infinity when cells are huge


class _Chunk(NamedTuple):
    dx: int  # where the chunk's centre cell sits relative to the kernel's centre
    dy: int
    cells: tuple[tuple[float, ...], ...]  # 3 rows of 3 weights, top row first

    def negative(self) -> float:
        return min(-sum(min(weight, 0.0) for row in self.cells for weight in row), _HUGE)


def _chunks(kernel: Kernel) -> list[_Chunk]:
    """The kernel cut into 3x3 blocks, zero-padded evenly around it; all-zero blocks dropped."""
    rows, columns = len(kernel), len(kernel[0])
    top, left = (-rows % 3) // 2, (-columns % 3) // 2

    def weight(y: int, x: int) -> float:
        inside = 0 <= y - top < rows and 0 <= x - left < columns
        return float(kernel[y - top][x - left]) if inside else 0.0

    chunks = []
    for y in range(0, rows + (-rows % 3), 3):
        for x in range(0, columns + (-columns % 3), 3):
            cells = tuple(tuple(weight(y + j, x + i) for i in range(3)) for j in range(3))
            if any(any(row) for row in cells):
                dx, dy = x + 1 - left - columns // 2, y + 1 - top - rows // 2
                chunks.append(_Chunk(dx, dy, cells))
    return chunks


class _Encoding(NamedTuple):
    shift: int  # weights are scaled by 2^shift
    offsets: tuple[float, ...]  # each chunk's Kernel offset: its lift, maybe `near` and a carry
    zero: int  # what a sum of exactly 0 adds up to
    near: int  # in bytes: the half-width of the "on an integer" window, in 1/65536ths
    clamps: bool = True  # in bytes: whether sums can fall outside 0..255 (so byte 3 matters)

    @property
    def in_bytes(self) -> bool:
        return self.shift == _FRACTION_BITS


def _lift(chunk: _Chunk, scale: float) -> int:
    # A multiple of 256: exact in single precision up to 2^32, so Kernel adds it exactly.
    return 256 * math.ceil(min(255 * scale * chunk.negative(), _HUGE) / 256)


def _near(chunks: int) -> int:
    """How close to an integer, in 1/65536ths, a sum of `chunks` passes counts as on it. Each
    chunk rounds its sum to an integer: measured flat-area errors reach 12/65536 with 101 chunks
    (blur 150). The window must hold them; any wider costs precision elsewhere."""
    return 2 + math.ceil(1.5 * math.sqrt(chunks))


def _in_bytes(chunks: Sequence[_Chunk]) -> _Encoding | None:
    """16 fraction bits, when the sums fit (weights adding up to less than ~120 in magnitude)."""
    scale = float(1 << _FRACTION_BITS)
    lifts = [_lift(chunk, scale) for chunk in chunks]
    zero = -(-sum(lifts) // _CARRY) * _CARRY  # the lifts rounded up to whole carries
    near = _near(len(chunks))
    positive = min(sum(max(w, 0.0) for c in chunks for row in c.cells for w in row), _HUGE)
    if 255 * scale * positive + zero + near >= _INT32_END:
        return None
    offsets = [float(lift) for lift in lifts]
    offsets[lifts.index(max(lifts))] += zero - sum(lifts)  # a multiple of 256: exact
    offsets[lifts.index(min(lifts))] += near  # exact below 2^24, so on the smallest lift
    clamps = zero > 0 or 255 * scale * positive + near >= _CARRY
    return _Encoding(_FRACTION_BITS, tuple(offsets), zero + near, near, clamps)


def _encoding(chunks: Sequence[_Chunk]) -> _Encoding:
    """In bytes if possible; otherwise as many fraction bits as fit, decoded through mode F
    (weights too large for any result but 0 and 255 to be common)."""
    encoding = _in_bytes(chunks)
    if encoding is not None:
        return encoding
    if len(chunks) == 1:  # nothing to add up: Kernel's own single-precision sum, floored
        return _Encoding(0, (-0.5,), 0, 0)  # (it rounds half up, and clips at 0 and 2^31)
    positive = sum(max(w, 0.0) for c in chunks for row in c.cells for w in row)
    magnitude = min(positive + 2 * sum(chunk.negative() for chunk in chunks), _HUGE)
    shift = math.floor(math.log2(_FLOAT_RANGE / (255 * magnitude)))
    lifts = [_lift(chunk, 2.0**shift) for chunk in chunks]
    return _Encoding(shift, tuple(float(lift) for lift in lifts), sum(lifts), 0)


@functools.lru_cache(maxsize=64)
def _flat_levels(kernel: tuple[tuple[float, ...], ...]) -> list[int] | None:
    """What Thumbor gives where every pixel under the kernel is v, for v = 0..255, when that is
    not v. With normalised weights the double-precision sum lands a hair above or below v,
    depending on v and the weights, and (int) turns "below" into v - 1: the commonest case of a
    sum landing exactly on an integer. None when it never happens for this kernel."""
    levels = []
    for value in range(256):
        total = 0.0
        for row in kernel:
            for weight in row:
                total += value * weight  # _convolution.c's order
        levels.append(value - 1 if value - 1e-6 < total < value else value)
    return None if levels == list(range(256)) else levels


def _chunk_filter(chunk: _Chunk, scale: float, offset: float) -> ImageFilter.Kernel:
    # Kernel's first row weighs the row below the centre: pass the rows bottom first.
    weights = [weight * scale for row in reversed(chunk.cells) for weight in row]
    return ImageFilter.Kernel((3, 3), weights, scale=1, offset=offset)


def _strip(image: Image.Image, pad: int) -> Image.Image:
    """Every band of `image`, edge-padded by `pad`, side by side in one mode L image: a Kernel
    pass then does all bands at once, and the padding keeps each band's reads inside it."""
    padded = _pad_edges(image, pad, pad)
    bands = padded.split()
    strip = Image.new("L", (padded.width * len(bands), padded.height))
    for index, band in enumerate(bands):
        strip.paste(band, (index * padded.width, 0))
    return strip


def _unstrip(
    strip: Image.Image, mode: str, size: tuple[int, int], pad: int, lag: int
) -> Image.Image:
    """The bands of a padded strip (as _strip lays them out) merged back into one image, where
    the strip's pixel i holds the padded pixel i + lag (counting pixels row by row)."""
    width, height = size
    stride = width + 2 * pad
    up, left = divmod(lag, strip.width)
    bands = [
        strip.crop(
            (i * stride + pad - left, pad - up, i * stride + pad - left + width, pad - up + height)
        )
        for i in range(len(mode))
    ]
    return Image.merge(mode, bands)


class _Sums(NamedTuple):
    total: Image.Image  # mode I, over `data`
    data: bytearray  # its int32 pixels
    lag: int  # pixel i of `total` is the correlation around the strip's pixel i + lag


def _int32_bytes(image: Image.Image) -> bytearray:
    """A mode I image's pixels, pasted into a bytearray: one copy in C, where `tobytes()`
    encodes 64 KiB at a time from Python and joins the pieces (two copies)."""
    data = bytearray(4 * image.width * image.height)
    int32.writable(data, image.width, image.height).paste(image)
    return data


def _chunk_sums(
    data: bytes | bytearray,
    size: tuple[int, int],
    chunks: Sequence[_Chunk],
    offsets: Sequence[float],
    scale: float,
) -> _Sums:
    """Every chunk's Kernel pass over a mode I strip of `size` whose pixels are `data`, added
    up into a bytearray, and how far the sums lag behind the strip: pixel i of the result is
    the correlation around the strip's pixel i + lag, counting pixels row by row.

    A chunk centred dx, dy away from the kernel's centre must be read that far away. Instead
    of shifting each pass's result (a copy per chunk), each pass reads the strip's bytes
    from a different start; sums near the ends of rows then wrap into the next row, which
    only ever happens within the padding."""
    width, height = size
    shifts = [chunk.dx + chunk.dy * width for chunk in chunks]
    first, last = min(shifts), max(shifts)
    rows = (width * height - (last - first)) // width
    sums = bytearray(4 * width * rows)
    total = int32.writable(sums, width, rows)
    for index, (chunk, offset, shift) in enumerate(zip(chunks, offsets, shifts, strict=True)):
        checkpoint()  # a pass takes milliseconds; a kernel can have a hundred of them
        term = int32.view(data, width, rows, shift - first)
        term = term.filter(_chunk_filter(chunk, scale, offset))
        if index == 0:
            total.paste(term)
        else:
            int32.add_into(total, term)
    return _Sums(total, sums, -first)


def _quads(sums: _Sums) -> Image.Image:
    """The int32 sums as RGBA, R the least significant byte (B, byte 2, is the integer part in
    16 fraction bits); frombuffer shares the bytes instead of copying them again."""
    order = "RGBA" if sys.byteorder == "little" else "ABGR"
    return Image.frombuffer("RGBA", sums.total.size, sums.data, "raw", order, 0, 1)


def _decode_bytes(sums: _Sums, encoding: _Encoding, flat: list[int] | None) -> Image.Image:
    """Read the int32 sums as four bytes: byte 2 is the truncated level, byte 3 tells sums under
    0 or over 255 apart from the rest, and bytes 0-1 under 2 x near flag sums within near/65536
    of an integer (`near` was added to every sum)."""
    quads = _quads(sums)
    level = quads.getchannel("B")
    if flat is not None:
        on_integer = ImageChops.darker(
            quads.getchannel("G").point(lambda byte: 255 if byte == 0 else 0),
            quads.getchannel("R").point(lambda byte: 255 if byte < 2 * encoding.near else 0),
        )
        level = Image.composite(level.point(flat), level, on_integer)
    if not encoding.clamps:  # blur, for one: weights >= 0 adding up to 1
        return level
    high, in_range = quads.getchannel("A"), encoding.zero >> 24
    lowest, highest = cast(tuple[int, int], high.getextrema())
    if lowest < in_range:  # sums under 0: ADJUST_COLOR gives 0
        level = ImageChops.subtract(level, high.point(lambda b: 255 if b < in_range else 0))
    if highest > in_range:  # sums of 256 or more: 255
        level = ImageChops.add(level, high.point(lambda b: 255 if b > in_range else 0))
    return level


def _decode_float(total: Image.Image, zero: int, shift: int) -> Image.Image:
    # (t - zero) is exact in int32; F -> L truncates and clamps.
    unit = 2.0**-shift
    return band_math(lambda a: a["float"](a["t"] - zero) * unit, t=total).convert("L")


def correlate(image: Image.Image, kernel: Kernel) -> Image.Image:
    """_convolution.c on every band of an L/LA/RGB/RGBA image: sum of weight x pixel over the
    kernel's window (not mirrored), coordinates clamped at the edges, truncated to int and
    clamped to 0..255."""
    chunks = _chunks(kernel)
    if not chunks:  # an all-zero kernel: every sum is 0
        return Image.new(image.mode, image.size, 0)
    encoding = _encoding(chunks)
    # Chunk centres must stay off the strip's 1-pixel border, which Kernel leaves unfiltered,
    # and one more: the reads that wrap past the ends of rows take up a row of their own.
    pad = 2 + max(max(abs(chunk.dx), abs(chunk.dy)) for chunk in chunks)
    strip = _strip(image, pad).convert("I")
    sums = _chunk_sums(
        _int32_bytes(strip), strip.size, chunks, encoding.offsets, 2.0**encoding.shift
    )
    if encoding.in_bytes:
        flat = _flat_levels(tuple(tuple(row) for row in kernel))
        levels = _decode_bytes(sums, encoding, flat)
    else:
        levels = _decode_float(sums.total, encoding.zero, encoding.shift)
    return _unstrip(levels, image.mode, image.size, pad, sums.lag)


# blur() is the commonest user of this engine, and the slowest step of a request that has it, so
# its separable kernel has a path of its own: the same fixed-point sums as correlate(), with less
# work around them.
# - One strip for both passes. The row pass runs over the padding rows too, which repeat the
#   edge rows, so its output is already the edge-padded input of the column pass.
# - The flat-area table goes into the strip instead of being looked up while decoding: level v
#   is stored as v x 65536 + near where Thumbor keeps v on a flat area and v x 65536 - near
#   where it gives v - 1. Gaussian taps are >= 0 and add up to 1, so a flat area sums to
#   exactly that and truncates to Thumbor's answer, every sum stays in 0 .. 2^24, and decoding
#   is taking byte 2. Elsewhere the +-near/65536 moves a sum only where it lies that close to
#   an integer, the case the table is for. Measured against Thumbor's C on an 800x450 photo,
#   five kernels: fewer differing bytes than correlate() on all five (blur(6,2): 360 against
#   508 of 1.08 M), and every flat level right for radii 1 to 150.


def correlate_separable(image: Image.Image, taps: Sequence[float]) -> Image.Image:
    """correlate() with the row of `taps` and then with the column of `taps`, each pass
    truncated to bytes as Thumbor's blur does; the taps must be >= 0 and add up to 1."""
    across, down = _chunks([taps]), _chunks([[tap] for tap in taps])
    near = _near(len(across))
    flat = _flat_levels((tuple(taps),)) or IDENTITY
    stored = [v * (1 << _FRACTION_BITS) + (near if flat[v] == v else -near) for v in range(256)]
    # The column pass reads up to reach + 1 rows past the image (a chunk's outermost cells may
    # be non-zero), and the row pass must have filtered those rows: its reads wrap a row's
    # worth of pixels past the strip's end (see _chunk_sums), and Kernel leaves the outermost
    # rows unfiltered.
    pad = 3 + max(abs(chunk.dx) for chunk in across)
    strip = _strip(image, pad)
    lag = 0  # the strip's pixel i holds the padded image's pixel i + lag
    for chunks in (across, down):
        levels = strip.point(stored, "I")
        sums = _chunk_sums(_int32_bytes(levels), levels.size, chunks, [0.0] * len(chunks), 1.0)
        strip = _quads(sums).getchannel("B")
        lag += sums.lag
    return _unstrip(strip, image.mode, image.size, pad, lag)


def strip_cost(frame: Frame, pad: int, passes: int, per_strip_pixel: int) -> Cost:
    """Correlation in fixed point on an edge-padded strip of all bands: per strip pixel, the
    8-bit strip, its int32 copy and bytes, one pass's result and the running total, the
    decoded bytes (measured 18-22 B for blur, 14 for a 3x3 convolution); then the bands cut
    out of it again. CPU: one Kernel pass a chunk, about 3.5 ns a strip pixel each."""
    strip = frame.bands * (frame.width + 2 * pad) * (frame.height + 2 * pad)
    transient = per_strip_pixel * strip + frame.bands * frame.pixels
    return Cost(frame, transient, strip * (3.5 * passes + 20.0))


# correlation_opencv.py: cv2 and numpy, which the first filter on that path loads when nothing
# has yet (measured: numpy +15 MiB resident and 0.1-0.2 s, then cv2 +16 MiB and 30 ms), then
# three 8-bit copies of the image (blur: its array and both transposes, measured 2 B a
# band-pixel at the peak; convolution: the padded rows and the result) and one strip of float64
# sums, with OpenCV's buffer for it.
_OPENCV_BYTES = 40 * 1024 * 1024
_OPENCV_IMPORT_NS = 0.3e9
OPENCV_STRIP_ROWS = 64  # 1.2 MB of sums for an 800-pixel RGB strip: inside the L2 cache
OPENCV_DIRECT_CELLS = 50  # filter2D's DFT threshold for 8-bit sources and float64 sums


def opencv_cost(frame: Frame, reach: int, cells: int) -> Cost:
    """OpenCV's correlation (correlation_opencv.py) of every band with `cells` weights a pixel
    in all, reaching `reach` pixels out. CPU: measured 0.2-0.3 ns a band-pixel per cell plus
    about 2.5 per pass on the 2-core development machine, doubled here."""
    loaded = "cv2" in sys.modules  # then its import is paid for already
    strip = 2 * 8 * (OPENCV_STRIP_ROWS + 2 * reach) * max(frame.width, frame.height) * frame.bands
    return Cost(
        frame,
        (0 if loaded else _OPENCV_BYTES) + 3 * frame.bands * frame.pixels + strip,
        (0.0 if loaded else _OPENCV_IMPORT_NS) + (10 + 0.6 * cells) * frame.bands * frame.pixels,
    )
