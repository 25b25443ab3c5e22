"""Both sides' answers to one URL, and how the filter families compare pixels under a layer.

COMPOSITE (background_color, watermark, round_corner on RGBA, autojpg answers that stay PNG, and
our frame against its expected rendering): images with alpha are composited on grey and their
alpha channels compared as well (as in test_differential.py); the lower PSNR counts. Thumbor
composites in C doubles and truncates, Pillow's alpha_composite works in integers and rounds, so
pixels under a semi-transparent layer differ by a level or two: measured 51.2 .. 82.1 dB (or
identical), at most 2 levels on any pixel. One level on every pixel would be 48.1 dB, so the
check is PSNR >= 48 dB *and* no pixel off by more than 2 levels. Near misses, measured on
Thumbor's answers (test_overlays.py's test_thresholds_catch_errors re-measures them): a
background colour 3 levels off 48.3 dB but max diff 3, 7 levels off 40.7 dB; a watermark one
pixel to the right 38.9 dB, one pixel down 37.0 dB; w_ratio 11 instead of 10 46.4 dB. Not
caught: the watermark's alpha one percent off (2 or 3 levels of the mark's alpha; 49.8 .. 67 dB).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from tests.images import decode
from tests.peers.compare import alpha, flatten, psnr
from tests.peers.filter_families.sources import SIZES
from tests.peers.thumbor_peer import fetch
from thumbor_urls.app import App
from thumbor_urls.messages import Request

COMPOSITE_PSNR = 48.0
COMPOSITE_MAX_DIFF = 2


@dataclass(frozen=True)
class Answer:
    """One side's answer to a URL."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def image(self) -> Image.Image:
        assert self.status == 200, (self.status, self.body[:300])
        return decode(self.body)

    def json(self) -> dict[str, Any]:
        assert self.status == 200, (self.status, self.body[:300])
        value: dict[str, Any] = json.loads(self.body)["thumbor"]
        return value


def theirs(base: str, path: str) -> Answer:
    """Thumbor's answer (`base`: the running Thumbor's URL)."""
    status, headers, body = fetch(base + path)
    return Answer(status, headers, body)


def ours(app: App, path: str) -> Answer:
    """Our App's answer, in process."""
    response = app.handle(Request("GET", path))
    headers = {name.lower(): value for name, value in response.headers.items()}
    return Answer(response.status, headers, response.body)


def source(root: Path, name: str) -> Image.Image:
    """A source as both sides read it."""
    with Image.open(root / name) as image:
        image.load()
        return image.copy()


def pixels(image: Image.Image) -> list[tuple[int, ...]]:
    """Every pixel as a tuple of band values, row by row."""
    return [tuple(pixel) for pixel in image.get_flattened_data()]  # type: ignore[arg-type]


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    return tuple(value) if isinstance(value, tuple) else (int(value),)  # type: ignore[arg-type]


def max_diff(a: Image.Image, b: Image.Image) -> int:
    """The largest difference in levels, composited on grey or in alpha."""
    colour = ImageChops.difference(flatten(a), flatten(b)).getextrema()
    alphas = ImageChops.difference(alpha(a), alpha(b)).getextrema()
    highs = [high for _, high in colour] + [alphas[1]]  # type: ignore[misc]
    return int(max(highs))


def composite_ok(a: Image.Image, b: Image.Image) -> bool:
    """The COMPOSITE check (this module's docstring)."""
    return psnr(a, b) >= COMPOSITE_PSNR and max_diff(a, b) <= COMPOSITE_MAX_DIFF


def png_url(filters: str, name: str, size: str | None = None) -> str:
    """`filters` then format(png), at the source's own size unless `size` says otherwise."""
    width, height = SIZES[name]
    size = size or f"{width}x{height}"
    chain = f"{filters}:format(png)" if filters else "format(png)"
    return f"/unsafe/{size}/filters:{chain}/{name}"
