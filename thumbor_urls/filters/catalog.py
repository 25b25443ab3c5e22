"""The filter registry as JSON: what the playground builds its filter forms from (served by the
local server, written beside the deployed page), so that a new filter appears there without
touching the page."""

from __future__ import annotations

import math
from typing import Any

from .registry import REGISTRY, Param, Registry


def describe_param(param: Param) -> dict[str, Any]:
    """One parameter: its kind, whether it is required, and what a browser can check of it
    (`pattern`, a regex JavaScript reads the same way; `min`/`max` refused beyond; `choices`)."""
    low, high = param.refuse or (None, None)
    return {
        "name": param.name,
        "kind": param.kind,
        "required": param.required,
        "default": None if param.required else _plain(param.default),
        "pattern": param.pattern,
        "min": low,
        "max": high,
        "choices": list(param.choices) if param.choices else None,
    }


def describe(registry: Registry = REGISTRY) -> dict[str, Any]:
    """Every filter, by name: its phase, its usage line, its one-paragraph doc, its params."""
    return {
        "filters": [
            {
                "name": spec.name,
                "phase": spec.phase.value,
                "signature": spec.signature(),
                "doc": spec.doc,
                "params": [describe_param(param) for param in spec.params],
            }
            for spec in sorted(registry.specs.values(), key=lambda spec: spec.name)
        ]
    }


def _plain(value: Any) -> Any:
    """A default as JSON can hold it (no infinities; anything else as its text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)
