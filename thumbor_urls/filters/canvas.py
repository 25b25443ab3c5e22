"""Filters that turn or scale the result after the transform: rotate() and proportion().

rotate(angle) turns counter-clockwise by a multiple of 90 degrees; Thumbor ignores any other
angle, and so do we. proportion(ratio) scales the result by a ratio in (0, 1] with LANCZOS;
Thumbor ignores other ratios, and so do we.
"""

from __future__ import annotations

from PIL import Image

from ..budget import Cost, Frame
from .params import DecimalNumber, Number
from .registry import CostContext, FilterContext, register

_ROTATIONS = {
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


def _rotate_cost(frame: Frame, ctx: CostContext, angle: int) -> Cost:
    turned = angle % 180 == 90
    out = frame.sized(frame.height, frame.width) if turned else frame
    return Cost(out, 0, 5.0 * frame.pixels)


@register("rotate", Number("angle"), cost=_rotate_cost)
def rotate(image: Image.Image, ctx: FilterContext, angle: int) -> Image.Image:
    """Rotate counter-clockwise by a multiple of 90 degrees (others are ignored, as in Thumbor)."""
    if angle % 90:
        return image
    method = _ROTATIONS.get(angle % 360)
    return image.transpose(method) if method is not None else image


def _proportion_cost(frame: Frame, ctx: CostContext, ratio: float) -> Cost:
    if not 0 < ratio <= 1:
        return Cost(frame, 0, 0.0)
    out = frame.sized(int(frame.width * ratio), int(frame.height * ratio))
    # The resampler's horizontal pass: the new width, the old height.
    return Cost(out, 4 * out.width * frame.height, 15.0 * frame.pixels)


@register("proportion", DecimalNumber("ratio"), cost=_proportion_cost)
def proportion(image: Image.Image, ctx: FilterContext, ratio: float) -> Image.Image:
    """Scale the result by a ratio in (0, 1]; other values are ignored, as in Thumbor."""
    if ratio <= 0 or ratio > 1.0:
        return image
    width, height = int(image.width * ratio), int(image.height * ratio)
    if width < 1 or height < 1:
        return image
    return image.resize((width, height), Image.Resampling.LANCZOS)
