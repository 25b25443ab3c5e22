"""The whole request path, in process: real images in, real images out."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import zlib
from email.utils import formatdate
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFile, ImageOps, ImageStat

from tests.images import SAMPLES, decode, encode, frame_count, gradient
from tests.thumbor_sizes import THUMBOR_SIZES
from thumbor_urls.app import App
from thumbor_urls.codecs import png_strategy
from thumbor_urls.config import SettingError, Settings
from thumbor_urls.decode import open_image
from thumbor_urls.signing import sign_thumbor_path


def error_of(response):
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    assert body["status"] == response.status
    assert body["message"]
    return body["code"]


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return sum(ImageStat.Stat(diff).mean) / 3


@pytest.fixture
def sized_sources(root: Path) -> None:
    for size in {source for source, _, _ in THUMBOR_SIZES}:
        (root / f"{size[0]}x{size[1]}.jpg").write_bytes(encode(gradient(size), quality=90))


@pytest.mark.usefixtures("sized_sources")
@pytest.mark.parametrize(("source", "options", "expected"), THUMBOR_SIZES)
def test_output_sizes_match_thumbor_end_to_end(client, source, options, expected):
    response = client(f"/unsafe/{options}/{source[0]}x{source[1]}.jpg")
    assert response.status == 200
    image = decode(response.body)
    assert image.size == expected
    assert image.format == "JPEG"


def test_crop_then_resize_keeps_the_picture(client, root):
    original = gradient((800, 600))
    (root / "g.png").write_bytes(encode(original, "PNG"))
    response = client("/unsafe/100x100:500x400/200x150/g.png")
    reference = original.crop((100, 100, 500, 400)).resize((200, 150), Image.Resampling.LANCZOS)
    assert mean_difference(decode(response.body), reference) < 1.0


def test_jpeg_crops_use_dct_scaling_without_visible_loss(client, root):
    original = gradient((4000, 3000))
    (root / "big.jpg").write_bytes(encode(original, quality=95))
    response = client("/unsafe/1000x1000:3000x2500/200x150/big.jpg")
    box = (1000, 1000, 3000, 2500)
    reference = original.crop(box).resize((200, 150), Image.Resampling.LANCZOS)
    output = decode(response.body)
    assert output.size == (200, 150)
    assert mean_difference(output, reference) < 2.0


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_after_resizing(make_client, root, orientation):
    stored = gradient((300, 200))
    exif = Image.Exif()
    exif[0x0112] = orientation
    (root / "o.jpg").write_bytes(encode(stored, quality=95, exif=exif.tobytes()))
    upright = ImageOps.exif_transpose(decode((root / "o.jpg").read_bytes()))
    assert upright is not None

    output = decode(make_client()("/unsafe/fit-in/150x150/o.jpg").body)
    expected = upright.resize(output.size, Image.Resampling.LANCZOS)
    assert output.size == ((150, 100) if orientation < 5 else (100, 150))
    assert mean_difference(output, expected) < 2.0
    # The pixels are upright now, so no orientation tag may be left to turn them again.
    assert output.getexif().get(0x0112) in (None, 1)

    crop = decode(make_client()("/unsafe/20x30:120x90/o.jpg").body)
    assert mean_difference(crop, upright.crop((20, 30, 120, 90))) < 2.0

    ignored = decode(make_client(RESPECT_ORIENTATION=False)("/unsafe/fit-in/150x150/o.jpg").body)
    assert ignored.size == (150, 100)


def test_the_rotated_sample_comes_out_upright(client):
    image = decode(client("/unsafe/fit-in/300x300/dandelions-exif-rotated.jpg").body)
    assert image.size == (300, 169)


@pytest.mark.parametrize("name", ["pan.gif", "pan.webp"])
def test_animations_keep_frames_and_timing_through_crop_and_resize(client, name):
    response = client(f"/unsafe/10x10:410x260/200x100/{name}")
    image = Image.open(io.BytesIO(response.body))
    assert image.format == ("GIF" if name.endswith("gif") else "WEBP")
    assert image.size == (200, 100)
    assert frame_count(image) == 16
    durations = []
    for index in range(frame_count(image)):
        image.seek(index)
        image.load()
        durations.append(image.info["duration"])
    assert durations == [80] * 16
    assert image.info.get("loop") == 0


def test_animated_gif_can_become_animated_webp(client):
    response = client("/unsafe/fit-in/100x100/filters:format(webp)/pan.gif")
    image = Image.open(io.BytesIO(response.body))
    assert (image.format, frame_count(image)) == ("WEBP", 16)


def test_too_many_frames_are_refused(make_client):
    response = make_client(MAX_ANIMATION_FRAMES=10)("/unsafe/100x100/pan.gif")
    assert response.status == 413
    assert error_of(response) == "ImageTooLarge"


def test_gif_with_thousands_of_frames_is_refused_quickly(make_client, root):
    frames = [Image.new("RGB", (4, 4), (i % 256, i // 256, 0)) for i in range(5000)]
    frames[0].save(root / "long.gif", save_all=True, append_images=frames[1:], duration=10)
    assert frame_count(Image.open(root / "long.gif")) == 5000
    started = time.perf_counter()
    response = make_client(MAX_ANIMATION_FRAMES=100)("/unsafe/2x2/long.gif")
    assert response.status == 413
    assert time.perf_counter() - started < 2.0


def test_source_pixel_limit_is_checked_before_decoding(make_client):
    response = make_client(MAX_SOURCE_PIXELS=1000)("/unsafe/10x10/astronaut.jpg")
    assert response.status == 413
    assert "MAX_SOURCE_PIXELS" in json.loads(response.body)["message"]


@pytest.mark.parametrize("orientation", [None, 6])
def test_png_header_is_read_without_decoding_pixels(orientation):
    # Pillow's PNG getexif() decodes every pixel when it has no eXIf chunk before them; the
    # header must not, or the pixel limit would be checked only after a bomb was decoded.
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    Image.new("RGB", (40, 20)).save(buffer, "PNG", exif=exif)
    image, header = open_image(buffer.getvalue())
    assert isinstance(image, ImageFile.ImageFile) and image.tile, "no pixels decoded yet"
    assert (header.size, header.orientation) == ((40, 20), orientation or 1)


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_decoder_gets_the_whole_file_in_one_call(monkeypatch, progressive):
    buffer = io.BytesIO()
    noise = Image.effect_noise((640, 480), 80).convert("RGB")
    noise.save(buffer, "JPEG", quality=95, progressive=progressive)
    data = buffer.getvalue()
    assert len(data) > 3 * ImageFile.MAXBLOCK  # Pillow's default would feed it 4 blocks
    calls: list[int] = []
    make_decoder = Image._getdecoder

    def counting(*args, **kwargs):
        decoder = make_decoder(*args, **kwargs)

        class Counted:
            def __getattr__(self, name):
                return getattr(decoder, name)

            def decode(self, chunk):
                calls.append(len(chunk))
                return decoder.decode(chunk)

        return Counted()

    monkeypatch.setattr(Image, "_getdecoder", counting)
    image, _ = open_image(data)
    image.load()
    assert len(calls) == 1, calls
    monkeypatch.undo()
    assert image.tobytes() == Image.open(io.BytesIO(data)).tobytes()


@pytest.mark.parametrize(
    "path",
    ["/unsafe/20000x10/astronaut.jpg", "/unsafe/full-fit-in/9000x9000/astronaut.jpg"],
)
def test_output_side_limit(make_client, path):
    response = make_client(MAX_OUTPUT_SIDE=8000)(path)
    assert response.status == 413
    assert error_of(response) == "ImageTooLarge"


@pytest.mark.parametrize(
    "path",
    [
        "/unsafe/8000x8000/astronaut.jpg",  # asked for
        "/unsafe/fit-in/8000x8000/filters:upscale()/astronaut.jpg",  # planned
        "/unsafe/fit-in/8000x8000/filters:fill(red)/astronaut.jpg",  # the canvas fill() makes
    ],
)
def test_output_pixel_limit(make_client, path):
    response = make_client(MAX_OUTPUT_PIXELS=8000 * 7999)(path)
    assert response.status == 413
    assert "MAX_OUTPUT_PIXELS" in json.loads(response.body)["message"]


def test_results_over_the_storage_cap_are_served_not_stored(make_client, tmp_path):
    client = make_client(RESULT_STORAGE_MAX_BYTES=20_000)
    small, large = "/unsafe/50x50/astronaut.jpg", "/unsafe/500x500/astronaut.jpg"
    assert client(small).status == client(large).status == 200
    assert len(client(small).body) < 20_000 < len(client(large).body)
    stored = sorted(
        path.stat().st_size
        for path in (tmp_path / "results").rglob("*")
        if path.is_file() and path.suffix != ".json"
    )
    assert len(stored) == 1 and stored[0] < 20_000


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/unsafe/300x200/missing.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/../outside.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/a/../../outside.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/./../outside.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/", 400, "InvalidUrl"),
        ("/unsafe/300x200/filters:quality(80/astronaut.jpg", 400, "InvalidUrl"),
        ("/unsafe/300x200/notes.jpg", 415, "UnsupportedImageFormat"),
        ("/unsafe/300x200/truncated.jpg", 415, "UnsupportedImageFormat"),
        ("/unsafe/300x200/folder", 404, "NoSuchKey"),
        ("/8ammJH8D-7tXy6kU3lTvoXlhu4o=/300x200/astronaut.jpg", 403, "SignatureDoesNotMatch"),
        ("/300x200/astronaut.jpg", 403, "SignatureDoesNotMatch"),
    ],
)
def test_bad_requests_get_json_errors(client, root, path, status, code):
    (root.parent / "outside.jpg").write_bytes(encode(gradient((10, 10))))
    (root / "notes.jpg").write_text("not an image")
    (root / "truncated.jpg").write_bytes(encode(gradient((400, 300)))[:700])
    (root / "folder").mkdir()
    response = client(path)
    assert response.status == status
    assert error_of(response) == code
    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_post_is_not_allowed(client):
    response = client("/unsafe/astronaut.jpg", method="POST")
    assert response.status == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_strict_filters_answer_400(make_client):
    response = make_client(STRICT_FILTERS=True)("/unsafe/filters:blur_me(1)/astronaut.jpg")
    assert (response.status, error_of(response)) == (400, "UnknownFilter")


def test_signed_urls_and_unsafe_switch(make_client):
    signed = make_client(SECURITY_KEY="k", ALLOW_UNSAFE_URL=False)
    path = sign_thumbor_path("k", "fit-in/100x100/astronaut.jpg")
    assert signed(path).status == 200
    assert signed(path.replace("100x100", "101x100")).status == 403
    refused = signed("/unsafe/fit-in/100x100/astronaut.jpg")
    assert (refused.status, error_of(refused)) == (403, "UnsafeUrlNotAllowed")


def test_signature_of_a_percent_encoded_path(make_client, root):
    (root / "my photo.jpg").write_bytes((root / "astronaut.jpg").read_bytes())
    app = make_client(SECURITY_KEY="k")
    assert app(sign_thumbor_path("k", "50x50/my photo.jpg")).status == 200


def test_healthcheck(client):
    response = client("/healthcheck")
    assert (response.status, response.body) == (200, b"WORKING")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(
            [
                "unsafe",
                "meta",
                "trim:5",
                "fit-in",
                "full-fit-in",
                "-0x-0",
                "99999x1",
                "x",
                "10x10:0x0",
                "smart",
                "filters:",
                "fill(",
                "quality(",
                ")",
                "(",
                ":",
                "%",
                "%zz",
                "..",
                ".",
                "",
                "astronaut.jpg",
                "pan.gif",
                "debug",
                "filters:rotate(-90)",
                "filters:fill(auto):upscale()",
                "orig",
                "origxorig",
                "\x00",
                "é",
            ]
        ),
        max_size=8,
    )
)
def test_no_input_gives_a_server_error(client, parts):
    response = client("/" + "/".join(parts))
    assert response.status < 500, response.body


def test_caching_headers_and_conditional_requests(client, root):
    response = client("/unsafe/100x100/astronaut.jpg")
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    etag = response.headers["ETag"]
    mtime = (root / "astronaut.jpg").stat().st_mtime
    assert response.headers["Last-Modified"] == formatdate(mtime, usegmt=True)
    assert "Vary" not in response.headers

    again = client("/unsafe/100x100/astronaut.jpg", if_none_match=etag)
    assert (again.status, again.body, again.headers["ETag"]) == (304, b"", etag)
    assert client("/unsafe/100x100/astronaut.jpg", if_none_match='"other"').status == 200
    since = formatdate(mtime + 10, usegmt=True)
    assert client("/unsafe/100x100/astronaut.jpg", if_modified_since=since).status == 304
    before = formatdate(mtime - 3600, usegmt=True)
    assert client("/unsafe/100x100/astronaut.jpg", if_modified_since=before).status == 200


def test_max_age_filter_and_setting(make_client):
    assert make_client(MAX_AGE=60)("/unsafe/astronaut.jpg").headers["Cache-Control"] == (
        "public, max-age=60"
    )
    response = make_client()("/unsafe/filters:max_age(5)/astronaut.jpg")
    assert response.headers["Cache-Control"] == "public, max-age=5"
    response = make_client()("/unsafe/filters:max_age(0)/astronaut.jpg")
    assert response.headers["Cache-Control"] == "no-cache"


def test_head_has_headers_and_no_body(client):
    full = client("/unsafe/100x100/astronaut.jpg")
    head = client("/unsafe/100x100/astronaut.jpg", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(full.body))
    assert head.headers["ETag"] == full.headers["ETag"]


def test_results_are_stored_and_reused_until_the_original_changes(client, root, tmp_path):
    first = client("/unsafe/120x80/astronaut.jpg")
    stored = [p for p in (tmp_path / "results").rglob("*") if p.is_file() and p.suffix != ".json"]
    assert len(stored) == 1
    # Prove the second answer comes from the store: change the stored bytes behind its back.
    stored[0].write_bytes(first.body + b"cached")
    meta = stored[0].with_name(stored[0].name + ".json")
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "length": len(first.body) + 6}))
    assert client("/unsafe/120x80/astronaut.jpg").body == first.body + b"cached"
    # A newer original invalidates the stored result.
    later = time.time() + 5
    os.utime(root / "astronaut.jpg", (later, later))
    assert client("/unsafe/120x80/astronaut.jpg").body == first.body


def test_a_changed_watermark_invalidates_the_results_that_drew_it(client, root, tmp_path):
    Image.new("RGBA", (40, 40), (255, 0, 0, 255)).save(root / "mark.png")
    path = "/unsafe/120x80/filters:watermark(mark.png,0,0,0)/astronaut.jpg"
    red = decode(client(path).body).convert("RGB").getpixel((5, 5))
    assert isinstance(red, tuple)
    stored = [p for p in (tmp_path / "results").rglob("*") if p.is_file() and p.suffix != ".json"]
    assert len(stored) == 1
    Image.new("RGBA", (40, 40), (0, 0, 255, 255)).save(root / "mark.png")
    later = time.time() + 5
    os.utime(root / "mark.png", (later, later))
    blue = decode(client(path).body).convert("RGB").getpixel((5, 5))
    assert isinstance(blue, tuple)
    assert red[0] > 200 > red[2] and blue[2] > 200 > blue[0], (red, blue)
    # A watermark that is gone is a 400, not a stale result.
    (root / "mark.png").unlink()
    assert client(path).status == 400


def test_originals_are_never_modified(client, root):
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    for path in ("/unsafe/100x100/astronaut.jpg", "/unsafe/trim/pan.gif", "/unsafe/meta/pan.webp"):
        client(path)
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before


def test_auto_webp_negotiates_and_varies(make_client):
    get = make_client(AUTO_WEBP=True)
    webp = get("/unsafe/100x100/astronaut.jpg", accept="image/avif,image/webp,*/*")
    jpeg = get("/unsafe/100x100/astronaut.jpg", accept="*/*")
    assert (webp.headers["Content-Type"], jpeg.headers["Content-Type"]) == (
        "image/webp",
        "image/jpeg",
    )
    assert decode(webp.body).format == "WEBP"
    assert webp.headers["Vary"] == jpeg.headers["Vary"] == "Accept"
    forced = get("/unsafe/100x100/filters:format(png)/astronaut.jpg", accept="image/webp")
    assert forced.headers["Content-Type"] == "image/png"
    assert "Vary" not in forced.headers
    # A WebP original is WebP for everyone: nothing depends on Accept.
    assert "Vary" not in get("/unsafe/50x50/pan.webp", accept="image/webp").headers


def test_auto_avif_for_stills_webp_for_animations(make_client):
    get = make_client(AUTO_AVIF=True, AUTO_WEBP=True)
    accept = "image/avif,image/webp"
    still = get("/unsafe/100x100/astronaut.jpg", accept=accept)
    assert still.headers["Content-Type"] == "image/avif"
    assert decode(still.body).size == (100, 100)
    assert get("/unsafe/100x100/pan.gif", accept=accept).headers["Content-Type"] == "image/webp"


def test_avif_speed_reaches_the_encoder(make_client):
    url = "/unsafe/120x80/filters:format(avif)/astronaut.jpg"
    default = make_client()(url).body
    # None keeps Pillow's default speed, 6, as Thumbor's AVIF_SPEED does.
    assert make_client(AVIF_SPEED=6)(url).body == default
    fastest = make_client(AVIF_SPEED=10)(url).body
    assert fastest != default and decode(fastest).size == (120, 80)
    assert Settings(AVIF_SPEED=10).output_fingerprint() != Settings().output_fingerprint()
    assert Settings.from_env({"AVIF_SPEED": "0"}).AVIF_SPEED == 0
    assert Settings.from_env({"AVIF_SPEED": ""}).AVIF_SPEED is None
    with pytest.raises(SettingError, match="AVIF_SPEED must be between 0 and 10"):
        Settings.from_env({"AVIF_SPEED": "11"})


def _drawn_graphic() -> Image.Image:
    """Text on stripes and a checkerboard: what LZ77's long matches are for."""
    image = Image.new("RGB", (480, 320), "white")
    draw = ImageDraw.Draw(image)
    for top in range(0, 320, 20):
        draw.rectangle((0, top, 480, top + 9), fill=(235, 235, 240))
        draw.text((8, top), f"Lorem ipsum dolor sit amet, line {top}", fill="black")
    for x in range(320, 480, 8):
        for y in range(0, 320, 8):
            if (x + y) // 8 % 2:
                draw.rectangle((x, y, x + 7, y + 7), fill=(200, 30, 30))
    return image


