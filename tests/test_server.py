"""End to end: `python -m thumbor_urls serve` as a real process, spoken to over HTTP."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

import pytest
from libthumbor import CryptoURL
from PIL import Image, ImageSequence

from tests.helpers import Reply, Server, clean_env, running_server
from tests.images import SAMPLES

KEY = "server-test-key"
IMAGE_MAX_AGE = "public, max-age=86400"

# Solid-colour originals whose names need percent-encoding; the colour tells which was served.
NAMED = {
    "my photos/hello world.jpg": (200, 30, 30),
    "café.jpg": (30, 200, 30),
    "a+b.jpg": (30, 30, 200),
    "a b.jpg": (200, 200, 30),
    "photo%20copy.jpg": (30, 200, 200),
}
QUADRANTS = {"top-left": (255, 0, 0), "top-right": (0, 255, 0), "bottom-left": (0, 0, 255)}


@dataclass(frozen=True)
class Site:
    root: Path  # originals
    results: Path  # RESULT_STORAGE_FILE_STORAGE_ROOT_PATH of the main server
    unused_results: Path  # set for the --no-result-storage server, which must not use it
    cwd: Path  # the servers' working directory
    outside: Path  # next to the root: what escapes must not reach
    logs: Path
    snapshot: dict[str, str]


def tree(folder: Path) -> dict[str, str]:
    """Every entry under `folder`, symlinks not followed: content hash, link target or dir."""
    listing: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            key = str(path.relative_to(folder))
            if path.is_symlink():
                listing[key] = f"-> {os.readlink(path)}"
            elif path.is_dir():
                listing[key] = "dir"
            else:
                listing[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return listing


def solid(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (120, 90)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, "JPEG", quality=95)


def close(pixel: object, colour: tuple[int, ...], tolerance: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    base = tmp_path_factory.mktemp("site")
    root, outside = base / "root", base / "outside"
    for folder in (root, outside, base / "results", base / "unused-results", base / "cwd"):
        folder.mkdir()
    # photo.jpg: 640x480 with detail everywhere.
    mandelbrot = Image.effect_mandelbrot((640, 480), (-2.0, -1.2, 1.0, 1.2), 64)
    mirrored = mandelbrot.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    flipped = mandelbrot.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    Image.merge("RGB", (mandelbrot, mirrored, flipped)).save(root / "photo.jpg", quality=90)
    shutil.copy(SAMPLES / "astronaut.jpg", root / "astronaut.jpg")
    shutil.copy(SAMPLES / "pan.gif", root / "pan.gif")
    shutil.copy(SAMPLES / "dandelions-exif-rotated.jpg", root / "rotated.jpg")
    shutil.copy(SAMPLES / "dandelions.jpg", root / "big.jpg")  # over MAX_SOURCE_PIXELS below
    # cutout.png: left half transparent, right half opaque red.
    cutout = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    cutout.paste((255, 0, 0, 255), (200, 0, 400, 300))
    cutout.save(root / "cutout.png")
    # quadrants.jpg: stored turned a quarter turn anticlockwise, with EXIF Orientation 6 to
    # turn it back; upright it is 200x100 with red, green, blue and white quadrants.
    upright = Image.new("RGB", (200, 100), (255, 255, 255))
    upright.paste(QUADRANTS["top-left"], (0, 0, 100, 50))
    upright.paste(QUADRANTS["top-right"], (100, 0, 200, 50))
    upright.paste(QUADRANTS["bottom-left"], (0, 50, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(
        root / "quadrants.jpg", "JPEG", quality=95, exif=exif.tobytes()
    )
    for name, colour in NAMED.items():
        solid(root / name, colour)
    solid(root / "mutable.jpg", (10, 10, 10))
    (root / "text.jpg").write_text("this is not an image\n")
    # Ways out of the root, each leading to a real image.
    solid(outside / "secret.jpg", (255, 255, 0))
    (root / "escape.jpg").symlink_to(outside / "secret.jpg")
    (root / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / "alias.jpg").symlink_to(root / "astronaut.jpg")  # stays inside: allowed
    return Site(
        root=root,
        results=base / "results",
        unused_results=base / "unused-results",
        cwd=base / "cwd",
        outside=outside,
        logs=tmp_path_factory.mktemp("logs"),
        snapshot=tree(base),
    )


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    env = clean_env(
        AUTO_WEBP="true",
        RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=site.results,
        MAX_SOURCE_PIXELS=4_000_000,
        MAX_OUTPUT_SIDE=4000,
    )
    with running_server(site.root, site.logs, env, "--threads", "4", cwd=site.cwd) as running:
        yield running


@pytest.fixture(scope="module")
def signed_server(site: Site) -> Iterator[Server]:
    env = clean_env(
        SECURITY_KEY=KEY,
        ALLOW_UNSAFE_URL="false",
        MAX_AGE=3600,
        AUTO_AVIF="true",
        RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=site.unused_results,
    )
    args = ("--threads", "2", "--no-result-storage")
    with running_server(site.root, site.logs, env, *args, cwd=site.cwd) as running:
        yield running


def signed(**options: object) -> str:
    """libthumbor's URL, percent-encoded as a browser sends it."""
    return quote(CryptoURL(key=KEY).generate(**options), safe="/:(),=")


