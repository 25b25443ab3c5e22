"""Differential test of `smart/` on pictures without faces, and of JSONP `meta/`: the real
Thumbor 7.8.0 with its face and feature detectors
(`DETECTORS=['thumbor.detectors.face_detector', 'thumbor.detectors.feature_detector']`,
OpenCV in its venv) against ours with `DETECTORS=opencv,features`.

* CASES: every photo of tests/corpus without a face (and the face photo, which the face
  detector answers before features), drawn and converted pictures, through crops, fit-in,
  alignment, flips and trim: the crop boxes, resizes, target and the 20 focal points (x, y,
  weight, size, origin) are the same, exactly.
* Thumbor's peer answers every `meta/` as JSONP (`META_CALLBACK_NAME`); ours is asked with
  `?callback=`: the same content type and body shape, `NAME({...});`.
* With `RESPECT_ORIENTATION` on in both, the EXIF-rotated photo is looked at upright by both.
* Thumbor 7.8 writes a `?callback=` name as Python bytes (`b'cb'(...)`): a recorded fact
  (ours: `cb(...)`), so that a fixed Thumbor shows up here.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.images import encode, gradient
from tests.peers.compare import json_numbers
from tests.peers.thumbor_peer import fetch, run_thumbor
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request, Response

pytest.importorskip("cv2")

THUMBOR_DETECTORS = ["thumbor.detectors.face_detector", "thumbor.detectors.feature_detector"]
CALLBACK = "onMeta"

DANDELIONS = "photo_seeding_dandelions_5312x2988_cc0.jpg"
SUNSET = "photo_sunset_4272x2848.jpg"
CUTOUT = "alpha_cutout_dandelions_1600x900.png"
ROTATED = "exif_orientation6_2400x1350_display.jpg"
GIF = "animated_pan_16f_480x270.gif"
WEBP = "animated_pan_16f_480x270.webp"
FACE = "face_astronaut_512x512.jpg"

CASES = [
    *(f"{size}/smart/{name}" for name in (DANDELIONS, SUNSET) for size in ("300x200", "200x300")),
    f"100x100/smart/{DANDELIONS}",
    f"1000x150/smart/{SUNSET}",
    f"0x150/smart/{SUNSET}",  # the same proportions: no crop, the points still listed
    f"fit-in/200x200/smart/{SUNSET}",
    f"-300x200/smart/{DANDELIONS}",  # flipped after the crop
    f"300x-200/left/top/smart/{SUNSET}",  # detected points win over the alignment
    f"500x500:3000x2000/200x300/smart/{DANDELIONS}",  # points outside the manual crop dropped
    f"10x10:4000x900/300x100/smart/{SUNSET}",
    *(f"{size}/smart/{CUTOUT}" for size in ("300x200", "200x300", "100x100")),
    f"300x200/smart/{ROTATED}",  # Thumbor's default: the stored pixels, not turned
    f"200x300/smart/{ROTATED}",
    *(f"{size}/smart/{name}" for name in (GIF, WEBP) for size in ("300x200", "100x200")),
    f"200x100/smart/{FACE}",  # a face: the face detector answers first, in both
    *(f"{size}/smart/drawn.png" for size in ("200x100", "100x200")),  # corners that tie
    "200x100/smart/grey.jpg",  # a one-band JPEG
    "100x200/smart/palette.png",  # a palette PNG with a transparent colour
    "trim/150x100/smart/framed.png",  # trim first: the corners of what is left
    "trim/100x150/smart/framed.png",
]
ORIENTED_CASES = [f"300x200/smart/{ROTATED}", f"200x300/smart/{ROTATED}"]


def drawn() -> Image.Image:
    picture = Image.new("RGB", (600, 300), (230, 230, 230))
    draw = ImageDraw.Draw(picture)
    for left in range(340, 580, 40):
        draw.rectangle((left, 60, left + 20, 80), fill=(20, 20, 20))
        draw.rectangle((left, 200, left + 20, 220), fill=(20, 20, 20))
    return picture


@pytest.fixture(scope="module")
def feature_root(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    root = tmp_path_factory.mktemp("features") / "images"
    root.mkdir()
    for name in (DANDELIONS, SUNSET, CUTOUT, ROTATED, GIF, WEBP, FACE):
        shutil.copy(corpus / name, root / name)
    (root / "drawn.png").write_bytes(encode(drawn(), "PNG"))
    photo = Image.open(corpus / SUNSET).reduce(8)
    (root / "grey.jpg").write_bytes(encode(photo.convert("L"), "JPEG", quality=90))
    palette = photo.quantize(64)
    palette.info["transparency"] = 0
    (root / "palette.png").write_bytes(encode(palette, "PNG", transparency=0))
    framed = Image.new("RGB", (700, 500), "white")
    framed.paste(photo.crop((0, 0, 500, 300)), (120, 90))
    (root / "framed.png").write_bytes(encode(framed, "PNG"))
    return root


@pytest.fixture(scope="module")
def thumbor_jsonp(thumbor_venv: Path, feature_root: Path) -> Iterator[str]:
    with run_thumbor(
        thumbor_venv, feature_root, DETECTORS=THUMBOR_DETECTORS, META_CALLBACK_NAME=CALLBACK
    ) as base:
        yield base


@pytest.fixture(scope="module")
def thumbor_oriented(thumbor_venv: Path, feature_root: Path) -> Iterator[str]:
    with run_thumbor(
        thumbor_venv, feature_root, DETECTORS=THUMBOR_DETECTORS, RESPECT_ORIENTATION=True
    ) as base:
        yield base


def our_app(root: Path, **settings: Any) -> App:
    return App(
        Settings(
            FILE_LOADER_ROOT_PATH=root,
            RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None,
            DETECTORS=("opencv", "features"),
            RESPECT_ORIENTATION=False,  # Thumbor's default
        ).replace(**settings)
    )


@pytest.fixture(scope="module")
def ours(feature_root: Path) -> App:
    return our_app(feature_root)


def jsonp(content_type: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """The function a JSONP body calls and what it is called with."""
    assert content_type == "text/javascript"
    match = re.fullmatch(rb"([A-Za-z_$][A-Za-z0-9_$.]*)\((\{.*\})\);", body, re.DOTALL)
    assert match is not None, body[:60]
    return match.group(1).decode(), json.loads(match.group(2))


def our_meta(app: App, path: str, callback: str | None = None) -> Response:
    query = {"callback": callback} if callback else {}
    response = app.handle(Request("GET", f"/unsafe/meta/{path}", {}, query))
    assert response.status == 200, response.body
    return response


def crop_facts(info: dict[str, Any]) -> dict[str, Any]:
    """What decides the crop: operations, target and the focal points with all their fields."""
    return {
        "operations": json_numbers(info["operations"]),
        "target": json_numbers(info["target"]),
        "focal_points": json_numbers(info.get("focal_points", [])),
    }


@pytest.mark.parametrize("path", CASES)
def test_smart_crops_with_features_are_thumbors(thumbor_jsonp: str, ours: App, path: str) -> None:
    status, headers, body = fetch(f"{thumbor_jsonp}/unsafe/meta/{path}", timeout=60)
    assert status == 200, body[:200]
    their_name, theirs = jsonp(headers["content-type"], body)
    mine = our_meta(ours, path, CALLBACK)
    my_name, info = jsonp(mine.headers["Content-Type"], mine.body)
    assert my_name == their_name == CALLBACK
    assert crop_facts(info["thumbor"]) == crop_facts(theirs["thumbor"])
    expected = "opencv" if FACE in path else "features"
    assert info["thumbor"]["detector"] == expected
    if expected == "features" and not re.match(r"\d+x\d+:", path):  # a crop drops some
        assert len(info["thumbor"]["focal_points"]) == 20


@pytest.mark.parametrize("path", ORIENTED_CASES)
def test_an_exif_rotated_photo_is_looked_at_upright_by_both(
    thumbor_oriented: str, feature_root: Path, path: str
) -> None:
    status, _, body = fetch(f"{thumbor_oriented}/unsafe/meta/{path}", timeout=60)
    assert status == 200
    theirs = json.loads(body)["thumbor"]
    app = our_app(feature_root, RESPECT_ORIENTATION=True)
    info = json.loads(our_meta(app, path).body)["thumbor"]
    assert crop_facts(info) == crop_facts(theirs)
    # Not what either answers for the stored pixels.
    sideways = json.loads(our_meta(our_app(feature_root), path).body)["thumbor"]
    assert crop_facts(info)["focal_points"] != crop_facts(sideways)["focal_points"]


def test_jsonp_has_thumbors_content_type_and_shape(thumbor_jsonp: str, ours: App) -> None:
    path = "300x200/g.png"
    (Path(ours.settings.FILE_LOADER_ROOT_PATH) / "g.png").write_bytes(
        encode(gradient((400, 400)), "PNG")
    )
    status, headers, body = fetch(f"{thumbor_jsonp}/unsafe/meta/{path}")
    assert status == 200
    mine = our_meta(ours, path, CALLBACK)
    assert mine.headers["Content-Type"] == headers["content-type"] == "text/javascript"
    _, theirs = jsonp(headers["content-type"], body)
    _, info = jsonp(mine.headers["Content-Type"], mine.body)
    # Both are `onMeta(` + json.dumps of the same shape + `);`.
    assert body.startswith(b'onMeta({"thumbor": {"source": {"url": "g.png"')
    assert mine.body.startswith(b'onMeta({"thumbor": {"source": {"url": "g.png"')
    assert body.endswith(b"});") and mine.body.endswith(b"});")
    assert json_numbers(info["thumbor"]["operations"]) == json_numbers(
        theirs["thumbor"]["operations"]
    )
    # The configured name wins over the query in both.
    status, _, other = fetch(f"{thumbor_jsonp}/unsafe/meta/{path}?callback=other")
    mine = our_app(ours.settings.FILE_LOADER_ROOT_PATH, META_CALLBACK_NAME=CALLBACK).handle(
        Request("GET", f"/unsafe/meta/{path}", {}, {"callback": "other"})
    )
    assert other.startswith(b"onMeta(") and mine.body.startswith(b"onMeta(")


def test_thumbor_writes_a_query_callback_as_python_bytes(
    thumbor_oriented: str, feature_root: Path
) -> None:
    (feature_root / "g.png").write_bytes(encode(gradient((400, 400)), "PNG"))
    status, headers, body = fetch(f"{thumbor_oriented}/unsafe/meta/300x200/g.png?callback=cb")
    assert (status, headers["content-type"]) == (200, "text/javascript")
    assert body.startswith(b"b'cb'({")  # Thumbor 7.8: str() of tornado's bytes argument
    # ... and writes whatever it is given into the script:
    _, _, hostile = fetch(f"{thumbor_oriented}/unsafe/meta/300x200/g.png?callback=alert(1)//")
    assert hostile.startswith(b"b'alert(1)//'(")
    ours = our_app(feature_root)
    assert our_meta(ours, "300x200/g.png", "cb").body.startswith(b"cb({")
    refused = ours.handle(
        Request("GET", "/unsafe/meta/300x200/g.png", {}, {"callback": "alert(1)//"})
    )
    assert refused.status == 400
