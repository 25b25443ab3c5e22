"""Filters that put a colour behind the picture: fill() and background_color().

fill(color [, fill_transparent]) centres the result on a canvas of the requested size (after
fit-in), filled with a CSS colour name or a hex value, `transparent`, `auto` (the mean of the
picture's colours, rounded down as Thumbor does) or `blur` (the picture itself, blurred and
stretched over the canvas). With fill_transparent, transparent parts of the picture show the
fill too. background_color(color) shows the picture's transparent parts over a colour, and keeps
an opaque result in the frame's own mode, so a JPEG source stays RGB.
"""

from __future__ import annotations

from PIL import Image, ImageColor, ImageFilter, ImageStat

from ..budget import Cost, Frame
from .params import Boolean, Param
from .registry import CostContext, FilterContext, per_pixel, register


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
