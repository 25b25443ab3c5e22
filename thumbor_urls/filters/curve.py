"""curve(all, red, green, blue): tone curves through control points, as lookup tables.

Thumbor's _curve.c fits a natural cubic spline through each list of (x, y) points, tabulates
it for x = 0..255 (rounded, clamped), and maps every pixel through the red/green/blue table and
then through the "all" table. The spline is ported here as is (it runs once per request on at
most 256 points, never per pixel), so the tables, and therefore the pixels, are Thumbor's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from PIL import Image

from .bands import Lut, map_channels
from .c_arithmetic import c_round
from .params import Param
from .registry import FilterContext, per_pixel, register

Point = tuple[int, int]

# curve.py's own expression. ast.literal_eval then rejects points with no comma between them,
# `[(0,0)(9,9)]`: a 500 in Thumbor, refused here.
_CURVE = re.compile(r"\[(?:\(\d+,\d+\),?)*\]")
_POINT = re.compile(r"\((\d+),(\d+)\)")


def _solve_second_derivatives(points: Sequence[Point]) -> list[float]:
    """calculate_second_derivative(): the tridiagonal system of a natural cubic spline."""
    n = len(points)
    lower, diagonal, upper = [0.0] * n, [0.0] * n, [0.0] * n
    result = [0.0] * n
    diagonal[0] = diagonal[n - 1] = 1.0
    for i in range(1, n - 1):
        (x0, y0), (x1, y1), (x2, y2) = points[i - 1], points[i], points[i + 1]
        lower[i] = (x1 - x0) / 6
        diagonal[i] = (x2 - x0) / 3
        upper[i] = (x2 - x1) / 6
        result[i] = (y2 - y1) / (x2 - x1) - (y1 - y0) / (x1 - x0)
    for i in range(1, n):
        k = lower[i] / diagonal[i - 1]
        diagonal[i] -= k * upper[i - 1]
        lower[i] = 0.0
        result[i] -= k * result[i - 1]
    for i in range(n - 2, -1, -1):
        k = upper[i] / diagonal[i + 1]
        diagonal[i] -= k * lower[i + 1]
        upper[i] = 0.0
        result[i] -= k * result[i + 1]
    return [result[i] / diagonal[i] for i in range(n)]


def curve_table(points: Sequence[Point]) -> Lut:
    """cubic_spline_interpolation(): the curve at x = 0..255. Below the first point's x it is
    the first y; from the last point's x on, the last y; segments run left to right only."""
    derivatives = _solve_second_derivatives(points)
    table = [points[0][1]] * 256
    for i in range(len(points) - 1):
        (x0, y0), (x1, y1) = points[i], points[i + 1]
        h = float(x1 - x0)
        for x in range(x0, x1):
            t = (x - x0) / h
            a, b = 1 - t, t
            y = (
                a * y0
                + b * y1
                + (h * h / 6)
                * ((a * a * a - a) * derivatives[i] + (b * b * b - b) * derivatives[i + 1])
            )
            table[x] = int(min(max(c_round(y), 0), 255))
    last_x, last_y = points[-1]
    table[last_x:] = [last_y] * (256 - last_x)
    return table


def parse_curve(text: str) -> tuple[Point, ...]:
    """`[(x,y),(x,y),...]`, refusing the lists Thumbor's C mishandles."""
    if not _CURVE.fullmatch(text) or ")(" in text:
        raise ValueError(f"expected [(x,y),(x,y),...] with no spaces, got {text!r}")
    points = tuple((int(x), int(y)) for x, y in _POINT.findall(text))
    if not points:
        # Thumbor reads uninitialised memory for an empty list.
        raise ValueError("needs at least one (x,y) point")
    if any(x > 255 or y > 255 for x, y in points):
        # Thumbor casts to unsigned char: 256 silently becomes 0.
        raise ValueError("x and y must be 0..255")
    if len(points) > 255:
        # The C counts points in an unsigned char.
        raise ValueError("at most 255 points")
    try:
        curve_table(points)
    except ZeroDivisionError:
        # Repeated x (Thumbor divides by zero and writes NaN-derived bytes).
        raise ValueError("neighbouring points must have different x") from None
    return points


def _curve_param(name: str) -> Param:
    return Param(name, "[(x,y),...]", parse_curve)


@register(
    "curve",
    _curve_param("all"),
    _curve_param("red"),
    _curve_param("green"),
    _curve_param("blue"),
    cost=per_pixel(ns=6, colour=True),
)
def curve(
    image: Image.Image,
    ctx: FilterContext,
    all_channels: tuple[Point, ...],
    red: tuple[Point, ...],
    green: tuple[Point, ...],
    blue: tuple[Point, ...],
) -> Image.Image:
    """Map each channel through its own curve, then through the curve for all channels."""
    common = curve_table(all_channels)
    tables = [[common[value] for value in curve_table(points)] for points in (red, green, blue)]
    return map_channels(image, *tables)
