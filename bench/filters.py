"""sharpen() and blur() against plain Pillow's GaussianBlur on the same image, in one process.

`python -m bench.filters [--runs N] [--pillow] [--only TEXT] [IMAGE]`: decodes IMAGE (by
default the 12-megapixel photo of the test corpus) to RGB once, then runs every candidate and
`ImageFilter.GaussianBlur(2)` round by round, interleaved, and prints each candidate's median
time and the median of its per-round ratios to the GaussianBlur of the same round (so that a
shared, noisy machine slows both sides of a ratio alike). `--pillow` adds sharpen's Pillow band
maths (the path taken without numpy), which takes seconds a run, and blur's fixed-point engine
(the path taken without OpenCV).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageFilter

from thumbor_urls.allocator import keep_freed_memory
from thumbor_urls.filters import FilterContext
from thumbor_urls.filters import sharpen as sharpen_module
from thumbor_urls.filters.bands import merge_bands, normalise, split_alpha
from thumbor_urls.filters.blur import blur, gaussian_taps
from thumbor_urls.filters.correlation import correlate_separable

PHOTO = Path(__file__).resolve().parent.parent / "tests/corpus/photo_sunset_4272x2848.jpg"

Candidate = Callable[[Image.Image], Image.Image]


def _sharpen(luminance_only: bool) -> Candidate:
    def run(image: Image.Image) -> Image.Image:
        sharpened: Image.Image = sharpen_module.sharpen(
            image, FilterContext(image.size), 2.0, 1.0, luminance_only
        )
        return sharpened

    return run


def _sharpen_pillow(luminance_only: bool) -> Candidate:
    def run(image: Image.Image) -> Image.Image:
        bands, alpha = split_alpha(image)
        sharpened = sharpen_module.sharpen_pillow(bands, 2.0, 1.0, luminance_only)
        return merge_bands(sharpened, alpha)

    return run


def candidates(with_pillow: bool) -> dict[str, Candidate]:
    found: dict[str, Candidate] = {
        "blur(6,2)": lambda image: blur(image, FilterContext(image.size), 6, 2.0),
        "sharpen(2,1,false)": _sharpen(False),
        "sharpen(2,1,true)": _sharpen(True),
    }
    if with_pillow:
        # blur's fixed-point engine, the path taken without OpenCV (the Lambda zip).
        found["blur(6,2) fixed point"] = lambda image: correlate_separable(
            normalise(image), gaussian_taps(6, 2.0)
        )
        found["sharpen(2,1,false) Pillow"] = _sharpen_pillow(False)
        found["sharpen(2,1,true) Pillow"] = _sharpen_pillow(True)
    return found


def _seconds(candidate: Candidate, image: Image.Image) -> float:
    start = time.perf_counter()
    candidate(image)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", type=Path, default=PHOTO)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pillow", action="store_true")
    parser.add_argument("--only", default="", help="only the candidates whose name has this")
    args = parser.parse_args(argv)
    keep_freed_memory()  # as the server and the Lambda handler do at start
    with Image.open(args.image) as original:
        image = original.convert("RGB")
    chosen = candidates(args.pillow)
    chosen = {name: run for name, run in chosen.items() if args.only in name}
    reference: Candidate = lambda frame: frame.filter(ImageFilter.GaussianBlur(2))  # noqa: E731
    for candidate in (reference, *chosen.values()):  # warm up: imports, first allocations
        candidate(image.crop((0, 0, 64, 64)))
    times: dict[str, list[float]] = {name: [] for name in ("GaussianBlur(2)", *chosen)}
    ratios: dict[str, list[float]] = {name: [] for name in chosen}
    for _ in range(args.runs):
        gaussian = _seconds(reference, image)
        times["GaussianBlur(2)"].append(gaussian)
        for name, candidate in chosen.items():
            seconds = _seconds(candidate, image)
            times[name].append(seconds)
            ratios[name].append(seconds / gaussian)
    print(f"{args.image.name}: {image.width}x{image.height} RGB, {args.runs} interleaved rounds")
    print(f"{'':28} {'median s':>9} {'min-max s':>13} {'x GaussianBlur (median, min-max)':>34}")
    for name, timings in times.items():
        median, low, high = statistics.median(timings), min(timings), max(timings)
        line = f"{name:28} {median:9.3f} {low:6.3f}-{high:6.3f}"
        if name in ratios:
            ratio = ratios[name]
            line += f" {statistics.median(ratio):12.2f} ({min(ratio):.2f}-{max(ratio):.2f})"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
