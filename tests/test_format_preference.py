"""AUTO_FORMAT_PREFERENCE: an ordered list of output formats, chosen by the client's Accept header
with its q-values, each negotiated class stored as a result of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import RecordingApp
from tests.images import decode
from thumbor_urls import codecs
from thumbor_urls.accept import qualities, takes
from thumbor_urls.config import SettingError, Settings

CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
OLD_SAFARI = "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"


@pytest.mark.parametrize(
    ("header", "fmt", "taken"),
    [
        (CHROME, "avif", True),
        (CHROME, "webp", True),
        (CHROME, "jpeg", True),  # through image/*
        (CHROME, "png", True),
        (OLD_SAFARI, "webp", False),  # image/* is no promise of WebP
        (OLD_SAFARI, "avif", False),
        (OLD_SAFARI, "jpeg", True),
        ("image/avif;q=0,image/webp", "avif", False),  # q=0: not acceptable
        ("image/avif;q=0.1,image/webp", "avif", True),
        ("IMAGE/AVIF", "avif", True),  # media types are case-insensitive
        ("image/avif; Q=0", "avif", False),
        ("image/avif;q=0,image/avif;q=0.5", "avif", True),  # the highest of a repeated range
        ("image/avif;q=2", "avif", False),  # out of range: 0, as Thumbor reads it
        ("image/avif;q=abc", "avif", False),
        ("image/avif;profile=x", "avif", False),  # a variant we do not write
        ("image/jpeg;q=0,*/*", "jpeg", False),  # named with q=0 beats a wildcard
        ("image/jpg", "jpeg", True),
        ("image/*;q=0,*/*", "png", False),  # the more specific wildcard wins
        ("*/*", "png", True),
        ("", "jpeg", False),
        ("text/html", "jpeg", False),
    ],
)
def test_accept_ranges_and_q_values(header: str, fmt: str, taken: bool) -> None:
    assert takes(qualities(header), fmt) is taken


def test_accept_class_follows_the_preference_order() -> None:
    preference = ("webp", "avif", "jpeg")
    assert codecs.accept_class(CHROME, preference, None) == "webp+avif+jpeg"
    assert codecs.accept_class("image/webp;q=0,*/*", preference, None) == "jpeg"
    assert codecs.accept_class(CHROME, preference, "png") == ""  # format() decides
    assert codecs.accept_class(CHROME, (), None) == ""


@pytest.mark.parametrize(
    ("accepted", "alpha", "animated", "chosen"),
    [
        ("avif+webp+jpeg", False, False, "avif"),
        ("avif+webp+jpeg", False, True, "webp"),  # AVIF for stills only
        ("jpeg+png", True, False, "png"),  # JPEG has no transparency
        ("jpeg+png", False, True, None),  # we write an animation's first frame only in both
        ("", False, False, None),
    ],
)
def test_negotiate_suits_the_image(
    accepted: str, alpha: bool, animated: bool, chosen: str | None
) -> None:
    assert codecs.negotiate(accepted, alpha, animated) == chosen


def test_the_setting_is_read_in_order_once_each() -> None:
    settings = Settings.from_env({"AUTO_FORMAT_PREFERENCE": "WebP, jpg, avif, jpeg"})
    assert settings.AUTO_FORMAT_PREFERENCE == ("webp", "jpeg", "avif")
    # It replaces the two flags.
    assert settings.replace(AUTO_AVIF=True).auto_formats == ("webp", "jpeg", "avif")
    assert Settings(AUTO_AVIF=True, AUTO_WEBP=True).auto_formats == ("avif", "webp")
    with pytest.raises(SettingError, match="AUTO_FORMAT_PREFERENCE takes avif, webp"):
        Settings.from_env({"AUTO_FORMAT_PREFERENCE": "avif,gif"})


ORIGINALS = ("astronaut.jpg", "astronaut.png", "pan.gif", "dandelions-cutout.png")


def test_preference_picks_the_first_format_the_client_takes(tmp_path: Path) -> None:
    app = RecordingApp(tmp_path, ORIGINALS, AUTO_FORMAT_PREFERENCE=("avif", "webp", "jpeg"))
    url = "/unsafe/80x60/astronaut.png"  # an opaque PNG
    cases = {
        CHROME: "image/avif",
        "image/avif;q=0,image/webp,*/*": "image/webp",
        "image/avif;q=0,image/webp;q=0,*/*;q=0.8": "image/jpeg",
        "": "image/png",  # nothing taken: the source's own format
    }
    for accept, content_type in cases.items():
        response = app.get(url, accept=accept)
        assert response.status == 200
        assert response.headers["Content-Type"] == content_type, accept
        assert decode(response.body).format == content_type.split("/")[1].upper()
        assert response.headers["Vary"] == "Accept"
    assert app.outcomes == ["processed"] * len(cases)
    assert app.stored() == len(cases)  # one result per negotiated class
    # The same classes again, spelt differently: every one is a hit.
    again = {
        "image/avif,image/webp,*/*": "image/avif",
        "image/webp,image/avif;q=0,*/*": "image/webp",
        OLD_SAFARI: "image/jpeg",
    }
    for accept, content_type in again.items():
        assert app.get(url, accept=accept).headers["Content-Type"] == content_type
    assert app.outcomes[len(cases) :] == ["result-cache"] * len(again)
    assert app.stored() == len(cases)


def test_transparency_and_animation_skip_formats_that_cannot_hold_them(tmp_path: Path) -> None:
    app = RecordingApp(tmp_path, ORIGINALS, AUTO_FORMAT_PREFERENCE=("jpeg", "avif", "webp"))
    cutout = app.get("/unsafe/80x45/dandelions-cutout.png", accept=CHROME)
    assert cutout.headers["Content-Type"] == "image/avif"  # JPEG would lose the alpha
    assert decode(cutout.body).mode == "RGBA"
    animated = app.get("/unsafe/60x0/pan.gif", accept=CHROME)
    assert animated.headers["Content-Type"] == "image/webp"
    assert getattr(decode(animated.body), "n_frames", 1) > 1
    # With only JPEG preferred an animation is a GIF for every client: nothing to vary on.
    (tmp_path / "jpeg-only").mkdir()
    only_jpeg = RecordingApp(tmp_path / "jpeg-only", ORIGINALS, AUTO_FORMAT_PREFERENCE=("jpeg",))
    gif = only_jpeg.get("/unsafe/60x0/pan.gif", accept=CHROME)
    assert gif.headers["Content-Type"] == "image/gif"
    assert "Vary" not in gif.headers


def test_a_png_chosen_by_preference_is_not_turned_into_jpeg(tmp_path: Path) -> None:
    app = RecordingApp(tmp_path, ORIGINALS, AUTO_FORMAT_PREFERENCE=("png",), AUTO_PNG_TO_JPG=True)
    chosen = app.get("/unsafe/80x80/astronaut.jpg", accept="image/png")
    assert chosen.headers["Content-Type"] == "image/png"
    # Not taken: the source's format, then AUTO_PNG_TO_JPG as before.
    fallback = app.get("/unsafe/80x80/astronaut.png", accept="image/webp")
    assert fallback.headers["Content-Type"] == "image/jpeg"


def test_without_a_preference_the_flags_keep_their_classes(tmp_path: Path) -> None:
    app = RecordingApp(tmp_path, ORIGINALS, AUTO_WEBP=True, AUTO_AVIF=True)
    # The class strings (part of the stored results' keys) are the ones the flags always made.
    automatic = app.app.settings.auto_formats
    assert codecs.accept_class(CHROME, automatic, None) == "avif+webp"
    assert codecs.accept_class("image/webp,*/*", automatic, None) == "webp"
    # q=0 now refuses a format the flags would have picked.
    webp = app.get("/unsafe/80x60/astronaut.jpg", accept="image/avif;q=0,image/webp")
    assert webp.headers["Content-Type"] == "image/webp"
