"""Differential test of the pixel filters: the real Thumbor 7.8.0 against our App, in process.

Every URL is `/unsafe/WxH/filters:NAME(ARGS):format(png)/SOURCE` on both sides, where WxH is
the source's own size. Sources are stored losslessly (PNG) at that size, so neither side
decodes lossy data or resamples: the only thing compared is the filter. PNG output keeps the
comparison free of encoder noise, and both sides leave same-size requests untouched (the
`baseline` test checks that: infinite PSNR with no filter).

Sources (made from samples/ by `root`):
    astronaut.png   RGB 300x200, samples/astronaut.jpg cropped to 3:2 and resized
    dandelions.png  RGB 300x200, a 1200x800 crop of samples/dandelions.jpg, resized
    cutout.png      RGBA 320x180, samples/dandelions-cutout.png resized (real alpha edges)
    grey.png        L 300x200, astronaut.png in grey levels (Thumbor turns it into RGB)

PSNR is over every channel, alpha included (blur and convolution change alpha in Thumbor);
an L answer of ours is compared with Thumbor's RGB answer as RGB (the same grey pixels).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageOps, ImageStat

from tests.images import SAMPLES, decode
from tests.peers.thumbor_peer import fetch, run_thumbor
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.filters.optional import has_opencv
from thumbor_urls.messages import Request

SOURCES = {
    "astronaut.png": (300, 200),
    "dandelions.png": (300, 200),
    "cutout.png": (320, 180),
    "grey.png": (300, 200),
    "flat.png": (40, 30),
}
PHOTOS = ("astronaut.png", "dandelions.png", "cutout.png")
ALL = (*PHOTOS, "grey.png")

# --- Thresholds, per filter, and why --------------------------------------------------------
#
# EXACT: lookup-table filters. Our tables are built with Thumbor's own integer (C) arithmetic,
# so the pixels are identical: anything below infinity is a bug.
EXACT = math.inf
# FLOAT: saturation, blur, sharpen, convolution are computed in floating point on both sides:
# Thumbor in C doubles/floats, ours in 16-bit fixed point (blur, convolution) or Pillow's
# single-precision band maths, each truncated to bytes. Sums that land exactly on an integer
# (flat areas under a normalised kernel) can fall on either side of it, so some pixels differ
# by one level. Measured: 60.3 dB at worst (the 1x7 box), most cases 68-93 dB or identical;
# one level on EVERY pixel would be 48.1 dB. 50 dB keeps 10 dB of margin and still fails the
# nearest wrong answers we measured on these sources (astronaut/dandelions): blur(3) vs
# blur(4) 34.1/44.9 dB, blur(8,2) vs blur(8,2.5) 36.5/47.1, a 7-tap box one pixel off
# 29.6/39.3, saturation(2) vs (2.2) 36.7/37.3, sharpen(2,1) vs sharpen(2.5,1) 34.5/40.5,
# luminance_only on vs off 31.1/37.0.
FLOAT = 50.0
# blur, and convolution below 50 cells, with OpenCV installed (filters/correlation_opencv.py):
# Thumbor's double-precision sums in its order, so its very bytes; without it, the fixed-point
# engine, FLOAT.
OPENCV = EXACT if has_opencv() else FLOAT


@dataclass(frozen=True)
class Case:
    filter: str  # NAME(ARGS)
    source: str
    min_psnr: float
    # Sources on which the filter rightly changes nothing (on both sides); everywhere else the
    # test also checks that Thumbor did change the picture, so that two ignored filters never
    # pass as a match.
    identity: bool = False


def cases(
    filter_text: str,
    min_psnr: float,
    sources: tuple[str, ...] = ALL,
    identity_on: tuple[str, ...] = (),
) -> list[object]:
    return [
        pytest.param(
            Case(filter_text, source, min_psnr, source in identity_on),
            id=f"{filter_text}-{source}",
        )
        for source in sources
    ]


CASES = [
    *cases("brightness(20)", EXACT),
    *cases("brightness(-35)", EXACT),
    *cases("brightness(150)", EXACT, PHOTOS[:1]),  # beyond 100: clamped, the same pixels
    *cases("contrast(30)", EXACT),
    *cases("contrast(-60)", EXACT),
    *cases("contrast(-200)", EXACT, PHOTOS[:1], PHOTOS[:1]),  # (v + 100)^2: -200 is identity
    # Grey pixels are their own perceived brightness: nothing to saturate or desaturate.
    *cases("saturation(2)", FLOAT, identity_on=("grey.png",)),
    *cases("saturation(0)", FLOAT, identity_on=("grey.png",)),
    *cases("saturation(0.5)", FLOAT, PHOTOS),
    *cases("rgb(10,-20,30)", EXACT),
    *cases("rgb(-100,0,55)", EXACT),
    *cases("colorize(10,20,30,ff0000)", EXACT),
    *cases("colorize(100,0,50,00FF80)", EXACT),
    *cases("colorize(150,75,300,336699)", EXACT, PHOTOS[:1]),  # over 100%: overshoots, clamped
    *cases("equalize()", EXACT),  # no arguments: one set, on every source
    # One colour: Thumbor's 0/0 turns the darkest channel black (NaN cast to a byte) and the
    # others white (see color._equalize_tables); the same here.
    *cases("equalize()", EXACT, ("flat.png",)),
    *cases("blur(3)", OPENCV),
    *cases("blur(8,2)", OPENCV),
    *cases("blur(4,-10.5)", OPENCV, PHOTOS),  # sigma > radius: a nearly flat 9-tap kernel
    *cases("blur(200)", OPENCV, PHOTOS[:1]),  # kernel radius clamped to 150, sigma stays 200
    *cases("sharpen(2,1,true)", FLOAT),
    *cases("sharpen(1.5,0.5,false)", FLOAT),
    *cases("sharpen(4,3,True)", FLOAT, PHOTOS),
    *cases("convolution(1;2;1;2;4;2;1;2;1,3,true)", OPENCV),
    *cases("convolution(-1;-1;-1;-1;8;-1;-1;-1;-1,3,false)", OPENCV),
    *cases("convolution(0;0;0;0;0;1;0;0;0,3,false)", OPENCV, PHOTOS),  # asymmetric: a shift
    *cases("convolution(1;1;1;1;1;1;1,7)", OPENCV, PHOTOS),  # 1x7, normalize by default
    *cases(
        "convolution(1;0;0;0;0;0;0;0;2;0;0;0;0;0;0;0;0;3;0;0;1;0;0;0;0;0;4;0;0;0;0;0;0;0;5,7,true)",
        OPENCV,
        PHOTOS,
    ),  # neither 3x3 nor 5x5 nor square: 7 columns x 5 rows, asymmetric
    # 63 cells: past OpenCV's direct filter, so the fixed-point engine either way.
    *cases("convolution(" + ";".join(str(1 + i % 5) for i in range(63)) + ",9)", FLOAT, PHOTOS),
    *cases(
        "curve([(0,0),(40,59),(255,255)],[(32,59),(64,80),(92,111),(128,153),(140,169),"
        "(164,201),(192,214),(224,215),(240,214),(255,212)],[(34,41),(64,51),(92,76),(128,112),"
        "(140,124),(164,147),(192,180),(224,216),(240,236),(255,255)],[(40,46),(64,55),(92,83),"
        "(128,127),(140,144),(164,174),(192,197),(224,199),(240,197),(255,198)])",
        EXACT,
    ),  # Thumbor's docstring example
    *cases(
        "curve([(0,0),(255,255)],[(0,50),(128,170),(255,254)],[(0,0),(255,255)],[(5,5)])", EXACT
    ),
    *cases(
        "curve([(10,0),(200,255)],[(0,0),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)])",
        EXACT,
        PHOTOS,
    ),  # a levels stretch: flat below 10 and above 200
]

# Noise: a different random generator (see effects.noise), so compared statistically.
NOISE_CASES = [(20, 7), (60, 42), (200, 1)]  # (amount, seed)


@dataclass(frozen=True)
class Difference:
    """A URL where we answer differently on purpose."""

    filter: str
    thumbor: str  # what Thumbor does, checked below so the list stays true
    ours: str
    why: str


DIFFERENCES = [
    Difference(
        "convolution(1;2;1;2,2,true)",
        "500",
        "ignored",
        "4 cells are no odd kernel; Thumbor's C returns NULL without an exception",
    ),
    Difference(
        "curve([(0,0)(255,255)],[(0,0),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)])",
        "500",
        "ignored",
        "points with no comma between them pass Thumbor's regex, then ast.literal_eval fails",
    ),
    Difference(
        "brightness(99999999999)",
        "500",
        "white",
        "Thumbor's C int overflows; beyond 100 every pixel already saturates, so we clamp",
    ),
    Difference(
        "colorize(10,20,30,f00)",
        "500",
        "ignored",
        "bytearray.fromhex() must give exactly three bytes; we refuse the argument instead",
    ),
    Difference(
        "curve([(0,0),(300,255)],[(0,0),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)])",
        "200",
        "ignored",
        "Thumbor casts 300 to an unsigned char (44) and draws another curve; we refuse it",
    ),
    Difference(
        "blur(3," + "1" + "0" * 200 + ")",
        "black",
        "applied",  # the same pixels as with sigma 1e6
        "2 * sigma^2 overflows to infinity above ~1e154, every Gaussian weight becomes 0 and "
        "Thumbor returns a black (and transparent) frame; we clamp sigma to 1e6, where the "
        "weights are already flat to single precision: a 7-tap box blur",
    ),
    Difference(
        "curve([(0,0),(007,255)],[(0,0),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)])",
        "500",
        "applied",  # not ignored: the same pixels as with (7,255)
        "leading zeros pass Thumbor's regex, then ast.literal_eval refuses them; we read 7",
    ),
]


def _lossless(image: Image.Image, path: Path) -> None:
    image.save(path, "PNG")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("filter-sources")
    astronaut = ImageOps.fit(Image.open(SAMPLES / "astronaut.jpg").convert("RGB"), (300, 200))
    _lossless(astronaut, folder / "astronaut.png")
    _lossless(astronaut.convert("L"), folder / "grey.png")
    with Image.open(SAMPLES / "dandelions.jpg") as photo:
        crop = photo.convert("RGB").crop((2000, 1100, 3200, 1900))
    _lossless(crop.resize((300, 200), Image.Resampling.LANCZOS), folder / "dandelions.png")
    with Image.open(SAMPLES / "dandelions-cutout.png") as cutout:
        rgba = cutout.convert("RGBA").resize((320, 180), Image.Resampling.LANCZOS)
    _lossless(rgba, folder / "cutout.png")
    _lossless(Image.new("RGB", (40, 30), (10, 200, 90)), folder / "flat.png")
    return folder


@pytest.fixture(scope="module")
def thumbor(thumbor_venv: Path, root: Path) -> Iterator[str]:
    with run_thumbor(thumbor_venv, root) as base:
        yield base


@pytest.fixture(scope="module")
def app(root: Path) -> App:
    return App(Settings(FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None))


def url(filter_text: str, source: str) -> str:
    width, height = SOURCES[source]
    filters = f"filters:{filter_text}:format(png)/" if filter_text else "filters:format(png)/"
    return f"/unsafe/{width}x{height}/{filters}{source}"


def thumbor_image(base: str, path: str) -> Image.Image:
    status, _, body = fetch(base + path)
    assert status == 200, f"Thumbor answered {status} for {path}"
    return decode(body)


def our_image(app: App, path: str) -> Image.Image:
    response = app.handle(Request("GET", path))
    assert response.status == 200, response.body[:300]
    return decode(response.body)


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB over every band (inf when identical), Pillow only."""
    assert a.size == b.size
    mode = "RGBA" if "A" in a.getbands() or "A" in b.getbands() else "RGB"
    difference = ImageChops.difference(a.convert(mode), b.convert(mode))
    stat = ImageStat.Stat(difference)
    mse = sum(stat.sum2) / (len(stat.sum2) * a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


MEASURED: dict[str, float] = {}


def test_baseline_same_size_is_untouched(thumbor: str, app: App) -> None:
    for source in ALL:
        path = url("", source)
        assert psnr(thumbor_image(thumbor, path), our_image(app, path)) == math.inf, source


@pytest.mark.parametrize("case", CASES)
def test_filter_matches_thumbor(thumbor: str, app: App, case: Case) -> None:
    path = url(case.filter, case.source)
    theirs, ours = thumbor_image(thumbor, path), our_image(app, path)
    assert ("A" in ours.getbands()) == ("A" in theirs.getbands()), "alpha kept or lost alike"
    value = psnr(theirs, ours)
    MEASURED[f"{case.filter} {case.source}"] = value
    print(f"PSNR {value:.2f} dB  {case.filter}  {case.source}")
    unfiltered = thumbor_image(thumbor, url("", case.source))
    assert (psnr(theirs, unfiltered) == math.inf) == case.identity, "Thumbor ignored the filter?"
    assert value >= case.min_psnr


def _residual_stats(output: Image.Image, source: Image.Image) -> tuple[float, float]:
    """Mean and standard deviation of (output - source) in levels, over the green band of the
    pixels whose source value cannot clip (32..223), so the clamping at 0/255 does not bias it."""
    green_out = output.convert("RGB").getchannel("G")
    green_in = source.convert("RGB").getchannel("G")
    residual = ImageChops.subtract(green_out, green_in, scale=1.0, offset=128)
    usable = green_in.point(lambda v: 255 if 32 <= v <= 223 else 0)
    stat = ImageStat.Stat(residual, mask=usable)
    return stat.mean[0] - 128, stat.stddev[0]


@pytest.mark.parametrize(("amount", "seed"), NOISE_CASES)
@pytest.mark.parametrize("source", PHOTOS)
def test_noise_is_statistically_thumbors(
    thumbor: str, app: App, amount: int, seed: int, source: str
) -> None:
    filter_text = f"noise({amount},{seed})"
    path = url(filter_text, source)
    clean = our_image(app, url("", source))
    theirs, ours = thumbor_image(thumbor, path), our_image(app, path)

    # The same offset is added to R, G and B: no colour noise, so R - G moves only where a
    # channel clips, and by as much on both sides.
    def red_minus_green(image: Image.Image) -> float:
        red, green = (image.convert("RGB").getchannel(c) for c in "RG")
        return float(ImageStat.Stat(ImageChops.subtract(red, green, 1.0, 128)).mean[0])

    assert red_minus_green(ours) == pytest.approx(red_minus_green(theirs), abs=1.0)
    their_mean, their_std = _residual_stats(theirs, clean)
    our_mean, our_std = _residual_stats(ours, clean)
    # Uniform on amount values: sd = amount / sqrt(12) (before clipping of the residual image at
    # +-128, which only the 200 case reaches). Both within 5% of each other.
    print(
        f"noise {filter_text} {source}: Thumbor {their_mean:.2f}±{their_std:.2f}, "
        f"ours {our_mean:.2f}±{our_std:.2f}"
    )
    assert our_std == pytest.approx(their_std, rel=0.05)
    assert abs(our_mean - their_mean) < max(1.0, amount * 0.02)
    # The picture under the noise is the same: smoothing averages the noise out.
    smooth = ImageFilter.GaussianBlur(4)
    assert psnr(theirs.filter(smooth), ours.filter(smooth)) >= 30.0
    # Seeded: the same pixels on every request (Thumbor too, within one process).
    assert psnr(ours, our_image(app, path)) == math.inf


@pytest.mark.parametrize("difference", DIFFERENCES, ids=lambda d: d.filter[:40])
def test_deliberate_differences(thumbor: str, app: App, difference: Difference) -> None:
    source = "astronaut.png"
    path = url(difference.filter, source)
    status, _, body = fetch(thumbor + path)
    unfiltered = our_image(app, url("", source))
    if difference.thumbor == "500":
        assert status == 500
    elif difference.thumbor == "black":
        assert status == 200
        assert decode(body).convert("RGB").getextrema() == ((0, 0),) * 3
    else:
        assert status == 200
        # Thumbor did apply a (different) curve.
        assert psnr(decode(body), unfiltered) < 40
    ours = our_image(app, path)
    if difference.ours == "ignored":
        assert psnr(ours, unfiltered) == math.inf
        strict = App(
            Settings(
                FILE_LOADER_ROOT_PATH=app.settings.FILE_LOADER_ROOT_PATH,
                RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None,
                STRICT_FILTERS=True,
            )
        )
        assert strict.handle(Request("GET", path)).status == 400
    elif difference.ours == "white":
        assert ours.convert("RGB").getextrema() == ((255, 255),) * 3
    else:
        assert difference.ours == "applied"
        expected = difference.filter.replace("1" + "0" * 200, "1000000").replace("007", "7")
        assert psnr(ours, our_image(app, url(expected, source))) == math.inf
        assert psnr(ours, unfiltered) < 40
