"""convolution(matrix, columns [, normalize]): correlate every band, alpha included, with a
kernel given row by row.

`matrix` is the kernel's cells separated by `;` (`-1;-1;-1;-1;8;-1;-1;-1;-1`), `columns` its
width; both sides must be odd, and it may have up to 225 cells. With `normalize` (the default)
the cells are divided by their sum, unless that is 0. As in Thumbor's _convolution.c the kernel
is not mirrored, the edges are clamped, and every sum is truncated to int and clamped to 0..255;
here it runs in OpenCV where it is installed and the kernel has fewer than 50 cells
(correlation_opencv.py: Thumbor's very bytes), and elsewhere on the fixed-point engine of
correlation.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from PIL import Image

from ..budget import Cost, Frame
from ..errors import InvalidFilterArgument
from .bands import normalise
from .c_arithmetic import c_sum
from .correlation import (
    OPENCV_DIRECT_CELLS,
    OPENCV_STRIP_ROWS,
    correlate,
    opencv_cost,
    strip_cost,
)
from .optional import has_opencv, opencv_correlation
from .params import Boolean, Param, PositiveNonZeroNumber
from .registry import CostContext, FilterContext, FilterSpec, register

# Each non-zero cell costs one multiply-add pass over every band of the frame, and Thumbor sets
# no limit at all. 225 cells allows every conventional kernel (3x3 up to 15x15, and 1-D kernels
# up to 225 taps) while capping the work at about a third of a maximal blur (2 x 301 passes).
MAX_KERNEL_CELLS = 225

_MATRIX = r"-?\d+(?:\.\d*)?(?:;-?\d+(?:\.\d*)?)*"  # convolution.py's own expression


def _parse_matrix(text: str) -> tuple[float, ...]:
    if not re.fullmatch(_MATRIX, text):
        raise ValueError(f"expected numbers separated by ';', got {text!r}")
    cells = tuple(float(cell) for cell in text.split(";"))
    if not all(math.isfinite(cell) for cell in cells):  # 309 digits or more: Thumbor's C gives NaN
        raise ValueError("cells must be finite numbers")
    if len(cells) > MAX_KERNEL_CELLS:
        raise ValueError(f"at most {MAX_KERNEL_CELLS} cells, got {len(cells)}")
    return cells


class _ConvolutionSpec(FilterSpec):
    """The matrix and its column count are only valid together, which the per-parameter
    parsers cannot see; this checks them at parse time so a bad kernel is skipped like any bad
    argument (Thumbor's C returns NULL without an exception: a 500)."""

    __slots__ = ()

    def bind(self, raw_args: Sequence[str]) -> tuple[Any, ...]:
        cells, columns, normalize = super().bind(raw_args)
        if len(cells) % columns or len(cells) % 2 == 0:
            raise InvalidFilterArgument(
                f"convolution(): {len(cells)} cells do not make a kernel of {columns} columns "
                "with an odd number of rows and columns"
            )
        return cells, columns, normalize


def kernel_rows(cells: Sequence[float], columns: int, normalize: bool) -> list[list[float]]:
    """normalize_kernel() in _convolution.c: divide by the sum unless it is 0."""
    total = c_sum(cells)  # in order, uncompensated, as C adds them
    if normalize and total != 0.0:
        cells = [cell / total for cell in cells]
    return [list(cells[start : start + columns]) for start in range(0, len(cells), columns)]


def _convolution_cost(
    frame: Frame, ctx: CostContext, cells: tuple[float, ...], columns: int, normalize: bool
) -> Cost:
    rows = len(cells) // columns
    if _in_opencv(cells):
        return opencv_cost(frame, max(rows, columns) // 2, len(cells))
    chunks = -(-rows // 3) * -(-columns // 3)
    return strip_cost(frame, 3 + max(rows, columns) // 2, chunks, 26)


@register(
    "convolution",
    Param("matrix", "m1;m2;...", _parse_matrix),
    PositiveNonZeroNumber("columns", refuse=(1, MAX_KERNEL_CELLS)),
    Boolean("normalize", default=True),
    cost=_convolution_cost,
    spec=_ConvolutionSpec,
)
def convolution(
    image: Image.Image, ctx: FilterContext, cells: tuple[float, ...], columns: int, normalize: bool
) -> Image.Image:
    """Correlate every band (alpha included) with an odd-sized kernel of up to 225 cells, given
    row by row (`columns` wide); its cells are divided by their sum unless `normalize` is false
    or the sum is 0."""
    # Thumbor's convolution adds up the alpha channel too (`num_bytes > 3`).
    kernel = kernel_rows(cells, columns, normalize)
    opencv = opencv_correlation() if _in_opencv(cells) else None
    if opencv is not None:
        correlated: Image.Image = opencv.correlate(normalise(image), kernel, OPENCV_STRIP_ROWS)
        return correlated
    return correlate(normalise(image), kernel)


def _in_opencv(cells: Sequence[float]) -> bool:
    """OpenCV's filter2D sums as Thumbor does below its DFT threshold (correlation_opencv.py)."""
    return has_opencv() and len(cells) < OPENCV_DIRECT_CELLS
