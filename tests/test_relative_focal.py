"""focal(x,y): a focal point in fractions of the original's upright size, next to Thumbor's pixel
box focal(LxT:RxB). It must plan exactly what the one-pixel box of the same point plans."""

from __future__ import annotations

import json

import pytest

from thumbor_urls.errors import InvalidFilterArgument
from thumbor_urls.geometry import FocalPoint
from thumbor_urls.url import parse_path

# samples/: astronaut.jpg is 512x512; dandelions-exif-rotated.jpg is stored 1350x2400 with EXIF
# orientation 6, so upright it is 2400x1350.
UPRIGHT = {"astronaut.jpg": (512, 512), "dandelions-exif-rotated.jpg": (2400, 1350)}


def box_for(point: tuple[float, float], size: tuple[int, int]) -> str:
    x = min(int(point[0] * size[0]), size[0] - 1)
    y = min(int(point[1] * size[1]), size[1] - 1)
    return f"focal({x}x{y}:{x + 1}x{y + 1})"


def test_the_fraction_is_the_pixel_box_of_its_point() -> None:
    for point in ((0.0, 0.0), (0.3, 0.4), (0.999, 0.5), (1.0, 1.0)):
        size = (640, 480)
        from_box = parse_path(f"filters:{box_for(point, size)}/a.jpg").focal_points
        relative = parse_path(f"filters:focal({point[0]},{point[1]})/a.jpg")
        assert relative.focal_points == ()  # the size is not known before loading
        assert relative.with_relative_focal_points(size).focal_points == from_box
    assert FocalPoint.from_fraction(1.0, 1.0, (640, 480))[:2] == (639, 479)


@pytest.mark.parametrize(
    "call",
    ["focal(0.3)", "focal(1.2,0.5)", "focal(0.5,-0.1)", "focal(10x10:20x20,0.5)", "focal(a,b)"],
)
def test_malformed_relative_focal_is_skipped_or_refused(call: str) -> None:
    plan = parse_path(f"filters:{call}/a.jpg")
    assert (plan.focal_points, plan.relative_focal_points) == ((), ())
    assert [f.text for f in plan.ignored_filters] == [call]
    with pytest.raises(InvalidFilterArgument):
        parse_path(f"filters:{call}/a.jpg", strict=True)


def test_thumbors_pixel_box_is_unchanged() -> None:
    plan = parse_path("filters:focal('10x20:30x60')/a.jpg")
    assert plan.focal_points == (FocalPoint(20, 40, 20, 40, 800.0, "Explicit"),)


@pytest.mark.parametrize("name", sorted(UPRIGHT))
@pytest.mark.parametrize(
    ("options", "point"),
    [
        ("300x100", (0.2, 0.8)),
        ("100x300", (0.85, 0.1)),
        ("0x0:400x400/100x50", (0.1, 0.2)),  # a manual crop: the point is in the original
        ("fit-in/200x200", (0.7, 0.7)),  # no crop: the point changes nothing, in both spellings
    ],
)
def test_relative_focal_serves_what_the_pixel_box_serves(client, name, options, point) -> None:
    relative = f"focal({point[0]},{point[1]})"
    box = box_for(point, UPRIGHT[name])
    meta = json.loads(client(f"/unsafe/meta/{options}/filters:{relative}/{name}").body)["thumbor"]
    expected = json.loads(client(f"/unsafe/meta/{options}/filters:{box}/{name}").body)["thumbor"]
    assert meta == expected
    image = client(f"/unsafe/{options}/filters:{relative}/{name}")
    assert image.status == 200
    assert image.body == client(f"/unsafe/{options}/filters:{box}/{name}").body


def test_the_point_moves_the_crop(client) -> None:
    def crop(point: str) -> object:
        meta = json.loads(client(f"/unsafe/meta/300x100/filters:focal({point})/astronaut.jpg").body)
        return meta["thumbor"]["operations"][0]

    assert crop("0.5,0.1") != crop("0.5,0.9")
    assert crop("0.5,0.1")["top"] == 0  # type: ignore[index]
