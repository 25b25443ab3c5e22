"""Comparing our answers with Thumbor's: PSNR with Pillow only, and JSON numbers."""

from __future__ import annotations

import math

from PIL import Image, ImageChops, ImageStat

GREY = (128, 128, 128)


def flatten(image: Image.Image, background: tuple[int, int, int] = GREY) -> Image.Image:
    """The image composited on an opaque background, as RGB."""
    flat = Image.new("RGBA", image.size, (*background, 255))
    flat.alpha_composite(image.convert("RGBA"))
    return flat.convert("RGB")


def alpha(image: Image.Image) -> Image.Image:
    return image.convert("RGBA").getchannel("A")


def psnr_same_mode(a: Image.Image, b: Image.Image) -> float:
    """PSNR in dB of two images of one mode and size; inf when identical."""
    # ImageStat.sum2 is the sum of squares per band: of |a - b| here, so MSE = sum2 / pixels.
    stat = ImageStat.Stat(ImageChops.difference(a, b))
    mse = sum(stat.sum2) / (len(stat.sum2) * a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def psnr(a: Image.Image, b: Image.Image) -> float:
    """PSNR in dB: composited on grey, and the alpha channels on their own; the lower counts."""
    assert a.size == b.size, (a.size, b.size)
    return min(psnr_same_mode(flatten(a), flatten(b)), psnr_same_mode(alpha(a), alpha(b)))


def json_numbers(value: object) -> object:
    """JSON values with every number as a float: Thumbor writes 300.0 where we write 300."""
    if isinstance(value, dict):
        return {key: json_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_numbers(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value