def assert_error(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    body = reply.json()
    assert set(body) == {"status", "code", "message"}
    assert (body["status"], body["code"]) == (status, code)
    assert isinstance(body["message"], str)
    assert body["message"]
    assert "Traceback" not in body["message"]
    assert "max-age=86400" not in reply.headers.get("Cache-Control", "")
    assert "ETag" not in reply.headers


# --- the basics ----------------------------------------------------------------------------


def test_healthcheck(server: Server) -> None:
    reply = server.request("/healthcheck")
    assert (reply.status, reply.body) == (200, b"WORKING")
    head = server.request("/healthcheck", "HEAD")
    assert (head.status, head.body) == (200, b"")


def test_fit_in_keeps_the_aspect_ratio_and_sets_caching_headers(server: Server, site: Site) -> None:
    reply = server.request("/unsafe/fit-in/300x300/photo.jpg")
    assert reply.status == 200
    image = reply.image()
    assert (image.format, image.size) == ("JPEG", (300, 225))
    headers = reply.headers
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Length"] == str(len(reply.body))
    assert headers["Cache-Control"] == IMAGE_MAX_AGE
    etag = headers["ETag"]
    assert len(etag) > 2
    assert etag.startswith('"')
    assert etag.endswith('"')
    mtime = (site.root / "photo.jpg").stat().st_mtime
    assert headers["Last-Modified"] == formatdate(mtime, usegmt=True)
    # AUTO_WEBP is on and the client might take WebP: caches must key on Accept.
    assert headers["Vary"] == "Accept"


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("/unsafe/300x200/photo.jpg", (300, 200)),
        ("/unsafe/200x300/photo.jpg", (200, 300)),
        ("/unsafe/300x0/photo.jpg", (300, 225)),
        ("/unsafe/0x120/astronaut.jpg", (120, 120)),
        ("/unsafe/-300x-200/photo.jpg", (300, 200)),
        ("/unsafe/10x20:110x70/photo.jpg", (100, 50)),
        ("/unsafe/alias.jpg", (512, 512)),
    ],
)
def test_output_size(server: Server, path: str, size: tuple[int, int]) -> None:
    reply = server.request(path)
    assert reply.status == 200, reply.body
    assert reply.image().size == size


def test_flips_mirror_the_image(server: Server) -> None:
    plain = server.request("/unsafe/100x50/quadrants.jpg").image().convert("RGB")
    flipped = server.request("/unsafe/-100x-50/quadrants.jpg").image().convert("RGB")
    assert close(plain.getpixel((25, 12)), QUADRANTS["top-left"])
    assert close(flipped.getpixel((75, 37)), QUADRANTS["top-left"])
    assert close(flipped.getpixel((25, 12)), (255, 255, 255))


