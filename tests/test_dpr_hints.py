"""dpr() and client hints (CLIENT_HINTS): the classes, the size they ask for, and the answer's
Vary, Accept-CH, Content-DPR and result-cache key, through the real App over the samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import RecordingApp
from tests.images import decode
from thumbor_urls import hints
from thumbor_urls.geometry import scaled
from thumbor_urls.messages import Response
from thumbor_urls.url import parse_path

# samples/: astronaut.jpg is 512x512, dandelions.jpg 5312x2988.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1.0), ("0.5", 1.0), ("1.25", 1.5), ("1.5", 1.5), ("1.75", 2.0), (" 2 ", 2.0),
        ("2.625", 3.0), ("3", 3.0), ("4", 3.0), ("100", 3.0),
        ("0", None), ("", None), ("-1", None), ("2x", None), ("1e1", None), ("inf", None),
        ("1,5", None), ("+2", None), (".5", None), ("1.1234567", None),
    ],
)  # fmt: skip
def test_dpr_classes(text: str, expected: float | None) -> None:
    assert hints.dpr_class(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 160), ("160", 160), ("161", 240), ("500", 640), ("1920", 1920), ("1921", 2560),
        ("3840", 3840), ("999999", 3840), ("0", None), ("-5", None), ("500.5", None),
        ("", None), ("1234567", None), ("0x10", None),
    ],
)  # fmt: skip
def test_width_classes(text: str, expected: int | None) -> None:
    assert hints.width_class(text) == expected


@given(st.floats(min_value=0.01, max_value=999, allow_nan=False))
def test_a_dpr_class_is_its_own_class_and_never_below_the_hint(value: float) -> None:
    cls = hints.dpr_class(f"{value:.3f}")
    assert cls is not None
    assert hints.dpr_class(f"{cls:g}") == cls  # CloudFront's classes read back unchanged
    assert cls >= min(round(value, 3), hints.DPR_CLASSES[-1])


@given(st.integers(min_value=1, max_value=999_999))
def test_a_width_class_is_its_own_class_and_never_below_the_hint(value: int) -> None:
    cls = hints.width_class(str(value))
    assert cls is not None
    assert hints.width_class(str(cls)) == cls
    assert cls >= min(value, hints.WIDTH_CLASSES[-1])


def test_a_hint_fills_only_what_the_url_leaves_open() -> None:
    assert hints.consulted(parse_path("300x200/a.jpg")) == "dpr"
    assert hints.consulted(parse_path("fit-in/0x200/a.jpg")) == "dpr"
    assert hints.consulted(parse_path("a.jpg")) == "width"
    assert hints.consulted(parse_path("10x10:90x90/fit-in/a.jpg")) == "width"
    assert hints.consulted(parse_path("300x200/filters:dpr(2)/a.jpg")) is None
    assert hints.consulted(parse_path("origxorig/a.jpg")) is None


@pytest.mark.parametrize(
    ("side", "dpr", "expected"),
    [(300, 2.0, 600), (301, 1.5, 452), (300, None, 300), (0, 3.0, 0), ("orig", 2.0, "orig")],
)
def test_scaled_sides(side: int | str, dpr: float | None, expected: int | str) -> None:
    assert scaled(side, dpr) == expected  # type: ignore[arg-type]


ORIGINALS = ("astronaut.jpg", "dandelions.jpg")


def size_of(response: Response) -> tuple[int, int]:
    assert response.status == 200, response.body
    return decode(response.body).size


# --- dpr() -----------------------------------------------------------------------------------


def test_dpr_multiplies_the_written_size(tmp_path: Path) -> None:
    server = RecordingApp(tmp_path, ORIGINALS)
    assert size_of(server.get("/unsafe/150x100/filters:dpr(2)/astronaut.jpg")) == (300, 200)
    assert size_of(server.get("/unsafe/101x0/filters:dpr(1.5)/astronaut.jpg")) == (152, 152)
    # fit-in does not enlarge, at any ratio: 400x400 at 2x would be 800, the original is 512.
    assert size_of(server.get("/unsafe/fit-in/400x400/filters:dpr(2)/astronaut.jpg")) == (
        512,
        512,
    )
    # The same crop, at twice the pixels.
    meta = json.loads(server.get("/unsafe/meta/150x100/filters:dpr(2)/astronaut.jpg").body)
    plain = json.loads(server.get("/unsafe/meta/300x200/astronaut.jpg").body)
    assert meta["thumbor"]["operations"] == plain["thumbor"]["operations"]
    # fill()'s canvas is the multiplied box too.
    filled = server.get("/unsafe/fit-in/100x100/filters:dpr(3):fill(red)/dandelions.jpg")
    assert size_of(filled) == (300, 300)


def test_dpr_stays_within_the_output_limits(tmp_path: Path) -> None:
    server = RecordingApp(tmp_path, ORIGINALS, MAX_OUTPUT_SIDE=500)
    refused = server.get("/unsafe/300x200/filters:dpr(2)/astronaut.jpg")
    assert refused.status == 413
    assert "MAX_OUTPUT_SIDE" in json.loads(refused.body)["message"]
    assert server.get("/unsafe/250x200/filters:dpr(2)/astronaut.jpg").status == 200
    # Out of range: skipped as Thumbor skips a bad argument, refused with STRICT_FILTERS.
    assert size_of(server.get("/unsafe/100x100/filters:dpr(5)/astronaut.jpg")) == (100, 100)
    strict = RecordingApp(tmp_path / "strict", ORIGINALS, STRICT_FILTERS=True)
    assert strict.get("/unsafe/100x100/filters:dpr(5)/astronaut.jpg").status == 400


# --- client hints ----------------------------------------------------------------------------


def test_hints_are_ignored_unless_turned_on(tmp_path: Path) -> None:
    server = RecordingApp(tmp_path, ORIGINALS)
    response = server.get("/unsafe/150x100/astronaut.jpg", sec_ch_dpr="2", sec_ch_width="640")
    assert size_of(response) == (150, 100)
    for header in ("Vary", "Accept-CH", "Content-DPR"):
        assert header not in response.headers


def test_the_dpr_hint_multiplies_a_written_size(tmp_path: Path) -> None:
    server = RecordingApp(tmp_path, ORIGINALS, CLIENT_HINTS=True)
    url = "/unsafe/150x100/astronaut.jpg"
    double = server.get(url, sec_ch_dpr="2")
    assert size_of(double) == (300, 200)
    assert double.headers["Vary"] == "Sec-CH-DPR, DPR"  # no Accept: no automatic formats
    assert double.headers["Content-DPR"] == "2"
    assert double.headers["Accept-CH"] == "Sec-CH-DPR, DPR, Sec-CH-Width, Width"
    # 1.75 is in the class of 2: the stored result answers it.
    assert server.get(url, sec_ch_dpr="1.75").body == double.body
    # The older header, when the Sec-CH- one is missing or not a number.
    assert size_of(server.get(url, dpr="3")) == (450, 300)
    assert size_of(server.get(url, sec_ch_dpr="two", dpr="1.5")) == (225, 150)
    assert server.outcomes == ["processed", "result-cache", "processed", "processed"]
    # No hint, or a hint of 1: the hint-less answer, one result for both.
    plain = server.get(url)
    assert size_of(plain) == (150, 100)
    assert plain.headers["Vary"] == "Sec-CH-DPR, DPR"  # another client could get another size
    assert "Content-DPR" not in plain.headers  # no hint chose it
    one = server.get(url, sec_ch_dpr="1")
    assert one.body == plain.body
    assert one.headers["Content-DPR"] == "1"
    assert server.outcomes[-2:] == ["processed", "result-cache"]


def test_each_dpr_class_is_a_result_of_its_own(tmp_path: Path) -> None:
    server = RecordingApp(tmp_path, ORIGINALS, CLIENT_HINTS=True)
    app, plan = server.app, parse_path("150x100/astronaut.jpg")
    keys = {
        app.result_key(plan, "", ""),
        *(app.result_key(plan, "", f"dpr={c:g}") for c in hints.DPR_CLASSES[1:]),
    }
    assert len(keys) == len(hints.DPR_CLASSES)
    results = app.settings.RESULT_STORAGE_FILE_STORAGE_ROOT_PATH
    assert results is not None
    for dpr in ("1", "1.5", "2", "3", "1.2", "2.5"):
        server.get("/unsafe/150x100/astronaut.jpg", sec_ch_dpr=dpr)
    stored = {p.name for p in results.rglob("*") if p.is_file() and p.suffix != ".json"}
    assert stored == keys
    assert server.outcomes == ["processed"] * 4 + ["result-cache"] * 2


def test_content_dpr_is_what_the_class_made_of_the_image(tmp_path: Path) -> None:
    server = RecordingApp(tmp_path, ORIGINALS, CLIENT_HINTS=True)
    # fit-in never enlarges: 300x300 at 3x would be 900, the original is 512: 512/300.
    partly = server.get("/unsafe/fit-in/300x300/astronaut.jpg", sec_ch_dpr="3")
    assert size_of(partly) == (512, 512)
    assert partly.headers["Content-DPR"] == "1.71"
    # Already larger than the original at 1x: the class changed nothing.
    none = server.get("/unsafe/fit-in/600x600/astronaut.jpg", sec_ch_dpr="2")
    assert size_of(none) == (512, 512)
    assert none.headers["Content-DPR"] == "1"
    # The side that reaches the box decides: 5312x2988 in 200x200 at 2x is 400x225.
    wide = server.get("/unsafe/fit-in/200x200/dandelions.jpg", sec_ch_dpr="2")
    assert size_of(wide) == (400, 225)
    assert wide.headers["Content-DPR"] == "2"
    # The same headers from the stored result, and on a 304.
    again = server.get("/unsafe/fit-in/200x200/dandelions.jpg", sec_ch_dpr="2")
    assert server.outcomes[-1] == "result-cache"
    assert again.headers == wide.headers
    etag = wide.headers["ETag"]
    not_modified = server.get(
        "/unsafe/fit-in/200x200/dandelions.jpg", sec_ch_dpr="2", if_none_match=etag
    )
    assert not_modified.status == 304
    assert not_modified.headers["Content-DPR"] == "2"
    assert not_modified.headers["Vary"] == "Sec-CH-DPR, DPR"


def test_a_class_past_the_limits_falls_back_to_one_that_fits(tmp_path: Path) -> None:
    server = RecordingApp(tmp_path, ORIGINALS, CLIENT_HINTS=True, MAX_OUTPUT_SIDE=500)
    fallen = server.get("/unsafe/300x200/astronaut.jpg", sec_ch_dpr="3")
    assert size_of(fallen) == (450, 300)  # 1.5: 2 would make 600
    assert fallen.headers["Content-DPR"] == "1.5"


def test_the_width_hint_sizes_a_url_that_writes_no_size(tmp_path: Path) -> None:
    server = RecordingApp(tmp_path, ORIGINALS, CLIENT_HINTS=True, AUTO_WEBP=True)
    wide = server.get("/unsafe/dandelions.jpg", sec_ch_width="500", accept="image/webp")
    assert size_of(wide) == (640, 360)  # the class of 500
    assert wide.headers["Content-Type"] == "image/webp"
    assert wide.headers["Vary"] == "Accept, Sec-CH-Width, Width"
    assert "Content-DPR" not in wide.headers  # the Width hint is in device pixels already
    # Never enlarged: the class of 3000 is 3840, the original is 512 wide.
    assert size_of(server.get("/unsafe/astronaut.jpg", width="3000")) == (512, 512)
    # 600 is in the class of 500: the stored result answers.
    assert server.get("/unsafe/dandelions.jpg", sec_ch_width="600", accept="image/webp").body == (
        wide.body
    )
    assert server.outcomes[-1] == "result-cache"
    # A written size or dpr(): the width hint changes nothing, and the answer does not vary on it.
    sized = server.get("/unsafe/100x0/dandelions.jpg", sec_ch_width="500", accept="*/*")
    assert size_of(sized) == (100, 56)
    assert sized.headers["Vary"] == "Accept, Sec-CH-DPR, DPR"
    fixed = server.get("/unsafe/100x0/filters:dpr(2)/dandelions.jpg", sec_ch_dpr="3")
    assert size_of(fixed) == (200, 112)  # 112.5, rounded half to even as Thumbor does
    assert fixed.headers["Vary"] == "Accept"
    assert "Content-DPR" not in fixed.headers
