"""round_corner(a|b, r, g, b [, transparent]): round the corners with elliptical radii a
(horizontal) and b (vertical, a when not given), painting outside them in the colour r, g, b, or
making it transparent.

Thumbor draws hard-edged runs with a linear colour ramp; ours is the ellipse, antialiased (a
mask drawn four times larger, then reduced): the corners cover the same areas within a few
percent, with smoother edges. The colour
replaces R, G and B only: what was transparent stays transparent.
"""

from __future__ import annotations

import re

from PIL import Image, ImageChops

from .params import Boolean, Param, PositiveNumber
from .registry import FilterContext, per_pixel, register


def _round_corner_radii(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)(?:\|(\d+))?", text)
    if not match:
        raise ValueError(f"expected a radius `a` or `a|b`, got {text!r}")
    horizontal = int(match.group(1))
    return horizontal, int(match.group(2) or horizontal)


# The rounded mask is drawn this many times larger, then reduced: that is the antialiasing.
_SUPERSAMPLE = 4


@register(
    "round_corner",
    Param("radius", "a|b", _round_corner_radii),
    PositiveNumber("red", refuse=(0, 255)),
    PositiveNumber("green", refuse=(0, 255)),
    PositiveNumber("blue", refuse=(0, 255)),
    Boolean("transparent", default=False),
    # A mask drawn at 4x4 the size, its reduction, and three RGB(A) copies (measured 33 B/px).
    cost=per_pixel(32, 30, colour=True),
)
def round_corner(
    image: Image.Image,
    ctx: FilterContext,
    radius: tuple[int, int],
    red: int,
    green: int,
    blue: int,
    transparent: bool,
) -> Image.Image:
    """Round the corners with elliptical radii `a|b`, painting outside them in a colour (or
    making it transparent)."""
    width, height = image.size
    a = min(radius[0], width // 2)
    b = min(radius[1], height // 2)
    if a <= 0 or b <= 0:
        return image
    scale = _SUPERSAMPLE
    mask = Image.new("L", (width * scale, height * scale), 255)
    # ImageDraw (and the ImageFont it imports) costs ~6 ms of every cold start otherwise.
    from PIL import ImageDraw  # noqa: PLC0415

    draw = ImageDraw.Draw(mask)
    corner_w, corner_h = a * scale, b * scale
    for x, y in ((0, 0), (width * scale - corner_w, 0), (0, height * scale - corner_h),
                 (width * scale - corner_w, height * scale - corner_h)):  # fmt: skip
        draw.rectangle((x, y, x + corner_w - 1, y + corner_h - 1), fill=0)
    for x, y in ((0, 0), (width * scale - 2 * corner_w, 0), (0, height * scale - 2 * corner_h),
                 (width * scale - 2 * corner_w, height * scale - 2 * corner_h)):  # fmt: skip
        draw.ellipse((x, y, x + 2 * corner_w - 1, y + 2 * corner_h - 1), fill=255)
    mask = mask.reduce(scale)
    if transparent:
        # The corners fade out; their colour stays the picture's, so none of it can show.
        rgba = image.convert("RGBA")
        rgba.putalpha(ImageChops.multiply(rgba.getchannel("A"), mask))
        return rgba
    # The colour replaces R, G and B only: what was transparent stays transparent.
    has_alpha = "A" in image.getbands()
    base = image.convert("RGBA" if has_alpha else "RGB")
    rgb = base.convert("RGB")
    painted = Image.composite(rgb, Image.new("RGB", image.size, (red, green, blue)), mask)
    if has_alpha:
        painted.putalpha(base.getchannel("A"))
    return painted