def test_quality_filter_changes_the_encoding(server: Server) -> None:
    low = server.request("/unsafe/300x200/filters:quality(20)/astronaut.jpg")
    high = server.request("/unsafe/300x200/filters:quality(95)/astronaut.jpg")
    assert low.status == high.status == 200
    assert low.image().size == high.image().size == (300, 200)
    assert len(low.body) * 2 < len(high.body)


def test_exif_orientation_is_applied_and_not_left_in_the_output(server: Server) -> None:
    reply = server.request("/unsafe/100x50/quadrants.jpg")
    assert reply.status == 200
    image = reply.image()
    assert image.size == (100, 50)
    assert image.getexif().get(0x0112, 1) == 1
    rgb = image.convert("RGB")
    assert close(rgb.getpixel((25, 12)), QUADRANTS["top-left"])
    assert close(rgb.getpixel((75, 12)), QUADRANTS["top-right"])
    assert close(rgb.getpixel((25, 37)), QUADRANTS["bottom-left"])
    assert close(rgb.getpixel((75, 37)), (255, 255, 255))


def test_transparent_png_stays_transparent(server: Server) -> None:
    reply = server.request("/unsafe/200x150/cutout.png")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "image/png"
    image = reply.image()
    assert (image.format, image.size) == ("PNG", (200, 150))
    rgba = image.convert("RGBA")
    alpha_left = rgba.getpixel((20, 75))
    alpha_right = rgba.getpixel((180, 75))
    assert isinstance(alpha_left, tuple)
    assert isinstance(alpha_right, tuple)
    assert alpha_left[3] == 0
    assert alpha_right == (255, 0, 0, 255)


def test_animated_gif_keeps_its_frames(server: Server) -> None:
    reply = server.request("/unsafe/240x135/pan.gif")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "image/gif"
    image = reply.image()
    assert (image.format, image.size) == ("GIF", (240, 135))
    assert getattr(image, "n_frames", 1) == 16
    assert all(frame.size == (240, 135) for frame in ImageSequence.Iterator(image))


# --- format negotiation --------------------------------------------------------------------


def test_auto_webp_answers_webp_to_clients_that_take_it(server: Server) -> None:
    path = "/unsafe/300x200/astronaut.jpg"
    webp = server.request(path, headers={"Accept": "image/avif,image/webp,*/*;q=0.8"})
    jpeg = server.request(path, headers={"Accept": "image/jpeg,*/*"})
    assert webp.status == jpeg.status == 200
    assert webp.headers["Content-Type"] == "image/webp"
    assert (webp.image().format, webp.image().size) == ("WEBP", (300, 200))
    assert jpeg.headers["Content-Type"] == "image/jpeg"
    assert jpeg.image().format == "JPEG"
    assert webp.headers["Vary"] == jpeg.headers["Vary"] == "Accept"
    assert webp.headers["ETag"] != jpeg.headers["ETag"]
    # Asked again (now from result storage), each client still gets its own format.
    assert server.request(path, headers={"Accept": "image/webp"}).body == webp.body
    assert server.request(path).body == jpeg.body


def test_auto_webp_keeps_animation(server: Server) -> None:
    reply = server.request("/unsafe/120x0/pan.gif", headers={"Accept": "image/webp"})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "image/webp"
    image = reply.image()
    assert (image.format, image.size) == ("WEBP", (120, 68))
    assert getattr(image, "n_frames", 1) == 16


def test_a_forced_format_does_not_vary_on_accept(server: Server) -> None:
    path = "/unsafe/100x100/filters:format(png)/astronaut.jpg"
    for accept in ("image/webp", ""):
        reply = server.request(path, headers={"Accept": accept})
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "image/png"
        assert reply.image().format == "PNG"
        assert "Vary" not in reply.headers


# --- meta ----------------------------------------------------------------------------------


