"""Neighbourhood filters: blur, sharpen, convolution, and noise.

Thumbor runs these as C loops (thumbor/ext/filters/_convolution.c, _sharpen.c with
lib/wavelet_sharpen.c, _noise.c). Pillow's own kernels stop at 5x5, round instead of truncating
and leave the border unfiltered, so neither is used as is; never a Python loop over pixels
either. blur and convolution add up 3x3 Kernel passes in fixed point over an edge-padded strip
of all bands (see "Correlation in fixed point"); sharpen is Pillow's single-precision band maths
(`ImageMath` on mode F). Results are truncated and clamped the way Thumbor's
`ADJUST_COLOR((int)sum)` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from PIL import Image

from ..budget import Cost, Frame
from ..deadline import checkpoint
from ..errors import InvalidFilterArgument
from .bands import band_math, merge_bands, normalise, split_alpha
from .c_arithmetic import INT_MAX, f32
from .color import POSITIVE_NONZERO_NUMBER, POSITIVE_NUMBER, boolean, decimal, whole
from .correlation import Kernel, correlate, correlate_separable, strip_cost
from .registry import REGISTRY, CostContext, FilterContext, FilterSpec, Param, Phase, register


def _convolve_frame(image: Image.Image, kernels: Sequence[Kernel]) -> Image.Image:
    """Apply the kernels one after the other to every band, alpha included: Thumbor's
    convolution adds up the alpha channel too (`num_bytes > 3`)."""
    image = normalise(image)
    for kernel in kernels:
        image = correlate(image, kernel)
    return image


# --- blur --------------------------------------------------------------------------------------

MAX_BLUR_RADIUS = 150  # Thumbor's MAX_RADIUS (thumbor/filters/blur.py)
# Above this sigma the 301 weights differ by less than single precision can see (exp(-150^2 /
# 2e12) = 1 - 1e-8), so clamping changes nothing; it also avoids Thumbor's overflow, where
# 2 * sigma^2 becomes infinite (sigma > ~1e154) and every weight 0: a black, transparent frame.
_MAX_SIGMA = 1e6


def gaussian_taps(radius: int, sigma: float) -> list[float]:
    """blur.py's generate_1d_matrix, then _convolution.c's normalisation (divide by the sum)."""
    two_sigma_squared = float(2 * sigma * sigma)
    if two_sigma_squared == 0.0:
        # |sigma| < 1e-154: Thumbor divides by zero (a 500). The limit is a single 1 tap.
        return [0.0] * radius + [1.0] + [0.0] * radius
    taps = [
        math.e ** -((x * x) / two_sigma_squared) / math.sqrt(two_sigma_squared * math.pi)
        for x in range(-radius, radius + 1)
    ]
    total = sum(taps)
    return [tap / total for tap in taps] if total != 0.0 else taps


def _blur_cost(frame: Frame, ctx: CostContext, radius: int, sigma: float) -> Cost:
    taps = 2 * min(radius, MAX_BLUR_RADIUS) + 1
    chunks = -(-taps // 3)
    return strip_cost(frame, 3 + (taps // 2), 2 * chunks, 24)


@register(
    "blur",
    # Any radius is accepted as in Thumbor, where it also sets the default sigma; the kernel
    # itself stops at MAX_BLUR_RADIUS. Radii above _MAX_SIGMA give the same pixels as it.
    whole("radius", POSITIVE_NONZERO_NUMBER, clamp=(1, _MAX_SIGMA)),
    decimal("sigma", clamp=(-_MAX_SIGMA, _MAX_SIGMA), default=0.0),
    cost=_blur_cost,
)
def blur(image: Image.Image, ctx: FilterContext, radius: int, sigma: float) -> Image.Image:
    """Gaussian blur with a (2r+1)-tap kernel, r <= 150; sigma defaults to the radius."""
    taps = gaussian_taps(min(radius, MAX_BLUR_RADIUS), sigma or float(radius))
    # Separable, like Thumbor: a row pass then a column pass, each truncated to bytes.
    return correlate_separable(normalise(image), taps)


# --- convolution -------------------------------------------------------------------------------

# Each non-zero cell costs one multiply-add pass over every band of the frame, and Thumbor sets
# no limit at all. 225 cells allows every conventional kernel (3x3 up to 15x15, and 1-D kernels
# up to 225 taps) while capping the work at about a third of a maximal blur (2 x 301 passes).
MAX_KERNEL_CELLS = 225

_MATRIX = r"-?\d+(?:\.\d*)?(?:;-?\d+(?:\.\d*)?)*"  # convolution.py's own expression


def _parse_matrix(text: str) -> tuple[float, ...]:
    if not re.fullmatch(_MATRIX, text):
        raise ValueError(f"expected numbers separated by ';', got {text!r}")
    cells = tuple(float(cell) for cell in text.split(";"))
    if not all(math.isfinite(cell) for cell in cells):  # 309 digits or more: Thumbor's C gives NaN
        raise ValueError("cells must be finite numbers")
    if len(cells) > MAX_KERNEL_CELLS:
        raise ValueError(f"at most {MAX_KERNEL_CELLS} cells, got {len(cells)}")
    return cells


class _ConvolutionSpec(FilterSpec):
    """The matrix and its column count are only valid together, which the per-parameter
    parsers cannot see; this checks them at parse time so a bad kernel is skipped like any bad
    argument (Thumbor's C returns NULL without an exception: a 500)."""

    __slots__ = ()

    def bind(self, raw_args: Sequence[str]) -> tuple[Any, ...]:
        cells, columns, normalize = super().bind(raw_args)
        if len(cells) % columns or len(cells) % 2 == 0:
            raise InvalidFilterArgument(
                f"convolution(): {len(cells)} cells do not make a kernel of {columns} columns "
                "with an odd number of rows and columns"
            )
        return cells, columns, normalize


def kernel_rows(cells: Sequence[float], columns: int, normalize: bool) -> list[list[float]]:
    """normalize_kernel() in _convolution.c: divide by the sum unless it is 0."""
    total = sum(cells)
    if normalize and total != 0.0:
        cells = [cell / total for cell in cells]
    return [list(cells[start : start + columns]) for start in range(0, len(cells), columns)]


def convolution(
    image: Image.Image, ctx: FilterContext, cells: tuple[float, ...], columns: int, normalize: bool
) -> Image.Image:
    """Correlate every band (alpha included) with an odd-sized kernel given row by row."""
    return _convolve_frame(image, (kernel_rows(cells, columns, normalize),))


def _convolution_cost(
    frame: Frame, ctx: CostContext, cells: tuple[float, ...], columns: int, normalize: bool
) -> Cost:
    rows = len(cells) // columns
    chunks = -(-rows // 3) * -(-columns // 3)
    return strip_cost(frame, 3 + max(rows, columns) // 2, chunks, 26)


# Registered by hand: `register()` makes a plain FilterSpec, and this one checks its arguments
# together (see _ConvolutionSpec).
REGISTRY.add(
    _ConvolutionSpec(
        "convolution",
        (
            Param("matrix", "m1;m2;...", _parse_matrix),
            whole("columns", POSITIVE_NONZERO_NUMBER, refuse=(1, MAX_KERNEL_CELLS)),
            boolean("normalize", default=True),
        ),
        Phase.POST_TRANSFORM,
        convolution,
        "Correlate every band (alpha included) with an odd-sized kernel given row by row.",
        _convolution_cost,
    )
)


# --- sharpen -----------------------------------------------------------------------------------


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


def _hat_x(band: Image.Image, scale: int) -> Image.Image:
    """One row pass of the a-trous wavelet: (2 b[i] + b[i - s] + b[i + s]) / 4."""
    width, height = band.size
    padded = _mirror_pad_x(band, scale)
    left = padded.crop((0, 0, width, height))
    right = padded.crop((2 * scale, 0, 2 * scale + width, height))
    return band_math(lambda a: (a["c"] * 2.0 + a["l"] + a["r"]) * 0.25, c=band, l=left, r=right)


def _hat(band: Image.Image, scale: int) -> Image.Image:
    rows_done = _hat_x(band, scale)
    transposed = rows_done.transpose(Image.Transpose.TRANSPOSE)
    return _hat_x(transposed, scale).transpose(Image.Transpose.TRANSPOSE)


def _scaled_difference(band: Image.Image, smoother: Image.Image, gain: float) -> Image.Image:
    return band_math(lambda a: (a["c"] - a["s"]) * gain, c=band, s=smoother)


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
    return band_math(lambda a: a["b"] * 255.0, b=band).convert("L")


def _sharpen_luminance(bands: list[Image.Image], amount: float, radius: float) -> list[Image.Image]:
    red, green, blue = (band.convert("F") for band in bands)
    # rgb2ycbcr / ycbcr2rgb in lib/colors.c (JPEG's constants, on 0..255 floats).
    luma = band_math(
        lambda a: a["r"] * 0.299 + a["g"] * 0.587 + a["b"] * 0.114, r=red, g=green, b=blue
    )
    cb = band_math(
        lambda a: a["r"] * -0.1687 - a["g"] * 0.3313 + a["b"] * 0.5 + 128.0, r=red, g=green, b=blue
    )
    cr = band_math(
        lambda a: a["r"] * 0.5 - a["g"] * 0.4187 - a["b"] * 0.0813 + 128.0, r=red, g=green, b=blue
    )
    # Only Y is sharpened; Cb and Cr take the same /255, x255 round trip as in the C.
    y = band_math(lambda a: a["b"] * 255.0, b=wavelet_sharpen(_to_unit(luma), amount, radius))
    cb, cr = (band_math(lambda a: a["b"] * 255.0, b=_to_unit(c)) for c in (cb, cr))
    return [
        band_math(lambda a: a["y"] + (a["cr"] - 128.0) * 1.402, y=y, cr=cr).convert("L"),
        band_math(
            lambda a: a["y"] - (a["cb"] - 128.0) * 0.34414 - (a["cr"] - 128.0) * 0.71414,
            y=y,
            cb=cb,
            cr=cr,
        ).convert("L"),
        band_math(lambda a: a["y"] + (a["cb"] - 128.0) * 1.772, y=y, cb=cb).convert("L"),
    ]


# amount only scales the detail; beyond 1e6 any detail saturates, and Thumbor's float gain
# overflows to infinity (then NaN on flat areas) somewhere above 3e38.
def _sharpen_cost(
    frame: Frame, ctx: CostContext, amount: float, radius: float, luminance_only: bool
) -> Cost:
    # Float bands for five wavelet levels, one colour band at a time, or Y, Cb and Cr
    # (measured 57-88 B/px); CPU 160-180 ns a pixel for each band sharpened.
    sharpened = 1 if luminance_only or frame.bands < 3 else 3
    return Cost(frame, 100 * frame.pixels, (200.0 * sharpened + 50.0) * frame.pixels)


@register(
    "sharpen",
    decimal("amount", clamp=(-1e6, 1e6)),
    decimal("radius"),
    boolean("luminance_only"),
    cost=_sharpen_cost,
)
def sharpen(
    image: Image.Image, ctx: FilterContext, amount: float, radius: float, luminance_only: bool
) -> Image.Image:
    """Wavelet sharpening: `amount` of extra detail, centred on wavelet level `radius`."""
    bands, alpha = split_alpha(image)
    if luminance_only and len(bands) == 3:
        return merge_bands(_sharpen_luminance(bands, amount, radius), alpha)
    # A grey band is its own luminance, so luminance_only changes nothing there.
    sharpened = [_from_unit(wavelet_sharpen(_to_unit(band), amount, radius)) for band in bands]
    return merge_bands(sharpened, alpha)


# --- noise -------------------------------------------------------------------------------------


@register(
    "noise",
    # Thumbor passes both through PyArg "i": larger values are a 500 there.
    whole("amount", POSITIVE_NUMBER, refuse=(0, INT_MAX)),
    whole("seed", POSITIVE_NUMBER, refuse=(0, INT_MAX), default=0),
    # Random bytes, their int32 image, the offsets, and each band in int32 (measured 21 B/px).
    cost=lambda frame, ctx, amount, seed: Cost(frame, 24 * frame.pixels, 40.0 * frame.pixels),
)
def noise(image: Image.Image, ctx: FilterContext, amount: int, seed: int) -> Image.Image:
    """Add the same random offset in [-amount/2, amount/2) to R, G and B of each pixel.

    Thumbor draws `random() % amount - amount / 2` from the C library, re-seeded with `seed`
    on every frame when seed > 0. We draw from Python's Mersenne Twister (31 bits a pixel, the
    range of random()), so a seed gives the same picture on every request and every frame,
    with the same distribution as Thumbor's, but not Thumbor's exact pixels.
    """
    if amount <= 1:  # random() % 1 - 0 is always 0; amount 0 is skipped by Thumbor
        return image
    bands, alpha = split_alpha(image)
    import random  # noqa: PLC0415 - noise() only; 1-2 ms of every cold start otherwise

    # Picture noise, not secrets: a seedable generator is the point.
    rng = random.Random(seed) if seed > 0 else random.Random()  # noqa: S311
    raw = Image.frombytes("I", bands[0].size, rng.randbytes(4 * bands[0].width * bands[0].height))
    half = amount >> 1
    offsets = band_math(lambda a: (a["n"] & INT_MAX) % amount - half, n=raw)
    # In int32 mode, so nothing wraps; converting I to L clamps to 0..255 (ADJUST_COLOR).
    noisy = [band_math(lambda a: a["b"] + a["n"], b=band, n=offsets).convert("L") for band in bands]
    return merge_bands(noisy, alpha)