def test_png_strategy_is_rle_for_photos_only():
    photo = Image.open(SAMPLES / "astronaut.png")
    graphic = _drawn_graphic()
    assert png_strategy(photo, 4) == zlib.Z_RLE
    assert png_strategy(graphic, 4) is None
    assert png_strategy(photo, 0) is None  # stored: nothing to choose
    # What the sample predicts holds for the whole image.
    for image, chosen in ((photo, zlib.Z_RLE), (graphic, None)):
        other = None if chosen else zlib.Z_RLE
        assert len(encode(image, "PNG", compress_level=4, **_strategy(chosen))) <= 1.03 * len(
            encode(image, "PNG", compress_level=4, **_strategy(other))
        )


def _strategy(strategy: int | None) -> dict[str, int]:
    return {} if strategy is None else {"compress_type": strategy}


def test_png_output_is_lossless_whatever_the_strategy(make_client, root):
    _drawn_graphic().save(root / "graphic.png")
    shutil.copy(SAMPLES / "astronaut.png", root / "photo.png")
    get = make_client()
    for name in ("photo.png", "graphic.png"):
        response = get(f"/unsafe/{name}")
        assert response.headers["Content-Type"] == "image/png"
        with Image.open(root / name) as original:
            assert (
                decode(response.body).convert("RGB").tobytes() == original.convert("RGB").tobytes()
            )


