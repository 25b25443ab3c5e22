"""Thumbor's correlations (blur(), convolution()) with OpenCV, where it is installed (the `opencv`
extra); correlation.py's fixed-point engine does them elsewhere (the Lambda zip).

Thumbor's _convolution.c sums weight x pixel in double precision, cell after cell of the kernel
(row by row, left to right), over coordinates clamped at the edges, then converts the sum to
int and clamps it to a byte. OpenCV's filters from 8-bit to float64 make the same sums in the
same order, with two exceptions that decide how they are used here: its separable column filter
adds mirrored pairs before weighing them, so blur's column pass is a row pass over the
transposed image; and `filter2D` switches to the DFT from 50 cells (correlation.py's
OPENCV_DIRECT_CELLS), so convolution() kernels that large stay with the fixed-point engine.
Both give Thumbor's very bytes, where the fixed-point engine, whose sums carry rounding errors
of their own, is one level off on some pixels (tests/test_correlation_opencv.py), and faster:
blur(6,2) on 800x450 RGB in about 5 ms against 16-28 (docs/performance.md). cv2 and numpy load
with the first filter that takes this path.

The sums are taken a strip of rows at a time, so the float64 sums never hold more than a strip
of the image, and the deadline is checked between strips.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2  # type: ignore[import-not-found, unused-ignore]
import numpy as np
from PIL import Image

from ..deadline import checkpoint


def correlate_separable(image: Image.Image, taps: Sequence[float], strip_rows: int) -> Image.Image:
    """`image` (L, LA, RGB or RGBA) correlated with the row of `taps`, truncated to bytes, then
    with their column, truncated again, as Thumbor's blur: every band alike, alpha included;
    `strip_rows` rows of sums at a time."""
    pixels = np.array(image)  # a copy of its own: each pass writes its bytes back into it
    _row_pass(pixels, taps, strip_rows)
    columns = _transposed(pixels)
    del pixels
    _row_pass(columns, taps, strip_rows)
    return Image.fromarray(_transposed(columns), image.mode)


def correlate(
    image: Image.Image, kernel: Sequence[Sequence[float]], strip_rows: int
) -> Image.Image:
    """`image` (L, LA, RGB or RGBA) correlated with `kernel` (rows of weights, both sides odd,
    fewer than 50 cells), as Thumbor's convolution: every band alike."""
    weights = np.asarray(kernel, dtype=np.float64)
    may_overflow = not math.isfinite(255.0 * sum(abs(weight) for row in kernel for weight in row))
    reach = weights.shape[0] // 2
    pixels = np.asarray(image)
    # The rows above and below clamped once, so that each strip has its neighbours.
    padded = np.pad(pixels, [(reach, reach)] + [(0, 0)] * (pixels.ndim - 1), mode="edge")
    out = np.empty_like(pixels)
    for top in range(0, pixels.shape[0], strip_rows):
        rows = min(strip_rows, pixels.shape[0] - top)
        window = padded[top : top + rows + 2 * reach]
        sums = cv2.filter2D(window, cv2.CV_64F, weights, borderType=cv2.BORDER_REPLICATE)
        within = sums.reshape(window.shape)[reach : reach + rows]
        _to_bytes(within, out[top : top + rows], may_overflow)
        checkpoint()
    return Image.fromarray(out, image.mode)


def _row_pass(pixels: Any, taps: Sequence[float], strip_rows: int) -> None:
    """Each row of `pixels` replaced by its sums, `strip_rows` rows at a time: a row's sums read
    that row only, so the strip can take them once they are made."""
    row = np.asarray(taps, dtype=np.float64)
    one = np.ones(1)  # the column kernel: a single tap of 1 leaves every sum as it is
    for top in range(0, pixels.shape[0], strip_rows):
        strip = pixels[top : top + strip_rows]
        sums = cv2.sepFilter2D(strip, cv2.CV_64F, row, one, borderType=cv2.BORDER_REPLICATE)
        _to_bytes(sums.reshape(strip.shape), strip)
        checkpoint()


def _to_bytes(sums: Any, out: Any, may_overflow: bool = False) -> None:
    """`ADJUST_COLOR((int)sum)` into `out`: truncated, then clamped to a byte. A sum beyond a C
    int saturates, as in the fixed-point engine (C leaves it undefined: x86-64 makes it INT_MIN,
    so 0, and arm64 INT_MAX, so 255). Weights near the largest double (`may_overflow`) can make
    inf - inf, a NaN: 0."""
    if may_overflow:
        sums[np.isnan(sums)] = 0.0
    np.clip(sums, 0, 255, out=sums)
    out[...] = sums  # the cast truncates, as (int) does


def _transposed(pixels: Any) -> Any:
    # cv2.transpose keeps the bands together, but drops the band axis of a one-band image.
    return cv2.transpose(pixels).reshape(pixels.shape[1], pixels.shape[0], *pixels.shape[2:])
