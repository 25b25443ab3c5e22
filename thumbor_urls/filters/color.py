"""Colour filters: grayscale(), and brightness(), contrast(), rgb() and colorize(), which map each
channel value through a table.

grayscale() is Pillow's conversion to grey levels, as in Thumbor's engine. The other four are C
loops in Thumbor (thumbor/ext/filters/_*.c) over the RGB(A) bytes with C integer semantics:
division truncates toward zero, and every result is clamped to 0..255 (`ADJUST_COLOR`). Their
result depends on one channel value at a time, so each becomes a 256-entry lookup table for
`Image.point()`, built with the same integer arithmetic (c_arithmetic.py): Thumbor's bytes
exactly. Alpha is never touched by these filters, as in Thumbor.
"""

from __future__ import annotations

from PIL import Image

from ..budget import Cost, Frame
from .bands import Lut, map_channels
from .c_arithmetic import clamp8, trunc_div
from .params import Number, PositiveNumber, String
from .registry import CostContext, FilterContext, per_pixel, register


def _grey_cost(frame: Frame, ctx: CostContext) -> Cost:
    return Cost(frame.with_bands(2 if frame.bands in (2, 4) else 1), 0, 3.0 * frame.pixels)


@register("grayscale", cost=_grey_cost)
def grayscale(image: Image.Image, ctx: FilterContext) -> Image.Image:
    """Grey levels only (alpha kept)."""
    return image.convert("LA" if "A" in image.getbands() else "L")


def _shift_table(percent: int) -> Lut:
    # _brightness.c / _rgb.c: delta = (255 * percent) / 100, added, then clamped.
    delta = trunc_div(255 * percent, 100)
    return [clamp8(value + delta) for value in range(256)]


@register("brightness", Number("value", clamp=(-100, 100)), cost=per_pixel(ns=4))
def brightness(image: Image.Image, ctx: FilterContext, value: int) -> Image.Image:
    """Add value% of 255 to every channel (clamped: beyond +-100 every pixel already saturates)."""
    return map_channels(image, _shift_table(value))


# contrast(v): factor = (v + 100)^2 / 100. At factor >= 12800, that is |v + 100| >= 1132, every
# value but 128 already lands on 0 or 255, so clamping v there cannot change a pixel; it also
# keeps us clear of the int overflow Thumbor's C has from |v| > 46240.
@register("contrast", Number("value", clamp=(-1232, 1032)), cost=per_pixel(ns=4))
def contrast(image: Image.Image, ctx: FilterContext, value: int) -> Image.Image:
    """Stretch every channel around 128 by (value + 100)^2 / 100 percent."""
    factor = trunc_div((value + 100) * (value + 100), 100)
    table = [clamp8(trunc_div(factor * (v - 128), 100) + 128) for v in range(256)]
    return map_channels(image, table)


@register(
    "rgb",
    Number("red", clamp=(-100, 100)),
    Number("green", clamp=(-100, 100)),
    Number("blue", clamp=(-100, 100)),
    cost=per_pixel(ns=6, colour=True),
)
def rgb(image: Image.Image, ctx: FilterContext, red: int, green: int, blue: int) -> Image.Image:
    """Add red%, green% and blue% of 255 to each channel."""
    return map_channels(image, _shift_table(red), _shift_table(green), _shift_table(blue))


def _blend_table(percent: int, fill: int) -> Lut:
    # _colorize.c: (pixel * (100 - pct) + fill * pct) / 100.0, truncated, clamped. Exact in
    # integers: the double quotient of two small integers never straddles an integer.
    return [clamp8(trunc_div(v * (100 - percent) + fill * percent, 100)) for v in range(256)]


# Percentages above 25600 move any channel that differs from the fill by >= 1 level by >= 256
# levels, so they give the same pixels as 25600.
@register(
    "colorize",
    PositiveNumber("red_pct", clamp=(0, 25600)),
    PositiveNumber("green_pct", clamp=(0, 25600)),
    PositiveNumber("blue_pct", clamp=(0, 25600)),
    # Thumbor reads it with bytearray.fromhex() into exactly three bytes; anything else is an
    # exception there (a 500), refused here.
    String("fill", r"[0-9a-fA-F]{6}"),
    cost=per_pixel(ns=6, colour=True),
)
def colorize(
    image: Image.Image, ctx: FilterContext, red: int, green: int, blue: int, fill: str
) -> Image.Image:
    """Blend each channel toward the fill colour (hex RRGGBB) by its percentage."""
    fill_red, fill_green, fill_blue = bytes.fromhex(fill)
    return map_channels(
        image,
        _blend_table(red, fill_red),
        _blend_table(green, fill_green),
        _blend_table(blue, fill_blue),
    )
