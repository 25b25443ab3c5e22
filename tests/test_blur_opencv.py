"""blur() with OpenCV (thumbor_urls/filters/blur_opencv.py) against Thumbor's arithmetic written
out in numpy: _convolution.c's double-precision sums, tap after tap, over clamped coordinates,
each pass truncated to bytes. The real Thumbor is compared in tests/peers/
test_differential_filters.py (identical bytes); this covers the shapes and radii OpenCV treats
differently inside (small symmetric kernels, kernels past its DFT threshold, strips, images
narrower than the kernel, one band)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image

from thumbor_urls.deadline import Deadline, DeadlineExceeded, running_until
from thumbor_urls.filters import blur as blur_module
from thumbor_urls.filters.blur_opencv import blur_bands
from thumbor_urls.filters.correlation import correlate_separable
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


def _thumbor_pass(pixels: np.ndarray, taps: Sequence[float], axis: int) -> np.ndarray:
    reach = len(taps) // 2
    index = np.clip(np.arange(-reach, pixels.shape[axis] + reach), 0, pixels.shape[axis] - 1)
    padded = np.take(pixels.astype(np.float64), index, axis=axis)
    total = np.zeros(pixels.shape)
    for offset, weight in enumerate(taps):  # _convolution.c's order: sum += weight x pixel
        window = np.take(padded, np.arange(offset, offset + pixels.shape[axis]), axis=axis)
        total += weight * window
    return np.clip(np.trunc(total), 0, 255).astype(np.uint8)


def thumbor_blur(image: Image.Image, taps: Sequence[float]) -> np.ndarray:
    pixels = np.asarray(image)
    return _thumbor_pass(_thumbor_pass(pixels, taps, 1), taps, 0)


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
def test_the_bytes_are_those_of_thumbors_sums(mode: str, radius: int, sigma: float) -> None:
    image = _busy((90, 2 * STRIP_ROWS + 11), mode)  # three strips, the last one short
    taps = blur_module.gaussian_taps(radius, sigma)
    ours = blur_bands(image, taps, STRIP_ROWS)
    assert (ours.mode, ours.size) == (mode, image.size)
    assert np.array_equal(np.asarray(ours), thumbor_blur(image, taps))


@pytest.mark.parametrize("size", [(7, 300), (300, 7), (1, 1)])
def test_images_narrower_than_the_kernel(size: tuple[int, int]) -> None:
    image = _busy(size, "RGB")
    taps = blur_module.gaussian_taps(20, 7.0)
    ours = blur_bands(image, taps, STRIP_ROWS)
    assert np.array_equal(np.asarray(ours), thumbor_blur(image, taps))


def test_the_fixed_point_engine_is_at_most_one_level_off() -> None:
    image = _busy((160, 120), "RGBA")
    taps = blur_module.gaussian_taps(6, 2.0)
    fixed = np.asarray(correlate_separable(image, taps)).astype(int)
    difference = np.abs(fixed - np.asarray(blur_bands(image, taps, STRIP_ROWS)))
    assert difference.max() == 1  # one level on the sums that land near an integer
    assert np.count_nonzero(difference) < 0.05 * difference.size


def test_blur_takes_opencvs_passes_where_installed_and_the_engine_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = _busy((160, 120), "RGBA")  # where the two differ (the test above)
    taps = blur_module.gaussian_taps(6, 2.0)
    assert blur_module.has_opencv()
    with_opencv = blur_module.blur(image, FilterContext(image.size), 6, 2.0)
    assert with_opencv.tobytes() == blur_bands(image, taps, STRIP_ROWS).tobytes()
    monkeypatch.setattr(blur_module, "has_opencv", lambda: False)
    without = blur_module.blur(image, FilterContext(image.size), 6, 2.0)
    assert without.tobytes() == correlate_separable(image, taps).tobytes()
    assert without.tobytes() != with_opencv.tobytes()  # (the one-level differences)


def test_a_passed_deadline_stops_it_between_strips() -> None:
    image = _busy((50, 3 * STRIP_ROWS), "L")
    with running_until(Deadline(0.0)), pytest.raises(DeadlineExceeded):
        blur_bands(image, blur_module.gaussian_taps(3, 3.0), STRIP_ROWS)


def test_the_estimate_counts_the_import_it_does_not_make() -> None:
    # A fresh process: the budget's estimate runs before any pixel, and must stay cheap.
    script = (
        "import sys\n"
        "from thumbor_urls.budget import Frame\n"
        "from thumbor_urls.filters import blur\n"
        "cost = blur._blur_cost(Frame(800, 450, 3), None, 6, 2.0)\n"
        "print('cv2' in sys.modules, cost.transient, cost.ns)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    )
    imported, transient, ns = found.stdout.split()
    assert imported == "False", found.stderr
    assert int(transient) > blur_module._OPENCV_BYTES  # the import's memory, counted
    assert float(ns) > blur_module._OPENCV_IMPORT_NS