def test_meta_describes_the_operations(server: Server) -> None:
    reply = server.request("/unsafe/meta/300x200/photo.jpg")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    thumbor = reply.json()["thumbor"]
    source = thumbor["source"]
    assert (source["url"], source["width"], source["height"]) == ("photo.jpg", 640, 480)
    assert source["frameCount"] == 1
    assert thumbor["target"] == {"width": 300, "height": 200}
    assert isinstance(thumbor["operations"], list)
    assert all("type" in operation for operation in thumbor["operations"])
    assert {"type": "resize", "width": 300, "height": 200} in thumbor["operations"]
    assert isinstance(thumbor["focal_points"], list)


def test_meta_of_rotated_and_animated_sources(server: Server) -> None:
    rotated = server.request("/unsafe/meta/300x0/rotated.jpg").json()["thumbor"]["source"]
    assert (rotated["width"], rotated["height"]) == (2400, 1350)
    animated = server.request("/unsafe/meta/100x100/pan.gif").json()["thumbor"]["source"]
    assert (animated["width"], animated["height"], animated["frameCount"]) == (480, 270, 16)


@pytest.mark.parametrize(
    "rest",
    [
        "fit-in/300x300/photo.jpg",
        "300x0/rotated.jpg",
        "fit-in/100x100/pan.gif",
        "10x20:110x70/50x0/photo.jpg",
        "full-fit-in/90x90/cutout.png",
    ],
)
def test_meta_target_is_the_size_served(server: Server, rest: str) -> None:
    target = server.request(f"/unsafe/meta/{rest}").json()["thumbor"]["target"]
    image = server.request(f"/unsafe/{rest}").image()
    assert image.size == (target["width"], target["height"])


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/unsafe/300x200/filters:quality(80/photo.jpg", 400, "InvalidUrl"),
        ("/unsafe/300x200/", 400, "InvalidUrl"),
        ("/unsafe/300x200/missing.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/my%20photos/", 404, "NoSuchKey"),
        ("/unsafe/300x200/../../etc/passwd", 404, "NoSuchKey"),
        ("/unsafe/300x200/../outside/secret.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/%2e%2e/%2e%2e/etc/passwd", 404, "NoSuchKey"),
        ("/unsafe/300x200/%2E%2E/outside/secret.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/..%2foutside%2fsecret.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/%252e%252e/outside/secret.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/my%20photos/../../outside/secret.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/escape.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/escape-dir/secret.jpg", 404, "NoSuchKey"),
        ("/unsafe/meta/300x200/escape.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/text.jpg", 415, "UnsupportedImageFormat"),
        ("/unsafe/meta/300x200/text.jpg", 415, "UnsupportedImageFormat"),
        ("/unsafe/300x200/big.jpg", 413, "ImageTooLarge"),
        ("/unsafe/meta/300x200/big.jpg", 413, "ImageTooLarge"),
        ("/unsafe/5000x10/photo.jpg", 413, "ImageTooLarge"),
        ("/unsafe/fit-in/10x4001/photo.jpg", 413, "ImageTooLarge"),
        ("/300x200/photo.jpg", 403, "SignatureDoesNotMatch"),
        (CryptoURL(key=KEY).generate(width=300, height=200, image_url="photo.jpg"), 403,
         "SignatureDoesNotMatch"),
    ],
)  # fmt: skip
def test_errors_are_json(server: Server, path: str, status: int, code: str) -> None:
    assert_error(server.request(path), status, code)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_not_allowed(server: Server, method: str) -> None:
    reply = server.request("/unsafe/100x100/photo.jpg", method)
    assert_error(reply, 405, "MethodNotAllowed")
    allowed = {part.strip() for part in reply.headers["Allow"].split(",")}
    assert {"GET", "HEAD"} <= allowed


def test_a_bad_url_does_not_break_the_next_good_one(server: Server) -> None:
    assert server.request("/unsafe/300x200/text.jpg").status == 415
    assert server.request("/unsafe/300x200/photo.jpg").status == 200


