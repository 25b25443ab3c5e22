"""Size arithmetic against the sizes a real Thumbor 7.8 server gave (listed in the core issue)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from tests.thumbor_sizes import THUMBOR_SIZES
from thumbor_urls.geometry import (
    Box,
    FocalPoint,
    GeometryRequest,
    displayed_to_stored_box,
    draft_request,
    oriented_size,
    plan_geometry,
)
from thumbor_urls.transform import orient
from thumbor_urls.url import parse_path


def output_size(source: tuple[int, int], options: str) -> tuple[int, int]:
    plan = parse_path(f"{options}/image.jpg")
    return plan_geometry(source, plan.geometry, plan.focal_points).output_size


@pytest.mark.parametrize(("source", "options", "expected"), THUMBOR_SIZES)
def test_output_size_matches_thumbor(source, options, expected):
    assert output_size(source, options) == expected


def test_crop_mode_crops_to_aspect_around_the_centre_then_resizes():
    plan = parse_path("300x200/image.jpg")
    geometry = plan_geometry((4000, 3000), plan.geometry)
    assert geometry.operations_as_dicts() == [
        {
            "type": "crop",
            "left": 0,
            "top": 166,
            "right": 4000,
            "bottom": 2833,
        },  # 166.5 rounds to even
        {"type": "resize", "width": 300, "height": 200},
    ]


@pytest.mark.parametrize(
    ("options", "box"),
    [
        ("left/300x100", Box(0, 0, 300, 100)),  # halign without a width crop: vertical crop
        ("300x100/left", Box(0, 166, 800, 433)),  # 166.5 rounds to even
        ("300x100/right/top", Box(0, 0, 800, 267)),
        ("300x100/center/bottom", Box(0, 333, 800, 600)),
        ("100x300/left", Box(0, 0, 200, 600)),
        ("100x300/right", Box(600, 0, 800, 600)),
        ("100x300", Box(300, 0, 500, 600)),
    ],
)
def test_alignment_chooses_the_kept_part(options, box):
    plan = parse_path(f"{options}/image.jpg")
    geometry = plan_geometry((800, 600), plan.geometry)
    if options.startswith("left/"):
        # `left/` before the size is not part of the grammar there: it becomes part of the image
        # path, as in Thumbor.
        assert plan.image == "300x100/image.jpg"
        return
    assert geometry.crop_box == box


def test_negative_sizes_flip_after_resizing():
    plan = parse_path("-300x-200/image.jpg")
    geometry = plan_geometry((800, 600), plan.geometry)
    assert geometry.output_size == (300, 200)
    assert geometry.operations_as_dicts()[-2:] == [
        {"type": "flip_horizontally"},
        {"type": "flip_vertically"},
    ]
    assert geometry.flips == (True, True)


def test_manual_crop_outside_the_image_is_clamped_and_empty_crops_are_ignored():
    clamped = plan_geometry((800, 600), parse_path("100x100:5000x5000/image.jpg").geometry)
    assert clamped.crop_box == Box(100, 100, 800, 600)
    empty = plan_geometry((800, 600), parse_path("300x300:300x500/image.jpg").geometry)
    assert empty.operations == ()
    assert empty.output_size == (800, 600)


def test_no_upscale_limits_the_request_to_the_original():
    plan = parse_path("1000x1000/filters:no_upscale()/image.jpg")
    assert plan_geometry((800, 600), plan.geometry).output_size == (800, 600)
    plan = parse_path("300x200/filters:no_upscale()/image.jpg")
    assert plan_geometry((800, 600), plan.geometry).output_size == (300, 200)


def test_upscale_grows_a_fit_in_result_to_the_box():
    plan = parse_path("fit-in/1000x1000/filters:upscale()/image.jpg")
    assert plan_geometry((300, 200), plan.geometry).output_size == (1000, 666)
    plan = parse_path("fit-in/1000x1000/image.jpg")
    assert plan_geometry((300, 200), plan.geometry).output_size == (300, 200)


def test_stretch_resizes_without_cropping():
    plan = parse_path("300x300/filters:stretch()/image.jpg")
    geometry = plan_geometry((800, 600), plan.geometry)
    assert geometry.operations_as_dicts() == [{"type": "resize", "width": 300, "height": 300}]


def test_fit_in_canvas_is_the_requested_box_for_fill():
    plan = parse_path("fit-in/300x200/image.jpg")
    geometry = plan_geometry((800, 600), plan.geometry)
    assert geometry.output_size == (267, 200)
    assert geometry.canvas == (300, 200)
    plan = parse_path("fit-in/300x0/image.jpg")
    assert plan_geometry((800, 600), plan.geometry).canvas == (300, 225)


def test_focal_points_pull_the_crop_towards_their_weighted_centre():
    points = (
        FocalPoint.from_square(600, 100, 100, 100),
        FocalPoint.from_square(700, 100, 50, 50),
    )
    geometry = plan_geometry((800, 600), GeometryRequest(width=200, height=600), points)
    # Weighted by area: x = (650 * 10000 + 725 * 2500) / 12500 = 665, so the box starts at 565.
    assert geometry.crop_box == Box(565, 0, 765, 600)


def test_focal_points_outside_a_manual_crop_are_dropped():
    points = (FocalPoint(50, 50), FocalPoint(700, 500))
    request = GeometryRequest(width=100, height=100, crop=Box(400, 300, 800, 600))
    geometry = plan_geometry((800, 600), request, points)
    assert geometry.focal_points == (FocalPoint(300, 200),)


@st.composite
def requests(draw):
    dimension = st.one_of(st.integers(0, 3000), st.just("orig"))
    return GeometryRequest(
        width=draw(dimension),
        height=draw(dimension),
        fit_in=draw(st.booleans()),
        full=draw(st.booleans()),
        adaptive=draw(st.booleans()),
        halign=draw(st.sampled_from(["left", "center", "right"])),
        valign=draw(st.sampled_from(["top", "middle", "bottom"])),
        stretch=draw(st.booleans()),
        upscale=draw(st.booleans()),
        no_upscale=draw(st.booleans()),
    )


@given(st.tuples(st.integers(1, 5000), st.integers(1, 5000)), requests())
def test_any_request_gives_a_crop_inside_the_image_and_a_positive_size(size, request):
    geometry = plan_geometry(size, request)
    box = geometry.crop_box
    assert 0 <= box.left < box.right <= size[0]
    assert 0 <= box.top < box.bottom <= size[1]
    width, height = geometry.output_size
    assert width >= 1
    assert height >= 1
    if request.fit_in and not request.full and not request.upscale:
        assert width <= size[0]
        assert height <= size[1]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_displayed_box_maps_to_the_stored_pixels_it_shows(orientation):
    stored = Image.new("RGB", (7, 5))
    stored.putdata([(x * 30, y * 50, (x + y) % 7 * 30) for y in range(5) for x in range(7)])
    displayed = orient(stored, orientation)
    assert displayed.size == oriented_size(stored.size, orientation)
    for box in [(0, 0, 2, 3), (1, 2, 4, 5), (0, 0, displayed.width, displayed.height)]:
        stored_box = displayed_to_stored_box(box, orientation, stored.size)
        left, top, right, bottom = (int(v) for v in stored_box)
        crop = stored.crop((left, top, right, bottom))
        assert orient(crop, orientation).tobytes() == displayed.crop(box).tobytes()


def test_draft_request_keeps_enough_pixels_for_the_crop():
    # A 300x200 output from the middle half of a 4000x3000 photo needs the full image at 600
    # pixels per 300 output pixels when only half of the width is used.
    assert draft_request((4000, 3000), (1000, 750, 3000, 2250), (300, 200), 1.0) == (600, 400)
    assert draft_request((4000, 3000), (0, 0, 4000, 3000), (300, 225), 2.0) == (600, 450)
    assert draft_request((400, 300), (0, 0, 400, 300), (1000, 750), 1.0) == (400, 300)
