"""The URL grammar and filter parsing."""

from __future__ import annotations

import pytest

from thumbor_urls.errors import InvalidFilterArgument, InvalidUrl, UnknownFilter
from thumbor_urls.geometry import Box
from thumbor_urls.grammar import split_filters
from thumbor_urls.plan import Trim
from thumbor_urls.url import parse_path


def test_every_part_of_the_grammar_in_one_url():
    plan = parse_path(
        "debug/meta/trim:bottom-right:12/10x20:300x400/adaptive-full-fit-in/-300x-orig/"
        "right/bottom/smart/filters:quality(70):format(webp)/some/dir/image.jpg"
    )
    assert plan.debug
    assert plan.meta
    assert plan.smart
    assert plan.trim == Trim("bottom-right", 12)
    geometry = plan.geometry
    assert geometry.crop == Box(10, 20, 300, 400)
    assert (geometry.fit_in, geometry.full, geometry.adaptive) == (True, True, True)
    assert (geometry.width, geometry.height) == (300, "orig")
    assert (geometry.horizontal_flip, geometry.vertical_flip) == (True, True)
    assert (geometry.halign, geometry.valign) == ("right", "bottom")
    assert plan.output.quality == 70
    assert plan.output.format == "webp"
    assert plan.image == "some/dir/image.jpg"


def test_defaults_when_only_an_image_is_given():
    plan = parse_path("image.jpg")
    assert plan.image == "image.jpg"
    assert plan.trim is None
    assert plan.geometry.crop is None
    assert (plan.geometry.width, plan.geometry.height) == (0, 0)
    assert (plan.geometry.halign, plan.geometry.valign) == ("center", "middle")
    assert not (plan.meta or plan.debug or plan.smart or plan.geometry.fit_in)


@pytest.mark.parametrize(
    ("text", "trim"),
    [
        ("trim", Trim("top-left", 0)),
        ("trim:top-left", Trim("top-left", 0)),
        ("trim:bottom-right", Trim("bottom-right", 0)),
        ("trim:30", Trim("top-left", 30)),
        ("trim:bottom-right:5", Trim("bottom-right", 5)),
    ],
)
def test_trim_forms(text, trim):
    assert parse_path(f"{text}/image.jpg").trim == trim


def test_image_path_is_not_decoded_again():
    # Adapters decode the path once; a literal %20 left after that is part of the file name.
    assert parse_path("300x200/my photos/caf%20é.jpg").image == "my photos/caf%20é.jpg"


def test_url_without_image_is_invalid():
    with pytest.raises(InvalidUrl):
        parse_path("300x200/")


def test_filters_with_nested_brackets_quotes_and_slashes_split_correctly():
    calls, rest = split_filters(
        "curve([(0,0),(255,255)],[(0,50)],[],[]):watermark(a/b.png,-10,center,50)"
        ":text('a,b)c'):blur(3)/x/y.jpg"
    )
    assert [(name, args) for name, args, _ in calls] == [
        ("curve", ["[(0,0),(255,255)]", "[(0,50)]", "[]", "[]"]),
        ("watermark", ["a/b.png", "-10", "center", "50"]),
        ("text", ["'a,b)c'"]),
        ("blur", ["3"]),
    ]
    assert rest == "x/y.jpg"


@pytest.mark.parametrize(
    "path",
    [
        "filters:quality(80/x.jpg",  # never closed
        "filters:quality(80)x.jpg",  # no separator after the call
        "filters:(80)/x.jpg",  # no name
    ],
)
def test_malformed_filters_are_400(path):
    with pytest.raises(InvalidUrl):
        parse_path(path)


def test_unknown_and_invalid_filters_are_ignored_and_reported_by_default():
    plan = parse_path("filters:nope(1):quality(abc):quality(101):grayscale()/x.jpg")
    assert [f.name for f in plan.filters] == ["grayscale"]
    assert plan.output.quality is None
    reasons = {f.text: f.reason for f in plan.ignored_filters}
    assert reasons["nope(1)"] == "unknown filter nope()"
    assert "whole number" in reasons["quality(abc)"]
    assert "at most 100" in reasons["quality(101)"]


def test_strict_mode_answers_unknown_and_invalid_filters_with_400():
    with pytest.raises(UnknownFilter):
        parse_path("filters:nope(1)/x.jpg", strict=True)
    with pytest.raises(InvalidFilterArgument, match=r"quality\(\): argument 1 \(quality\)"):
        parse_path("filters:quality(abc)/x.jpg", strict=True)
    with pytest.raises(InvalidFilterArgument, match="missing argument 1"):
        parse_path("filters:rotate()/x.jpg", strict=True)
    with pytest.raises(InvalidFilterArgument, match="at most 1 argument"):
        parse_path("filters:quality(1,2)/x.jpg", strict=True)


def test_filters_run_in_url_order_and_later_options_win():
    plan = parse_path("filters:quality(10):rotate(90):grayscale():quality(90)/x.jpg")
    assert [f.name for f in plan.filters] == ["rotate", "grayscale"]
    assert plan.filters[0].args == (90,)
    assert plan.output.quality == 90


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fill(red)", ("red", False)),
        ("fill(ff0000,1)", ("ff0000", True)),
        ("fill(transparent,true)", ("transparent", True)),
        ("fill(AUTO)", ("auto", False)),
        ("fill(blur)", ("blur", False)),
    ],
)
def test_fill_arguments(text, expected):
    (bound,) = parse_path(f"filters:{text}/x.jpg", strict=True).filters
    assert bound.args == expected


def test_fill_rejects_what_is_not_a_colour():
    with pytest.raises(InvalidFilterArgument):
        parse_path("filters:fill(notacolour)/x.jpg", strict=True)


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("format(jpg)", "format", "jpeg"),
        ("format(PNG)", "format", "png"),
        ("format(avif)", "format", "avif"),
        ("max_age(0)", "max_age", 0),
        ("max_age(3600)", "max_age", 3600),
        ("strip_icc()", "strip_icc", True),
        ("strip_exif()", "strip_exif", True),
        ("quality(0)", "quality", 0),
        ("quality(100)", "quality", 100),
    ],
)
def test_output_filters(text, field, value):
    plan = parse_path(f"filters:{text}/x.jpg", strict=True)
    assert getattr(plan.output, field) == value


@pytest.mark.parametrize("text", ["format(bmp)", "max_age(-1)", "quality(-5)", "strip_icc(1)"])
def test_output_filters_reject_bad_arguments(text):
    with pytest.raises(InvalidFilterArgument):
        parse_path(f"filters:{text}/x.jpg", strict=True)


@pytest.mark.parametrize(
    ("text", "flag"),
    [("stretch()", "stretch"), ("upscale()", "upscale"), ("no_upscale()", "no_upscale")],
)
def test_geometry_filters_set_their_flag(text, flag):
    assert getattr(parse_path(f"filters:{text}/x.jpg", strict=True).geometry, flag)