# --- HEAD, conditional requests, keep-alive --------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/unsafe/150x100/photo.jpg", "/unsafe/151x101/photo.jpg", "/unsafe/1x1/missing.jpg"]
)
def test_head_has_the_headers_of_get_and_no_body(server: Server, path: str) -> None:
    # Twice in each order: once processing, once from result storage.
    head_first = server.request(path, "HEAD")
    get = server.request(path)
    head = server.request(path, "HEAD")
    for reply in (head_first, head):
        assert reply.status == get.status
        assert reply.body == b""
        assert reply.headers["Content-Length"] == str(len(get.body))
        for name in ("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Vary"):
            assert reply.headers.get(name) == get.headers.get(name), name


def test_if_none_match_gives_304(server: Server) -> None:
    path = "/unsafe/160x120/photo.jpg"
    first = server.request(path)
    etag = first.headers["ETag"]
    for header in (etag, f"W/{etag}", f'"something-else", {etag}', "*"):
        reply = server.request(path, headers={"If-None-Match": header})
        assert reply.status == 304, header
        assert reply.body == b""
        assert reply.headers["ETag"] == etag
        assert reply.headers["Cache-Control"] == IMAGE_MAX_AGE
    stale = server.request(path, headers={"If-None-Match": '"something-else"'})
    assert stale.status == 200
    assert stale.body == first.body
    head = server.request(path, "HEAD", headers={"If-None-Match": etag})
    assert (head.status, head.body) == (304, b"")


def test_if_modified_since_gives_304(server: Server) -> None:
    path = "/unsafe/160x120/photo.jpg"
    last_modified = server.request(path).headers["Last-Modified"]
    assert server.request(path, headers={"If-Modified-Since": last_modified}).status == 304
    earlier = formatdate(time.time() - 10 * 365 * 86400, usegmt=True)
    reply = server.request(path, headers={"If-Modified-Since": earlier})
    assert reply.status == 200
    assert reply.image().size == (160, 120)


def test_keep_alive_connection_serves_many_requests(server: Server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.connect()
        sock = connection.sock
        steps = [
            ("GET", "/unsafe/90x60/photo.jpg", 200),
            ("HEAD", "/unsafe/90x60/photo.jpg", 200),
            ("HEAD", "/unsafe/90x60/missing.jpg", 404),
            ("GET", "/unsafe/90x60/missing.jpg", 404),
            ("POST", "/unsafe/90x60/photo.jpg", 405),
            ("GET", "/unsafe/91x61/astronaut.jpg", 200),
            ("GET", "/healthcheck", 200),
        ]
        for method, path, status in steps:
            reply = server.request(path, method, connection=connection)
            assert reply.status == status, (method, path)
            if method == "HEAD":
                assert reply.body == b""
            else:
                assert len(reply.body) == int(reply.headers["Content-Length"])
            assert connection.sock is sock, f"connection closed after {method} {path}"
        again = server.request("/unsafe/91x61/astronaut.jpg", connection=connection)
        assert again.image().size == (91, 61)
    finally:
        connection.close()


# --- percent-encoding ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/unsafe/50x50/my%20photos/hello%20world.jpg", "my photos/hello world.jpg"),
        ("/unsafe/50x50/caf%C3%A9.jpg", "café.jpg"),
        ("/unsafe/50x50/a+b.jpg", "a+b.jpg"),  # `+` is a plus in a path, not a space
        ("/unsafe/50x50/a%2Bb.jpg", "a+b.jpg"),
        ("/unsafe/50x50/a%20b.jpg", "a b.jpg"),
    ],
)
def test_percent_encoded_names(server: Server, path: str, name: str) -> None:
    reply = server.request(path)
    assert reply.status == 200, reply.body
    image = reply.image().convert("RGB")
    assert image.size == (50, 50)
    assert close(image.getpixel((25, 25)), NAMED[name])


