"""equalize(): histogram equalization of each colour channel, over the whole frame.

Thumbor's _equalize.c, quirks included (see _equalize_tables): each channel's cumulative
histogram, stretched from its smallest non-zero count to the frame's area, becomes a lookup
table in single precision. Alpha is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from .bands import Lut, map_channels, normalise
from .c_arithmetic import clamp8, f32
from .registry import FilterContext, per_pixel, register


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
