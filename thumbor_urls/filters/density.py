"""dpr(): the requested size for a screen with more device pixels than CSS pixels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .params import DecimalNumber
from .registry import Phase, register

if TYPE_CHECKING:
    from ..plan import Plan

# Beyond 4 no screen gains anything, and each step multiplies the pixels by its square.
MAX_DPR = 4


@register("dpr", DecimalNumber("ratio", refuse=(1, MAX_DPR)), phase=Phase.PRE_LOAD)
def dpr(plan: Plan, ratio: float) -> Plan:
    """Multiply the width and height written in the URL by `ratio` (1-4), as the `2x` of a
    srcset asks: the crop and fit-in arithmetic then runs on the larger size, and the output
    limits (MAX_OUTPUT_SIDE, MAX_OUTPUT_PIXELS) apply to it. Filter arguments in pixels are not
    multiplied. Client hints never override it."""
    return plan.with_geometry(dpr=ratio)
