"""blur(radius [, sigma]): Gaussian blur of every band, alpha included.

The kernel has 2 x radius + 1 taps, radius at most 150 (Thumbor's MAX_RADIUS; a larger radius
is accepted and still sets the default sigma); sigma defaults to the radius. As in Thumbor
(thumbor/filters/blur.py, then _convolution.c), the taps are normalised to add up to 1 and the
kernel runs as a row pass then a column pass, each truncated to bytes with the edges clamped;
here both passes are OpenCV's row filter where it is installed (correlation_opencv.py:
Thumbor's very bytes), and elsewhere the fixed-point engine of correlation.py, which gives
Thumbor's bytes except for the rare sums that land within a hair of an integer.
"""

from __future__ import annotations

import math

from PIL import Image

from ..budget import Cost, Frame
from .bands import normalise
from .c_arithmetic import c_sum
from .correlation import OPENCV_STRIP_ROWS, correlate_separable, opencv_cost, strip_cost
from .optional import has_opencv, opencv_correlation
from .params import DecimalNumber, PositiveNonZeroNumber
from .registry import CostContext, FilterContext, register

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
    total = c_sum(taps)  # _convolution.c's normalize_kernel: in order, uncompensated
    return [tap / total for tap in taps] if total != 0.0 else taps


def _blur_cost(frame: Frame, ctx: CostContext, radius: int, sigma: float) -> Cost:
    taps = 2 * min(radius, MAX_BLUR_RADIUS) + 1
    if has_opencv():
        return opencv_cost(frame, taps // 2, 2 * taps)
    chunks = -(-taps // 3)
    return strip_cost(frame, 3 + (taps // 2), 2 * chunks, 24)


@register(
    "blur",
    # Any radius is accepted as in Thumbor, where it also sets the default sigma; the kernel
    # itself stops at MAX_BLUR_RADIUS. Radii above _MAX_SIGMA give the same pixels as it.
    PositiveNonZeroNumber("radius", clamp=(1, _MAX_SIGMA)),
    DecimalNumber("sigma", clamp=(-_MAX_SIGMA, _MAX_SIGMA), default=0.0),
    cost=_blur_cost,
)
def blur(image: Image.Image, ctx: FilterContext, radius: int, sigma: float) -> Image.Image:
    """Gaussian blur of every band, alpha included, with a (2 x radius + 1)-tap kernel, radius
    at most 150; sigma defaults to the radius."""
    taps = gaussian_taps(min(radius, MAX_BLUR_RADIUS), sigma or float(radius))
    # Separable, like Thumbor: a row pass then a column pass, each truncated to bytes.
    opencv = opencv_correlation() if has_opencv() else None
    if opencv is not None:
        blurred: Image.Image = opencv.correlate_separable(normalise(image), taps, OPENCV_STRIP_ROWS)
        return blurred
    return correlate_separable(normalise(image), taps)