def test_format_and_quality_filters(client):
    for fmt, pillow in [("png", "PNG"), ("webp", "WEBP"), ("avif", "AVIF"), ("gif", "GIF")]:
        response = client(f"/unsafe/64x64/filters:format({fmt})/astronaut.jpg")
        assert response.headers["Content-Type"] == f"image/{fmt}"
        assert decode(response.body).format == pillow
    low = client("/unsafe/200x200/filters:quality(10)/astronaut.jpg").body
    high = client("/unsafe/200x200/filters:quality(95)/astronaut.jpg").body
    assert len(low) < len(high) / 2


def test_heic_without_the_extra_is_a_clear_415(client):
    response = client("/unsafe/filters:format(heic)/astronaut.jpg")
    assert response.status == 415
    assert "pillow-heif" in json.loads(response.body)["message"]


def test_jpeg_is_progressive_with_icc_kept_and_exif_dropped(client, root):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    (root / "icc.jpg").write_bytes(encode(gradient((200, 200)), icc_profile=profile, exif=exif))
    image = decode(client("/unsafe/100x100/icc.jpg").body)
    assert image.info.get("progressive") or image.info.get("progression")
    assert image.info.get("icc_profile") == profile
    assert "exif" not in image.info
    stripped = decode(client("/unsafe/100x100/filters:strip_icc()/icc.jpg").body)
    assert "icc_profile" not in stripped.info


