"""The two Python engines of the benchmark and the full-quality reference.

- `ours`: the service's App, called the way the server calls it (Request in, Response out),
  with the original served from memory and no result cache.
- `pillow`: plain Pillow without our tricks: open, exif_transpose, crop, resize LANCZOS,
  filters, save. With no encode it is also the reference the PSNR is measured against: full
  decode (no DCT scaling), LANCZOS, lossless.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter, ImageOps

from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request
from thumbor_urls.sources import Original

JobSpec = dict[str, Any]
Run = Callable[[JobSpec], bytes]


class MemorySource:
    """Originals held in memory, so that no engine pays for file reads in the timings."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def load(self, key: str) -> Original:
        return Original(self.files[key])

    def last_modified(self, key: str) -> float | None:
        return None

    def identity(self, key: str) -> str:
        return key


class Engines:
    def __init__(self) -> None:
        self.source = MemorySource()
        # Defaults, not the environment: a stray QUALITY=90 must not skew a run. No detectors:
        # smart/ crops around the alignment, as Thumbor's default does.
        settings = Settings.from_env({}).replace(
            RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None, DETECTORS=()
        )
        self.app = App(settings, source=self.source)

    def data(self, job: JobSpec) -> bytes:
        name = job["name"]
        if name not in self.source.files:
            self.source.files[name] = Path(job["input"]).read_bytes()
        return self.source.files[name]

    def ours(self, job: JobSpec) -> bytes:
        self.data(job)
        response = self.app.handle(Request("GET", job["url"]))
        if response.status != 200:
            raise RuntimeError(f"{job['url']}: {response.status} {response.body[:300]!r}")
        return response.body

    def pillow(self, job: JobSpec) -> bytes:
        frames, durations = reference(job, self.data(job))
        return save(frames, durations, job["save"])


def reference(job: JobSpec, data: bytes) -> tuple[list[Image.Image], list[int]]:
    """Plain Pillow's pixels for `job`, before encoding: every frame, and the durations."""
    image = Image.open(io.BytesIO(data))
    frames: list[Image.Image] = []
    durations: list[int] = []
    count = getattr(image, "n_frames", 1) if job["animated"] else 1
    for index in range(count):
        image.seek(index)
        frame = image.convert("RGBA") if image.mode == "P" else image.copy()
        durations.append(int(image.info.get("duration", 0) or 0))
        frame = ImageOps.exif_transpose(frame)
        if job["crop"]:
            frame = frame.crop(tuple(job["crop"]))
        size = tuple(job["size"])
        if frame.size != size:
            frame = frame.resize(size, Image.Resampling.LANCZOS)
        for op in job["pillow"]:
            frame = _apply(frame, op)
        frames.append(frame)
    return frames, durations


def _apply(image: Image.Image, op: list[Any]) -> Image.Image:
    name = op[0]
    if name == "grayscale":
        return image.convert("LA" if "A" in image.getbands() else "L")
    if name == "blur":
        return image.filter(ImageFilter.GaussianBlur(op[1]))
    if name == "rotate":  # counter-clockwise, as Thumbor's rotate()
        return image.rotate(op[1], expand=True)
    if name == "fill":
        _, color, width, height = op
        canvas = Image.new(image.mode, (width, height), color)
        canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
        return canvas
    raise ValueError(f"unknown plain-Pillow operation {name!r}")


def save(frames: list[Image.Image], durations: list[int], options: dict[str, Any]) -> bytes:
    params = dict(options)
    fmt = params.pop("format")
    if fmt == "JPEG":
        frames = [f.convert("RGB") if f.mode not in ("RGB", "L") else f for f in frames]
    if len(frames) > 1:
        params.update(save_all=True, append_images=frames[1:], duration=durations, loop=0)
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, **params)
    return buffer.getvalue()
