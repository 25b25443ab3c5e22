"""Skipping the scans a scaled decode never reads must not change a single pixel."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from tests.images import CORPUS
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.decode import draft
from thumbor_urls.jpeg_scans import without_unused_scans
from thumbor_urls.messages import Request

PHOTO = CORPUS / "photo_seeding_dandelions_5312x2988_cc0.jpg"
ASTRONAUT = CORPUS / "face_astronaut_512x512.jpg"


def _progressive(size: tuple[int, int], mode: str = "RGB", **options: Any) -> bytes:
    with Image.open(ASTRONAUT) as source:
        image = source.convert(mode).resize(size)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **{"progressive": True, "quality": 90, **options})
    return buffer.getvalue()


def _decode(data: bytes, size: tuple[int, int], mode: str | None) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.draft(mode or image.mode, size)
    image.load()
    return image


def _assert_same(a: Image.Image, b: Image.Image) -> None:
    assert (a.mode, a.size) == (b.mode, b.size)
    assert ImageChops.difference(a, b).getbbox() is None


@pytest.mark.parametrize(
    "options",
    [
        {},  # 4:2:0
        {"subsampling": 1},  # 4:2:2
        {"subsampling": 0},  # 4:4:4
        {"restart_marker_blocks": 7},
        {"keep_rgb": True},  # Adobe RGB: grey needs all three components
        {"optimize": True},
    ],
    ids=["420", "422", "444", "restart", "rgb", "optimize"],
)
@pytest.mark.parametrize(
    ("request_size", "mode", "denom"),
    [((60, 40), None, 8), ((60, 40), "L", 8), ((200, 150), "L", 2), ((120, 90), "L", 4)],
)
def test_same_pixels_as_the_whole_file(
    options: dict[str, Any], request_size: tuple[int, int], mode: str | None, denom: int
) -> None:
    data = _progressive((517, 389), **options)
    whole = _decode(data, request_size, mode)
    assert whole.width == -(-517 // denom)
    lighter = without_unused_scans(data, denom, luma_only=mode == "L")
    if options.get("keep_rgb") and denom != 8:
        assert lighter is None  # RGB's grey reads every component: nothing to skip
        return
    assert lighter is not None and len(lighter) < len(data)
    _assert_same(whole, _decode(lighter, request_size, mode))


def test_grey_file() -> None:
    data = _progressive((300, 201), mode="L")
    lighter = without_unused_scans(data, 8, luma_only=False)
    assert lighter is not None and len(lighter) < len(data) / 3
    _assert_same(_decode(data, (30, 20), None), _decode(lighter, (30, 20), None))
    # At 1/4 the inverse DCT reads AC coefficients too: nothing to skip.
    assert without_unused_scans(data, 4, luma_only=True) is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # At least 8 pixels a side, so that draft((1, 1)) scales by 1/8.
    width=st.integers(8, 300),
    height=st.integers(8, 300),
    subsampling=st.sampled_from([0, 1, 2]),
    quality=st.integers(5, 100),
    luma_only=st.booleans(),
)
def test_any_size_and_quality(
    width: int, height: int, subsampling: int, quality: int, luma_only: bool
) -> None:
    data = _progressive((width, height), subsampling=subsampling, quality=quality)
    mode = "L" if luma_only else None
    whole = _decode(data, (1, 1), mode)
    lighter = without_unused_scans(data, 8, luma_only)
    assert lighter is not None
    _assert_same(whole, _decode(lighter, (1, 1), mode))


def test_the_corpus_photo_at_thumbnail_scale() -> None:
    data = PHOTO.read_bytes()
    lighter = without_unused_scans(data, 8, luma_only=False)
    assert lighter is not None and len(lighter) < len(data) / 2
    _assert_same(_decode(data, (300, 300), None), _decode(lighter, (300, 300), None))


def test_nothing_to_skip() -> None:
    baseline = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(baseline, "JPEG")
    assert without_unused_scans(baseline.getvalue(), 8, luma_only=True) is None
    # At 1/2 and 1/4 every component reads its AC coefficients.
    assert without_unused_scans(_progressive((200, 200)), 4, luma_only=False) is None
    assert without_unused_scans(b"not a jpeg", 8, luma_only=False) is None


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_files_are_left_to_pillow(data: st.DataObject) -> None:
    original = bytearray(_progressive((64, 48)))
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(2, len(original)))
    result = without_unused_scans(bytes(original[:cut]), 8, luma_only=data.draw(st.booleans()))
    assert result is None or result.startswith(b"\xff\xd8")


def test_draft_returns_the_lighter_copy_for_progressive_thumbnails() -> None:
    data = PHOTO.read_bytes()
    image = Image.open(io.BytesIO(data))
    decoded = draft(image, data, (300, 300))
    assert decoded is not image and decoded.size == image.size == (664, 374)
    # A 1/4 decode reads every scan: the image is decoded as it is.
    image = Image.open(io.BytesIO(data))
    assert draft(image, data, (1000, 600)) is image


def test_a_request_gives_the_same_bytes_with_and_without_skipping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "photo.jpg").write_bytes(PHOTO.read_bytes())
    settings_ = Settings.from_env({}).replace(
        FILE_LOADER_ROOT_PATH=tmp_path, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None
    )
    paths = ["/unsafe/fit-in/300x300/photo.jpg", "/unsafe/200x200/filters:grayscale()/photo.jpg"]
    fast = [App(settings_).handle(Request("GET", path)).body for path in paths]
    monkeypatch.setattr("thumbor_urls.decode.without_unused_scans", lambda *args, **kw: None)
    slow = [App(settings_).handle(Request("GET", path)).body for path in paths]
    assert fast == slow
    assert all(body.startswith(b"\xff\xd8") for body in fast)
