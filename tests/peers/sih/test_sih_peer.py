"""Differential test against AWS's own image handler: every request of cases.py, sent to our
App with SIH_COMPAT=true, is answered as SIH v7.0.8 (and v6.3.3, where it was recorded) answered
it (recorded/, see README.md): the status, the error's code, the content type, the size, the
pixels within a PSNR, the headers SIH sets. What differs on purpose is listed in DIFFERENCES
with its reason; what is measured looser, in PSNR.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.peers.compare import psnr
from tests.peers.sih.cases import (
    BUCKET,
    CASES,
    CONFIGS,
    FACES,
    METADATA,
    MODERATION_LABELS,
    SECRET,
    Case,
)
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.errors import BucketNotAllowed, NoSuchKey
from thumbor_urls.messages import Request, Response
from thumbor_urls.sources import Original

HERE = Path(__file__).parent
IMAGES = HERE / "images"
RECORDED = HERE / "recorded"
VERSIONS = {"v7": "v7.0.8", "v6": "v6.3.3"}

# The least PSNR (dB) of an image answer, by default and per case where we compute the pixels
# another way than libvips (the reason beside each).
DEFAULT_PSNR = 30.0
PSNR: dict[str, tuple[float, str]] = {
    "rotate-30-png": (
        25.0,
        "libvips rotates premultiplied pixels with its own bilinear "
        "interpolator; Pillow's edges against the background differ",
    ),
    "roundCrop-options": (
        20.0,
        "the ellipse's antialiased edge, and trim() deciding on "
        "JPEG noise where the border ends: a pixel row either way",
    ),
    "signed-thumbor-v6": (
        22.0,
        "a Thumbor path at a quarter of the size: libvips shrinks "
        "the JPEG on load (DCT scaling), Pillow resamples every pixel",
    ),
    "v6-threshold-128": (
        22.0,
        "sharp 0.32's greyscale for threshold: pixels at the threshold fall on the other side",
    ),
    "v6-threshold-true": (22.0, "as v6-threshold-128"),
}

# Failures SIH answers with a catch-all code, which ours name: SIH's code -> ours.
CODE_MAP = {
    # sharp refused an edit's value (SIH: 500 "Image processing failed."): ours says which.
    "ProcessingFailure": "InvalidEdit",
    # SIH's result was over Lambda's 6 MB; ours is refused before decoding, by the budget.
    "TooLargeImageException": "ImageTooLarge",
    # v6.3.3's catch-all, for what v7 calls ProcessingFailure.
    "InternalError": "InvalidEdit",
}
# Sizes a pixel apart: libvips resizes a JPEG by shrinking it on load (libjpeg's DCT
# scaling) and then reducing what is left, and each step rounds its own way; Pillow resizes
# in one step and rounds once. The pixels are compared with ours resized to SIH's size.
ONE_PIXEL = 1

# Answers that differ on purpose: case -> (what differs, why). "status", "code", "size",
# "type", "pixels".
DIFFERENCES: dict[str, tuple[set[str], str]] = {
    "non-image-key": (
        {"status", "code"},
        "SIH answers 500 RequestTypeError when an object's type cannot be inferred; a "
        "request for something that is not an image is not a server fault here: 415 "
        "UnsupportedImageFormat, as for every other request style",
    ),
    "query-rotate": (
        {"size", "pixels"},
        "a Thumbor path's query edits become Thumbor filters, and Thumbor rotates after "
        "resizing (Thumbor's semantics for Thumbor paths, docs/sih.md); SIH rotates first",
    ),
    "many-edits": (
        {"pixels"},
        "SIH's answer is nearly black: with greyscale() on, sharp darkens a gamma()'d image "
        "and never brightens it back; we keep the image's tones and do not copy the bug",
    ),
    "v6-overlay-missing": (
        {"status", "code"},
        "v6.3.3 passed S3's 404 NoSuchKey on for a missing overlay; v7 (followed here) "
        "answers 400 OverlayImageException",
    ),
    "v6-rotate-null-exif": (
        {"size", "pixels"},
        "v6.3.3's sharp 0.32 auto-oriented on rotate(null); v7 (followed here) only drops "
        "the metadata",
    ),
    "v6-tint": (
        {"pixels"},
        "sharp 0.32 gave every tone the tint's chroma; 0.34 (followed here) weights it by "
        "luminance, none at black and white",
    ),
    "v6-tint-hex": ({"pixels"}, "as v6-tint"),
}


class Store:
    """S3 as the recorder filled it: the images folder in bucket `images`, `notes.txt`, and
    the metadata of METADATA; keys `s3:<bucket>/<key>` as S3Source reads them."""

    def __init__(self) -> None:
        self.objects = {p.name: p.read_bytes() for p in IMAGES.iterdir()}
        self.objects["notes.txt"] = b"not an image"
        self.modified = time.time()

    def __repr__(self) -> str:
        return "Store()"

    def _key(self, key: str) -> str:
        if key.startswith("s3:"):
            bucket, _, key = key[3:].partition("/")
            if bucket != BUCKET:
                raise BucketNotAllowed(bucket)
        return key.lstrip("/")

    def load(self, key: str) -> Original:
        name = self._key(key)
        if name not in self.objects:
            raise NoSuchKey(name)
        meta = METADATA.get(name, {})
        expires = meta.get("Expires")
        stamp = None
        if expires:
            stamp = time.mktime(time.strptime(expires, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        return Original(
            self.objects[name], self.modified, cache_control=meta.get("CacheControl"),
            stored_expires=stamp,
        )

    def last_modified(self, key: str) -> float | None:
        self.load(key)
        return self.modified

    def identity(self, key: str) -> str:
        return self._key(key)


class FakeRekognition:
    def faces(self, image: bytes) -> list[dict[str, Any]]:
        return [dict(face) for face in FACES]

    def moderation_labels(self, image: bytes, min_confidence: float) -> list[dict[str, Any]]:
        return [m for m in MODERATION_LABELS if float(str(m["Confidence"])) >= min_confidence]


def app_for(config: str) -> App:
    env = CONFIGS[config]
    settings = Settings(
        SIH_COMPAT=True,
        SOURCE_BUCKETS=(BUCKET,),
        SECURITY_KEY=SECRET if env.get("ENABLE_SIGNATURE") == "Yes" else "",
        REWRITE_MATCH_PATTERN=env.get("REWRITE_MATCH_PATTERN", ""),
        REWRITE_SUBSTITUTION=env.get("REWRITE_SUBSTITUTION", ""),
    )
    app = App(settings, Store())
    app.sih_rekognition = FakeRekognition()  # type: ignore[attr-defined]
    return app


@pytest.fixture(scope="module")
def apps() -> Iterator[dict[str, App]]:
    yield {config: app_for(config) for config in CONFIGS}


def recorded(version: str) -> dict[str, Any]:
    path = RECORDED / f"{VERSIONS[version]}.json"
    return json.loads(path.read_text()) if path.exists() else {}


ANSWERS = {version: recorded(version) for version in VERSIONS}
PAIRS = [
    pytest.param(case, version, id=f"{version}-{case.name}")
    for case in CASES
    for version in VERSIONS
    if version in case.versions and case.name in ANSWERS[version]
]


def ask(app: App, case: Case) -> Response:
    url = case.url()
    from urllib.parse import parse_qsl, unquote

    raw_path, _, query = url.partition("?")
    request = Request(
        "GET",
        unquote(raw_path),
        headers={k.lower(): v for k, v in case.headers},
        query=dict(parse_qsl(query, keep_blank_values=True)),
        raw_path=raw_path,
    )
    return app.handle(request, record=lambda access: None)


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(("case", "version"), PAIRS)
def test_answered_as_sih(apps: dict[str, App], case: Case, version: str) -> None:
    theirs = ANSWERS[version][case.name]
    ours = ask(apps[case.config], case)
    different, _ = DIFFERENCES.get(
        f"{version}-{case.name}", DIFFERENCES.get(case.name, (set(), ""))
    )
    body = ours.body
    if "status" not in different:
        detail = body[:300] if not ours.headers.get("Content-Type", "").startswith("image/") else ""
        assert ours.status == theirs["status"], (theirs, detail)
    if "json" in theirs and theirs["status"] == ours.status:
        if "code" not in different:
            code = theirs["json"]["code"]
            assert json.loads(body)["code"] == CODE_MAP.get(code, code), json.loads(body)
        return
    if "file" not in theirs or ours.status != 200:
        return
    expected = (RECORDED / VERSIONS[version] / theirs["file"]).read_bytes()
    if "type" not in different:
        assert ours.headers["Content-Type"] == theirs["headers"]["Content-Type"]
    mine, reference = _decoded(body), _decoded(expected)
    if "size" not in different:
        assert abs(mine.size[0] - reference.size[0]) <= ONE_PIXEL, (mine.size, reference.size)
        assert abs(mine.size[1] - reference.size[1]) <= ONE_PIXEL, (mine.size, reference.size)
    if mine.size != reference.size:
        mine = mine.convert("RGBA").resize(reference.size, Image.Resampling.LANCZOS)
    frames = getattr(reference, "n_frames", 1)
    if frames > 1 and "frames" not in different:
        assert getattr(mine, "n_frames", 1) == frames
    if "pixels" not in different:
        least, why = PSNR.get(f"{version}-{case.name}", PSNR.get(case.name, (DEFAULT_PSNR, "")))
        value = psnr(mine, reference)
        assert value >= least, f"PSNR {value:.1f} dB < {least} ({why})"
    _check_headers(case, ours, theirs)


def _check_headers(case: Case, ours: Response, theirs: dict[str, Any]) -> None:
    mine = {k.lower(): v for k, v in ours.headers.items()}
    sih = {k.lower(): v for k, v in theirs["headers"].items()}
    if case.path.startswith("/eyJ"):  # default requests: SIH's caching headers
        their_cache = sih.get("cache-control", "")
        if "expires" in dict(case.query):
            left = int(mine["cache-control"].split("=")[1].split(",")[0])
            assert 0 < left <= int(their_cache.split("=")[1].split(",")[0]) + 86400 * 366
        else:
            assert mine.get("cache-control") == their_cache
        assert mine.get("expires") == sih.get("expires")
        for name, value in sih.items():
            if name.startswith("x-"):
                assert mine.get(name) == value, name
        for name in ("set-cookie", "x-amz-meta-x"):
            assert name not in mine


def test_the_suite_is_large_enough() -> None:
    assert len(PAIRS) >= 100
    assert len({str(param.id).split("-", 1)[1] for param in PAIRS}) >= 100
    assert not math.isnan(DEFAULT_PSNR)
