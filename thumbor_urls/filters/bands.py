"""The bands of a frame, for the pixel filters: Thumbor's C filters work on RGB(A) bytes.

Filters whose result depends on one channel value at a time become 256-entry lookup tables for
`Image.point()` (`map_channels`); the others work band by band, in Pillow's C band maths
(`band_math`). Alpha is left alone unless a filter says otherwise, as in Thumbor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image, ImageMath

Lut = list[int]
IDENTITY: Lut = list(range(256))


def band_math(expression: Callable[[dict[str, Any]], Any], **bands: Image.Image) -> Image.Image:
    """`ImageMath.lambda_eval`, typed: whole-band arithmetic in C (I or F modes)."""
    result = ImageMath.lambda_eval(expression, **bands)
    if not isinstance(result, Image.Image):
        raise TypeError("band maths gave no image")
    return result


def normalise(image: Image.Image) -> Image.Image:
    """L, LA, RGB or RGBA (frames normally arrive so; anything else converts like Thumbor's
    `image_data_as_rgb`)."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def as_colour(image: Image.Image) -> Image.Image:
    """RGB or RGBA: for filters that treat the three channels differently (Thumbor converts
    every frame to RGB(A) before a pixel filter, so grey frames come out as RGB there too)."""
    image = normalise(image)
    if image.mode == "L":
        return image.convert("RGB")
    if image.mode == "LA":
        return image.convert("RGBA")
    return image


def split_alpha(image: Image.Image) -> tuple[list[Image.Image], Image.Image | None]:
    """The colour bands (one for L/LA, three for RGB/RGBA) and the alpha band, if any."""
    bands = list(normalise(image).split())
    alpha = bands.pop() if len(bands) in (2, 4) else None
    return bands, alpha


def merge_bands(bands: Sequence[Image.Image], alpha: Image.Image | None) -> Image.Image:
    mode = ("L" if len(bands) == 1 else "RGB") + ("A" if alpha is not None else "")
    return Image.merge(mode, [*bands, *([alpha] if alpha is not None else [])])


def map_channels(image: Image.Image, *luts: Lut) -> Image.Image:
    """Apply one table to every colour channel, or one table per R, G, B; alpha is kept."""
    image = normalise(image) if len(luts) == 1 else as_colour(image)
    colour_bands = 1 if image.mode in ("L", "LA") else 3
    tables = list(luts) * colour_bands if len(luts) == 1 else list(luts)
    if image.mode in ("LA", "RGBA"):
        tables.append(IDENTITY)
    return image.point([entry for table in tables for entry in table])
