"""Canvas, overlay, focus and output filters: parameters and their effect on real pixels."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

import thumbor_urls
from tests.images import decode, encode, frame_count, gradient
from thumbor_urls.errors import InvalidFilterArgument
from thumbor_urls.filters import REGISTRY
from thumbor_urls.filters.watermark import _offsets, _scaled_size
from thumbor_urls.geometry import FocalPoint
from thumbor_urls.url import parse_path


def args_of(text: str) -> tuple[object, ...]:
    (bound,) = parse_path(f"filters:{text}/x.jpg", strict=True).filters
    return bound.args


def rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    pixel = image.convert("RGBA").getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel


@pytest.fixture
def photo(root):
    (root / "g.png").write_bytes(encode(gradient((200, 100)), "PNG"))
    (root / "a.png").write_bytes(encode(gradient((200, 100), "RGBA"), "PNG"))
    return "g.png"


# -- parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("round_corner(20,255,0,0)", ((20, 20), 255, 0, 0, False)),
        ("round_corner(20|10,0,0,0,1)", ((20, 10), 0, 0, 0, True)),
        ("background_color(ff0000)", ("ff0000",)),
        ("background_color(blue)", ("blue",)),
        ("proportion(0.5)", (0.5,)),
        ("proportion(.25)", (0.25,)),
        ("watermark(w.png,10,-10,50)", ("w.png", "10", "-10", 50, None, None)),
        ("watermark(w.png,10p,center,0,20,none)", ("w.png", "10p", "center", 0, 0.2, None)),
        (
            "watermark(w.png,repeat,repeat,100,none,30)",
            ("w.png", "repeat", "repeat", 100, None, 0.3),
        ),
        ("frame(f.png)", ("f.png",)),
    ],
)
def test_valid_arguments(text, expected):
    assert args_of(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "round_corner(20,256,0,0)",
        "round_corner(a,0,0,0)",
        "round_corner(20|,0,0,0)",
        "round_corner(20,0,0)",
        "background_color(notacolour)",
        "background_color()",
        "proportion(abc)",
        "watermark(w.png,left,10,50)",
        "watermark(w.png,10,10,101)",
        "watermark(w.png,10,10)",
        "watermark(w.png,10,10,50,abc)",
        "frame()",
        "focal(10x10)",
        "focal(10x10:20)",
        "max_bytes(10)",
        "max_bytes(-1)",
        "autojpg(maybe)",
        "cover(1)",
    ],
)
def test_invalid_arguments(text):
    with pytest.raises(InvalidFilterArgument):
        parse_path(f"filters:{text}/x.jpg", strict=True)


# Every parameter reads its text with Thumbor's own pattern (BaseFilter.Number and friends,
# filters/params.py). These were accepted before the parameters became one family.
@pytest.mark.parametrize(
    "text",
    [
        # Boolean is [Tt]rue|[Ff]alse|1|0: no other case.
        "autojpg(TRUE)",
        "autojpg(tRuE)",
        "fill(red,TRUE)",
        "round_corner(20,0,0,0,FALSE)",
        # Number is -?\d+ and PositiveNumber \d+: no plus sign, and no minus on a positive one.
        "rotate(+90)",
        "quality(+50)",
        "quality(-0)",
        "max_age(+5)",
        "max_age(-0)",
        "max_bytes(+500)",
        "round_corner(20,+1,0,0)",
        "round_corner(20,-0,0,0)",
        "watermark(w.png,10,10,+5)",
        "watermark(w.png,10,10,-0)",
        "smart_crop(+1)",
        "smart_crop(0,+5)",
        # DecimalNumber is -?(\d+\.?\d*|\d*\.?\d+): no plus sign either.
        "proportion(+0.5)",
        "moderate(+50)",
    ],
)
def test_arguments_outside_thumbors_patterns_are_refused(text):
    with pytest.raises(InvalidFilterArgument):
        parse_path(f"filters:{text}/x.jpg", strict=True)
    assert [ignored.text for ignored in parse_path(f"filters:{text}/x.jpg").ignored_filters] == [
        text
    ]


def test_format_takes_a_quoted_string_as_thumbor_does():
    # BaseFilter.String strips one pair of quotes; format() lower-cases what is left.
    assert parse_path("filters:format('webp')/x.jpg").output.format == "webp"
    assert parse_path("filters:format('PNG')/x.jpg").output.format == "png"
    assert parse_path("filters:format(' png')/x.jpg").output.format is None


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("watermark", "watermark(image, x, y, alpha [, w_ratio [, h_ratio]])"),
        ("blur", "blur(radius [, sigma])"),
        ("smart_crop", "smart_crop([face_index [, padding]])"),
        ("equalize", "equalize()"),
        ("curve", "curve(all, red, green, blue)"),
    ],
)
def test_signature_is_thumbors_usage_form(name, usage):
    assert REGISTRY.specs[name].signature() == usage


def test_every_filter_has_its_docstrings_first_paragraph_as_reference_text():
    for spec in REGISTRY.specs.values():
        assert spec.doc and "\n" not in spec.doc and "  " not in spec.doc, spec.name
    # A first paragraph over several lines is one line of text; what follows it is left out.
    assert REGISTRY.specs["round_corner"].doc.endswith("(or making it transparent).")
    assert REGISTRY.specs["extract_focal"].doc.endswith("what the first one chose.")


@pytest.mark.parametrize(
    "module", ["plan", "url", "filters", "filters.registry", "filters.smart", "filters.focus"]
)
def test_the_modules_behind_pre_load_filters_import_in_any_order(module):
    # plan and url import the filters package, whose smart and focus filters use plan and url.
    code = (
        f"import thumbor_urls.{module}\n"
        "from thumbor_urls.url import parse_path\n"
        "plan = parse_path('filters:smart_crop(1,2):moderate(50):extract_focal()/h.com/unsafe/"
        "1x2:3x4/a.jpg')\n"
        "print(plan.smart_crop, plan.moderation.min_confidence, plan.image)"
    )
    # The same thumbor_urls as this process's, in a fresh interpreter.
    root = str(Path(thumbor_urls.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    assert result.stdout.split() == ["SmartCrop(face_index=1,", "padding=2)", "50.0", "a.jpg"]


def test_pre_load_filters_change_the_plan():
    plan = parse_path("filters:focal(10x20:110x70):autojpg():max_bytes(5000):cover()/x.jpg")
    assert plan.focal_points == (FocalPoint(60, 45, 100, 50, 5000.0, "Explicit"),)
    assert (plan.output.auto_jpg, plan.output.max_bytes, plan.output.cover) == (True, 5000, True)
    assert parse_path("filters:autojpg(false)/x.jpg").output.auto_jpg is False
    assert parse_path("filters:focal(50x50:50x90)/x.jpg").focal_points == ()


def test_extract_focal_loads_the_inner_original_and_keeps_its_crop():
    plan = parse_path(
        "filters:extract_focal()/thumbs.example.com:8888/unsafe/100x150:300x350/200x200/photos/a.jpg"
    )
    assert plan.image == "photos/a.jpg"
    assert plan.focal_points == (FocalPoint(200, 250, 200, 200, 40000.0, "Original Extraction"),)
    untouched = parse_path("filters:extract_focal()/photos/a.jpg")
    assert (untouched.image, untouched.focal_points) == ("photos/a.jpg", ())


# -- pixels ------------------------------------------------------------------------------


def test_background_color(client, root):
    half = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    half.paste((10, 200, 10, 255), (0, 0, 10, 20))
    (root / "half.png").write_bytes(encode(half, "PNG"))
    image = decode(client("/unsafe/filters:background_color(blue)/half.png").body)
    assert image.mode == "RGBA"
    assert rgb(image, (15, 10)) == (0, 0, 255, 255)
    assert rgb(image, (5, 10)) == (10, 200, 10, 255)


def test_round_corner_paints_the_corners_only(client, photo):
    image = decode(client(f"/unsafe/filters:round_corner(30,255,0,0)/{photo}").body)
    assert rgb(image, (0, 0)) == (255, 0, 0, 255)
    assert rgb(image, (199, 99)) == (255, 0, 0, 255)
    original = gradient((200, 100))
    assert rgb(image, (100, 50))[:3] == rgb(original, (100, 50))[:3]
    assert rgb(image, (30, 0))[:3] == rgb(original, (30, 0))[:3]  # past the radius: untouched


def test_round_corner_elliptical_and_transparent(client, photo):
    image = decode(client(f"/unsafe/filters:round_corner(60|20,0,0,0,1)/{photo}").body)
    assert image.mode == "RGBA"
    assert rgb(image, (0, 0))[3] == 0
    assert rgb(image, (40, 0))[3] == 0  # inside the 60-wide corner
    assert rgb(image, (5, 25))[3] == 255  # below the 20-high corner
    assert rgb(image, (100, 50))[3] == 255


def test_proportion_scales_the_result(client, photo):
    assert decode(client(f"/unsafe/filters:proportion(0.5)/{photo}").body).size == (100, 50)
    assert decode(client(f"/unsafe/filters:proportion(1.5)/{photo}").body).size == (200, 100)


def watermark_png(root, size=(20, 10), color=(255, 0, 0, 255)):
    (root / "w.png").write_bytes(encode(Image.new("RGBA", size, color), "PNG"))


@pytest.mark.parametrize(
    ("position", "inside", "outside"),
    [
        ("10,5", (12, 7), (5, 5)),
        ("-10,-5", (175, 90), (195, 97)),
        ("center,center", (100, 50), (80, 50)),
        ("10p,20p", (25, 25), (15, 15)),
    ],
)
def test_watermark_positions(client, root, photo, position, inside, outside):
    watermark_png(root)
    image = decode(client(f"/unsafe/filters:watermark(w.png,{position},0)/{photo}").body)
    assert rgb(image, inside)[:3] == (255, 0, 0)
    assert rgb(image, outside)[:3] != (255, 0, 0)


def test_watermark_alpha_and_ratio(client, root, photo):
    watermark_png(root)
    half = decode(client(f"/unsafe/filters:watermark(w.png,0,0,50)/{photo}").body)
    under = rgb(gradient((200, 100)), (2, 2))
    red = rgb(half, (2, 2))[0]
    assert under[0] < red < 255  # blended: 50 takes 127 off the mark's alpha
    scaled = decode(client(f"/unsafe/filters:watermark(w.png,0,0,0,50,none)/{photo}").body)
    assert rgb(scaled, (99, 2))[:3] == (255, 0, 0)  # the mark is 50% of 200 wide now
    assert rgb(scaled, (101, 2))[:3] != (255, 0, 0)


def test_watermark_repeat_tiles_the_image(client, root, photo):
    watermark_png(root, (30, 30))
    image = decode(client(f"/unsafe/filters:watermark(w.png,repeat,repeat,0)/{photo}").body)
    red = ImageChops.difference(image.convert("RGB"), Image.new("RGB", image.size, (255, 0, 0)))
    red_share = sum(1 for v in red.convert("L").tobytes() if v < 10) / (200 * 100)
    assert 0.5 < red_share < 1.0


def test_watermark_on_every_frame_of_an_animation(client, root):
    watermark_png(root)
    response = client("/unsafe/filters:watermark(w.png,0,0,0)/pan.gif")
    animation = Image.open(io.BytesIO(response.body))
    assert frame_count(animation) == 16
    for index in (0, 15):
        animation.seek(index)
        assert rgb(animation.convert("RGB"), (5, 5)) == (255, 0, 0, 255)


def test_missing_watermark_is_a_clear_400(client, photo):
    response = client(f"/unsafe/filters:watermark(nope.png,0,0,0)/{photo}")
    assert response.status == 400
    assert json.loads(response.body)["message"] == "watermark(): there is no image at 'nope.png'"


def test_oversized_watermark_is_refused(make_client, root, photo):
    watermark_png(root, (200, 200))
    response = make_client(MAX_SOURCE_PIXELS=30000)(
        f"/unsafe/filters:watermark(w.png,0,0,0)/{photo}"
    )
    assert response.status == 413


def test_watermark_geometry_helpers_follow_thumbor():
    assert _scaled_size((200, 100), (20, 10), 0.5, None) == (100, 50)
    assert _scaled_size((200, 100), (20, 10), None, 0.2) == (40, 20)
    assert _offsets("-10", 200, 20) == [170]
    assert _offsets("50p", 200, 20) == [100]
    assert _offsets("repeat", 100, 30) == [0, 35, 70]


def nine_patch(root):
    """A 12x12 patch: 1 px of markers around a 10x10 picture whose middle 2x2 stretches and
    whose content area leaves 2 px of padding on every side."""
    patch = Image.new("RGBA", (12, 12), (0, 0, 0, 0))
    inner = Image.new("RGBA", (10, 10), (0, 0, 255, 255))
    inner.paste((0, 0, 0, 0), (4, 4, 6, 6))
    patch.paste(inner, (1, 1))
    black = (0, 0, 0, 255)
    for i in (5, 6):
        patch.putpixel((i, 0), black)
        patch.putpixel((0, i), black)
    for i in range(3, 9):
        patch.putpixel((i, 11), black)
        patch.putpixel((11, i), black)
    (root / "f.png").write_bytes(encode(patch, "PNG"))


def test_frame_pads_and_draws_a_nine_patch(client, root, photo):
    nine_patch(root)
    image = decode(client(f"/unsafe/filters:frame(f.png)/{photo}").body)
    assert image.size == (204, 104)  # 2 px of padding on every side
    assert rgb(image, (1, 1)) == (0, 0, 255, 255)  # the frame's border
    assert rgb(image, (202, 102)) == (0, 0, 255, 255)
    middle = rgb(image, (102, 52))[:3]
    assert middle == rgb(gradient((200, 100)), (100, 50))[:3]  # the stretched hole shows the photo


@pytest.mark.parametrize(
    ("setting", "limit"), [("MAX_OUTPUT_SIDE", 203), ("MAX_OUTPUT_PIXELS", 204 * 104 - 1)]
)
def test_frame_padding_is_held_to_the_output_limits(make_client, root, photo, setting, limit):
    nine_patch(root)  # 2 px of padding: the 200x100 picture becomes 204x104
    response = make_client(**{setting: limit})(f"/unsafe/filters:frame(f.png)/{photo}")
    assert response.status == 413
    assert setting in json.loads(response.body)["message"]
    assert (
        make_client(**{setting: limit + 1})(f"/unsafe/filters:frame(f.png)/{photo}").status == 200
    )


def test_missing_frame_is_a_clear_400(client, photo):
    response = client(f"/unsafe/filters:frame(nope.png)/{photo}")
    assert response.status == 400
    assert "frame()" in json.loads(response.body)["message"]


def test_fill_auto_is_the_mean_colour(client, root):
    (root / "two.png").write_bytes(encode(Image.new("RGB", (100, 100), (200, 100, 50)), "PNG"))
    auto = decode(client("/unsafe/fit-in/200x100/filters:fill(auto)/two.png").body)
    assert rgb(auto, (10, 50)) == (200, 100, 50, 255)


def test_fill_blur_and_transparent(client, photo, root):
    blurred = decode(client(f"/unsafe/fit-in/200x200/filters:fill(blur)/{photo}").body)
    assert blurred.size == (200, 200)
    top_band = ImageStat.Stat(blurred.crop((0, 0, 200, 40)).convert("RGB")).mean
    assert max(top_band) > 40  # the band is a blurred copy of the picture, not black
    clear = decode(client(f"/unsafe/fit-in/200x200/filters:fill(transparent)/{photo}").body)
    assert clear.mode == "RGBA"
    assert rgb(clear, (100, 10))[3] == 0


def test_focal_moves_the_crop(client, photo):
    plain = json.loads(client(f"/unsafe/meta/50x100/{photo}").body)["thumbor"]
    focused = json.loads(client(f"/unsafe/meta/50x100/filters:focal(0x0:20x20)/{photo}").body)
    assert plain["operations"][0]["left"] == 75
    assert focused["thumbor"]["operations"][0]["left"] == 0
    assert focused["thumbor"]["focal_points"][0]["origin"] == "Explicit"


def test_cover_keeps_the_first_frame(client):
    image = decode(client("/unsafe/100x0/filters:cover()/pan.gif").body)
    assert (image.format, frame_count(image), image.size) == ("GIF", 1, (100, 56))


def test_autojpg_writes_opaque_pngs_as_jpeg(client, make_client, photo):
    assert client(f"/unsafe/filters:autojpg()/{photo}").headers["Content-Type"] == "image/jpeg"
    assert client("/unsafe/filters:autojpg()/a.png").headers["Content-Type"] == "image/png"
    assert client(f"/unsafe/{photo}").headers["Content-Type"] == "image/png"
    setting = make_client(AUTO_PNG_TO_JPG=True)
    assert setting(f"/unsafe/{photo}").headers["Content-Type"] == "image/jpeg"
    assert setting(f"/unsafe/filters:autojpg(0)/{photo}").headers["Content-Type"] == "image/png"
    forced = setting(f"/unsafe/filters:format(png)/{photo}")
    assert forced.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_max_bytes_finds_a_quality_that_fits(client, fmt):
    full = client(f"/unsafe/300x300/filters:format({fmt}):quality(95)/astronaut.jpg").body
    limit = len(full) // 3
    fitted = client(
        f"/unsafe/300x300/filters:format({fmt}):quality(95):max_bytes({limit})/astronaut.jpg"
    ).body
    assert len(fitted) <= limit
    assert decode(fitted).size == (300, 300)
    # The search keeps the best quality that fits: one step up must no longer fit.
    assert len(fitted) > limit * 0.6
