"""Filters that change the canvas: rotation and filling to the requested box."""

from __future__ import annotations

from PIL import Image, ImageColor, ImageFilter, ImageStat

from .registry import Bool, FilterContext, Int, Param, register

_ROTATIONS = {
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


@register("rotate", Int("angle"))
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


def _median_color(image: Image.Image) -> tuple[int, int, int, int]:
    red, green, blue = (int(v) for v in ImageStat.Stat(image.convert("RGB")).median)
    return red, green, blue, 255


def _blurred_background(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    # Blur a small copy: a radius-50 blur at full size costs far more and looks the same.
    small = image.convert("RGBA")
    small.thumbnail((max(1, image.width // 8), max(1, image.height // 8)))
    return small.filter(ImageFilter.GaussianBlur(50 / 8)).resize(size, Image.Resampling.BILINEAR)


@register("fill", _FILL_COLOR, Bool("fill_transparent", default=False))
def fill(image: Image.Image, ctx: FilterContext, color: str, fill_transparent: bool) -> Image.Image:
    """Centre the image on a canvas of the requested size filled with a colour."""
    width, height = ctx.canvas
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if color == "blur":
        canvas = _blurred_background(image, (width, height))
    elif color == "transparent":
        canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    else:
        rgba = _median_color(image) if color == "auto" else parse_color(color)
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