def test_rgba_png_stays_transparent_and_jpeg_flattens_on_white(client, root):
    (root / "a.png").write_bytes(encode(gradient((400, 300), "RGBA"), "PNG"))
    png = decode(client("/unsafe/200x150/a.png").body)
    assert png.mode == "RGBA"
    assert min(png.getchannel("A").tobytes()) < 20
    transparent = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    (root / "t.png").write_bytes(encode(transparent, "PNG"))
    jpeg = decode(client("/unsafe/filters:format(jpeg)/t.png").body)
    assert jpeg.getpixel((20, 20)) == (255, 255, 255)


def test_fill_grayscale_rotate_and_debug_filters_change_pixels(client, root):
    (root / "g.jpg").write_bytes(encode(gradient((800, 600)), quality=95))
    filled = decode(client("/unsafe/fit-in/300x200/filters:fill(red)/g.jpg").body)
    assert filled.size == (300, 200)
    left_bar = filled.getpixel((3, 100))
    assert isinstance(left_bar, tuple)
    assert left_bar[0] > 240 and left_bar[1] < 20 and left_bar[2] < 20
    gray = decode(client("/unsafe/100x100/filters:grayscale()/g.jpg").body)
    assert gray.mode == "L"
    rotated = decode(client("/unsafe/300x100/filters:rotate(90)/g.jpg").body)
    assert rotated.size == (100, 300)
    ignored = decode(client("/unsafe/300x100/filters:rotate(45)/g.jpg").body)
    assert ignored.size == (300, 100)
    plain = decode(client("/unsafe/300x200/g.jpg").body)
    debug = decode(client("/unsafe/debug/300x200/g.jpg").body)
    assert mean_difference(plain, debug) > 0.01


