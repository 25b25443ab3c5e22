"""The pixel filters: brightness, contrast, saturation, rgb, colorize, equalize, noise, blur,
sharpen, convolution and curve.

Parsing goes through the real URL parser (`parse_path(..., strict=True)`); effects are checked
on small synthetic images against expectations computed here from Thumbor's formulas (its C
sources, thumbor/ext/filters/_*.c), not by calling the filter code's own helpers.
"""

from __future__ import annotations

import math
import statistics

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat

from thumbor_urls.errors import InvalidFilterArgument
from thumbor_urls.filters import FilterContext
from thumbor_urls.filters.blur import gaussian_taps
from thumbor_urls.filters.c_arithmetic import c_sum
from thumbor_urls.filters.convolution import kernel_rows
from thumbor_urls.url import parse_path

# --- helpers ----------------------------------------------------------------------------------


def parse(text: str) -> tuple[object, ...]:
    plan = parse_path(f"filters:{text}/x.jpg", strict=True)
    assert len(plan.filters) == 1
    return plan.filters[0].args


def run(text: str, image: Image.Image) -> Image.Image:
    plan = parse_path(f"filters:{text}/x.jpg", strict=True)
    for bound in plan.filters:
        image = bound.spec.apply(image, FilterContext(image.size), *bound.args)
    return image


def all_values(mode: str = "L") -> Image.Image:
    """16x16: every byte value once in L; in RGB the green and blue bands run differently."""
    values = Image.frombytes("L", (16, 16), bytes(range(256)))
    if mode == "L":
        return values
    green = values.transpose(Image.Transpose.ROTATE_180)  # 255 - v
    blue = values.transpose(Image.Transpose.TRANSPOSE)
    alpha = Image.linear_gradient("L").resize((16, 16))
    if mode == "LA":
        return Image.merge("LA", (values, alpha))
    rgb = Image.merge("RGB", (values, green, blue))
    if mode == "RGBA":
        rgb.putalpha(alpha)
    return rgb


def band_bytes(image: Image.Image, band: str) -> list[int]:
    return list(image.getchannel(band).tobytes())


