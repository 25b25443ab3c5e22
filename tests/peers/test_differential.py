"""Differential test: the real Thumbor 7.8.0 and our server answer the same URL list.

Both run as real HTTP servers on 127.0.0.1 over one folder of images, once per module:
Thumbor from its own venv (tests/peers/install_thumbor.sh) with its file loader and its
default settings, ours as `python -m thumbor_urls serve --no-result-storage` with our defaults.

* IMAGE_CASES: both answer 200; same Content-Type, decoded format and size, frame count,
  Cache-Control max-age, Vary, ICC/EXIF presence and progressiveness, and pixels that agree
  (PSNR, thresholds below).
* META_CASES: `meta/` JSON, operations (crop boxes, resizes, flips), target and focal points,
  compared numerically (Thumbor writes 300.0 where we write 300).
* STATUS_CASES: both answer a 4xx, with the exact codes of each side.
* DELIBERATE_DIFFERENCES: where we differ from Thumbor on purpose (README, "What we do
  differently"); FOUND_DIFFERENCES: other differences this test turned up that are not bugs of
  ours (several are Thumbor's). Each has its reason and a check that asserts our behaviour
  and Thumbor's, so a change on either side shows up here.

A case that fails because of a bug of ours is marked `xfail(strict=True)` with the reason,
through `case(..., xfail="...")`.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageSequence

from tests.helpers import free_port
from tests.images import SAMPLES, decode, gradient
from tests.peers.compare import json_numbers, psnr
from tests.peers.thumbor_peer import REPO_ROOT, fetch, run_thumbor
from thumbor_urls.config import Settings

# --- PSNR thresholds ------------------------------------------------------------------------
#
# The two servers do not compute the same pixels, by design:
# * Thumbor lets the JPEG decoder scale down (draft(): DCT scaling by 1/2, 1/4, 1/8) only when
#   it does not crop, then resizes with LANCZOS. We plan the geometry from the header first,
#   so we also draft when the request crops, and then crop and resize in one pass
#   (resize(box=...)) with reducing_gap=2 (a box reduce by an integer factor, then LANCZOS).
#   Without a crop both decode with the same draft, and the outputs are often byte-identical.
# * Both encode at quality 80, so a small pixel difference comes back through two separate
#   lossy encodings (JPEG, WebP), which adds its own error.
#
# Measured on this URL list (Pillow 13.0 here, 12.3 in Thumbor's venv), by family:
#   photos and lossy outputs (PHOTO_PSNR): 36.1 .. 67.9 dB; 13 of 34 cases byte-identical
#     pixels. The lowest, 36.1, is `10x10:500x400/fit-in/-200x-200/astronaut.jpg`: a sharp
#     photo, cropped, that we draft to 1/2 and then resize by 1.2 where Thumbor resizes the
#     full decode by 2.45 (with drafting turned off, JPEG_DRAFT_MIN_RATIO=8, it measures
#     51.1). Cropped dandelions.jpg (drafted by us, not by Thumbor): 39.6 .. 43.4 dB; WebP
#     40.4 and 42.2.
#   synthetic gradients (SMOOTH_PSNR): 51.3 .. 75.9 dB; 25 of 38 identical.
#   PNG sources written as PNG (LOSSLESS_PSNR): 51.6 .. 57.3 dB, none identical (with
#     reducing_gap=3, which reduces nothing below 6x: 54.0 .. 74.7 dB, 2 identical).
#   animated GIF (GIF_PSNR), the lowest over its 16 frames: 30.05 dB.
#
# What the thresholds catch (test_thresholds_catch_errors measures it on Thumbor's own
# output): on dandelions.jpg a crop off by one output pixel gives 29.4 dB, by two 25.1 dB;
# a flip, a grayscale or a wrong alignment 9..21 dB. On the smooth gradients a crop off by two
# output pixels still gives 44.0 dB, three 41.0 dB: the crop boxes themselves are checked
# exactly by the meta/ cases.
#
# PHOTO_PSNR: 30 dB, the usual bound for "looks the same" in 8-bit photos; 6 dB under the
# lowest correct photo case, above a one-pixel crop shift.
PHOTO_PSNR = 30.0
# SMOOTH_PSNR: gradients hardly change under a different resampling path, so the bound can be
# much tighter: 6 dB under the lowest measured (51.3), and a crop off by 2 output px fails.
SMOOTH_PSNR = 45.0
SMOOTH_SOURCES = frozenset({"g800x600.jpg", "g600x800.jpg", "g300x200.jpg", "trim.png"})
# LOSSLESS_PSNR: a PNG source written as PNG: the same decode on both sides and no lossy
# encoding; only the resampling path differs (reducing_gap). 6.6 dB under the lowest (51.6).
LOSSLESS_PSNR = 45.0
# GIF_PSNR: Thumbor converts every frame with convert("P") (Pillow's default: the fixed web
# palette with Floyd-Steinberg dithering); our encoder builds an adaptive palette per frame.
# Two different 256-colour reductions of the same frame agree to about 30 dB (measured
# 30.0 .. 33.1 over the 16 frames); a frame out of order (the pan moves a few pixels a frame)
# measures 13..17 dB.
GIF_PSNR = 27.0

# Alpha images are composited on grey before comparing, and their alpha channels are compared
# on their own as well (tests/peers/compare.py).


def expected_psnr(path: str, content_type: str) -> float:
    """The threshold for a URL whose answer has `content_type` (see above)."""
    source = path.rsplit("/", 1)[-1]
    if source.endswith(".gif"):
        return GIF_PSNR
    if source in SMOOTH_SOURCES:
        return SMOOTH_PSNR
    if source.endswith(".png") and content_type == "image/png":
        return LOSSLESS_PSNR
    return PHOTO_PSNR


@dataclass(frozen=True)
class Case:
    """One URL path; `min_psnr` overrides expected_psnr(), with `why`."""

    path: str
    min_psnr: float | None = None
    why: str = ""


def case(path: str, min_psnr: float | None = None, why: str = "", xfail: str = "") -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(Case(f"/unsafe/{path}", min_psnr, why), id=path, marks=marks)


# Sources (make_root). Sizes as stored:
#   dandelions.jpg 5312x2988 photo; astronaut.jpg 512x512 photo; astronaut.png 512x512 RGB
#   with an ICC profile; dandelions-cutout.png 1600x900 RGBA with a soft alpha edge;
#   dandelions-exif-rotated.jpg 1350x2400 with EXIF Orientation 6; pan.gif 480x270, 16 frames
#   of 80 ms; g800x600.jpg, g600x800.jpg, g300x200.jpg gradient JPEGs q95; trim.png 400x300
#   white around a 360x260 gradient at (20, 20); "my photo.jpg" a copy of g300x200.jpg;
#   anim.gif 160x120, 4 frames of 50 ms; notimage.jpg a text file.
IMAGE_CASES = [
    # Sizes, crop mode (the default).
    case("300x200/dandelions.jpg"),
    case("300x0/dandelions.jpg"),
    case("x150/dandelions.jpg"),
    case("301x0/dandelions.jpg"),  # 169.3: rounding of the missing side
    case("0x301/dandelions.jpg"),
    case("300x200/astronaut.jpg"),
    case("1000x1000/g300x200.jpg"),  # upscales by default
    case("600x0/g300x200.jpg"),
    case("300xorig/g800x600.jpg"),  # crop, no resize
    case("origx100/g800x600.jpg"),
    case("0x0/g800x600.jpg"),
    case("origxorig/astronaut.jpg"),
    case("-origx-orig/astronaut.jpg"),
    case("filters:format(png)/astronaut.jpg"),  # no size at all
    # fit-in family.
    case("fit-in/300x300/dandelions.jpg"),
    case("fit-in/301x301/dandelions.jpg"),  # fit-in rounds half up
    case("fit-in/0x300/dandelions.jpg"),
    case("fit-in/300x200/g600x800.jpg"),
    case("fit-in/1000x1000/g300x200.jpg"),  # never upscales
    case("fit-in/origx300/g800x600.jpg"),
    case("fit-in/astronaut.jpg"),
    case("full-fit-in/300x200/g800x600.jpg"),
    case("full-fit-in/1000x1000/g300x200.jpg"),  # covers the box, upscales
    case("adaptive-fit-in/300x200/g600x800.jpg"),  # box swapped
    case("adaptive-full-fit-in/300x200/g600x800.jpg"),
    # Manual crops.
    case("100x100:500x400/200x0/g800x600.jpg"),
    case("100x100:5000x5000/g800x600.jpg"),  # clamped to the image
    case("100x100:5000x5000/200x0/g800x600.jpg"),
    case("100x100:100x100/200x200/g800x600.jpg"),  # empty: ignored
    case("300x300:100x100/g800x600.jpg"),  # inverted: ignored
    case("10x10:790x590/fit-in/300x300/g800x600.jpg"),
    case("1000x500:3000x2500/300x200/dandelions.jpg"),
    case("10x10:500x400/fit-in/-200x-200/astronaut.jpg"),  # the lowest PSNR: see above
    # Flips, alignment (smart/: DELIBERATE_DIFFERENCES, and test_differential_features.py).
    case("-300x200/g800x600.jpg"),
    case("300x-200/dandelions.jpg"),
    case("-300x-200/astronaut.jpg"),
    case("300x100/left/g800x600.jpg"),
    case("300x100/right/top/g800x600.jpg"),
    case("300x100/bottom/g800x600.jpg"),
    case("100x300/right/dandelions.jpg"),
    case("100x300/left/astronaut.jpg"),
    # Trim.
    case("trim/trim.png"),
    case("trim:bottom-right/trim.png"),
    case("trim:top-left:10/trim.png"),
    case("trim/300x200/trim.png"),
    case("trim/10x10:100x100/trim.png"),  # crop in original coordinates, moved by the trim
    case("trim/fit-in/1000x1000/trim.png"),
    case("trim/-200x-100/right/trim.png"),
    # Filters.
    case("300x200/filters:quality(50)/dandelions.jpg"),
    case("300x200/filters:format(png)/astronaut.jpg"),
    case("300x200/filters:format(webp)/astronaut.jpg"),
    case("300x200/filters:format(gif)/astronaut.jpg"),
    case("300x200/filters:format(jpeg)/astronaut.png"),  # ICC kept
    case("fit-in/300x200/filters:fill(red)/g800x600.jpg"),
    case("full-fit-in/300x200/filters:fill(red)/g800x600.jpg"),  # larger than the box
    case("fit-in/300x300/filters:rotate(90):fill(red)/g800x600.jpg"),  # URL order
    case("fit-in/300x200/filters:fill(blue,1)/dandelions-cutout.png"),
    case("fit-in/300x300/filters:fill(red)/dandelions-cutout.png"),
    case("fit-in/300x300/filters:fill(transparent,1)/dandelions-cutout.png"),
    # Our grayscale JPEG is mode L (one channel); Thumbor writes every JPEG as RGB. The same
    # grey pixels either way; only the file is smaller.
    case("300x200/filters:grayscale()/dandelions.jpg"),
    case("300x200/filters:grayscale()/dandelions-cutout.png"),
    case("300x200/filters:no_upscale()/g800x600.jpg"),
    case("1000x1000/filters:no_upscale()/g800x600.jpg"),
    case("fit-in/1000x1000/filters:upscale()/g800x600.jpg"),
    case("300x200/filters:stretch()/g800x600.jpg"),
    # strip_icc() on a PNG: Thumbor keeps the profile (its bug); filter_families/
    # test_output_options.py asserts both sides of that difference.
    case("300x200/filters:strip_exif()/dandelions.jpg"),
    case("300x200/filters:max_age(60)/astronaut.jpg"),
    case("300x200/filters:rotate(90)/g800x600.jpg"),
    case("fit-in/300x200/filters:rotate(90)/dandelions.jpg"),
    case("300x200/filters:rotate(45)/g800x600.jpg"),  # not a multiple of 90: ignored
    case("300x200/filters:nope()/astronaut.jpg"),  # unknown filter: ignored
    case("300x200/filters:quality(abc)/astronaut.jpg"),  # bad argument: ignored
    # RGBA PNG source.
    case("300x200/dandelions-cutout.png"),
    case("fit-in/400x400/dandelions-cutout.png"),
    case("-200x150/left/dandelions-cutout.png"),
    case("100x100/right/bottom/dandelions-cutout.png"),
    case("300x200/filters:format(webp)/dandelions-cutout.png"),
    # Animated GIF: frame count and every frame (durations: DELIBERATE_DIFFERENCES).
    case("300x200/pan.gif"),
    # A percent-encoded name.
    case("300x200/my%20photo.jpg"),
]

META_CASES = [
    "meta/300x200/g800x600.jpg",
    "meta/fit-in/300x200/filters:grayscale()/g800x600.jpg",
    "meta/-300x-200/g800x600.jpg",
    "meta/10x10:200x200/300x200/g800x600.jpg",
    "meta/10x10:200x200/g800x600.jpg",
    "meta/100x100:5000x5000/200x0/g800x600.jpg",
    "meta/300x300:100x100/g800x600.jpg",
    "meta/300xorig/g800x600.jpg",
    "meta/100x100:100x100/200x200/g800x600.jpg",
    "meta/300x100/right/top/g800x600.jpg",
    "meta/adaptive-fit-in/300x200/g600x800.jpg",
    "meta/300x200/filters:stretch()/g800x600.jpg",
    "meta/1000x1000/filters:no_upscale()/g800x600.jpg",
    "meta/300x200/dandelions.jpg",
    "meta/301x0/dandelions.jpg",
    "meta/trim/300x200/trim.png",
    "meta/trim/10x10:100x100/trim.png",
    "meta/300x200/pan.gif",
]


@dataclass(frozen=True)
class StatusCase:
    path: str
    ours: int
    thumbor: int
    why: str = ""  # why the two codes differ


STATUS_CASES = [
    StatusCase("/unsafe/300x200/missing.jpg", 404, 404),
    StatusCase("/unsafe/meta/missing.jpg", 404, 404),
    StatusCase("/unsafe/abcx/g800x600.jpg", 404, 404),  # read as the image path abcx/...
    StatusCase("/unsafe/300x200/../g800x600.jpg", 404, 404),
    StatusCase("/unsafe/FIT-IN/300x200/g800x600.jpg", 404, 404),
    StatusCase("/unsafe/", 400, 400),
    StatusCase(
        "/unsafe/300x200/filters:quality(50)",
        400,
        404,
        "no image named: our 400 InvalidUrl; Thumbor's route does not match",
    ),
    StatusCase(
        "/unsafe/300x200/filters:grayscale/g800x600.jpg",
        400,
        404,
        "a malformed filter list: our 400 InvalidUrl; Thumbor's route does not match",
    ),
    StatusCase(
        "/unsafe/meta/notimage.jpg",
        415,
        400,
        "not an image: 415 UnsupportedImageFormat (README, Errors); Thumbor answers 400",
    ),
    StatusCase(
        "/",
        404,
        400,
        "nothing at / (without the playground): 404 NoSuchKey, not a signature error since "
        "nothing was signed",
    ),
]


# --- Differences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    base: str  # the server that gave it, to ask it something else

    def image(self) -> Image.Image:
        return decode(self.body)


Check = Callable[[Answer, Answer], None]  # (ours, thumbor): asserts both sides' behaviour


@dataclass(frozen=True)
class Difference:
    path: str
    reason: str
    check: Check


def _check_orientation(ours: Answer, thumbor: Answer) -> None:
    # Thumbor (RESPECT_ORIENTATION=False) resizes the stored 1350x2400 pixels: 169x300
    # sideways. We turn it upright, 300x169: Thumbor's pixels turned 90 degrees clockwise.
    assert (ours.status, thumbor.status) == (200, 200)
    mine, theirs = ours.image(), thumbor.image()
    assert theirs.size == (169, 300)
    assert mine.size == (300, 169)
    assert not mine.getexif() and not theirs.getexif()  # EXIF dropped by default by both
    assert psnr(mine, theirs.transpose(Image.Transpose.ROTATE_270)) >= PHOTO_PSNR


def _durations(image: Image.Image) -> list[object]:
    durations = []
    for frame in ImageSequence.Iterator(image):
        frame.load()  # WebP sets a frame's duration when it is decoded
        durations.append(frame.info.get("duration"))
    return durations


def _check_gif_durations(ours: Answer, thumbor: Answer) -> None:
    # Thumbor's PIL engine saves with duration=d/1000, so its frames have no delay at all.
    assert ours.headers["content-type"] == thumbor.headers["content-type"] == "image/gif"
    mine, theirs = ours.image(), thumbor.image()
    assert getattr(mine, "n_frames", 1) == getattr(theirs, "n_frames", 1) == 16
    assert mine.info.get("loop") == theirs.info.get("loop") == 0
    assert _durations(mine) == [80] * 16
    assert not any(_durations(theirs))


def _check_gif_to_webp(ours: Answer, thumbor: Answer) -> None:
    assert ours.headers["content-type"] == "image/webp"
    assert thumbor.headers["content-type"] == "image/gif"  # format() ignored for animations
    mine = ours.image()
    assert (mine.size, getattr(mine, "n_frames", 1)) == ((120, 90), 4)
    assert _durations(mine) == [50] * 4


def _is_grey(image: Image.Image) -> bool:
    red, green, blue = image.convert("RGB").split()
    return ImageChops.difference(red, green).getbbox() is None and (
        ImageChops.difference(green, blue).getbbox() is None
    )


def _check_animated_filter(ours: Answer, thumbor: Answer) -> None:
    # Thumbor's filters change engine.image, but an animation is written from its frame
    # engines, so the filter is lost. We apply it to every frame.
    mine, theirs = ours.image(), thumbor.image()
    assert getattr(mine, "n_frames", 1) == getattr(theirs, "n_frames", 1) == 4
    assert all(_is_grey(frame) for frame in ImageSequence.Iterator(mine))
    assert not _is_grey(theirs)


def _check_error_status(ours_status: int) -> Check:
    def check(ours: Answer, thumbor: Answer) -> None:
        assert thumbor.status == 400
        assert ours.status == ours_status
        assert json.loads(ours.body)["status"] == ours_status  # ours is JSON, Thumbor's empty

    return check


def _check_meta_source(ours: Answer, thumbor: Answer) -> None:
    mine = json.loads(ours.body)["thumbor"]
    theirs = json.loads(thumbor.body)["thumbor"]
    assert (mine["source"]["width"], mine["source"]["height"]) == (5312, 2988)
    assert (theirs["source"]["width"], theirs["source"]["height"]) == (300, 200)
    assert mine["source"]["url"] == theirs["source"]["url"]
    assert mine["source"]["frameCount"] == theirs["source"]["frameCount"]


def _check_alpha_to_jpeg(ours: Answer, thumbor: Answer) -> None:
    # Thumbor's convert("RGB") drops the alpha and shows the RGB stored under transparent
    # pixels. Ours must equal Thumbor's PNG of the same geometry flattened onto white.
    assert ours.headers["content-type"] == thumbor.headers["content-type"] == "image/jpeg"
    mine, theirs = ours.image(), thumbor.image()
    assert mine.size == theirs.size == (300, 200)
    status, _, png = fetch(thumbor.base + "/unsafe/300x200/dandelions-cutout.png")
    assert status == 200
    expected = Image.new("RGBA", (300, 200), "white")
    expected.alpha_composite(decode(png).convert("RGBA"))
    assert psnr(mine, expected.convert("RGB")) >= PHOTO_PSNR
    assert psnr(theirs, expected.convert("RGB")) < 20  # Thumbor's is not that


def _check_transparent_fill_to_jpeg(ours: Answer, thumbor: Answer) -> None:
    # fill(transparent) pads 800x600 -> 300x225 to 300x300 with transparent bars; as a JPEG
    # they are white here and black in Thumbor (its transparent fill colour is (0,0,0,0)).
    mine, theirs = ours.image().convert("RGB"), thumbor.image().convert("RGB")
    assert mine.size == theirs.size == (300, 300)
    assert all(v > 245 for v in _pixel(mine, (150, 10)))
    assert all(v < 10 for v in _pixel(theirs, (150, 10)))
    assert psnr(mine.crop((0, 38, 300, 262)), theirs.crop((0, 38, 300, 262))) >= SMOOTH_PSNR


def _check_smart_default(ours: Answer, thumbor: Answer) -> None:
    # Thumbor has no detector unless configured: its smart/ crops around the alignment. Ours,
    # with DETECTORS unset, uses every detector installed (features with OpenCV, else
    # saliency); with the same detectors the crops are Thumbor's (test_differential_smart.py,
    # test_differential_features.py).
    mine = json.loads(ours.body)["thumbor"]
    theirs = json.loads(thumbor.body)["thumbor"]
    assert [p["origin"] for p in theirs["focal_points"]] == ["alignment"]
    assert (theirs["focal_points"][0]["x"], theirs["focal_points"][0]["y"]) == (0, 0)  # left/top
    assert mine["detector"] in ("features", "saliency")
    assert len(mine["focal_points"]) > 1
    assert json_numbers(mine["operations"]) != json_numbers(theirs["operations"])
    assert json_numbers(mine["target"]) == json_numbers(theirs["target"])


def _pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return value


DELIBERATE_DIFFERENCES = [
    Difference(
        "/unsafe/fit-in/300x300/dandelions-exif-rotated.jpg",
        "EXIF orientation: RESPECT_ORIENTATION defaults to true here, false in Thumbor",
        _check_orientation,
    ),
    Difference(
        "/unsafe/300x200/pan.gif",
        "animated GIF: we keep the 80 ms frame durations; Thumbor's PIL engine loses them",
        _check_gif_durations,
    ),
    Difference(
        "/unsafe/120x90/filters:format(webp)/anim.gif",
        "an animated GIF can become an animated WebP; Thumbor ignores format() for GIFs",
        _check_gif_to_webp,
    ),
    Difference(
        "/unsafe/120x90/filters:grayscale()/anim.gif",
        "filters apply to every frame of an animation; Thumbor's are lost on animations",
        _check_animated_filter,
    ),
    Difference(
        "/unsafe/300x200/notimage.jpg",
        "a file that is not an image: 415 UnsupportedImageFormat here, 400 in Thumbor",
        _check_error_status(415),
    ),
    Difference(
        "/AAAAAAAAAAAAAAAAAAAAAAAAAAA=/300x200/g800x600.jpg",
        "a bad signature: 403 SignatureDoesNotMatch here, 400 in Thumbor",
        _check_error_status(403),
    ),
    Difference(
        "/unsafe/meta/300x200/dandelions.jpg",
        "meta/ source: the original's size here, the output's in Thumbor",
        _check_meta_source,
    ),
    Difference(
        "/unsafe/meta/300x100/left/top/smart/dandelions.jpg",
        "smart/ with DETECTORS unset: every detector installed here, none in Thumbor",
        _check_smart_default,
    ),
    Difference(
        "/unsafe/300x200/filters:format(jpeg)/dandelions-cutout.png",
        "RGBA to JPEG: flattened onto white here; Thumbor drops the alpha channel",
        _check_alpha_to_jpeg,
    ),
    Difference(
        "/unsafe/fit-in/300x300/filters:fill(transparent)/g800x600.jpg",
        "transparent fill written as JPEG: flattened onto white here, black in Thumbor",
        _check_transparent_fill_to_jpeg,
    ),
]


def _check_thumbor_500(size: tuple[int, int]) -> Check:
    def check(ours: Answer, thumbor: Answer) -> None:
        assert thumbor.status == 500
        assert ours.status == 200
        assert ours.image().size == size

    return check


def _check_no_cache(ours: Answer, thumbor: Answer) -> None:
    assert (ours.status, thumbor.status) == (200, 200)
    assert ours.headers["cache-control"] == "no-cache"
    assert "cache-control" not in thumbor.headers and "expires" not in thumbor.headers


def _check_debug(ours: Answer, thumbor: Answer) -> None:
    # Thumbor's debug skips every resize, crop and flip and outlines the focal points on the
    # (manually cropped) original; we draw them on the output (README, URL table).
    assert ours.image().size == (300, 200)
    assert thumbor.image().size == (512, 512)


def _check_meta_upscale(ours: Answer, thumbor: Answer) -> None:
    # upscale() is a filter in Thumbor and its meta/ shows no operation for it (only the
    # target); ours is planned with the geometry, so meta/ lists its resize too.
    mine = json.loads(ours.body)["thumbor"]
    theirs = json.loads(thumbor.body)["thumbor"]
    assert mine["operations"] == [{"type": "resize", "width": 1000, "height": 750}]
    assert theirs["operations"] == []
    assert (
        json_numbers(mine["target"])
        == json_numbers(theirs["target"])
        == {"width": 1000.0, "height": 750.0}
    )


def _check_double_slash(ours: Answer, thumbor: Answer) -> None:
    assert thumbor.status == 404
    assert ours.status == 200
    assert ours.image().size == (300, 200)


def _check_animated_to_png(ours: Answer, thumbor: Answer) -> None:
    assert ours.headers["content-type"] == "image/png"
    assert thumbor.headers["content-type"] == "image/gif"
    mine, theirs = ours.image(), thumbor.image()
    assert (mine.size, getattr(mine, "n_frames", 1)) == ((120, 90), 1)
    assert (theirs.size, getattr(theirs, "n_frames", 1)) == ((120, 90), 4)
    assert psnr(mine, theirs) >= GIF_PSNR  # Thumbor's first frame


def _check_skipped_fill(ours: Answer, thumbor: Answer) -> None:
    assert thumbor.status == 500
    assert ours.status == 200
    status, _, plain = fetch(ours.base + "/unsafe/300x200/astronaut.jpg")
    assert status == 200 and ours.body == plain  # the filter is skipped


# Differences found by this test that are not bugs of ours (several are Thumbor's).
FOUND_DIFFERENCES = [
    Difference(
        "/unsafe/origx0/g800x600.jpg",
        "Thumbor 7.8 fails (500, float('orig') in get_proportional_height); we give 800x600",
        _check_thumbor_500((800, 600)),
    ),
    Difference(
        "/unsafe/0xorig/g800x600.jpg",
        "the same Thumbor failure for a 0 width with an orig height",
        _check_thumbor_500((800, 600)),
    ),
    Difference(
        "/unsafe/300x200/filters:fill(nocolour)/astronaut.jpg",
        "an unknown fill colour: Thumbor fails (500); we skip the filter like any bad argument",
        _check_skipped_fill,
    ),
    Difference(
        "/unsafe/300x200/filters:max_age(0)/astronaut.jpg",
        "max_age(0): `Cache-Control: no-cache` here; Thumbor sends no Cache-Control at all",
        _check_no_cache,
    ),
    Difference(
        "/unsafe/debug/300x200/astronaut.jpg",
        "debug/: focal points drawn on the output here; Thumbor draws on the unresized image",
        _check_debug,
    ),
    Difference(
        "/unsafe/meta/fit-in/1000x1000/filters:upscale()/g800x600.jpg",
        "meta/ with upscale(): we list its resize; Thumbor lists no operation for it",
        _check_meta_upscale,
    ),
    Difference(
        "/unsafe//300x200/g300x200.jpg",
        "an empty path segment after unsafe/: we ignore it; Thumbor's route does not match",
        _check_double_slash,
    ),
    Difference(
        "/unsafe/120x90/filters:format(png)/anim.gif",
        "format(png) on an animation: the first frame as PNG here; Thumbor ignores format()",
        _check_animated_to_png,
    ),
]


# Visible errors that the thresholds must catch, measured on Thumbor's own answers:
# (right URL, wrong URL, threshold that applies to the right URL's family).
THRESHOLD_CONTROLS = [
    # dandelions.jpg 300x200 crops (415,0)-(4897,2988); one output pixel is 14.9 source
    # pixels, so 30 is two output pixels to the right (one pixel gives 29.4 dB).
    ("300x200/dandelions.jpg", "445x0:4927x2988/300x200/dandelions.jpg", PHOTO_PSNR),
    ("300x200/dandelions.jpg", "-300x200/dandelions.jpg", PHOTO_PSNR),
    ("300x200/dandelions.jpg", "300x200/filters:grayscale()/dandelions.jpg", PHOTO_PSNR),
    ("300x100/left/astronaut.jpg", "300x100/top/astronaut.jpg", PHOTO_PSNR),
    # g800x600.jpg 300x200 crops (0,34)-(800,567); 8 rows are three output pixels (two give
    # 44.0 dB).
    ("300x200/g800x600.jpg", "0x42:800x575/300x200/g800x600.jpg", SMOOTH_PSNR),
    ("300x100/left/g800x600.jpg", "300x100/top/g800x600.jpg", SMOOTH_PSNR),
    (
        "fit-in/300x200/filters:fill(red)/g800x600.jpg",
        "fit-in/300x200/filters:fill(blue)/g800x600.jpg",
        SMOOTH_PSNR,
    ),
    ("300x200/dandelions-cutout.png", "-300x200/dandelions-cutout.png", LOSSLESS_PSNR),
]


# --- Helpers --------------------------------------------------------------------------------


def psnr_all_frames(a: Image.Image, b: Image.Image) -> float:
    """The lowest PSNR over the frames of two animations (or of two still images)."""
    frames = zip(ImageSequence.Iterator(a), ImageSequence.Iterator(b), strict=False)
    return min(psnr(fa, fb) for fa, fb in frames)


def max_age(headers: dict[str, str]) -> int | None:
    match = re.search(r"max-age=(\d+)", headers.get("cache-control", ""))
    return int(match.group(1)) if match else None


def get(base: str, path: str) -> Answer:
    status, headers, body = fetch(base + path)
    return Answer(status, headers, body, base)


class Peers:
    """Both servers. Answers are cached per URL, as several tests ask for the same one, and
    the two servers are asked at the same time (each is a process of its own)."""

    def __init__(self, ours: str, thumbor: str) -> None:
        self.ours, self.thumbor = ours, thumbor
        self._answers: dict[str, Answer] = {}
        self._pool = ThreadPoolExecutor(max_workers=2)

    def get(self, base: str, path: str) -> Answer:
        url = base + path
        if url not in self._answers:
            self._answers[url] = get(base, path)
        return self._answers[url]

    def both(self, path: str) -> tuple[Answer, Answer]:
        """(ours, Thumbor's) answers to `path`."""
        mine = self._pool.submit(self.get, self.ours, path)
        theirs = self._pool.submit(self.get, self.thumbor, path)
        return mine.result(), theirs.result()

    def close(self) -> None:
        self._pool.shutdown()


_ANIM_TRANSPOSES = (
    Image.Transpose.FLIP_LEFT_RIGHT,
    Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.ROTATE_180,
)


def make_root(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in (
        "astronaut.jpg",
        "astronaut.png",
        "dandelions.jpg",
        "dandelions-cutout.png",
        "dandelions-exif-rotated.jpg",
        "pan.gif",
    ):
        shutil.copy(SAMPLES / name, folder / name)
    for width, height in ((800, 600), (600, 800), (300, 200)):
        gradient((width, height)).save(folder / f"g{width}x{height}.jpg", quality=95)
    shutil.copy(folder / "g300x200.jpg", folder / "my photo.jpg")
    framed = Image.new("RGB", (400, 300), "white")
    framed.paste(gradient((360, 260)), (20, 20))  # its blue is 90: never white
    framed.save(folder / "trim.png")
    # A small animation for the cases that only need some animation (pan.gif costs Thumbor
    # about 3 s a request): four different 160x120 frames of 50 ms.
    still = gradient((160, 120))
    frames = [still, *(still.transpose(t) for t in _ANIM_TRANSPOSES)]
    frames[0].save(
        folder / "anim.gif", save_all=True, append_images=frames[1:], duration=50, loop=0
    )
    (folder / "notimage.jpg").write_bytes(b"this is not an image\n")
    return folder


@dataclass(frozen=True)
class OurServer:
    base: str
    proc: subprocess.Popen[bytes]


def start_ours(root: Path, log: Path, timeout: float = 30.0) -> OurServer:
    """`python -m thumbor_urls serve` over `root` with our defaults; returns once healthy."""
    port = free_port()
    env = dict(os.environ)
    for name in Settings._fields:  # our defaults, whatever the caller's environment says
        env.pop(name, None)
    # Image URLs only, as Thumbor serves: no playground page at / (a redirect there).
    env["PLAYGROUND"] = "false"
    command = [sys.executable, "-m", "thumbor_urls", "serve", "--root", str(root)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-result-storage"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=REPO_ROOT, env=env
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"our server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if fetch(f"{base}/healthcheck", timeout=2.0)[0] == 200:
                return OurServer(base, proc)
        except OSError:  # not listening yet
            pass
        time.sleep(0.1)
    stop_ours(proc)
    raise RuntimeError(f"our server did not answer /healthcheck in {timeout}s:\n{log.read_text()}")


def stop_ours(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # the CLI stops cleanly on Ctrl-C
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_root(tmp_path_factory.mktemp("differential") / "images")


@pytest.fixture(scope="module")
def thumbor(thumbor_venv: Path, image_root: Path) -> Iterator[str]:
    """The base URL of the real Thumbor, default settings, file loader over image_root."""
    with run_thumbor(thumbor_venv, image_root) as base:
        yield base


@pytest.fixture(scope="module")
def ours(image_root: Path) -> Iterator[str]:
    """The base URL of our server, default settings, over image_root."""
    server = start_ours(image_root, image_root.parent / "ours.log")
    try:
        yield server.base
    finally:
        stop_ours(server.proc)


@pytest.fixture(scope="module")
def peers(ours: str, thumbor: str) -> Iterator[Peers]:
    both = Peers(ours, thumbor)
    try:
        yield both
    finally:
        both.close()


# --- Tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_image(case: Case, peers: Peers, record_property: Callable[[str, object], None]) -> None:
    mine, theirs = peers.both(case.path)
    assert (mine.status, theirs.status) == (200, 200)
    content_type = theirs.headers["content-type"]
    assert mine.headers["content-type"] == content_type
    assert max_age(mine.headers) == max_age(theirs.headers)
    assert ("vary" in mine.headers) == ("vary" in theirs.headers)
    a, b = mine.image(), theirs.image()
    assert (a.format, a.size) == (b.format, b.size)
    assert getattr(a, "n_frames", 1) == getattr(b, "n_frames", 1)
    assert bool(a.info.get("icc_profile")) == bool(b.info.get("icc_profile"))
    assert bool(a.getexif()) == bool(b.getexif())
    assert bool(a.info.get("progressive")) == bool(b.info.get("progressive"))
    value = psnr_all_frames(a, b)
    record_property("psnr", value)
    threshold = (
        case.min_psnr if case.min_psnr is not None else expected_psnr(case.path, content_type)
    )
    assert value >= threshold, f"PSNR {value:.2f} dB < {threshold} dB {case.why}"


@pytest.mark.parametrize("path", META_CASES)
def test_meta(path: str, peers: Peers) -> None:
    mine, theirs = peers.both(f"/unsafe/{path}")
    assert (mine.status, theirs.status) == (200, 200)
    assert mine.headers["content-type"].startswith("application/json")
    assert theirs.headers["content-type"].startswith("application/json")
    a, b = json.loads(mine.body)["thumbor"], json.loads(theirs.body)["thumbor"]
    assert json_numbers(a["operations"]) == json_numbers(b["operations"])
    assert json_numbers(a["target"]) == json_numbers(b["target"])
    assert json_numbers(a["focal_points"]) == json_numbers(b["focal_points"])
    assert a["source"]["url"] == b["source"]["url"]
    assert a["source"]["frameCount"] == b["source"]["frameCount"]
    # The source size is a deliberate difference (see DELIBERATE_DIFFERENCES): Thumbor's is
    # the output size.
    assert (b["source"]["width"], b["source"]["height"]) == tuple(b["target"].values())


@pytest.mark.parametrize("case", STATUS_CASES, ids=[c.path for c in STATUS_CASES])
def test_status(case: StatusCase, peers: Peers) -> None:
    mine, theirs = (answer.status for answer in peers.both(case.path))
    assert 400 <= mine < 500 and 400 <= theirs < 500
    assert (mine, theirs) == (case.ours, case.thumbor), case.why


@pytest.mark.parametrize(
    "difference",
    DELIBERATE_DIFFERENCES + FOUND_DIFFERENCES,
    ids=[d.path for d in DELIBERATE_DIFFERENCES + FOUND_DIFFERENCES],
)
def test_difference(difference: Difference, peers: Peers) -> None:
    difference.check(*peers.both(difference.path))


@pytest.mark.parametrize("right,wrong,threshold", THRESHOLD_CONTROLS)
def test_thresholds_catch_errors(right: str, wrong: str, threshold: float, peers: Peers) -> None:
    """The PSNR thresholds are tight enough to fail a visibly wrong answer."""
    a = peers.get(peers.thumbor, f"/unsafe/{right}").image()
    b = peers.get(peers.thumbor, f"/unsafe/{wrong}").image()
    assert psnr_all_frames(a, b) < threshold


def test_gif_threshold_catches_a_frame_out_of_order(peers: Peers) -> None:
    """pan.gif pans by a few pixels a frame: Thumbor's frame k+1 against its frame k."""
    frames = [
        frame.convert("RGB")
        for frame in ImageSequence.Iterator(
            peers.get(peers.thumbor, "/unsafe/300x200/pan.gif").image()
        )
    ]
    assert max(psnr(a, b) for a, b in itertools.pairwise(frames)) < GIF_PSNR