def test_flips_mirror_the_output(client, root):
    (root / "g.png").write_bytes(encode(gradient((300, 200)), "PNG"))
    plain = decode(client("/unsafe/300x200/g.png").body)
    flipped = decode(client("/unsafe/-300x-200/g.png").body)
    assert flipped.tobytes() == plain.rotate(180).tobytes()


def test_trim_removes_the_border_and_a_manual_crop_follows_it(client, root):
    picture = Image.new("RGB", (400, 300), "white")
    picture.paste(gradient((360, 240)), (20, 30))
    (root / "bordered.png").write_bytes(encode(picture, "PNG"))
    assert decode(client("/unsafe/trim/bordered.png").body).size == (360, 240)
    # As in Thumbor, crop coordinates are the original's, moved by what trim removed:
    # 30x40:130x90 in the original is 10x10:110x60 in the trimmed image.
    cropped = decode(client("/unsafe/trim/30x40:130x90/bordered.png").body)
    assert cropped.size == (100, 50)
    assert mean_difference(cropped, gradient((360, 240)).crop((10, 10, 110, 60))) < 1.0
    corner = decode(client("/unsafe/trim:bottom-right/bordered.png").body)
    assert corner.size == (360, 240)


def test_meta_describes_the_operations_in_thumbors_shape(client, root):
    (root / "g.jpg").write_bytes(encode(gradient((800, 600))))
    body = json.loads(client("/unsafe/meta/-300x200/filters:nope()/g.jpg").body)["thumbor"]
    assert body["source"] == {"url": "g.jpg", "width": 800, "height": 600, "frameCount": 1}
    assert body["operations"] == [
        {"type": "crop", "left": 0, "top": 34, "right": 800, "bottom": 567},
        {"type": "resize", "width": 300, "height": 200},
        {"type": "flip_horizontally"},
    ]
    assert body["target"] == {"width": 300, "height": 200}
    assert body["focal_points"] == [
        {"x": 400, "y": 300, "z": 1.0, "height": 1, "width": 1, "origin": "alignment"}
    ]
    assert body["ignored_filters"] == [{"filter": "nope()", "reason": "unknown filter nope()"}]
    animated = json.loads(client("/unsafe/meta/pan.gif").body)["thumbor"]
    assert animated["source"]["frameCount"] == 16


