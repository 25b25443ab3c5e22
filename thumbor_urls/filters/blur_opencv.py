"""blur()'s two passes with OpenCV, where it is installed (the `opencv` extra); blur.py uses
correlation.py's fixed-point engine elsewhere (the Lambda zip).

Thumbor's _convolution.c sums weight x pixel in double precision, tap after tap from the
left (or the top), over coordinates clamped at the edges, then truncates each pass to bytes.
OpenCV's row filter from 8-bit to 64-bit floats does the same sums in the same order (its
column filter does not: it adds mirrored pairs first), so the column pass is a row pass over
the transposed image, and both give Thumbor's very bytes where the fixed-point engine, whose
sums carry rounding errors of their own, is one level off on some pixels (tests/
test_blur_opencv.py). It is also faster: blur(6,2) on 800x450 RGB in about 5 ms against 16-28
(docs/performance.md). cv2 and numpy load with the first blur() that takes this path.

The sums are taken a strip of rows at a time, so the float64 sums never hold more than a strip
of the image, and the deadline is checked between strips.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2  # type: ignore[import-not-found, unused-ignore]
import numpy as np
from PIL import Image

from ..deadline import checkpoint


def blur_bands(image: Image.Image, taps: Sequence[float], strip_rows: int) -> Image.Image:
    """`image` (L, LA, RGB or RGBA) correlated with the row of `taps`, truncated to bytes, then
    with their column, truncated again: every band alike, alpha included; `strip_rows` rows of
    sums at a time."""
    pixels = np.array(image)  # a copy of its own: each pass writes its bytes back into it
    _row_pass(pixels, taps, strip_rows)
    columns = _transposed(pixels)
    del pixels
    _row_pass(columns, taps, strip_rows)
    return Image.fromarray(_transposed(columns), image.mode)


def _row_pass(pixels: Any, taps: Sequence[float], strip_rows: int) -> None:
    """Each row of `pixels` replaced by its sums, `strip_rows` rows at a time: a row's sums read
    that row only, so the strip can take them once they are made."""
    row = np.asarray(taps, dtype=np.float64)
    one = np.ones(1)  # the column kernel: a single tap of 1 leaves every sum as it is
    for top in range(0, pixels.shape[0], strip_rows):
        strip = pixels[top : top + strip_rows]
        sums = cv2.sepFilter2D(strip, cv2.CV_64F, row, one, borderType=cv2.BORDER_REPLICATE)
        np.clip(sums, 0, 255, out=sums)
        strip[...] = sums.reshape(strip.shape)  # the cast truncates, as (int) does
        checkpoint()


def _transposed(pixels: Any) -> Any:
    # cv2.transpose keeps the bands together, but drops the band axis of a one-band image.
    return cv2.transpose(pixels).reshape(pixels.shape[1], pixels.shape[0], *pixels.shape[2:])
