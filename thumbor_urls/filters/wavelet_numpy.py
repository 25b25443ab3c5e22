"""sharpen()'s wavelet in numpy, band of rows by band of rows: the same single-precision
operations, in the same order, as sharpen.py's Pillow band maths (and Thumbor's C), so the same
bytes (tests/test_sharpen_numpy.py compares the two).

Why numpy: the Pillow version makes a whole-image F band per operation (about 13 per level,
5 levels, 3 bands), each a trip through memory, plus mirrored copies and transposes: 5-9 s on
12 megapixels. Here each level runs over bands of rows that stay in the CPU's cache (the row
pass, the column pass and the detail of 30-odd rows at a time), and numpy drops the GIL inside
each operation: measured in bench/filters.py and docs/performance.md.

Imported only by sharpen() when numpy is installed (importing it costs ~15 MiB and ~0.1 s), so a
Pillow-only install never loads it.

Single precision, as Thumbor's `float`: a float32 + - x / rounds once, like C's on floats, and
numpy's ufuncs never contract a multiply and an add into one fused operation.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy
from numpy.typing import NDArray
from PIL import Image

from ..deadline import checkpoint
from .c_arithmetic import f32

Floats = NDArray[numpy.float32]
Bytes = NDArray[numpy.uint8]

LEVELS = 5
# Each level works on this many values at a time (rows of the image, at least 8): 0.5 MiB of
# float32, so a band of rows and the row pass's result stay in a 1 MiB L2 cache. Measured on the
# 12-megapixel photo, x a GaussianBlur(2) of it, medians of 5 interleaved rounds: 2^14 values
# 1.34, 2^15 1.32, 2^16 1.01, 2^17 0.94, 2^18 0.93.
_BAND_VALUES = 1 << 17

_TWO = numpy.float32(2.0)
_QUARTER = numpy.float32(0.25)
_BYTE = numpy.float32(255.0)
_HALF_RANGE = numpy.float32(128.0)


def _mirror(indices: NDArray[numpy.int64], size: int) -> NDArray[numpy.int64]:
    """Indices reflected about the first and last element without repeating them, bouncing on
    when they reach past the other end (hat_transform's b2 b1 | b0 b1 b2; sharpen.py's
    _mirror_pad_x does the same for widths smaller than the scale)."""
    if size == 1:
        return numpy.zeros_like(indices)
    period = 2 * size - 2
    folded = numpy.mod(indices, period)
    return numpy.where(folded >= size, period - folded, folded)


def _rows(first: int, last: int, height: int) -> slice | NDArray[numpy.int64]:
    """Rows first..last - 1, those outside the image mirrored in."""
    if first >= 0 and last <= height:
        return slice(first, last)
    return _mirror(numpy.arange(first, last), height)


def _band_rows(width: int) -> int:
    return max(8, _BAND_VALUES // max(width, 1))


class Buffers(NamedTuple):
    """The whole-band float32 images the wavelet writes: the sum of details and two smoothing
    levels taking turns, as the C's fimg[0..2]. One set serves every band of an image: above
    32 MiB (glibc's largest mmap threshold, allocator.py) each new array would be fresh pages
    that the kernel zeroes on first touch, 8 of them a band (measured 0.92 s for the three
    bands of the 12-megapixel photo against 0.2 s for one band with buffers made once)."""

    result: Floats
    smoothers: tuple[Floats, Floats]

    @classmethod
    def like(cls, band: Floats) -> Buffers:
        return cls(numpy.empty_like(band), (numpy.empty_like(band), numpy.empty_like(band)))


def wavelet_sharpen(
    band: Floats, amount: float, radius: float, buffers: Buffers | None = None
) -> Floats:
    """sharpen.wavelet_sharpen() on a float32 band in 0..1: five levels of detail from the
    a-trous hat transform, level k multiplied by 1 + amount x exp(-(k - radius)^2 / 1.5).
    `band` is not changed; the result is `buffers.result`."""
    height, width = band.shape
    step = _band_rows(width)
    buffers = buffers or Buffers.like(band)
    result = buffers.result
    current = band
    for level in range(LEVELS):
        checkpoint()
        scale = 1 << level
        gain = numpy.float32(
            f32(amount * math.exp(-(level - radius) * (level - radius) / f32(1.5)) + 1.0)
        )
        smoother = buffers.smoothers[level % 2]  # `current` is the other one (or `band`)
        left = _mirror(numpy.arange(-scale, 0), width)
        right = _mirror(numpy.arange(width, width + scale), width)
        # A padded copy only for frames narrower than the scale (see below).
        padded_width = width + 2 * scale if scale >= width else 0
        padded = numpy.empty((step + 2 * scale, padded_width), numpy.float32)
        across = numpy.empty((step + 2 * scale, width), numpy.float32)
        detail = numpy.empty((step, width), numpy.float32)
        for top in range(0, height, step):
            count = min(step, height - top)
            span = count + 2 * scale
            # The row pass over the band's rows and `scale` rows each side (mirrored at the
            # image's edges), which the column pass reads: (2 b[i] + b[i - s] + b[i + s]) / 4
            # in that order, as hat_transform.
            source = current[_rows(top - scale, top + count + scale, height)]
            done = across[:span]
            numpy.multiply(source, _TWO, out=done)
            if scale < width:
                # b[i - s], then b[i + s], each from the band itself where it is inside, from
                # its mirror image near the edges (every element gets its left neighbour
                # before its right one, so the order of the sums is the C's).
                done[:, scale:] += source[:, : width - scale]
                done[:, :scale] += source[:, left]
                done[:, : width - scale] += source[:, scale:]
                done[:, width - scale :] += source[:, right]
            else:  # narrower than the scale: the mirror bounces, pad it out
                rows = padded[:span]
                rows[:, scale : scale + width] = source
                rows[:, :scale] = source[:, left]
                rows[:, scale + width :] = source[:, right]
                done += rows[:, :width]
                done += rows[:, 2 * scale : 2 * scale + width]
            done *= _QUARTER
            # The column pass, into this level's smoother image.
            smooth = smoother[top : top + count]
            numpy.multiply(done[scale : scale + count], _TWO, out=smooth)
            smooth += done[:count]
            smooth += done[2 * scale : 2 * scale + count]
            smooth *= _QUARTER
            # The detail (current - smoother) x gain, added up over the levels.
            total = result[top : top + count]
            if level == 0:
                numpy.subtract(current[top : top + count], smooth, out=total)
                total *= gain
            else:
                part = detail[:count]
                numpy.subtract(current[top : top + count], smooth, out=part)
                part *= gain
                total += part
        current = smoother
    result += current
    return result


def _to_bytes(values: Floats) -> Bytes:
    # F -> L in Pillow (and ADJUST_COLOR, then the store into a byte, in the C): clamped to
    # 0..255 and truncated. The values are finite (amount is clamped to 1e6). Clamped in place.
    numpy.clip(values, 0.0, 255.0, out=values)
    return values.astype(numpy.uint8)


def _from_bytes(band: Image.Image) -> Bytes:
    return numpy.asarray(band, dtype=numpy.uint8)


def _image(values: Bytes) -> Image.Image:
    return Image.fromarray(values, "L")


def sharpen_bands(bands: list[Image.Image], amount: float, radius: float) -> list[Image.Image]:
    """Every band (mode L) sharpened on its own: x / 255, the wavelet, x 255, to bytes."""
    out: list[Image.Image] = []
    unit = numpy.empty((bands[0].height, bands[0].width), numpy.float32)
    buffers = Buffers.like(unit)
    for band in bands:
        numpy.copyto(unit, _from_bytes(band))
        unit /= _BYTE
        sharpened = wavelet_sharpen(unit, amount, radius, buffers)
        sharpened *= _BYTE
        out.append(_image(_to_bytes(sharpened)))
    return out


def _rows_of(
    bands: tuple[Bytes, Bytes, Bytes], top: int, end: int
) -> tuple[Floats, Floats, Floats]:
    red, green, blue = (band[top:end].astype(numpy.float32) for band in bands)
    return red, green, blue


def sharpen_luminance(bands: list[Image.Image], amount: float, radius: float) -> list[Image.Image]:
    """Y of JPEG's YCbCr sharpened, R G B rebuilt from it and the untouched Cb and Cr, all in
    single precision as lib/colors.c (sharpen.py's _sharpen_luminance step for step). Cb and
    Cr are computed again, band of rows by band of rows, at the end instead of being kept as
    whole float images through the wavelet."""
    rgb = (_from_bytes(bands[0]), _from_bytes(bands[1]), _from_bytes(bands[2]))
    height, width = rgb[0].shape
    step = _band_rows(width)
    f = numpy.float32
    luma = numpy.empty((height, width), numpy.float32)
    for top in range(0, height, step):
        r, g, b = _rows_of(rgb, top, top + step)
        y = r * f(0.299)
        y += g * f(0.587)
        y += b * f(0.114)
        y /= _BYTE
        luma[top : top + step] = y
    sharpened = wavelet_sharpen(luma, amount, radius)
    del luma
    out = [numpy.empty((height, width), numpy.uint8) for _ in range(3)]
    for top in range(0, height, step):
        rows = slice(top, top + step)
        r, g, b = _rows_of(rgb, top, top + step)
        # ((r x -0.1687 - g x 0.3313) + b x 0.5) + 128, then the /255, x255 round trip.
        cb = r * f(-0.1687)
        cb -= g * f(0.3313)
        cb += b * f(0.5)
        cb += _HALF_RANGE
        cb /= _BYTE
        cb *= _BYTE
        cb -= _HALF_RANGE
        cr = r * f(0.5)
        cr -= g * f(0.4187)
        cr -= b * f(0.0813)
        cr += _HALF_RANGE
        cr /= _BYTE
        cr *= _BYTE
        cr -= _HALF_RANGE
        y = sharpened[rows] * _BYTE
        out[0][rows] = _to_bytes(y + cr * f(1.402))
        green_out = y - cb * f(0.34414)
        green_out -= cr * f(0.71414)
        out[1][rows] = _to_bytes(green_out)
        out[2][rows] = _to_bytes(y + cb * f(1.772))
    return [_image(values) for values in out]