def test_cmyk_jpeg_is_written_as_rgb(client, root):
    (root / "cmyk.jpg").write_bytes(encode(gradient((200, 100)).convert("CMYK"), quality=95))
    image = decode(client("/unsafe/100x50/cmyk.jpg").body)
    assert image.mode == "RGB"
    reference = gradient((200, 100)).resize((100, 50), Image.Resampling.LANCZOS)
    assert mean_difference(image, reference) < 3.0


@given(st.integers(min_value=0, max_value=4_000_000_000), st.floats(0, 0.999))
def test_http_date_matches_the_standard_library(seconds, fraction):
    from thumbor_urls.app import http_date

    # HTTP dates have whole seconds; a file's fractional mtime is cut, never rounded up.
    assert http_date(seconds + fraction) == formatdate(seconds, usegmt=True)


def test_grayscale_first_decodes_luma_only_and_colour_filters_still_see_colour(client, root):
    (root / "g.jpg").write_bytes(encode(gradient((800, 600)), quality=95))
    grey = decode(client("/unsafe/200x150/filters:rotate(90):grayscale()/g.jpg").body)
    reference = gradient((800, 600)).convert("L").resize((200, 150), Image.Resampling.LANCZOS)
    assert grey.mode == "L"
    assert mean_difference(grey, reference.rotate(90, expand=True)) < 2.0
    tinted = decode(client("/unsafe/200x150/filters:rgb(60,0,0):grayscale()/g.jpg").body)
    assert mean_difference(tinted, grey.rotate(-90, expand=True)) > 5.0