def test_a_percent_sign_in_a_name_is_decoded_once(server: Server) -> None:
    reply = server.request("/unsafe/50x50/photo%2520copy.jpg")
    assert reply.status == 200, reply.body
    assert close(reply.image().convert("RGB").getpixel((25, 25)), NAMED["photo%20copy.jpg"])


# --- concurrency and result storage --------------------------------------------------------


def test_parallel_requests_for_one_new_url_agree(server: Server) -> None:
    path = "/unsafe/400x300/filters:quality(72)/rotated.jpg"
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: server.request(path), range(8)))
    assert [reply.status for reply in replies] == [200] * 8
    assert len({reply.body for reply in replies}) == 1
    assert len({reply.headers["ETag"] for reply in replies}) == 1
    assert replies[0].image().size == (400, 300)


def test_parallel_requests_for_different_urls(server: Server) -> None:
    jobs: list[tuple[str, tuple[int, int] | None]] = [
        (f"/unsafe/{width}x{height}/{name}", (width, height))
        for name in ("photo.jpg", "astronaut.jpg", "cutout.png", "rotated.jpg")
        for width, height in ((71, 53), (130, 37), (64, 64))
    ]
    jobs.append(("/unsafe/300x200/missing.jpg", None))
    jobs.append(("/unsafe/300x200/text.jpg", None))
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda job: server.request(job[0]), jobs))
    for (path, size), reply in zip(jobs, replies, strict=True):
        if size is None:
            assert reply.status in (404, 415), path
            assert reply.headers["Content-Type"] == "application/json"
        else:
            assert reply.status == 200, path
            assert reply.image().size == size, path


def test_result_storage_serves_the_second_request(server: Server, site: Site) -> None:
    original = site.root / "mutable.jpg"
    saved = original.read_bytes()
    path = "/unsafe/64x48/filters:quality(61)/mutable.jpg"
    try:
        first = server.request(path)
        assert first.status == 200
        stored = [p for p in site.results.rglob("*") if p.is_file()]
        # A copy of the result is under RESULT_STORAGE_FILE_STORAGE_ROOT_PATH.
        assert any(p.read_bytes() == first.body for p in stored)
        # A different original, but not newer than the stored result: the stored one is served.
        solid(original, (250, 250, 250))
        older = time.time() - 3600
        os.utime(original, (older, older))
        second = server.request(path)
        assert second.status == 200
        assert second.body == first.body
        assert second.headers["ETag"] == first.headers["ETag"]
        assert second.headers["Content-Type"] == "image/jpeg"
        # A newer original: processed again.
        newer = time.time() + 5
        os.utime(original, (newer, newer))
        third = server.request(path)
        assert third.status == 200
        assert third.body != first.body
        assert close(third.image().convert("RGB").getpixel((32, 24)), (250, 250, 250))
    finally:
        original.write_bytes(saved)


# --- a server that only takes signed URLs ---------------------------------------------------


@pytest.mark.parametrize(
    ("options", "size"),
    [
        ({"width": 300, "height": 200, "image_url": "photo.jpg"}, (300, 200)),
        ({"width": 300, "height": 300, "fit_in": True, "image_url": "photo.jpg"}, (300, 225)),
        ({"width": 80, "height": 80, "filters": ["quality(50)"], "image_url": "astronaut.jpg"},
         (80, 80)),
        ({"width": 50, "height": 50, "image_url": "my photos/hello world.jpg"}, (50, 50)),
        ({"width": 50, "height": 50, "image_url": "café.jpg"}, (50, 50)),
    ],
)  # fmt: skip
def test_signed_urls_from_libthumbor_are_served(
    signed_server: Server, options: dict[str, object], size: tuple[int, int]
) -> None:
    reply = signed_server.request(signed(**options))
    assert reply.status == 200, reply.body
    assert reply.image().size == size
    assert reply.headers["Cache-Control"] == "public, max-age=3600"  # MAX_AGE


def test_signed_meta(signed_server: Server) -> None:
    reply = signed_server.request(signed(meta=True, width=30, height=20, image_url="photo.jpg"))
    assert reply.status == 200
    assert reply.json()["thumbor"]["target"] == {"width": 30, "height": 20}


