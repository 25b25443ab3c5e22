"""Colour filters."""

from __future__ import annotations

from PIL import Image

from .registry import FilterContext, register


@register("grayscale")
def grayscale(image: Image.Image, ctx: FilterContext) -> Image.Image:
    """Grey levels only (alpha kept)."""
    return image.convert("LA" if "A" in image.getbands() else "L")
