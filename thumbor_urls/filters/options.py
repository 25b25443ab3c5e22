"""Filters that only change the plan: output options and geometry flags (no pixels).

Thumbor runs quality(), format() and friends after the transform; they touch no pixels, so
running them while parsing is equivalent, and it lets the format and cache key be known
before the original is loaded.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from ..errors import UnsupportedImageFormat
from .params import Boolean, Choice, Number, PositiveNumber
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


@register("expire", Number("unix_ms"), phase=Phase.PRE_LOAD)
def expire(plan: Plan, unix_ms: int) -> Plan:
    """Refuse the URL (403 `UrlExpired`) after this moment, in UNIX milliseconds (imagor's
    filter); until then its `max-age` never outlasts it. Sign the URL, or anyone can change it."""
    # Several: the earliest wins, as in imagor.
    earlier = unix_ms if plan.output.expires is None else min(plan.output.expires, unix_ms)
    return plan.with_output(expires=earlier)


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


# Filters without arguments that set one flag of the plan, named like the filter.
_OUTPUT_FLAGS = {
    "strip_exif": "Drop EXIF metadata (already the default unless PRESERVE_EXIF_INFO).",
    "strip_icc": "Drop the ICC colour profile.",
    "cover": "Keep only the first frame of an animation.",
}
_GEOMETRY_FLAGS = {
    "stretch": "Resize to the exact size without cropping to the aspect ratio.",
    "upscale": "With fit-in, grow an image smaller than the box until it touches the box.",
    "no_upscale": "Never ask for more pixels than the original has on either side.",
}


def _register_flag(name: str, doc: str, geometry: bool) -> None:
    def set_flag(plan: Plan) -> Plan:
        if geometry:
            return plan.with_geometry(**{name: True})
        return plan.with_output(**{name: True})

    set_flag.__name__ = set_flag.__qualname__ = name
    set_flag.__doc__ = doc
    register(name, phase=Phase.PRE_LOAD)(set_flag)


for _name, _doc in _OUTPUT_FLAGS.items():
    _register_flag(_name, _doc, geometry=False)
for _name, _doc in _GEOMETRY_FLAGS.items():
    _register_flag(_name, _doc, geometry=True)
