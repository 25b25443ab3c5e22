"""Differential test: the real Thumbor 7.8.0 and our server answer the same URL list.

Both run as real HTTP servers on 127.0.0.1 over one folder of images: Thumbor from its own
venv (tests/peers/install_thumbor.sh) with its file loader and default settings, ours as
`python -m thumbor_urls serve` with our defaults. For every URL the test compares the status,
Content-Type, decoded format and size, the Cache-Control max-age, and the pixels (PSNR, see
PHOTO_PSNR). `meta/` URLs compare the JSON's operations and target numerically.

Where we differ on purpose, the URL is in DELIBERATE_DIFFERENCES with the reason, and the test
asserts our documented behaviour against Thumbor's answer instead of equality.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageSequence, ImageStat

from tests.conftest import SAMPLES, gradient
from tests.peers.thumbor_peer import REPO_ROOT, fetch, run_thumbor
from thumbor_urls.config import Settings

# --- PSNR thresholds ------------------------------------------------------------------------
#
# The two servers do not compute the same pixels, by design:
# * Thumbor decodes JPEGs with draft() (DCT scaling by 1/2..1/8) only when it does not crop,
#   then resizes with LANCZOS. We always plan the geometry from the header first, so we also
#   draft when cropping, then crop and resize in one pass (resize(box=...)) with
#   reducing_gap=3 (an integer box-reduce first, LANCZOS for the rest).
# * Both re-encode at quality 80; the small differences above are then passed through two
#   different JPEG/WebP encodings, which adds its own error.
# Measured (see the module's report): resized photos land at ~34-45 dB, synthetic gradients
# and lossless re-encodes much higher. Visible defects (a crop shifted by a few pixels, a
# wrong flip, a wrong fill colour, a missing alpha) fall below ~25 dB on these images. 30 dB
# is the usual "visually the same" bound for 8-bit photos and leaves a margin of several dB
# under the lowest value we measured on a correct case; per-case overrides say why they differ.
PHOTO_PSNR = 30.0
# Identical pixels (e.g. both only re-encode PNG losslessly) give an infinite PSNR.
IDENTICAL = math.inf

# Alpha images are composited on this fixed background before comparing, and their alpha
# channels are compared on their own as well.
BACKGROUND = (128, 128, 128)


@dataclass(frozen=True)
class Case:
    """One URL (the path after the host) and the lowest PSNR accepted for it."""

    path: str
    min_psnr: float = PHOTO_PSNR
    why: str = ""  # why min_psnr differs from PHOTO_PSNR


def case(path: str, min_psnr: float = PHOTO_PSNR, why: str = "", xfail: str = "") -> object:
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(Case(f"/unsafe/{path}", min_psnr, why), id=path, marks=marks)


# Sources: samples/ plus synthetic ones (make_root). Sizes are the stored ones.
#   dandelions.jpg 5312x2988, astronaut.jpg/png 512x512 (the PNG is RGB with an ICC profile),
#   dandelions-cutout.png 1600x900 RGBA, pan.gif 480x270 16 frames,
#   g800x600.jpg, g600x800.jpg, g300x200.jpg gradient JPEGs q95,
#   trim.png 400x300 white with a 360x260 gradient at (20, 20).
IMAGE_CASES = [
    # Sizes, crop mode (the default).
    case("300x200/dandelions.jpg"),
    case("300x0/dandelions.jpg"),
    case("x150/dandelions.jpg"),
    case("300x200/astronaut.jpg"),
    case("1000x1000/g300x200.jpg"),  # upscales by default
    case("600x0/g300x200.jpg"),
    case("300xorig/g800x600.jpg"),  # crop, no resize
    case("origx100/g800x600.jpg"),
    case("0x0/g800x600.jpg"),
    case("origxorig/astronaut.jpg"),
    # fit-in family.
    case("fit-in/300x300/dandelions.jpg"),
    case("fit-in/0x300/dandelions.jpg"),
    case("fit-in/300x200/g600x800.jpg"),
    case("fit-in/1000x1000/g300x200.jpg"),  # never upscales
    case("fit-in/origx300/g800x600.jpg"),
    case("full-fit-in/300x200/g800x600.jpg"),
    case("full-fit-in/1000x1000/g300x200.jpg"),  # covers the box, upscales
    case("adaptive-fit-in/300x200/g600x800.jpg"),  # box swapped
    case("adaptive-full-fit-in/300x200/g600x800.jpg"),
    # Manual crops.
    case("100x100:500x400/200x0/g800x600.jpg"),
    case("100x100:5000x5000/g800x600.jpg"),  # clamped to the image
    case("100x100:5000x5000/200x0/g800x600.jpg"),
    case("100x100:100x100/200x200/g800x600.jpg"),  # empty: ignored
    case("300x300:100x100/g800x600.jpg"),  # inverted: ignored
    case("10x10:790x590/fit-in/300x300/g800x600.jpg"),
    case("1000x500:3000x2500/300x200/dandelions.jpg"),
    # Flips, alignment, smart (no detectors: the alignment point).
    case("-300x200/g800x600.jpg"),
    case("300x-200/dandelions.jpg"),
    case("-300x-200/astronaut.jpg"),
    case("300x100/left/g800x600.jpg"),
    case("300x100/right/top/g800x600.jpg"),
    case("300x100/bottom/g800x600.jpg"),
    case("100x300/right/dandelions.jpg"),
    case("300x200/smart/dandelions.jpg"),
    # Trim.
    case("trim/trim.png"),
    case("trim:bottom-right/trim.png"),
    case("trim:top-left:10/trim.png"),
    case("trim/300x200/trim.png"),
    case("trim/10x10:100x100/trim.png"),  # crop in original coordinates, moved by the trim
    case("trim/fit-in/1000x1000/trim.png"),
    # Filters.
    case("300x200/filters:quality(50)/dandelions.jpg"),
    case("300x200/filters:format(png)/astronaut.jpg"),
    case("300x200/filters:format(webp)/astronaut.jpg"),
    case("300x200/filters:format(jpeg)/astronaut.png"),
    case("fit-in/300x200/filters:fill(red)/g800x600.jpg"),
    case("fit-in/300x200/filters:fill(blue,1)/dandelions-cutout.png"),
    case("fit-in/300x300/filters:fill(red)/dandelions-cutout.png"),
    case("300x200/filters:grayscale()/dandelions.jpg"),
    case("300x200/filters:grayscale()/dandelions-cutout.png"),
    case("300x200/filters:no_upscale()/g800x600.jpg"),
    case("1000x1000/filters:no_upscale()/g800x600.jpg"),
    case("fit-in/1000x1000/filters:upscale()/g800x600.jpg"),
    case("300x200/filters:stretch()/g800x600.jpg"),
    case("300x200/filters:strip_icc()/astronaut.png"),
    case("300x200/filters:strip_exif()/dandelions.jpg"),
    case("300x200/filters:max_age(60)/astronaut.jpg"),
    case("300x200/filters:rotate(90)/g800x600.jpg"),
    case("fit-in/300x200/filters:rotate(90)/dandelions.jpg"),
    case("300x200/filters:rotate(45)/g800x600.jpg"),  # not a multiple of 90: ignored
    case("300x200/filters:nope()/astronaut.jpg"),  # unknown filter: ignored
    case("300x200/filters:quality(abc)/astronaut.jpg"),  # bad argument: ignored
    # RGBA PNG source.
    case("300x200/dandelions-cutout.png"),
    case("fit-in/400x400/dandelions-cutout.png"),
    case("-200x150/left/dandelions-cutout.png"),
    case("300x200/filters:format(webp)/dandelions-cutout.png"),
    # Animated GIF: frame count and first frame (durations are a deliberate difference).
    case("300x200/pan.gif"),
]

META_CASES = [
    "meta/300x200/g800x600.jpg",
    "meta/fit-in/300x200/filters:grayscale()/g800x600.jpg",
    "meta/-300x-200/g800x600.jpg",
    "meta/-300x200/smart/g800x600.jpg",
    "meta/10x10:200x200/300x200/g800x600.jpg",
    "meta/10x10:200x200/g800x600.jpg",
    "meta/300xorig/g800x600.jpg",
    "meta/100x100:100x100/200x200/g800x600.jpg",
    "meta/300x100/right/top/g800x600.jpg",
    "meta/300x200/dandelions.jpg",
    "meta/trim/10x10:100x100/trim.png",
    "meta/300x200/pan.gif",
]

# Both answer with the same status (errors: the code only, bodies differ).
STATUS_CASES = [
    pytest.param("/unsafe/300x200/missing.jpg", 404, id="missing file"),
    pytest.param("/unsafe/abcx/g800x600.jpg", 404, id="bad size read as a path"),
    pytest.param("/unsafe/300x200/../g800x600.jpg", 404, id="dot-dot"),
]


# --- Deliberate differences ---------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


Check = Callable[[Answer, Answer], None]  # (ours, thumbor); asserts our documented behaviour


@dataclass(frozen=True)
class Difference:
    path: str
    reason: str
    check: Check


def _check_orientation(ours: Answer, thumbor: Answer) -> None:
    # Thumbor (RESPECT_ORIENTATION=False) resizes the stored 1350x2400 pixels: 169x300 sideways.
    # We turn it upright: 300x169, and the pixels are Thumbor's turned 90 degrees clockwise.
    assert (ours.status, thumbor.status) == (200, 200)
    mine, theirs = decode(ours.body), decode(thumbor.body)
    assert theirs.size == (169, 300)
    assert mine.size == (300, 169)
    assert not mine.getexif().get(0x0112)
    upright = theirs.transpose(Image.Transpose.ROTATE_270)
    assert psnr(mine, upright) >= PHOTO_PSNR


def _check_gif_durations(ours: Answer, thumbor: Answer) -> None:
    # Thumbor's PIL engine passes duration/1000 to Pillow, so its frames have no delay.
    assert ours.headers["content-type"] == thumbor.headers["content-type"] == "image/gif"
    mine, theirs = decode(ours.body), decode(thumbor.body)
    assert getattr(mine, "n_frames", 1) == getattr(theirs, "n_frames", 1) == 16
    assert [f.info.get("duration") for f in ImageSequence.Iterator(mine)] == [80] * 16
    assert all(not f.info.get("duration") for f in ImageSequence.Iterator(theirs))


def _check_error_status(ours_status: int) -> Check:
    def check(ours: Answer, thumbor: Answer) -> None:
        assert thumbor.status == 400
        assert ours.status == ours_status

    return check


def _check_meta_source(ours: Answer, thumbor: Answer) -> None:
    # Thumbor's meta reports the output size as the source's; we report the original's.
    mine = json.loads(ours.body)["thumbor"]
    theirs = json.loads(thumbor.body)["thumbor"]
    assert (mine["source"]["width"], mine["source"]["height"]) == (5312, 2988)
    assert (theirs["source"]["width"], theirs["source"]["height"]) == (300, 200)
    assert mine["source"]["url"] == theirs["source"]["url"]
    assert mine["source"]["frameCount"] == theirs["source"]["frameCount"]


def _check_alpha_to_jpeg(ours: Answer, thumbor: Answer) -> None:
    # Thumbor's convert("RGB") drops the alpha and shows the RGB stored under transparent
    # pixels; we composite onto white, as a browser shows the PNG. Compare with Thumbor's PNG
    # of the same geometry flattened onto white.
    assert ours.headers["content-type"] == thumbor.headers["content-type"] == "image/jpeg"
    mine = decode(ours.body)
    assert mine.size == decode(thumbor.body).size == (300, 200)
    assert mine.mode == "RGB"
    status, _, png = fetch(thumbor.headers["x-base"] + "/unsafe/300x200/dandelions-cutout.png")
    assert status == 200
    expected = Image.new("RGBA", (300, 200), "white")
    expected.alpha_composite(decode(png).convert("RGBA"))
    assert psnr(mine, expected.convert("RGB")) >= PHOTO_PSNR
    # ...and Thumbor's JPEG is not that: its transparent corners are not white.
    corner = decode(thumbor.body).convert("RGB").getpixel((0, 0))
    assert corner != (255, 255, 255)


DELIBERATE_DIFFERENCES = [
    Difference(
        "/unsafe/fit-in/300x300/dandelions-exif-rotated.jpg",
        "EXIF orientation: RESPECT_ORIENTATION defaults to True here, False in Thumbor",
        _check_orientation,
    ),
    Difference(
        "/unsafe/300x200/pan.gif",
        "animated GIF: we keep the 80 ms frame durations; Thumbor's PIL engine loses them",
        _check_gif_durations,
    ),
    Difference(
        "/unsafe/300x200/notimage.jpg",
        "a file that is not an image: 415 Unsupported Media Type here, 400 in Thumbor",
        _check_error_status(415),
    ),
    Difference(
        "/AAAAAAAAAAAAAAAAAAAAAAAAAAA=/300x200/g800x600.jpg",
        "a bad signature: 403 Forbidden here, 400 in Thumbor",
        _check_error_status(403),
    ),
    Difference(
        "/unsafe/meta/300x200/dandelions.jpg",
        "meta/ source size: the original's here, the output's in Thumbor",
        _check_meta_source,
    ),
    Difference(
        "/unsafe/300x200/filters:format(jpeg)/dandelions-cutout.png",
        "RGBA to JPEG: flattened onto white here; Thumbor drops the alpha",
        _check_alpha_to_jpeg,
    ),
]


# --- Helpers --------------------------------------------------------------------------------


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _comparable(image: Image.Image, alpha: bool) -> Image.Image:
    if alpha:
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        flat.alpha_composite(rgba)
        return flat.convert("RGB")
    return image.convert("L" if image.mode == "L" else "RGB")


def _psnr_same_mode(a: Image.Image, b: Image.Image) -> float:
    stat = ImageStat.Stat(ImageChops.difference(a, b))
    mse = sum(stat.sum2) / (a.width * a.height * len(stat.sum2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def psnr(a: Image.Image, b: Image.Image) -> float:
    """PSNR in dB of two images of the same size; alpha images are composited on BACKGROUND
    and their alpha channels compared too (the lower of the two counts)."""
    assert a.size == b.size
    alpha = any("A" in im.getbands() or "transparency" in im.info for im in (a, b))
    grey = a.mode in ("L", "LA") and b.mode in ("L", "LA")
    if grey and not alpha:
        return _psnr_same_mode(a.convert("L"), b.convert("L"))
    value = _psnr_same_mode(_comparable(a, alpha), _comparable(b, alpha))
    if alpha:
        value = min(
            value,
            _psnr_same_mode(a.convert("RGBA").getchannel("A"), b.convert("RGBA").getchannel("A")),
        )
    return value


def max_age(headers: dict[str, str]) -> int | None:
    match = re.search(r"max-age=(\d+)", headers.get("cache-control", ""))
    return int(match.group(1)) if match else None


def get(base: str, path: str) -> Answer:
    status, headers, body = fetch(base + path)
    return Answer(status, {**headers, "x-base": base}, body)


def make_root(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in (
        "astronaut.jpg",
        "astronaut.png",
        "dandelions.jpg",
        "dandelions-cutout.png",
        "dandelions-exif-rotated.jpg",
        "pan.gif",
    ):
        shutil.copy(SAMPLES / name, folder / name)
    for width, height in ((800, 600), (600, 800), (300, 200)):
        gradient((width, height)).save(folder / f"g{width}x{height}.jpg", quality=95)
    framed = Image.new("RGB", (400, 300), "white")
    framed.paste(gradient((360, 260)), (20, 20))  # its blue is 90: never white
    framed.save(folder / "trim.png")
    (folder / "notimage.jpg").write_bytes(b"this is not an image\n")
    return folder


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class OurServer:
    base: str
    proc: subprocess.Popen[bytes]


def start_ours(root: Path, log: Path, timeout: float = 30.0) -> OurServer:
    port = _free_port()
    env = dict(os.environ)
    for setting in fields(Settings):  # our defaults, whatever the caller's environment says
        env.pop(setting.name, None)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "thumbor_urls",
                "serve",
                "--root",
                str(root),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-result-storage",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            cwd=REPO_ROOT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"our server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if fetch(f"{base}/healthcheck", timeout=2.0)[0] == 200:
                return OurServer(base, proc)
        except OSError:
            pass
        time.sleep(0.1)
    stop_ours(proc)
    raise RuntimeError(f"our server did not answer /healthcheck in {timeout}s:\n{log.read_text()}")


def stop_ours(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_root(tmp_path_factory.mktemp("differential") / "images")


@pytest.fixture(scope="module")
def thumbor(thumbor_venv: Path, image_root: Path) -> Iterator[str]:
    with run_thumbor(thumbor_venv, image_root) as base:
        yield base


@pytest.fixture(scope="module")
def ours(image_root: Path) -> Iterator[str]:
    server = start_ours(image_root, image_root.parent / "ours.log")
    try:
        yield server.base
    finally:
        stop_ours(server.proc)


# --- Tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_image(case: Case, ours: str, thumbor: str) -> None:
    mine, theirs = get(ours, case.path), get(thumbor, case.path)
    assert (mine.status, theirs.status) == (200, 200)
    assert mine.headers["content-type"] == theirs.headers["content-type"]
    assert max_age(mine.headers) == max_age(theirs.headers)
    a, b = decode(mine.body), decode(theirs.body)
    assert (a.format, a.size) == (b.format, b.size)
    assert getattr(a, "n_frames", 1) == getattr(b, "n_frames", 1)
    value = psnr(a, b)
    assert value >= case.min_psnr, f"PSNR {value:.1f} dB < {case.min_psnr} {case.why}"


def _numbers(value: object) -> object:
    """JSON values with every number as a float: Thumbor writes 300.0 where we write 300."""
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.mark.parametrize("path", META_CASES)
def test_meta(path: str, ours: str, thumbor: str) -> None:
    mine, theirs = get(ours, f"/unsafe/{path}"), get(thumbor, f"/unsafe/{path}")
    assert (mine.status, theirs.status) == (200, 200)
    a, b = json.loads(mine.body)["thumbor"], json.loads(theirs.body)["thumbor"]
    assert _numbers(a["operations"]) == _numbers(b["operations"])
    assert _numbers(a["target"]) == _numbers(b["target"])
    assert _numbers(a["focal_points"]) == _numbers(b["focal_points"])
    assert a["source"]["frameCount"] == b["source"]["frameCount"]
    assert a["source"]["url"] == b["source"]["url"]
    # `source` size: a deliberate difference (see DELIBERATE_DIFFERENCES): Thumbor's is the
    # output size, ours the original's.
    assert (b["source"]["width"], b["source"]["height"]) == tuple(b["target"].values())


@pytest.mark.parametrize("path,status", STATUS_CASES)
def test_status(path: str, status: int, ours: str, thumbor: str) -> None:
    assert get(ours, path).status == get(thumbor, path).status == status


@pytest.mark.parametrize(
    "difference", DELIBERATE_DIFFERENCES, ids=[d.path for d in DELIBERATE_DIFFERENCES]
)
def test_deliberate_difference(difference: Difference, ours: str, thumbor: str) -> None:
    difference.check(get(ours, difference.path), get(thumbor, difference.path))
