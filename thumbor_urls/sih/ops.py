"""The sharp operations SIH's edits reach, on Pillow images (modes L, LA, RGB, RGBA), each as
close to sharp 0.34 (libvips 8.16) as Pillow alone gets: tests/peers/sih measures how close.
Colour operations that sharp does in CIE LAB (normalise, tint, modulate) go through littlecms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageChops, ImageCms, ImageFilter, ImageMath

Colour = tuple[int, int, int, int]  # r, g, b, alpha 0-255

# sharp's gravity names and strategies, as the offsets of a crop or embed (0, 0.5, 1).
POSITIONS: dict[str, tuple[float, float]] = {
    "centre": (0.5, 0.5),
    "center": (0.5, 0.5),
    "north": (0.5, 0),
    "top": (0.5, 0),
    "northeast": (1, 0),
    "right top": (1, 0),
    "top right": (1, 0),
    "east": (1, 0.5),
    "right": (1, 0.5),
    "southeast": (1, 1),
    "right bottom": (1, 1),
    "bottom right": (1, 1),
    "south": (0.5, 1),
    "bottom": (0.5, 1),
    "southwest": (0, 1),
    "left bottom": (0, 1),
    "bottom left": (0, 1),
    "west": (0, 0.5),
    "left": (0, 0.5),
    "northwest": (0, 0),
    "left top": (0, 0),
    "top left": (0, 0),
    # sharp's content-aware strategies: centred here (docs/sih.md).
    "entropy": (0.5, 0.5),
    "attention": (0.5, 0.5),
}
# sharp's numeric gravity constants (sharp.gravity.*), for positions given as numbers.
GRAVITY_NUMBERS = {
    0: "centre",
    1: "north",
    2: "east",
    3: "south",
    4: "west",
    5: "northeast",
    6: "southeast",
    7: "southwest",
    8: "northwest",
    16: "entropy",
    17: "attention",
}


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("LA", "RGBA")


def rgb_mode(image: Image.Image) -> Image.Image:
    """RGB or RGBA: every colour operation here works on three bands."""
    if image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if has_alpha(image) else "RGB")


def split_alpha(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    image = rgb_mode(image)
    if image.mode == "RGBA":
        return image.convert("RGB"), image.getchannel("A")
    return image, None


def join_alpha(colour: Image.Image, alpha: Image.Image | None) -> Image.Image:
    if alpha is None:
        return colour
    colour = colour.convert("RGB")
    colour.putalpha(alpha)
    return colour


def resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """sharp's default kernel is lanczos3; alpha is premultiplied while resampling."""
    if image.size == size:
        return image
    premultiplied = has_alpha(image)
    work = image.convert("RGBa") if image.mode == "RGBA" else image
    if image.mode == "LA":
        work = image.convert("La")
    out = work.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if premultiplied:
        out = out.convert(image.mode)
    return out


def embed(
    image: Image.Image, size: tuple[int, int], offset: tuple[int, int], background: Colour
) -> Image.Image:
    """The image on a canvas of `size` filled with `background`; an alpha channel is added when
    the background is not opaque (sharp's ApplyAlpha)."""
    image = rgb_mode(image)
    if background[3] < 255 and image.mode == "RGB":
        image = image.convert("RGBA")
    fill: tuple[int, ...] = background if image.mode == "RGBA" else background[:3]
    canvas = Image.new(image.mode, size, fill)
    canvas.paste(image, offset)
    return canvas


