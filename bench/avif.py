"""AVIF_SPEED: what each aom speed costs and gives, on the bench's AVIF job.

`python -m bench.avif [--runs N] [--speeds 6,7,8,9] [--threads K] [IMAGE...]`: the two big
photos of the corpus by default, fitted in 800x800 once (as the bench's avif800 job; quality 80,
our default), then every speed encoded round by round, interleaved; prints each speed's median
time, its median per-round ratio to speed 6 (Pillow's default, and Thumbor's), the file size and
the PSNR of the decoded file against the pixels it was given. One encoder thread by default, as
`make bench` runs every engine on one core.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
PHOTOS = ("photo_seeding_dandelions_5312x2988_cc0.jpg", "photo_sunset_4272x2848.jpg")
BASELINE = 6  # Pillow's default speed


def _fit_in(path: Path, side: int) -> Image.Image:
    with Image.open(path) as source:
        source.draft("RGB", (side, side))
        image = source.convert("RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def _psnr(a: Image.Image, b: Image.Image) -> float:
    stat = ImageStat.Stat(ImageChops.difference(a, b))
    mse = sum(stat.sum2) / (len(stat.sum2) * a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def _encode(image: Image.Image, speed: int, threads: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "AVIF", quality=80, speed=speed, max_threads=threads)
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--speeds", default="4,5,6,7,8,9")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("images", nargs="*", type=Path, default=[CORPUS / p for p in PHOTOS])
    args = parser.parse_args(argv)
    speeds = sorted({int(s) for s in args.speeds.split(",")} | {BASELINE})
    print(f"AVIF at quality 80, {args.threads} encoder thread(s), {args.runs} interleaved runs")
    print("| photo | speed | ms | / speed 6 | KB | / speed 6 | PSNR dB |")
    print("|---|---|---|---|---|---|---|")
    for path in args.images:
        image = _fit_in(path, 800)
        times: dict[int, list[float]] = {speed: [] for speed in speeds}
        outputs: dict[int, bytes] = {}
        for _ in range(args.runs):
            for speed in speeds:
                started = time.perf_counter()
                outputs[speed] = _encode(image, speed, args.threads)
                times[speed].append(time.perf_counter() - started)
        for speed in speeds:
            ratio = statistics.median(
                t / base for t, base in zip(times[speed], times[BASELINE], strict=True)
            )
            size = len(outputs[speed])
            decoded = Image.open(io.BytesIO(outputs[speed])).convert("RGB")
            print(
                f"| {path.name} {image.width}x{image.height} | {speed} "
                f"| {statistics.median(times[speed]) * 1000:.0f} | {ratio:.2f} "
                f"| {size / 1024:.1f} | {size / len(outputs[BASELINE]):.2f} "
                f"| {_psnr(image, decoded):.2f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
