"""The worst requests the memory budget lets through, and their measured peaks.

`python -m bench.limits`: for a local server with --threads 4 (MEMORY_LIMIT_MB 1024) and for a
Lambda function of 1024 MB, the per-request budget each derives, then for a few shapes of
request (noise, the worst content) the source size whose estimate comes closest to that budget
from below; each such request runs in a fresh process with that budget in force and its real
peak is printed beside the budget. README "Limits" shows the output.
"""

from __future__ import annotations

import io
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from PIL import Image

from tests.budget_cases import noise
from tests.peak import measure
from thumbor_urls import budget, pipeline
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.errors import ImageTooLarge
from thumbor_urls.url import parse_path

MiB = budget.MiB
# What the process holds when the App starts, which the budget is derived from (measured here:
# `serve` 24 MiB; the Lambda handler, boto3 included, 40 MiB).
IDLE = {"local server, 4 threads": 24 * MiB, "Lambda, 1024 MB": 40 * MiB}


class Shape(NamedTuple):
    name: str
    path: str  # after /unsafe/, of the source `src.*`
    make: Callable[[int], bytes]  # the source at side `n`
    suffix: str


def _encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _gif(side: int) -> bytes:
    frames = [noise((side, side), "P", seed) for seed in range(10)]
    return _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)


SHAPES = (
    Shape(
        "PNG with alpha, served whole as PNG",
        "filters:format(png)/src.png",
        lambda n: _encoded(noise((n, n), "RGBA"), "PNG", compress_level=1),
        "png",
    ),
    Shape(
        "progressive JPEG, served whole at quality 95",
        "filters:quality(95)/src.jpg",
        lambda n: _encoded(noise((n, n), "RGB"), "JPEG", quality=90, progressive=True),
        "jpg",
    ),
    Shape(
        "blur(150) on the whole picture",
        "filters:blur(150):format(jpeg)/src.png",
        lambda n: _encoded(noise((n, n), "RGB"), "PNG", compress_level=1),
        "png",
    ),
    Shape("animated GIF, 10 frames, to 100x100", "fit-in/100x100/src.gif", _gif, "gif"),
)


def estimate(folder: Path, shape: Shape, side: int) -> int:
    (folder / f"src.{shape.suffix}").write_bytes(shape.make(side))
    settings = Settings(FILE_LOADER_ROOT_PATH=folder, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None)
    app = App(settings.replace(MAX_REQUEST_MEMORY_MB=2**20, MAX_REQUEST_CPU_SECONDS=3600.0))
    plan = parse_path(shape.path)
    job = app.job(plan, app.source.load(plan.image))
    pipeline.run(job, pipeline.PIPELINE[:6])  # up to the budget check
    assert job.estimate is not None
    return job.estimate.peak


def largest_within(folder: Path, shape: Shape, limit: int) -> tuple[int, int]:
    """The side whose estimate comes closest to `limit` from below (with the source within
    MAX_SOURCE_BYTES), and that estimate: the estimate grows with the pixels, so two points
    give the side, then it is walked down."""
    low, high = 200, 600
    a, b = estimate(folder, shape, low), estimate(folder, shape, high)
    per_pixel = (b - a) / (high * high - low * low)
    side = int(math.sqrt(max((limit - a) / per_pixel + low * low, 1)))
    while side > 16:
        try:
            peak = estimate(folder, shape, side)
        except ImageTooLarge:  # the source itself is over MAX_SOURCE_BYTES
            peak = limit + 1
        if peak <= limit:
            return side, peak
        side = int(side * 0.98)
    return side, estimate(folder, shape, side)


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="limits-"))
    print("| where | budget per request | request at the budget | source | estimate | measured |")
    print("|---|---|---|---|---|---|")
    for where, idle in IDLE.items():
        if where.startswith("Lambda"):
            os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "1024"
            limit = budget.memory_per_request(None, 1, idle, None)
        else:
            os.environ.pop("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", None)
            limit = budget.memory_per_request(None, 4, idle, None)
        limit = limit // MiB * MiB  # MAX_REQUEST_MEMORY_MB is whole MiB
        for shape in SHAPES:
            side, peak = largest_within(folder, shape, limit)
            (folder / f"src.{shape.suffix}").write_bytes(shape.make(side))
            result = measure(
                folder, "/unsafe/" + shape.path, {"MAX_REQUEST_MEMORY_MB": limit // MiB}
            )
            measured = f"{result.measured / MiB:.0f} MiB" if result.status == 200 else "refused"
            print(
                f"| {where} | {limit / MiB:.0f} MiB | {shape.name} | {side}x{side} | "
                f"{peak / MiB:.0f} MiB | {measured} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
