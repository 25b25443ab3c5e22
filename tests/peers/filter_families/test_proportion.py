"""proportion: the real Thumbor 7.8.0 against our App, EXACT: both resize the same pixels with
Pillow's LANCZOS, so the answers are identical."""

from __future__ import annotations

import math

import pytest

from tests.peers.compare import psnr
from tests.peers.filter_families.answers import ours, png_url, theirs
from thumbor_urls.app import App

PROPORTION_CASES = [
    ("proportion(0.5)", "astronaut.png", (150, 100)),
    ("proportion(0.37)", "astronaut.png", (111, 74)),
    ("proportion(0.999)", "astronaut.png", (299, 199)),  # int(299.7): truncated
    ("proportion(0.5)", "cutout.png", (160, 90)),
    ("proportion(0.33)", "cutout.png", (105, 59)),
    ("proportion(.25)", "cutout.png", (80, 45)),
    ("proportion(1.5)", "astronaut.png", (300, 200)),  # above 1: ignored
    ("proportion(0.001)", "cutout.png", (320, 180)),  # under one pixel: ignored
]


@pytest.mark.parametrize(("filter_text", "name", "size"), PROPORTION_CASES)
def test_proportion_matches_thumbor(
    thumbor: str, app: App, filter_text: str, name: str, size: tuple[int, int]
) -> None:
    path = png_url(filter_text, name)
    mine, their = ours(app, path).image(), theirs(thumbor, path).image()
    assert mine.size == their.size == size
    assert mine.mode == their.mode
    assert psnr(mine, their) == math.inf
