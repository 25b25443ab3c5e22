"""Filters that change the canvas: rotation and filling to the requested box."""

from __future__ import annotations

import re

from PIL import Image, ImageChops, ImageColor, ImageFilter, ImageStat

from ..budget import Cost, Frame
from .params import Boolean, DecimalNumber, Number, Param, PositiveNumber
from .registry import CostContext, FilterContext, per_pixel, register

_ROTATIONS = {
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


def _rotate_cost(frame: Frame, ctx: CostContext, angle: int) -> Cost:
    turned = angle % 180 == 90
    out = frame.sized(frame.height, frame.width) if turned else frame
    return Cost(out, 0, 5.0 * frame.pixels)


@register("rotate", Number("angle"), cost=_rotate_cost)
def rotate(image: Image.Image, ctx: FilterContext, angle: int) -> Image.Image:
    """Rotate counter-clockwise by a multiple of 90 degrees (others are ignored, as in Thumbor)."""
    if angle % 90:
        return image
    method = _ROTATIONS.get(angle % 360)
    return image.transpose(method) if method is not None else image


def parse_color(text: str) -> tuple[int, int, int, int]:
    """A CSS colour name or a hex value with or without `#`, as RGBA."""
    for candidate in (text, f"#{text}"):
        try:
            rgb = ImageColor.getrgb(candidate)
        except ValueError:
            continue
        return (*rgb[:3], rgb[3] if len(rgb) == 4 else 255)
    raise ValueError(f"{text!r} is not a colour")


def _parse_fill_color(text: str) -> str:
    lowered = text.strip("'").lower()
    if lowered in ("transparent", "auto", "blur"):
        return lowered
    parse_color(text)
    return text


_FILL_COLOR = Param("color", "color", _parse_fill_color)


def _mean_color(image: Image.Image) -> tuple[int, int, int, int]:
    # Thumbor's `auto` is the mean of every pixel's colour, rounded down.
    red, green, blue = (int(v) for v in ImageStat.Stat(image.convert("RGB")).mean)
    return red, green, blue, 255


def _blurred_background(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    # Blur a small copy: a radius-50 blur at full size costs far more and looks the same.
    small = image.convert("RGBA")
    small.thumbnail((max(1, image.width // 8), max(1, image.height // 8)))
    return small.filter(ImageFilter.GaussianBlur(50 / 8)).resize(size, Image.Resampling.BILINEAR)


def _fill_cost(frame: Frame, ctx: CostContext, color: str, fill_transparent: bool) -> Cost:
    canvas = Frame(*ctx.canvas, 4)
    # The frame converted to the canvas's mode; for blur, a blurred copy of it stretched over
    # the canvas too.
    transient = 4 * frame.pixels + (4 * frame.pixels + canvas.bytes if color == "blur" else 0)
    return Cost(canvas, transient, 10.0 * canvas.pixels + 20.0 * frame.pixels)


@register("fill", _FILL_COLOR, Boolean("fill_transparent", default=False), cost=_fill_cost)
def fill(image: Image.Image, ctx: FilterContext, color: str, fill_transparent: bool) -> Image.Image:
    """Centre the image on a canvas of the requested size filled with a colour."""
    width, height = ctx.canvas
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if color == "blur":
        canvas = _blurred_background(image, (width, height))
    elif color == "transparent":
        canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    else:
        rgba = _mean_color(image) if color == "auto" else parse_color(color)
        canvas = Image.new("RGBA" if has_alpha else "RGB", (width, height), rgba)
    if canvas.mode == "RGB" and image.mode != "RGB":
        image = image.convert("RGB")
    elif canvas.mode == "RGBA" and image.mode != "RGBA":
        image = image.convert("RGBA")
    position = ((width - image.width) // 2, (height - image.height) // 2)
    if fill_transparent and canvas.mode == "RGBA":
        canvas.alpha_composite(image, (max(position[0], 0), max(position[1], 0)))
    else:
        canvas.paste(image, position)
    return canvas


def _restore_mode(image: Image.Image, like: Image.Image) -> Image.Image:
    """Back to the frame's own mode when the result is opaque, so a JPEG source stays RGB."""
    if "A" in like.getbands() or image.mode == like.mode:
        return image
    alpha = image.getchannel("A").getextrema()
    return image.convert(like.mode if like.mode != "P" else "RGB") if alpha == (255, 255) else image


def _color_arg(text: str) -> str:
    parse_color(text)
    return text


@register("background_color", Param("color", "color", _color_arg), cost=per_pixel(8, 20))
def background_color(image: Image.Image, ctx: FilterContext, color: str) -> Image.Image:
    """Show transparent parts over this colour."""
    rgba = image.convert("RGBA")
    canvas = Image.new("RGBA", image.size, parse_color(color))
    canvas.alpha_composite(rgba)
    return _restore_mode(canvas, image)


def _round_corner_radii(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)(?:\|(\d+))?", text)
    if not match:
        raise ValueError(f"expected a radius `a` or `a|b`, got {text!r}")
    horizontal = int(match.group(1))
    return horizontal, int(match.group(2) or horizontal)


# The rounded mask is drawn this many times larger, then reduced: that is the antialiasing.
_SUPERSAMPLE = 4


@register(
    "round_corner",
    Param("radius", "a|b", _round_corner_radii),
    PositiveNumber("red", refuse=(0, 255)),
    PositiveNumber("green", refuse=(0, 255)),
    PositiveNumber("blue", refuse=(0, 255)),
    Boolean("transparent", default=False),
    # A mask drawn at 4x4 the size, its reduction, and three RGB(A) copies (measured 33 B/px).
    cost=per_pixel(32, 30, colour=True),
)
def round_corner(
    image: Image.Image,
    ctx: FilterContext,
    radius: tuple[int, int],
    red: int,
    green: int,
    blue: int,
    transparent: bool,
) -> Image.Image:
    """Round the corners with elliptical radii `a|b`, painting outside them in a colour (or
    making it transparent)."""
    width, height = image.size
    a = min(radius[0], width // 2)
    b = min(radius[1], height // 2)
    if a <= 0 or b <= 0:
        return image
    scale = _SUPERSAMPLE
    mask = Image.new("L", (width * scale, height * scale), 255)
    # ImageDraw (and the ImageFont it imports) costs ~6 ms of every cold start otherwise.
    from PIL import ImageDraw  # noqa: PLC0415

    draw = ImageDraw.Draw(mask)
    corner_w, corner_h = a * scale, b * scale
    for x, y in ((0, 0), (width * scale - corner_w, 0), (0, height * scale - corner_h),
                 (width * scale - corner_w, height * scale - corner_h)):  # fmt: skip
        draw.rectangle((x, y, x + corner_w - 1, y + corner_h - 1), fill=0)
    for x, y in ((0, 0), (width * scale - 2 * corner_w, 0), (0, height * scale - 2 * corner_h),
                 (width * scale - 2 * corner_w, height * scale - 2 * corner_h)):  # fmt: skip
        draw.ellipse((x, y, x + 2 * corner_w - 1, y + 2 * corner_h - 1), fill=255)
    mask = mask.reduce(scale)
    if transparent:
        # The corners fade out; their colour stays the picture's, so none of it can show.
        rgba = image.convert("RGBA")
        rgba.putalpha(ImageChops.multiply(rgba.getchannel("A"), mask))
        return rgba
    # The colour replaces R, G and B only: what was transparent stays transparent.
    has_alpha = "A" in image.getbands()
    base = image.convert("RGBA" if has_alpha else "RGB")
    rgb = base.convert("RGB")
    painted = Image.composite(rgb, Image.new("RGB", image.size, (red, green, blue)), mask)
    if has_alpha:
        painted.putalpha(base.getchannel("A"))
    return painted


def _proportion_cost(frame: Frame, ctx: CostContext, ratio: float) -> Cost:
    if not 0 < ratio <= 1:
        return Cost(frame, 0, 0.0)
    out = frame.sized(int(frame.width * ratio), int(frame.height * ratio))
    # The resampler's horizontal pass: the new width, the old height.
    return Cost(out, 4 * out.width * frame.height, 15.0 * frame.pixels)


@register("proportion", DecimalNumber("ratio"), cost=_proportion_cost)
def proportion(image: Image.Image, ctx: FilterContext, ratio: float) -> Image.Image:
    """Scale the result by a ratio in (0, 1]; other values are ignored, as in Thumbor."""
    if ratio <= 0 or ratio > 1.0:
        return image
    width, height = int(image.width * ratio), int(image.height * ratio)
    if width < 1 or height < 1:
        return image
    return image.resize((width, height), Image.Resampling.LANCZOS)
