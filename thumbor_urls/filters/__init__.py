"""Thumbor's filters. Importing this package registers all of them in REGISTRY."""

from . import (  # noqa: F401 - imported to register them
    blur,
    canvas,
    color,
    convolution,
    curve,
    density,
    equalize,
    fill,
    focus,
    frame,
    noise,
    options,
    round_corner,
    saturation,
    sharpen,
    smart,
    watermark,
)
from .registry import REGISTRY, BoundFilter, CostContext, FilterContext, IgnoredFilter, Phase

__all__ = ["REGISTRY", "BoundFilter", "CostContext", "FilterContext", "IgnoredFilter", "Phase"]
