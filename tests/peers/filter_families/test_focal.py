"""focal and extract_focal: the real Thumbor 7.8.0 against our App, RESAMPLED.

The requested size needs a crop and a resize: the crop boxes are compared exactly through
meta/; the pixels differ by the resampling path (we resize with reducing_gap): measured
59.1 .. 70.0 dB. RESAMPLED_PSNR is 45 dB, as test_differential's LOSSLESS_PSNR; a crop one
source pixel to the right measures 24.4 dB (test_resampled_threshold_catches_a_shifted_crop).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.peers.compare import json_numbers, psnr
from tests.peers.filter_families.answers import ours, theirs
from tests.peers.filter_families.differences import Difference, Peers, difference_test
from tests.peers.filter_families.sources import LITERAL_NESTED, SIZES
from thumbor_urls.app import App

RESAMPLED_PSNR = 45.0


FOCAL_CASES = [
    ("100x100", "focal(30x40:90x120)", "astronaut.png"),
    ("100x100", "focal(200x10:280x60):focal(10x150:40x190)", "astronaut.png"),  # two points
    ("100x100", "focal(1000x10:2000x60)", "astronaut.png"),  # outside the image: still pulls
    ("100x100", "focal(40x40:40x120)", "astronaut.png"),  # zero width: ignored by both
    ("200x50", "focal(100x100:150x170)", "cutout.png"),
    ("50x150", "focal(250x10:300x60)", "cutout.png"),
]


def assert_same_meta(mine: dict[str, Any], their: dict[str, Any], origin: str = "") -> None:
    assert json_numbers(mine["operations"]) == json_numbers(their["operations"])
    assert json_numbers(mine["target"]) == json_numbers(their["target"])
    points = json_numbers(mine["focal_points"])
    if origin:  # extract_focal against Thumbor's focal(): only the origin's name differs
        assert isinstance(points, list)
        points = [{**p, "origin": origin} if p["origin"] != "alignment" else p for p in points]
    assert points == json_numbers(their["focal_points"])
    assert mine["source"]["url"] == their["source"]["url"]


@pytest.mark.parametrize(("size", "filters", "name"), FOCAL_CASES)
def test_focal_matches_thumbor(thumbor: str, app: App, size: str, filters: str, name: str) -> None:
    meta = f"/unsafe/meta/{size}/filters:{filters}/{name}"
    assert_same_meta(ours(app, meta).json(), theirs(thumbor, meta).json())
    path = f"/unsafe/{size}/filters:{filters}:format(png)/{name}"
    mine, their = ours(app, path).image(), theirs(thumbor, path).image()
    assert mine.size == their.size
    value = psnr(mine, their)
    print(f"PSNR {value:.2f} dB  {size} {filters} {name}")
    assert value >= RESAMPLED_PSNR


# focal(x,y) is ours (Thumbor skips a focal() it cannot read): compared with Thumbor's focal()
# on the one-pixel box of the same point, which is what it means.
RELATIVE_FOCAL_CASES = [
    ("100x100", (0.3, 0.4), "astronaut.png"),
    ("100x100", (1.0, 1.0), "astronaut.png"),  # the last pixel, not one past it
    ("200x50", (0.9, 0.1), "cutout.png"),
    ("50x150", (0.05, 0.95), "cutout.png"),
]


@pytest.mark.parametrize(("size", "point", "name"), RELATIVE_FOCAL_CASES)
def test_relative_focal_matches_thumbors_pixel_box(
    thumbor: str, app: App, size: str, point: tuple[float, float], name: str
) -> None:
    width, height = SIZES[name]
    x, y = min(int(point[0] * width), width - 1), min(int(point[1] * height), height - 1)
    box = f"focal({x}x{y}:{x + 1}x{y + 1})"
    relative = f"focal({point[0]},{point[1]})"
    mine = ours(app, f"/unsafe/meta/{size}/filters:{relative}/{name}").json()
    their = theirs(thumbor, f"/unsafe/meta/{size}/filters:{box}/{name}").json()
    assert [p["origin"] for p in mine["focal_points"]] == ["Explicit"]
    assert_same_meta(mine, their)
    ours_image = ours(app, f"/unsafe/{size}/filters:{relative}:format(png)/{name}").image()
    their_image = theirs(thumbor, f"/unsafe/{size}/filters:{box}:format(png)/{name}").image()
    value = psnr(ours_image, their_image)
    print(f"PSNR {value:.2f} dB  {relative} {size} {name}")
    assert value >= RESAMPLED_PSNR


# Thumbor's own extract_focal never works (DIFFERENCES): ours is compared with Thumbor's focal()
# on the same box, which is what Thumbor's extract_focal means to add.
EXTRACT_FOCAL_CASES = [
    ("100x100", "localhost:8888/unsafe/200x100:290x190/astronaut.png", "astronaut.png"),
    ("100x100", "http://localhost:8888/unsafe/10x20:110x120/astronaut.png", "astronaut.png"),
    (
        "100x100",
        "example.com/unsafe/200x100:290x190/fit-in/50x50/filters:grayscale()/astronaut.png",
        "astronaut.png",
    ),
    ("50x100", "img.example.com/unsafe/200x100:290x170/cutout.png", "cutout.png"),
    ("200x50", "localhost:8888/unsafe/30x20:90x170/300x0/cutout.png", "cutout.png"),
]


def _crop_of(inner: str) -> str:
    return next(part for part in inner.split("/") if ":" in part and "x" in part.split(":")[0])


@pytest.mark.parametrize(("size", "inner", "name"), EXTRACT_FOCAL_CASES)
def test_extract_focal_matches_thumbors_focal(
    thumbor: str, app: App, size: str, inner: str, name: str
) -> None:
    focal = f"focal({_crop_of(inner)})"
    mine = ours(app, f"/unsafe/meta/{size}/filters:extract_focal()/{inner}").json()
    their = theirs(thumbor, f"/unsafe/meta/{size}/filters:{focal}/{name}").json()
    assert [p["origin"] for p in mine["focal_points"]] == ["Original Extraction"]
    assert_same_meta(mine, their, origin="Explicit")
    ours_image = ours(app, f"/unsafe/{size}/filters:extract_focal():format(png)/{inner}").image()
    their_image = theirs(thumbor, f"/unsafe/{size}/filters:{focal}:format(png)/{name}").image()
    value = psnr(ours_image, their_image)
    print(f"PSNR {value:.2f} dB  extract_focal {inner}")
    assert value >= RESAMPLED_PSNR


# --- Differences: on purpose, or Thumbor's bugs --------------------------------------------------


def _check_extract_focal_in_thumbor(peers: Peers) -> None:
    # Thumbor percent-encodes the image path (quote(): ':' -> %3A) before its PRE_LOAD filters
    # run, so extract_focal's regex never sees the crop, and the file loader then looks for the
    # nested path itself: a 404, or this literal file when it exists.
    inner = "localhost:8888/unsafe/10x20:110x120/astronaut.png"
    url = f"/unsafe/100x100/filters:extract_focal()/{inner}"
    assert theirs(peers.thumbor, url).status == 404
    assert ours(peers.app, url).status == 200
    meta = f"/unsafe/meta/100x100/filters:extract_focal()/{LITERAL_NESTED}"
    their = theirs(peers.thumbor, meta).json()
    assert their["source"]["url"] == LITERAL_NESTED.replace(":", "%3A")
    assert [p["origin"] for p in their["focal_points"]] == ["alignment"]
    mine = ours(peers.app, meta).json()
    assert mine["source"]["url"] == "astronaut.png"
    assert [p["origin"] for p in mine["focal_points"]] == ["Original Extraction"]


def _check_inverted_focal(peers: Peers) -> None:
    # focal(250x10:200x60): right < left. Thumbor adds a point with width -50 and weight
    # -2500 (a negative weight would push the centre of mass away from any other point); we
    # ignore the box and crop at the alignment.
    meta = "/unsafe/meta/100x100/filters:focal(250x10:200x60)/astronaut.png"
    their = theirs(peers.thumbor, meta).json()
    assert json_numbers(their["focal_points"][0]["width"]) == -50.0
    assert json_numbers(their["focal_points"][0]["z"]) == -2500.0
    mine = ours(peers.app, meta).json()
    assert [p["origin"] for p in mine["focal_points"]] == ["alignment"]


def _check_relative_focal_in_thumbor(peers: Peers) -> None:
    # focal(0.3,0.4): Thumbor's focal() reads one box argument and skips anything else, so the
    # same URL crops at the alignment there; ours is the point at 30 % and 40 % of the image.
    meta = "/unsafe/meta/100x100/filters:focal(0.3,0.4)/astronaut.png"
    their = theirs(peers.thumbor, meta).json()
    assert [p["origin"] for p in their["focal_points"]] == ["alignment"]
    mine = ours(peers.app, meta).json()
    assert [(p["x"], p["y"], p["origin"]) for p in mine["focal_points"]] == [(90, 80, "Explicit")]


DIFFERENCES = [
    Difference(
        "extract_focal",
        "Thumbor 7.8.0's extract_focal never applies: the image path is percent-encoded before "
        "the filter parses it; we read the nested URL's crop (compared with Thumbor's focal())",
        _check_extract_focal_in_thumbor,
    ),
    Difference(
        "focal-relative",
        "focal(x,y) in fractions of the image is ours; Thumbor skips it (the alignment decides)",
        _check_relative_focal_in_thumbor,
    ),
    Difference(
        "focal-inverted-box",
        "focal() with right < left: Thumbor adds a negative-weight point; we ignore the box",
        _check_inverted_focal,
    ),
]


test_difference = difference_test(DIFFERENCES)


# --- The threshold catches a near miss (measured on Thumbor's own answers) -----------------------


def test_resampled_threshold_catches_a_shifted_crop(thumbor: str) -> None:
    a = theirs(thumbor, "/unsafe/50x0:250x200/100x100/filters:format(png)/astronaut.png")
    b = theirs(thumbor, "/unsafe/51x0:251x200/100x100/filters:format(png)/astronaut.png")
    assert psnr(a.image(), b.image()) < RESAMPLED_PSNR
