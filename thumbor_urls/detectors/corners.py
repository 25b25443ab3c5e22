"""OpenCV's `goodFeaturesToTrack` (Shi-Tomasi corners), same answer, a band of rows at a time.

`cv2.goodFeaturesToTrack` on a whole photo holds about 28 bytes a pixel at once (gradients,
their products, the eigenvalue map and its dilation): 450 MB for a 16-megapixel photo, more
than a request's budget. Its answer depends only on each pixel's smallest eigenvalue (a
5x5 neighbourhood: a 3x3 Sobel, then a 3x3 sum) and on the image's largest one, so the same
answer comes from `cv2.cornerMinEigenVal` on bands of rows with a margin, keeping each band's
strongest candidates; the threshold (a share of the largest value) is applied at the end, when
the largest value is known. The band's memory is all that is held (the caller makes each band's
grey rows when asked, so not even a grey copy of the whole image need exist), and the deadline
is checked between bands.

What `goodFeaturesToTrack` picks, for `minDistance <= 1` (closer corners are never dropped, as
no two candidates share a pixel): the pixels off the image's border whose value is above
`quality * largest` and at least that of its eight neighbours, the strongest first and, among
equal values, the later pixel in raster order first; at most `count` of them.
tests/test_detectors_features.py checks the answers are the same on photos, noise and drawn
shapes (whose corners tie).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2  # type: ignore[import-not-found, unused-ignore]
import numpy
from numpy.typing import NDArray

from ..deadline import checkpoint

BLOCK_SIZE = 3  # goodFeaturesToTrack's defaults, which Thumbor keeps
SOBEL_SIZE = 3
# Rows a band reads beyond its own: the Sobel and the sum each reach one row, and the
# neighbours compared reach one more. Two more are kept for good measure.
MARGIN = 5
BAND_PIXELS = 1 << 20  # a band of about a megapixel: ~30 MB while OpenCV works on it


# The grey image's rows `first` to `last` (excluded), as a (rows, width) uint8 array: the image
# itself is never needed whole, so a caller may make each band as it is asked for.
Rows = Callable[[int, int], NDArray[numpy.uint8]]


def strongest_corners(
    rows_of: Rows,
    size: tuple[int, int],
    count: int,
    quality: float,
    band_pixels: int = BAND_PIXELS,
) -> list[tuple[int, int]]:
    """`cv2.goodFeaturesToTrack(grey, count, quality, minDistance=1)`'s corners as (x, y), for
    the grey image of `size` whose rows `rows_of` gives."""
    width, height = size
    rows = max(16, band_pixels // max(width, 1))
    largest = 0.0
    values: list[NDArray[numpy.float32]] = []
    offsets: list[NDArray[numpy.int64]] = []
    for top in range(0, height, rows):
        checkpoint()
        bottom = min(top + rows, height)
        first, last = max(top - MARGIN, 0), min(bottom + MARGIN, height)
        eigen = numpy.asarray(  # float32 already: no copy
            cv2.cornerMinEigenVal(rows_of(first, last), BLOCK_SIZE, ksize=SOBEL_SIZE), numpy.float32
        )
        largest = max(largest, float(eigen[top - first : bottom - first].max()))
        band_values, band_offsets = _band_candidates(eigen, first, top, bottom, height, count)
        values.append(band_values)
        offsets.append(band_offsets)
    if not values:
        return []
    value, offset = numpy.concatenate(values), numpy.concatenate(offsets)
    # OpenCV thresholds its float map with the threshold as a float: compare in float32 too.
    above = value > numpy.float32(largest * quality)
    value, offset = value[above], offset[above]
    order = _strongest_first(value, offset)[:count]
    return [(int(o % width), int(o // width)) for o in offset[order]]


def _band_candidates(
    eigen: NDArray[numpy.float32], first: int, top: int, bottom: int, height: int, count: int
) -> tuple[NDArray[numpy.float32], NDArray[numpy.int64]]:
    """The band's `count` strongest local maxima (value, offset in the whole image).

    A pixel above the threshold is a local maximum of the thresholded map exactly when it is
    one of the map itself (its neighbours below the threshold are below it anyway), so the
    test needs no threshold, which is known only at the end."""
    width = eigen.shape[1]
    start, stop = max(top, 1), min(bottom, height - 1)  # never the image's first or last row
    if start >= stop or width < 3:
        return numpy.empty(0, numpy.float32), numpy.empty(0, numpy.int64)
    centre = eigen[start - first : stop - first, 1 : width - 1]
    neighbours = centre.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                shifted = eigen[start - first + dy : stop - first + dy, 1 + dx : width - 1 + dx]
                numpy.maximum(neighbours, shifted, out=neighbours)
    ys, xs = numpy.nonzero((centre > 0) & (centre == neighbours))
    value = centre[ys, xs]
    offset = (ys.astype(numpy.int64) + start) * width + xs + 1
    if len(value) > count:
        keep = _strongest_first(value, offset)[:count]
        value, offset = value[keep], offset[keep]
    return value, offset


def _strongest_first(
    value: NDArray[numpy.float32], offset: NDArray[numpy.int64]
) -> NDArray[numpy.intp]:
    """OpenCV's order: the larger value first, then the later pixel."""
    order: NDArray[numpy.intp] = numpy.lexsort((-offset, -value))
    return order
