"""Thumbor's filters. Importing this package registers all of them in REGISTRY."""

from . import canvas, color, curve, effects, focus, options, overlay, smart  # noqa: F401 - imported to register them
from .registry import REGISTRY, BoundFilter, CostContext, FilterContext, IgnoredFilter, Phase

__all__ = ["REGISTRY", "BoundFilter", "CostContext", "FilterContext", "IgnoredFilter", "Phase"]