def texture(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A busy RGB picture (seeded noise over gradients): blur and sharpen have work to do."""
    noise = Image.effect_noise(size, 60)
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    red = ImageChops.add(noise, horizontal, scale=2.0)
    return Image.merge("RGB", (red, ImageChops.add(noise, vertical, scale=2.0), noise))


def level(image: Image.Image, xy: tuple[int, int]) -> int:
    """The value of a one-band pixel."""
    value = image.getpixel(xy)
    assert isinstance(value, int | float)
    return int(value)


def extrema(image: Image.Image) -> tuple[int, int]:
    low, high = image.getextrema()
    assert isinstance(low, int | float) and isinstance(high, int | float)
    return int(low), int(high)


def max_difference(a: Image.Image, b: Image.Image) -> int:
    """The largest difference in levels between two images, over every band."""
    return max(ImageChops.difference(a, b).tobytes())


def variance(image: Image.Image) -> float:
    return float(sum(ImageStat.Stat(image).var))


MODES = ("L", "LA", "RGB", "RGBA")


# --- parsing ----------------------------------------------------------------------------------

VALID = [
    ("brightness(20)", (20,)),
    ("brightness(-100)", (-100,)),
    ("brightness( 5 )", (5,)),
    ("brightness(150)", (100,)),  # beyond 100 every pixel saturates already: clamped
    ("contrast(30)", (30,)),
    ("contrast(-200)", (-200,)),
    ("contrast(5000)", (1032,)),  # the table is all 0/128/255 beyond: clamped
    ("contrast(-5000)", (-1232,)),
    ("saturation(1.5)", (1.5,)),
    ("saturation(-.5)", (-0.5,)),
    ("saturation(2.)", (2.0,)),
    ("saturation(0)", (0.0,)),
    ("saturation(99999999)", (1e6,)),
    ("rgb(10,-20,30)", (10, -20, 30)),
    ("rgb(200,0,-300)", (100, 0, -100)),
    ("colorize(10,20,30,ff0000)", (10, 20, 30, "ff0000")),
    ("colorize(0,100,50,'00FF80')", (0, 100, 50, "00FF80")),
    ("colorize(30000,0,0,000000)", (25600, 0, 0, "000000")),
    ("equalize()", ()),
    ("noise(20)", (20, 0)),
    ("noise(20,7)", (20, 7)),
    ("noise(0)", (0, 0)),
    ("noise(2147483647,2147483647)", (2147483647, 2147483647)),
    # Two points on one x: no division happens in Thumbor's spline either, a step at x = 5.
    (
        "curve([(5,5),(5,9)],[(0,0)],[(0,0)],[(0,0)])",
        (((5, 5), (5, 9)), ((0, 0),), ((0, 0),), ((0, 0),)),
    ),
    ("blur(3)", (3, 0.0)),
    ("blur(8,2)", (8, 2.0)),
    ("blur(4,-10.5)", (4, -10.5)),
    ("blur(007)", (7, 0.0)),  # Thumbor's PositiveNonZeroNumber allows leading zeros
    ("blur(150)", (150, 0.0)),
    ("blur(200)", (200, 0.0)),  # kernel radius 150, sigma 200: clamped when applied
    ("blur(99999999)", (1_000_000, 0.0)),
    ("sharpen(2,1,true)", (2.0, 1.0, True)),
    ("sharpen(1.5,0.5,False)", (1.5, 0.5, False)),
    ("sharpen(-1,3,1)", (-1.0, 3.0, True)),
    ("convolution(1;2;1;2;4;2;1;2;1,3,true)", ((1, 2, 1, 2, 4, 2, 1, 2, 1), 3, True)),
    ("convolution(1;2;1,3)", ((1, 2, 1), 3, True)),  # normalize defaults to true
    ("convolution(1.5;-2.;3,1,false)", ((1.5, -2.0, 3.0), 1, False)),
    ("convolution(" + ";".join(["1"] * 225) + ",15,true)", ((1.0,) * 225, 15, True)),
    (
        "curve([(0,0),(255,255)],[(0,0),(128,100),(255,255)],[(0,0),],[(7,9)])",
        (((0, 0), (255, 255)), ((0, 0), (128, 100), (255, 255)), ((0, 0),), ((7, 9),)),
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[v[0][:40] for v in VALID])
def test_valid_arguments(text: str, expected: tuple[object, ...]) -> None:
    assert parse(text) == expected


INVALID = [
    "brightness(+5)",  # Thumbor's Number is -?\d+: no plus sign
    "brightness(1.5)",
    "brightness()",
    "brightness(a)",
    "brightness(1,2)",
    "contrast(1.5)",
    "saturation(1e3)",  # no exponent in DecimalNumber
    "saturation(+1)",
    "saturation()",
    "rgb(1,2)",
    "rgb(1,2,3.5)",
    "colorize(-1,0,0,ff0000)",  # PositiveNumber
    "colorize(1,2,3,red)",  # bytearray.fromhex() in Thumbor
    "colorize(1,2,3,fff)",
    "colorize(1,2,3,#ff0000)",
    "colorize(1,2,3)",
    "equalize(1)",
    "noise()",
    "noise(-1)",
    "noise(2147483648)",  # a C int in Thumbor: a 500 there
    "noise(20,1.5)",
    "noise(20,-1)",
    "blur(0)",  # PositiveNonZeroNumber
    "blur(-1)",
    "blur(1.5)",
    "blur(3,1e2)",
    "sharpen(2,1)",
    "sharpen(2,1,TRUE)",  # only true/True/false/False/1/0
    "sharpen(a,1,true)",
    "convolution(1;2;1;2,2,true)",  # 4 cells: not an odd kernel
    "convolution(1;2;1,2,true)",  # 3 cells do not fill rows of 2
    "convolution(1;2;1;2;4;2,3,true)",  # 2 rows: even
    "convolution(1;2;1,0,true)",
    "convolution(1;a;1,3)",
    "convolution(1;;1,3)",
    "convolution(1;2;1,3,yes)",
    "convolution(" + ";".join(["1"] * 227) + ",227,true)",  # over MAX_KERNEL_CELLS (225)
    "convolution(" + "9" * 400 + ";1;1,3,false)",  # a cell too long for a double: infinite
    "curve([(0,0)(255,255)],[],[],[])",
    "curve([],[(0,0)],[(0,0)],[(0,0)])",  # empty: Thumbor reads uninitialised memory
    "curve([(0,0),(256,0)],[(0,0)],[(0,0)],[(0,0)])",  # Thumbor wraps 256 to 0
    "curve([(0,0),(5,5),(5,9)],[(0,0)],[(0,0)],[(0,0)])",  # repeated x: Thumbor divides by 0
    "curve([( 0,0)],[(0,0)],[(0,0)],[(0,0)])",  # no spaces in Thumbor's expression
    "curve([(0,0)],[(0,0)],[(0,0)])",
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_arguments_are_refused_when_strict(text: str) -> None:
    with pytest.raises(InvalidFilterArgument):
        parse_path(f"filters:{text}/x.jpg", strict=True)


@pytest.mark.parametrize("text", INVALID[:3] + INVALID[-6:])
def test_invalid_arguments_are_skipped_and_listed_by_default(text: str) -> None:
    plan = parse_path(f"filters:{text}:brightness(10)/x.jpg")
    assert [bound.name for bound in plan.filters] == ["brightness"]
    assert [ignored.text for ignored in plan.ignored_filters] == [text]


# --- every filter, every mode -------------------------------------------------------------------

EVERY_FILTER = [
    "brightness(20)",
    "contrast(30)",
    "saturation(2)",
    "rgb(10,-20,30)",
    "colorize(10,20,30,ff0000)",
    "equalize()",
    "noise(20,3)",
    "blur(2)",
    "sharpen(2,1,true)",
    "convolution(1;2;1;2;4;2;1;2;1,3,true)",
    "curve([(0,0),(255,255)],[(0,50),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)])",
]
# Thumbor's blur and convolution add up the alpha channel as well; the others leave it alone.
TOUCH_ALPHA = ("blur", "convolution")
PER_CHANNEL = ("rgb", "colorize", "curve")  # grey in, colour out (as Thumbor: RGB)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text", EVERY_FILTER)
def test_every_mode_works_and_alpha_is_kept(text: str, mode: str) -> None:
    source = all_values(mode)
    result = run(text, source)
    assert result.size == source.size
    has_alpha = mode.endswith("A")
    assert result.mode.endswith("A") == has_alpha
    if text.startswith(PER_CHANNEL):
        assert result.mode == ("RGBA" if has_alpha else "RGB")
    else:
        assert result.mode == mode
    if has_alpha and not text.startswith(TOUCH_ALPHA):
        assert result.getchannel("A").tobytes() == source.getchannel("A").tobytes()
    # all_values' histograms are already flat, so equalize rightly leaves them alone; grey has
    # no saturation to change.
    unchanged = text.startswith("equalize") or (text.startswith("saturation") and "RGB" not in mode)
    if not unchanged:
        assert result.convert(mode).tobytes() != source.tobytes(), "the filter did nothing"


# --- brightness, rgb, contrast, colorize: Thumbor's integer formulas ------------------------


def test_brightness_adds_a_percentage_of_255() -> None:
    # 255 * 20 / 100 = 51; 255 * -35 / 100 = -89.25, truncated toward zero (C) to -89.
    assert band_bytes(run("brightness(20)", all_values()), "L") == [
        min(v + 51, 255) for v in range(256)
    ]
    assert band_bytes(run("brightness(-35)", all_values()), "L") == [
        max(v - 89, 0) for v in range(256)
    ]
    assert run("brightness(100)", all_values()).getextrema() == (255, 255)
    assert run("brightness(0)", all_values()).tobytes() == all_values().tobytes()


def test_rgb_shifts_each_channel_by_its_own_percentage() -> None:
    source = all_values("RGB")
    result = run("rgb(10,-20,30)", source)
    # 25.5 -> 25, -51, 76.5 -> 76
    for band, delta in zip("RGB", (25, -51, 76), strict=True):
        expected = [min(max(v + delta, 0), 255) for v in band_bytes(source, band)]
        assert band_bytes(result, band) == expected
    grey = run("rgb(0,0,10)", Image.new("L", (2, 2), 100))
    assert grey.mode == "RGB" and grey.getpixel((0, 0)) == (100, 100, 125)


def test_contrast_stretches_around_128_with_c_division() -> None:
    # factor = (30 + 100)^2 / 100 = 169; v' = 169 * (v - 128) / 100 truncated toward zero.
    expected = [min(max(int(169 * (v - 128) / 100) + 128, 0), 255) for v in range(256)]
    assert band_bytes(run("contrast(30)", all_values()), "L") == expected
    # Python's floor division would give 126 for v = 127 (-1.69 -> -2); C gives 127.
    assert expected[127] == 127
    # factor (-60 + 100)^2 / 100 = 16
    flattened = band_bytes(run("contrast(-60)", all_values()), "L")
    assert flattened == [int(16 * (v - 128) / 100) + 128 for v in range(256)]
    # (v + 100)^2 is symmetric: -200 gives factor 100, the identity.
    assert run("contrast(-200)", all_values()).tobytes() == all_values().tobytes()


def test_colorize_blends_toward_the_fill_colour() -> None:
    source = all_values("RGB")
    result = run("colorize(50,0,100,ff8000)", source)
    red = [int((v * 50 + 255 * 50) / 100) for v in band_bytes(source, "R")]
    assert band_bytes(result, "R") == red
    assert band_bytes(result, "G") == band_bytes(source, "G")  # 0%: unchanged
    assert set(band_bytes(result, "B")) == {0}  # 100% of 0x00
    # Over 100% overshoots past the fill colour, clamped: 200% of white from v is 510 - v.
    over = run("colorize(200,0,0,ffffff)", source)
    assert band_bytes(over, "R") == [min(510 - v, 255) for v in band_bytes(source, "R")]


# --- saturation --------------------------------------------------------------------------------


def _perceived(red: int, green: int, blue: int) -> float:
    return math.sqrt(red * red * 0.299 + green * green * 0.587 + blue * blue * 0.114)


@pytest.mark.parametrize("change", [0.0, 0.5, 2.0, -1.0])
def test_saturation_scales_the_distance_from_perceived_brightness(change: float) -> None:
    source = all_values("RGB")
    result = run(f"saturation({change})", source)
    for pixel, changed in zip(
        source.get_flattened_data(), result.get_flattened_data(), strict=True
    ):
        assert isinstance(pixel, tuple) and isinstance(changed, tuple)
        p = _perceived(*pixel)
        expected = [min(max(int(p + (c - p) * change), 0), 255) for c in pixel]
        assert all(abs(a - b) <= 1 for a, b in zip(changed, expected, strict=True))


def test_saturation_one_is_the_identity_and_grey_has_nothing_to_change() -> None:
    source = all_values("RGB")
    assert max_difference(run("saturation(1)", source), source) <= 1
    assert run("saturation(0)", all_values("LA")).tobytes() == all_values("LA").tobytes()


# --- equalize ----------------------------------------------------------------------------------


def test_equalize_spreads_a_narrow_histogram_over_0_to_255() -> None:
    # 50 values 100..149, 4 pixels each: cdf(v) = 4 (v - 99), minimum 4, area 200;
    # v' = (cdf - 4) / (200 - 4) * 255 = (v - 100) / 49 * 255, truncated.
    narrow = Image.frombytes("L", (50, 4), bytes(range(100, 150)) * 4)
    result = run("equalize()", narrow)
    assert band_bytes(result, "L")[:50] == [int((v - 100) / 49 * 255) for v in range(100, 150)]
    assert result.getextrema() == (0, 255)


def test_equalize_keeps_thumbors_shared_minimum_quirk() -> None:
    # Thumbor stops looking for each channel's darkest count as soon as ANY channel has found
    # its own: here red's (10) comes first, so green keeps minimum 0 and is not stretched to 0.
    red = Image.frombytes("L", (4, 1), bytes([10, 20, 30, 40]))
    green = Image.frombytes("L", (4, 1), bytes([50, 60, 70, 80]))
    result = run("equalize()", Image.merge("RGB", (red, green, red)))
    assert band_bytes(result, "R") == [0, 85, 170, 255]  # (k - 1) / 3 * 255
    assert band_bytes(result, "G") == [63, 127, 191, 255]  # k / 4 * 255


def test_equalize_one_colour_channel_goes_black_as_in_thumbor() -> None:
    # 0/0 in Thumbor (a NaN stored into a byte: 0 on x86-64 and arm64); the channels whose
    # minimum was not searched get cdf / area * 255 = 255.
    flat = run("equalize()", Image.new("RGB", (4, 4), (10, 200, 90)))
    assert flat.getpixel((0, 0)) == (0, 255, 255)


# --- noise -------------------------------------------------------------------------------------


def test_noise_adds_the_same_uniform_offset_to_every_channel() -> None:
    source = Image.new("RGBA", (200, 100), (128, 100, 60, 77))
    result = run("noise(20,5)", source)
    red, green, blue, alpha = (band_bytes(result, band) for band in "RGBA")
    offsets = [r - 128 for r in red]
    # random() % 20 - 10: -10..9, uniformly.
    assert min(offsets) == -10 and max(offsets) == 9
    assert [g - 100 for g in green] == offsets and [b - 60 for b in blue] == offsets
    assert set(alpha) == {77}
    assert statistics.pstdev(offsets) == pytest.approx(math.sqrt((20**2 - 1) / 12), rel=0.05)
    assert statistics.fmean(offsets) == pytest.approx(-0.5, abs=0.3)


def test_noise_with_a_seed_is_deterministic_and_clamps() -> None:
    source = all_values("RGB")
    assert run("noise(30,9)", source).tobytes() == run("noise(30,9)", source).tobytes()
    assert run("noise(30,9)", source).tobytes() != run("noise(30,10)", source).tobytes()
    # amount 0 is skipped (Thumbor), and random() % 1 - 0 is always 0.
    assert run("noise(0)", source).tobytes() == source.tobytes()
    assert run("noise(1,3)", source).tobytes() == source.tobytes()
    # Offsets far beyond 255 saturate rather than wrap: nearly every pixel goes to 0 or 255.
    values = band_bytes(run("noise(100000,4)", Image.new("L", (64, 64), 128)), "L")
    extremes = sum(1 for v in values if v in (0, 255))
    assert extremes > 0.98 * len(values) and {0, 255} <= set(values)


# --- blur --------------------------------------------------------------------------------------


def _taps(radius: int, sigma: float) -> list[float]:
    weights = [math.exp(-(x * x) / (2 * sigma * sigma)) for x in range(-radius, radius + 1)]
    return [w / sum(weights) for w in weights]


def test_blur_of_a_point_is_the_truncated_separable_gaussian() -> None:
    point = Image.new("L", (21, 21), 0)
    point.putpixel((10, 10), 255)
    result = run("blur(3,1.5)", point)
    taps = _taps(3, 1.5)
    for dy in range(-4, 5):
        for dx in range(-4, 5):
            # Row pass, truncated to a byte, then the column pass, truncated again.
            row = int(255 * taps[dx + 3]) if abs(dx) <= 3 else 0
            expected = int(row * taps[dy + 3]) if abs(dy) <= 3 else 0
            assert abs(level(result, (10 + dx, 10 + dy)) - expected) <= 1, (dx, dy)


def test_blur_reduces_variance_and_keeps_flat_areas() -> None:
    busy = texture()
    assert variance(run("blur(2)", busy)) < 0.5 * variance(busy)
    assert variance(run("blur(6)", busy)) < variance(run("blur(2)", busy))
    # Normalised weights: a flat frame stays flat (within the truncation of one level).
    assert extrema(run("blur(5)", Image.new("L", (30, 20), 200))) in (
        (199, 199),
        (199, 200),
        (200, 200),
    )


def test_kernels_are_normalised_by_the_sum_c_makes() -> None:
    # _convolution.c adds the cells in order, uncompensated; Python's sum() compensates since
    # 3.12 (Lambda's runtime): 1e16 + 3 - 1e16 is 4 in C, 3 there.
    assert c_sum([1e16, 3.0, -1e16]) == 4.0
    assert kernel_rows([1e16, 3.0, -1e16], 3, True) == [[1e16 / 4, 3.0 / 4, -1e16 / 4]]
    # blur.py's generate_1d_matrix, then the same division: blur(6,2)'s 13 taps add up to one
    # bit less in C's order than compensated, which moves every normalised tap.
    two_sigma_squared = 2 * 2.0 * 2.0
    raw = [
        math.e ** -((x * x) / two_sigma_squared) / math.sqrt(two_sigma_squared * math.pi)
        for x in range(-6, 7)
    ]
    total = 0.0
    for tap in raw:
        total += tap
    assert gaussian_taps(6, 2.0) == [tap / total for tap in raw]


def test_blur_radius_stops_at_150_and_sigma_defaults_to_the_radius() -> None:
    step = Image.new("L", (400, 3), 0)
    step.paste(255, (200, 0, 400, 3))
    wide = band_bytes(run("blur(200)", step), "L")[:400]
    # Nearly flat weights (sigma 200 over 301 taps, ~1/301 each): the row pass gives pixel 51
    # two white taps (200 and 201), 1.7 -> 1, and pixel 52 three, 2.5 -> 2; pixels up to 49
    # reach no white pixel at all. The column pass then sums flat columns, where Thumbor's
    # double-precision sum of these weights lands just under the level: 1 -> 0 and 2 -> 1 (as
    # measured on Thumbor 7.8). An unclamped 401-tap kernel would give pixel 49 fifty white taps.
    assert wide[1] == wide[49] == wide[51] == 0 and wide[52] == 1
    # blur(3) is blur(3, 3): sigma defaults to the radius.
    busy = texture()
    assert run("blur(3)", busy).tobytes() == run("blur(3,3)", busy).tobytes()
    # A negative sigma squares to the same kernel.
    assert run("blur(4,-2)", busy).tobytes() == run("blur(4,2)", busy).tobytes()


def test_blur_smooths_alpha_too() -> None:
    edge = Image.new("RGBA", (20, 5), (255, 0, 0, 0))
    edge.paste((255, 0, 0, 255), (10, 0, 20, 5))
    alpha = band_bytes(run("blur(2)", edge), "A")[:20]
    assert alpha[8] > 0 and alpha[11] < 255 and alpha[0] == 0 and alpha[19] == 255


# --- sharpen -----------------------------------------------------------------------------------


def test_sharpen_adds_detail_and_keeps_flat_areas() -> None:
    soft = texture().filter(ImageFilter.GaussianBlur(1))
    edges = ImageFilter.FIND_EDGES
    sharpened = run("sharpen(2,1,false)", soft)
    assert variance(sharpened.filter(edges)) > 1.5 * variance(soft.filter(edges))
    # amount 0: every level has gain 1, and the levels add back up to the picture.
    assert max_difference(run("sharpen(0,1,false)", soft), soft) <= 1
    low, high = extrema(run("sharpen(5,1,true)", Image.new("L", (20, 20), 77)))
    assert 76 <= low <= high <= 77


def test_sharpen_luminance_only_leaves_the_colour_alone() -> None:
    soft = texture().filter(ImageFilter.GaussianBlur(1))

    def chroma_change(text: str) -> float:
        before = soft.convert("YCbCr")
        after = run(text, soft).convert("YCbCr")
        return sum(
            ImageStat.Stat(ImageChops.difference(before.getchannel(b), after.getchannel(b))).mean[0]
            for b in ("Cb", "Cr")
        )

    assert chroma_change("sharpen(3,1,true)") < 0.25 * chroma_change("sharpen(3,1,false)")


def test_sharpen_works_on_frames_smaller_than_its_widest_level() -> None:
    # Level 4 reaches 16 pixels away: Thumbor reads outside its buffer on such frames.
    tiny = all_values("RGB").resize((5, 3))
    assert run("sharpen(2,4,false)", tiny).size == (5, 3)
    assert level(run("sharpen(2,4,true)", Image.new("L", (1, 1), 9)), (0, 0)) in (8, 9)


# --- convolution -------------------------------------------------------------------------------


def test_convolution_identity_kernel_is_the_identity() -> None:
    for mode in MODES:
        source = all_values(mode)
        assert run("convolution(0;0;0;0;1;0;0;0;0,3,false)", source).tobytes() == source.tobytes()


def test_convolution_box_kernel_is_a_box_blur() -> None:
    busy = texture()
    for size in (3, 7, 9):  # 7 and 9: beyond Pillow's 3x3/5x5 Kernel
        box = run(f"convolution({';'.join(['1'] * size * size)},{size},true)", busy)
        # BoxBlur also repeats the edge pixels; it rounds where Thumbor truncates.
        reference = busy.filter(ImageFilter.BoxBlur(size // 2))
        assert max_difference(box, reference) <= 1


def test_convolution_is_not_mirrored_and_clamps_at_the_edges() -> None:
    source = all_values("RGBA")
    # Weight on the right neighbour: each pixel takes the value to its right.
    shifted = run("convolution(0;0;0;0;0;1;0;0;0,3,false)", source)
    width, height = source.size
    assert (
        shifted.crop((0, 0, width - 1, height)).tobytes()
        == source.crop((1, 0, width, height)).tobytes()
    )  # alpha moves too, as in Thumbor
    last = source.crop((width - 1, 0, width, height))
    assert shifted.crop((width - 1, 0, width, height)).tobytes() == last.tobytes()


def test_convolution_rectangular_kernels_and_normalisation() -> None:
    source = all_values()
    # 1 row x 3 columns, not normalised: the sum of three neighbours, clamped to 255.
    summed = band_bytes(run("convolution(1;1;1,3,false)", source), "L")
    row = list(range(16))  # the first row of all_values
    assert summed[1:15] == [min(row[x - 1] + row[x] + row[x + 1], 255) for x in range(1, 15)]
    # 3 rows x 1 column, normalised: (up + 2 * here + down) / 4, truncated.
    vertical = band_bytes(run("convolution(1;2;1,1,true)", source), "L")
    assert vertical[16 + 5] == int((5 + 2 * 21 + 37) / 4)
    # Negative results clamp to 0; a zero sum is not normalised.
    edges = run("convolution(-1;-1;-1;-1;8;-1;-1;-1;-1,3,true)", Image.new("L", (5, 5), 90))
    assert edges.getextrema() == (0, 0)


def _thumbor_correlation(band: Image.Image, cells: list[float], columns: int) -> list[int]:
    """_convolution.c, pixel by pixel in doubles (Python floats), in its own order: rows of
    the window, then columns, coordinates clamped into the band, (int) then ADJUST_COLOR."""
    width, height = band.size
    pixels = list(band.tobytes())
    rows = len(cells) // columns
    out = []
    for y in range(height):
        for x in range(width):
            total = 0.0
            for ky in range(rows):
                sy = min(max(y + ky - rows // 2, 0), height - 1)
                for kx in range(columns):
                    sx = min(max(x + kx - columns // 2, 0), width - 1)
                    total += pixels[sy * width + sx] * cells[ky * columns + kx]
            out.append(min(max(int(total), 0), 255))
    return out


def _normalised(cells: list[float]) -> list[float]:
    total = sum(cells)
    return [cell / total for cell in cells] if total != 0.0 else cells


# Kernels cut into 3x3 chunks in every way: one chunk, a partial edge of chunks, 2-D grids of
# chunks with mixed signs (which need lifting above 0), long 1-D ones, and weights too large
# for 16 fraction bits (decoded another way).
_KERNELS = [
    ([1.0, 2, 1, 2, 4, 2, 1, 2, 1], 3, True),
    ([-1.0, -1, -1, -1, 8, -1, -1, -1, -1], 3, False),
    (
        [1.0, *[0] * 7, 2, *[0] * 8, 3, 0, 0, 1, *[0] * 5, 4, *[0] * 7, 5],
        7,
        True,
    ),
    ([math.sin(i) * 3 - 0.5 for i in range(225)], 15, False),
    ([math.cos(i) + 0.8 for i in range(225)], 15, True),
    ([1.0] * 25, 25, True),
    ([float(i % 4) for i in range(31)], 1, True),
    ([60.0, -50, 30, -40, 7, -20, 10, -5, 9], 3, False),  # Σ|w| 231: not in 16 fraction bits
    ([(i % 3 - 1) * (i + 1) * 9.0 for i in range(25)], 5, False),  # and in 4 chunks
    ([1e7, -1e7, 3e6, 0, 5, 0, -3e6, 2, 1], 3, False),
]


@pytest.mark.parametrize(("cells", "columns", "normalize"), _KERNELS)
def test_convolution_matches_thumbors_double_arithmetic(
    cells: list[float], columns: int, normalize: bool
) -> None:
    source = texture((29, 19))
    source.putalpha(Image.linear_gradient("L").resize((29, 19)))
    text = ";".join(repr(c) if c != int(c) else str(int(c)) for c in cells)
    result = run(f"convolution({text},{columns},{str(normalize).lower()})", source)
    kernel = _normalised(cells) if normalize else cells
    for band in "RGBA":
        expected = _thumbor_correlation(source.getchannel(band), kernel, columns)
        ours = band_bytes(result, band)
        # Single precision against doubles: a sum within ~1e-5 of an integer may truncate to
        # the other side, so some pixels may be one level off, never more. Exact integers are
        # common where whole-number weights meet a ramp (the alpha gradient here: up to 5%),
        # and Thumbor's doubles land on either side of them.
        off = [abs(a - b) for a, b in zip(ours, expected, strict=True)]
        assert max(off) <= 1 and sum(off) <= len(off) // 15, band


def _gaussian(radius: int, sigma: float) -> list[float]:
    """blur.py's generate_1d_matrix (the C code then normalises it)."""
    weights = [math.e ** -((x * x) / float(2 * sigma * sigma)) for x in range(-radius, radius + 1)]
    return [w / math.sqrt(float(2 * sigma * sigma) * math.pi) for w in weights]


@pytest.mark.parametrize(
    ("radius", "sigma"),
    [(2, 2.0), (3, 3.0), (6, 2.0), (8, 2.0), (4, -10.5), (20, 20.0), (150, 40.0), (150, 150.0)],
)
def test_blur_of_a_flat_area_lands_where_thumbors_doubles_do(radius: int, sigma: float) -> None:
    """Over a flat area the normalised sum is the level itself in exact arithmetic; Thumbor's
    doubles land a hair above or below it, so (int) gives v or v - 1 depending on v and the
    weights. Both passes see flat rows/columns, so the expectation is that table twice."""
    taps = _normalised(_gaussian(radius, sigma))

    def flat(value: int) -> int:
        total = 0.0
        for tap in taps:
            total += value * tap
        return int(total)

    for value in range(256):
        result = run(f"blur({radius},{sigma})", Image.new("L", (7, 5), value))
        assert set(band_bytes(result, "L")) == {flat(flat(value))}, value


@pytest.mark.parametrize(
    ("radius", "sigma", "size"),
    [
        (1, 1.0, (23, 17)),  # 3 and 9 taps: chunks with no zero cells at the ends
        (4, 4.0, (23, 17)),
        (6, 2.0, (29, 19)),
        (7, 3.0, (9, 31)),
        (3, 3.0, (1, 1)),
        (5, 1.5, (2, 3)),
    ],
)
def test_blur_matches_thumbors_double_arithmetic(
    radius: int, sigma: float, size: tuple[int, int]
) -> None:
    source = texture(size)
    # Not a ramp: a symmetric kernel sums a linear ramp to exactly its centre level, where
    # Thumbor's doubles land on either side (the flat-area case, unpredictable off flat areas).
    source.putalpha(source.getchannel("G").transpose(Image.Transpose.ROTATE_180))
    taps = _normalised(_gaussian(radius, sigma))
    result = run(f"blur({radius},{sigma})", source)
    for band in "RGBA":
        across = Image.new("L", size)
        across.putdata(_thumbor_correlation(source.getchannel(band), taps, len(taps)))
        expected = _thumbor_correlation(across, taps, 1)
        # As for convolution: a sum within ~1e-5 of an integer may truncate to the other side.
        off = [abs(a - b) for a, b in zip(band_bytes(result, band), expected, strict=True)]
        assert max(off) <= 1 and sum(off) <= len(off) // 15, band


# --- curve -------------------------------------------------------------------------------------


def _c_round(value: float) -> int:
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


IDENTITY_CURVE = "[(0,0),(255,255)]"


def test_curve_identity_and_straight_lines() -> None:
    source = all_values("RGB")
    identity = f"curve({IDENTITY_CURVE},{IDENTITY_CURVE},{IDENTITY_CURVE},{IDENTITY_CURVE})"
    assert run(identity, source).tobytes() == source.tobytes()
    # Two points: the spline is the straight line, rounded half away from zero.
    half = run(
        f"curve([(0,0),(255,127)],{IDENTITY_CURVE},{IDENTITY_CURVE},{IDENTITY_CURVE})", source
    )
    assert band_bytes(half, "R") == [_c_round(v * 127 / 255) for v in band_bytes(source, "R")]


def test_curve_passes_through_its_points_and_is_flat_outside_them() -> None:
    source = all_values()
    result = band_bytes(
        run(
            f"curve([(50,20),(128,200),(200,220)],{IDENTITY_CURVE},{IDENTITY_CURVE},{IDENTITY_CURVE})",
            source,
        ),
        "R",  # grey in, RGB out (as in Thumbor)
    )
    assert result[128] == 200 and result[50] == 20
    assert set(result[:50]) == {20} and set(result[200:]) == {220}
    # A natural cubic may overshoot between points (Thumbor's too): 221 near x = 155.
    assert max(result[128:200]) > 220
    # Natural cubic through three points: at x = 89 (t = 0.5 in the first segment).
    h, t = 78, 0.5
    m1 = (
        6 * ((220 - 200) / 72 - (200 - 20) / 78) / (2 * (72 + 78))
    )  # second derivative at the middle point (natural ends: 0)
    expected = (1 - t) * 20 + t * 200 + h * h / 6 * ((t**3 - t) * m1)
    assert result[89] == _c_round(expected)


def test_curve_channel_curves_apply_before_the_common_curve() -> None:
    source = all_values("RGBA")
    invert_red = run(
        f"curve([(0,0),(255,128)],[(0,255),(255,0)],{IDENTITY_CURVE},{IDENTITY_CURVE})", source
    )
    common = [_c_round(v * 128 / 255) for v in range(256)]
    assert band_bytes(invert_red, "R") == [common[255 - v] for v in band_bytes(source, "R")]
    assert band_bytes(invert_red, "G") == [common[v] for v in band_bytes(source, "G")]
    assert band_bytes(invert_red, "A") == band_bytes(source, "A")
