"""sharpen(amount, radius, luminance_only): wavelet sharpening.

Thumbor's _sharpen.c with lib/wavelet_sharpen.c (after Marco Rossini's GIMP plug-in): each
colour band, or with `luminance_only` the luminance (Y of JPEG's YCbCr) alone, is split into five
levels of detail by an a-trous wavelet, and level k is multiplied by 1 + amount x exp(-(k -
radius)^2 / 1.5): `amount` of extra detail centred on level `radius`. Alpha is kept. Here the
wavelet is Pillow's single-precision band maths (`ImageMath` on mode F), as Thumbor's floats;
results are truncated and clamped the way Thumbor's `ADJUST_COLOR` does.

Where numpy is installed, wavelet_numpy.py does the same operations in the same order on bands
of rows that stay in the CPU's cache: the same bytes, 10-15 times faster on a 12-megapixel photo
(docs/performance.md). This Pillow version stays for installs without numpy (the Lambda zip).
"""

from __future__ import annotations

import functools
import math
import sys

from PIL import Image

from ..budget import Cost, Frame
from ..deadline import checkpoint
from .bands import band_math, merge_bands, split_alpha
from .c_arithmetic import f32
from .optional import installed
from .params import Boolean, DecimalNumber
from .registry import CostContext, FilterContext, register