def rotate(image: Image.Image, angle: float, background: Colour) -> Image.Image:
    """Clockwise by any angle, the canvas grown to hold the result, filled with `background`."""
    turns = angle % 360
    right = {
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    if turns == 0:
        return image
    if turns in right:
        return image.transpose(right[int(turns)])
    image = rgb_mode(image)
    if background[3] < 255 and image.mode == "RGB":
        image = image.convert("RGBA")
    fill = background if image.mode == "RGBA" else background[:3]
    turned = image.rotate(-turns, Image.Resampling.BILINEAR, expand=True, fillcolor=fill)
    # libvips' canvas is the rotated box rounded; Pillow's, a pixel or two larger.
    radians = math.radians(turns)
    cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
    w, h = image.size
    size = (round(w * cos + h * sin), round(w * sin + h * cos))
    left, top = (turned.width - size[0]) // 2, (turned.height - size[1]) // 2
    return turned.crop((left, top, left + size[0], top + size[1]))


def flatten(image: Image.Image, background: Colour) -> Image.Image:
    if not has_alpha(image):
        return image
    image = rgb_mode(image)
    canvas = Image.new("RGBA", image.size, (*background[:3], 255))
    canvas.alpha_composite(image)
    return canvas.convert("RGB")


def greyscale(image: Image.Image) -> Image.Image:
    """Rec. 709 luminance in linear light, as libvips' sRGB -> B_W, kept as three bands."""
    colour, alpha = split_alpha(image)
    r, g, b = (_linear(band) for band in colour.split())
    y = ImageMath.lambda_eval(
        lambda m: m["r"] * 0.2126 + m["g"] * 0.7152 + m["b"] * 0.0722, r=r, g=g, b=b
    )
    del r, g, b
    grey = _encoded(y)
    return join_alpha(Image.merge("RGB", (grey, grey, grey)), alpha)


def grey_band(image: Image.Image) -> Image.Image:
    return greyscale(image).getchannel(0)


# sRGB's transfer curve as a power law (its linear toe is below one 8-bit step's difference).
def _linear(band: Image.Image) -> Image.Image:
    """An 8-bit sRGB band as linear light, 0-1, in floats (mode F)."""
    linear: Image.Image = ImageMath.lambda_eval(
        lambda m: ((m["v"] / 255.0 + 0.055) / 1.055) ** 2.4, v=band.convert("F")
    )
    return linear


def _encoded(linear: Image.Image) -> Image.Image:
    """Linear light (mode F, 0-1) back to an 8-bit sRGB band (rounded, clipped)."""
    encoded: Image.Image = ImageMath.lambda_eval(
        lambda m: (m["y"] ** (1 / 2.4) * 1.055 - 0.055) * 255.0 + 0.5, y=linear
    )
    return encoded.convert("L")


def negate(image: Image.Image, alpha: bool = True) -> Image.Image:
    image = rgb_mode(image)
    if image.mode == "RGBA" and not alpha:
        colour, mask = split_alpha(image)
        return join_alpha(ImageChops.invert(colour), mask)
    return (
        ImageChops.invert(image)
        if image.mode == "RGB"
        else Image.merge("RGBA", [ImageChops.invert(band) for band in image.split()])
    )


@lru_cache(maxsize=1)
def _lab_transforms() -> tuple[ImageCms.ImageCmsTransform, ImageCms.ImageCmsTransform]:
    srgb = ImageCms.createProfile("sRGB")
    lab = ImageCms.createProfile("LAB")
    return (
        ImageCms.buildTransform(srgb, lab, "RGB", "LAB"),
        ImageCms.buildTransform(lab, srgb, "LAB", "RGB"),
    )


def to_lab(colour: Image.Image) -> Image.Image:
    result = ImageCms.applyTransform(colour, _lab_transforms()[0])
    assert result is not None
    return result


def from_lab(lab: Image.Image) -> Image.Image:
    result = ImageCms.applyTransform(lab, _lab_transforms()[1])
    assert result is not None
    return result


def normalise(image: Image.Image, lower: float = 1, upper: float = 99) -> Image.Image:
    """Stretch the luminance (LAB's L) so that its `lower` and `upper` percentiles span it."""
    colour, alpha = split_alpha(image)
    lab = to_lab(colour)
    l_band, a_band, b_band = lab.split()
    histogram = l_band.histogram()
    total = sum(histogram)
    low = _percentile(histogram, total, lower)
    high = _percentile(histogram, total, upper)
    if high > low:
        scale = 255 / (high - low)
        l_band = l_band.point(lambda v: max(0, min(255, round((v - low) * scale))))
    return join_alpha(from_lab(Image.merge("LAB", (l_band, a_band, b_band))), alpha)


def _percentile(histogram: Sequence[int], total: int, percent: float) -> int:
    wanted = total * percent / 100
    seen = 0
    for value, count in enumerate(histogram):
        seen += count
        if seen >= wanted:
            return value
    return len(histogram) - 1


def tint(image: Image.Image, colour: Colour) -> Image.Image:
    """sharp's tint: the greyscale image through a table that keeps each grey's luminance
    (LAB's L) and gives it the tint's chroma (a, b), weighted 1 - 4 (L - 0.5)^2: full in the
    mid-tones, none at black and white."""
    rgb, alpha = split_alpha(image)
    tint_lab = to_lab(Image.new("RGB", (1, 1), colour[:3])).getpixel((0, 0))
    assert isinstance(tint_lab, tuple)
    greys = Image.new("L", (256, 1))
    greys.putdata(list(range(256)))
    lightness = to_lab(greys.convert("RGB")).getchannel(0)
    l_values = [int(v) for v in lightness.tobytes()]
    weights = [1 - 4 * (v / 255 - 0.5) ** 2 for v in l_values]
    a_band = Image.new("L", (256, 1))
    b_band = Image.new("L", (256, 1))
    a_band.putdata([round(128 + w * (tint_lab[1] - 128)) for w in weights])
    b_band.putdata([round(128 + w * (tint_lab[2] - 128)) for w in weights])
    table = from_lab(Image.merge("LAB", (lightness, a_band, b_band)))
    grey = grey_band(rgb)
    bands = [grey.point(list(table.getchannel(i).tobytes())) for i in range(3)]
    return join_alpha(Image.merge("RGB", bands), alpha)


def modulate(
    image: Image.Image, brightness: float, saturation: float, hue: float, lightness: float
) -> Image.Image:
    """sharp's modulate: in LCh, L * brightness + lightness, C * saturation, h + hue degrees."""
    rgb, alpha = split_alpha(image)
    l_band, a_band, b_band = to_lab(rgb).split()
    cos, sin = math.cos(math.radians(hue)), math.sin(math.radians(hue))
    scale = 255 / 100  # Pillow's L is 0-255 for L* 0-100
    l_out = l_band.point(lambda v: max(0, min(255, round(v * brightness + lightness * scale))))
    a = ImageMath.lambda_eval(lambda m: m["a"] - 128, a=a_band.convert("F"))
    b = ImageMath.lambda_eval(lambda m: m["b"] - 128, b=b_band.convert("F"))
    a_out = ImageMath.lambda_eval(
        lambda m: (m["a"] * cos - m["b"] * sin) * saturation + 128, a=a, b=b
    )
    b_out = ImageMath.lambda_eval(
        lambda m: (m["a"] * sin + m["b"] * cos) * saturation + 128, a=a, b=b
    )
    bands = (l_out, _clip_l(a_out), _clip_l(b_out))
    return join_alpha(from_lab(Image.merge("LAB", bands)), alpha)


def _clip_l(image: Image.Image) -> Image.Image:
    return image.convert("L")  # from floats: rounded and clipped to 0-255


def gamma(image: Image.Image, exponent: float) -> Image.Image:
    """Each colour band to the power `exponent` (alpha kept)."""
    table = [round(255 * (v / 255) ** exponent) for v in range(256)]
    colour, alpha = split_alpha(image)
    return join_alpha(colour.point(table * 3), alpha)


def blur(image: Image.Image, sigma: float | None) -> Image.Image:
    """A Gaussian of `sigma`, or sharp's mild 3x3 box blur for None."""
    if sigma is None:
        return _per_band(image, ImageFilter.BoxBlur(1))
    return _per_band(image, ImageFilter.GaussianBlur(sigma))


def sharpen(
    image: Image.Image, sigma: float | None, flat: float = 1.0, jagged: float = 2.0
) -> Image.Image:
    """sharp's mild 3x3 sharpen for None; otherwise an unsharp mask of `sigma`."""
    if sigma is None:
        kernel = ImageFilter.Kernel((3, 3), (-1, -1, -1, -1, 32, -1, -1, -1, -1), 24)
        return _per_band(image, kernel)
    percent = round(100 * max(flat, jagged) / 2)
    return _per_band(image, ImageFilter.UnsharpMask(sigma, percent, 2))


def median(image: Image.Image, size: int) -> Image.Image:
    return _per_band(image, ImageFilter.MedianFilter(size))


def threshold(image: Image.Image, level: int, grey: bool = True) -> Image.Image:
    """Pixels at or above `level` white, others black: of the greyscale, or band by band."""
    colour, alpha = split_alpha(image)
    table = [255 if v >= level else 0 for v in range(256)]
    if grey:
        value = grey_band(colour).point(table)
        out = Image.merge("RGB", (value, value, value))
    else:
        out = colour.point(table * 3)
    return join_alpha(out, alpha)


def _per_band(image: Image.Image, kernel: ImageFilter.Filter) -> Image.Image:
    """A filter on the colour bands, premultiplied by alpha when there is one."""
    if image.mode in ("RGBA", "LA"):
        premultiplied = image.convert("RGBa" if image.mode == "RGBA" else "La")
        bands = [band.filter(kernel) for band in premultiplied.split()]
        return Image.merge(premultiplied.mode, bands).convert(image.mode)
    return image.filter(kernel)


def composite(image: Image.Image, overlay: Image.Image, offset: tuple[int, int]) -> Image.Image:
    """`overlay` (RGBA) over the image at `offset`, which may be partly outside it."""
    base = rgb_mode(image)
    mode = base.mode
    canvas = base.convert("RGBA")
    canvas.alpha_composite(
        overlay,
        dest=(max(offset[0], 0), max(offset[1], 0)),
        source=(max(-offset[0], 0), max(-offset[1], 0)),
    )
    return canvas if mode == "RGBA" else canvas.convert("RGB")


def round_crop(
    image: Image.Image, centre: tuple[float, float], radii: tuple[float, float], keep_alpha: bool
) -> Image.Image:
    """Everything outside the ellipse transparent, or black when the format has no alpha."""
    from PIL import ImageDraw  # noqa: PLC0415 - only round crops draw

    scale = 4  # the ellipse's edge antialiased, drawn at four times the size
    mask = Image.new("L", (image.width * scale, image.height * scale), 0)
    (cx, cy), (rx, ry) = centre, radii
    box = ((cx - rx) * scale, (cy - ry) * scale, (cx + rx) * scale - 1, (cy + ry) * scale - 1)
    ImageDraw.Draw(mask).ellipse(box, fill=255)
    mask = mask.resize(image.size, Image.Resampling.BOX)
    colour, alpha = split_alpha(image)
    if alpha is not None:
        mask = ImageChops.multiply(mask, alpha)
    if keep_alpha:
        return join_alpha(colour, mask)
    black = Image.new("RGB", colour.size, (0, 0, 0))
    return Image.composite(colour, black, mask)


def trim_box(image: Image.Image, tolerance: int = 10) -> tuple[int, int, int, int] | None:
    """The box of what differs from the top-left pixel by more than `tolerance` (sharp's
    trim()), None when nothing does."""
    colour = rgb_mode(image).convert("RGB")
    corner = colour.getpixel((0, 0))
    assert isinstance(corner, tuple)
    difference = ImageChops.difference(colour, Image.new("RGB", colour.size, corner[:3]))
    grey = difference.convert("L").point(lambda v: 255 if v > tolerance else 0)
    box = grey.getbbox()
    if image.mode in ("RGBA", "LA"):
        opaque = image.getchannel(image.mode[-1]).point(lambda v: 255 if v > tolerance else 0)
        alpha_box = opaque.getbbox()
        if alpha_box is not None:
            box = (
                alpha_box
                if box is None
                else (
                    min(box[0], alpha_box[0]),
                    min(box[1], alpha_box[1]),
                    max(box[2], alpha_box[2]),
                    max(box[3], alpha_box[3]),
                )
            )
    return box
