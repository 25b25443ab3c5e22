"""Differential test of `smart/`: the real Thumbor 7.8.0 with its face detector
(`DETECTORS=['thumbor.detectors.face_detector']`, OpenCV in its venv) against ours with
`DETECTORS=opencv`, compared on `meta/`: crop boxes, resizes and focal points.

* EXACT_CASES: originals no larger than our detectors' copy (600 px), so both detect on the
  same pixels with the same cascade and parameters: the answers must be identical.
* SCALED_CASES: a larger original, which we detect on a 600 px copy and Thumbor at full size:
  the face is found by both, and the crop boxes agree within a few pixels (measured below).
* An image without a face: both fall back to the alignment (Thumbor has no other detector
  configured here, and neither do we).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.images import SAMPLES, encode, gradient
from tests.peers.thumbor_peer import fetch, run_thumbor
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request

pytest.importorskip("cv2")

FACE = "face_astronaut_512x512"

EXACT_CASES = [
    f"200x100/smart/{FACE}.jpg",
    f"100x200/smart/{FACE}.jpg",
    f"300x200/smart/{FACE}.jpg",
    f"50x300/smart/{FACE}.jpg",
    f"150x150/smart/{FACE}.jpg",
    f"-120x60/smart/{FACE}.jpg",
    f"100x200/left/smart/{FACE}.jpg",
    f"0x100/smart/{FACE}.jpg",
    f"fit-in/100x100/smart/{FACE}.jpg",
    f"10x10:400x300/100x200/smart/{FACE}.jpg",
    f"200x100/smart/{FACE}.png",
    f"100x200/smart/{FACE}.png",
    f"80x300/smart/{FACE}.png",
    "300x100/smart/dandelions.jpg",
    "100x300/smart/dandelions.jpg",
]
SCALED_CASES = ["100x200/smart/wide.jpg", "300x100/smart/wide.jpg", "200x200/smart/wide.jpg"]
# Measured: the face in wide.jpg, found on a 600x263 copy and mapped back, lands within 3 px
# of Thumbor's full-size detection; crop boxes then differ by at most that much.
SCALED_TOLERANCE = 6


@pytest.fixture(scope="module")
def smart_root(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    root = tmp_path_factory.mktemp("smart") / "images"
    root.mkdir()
    for suffix in ("jpg", "png"):
        shutil.copy(corpus / f"{FACE}.{suffix}", root / f"{FACE}.{suffix}")
    shutil.copy(SAMPLES / "dandelions.jpg", root / "dandelions.jpg")
    # A larger original: the astronaut on a wide canvas, off centre.
    wide = gradient((1600, 700))
    wide.paste(Image.open(corpus / f"{FACE}.png").convert("RGB"), (900, 100))
    (root / "wide.jpg").write_bytes(encode(wide, "JPEG", quality=95))
    return root


@pytest.fixture(scope="module")
def thumbor_smart(thumbor_venv: Path, smart_root: Path) -> Iterator[str]:
    with run_thumbor(
        thumbor_venv, smart_root, DETECTORS=["thumbor.detectors.face_detector"]
    ) as base:
        yield base


@pytest.fixture(scope="module")
def ours_smart(smart_root: Path) -> App:
    settings = Settings(
        FILE_LOADER_ROOT_PATH=smart_root,
        RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None,
        DETECTORS=("opencv",),
        RESPECT_ORIENTATION=False,  # Thumbor's default; these originals have no orientation
    )
    return App(settings)


def theirs(base: str, path: str) -> dict[str, Any]:
    status, _, body = fetch(f"{base}/unsafe/meta/{path}")
    assert status == 200, body
    result: dict[str, Any] = json.loads(body)["thumbor"]
    return result


def ours(app: App, path: str) -> dict[str, Any]:
    response = app.handle(Request("GET", f"/unsafe/meta/{path}", {}))
    assert response.status == 200, response.body
    result: dict[str, Any] = json.loads(response.body)["thumbor"]
    return result


def numbers(operations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Operations with Thumbor's floats (300.0) as the numbers they are."""
    return [
        {k: (round(v) if isinstance(v, float) else v) for k, v in op.items()} for op in operations
    ]


def points(info: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (p["x"], p["y"], p["width"], p["height"], float(p["z"]), p["origin"])
        for p in info["focal_points"]
    ]


@pytest.mark.parametrize("path", EXACT_CASES)
def test_smart_crops_agree_with_thumbor(thumbor_smart: str, ours_smart: App, path: str) -> None:
    expected, actual = theirs(thumbor_smart, path), ours(ours_smart, path)
    assert numbers(actual["operations"]) == numbers(expected["operations"])
    assert points(actual) == points(expected)
    assert {k: round(v) for k, v in actual["target"].items()} == {
        k: round(v) for k, v in expected["target"].items()
    }


@pytest.mark.parametrize("path", SCALED_CASES)
def test_smart_crops_of_a_larger_original_agree_within_pixels(
    thumbor_smart: str, ours_smart: App, path: str
) -> None:
    expected, actual = theirs(thumbor_smart, path), ours(ours_smart, path)
    assert (
        [p[-1] for p in points(actual)] == [p[-1] for p in points(expected)] == ["Face Detection"]
    )
    theirs_ops, ours_ops = numbers(expected["operations"]), numbers(actual["operations"])
    assert [op["type"] for op in ours_ops] == [op["type"] for op in theirs_ops]
    for mine, other in zip(ours_ops, theirs_ops, strict=True):
        for key, value in other.items():
            if key != "type":
                assert abs(mine[key] - value) <= SCALED_TOLERANCE, (key, mine, other)