def _mirror_pad_x(band: Image.Image, pad: int) -> Image.Image:
    """`band` extended by `pad` columns each side, mirrored about the edge pixels without
    repeating them (b2 b1 | b0 b1 b2 ... as in hat_transform); it keeps bouncing when pad >=
    width, where Thumbor reads outside its buffer."""
    width, height = band.size
    if width == 1:
        return band.resize((1 + 2 * pad, height), Image.Resampling.NEAREST)
    period = 2 * width - 2
    cycle = Image.new(band.mode, (period, height))
    cycle.paste(band, (0, 0))
    if width > 2:
        cycle.paste(
            band.crop((1, 0, width - 1, height)).transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            (width, 0),
        )
    start = -pad % period
    repeats = -(-(start + width + 2 * pad) // period)
    strip = Image.new(band.mode, (repeats * period, height))
    for index in range(repeats):
        strip.paste(cycle, (index * period, 0))
    return strip.crop((start, 0, start + width + 2 * pad, height))


def _neighbours(band: Image.Image, scale: int, across: bool) -> tuple[Image.Image, Image.Image]:
    """b[i - scale] and b[i + scale] for every column i (across) or row i (down), mirrored at
    the edges."""
    width, height = band.size
    if scale >= (width if across else height) - 1:  # the mirror bounces: the general padding
        if across:
            padded = _mirror_pad_x(band, scale)
            return (
                padded.crop((0, 0, width, height)),
                padded.crop((2 * scale, 0, 2 * scale + width, height)),
            )
        turned = band.transpose(Image.Transpose.TRANSPOSE)
        left, right = _neighbours(turned, scale, True)
        return left.transpose(Image.Transpose.TRANSPOSE), right.transpose(Image.Transpose.TRANSPOSE)
    # One copy each: the band shifted by `scale`, and the `scale` columns (rows) that come in
    # from past the edge, mirrored: b[s - i] before the start, b[2 n - 2 - i - s] past the end.
    # No transposes for the column pass: Pillow copies rows as whole blocks.
    size = width if across else height
    flip = Image.Transpose.FLIP_LEFT_RIGHT if across else Image.Transpose.FLIP_TOP_BOTTOM

    def box(first: int, end: int) -> tuple[int, int, int, int]:
        return (first, 0, end, height) if across else (0, first, width, end)

    def at(offset: int) -> tuple[int, int]:
        return (offset, 0) if across else (0, offset)

    before = Image.new(band.mode, band.size)
    before.paste(band.crop(box(0, size - scale)), at(scale))
    before.paste(band.crop(box(1, scale + 1)).transpose(flip), at(0))
    after = Image.new(band.mode, band.size)
    after.paste(band.crop(box(scale, size)), at(0))
    after.paste(band.crop(box(size - 1 - scale, size - 1)).transpose(flip), at(size - scale))
    return before, after


def _times(band: Image.Image, factor: float) -> Image.Image:
    # Image.point computes x * factor + 0 in double and stores a float: the product of two
    # floats is exact in double, so this is the single-precision multiply, without the
    # constant image that ImageMath would allocate and fill for `factor`. (+0 turns -0 into
    # +0, which no later step can tell apart.)
    return band.point(lambda x: x * factor)


def _hat_pass(band: Image.Image, scale: int, across: bool) -> Image.Image:
    """One pass of the a-trous wavelet along rows (across) or columns: (2 b[i] + b[i - s] +
    b[i + s]) / 4, in that order (2 b[i] as b[i] + b[i], which is exact)."""
    left, right = _neighbours(band, scale, across)
    total = band_math(lambda a: a["c"] + a["c"] + a["l"] + a["r"], c=band, l=left, r=right)
    return _times(total, 0.25)


def _hat(band: Image.Image, scale: int) -> Image.Image:
    return _hat_pass(_hat_pass(band, scale, True), scale, False)


def _scaled_difference(band: Image.Image, smoother: Image.Image, gain: float) -> Image.Image:
    return _times(band_math(lambda a: a["c"] - a["s"], c=band, s=smoother), gain)


def wavelet_sharpen(band: Image.Image, amount: float, radius: float) -> Image.Image:
    """wavelet_sharpen() (after Marco Rossini's GIMP plug-in), on an F band in 0..1: five
    levels of detail, level k multiplied by 1 + amount * exp(-(k - radius)^2 / 1.5)."""
    result: Image.Image | None = None
    current = band
    for level in range(5):
        checkpoint()
        smoother = _hat(current, 1 << level)
        gain = f32(amount * math.exp(-(level - radius) * (level - radius) / f32(1.5)) + 1.0)
        detail = _scaled_difference(current, smoother, gain)
        result = (
            detail if result is None else band_math(lambda a: a["r"] + a["d"], r=result, d=detail)
        )
        current = smoother
    assert result is not None
    return band_math(lambda a: a["r"] + a["c"], r=result, c=current)


def _to_unit(band: Image.Image) -> Image.Image:
    return band_math(lambda a: a["b"] / 255.0, b=band.convert("F"))


def _from_unit(band: Image.Image) -> Image.Image:
    # x 255, then ADJUST_COLOR and the store into a byte: F -> L clamps and truncates.
    return _times(band, 255.0).convert("L")


def _plus(band: Image.Image, constant: float) -> Image.Image:
    # x x 1 + constant in double, stored as a float: a sum of two floats rounded to double and
    # then to float is the single-precision sum (double has more than twice float's digits).
    return band.point(lambda x: x * 1.0 + constant)


def _weighted(
    rgb: tuple[Image.Image, Image.Image, Image.Image], *weights: float
) -> tuple[Image.Image, Image.Image, Image.Image]:
    # The constants in single precision, as the C's 0.2990f... (and ImageMath's constant images).
    r, g, b = (_times(band, f32(w)) for band, w in zip(rgb, weights, strict=True))
    return r, g, b


def _sharpen_luminance(bands: list[Image.Image], amount: float, radius: float) -> list[Image.Image]:
    red, green, blue = (band.convert("F") for band in bands)
    rgb = (red, green, blue)
    # rgb2ycbcr / ycbcr2rgb in lib/colors.c (JPEG's constants, on 0..255 floats), in the C's
    # order: ((r x k1 + g x k2) + b x k3) + 128.
    r, g, b = _weighted(rgb, 0.299, 0.587, 0.114)
    luma = band_math(lambda a: a["r"] + a["g"] + a["b"], r=r, g=g, b=b)
    r, g, b = _weighted(rgb, -0.1687, 0.3313, 0.5)
    cb = _plus(band_math(lambda a: a["r"] - a["g"] + a["b"], r=r, g=g, b=b), 128.0)
    r, g, b = _weighted(rgb, 0.5, 0.4187, 0.0813)
    cr = _plus(band_math(lambda a: a["r"] - a["g"] - a["b"], r=r, g=g, b=b), 128.0)
    del r, g, b, red, green, blue, rgb
    # Only Y is sharpened; Cb and Cr take the same /255, x255 round trip as in the C.
    y = _times(wavelet_sharpen(_to_unit(luma), amount, radius), 255.0)
    cb, cr = (_plus(_times(_to_unit(c), 255.0), -128.0) for c in (cb, cr))
    return [
        band_math(lambda a: a["y"] + a["cr"], y=y, cr=_times(cr, f32(1.402))).convert("L"),
        band_math(
            lambda a: a["y"] - a["cb"] - a["cr"],
            y=y,
            cb=_times(cb, f32(0.34414)),
            cr=_times(cr, f32(0.71414)),
        ).convert("L"),
        band_math(lambda a: a["y"] + a["cb"], y=y, cb=_times(cb, f32(1.772))).convert("L"),
    ]


# wavelet_numpy.py: numpy itself, which the first sharpen() loads (measured +15 MiB resident),
# then four float32 images reused for every band (the band, the sum of details, two smoothing
# levels), the bytes of each band and the bands done: measured 20 B/px besides the input and
# the output on a 12-megapixel photo, with or without luminance_only. CPU: 8-25 ns a pixel for
# each band sharpened on the 2-core development machine (bench/filters.py).
_NUMPY_BYTES = 20 * 1024 * 1024
_NUMPY_IMPORT_NS = 0.25e9  # measured 0.1-0.2 s
_NUMPY_BYTES_PER_PIXEL = 30
_NUMPY_NS_PER_BAND = 25.0


@functools.cache
def has_numpy() -> bool:
    """Whether wavelet_numpy.py can run."""
    return installed("numpy")


# amount only scales the detail; beyond 1e6 any detail saturates, and Thumbor's float gain
# overflows to infinity (then NaN on flat areas) somewhere above 3e38.
def _sharpen_cost(
    frame: Frame, ctx: CostContext, amount: float, radius: float, luminance_only: bool
) -> Cost:
    sharpened = 1 if luminance_only or frame.bands < 3 else 3
    if has_numpy():
        loaded = "numpy" in sys.modules  # then its import is paid for already
        return Cost(
            frame,
            (0 if loaded else _NUMPY_BYTES) + _NUMPY_BYTES_PER_PIXEL * frame.pixels,
            (0.0 if loaded else _NUMPY_IMPORT_NS)
            + (_NUMPY_NS_PER_BAND * sharpened + 10.0) * frame.pixels,
        )
    # The band maths: float bands for five wavelet levels, one colour band at a time, or Y, Cb
    # and Cr (measured 41 B/px, 51 with luminance_only, on a 12-megapixel photo); CPU 80-145 ns
    # a pixel for each band sharpened on the shared 2-core development machine.
    return Cost(frame, 100 * frame.pixels, (150.0 * sharpened + 50.0) * frame.pixels)


@register(
    "sharpen",
    DecimalNumber("amount", clamp=(-1e6, 1e6)),
    DecimalNumber("radius"),
    Boolean("luminance_only"),
    cost=_sharpen_cost,
)
def sharpen(
    image: Image.Image, ctx: FilterContext, amount: float, radius: float, luminance_only: bool
) -> Image.Image:
    """Wavelet sharpening of every colour channel, or of the luminance only: `amount` of extra
    detail, centred on wavelet level `radius`."""
    bands, alpha = split_alpha(image)
    if has_numpy():
        from . import wavelet_numpy  # noqa: PLC0415 - numpy loads with the first sharpen()

        if luminance_only and len(bands) == 3:
            return merge_bands(wavelet_numpy.sharpen_luminance(bands, amount, radius), alpha)
        return merge_bands(wavelet_numpy.sharpen_bands(bands, amount, radius), alpha)
    return merge_bands(sharpen_pillow(bands, amount, radius, luminance_only), alpha)


def sharpen_pillow(
    bands: list[Image.Image], amount: float, radius: float, luminance_only: bool
) -> list[Image.Image]:
    """The colour bands (mode L) sharpened in Pillow's band maths."""
    if luminance_only and len(bands) == 3:
        return _sharpen_luminance(bands, amount, radius)
    # A grey band is its own luminance, so luminance_only changes nothing there.
    return [_from_unit(wavelet_sharpen(_to_unit(band), amount, radius)) for band in bands]
