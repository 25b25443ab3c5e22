"""blur() and convolution() with OpenCV (thumbor_urls/filters/correlation_opencv.py) against
Thumbor's arithmetic written out in numpy: _convolution.c's double-precision sums, cell after
cell, over clamped coordinates, each sum converted to int and clamped to a byte. The real
Thumbor is compared in tests/peers/test_differential_filters.py (identical bytes); this covers
what OpenCV treats differently inside (small symmetric kernels, kernels past its DFT
threshold, strips, images narrower than the kernel, one band, sums beyond an int)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from PIL import Image

import thumbor_urls.filters
from thumbor_urls.deadline import Deadline, DeadlineExceeded, running_until
from thumbor_urls.filters import blur as blur_module
from thumbor_urls.filters import convolution as convolution_module
from thumbor_urls.filters import correlation, optional
from thumbor_urls.filters import correlation_opencv as opencv
from thumbor_urls.filters.optional import has_opencv
from thumbor_urls.filters.registry import FilterContext

STRIP_ROWS = 40


def _busy(size: tuple[int, int], mode: str, seed: int = 7) -> Image.Image:
    """Seeded noise over gradients: every sum lands somewhere different."""
    width, height = size
    rng = np.random.default_rng(seed)
    bands = len(mode)
    ramp = np.add.outer(np.arange(height) * 3, np.arange(width) * 2)[..., None]
    noise = rng.integers(0, 90, (height, width, bands))
    pixels = ((ramp + noise + 40 * np.arange(bands)) % 256).astype(np.uint8)
    return Image.fromarray(pixels[..., 0] if bands == 1 else pixels, mode)


def _c_bytes(sums: np.ndarray) -> np.ndarray:
    """ADJUST_COLOR((int)sum), a sum beyond an int saturating (test_filters_pixels.py's
    reference and the fixed-point engine; C leaves it undefined)."""
    clamped: np.ndarray = np.clip(np.trunc(sums), 0, 255)
    return clamped.astype(np.uint8)


def thumbor_correlate(pixels: np.ndarray, kernel: Sequence[Sequence[float]]) -> np.ndarray:
    rows, columns = len(kernel), len(kernel[0])
    index_y = np.clip(np.arange(-(rows // 2), pixels.shape[0] + rows // 2), 0, pixels.shape[0] - 1)
    index_x = np.clip(
        np.arange(-(columns // 2), pixels.shape[1] + columns // 2), 0, pixels.shape[1] - 1
    )
    padded = pixels.astype(np.float64)[index_y][:, index_x]
    total = np.zeros(pixels.shape)
    height, width = pixels.shape[:2]
    for y in range(rows):  # _convolution.c's order: sum += weight x pixel, row by row
        for x in range(columns):
            total += kernel[y][x] * padded[y : y + height, x : x + width]
    return _c_bytes(total)


def thumbor_blur(image: Image.Image, taps: Sequence[float]) -> np.ndarray:
    across = thumbor_correlate(np.asarray(image), [list(taps)])
    return thumbor_correlate(across, [[tap] for tap in taps])


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize(
    ("radius", "sigma"),
    [
        (1, 1.0),  # 3 taps
        (2, 0.6),  # 5: OpenCV's small symmetric kernels (other depths than ours)
        (6, 2.0),
        (30, 9.0),  # 61: past the size where OpenCV's filter2D would switch to the DFT
        (150, 40.0),
    ],
)
def test_blur_gives_the_bytes_of_thumbors_sums(mode: str, radius: int, sigma: float) -> None:
    image = _busy((90, 2 * STRIP_ROWS + 11), mode)  # three strips, the last one short
    taps = blur_module.gaussian_taps(radius, sigma)
    ours = opencv.correlate_separable(image, taps, STRIP_ROWS)
    assert (ours.mode, ours.size) == (mode, image.size)
    assert np.array_equal(np.asarray(ours), thumbor_blur(image, taps))


KERNELS = {
    "3x3 sharpen": [[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]],
    "5x5 random": np.random.default_rng(5).uniform(-1, 1.5, (5, 5)).tolist(),
    "7x7 ramp, 49 cells": (np.arange(1, 50).reshape(7, 7) / 1225).tolist(),
    "1x9 asymmetric": [[0.1, 0, 0.3, -0.2, 0.5, 0, 0, 0.2, 0.1]],
    "5x1 shift": [[0], [0], [0], [0], [1]],
    "beyond an int": [[1e16 / 4, 0.75, -1e16 / 4]],
}


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("name", list(KERNELS))
def test_convolution_gives_the_bytes_of_thumbors_sums(mode: str, name: str) -> None:
    image = _busy((70, 2 * STRIP_ROWS + 5), mode)
    ours = opencv.correlate(image, KERNELS[name], STRIP_ROWS)
    assert (ours.mode, ours.size) == (mode, image.size)
    assert np.array_equal(np.asarray(ours), thumbor_correlate(np.asarray(image), KERNELS[name]))


def test_weights_near_the_largest_double_give_0_without_a_warning() -> None:
    # 1.7e308 x 200 is inf, and inf - inf a NaN: C's (int) of it is undefined; ours is 0.
    flat = Image.new("RGB", (20, 12), (200, 10, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = opencv.correlate(flat, [[1.7e308, -1.7e308, 1.7e308]], STRIP_ROWS)
    assert ours.getextrema() == ((0, 0), (0, 0), (0, 0))


@pytest.mark.parametrize("size", [(7, 300), (300, 7), (1, 1)])
def test_images_narrower_than_the_kernel(size: tuple[int, int]) -> None:
    image = _busy(size, "RGB")
    taps = blur_module.gaussian_taps(20, 7.0)
    ours = opencv.correlate_separable(image, taps, STRIP_ROWS)
    assert np.array_equal(np.asarray(ours), thumbor_blur(image, taps))
    kernel = KERNELS["7x7 ramp, 49 cells"]
    ours = opencv.correlate(image, kernel, STRIP_ROWS)
    assert np.array_equal(np.asarray(ours), thumbor_correlate(np.asarray(image), kernel))


def test_the_fixed_point_engine_is_at_most_one_level_off() -> None:
    image = _busy((160, 120), "RGBA")
    taps = blur_module.gaussian_taps(6, 2.0)
    fixed = np.asarray(correlation.correlate_separable(image, taps)).astype(int)
    difference = np.abs(fixed - np.asarray(opencv.correlate_separable(image, taps, STRIP_ROWS)))
    assert difference.max() == 1  # one level on the sums that land near an integer
    assert np.count_nonzero(difference) < 0.05 * difference.size


def test_blur_takes_opencvs_passes_where_installed_and_the_engine_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = _busy((160, 120), "RGBA")  # where the two differ (the test above)
    taps = blur_module.gaussian_taps(6, 2.0)
    assert has_opencv()
    with_opencv = blur_module.blur(image, FilterContext(image.size), 6, 2.0)
    assert with_opencv.tobytes() == opencv.correlate_separable(image, taps, 64).tobytes()
    monkeypatch.setattr(blur_module, "has_opencv", lambda: False)
    without = blur_module.blur(image, FilterContext(image.size), 6, 2.0)
    assert without.tobytes() == correlation.correlate_separable(image, taps).tobytes()
    assert without.tobytes() != with_opencv.tobytes()  # (the one-level differences)


@pytest.mark.parametrize(("columns", "rows", "in_opencv"), [(7, 7, True), (17, 3, False)])
def test_convolution_takes_opencv_below_its_dft_threshold(
    monkeypatch: pytest.MonkeyPatch, columns: int, rows: int, in_opencv: bool
) -> None:
    image = _busy((60, 40), "RGB")
    matrix = tuple(float(1 + i % 7) for i in range(columns * rows))
    calls: list[int] = []
    correlate = opencv.correlate

    def spy(*args: Any) -> Image.Image:
        calls.append(1)
        return correlate(*args)

    monkeypatch.setattr(opencv, "correlate", spy)
    context = FilterContext(image.size)
    ours = convolution_module.convolution(image, context, matrix, columns, True)
    assert len(calls) == int(in_opencv)  # 49 cells in OpenCV, 51 in the fixed-point engine
    kernel = convolution_module.kernel_rows(matrix, columns, True)
    if in_opencv:
        assert np.array_equal(np.asarray(ours), thumbor_correlate(np.asarray(image), kernel))
    monkeypatch.setattr(convolution_module, "has_opencv", lambda: False)
    convolution_module.convolution(image, context, matrix, columns, True)
    assert len(calls) == int(in_opencv)  # without OpenCV, never


def test_an_opencv_that_does_not_import_leaves_both_filters_to_the_engine(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Found, but its import fails (opencv-python without libGL, say): a None in sys.modules
    # makes `from . import correlation_opencv` raise ImportError as that would.
    monkeypatch.setitem(sys.modules, "thumbor_urls.filters.correlation_opencv", None)
    monkeypatch.delattr(thumbor_urls.filters, "correlation_opencv")  # imported by this file
    monkeypatch.setattr(optional, "_BROKEN", set())
    image = _busy((160, 120), "RGBA")
    taps = blur_module.gaussian_taps(6, 2.0)
    assert has_opencv()
    blurred = blur_module.blur(image, FilterContext(image.size), 6, 2.0)
    assert blurred.tobytes() == correlation.correlate_separable(image, taps).tobytes()
    assert not has_opencv()  # not tried again, and the estimates follow the engine's costs
    assert "does not import" in caplog.text
    kernel = KERNELS["3x3 sharpen"]
    cells = tuple(cell for row in kernel for cell in row)
    ours = convolution_module.convolution(image, FilterContext(image.size), cells, 3, False)
    assert ours.tobytes() == correlation.correlate(image, kernel).tobytes()


def test_a_passed_deadline_stops_them_between_strips() -> None:
    image = _busy((50, 3 * STRIP_ROWS), "L")
    with running_until(Deadline(0.0)), pytest.raises(DeadlineExceeded):
        opencv.correlate_separable(image, blur_module.gaussian_taps(3, 3.0), STRIP_ROWS)
    with running_until(Deadline(0.0)), pytest.raises(DeadlineExceeded):
        opencv.correlate(image, KERNELS["3x3 sharpen"], STRIP_ROWS)


def test_the_estimate_counts_the_import_it_does_not_make() -> None:
    # A fresh process: the budget's estimate runs before any pixel, and must stay cheap.
    script = (
        "import sys\n"
        "from thumbor_urls.budget import Frame\n"
        "from thumbor_urls.filters import blur, convolution\n"
        "frame = Frame(800, 450, 3)\n"
        "costs = [blur._blur_cost(frame, None, 6, 2.0),\n"
        "         convolution._convolution_cost(frame, None, (1.0,) * 9, 3, True)]\n"
        "print('cv2' in sys.modules, *(c.transient for c in costs), *(c.ns for c in costs))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    )
    imported, *numbers = found.stdout.split()
    assert imported == "False", found.stderr
    blur_bytes, convolution_bytes, blur_ns, convolution_ns = map(float, numbers)
    assert min(blur_bytes, convolution_bytes) > correlation._OPENCV_BYTES  # the import, counted
    assert min(blur_ns, convolution_ns) > correlation._OPENCV_IMPORT_NS
