"""Filters that only change the plan: output options and geometry flags (no pixels).

Thumbor runs quality(), format() and friends after the transform; they touch no pixels, so
running them while parsing is equivalent, and it lets the format and cache key be known
before the original is loaded.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from ..errors import UnsupportedImageFormat
from .params import Boolean, Choice, PositiveNumber
from .registry import Phase, register

if TYPE_CHECKING:
    from ..plan import Plan

FORMATS = ("jpeg", "jpg", "png", "gif", "webp", "avif", "heic", "heif")


@register("quality", PositiveNumber("quality", refuse=(0, 100)), phase=Phase.PRE_LOAD)
def quality(plan: Plan, value: int) -> Plan:
    """Encoder quality, 0-100."""
    return plan.with_output(quality=value)


@register("format", Choice("format", FORMATS), phase=Phase.PRE_LOAD)
def output_format(plan: Plan, value: str) -> Plan:
    """Output format, whatever the source's."""
    value = "jpeg" if value == "jpg" else value
    if value in ("heic", "heif") and importlib.util.find_spec("pillow_heif") is None:
        raise UnsupportedImageFormat(
            f"format({value}) needs the optional extra pillow-heif, which is not installed"
        )
    return plan.with_output(format=value)


@register("max_age", PositiveNumber("seconds"), phase=Phase.PRE_LOAD)
def max_age(plan: Plan, seconds: int) -> Plan:
    """Cache-Control max-age for this response."""
    return plan.with_output(max_age=seconds)


@register("strip_exif", phase=Phase.PRE_LOAD)
def strip_exif(plan: Plan) -> Plan:
    """Drop EXIF metadata (already the default unless PRESERVE_EXIF_INFO)."""
    return plan.with_output(strip_exif=True)


@register("strip_icc", phase=Phase.PRE_LOAD)
def strip_icc(plan: Plan) -> Plan:
    """Drop the ICC colour profile."""
    return plan.with_output(strip_icc=True)


@register("stretch", phase=Phase.PRE_LOAD)
def stretch(plan: Plan) -> Plan:
    """Resize to the exact size without cropping to the aspect ratio."""
    return plan.with_geometry(stretch=True)


@register("upscale", phase=Phase.PRE_LOAD)
def upscale(plan: Plan) -> Plan:
    """With fit-in, grow an image smaller than the box until it touches the box."""
    return plan.with_geometry(upscale=True)


@register("no_upscale", phase=Phase.PRE_LOAD)
def no_upscale(plan: Plan) -> Plan:
    """Never ask for more pixels than the original has on either side."""
    return plan.with_geometry(no_upscale=True)


@register("autojpg", Boolean("enabled", default=True), phase=Phase.PRE_LOAD)
def autojpg(plan: Plan, enabled: bool) -> Plan:
    """Write a PNG without transparency as JPEG (overrides AUTO_PNG_TO_JPG)."""
    return plan.with_output(auto_jpg=enabled)


# Re-encoding to fit costs one encode per step of a binary search over quality; the bound keeps a
# tiny budget from turning into a long loop, and a budget this small cannot be met by quality.
MIN_MAX_BYTES = 128


@register("max_bytes", PositiveNumber("bytes", refuse=(MIN_MAX_BYTES, None)), phase=Phase.PRE_LOAD)
def max_bytes(plan: Plan, value: int) -> Plan:
    """Lower the quality until the encoded image fits in this many bytes (JPEG, WebP, AVIF)."""
    return plan.with_output(max_bytes=value)


@register("cover", phase=Phase.PRE_LOAD)
def cover(plan: Plan) -> Plan:
    """Keep only the first frame of an animation."""
    return plan.with_output(cover=True)