def test_max_filters_setting(make_client):
    path = "/unsafe/filters:" + ":".join(["grayscale()"] * 4) + "/astronaut.jpg"
    assert make_client(MAX_FILTERS=4)(path).status == 200
    response = make_client(MAX_FILTERS=3)(path)
    assert response.status == 400
    assert error_of(response) == "TooManyFilters"


def test_noisy_jpeg_at_quality_94_is_written_though_pillow_buffer_is_too_small(client, root):
    # Pillow sizes libjpeg's output buffer at one byte a pixel below quality 95: noise needs more.
    noise = Image.effect_noise((600, 400), 200).convert("L")
    flipped = noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    picture = Image.merge("RGB", (noise, noise.rotate(90, expand=False), flipped))
    picture.save(root / "noise.png")
    response = client("/unsafe/filters:quality(94):format(jpeg)/noise.png")
    assert response.status == 200, response.body
    image = decode(response.body)
    assert (image.format, image.size) == ("JPEG", (600, 400))
    assert len(response.body) > 600 * 400  # more than the buffer Pillow gives a progressive file


@pytest.mark.parametrize("path", ["/", "", "/favicon.ico", "/robots.txt"])
def test_a_browsers_first_requests_are_404_not_403(make_client, path):
    for client in (make_client(), make_client(SECURITY_KEY="k", ALLOW_UNSAFE_URL=False)):
        response = client(path)
        assert response.status == 404, response.body
        assert error_of(response) == "NoSuchKey"
        assert "/unsafe/" in json.loads(response.body)["message"]


def test_the_app_says_what_it_does(make_client, root):
    settings = Settings(
        FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None, DETECTORS=()
    )
    line = App(settings, concurrency=4).describe()
    assert (
        "signing off" in line and "detectors none" in line and "results cached in nowhere" in line
    )
    signed = App(
        settings.replace(SECURITY_KEY="k", ALLOW_UNSAFE_URL=False, DETECTORS=("saliency",))
    )
    line = signed.describe()
    assert "signing on (unsafe URLs refused)" in line and "detectors saliency" in line