def test_a_percent_encoded_signature_is_accepted(signed_server: Server) -> None:
    path = CryptoURL(key=KEY).generate(width=40, height=30, image_url="photo.jpg")
    assert "=" in path
    reply = signed_server.request(path.replace("=", "%3D"))
    assert reply.status == 200, reply.body


def test_auto_avif_alone(signed_server: Server) -> None:
    still = signed(width=60, height=40, image_url="astronaut.jpg")
    avif = signed_server.request(still, headers={"Accept": "image/avif,image/webp,*/*"})
    assert avif.status == 200, avif.body
    assert avif.headers["Content-Type"] == "image/avif"
    assert (avif.image().format, avif.image().size) == ("AVIF", (60, 40))
    webp_only = signed_server.request(still, headers={"Accept": "image/webp,*/*"})
    plain = signed_server.request(still)
    assert webp_only.headers["Content-Type"] == plain.headers["Content-Type"] == "image/jpeg"
    assert webp_only.body == plain.body  # AUTO_WEBP is off
    assert avif.headers["Vary"] == plain.headers["Vary"] == "Accept"
    # An animation stays a GIF (no animated AVIF), whatever the client takes: no Vary.
    animation = signed(width=48, height=27, image_url="pan.gif")
    for accept in ("image/avif,image/webp", ""):
        reply = signed_server.request(animation, headers={"Accept": accept})
        assert reply.status == 200, reply.body
        assert reply.headers["Content-Type"] == "image/gif"
        assert getattr(reply.image(), "n_frames", 1) == 16
        assert "Vary" not in reply.headers


def tampered_paths() -> list[str]:
    good = CryptoURL(key=KEY).generate(width=300, height=200, image_url="photo.jpg")
    signature, rest = good[1:].split("/", 1)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other_key = CryptoURL(key=KEY + "x").generate(width=300, height=200, image_url="photo.jpg")
    return [
        f"/{signature}/301x200/photo.jpg",
        f"/{signature}/300x200/astronaut.jpg",
        f"/{signature}/300x200/filters:quality(1)/photo.jpg",
        f"/{flipped}/{rest}",
        f"/{signature[:-2]}/{rest}",
        f"/{signature.lower()}/{rest}",
        other_key,
        f"/{rest}",
        f"/unsafe/{signature}/{rest}",
    ]


@pytest.mark.parametrize("path", tampered_paths())
def test_tampered_signatures_are_refused(signed_server: Server, path: str) -> None:
    code = "UnsafeUrlNotAllowed" if path.startswith("/unsafe/") else "SignatureDoesNotMatch"
    assert_error(signed_server.request(path), 403, code)


def test_unsafe_urls_are_refused_when_turned_off(signed_server: Server) -> None:
    for path in ("/unsafe/300x200/photo.jpg", "/unsafe/meta/300x200/photo.jpg"):
        assert_error(signed_server.request(path), 403, "UnsafeUrlNotAllowed")
    assert signed_server.request("/healthcheck").body == b"WORKING"


# --- last: what the servers left behind ----------------------------------------------------


def test_nothing_is_written_outside_result_storage(
    server: Server, signed_server: Server, site: Site
) -> None:
    for path in ("/unsafe/33x33/photo.jpg", signed(width=33, height=33, image_url="photo.jpg")):
        assert server.request(path).status in (200, 403)
        assert signed_server.request(path).status in (200, 403)
    after = tree(site.root.parent)
    written = {
        name: state
        for name, state in after.items()
        if name not in site.snapshot and not name.startswith("results")
    }
    assert written == {}
    changed = {name for name, state in site.snapshot.items() if after.get(name) != state}
    assert changed == set()
    assert any(state != "dir" for name, state in after.items() if name.startswith("results/"))
    assert list(site.unused_results.iterdir()) == []  # --no-result-storage
    assert list(site.cwd.iterdir()) == []
