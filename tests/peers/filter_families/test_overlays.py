"""background_color and watermark: the real Thumbor 7.8.0 against our App, compared as COMPOSITE
(answers.py: PSNR >= 48 dB and no pixel off by more than 2 levels, with the measurements).

test_thresholds_catch_errors re-measures the near misses COMPOSITE must fail on Thumbor's own
answers: a background colour 3 or 7 levels off, a watermark one pixel to the right or down,
w_ratio 11 instead of 10.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import ImageChops

from tests.peers.compare import alpha, psnr
from tests.peers.filter_families.answers import (
    COMPOSITE_MAX_DIFF,
    COMPOSITE_PSNR,
    composite_ok,
    max_diff,
    ours,
    png_url,
    source,
    theirs,
)
from tests.peers.filter_families.differences import (
    Bug,
    Difference,
    Peers,
    bug_tests,
    difference_test,
)
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request


@dataclass(frozen=True)
class Overlay:
    filter: str
    source: str
    identity: bool = False  # Thumbor rightly leaves the picture as it was


def overlay(filter_text: str, *sources: str, identity: bool = False) -> list[Any]:
    return [
        pytest.param(Overlay(filter_text, name, identity), id=f"{filter_text}-{name}")
        for name in sources
    ]


OVERLAY_CASES = [
    *overlay("background_color(ff0000)", "cutout.png"),
    *overlay("background_color(blue)", "cutout.png"),
    *overlay("background_color(00ff0080)", "cutout.png"),  # a half-transparent background
    *overlay("background_color(blue)", "astronaut.png", identity=True),  # nothing transparent
    # watermark(image, x, y, alpha[, w_ratio, h_ratio])
    *overlay("watermark(wm.png,10,20,0)", "astronaut.png", "cutout.png"),
    *overlay("watermark(wm.png,-10,-20,50)", "astronaut.png"),  # from the right/bottom
    *overlay("watermark(wm.png,-0,-0,0,none,30)", "astronaut.png"),  # flush bottom-right
    *overlay("watermark(wm.png,30p,-40p,0)", "astronaut.png"),  # percent
    *overlay("watermark(wm.png,-20p,50p,0)", "cutout.png"),
    *overlay("watermark(wm.png,center,center,30)", "astronaut.png"),
    *overlay("watermark(wm.png,center,center,40,40,40)", "cutout.png"),
    *overlay("watermark(wm.png,center,center,0,10,10)", "astronaut.png"),
    *overlay("watermark(wm.png,0,0,0,50,none)", "astronaut.png"),
    *overlay("watermark(wm.png,repeat,repeat,20)", "astronaut.png"),
    *overlay("watermark(wm.png,repeat,repeat,0,10,none)", "cutout.png"),
    # 15x9 marks: 20x22 would tile 440 times; Thumbor caps a mosaic above 100 at 6x6.
    *overlay("watermark(wm.png,repeat,repeat,0,5,none)", "astronaut.png"),
    # Wider than the image: ceil(300/360) = 1 copy, Thumbor's "space of 10" branch.
    *overlay("watermark(wm.png,repeat,repeat,0,120,none)", "astronaut.png"),
    *overlay("watermark(wm.png,repeat,10,0)", "astronaut.png"),
    *overlay("watermark(wm.png,center,repeat,0)", "astronaut.png"),
    *overlay("watermark(wm.png,280,190,0)", "astronaut.png"),  # mostly outside: clipped
    *overlay("watermark(astronaut.png,0,0,50,100,100)", "dandelions.png", "cutout.png"),
    *overlay("watermark(wm.png,-300,-250,0)", "astronaut.png", identity=True),  # all outside
    *overlay("watermark(wm.png,10,10,100)", "astronaut.png", identity=True),  # alpha 100
]


@pytest.mark.parametrize("case", OVERLAY_CASES)
def test_overlay_matches_thumbor(
    thumbor: str, app: App, root: Path, case: Overlay, record_property: Callable[..., None]
) -> None:
    path = png_url(case.filter, case.source)
    mine, their = ours(app, path).image(), theirs(thumbor, path).image()
    # Our output keeps the source's alpha or its absence (Thumbor's is always RGBA: see
    # DIFFERENCES); what shows is compared.
    assert ("A" in mine.getbands()) == ("A" in source(root, case.source).getbands())
    value, worst = psnr(mine, their), max_diff(mine, their)
    record_property("psnr", value)
    print(f"PSNR {value:.2f} dB, max diff {worst}  {case.filter}  {case.source}")
    unfiltered = source(root, case.source)
    assert (psnr(their, unfiltered) == math.inf) == case.identity, "Thumbor ignored it?"
    assert value >= COMPOSITE_PSNR
    assert worst <= COMPOSITE_MAX_DIFF


# --- Differences: on purpose, or Thumbor's bugs --------------------------------------------------


def _check_opaque_overlay_mode(peers: Peers) -> None:
    # Thumbor's paste() calls enablealpha(): an RGB source comes back as an RGBA PNG, every
    # pixel opaque. We keep RGB: the same pixels in a smaller file.
    for filters in ("watermark(wm.png,10,20,0)", "background_color(blue)"):
        path = png_url(filters, "astronaut.png")
        their, mine = theirs(peers.thumbor, path), ours(peers.app, path)
        assert their.image().mode == "RGBA" and alpha(their.image()).getextrema() == (255, 255)
        assert mine.image().mode == "RGB"
        assert len(mine.body) < len(their.body)


DIFFERENCES = [
    Difference(
        "overlay-on-opaque-source-mode",
        "watermark/background_color on an RGB source: Thumbor writes an opaque RGBA PNG, we RGB",
        _check_opaque_overlay_mode,
    ),
]


test_difference = difference_test(DIFFERENCES)


# --- Bugs of ours this test found, fixed since; each stays as a regression test ------------------


_NEGATIVE_RATIO = "watermark(wm.png,10,10,0,-20,none)"


def _thumbor_negative_ratio(peers: Peers) -> None:
    assert theirs(peers.thumbor, png_url(_NEGATIVE_RATIO, "astronaut.png")).status == 500


def _our_negative_ratio(peers: Peers) -> None:
    # A negative ratio means nothing: skipped like any bad argument (the unfiltered image, and
    # a 400 with STRICT_FILTERS), as the README promises for arguments that make Thumbor fail.
    path = png_url(_NEGATIVE_RATIO, "astronaut.png")
    mine = ours(peers.app, path).image()
    original = source(peers.root, "astronaut.png")
    difference = ImageChops.difference(mine, original).getbbox(alpha_only=False)
    print(f"changed box {difference} (None expected)")
    assert difference is None
    strict = App(
        Settings(
            FILE_LOADER_ROOT_PATH=peers.root,
            RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None,
            STRICT_FILTERS=True,
        )
    )
    assert strict.handle(Request("GET", path)).status == 400


OUR_BUGS = [
    Bug(
        "watermark-negative-ratio",
        "watermark(..., -20, none): we draw a 1x1 pixel watermark; Thumbor fails "
        "(500); the argument should be skipped as bad",
        _thumbor_negative_ratio,
        _our_negative_ratio,
    ),
]


test_our_bug_thumbor_side, test_our_bug_is_fixed = bug_tests(OUR_BUGS)


# --- The thresholds catch near misses (measured on Thumbor's own answers) ------------------------


COMPOSITE_CONTROLS = [
    ("background_color(ff0000)", "background_color(fc0000)", "cutout.png"),
    ("background_color(ff0000)", "background_color(f80000)", "cutout.png"),
    ("watermark(wm.png,10,20,0)", "watermark(wm.png,11,20,0)", "astronaut.png"),
    ("watermark(wm.png,10,20,0)", "watermark(wm.png,10,21,0)", "astronaut.png"),
    (
        "watermark(wm.png,center,center,0,10,10)",
        "watermark(wm.png,center,center,0,11,10)",
        "astronaut.png",
    ),
]


@pytest.mark.parametrize(("right", "wrong", "name"), COMPOSITE_CONTROLS)
def test_thresholds_catch_errors(thumbor: str, right: str, wrong: str, name: str) -> None:
    a = theirs(thumbor, png_url(right, name)).image()
    b = theirs(thumbor, png_url(wrong, name)).image()
    print(f"near miss {wrong}: PSNR {psnr(a, b):.2f} dB, max diff {max_diff(a, b)}")
    assert not composite_ok(a, b)
