"""Colour filters.

Thumbor's pixel filters are C loops (thumbor/ext/filters/_*.c) over the RGB(A) bytes with C
integer semantics: division truncates toward zero, and every result is clamped to 0..255
(`ADJUST_COLOR`). Filters whose result depends on one channel value at a time become 256-entry
lookup tables for `Image.point()`, built here with the same integer arithmetic
(c_arithmetic.py), so they give Thumbor's bytes exactly. Alpha is never touched by these
filters, as in Thumbor.

Parameters use Thumbor's own regular expressions (`BaseFilter.Number` and friends), so a value
Thumbor would skip is skipped here too (or refused under STRICT_FILTERS).
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from ..budget import Cost, Frame
from .bands import Lut, band_math, map_channels, merge_bands, normalise, split_alpha
from .c_arithmetic import clamp8, f32, trunc_div
from .params import DecimalNumber, Number, PositiveNumber, String
from .registry import CostContext, FilterContext, per_pixel, register


# --- Filters --------------------------------------------------------------------------------
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


# Thumbor's C overflows float->int conversion (undefined behaviour) long before this; at 1e6
# every pixel that is not exactly grey already saturates.
def _saturation_cost(frame: Frame, ctx: CostContext, change: float) -> Cost:
    # Three float bands, their perceived brightness and three changed ones (measured 40 B/px).
    transient = 44 * frame.pixels if frame.bands >= 3 else 0
    return Cost(frame, transient, 60.0 * frame.pixels)


@register("saturation", DecimalNumber("change", clamp=(-1e6, 1e6)), cost=_saturation_cost)
def saturation(image: Image.Image, ctx: FilterContext, change: float) -> Image.Image:
    """Scale each pixel's distance from its perceived brightness (1 unchanged, 0 grey)."""
    bands, alpha = split_alpha(image)
    if len(bands) == 1:
        return image  # grey pixels are their own brightness: nothing to scale
    red, green, blue = (band.convert("F") for band in bands)
    # _saturation.c (after alienryderflex.com/saturation.html): p = sqrt(.299r^2 + .587g^2 +
    # .114b^2); c' = p + (c - p) * change; float maths, truncated and clamped (F -> L does both).
    perceived = band_math(
        lambda a: (
            (a["r"] * a["r"] * 0.299 + a["g"] * a["g"] * 0.587 + a["b"] * a["b"] * 0.114) ** 0.5
        ),
        r=red,
        g=green,
        b=blue,
    )
    k = f32(change)
    changed = [
        band_math(lambda a: a["p"] + (a["c"] - a["p"]) * k, p=perceived, c=band)
        for band in (red, green, blue)
    ]
    return merge_bands([band.convert("L") for band in changed], alpha)


def _equalize_tables(histogram: Sequence[int], channels: int) -> list[Lut]:
    """_equalize.c, quirks included (see the comments); one table per colour channel."""
    area = sum(histogram[:256])
    cumulative: list[list[int]] = []
    for channel in range(channels):
        counts = histogram[channel * 256 : (channel + 1) * 256]
        running, table = 0, []
        for count in counts:
            running += count
            table.append(running if count else 0)
        cumulative.append(table)
    # Thumbor looks for each channel's smallest non-zero cumulative count in one loop that
    # stops as soon as ANY channel has found its own: a channel whose darkest value lies above
    # another channel's darkest value keeps minimum 0, so it is not stretched down to 0.
    minimum = [0] * channels
    for value in range(256):
        for channel in range(channels):
            if minimum[channel] == 0 and cumulative[channel][value]:
                minimum[channel] = cumulative[channel][value]
        if any(minimum):
            break
    tables = []
    for channel in range(channels):
        low, spread = minimum[channel], area - minimum[channel]
        if spread == 0:
            # The channel holds one value, found as its minimum: Thumbor computes 0/0 and casts
            # the NaN to a byte, which is undefined in C but 0 on x86-64 and arm64 alike, so a
            # one-colour channel turns black there. We give the same pixels.
            tables.append([0] * 256)
            continue
        # (float)cum - min, / (area - min), * 255.0f: single-precision steps, then a byte.
        tables.append(
            [
                clamp8(f32(f32(f32(f32(count) - f32(low)) / f32(spread)) * 255.0))
                for count in cumulative[channel]
            ]
        )
    return tables


@register("equalize", cost=per_pixel(ns=6))
def equalize(image: Image.Image, ctx: FilterContext) -> Image.Image:
    """Histogram equalization of each colour channel, over the whole frame."""
    image = normalise(image)
    channels = 1 if image.mode in ("L", "LA") else 3
    tables = _equalize_tables(image.histogram(), channels)
    return map_channels(image, *tables) if channels == 3 else map_channels(image, tables[0])
