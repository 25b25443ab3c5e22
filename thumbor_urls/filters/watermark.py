"""watermark(image, x, y, alpha [, w_ratio [, h_ratio]]): draw another image of the same source
over the result.

x and y place the mark in pixels from the left or top (negative: from the right or bottom), in
percent of the picture (`20p`), at the `center`, or `repeat` it across with even spacing (at most
6x6 copies when it would tile more than 100 times, as in Thumbor). alpha 0 leaves the mark
opaque and 100 makes it invisible: Thumbor subtracts it from every pixel's alpha rather than
scaling it. w_ratio and h_ratio, in percent of the picture (or `none`), fit the mark in that share
of it. A key with no image behind it is a 400.
"""

from __future__ import annotations

import math
import re

from PIL import Image

from ..budget import Cost, Frame
from .params import Overlay, Param, PositiveNumber
from .registry import CostContext, FilterContext, register

_POSITION = re.compile(r"(-?)(\d+)(p?)|center|repeat")
_RATIO = re.compile(r"-?\d+|none")


def _position(text: str) -> str:
    if not _POSITION.fullmatch(text):
        raise ValueError(f"expected pixels, Np (percent), center or repeat, got {text!r}")
    return text


def _ratio(text: str) -> float | None:
    if not _RATIO.fullmatch(text):
        raise ValueError(f"expected a percentage or none, got {text!r}")
    if text == "none" or int(text) == 0:
        return None
    if int(text) < 0:
        raise ValueError(f"must not be negative, got {text}")
    return int(text) / 100


def _scaled_size(
    image: tuple[int, int], mark: tuple[int, int], w_ratio: float | None, h_ratio: float | None
) -> tuple[int, int]:
    """Thumbor's watermark sizing: fit the mark in the given share of the image."""
    max_width = image[0] * w_ratio if w_ratio else None
    max_height = image[1] * h_ratio if h_ratio else None
    if max_width is None:
        assert max_height is not None
        max_width = mark[0] * max_height / mark[1]
    if max_height is None:
        max_height = mark[1] * max_width / mark[0]
    if mark[0] / max_width >= mark[1] / max_height:
        return round(max_width), round(mark[1] * max_width / mark[0])
    return round(mark[0] * max_height / mark[1]), round(max_height)


def _offsets(position: str, length: int, mark: int) -> list[int]:
    """Where the mark goes along one axis: pixels from the start (negative: from the end),
    `Np` percent, centred, or repeated across with even spacing, as Thumbor places it."""
    if position == "center":
        return [int((length - mark) / 2)]
    if position == "repeat":
        count, spare = divmod(length, mark)
        if length / mark < 2:
            count, spare = math.ceil(length / mark), 10
        space = spare // (max(count, 2) - 1)
        return [i * (space + mark) for i in range(count)]
    match = _POSITION.fullmatch(position)
    assert match is not None
    sign, digits, percent = match.groups()
    value = round(length * int(digits) / 100 + 1e-5) if percent else int(digits)
    return [length - mark - value if sign else value]


def _paste(base: Image.Image, mark: Image.Image, x: int, y: int) -> None:
    """Alpha-composite `mark` at (x, y), clipping what falls outside `base`."""
    left, top = max(x, 0), max(y, 0)
    right, bottom = min(x + mark.width, base.width), min(y + mark.height, base.height)
    if right <= left or bottom <= top:
        return
    piece = mark.crop((left - x, top - y, right - x, bottom - y))
    base.alpha_composite(piece, (left, top))


# Thumbor caps a repeated watermark at 6x6 copies when it would tile more than 100 times.
_MAX_TILES, _TILE_CAP = 100, 6


def _watermark_cost(
    frame: Frame, ctx: CostContext, key: str, x: str, y: str, alpha: int, *ratios: float | None
) -> Cost:
    w_ratio, h_ratio = ratios
    natural = ctx.overlay(key)
    mark = natural
    scaled = None
    if w_ratio or h_ratio:
        width, height = _scaled_size(
            (frame.width, frame.height), (natural.width, natural.height), w_ratio, h_ratio
        )
        scaled = natural.sized(width, height)
        mark = ctx.overlay(key, (scaled.width, scaled.height))
    # A faded copy of the mark and its alpha band (alpha only), the mark resized and the
    # resampler's pass (ratios only), the picture as RGBA, and one tile cut to fit it.
    transient = 4 * frame.pixels + 4 * min(mark.pixels, frame.pixels)
    if alpha:
        transient += mark.bytes + 2 * mark.pixels
    if scaled is not None:
        transient += scaled.bytes + 4 * scaled.width * mark.height
    out = frame.with_bands(4 if frame.bands in (2, 4) else 3)
    ns = 20.0 * frame.pixels + 20.0 * mark.pixels + (30.0 * scaled.pixels if scaled else 0.0)
    return Cost(out, transient, ns)


@register(
    "watermark",
    Overlay("image"),
    Param("x", "position", _position),
    Param("y", "position", _position),
    PositiveNumber("alpha", refuse=(0, 100)),
    Param("w_ratio", "percent|none", _ratio, default=None),
    Param("h_ratio", "percent|none", _ratio, default=None),
    cost=_watermark_cost,
)
def watermark(
    image: Image.Image,
    ctx: FilterContext,
    key: str,
    x: str,
    y: str,
    alpha: int,
    w_ratio: float | None,
    h_ratio: float | None,
) -> Image.Image:
    """Draw another image of the same source over this one: x and y in pixels (negative: from
    the right or bottom), `Np` percent, `center` or `repeat`; alpha 0 is opaque, 100 invisible;
    the ratios, in percent of the image, fit the mark in that share of it."""
    size = None
    if w_ratio or h_ratio:
        size = _scaled_size(image.size, ctx.size_of(key, "watermark"), w_ratio, h_ratio)
        size = (max(size[0], 1), max(size[1], 1))
    # Decoded no larger than it will be drawn (a JPEG mark by DCT scaling), once for every
    # frame and every watermark() naming it: changed only on a copy.
    mark = ctx.image(key, "watermark", size)
    if alpha:
        # Thumbor subtracts from every pixel's alpha rather than scaling it.
        delta = 255 * alpha // 100
        faded = mark.getchannel("A").point(lambda v: max(v - delta, 0))
        mark = mark.copy()
        mark.putalpha(faded)
    if size is not None:
        mark = mark.resize(size, Image.Resampling.LANCZOS)
    xs = _offsets(x, image.width, mark.width)
    ys = _offsets(y, image.height, mark.height)
    if x == y == "repeat" and len(xs) * len(ys) > _MAX_TILES:
        xs, ys = _capped_tiles(image.width, mark.width), _capped_tiles(image.height, mark.height)
    base = image.convert("RGBA")
    for top in ys:
        for left in xs:
            _paste(base, mark, left, top)
    return base if "A" in image.getbands() else base.convert("RGB")


def _capped_tiles(length: int, mark: int) -> list[int]:
    count = min(_TILE_CAP, length // mark)
    space = (length - count * mark) // (max(count, 2) - 1)
    return [i * (space + mark) for i in range(count)]
