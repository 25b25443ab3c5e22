"""saturation(change): scale each pixel's distance from its perceived brightness; 1 leaves the
image unchanged, 0 makes it grey, above 1 more saturated.

Thumbor's _saturation.c (after alienryderflex.com/saturation.html): p = sqrt(.299 r^2 + .587 g^2
+ .114 b^2), then c' = p + (c - p) x change for each of R, G and B, in float maths, truncated and
clamped. Here the same steps are Pillow's single-precision band maths. Grey frames have nothing
to change; alpha is kept.
"""

from __future__ import annotations

from PIL import Image

from ..budget import Cost, Frame
from .bands import band_math, merge_bands, split_alpha
from .c_arithmetic import f32
from .params import DecimalNumber
from .registry import CostContext, FilterContext, register


def _saturation_cost(frame: Frame, ctx: CostContext, change: float) -> Cost:
    # Three float bands, their perceived brightness and three changed ones (measured 40 B/px).
    transient = 44 * frame.pixels if frame.bands >= 3 else 0
    return Cost(frame, transient, 60.0 * frame.pixels)


# Thumbor's C overflows float->int conversion (undefined behaviour) long before this; at 1e6
# every pixel that is not exactly grey already saturates.
@register("saturation", DecimalNumber("change", clamp=(-1e6, 1e6)), cost=_saturation_cost)
def saturation(image: Image.Image, ctx: FilterContext, change: float) -> Image.Image:
    """Scale each pixel's distance from its perceived brightness (1 unchanged, 0 grey)."""
    bands, alpha = split_alpha(image)
    if len(bands) == 1:
        return image  # grey pixels are their own brightness: nothing to scale
    red, green, blue = (band.convert("F") for band in bands)
    # _saturation.c (after alienryderflex.com/saturation.html): p = sqrt(.299r^2 + .587g^2 +
    # .114b^2); c' = p + (c - p) * change; float maths, truncated and clamped (F -> L does both).
    perceived = band_math(
        lambda a: (
            (a["r"] * a["r"] * 0.299 + a["g"] * a["g"] * 0.587 + a["b"] * a["b"] * 0.114) ** 0.5
        ),
        r=red,
        g=green,
        b=blue,
    )
    k = f32(change)
    changed = [
        band_math(lambda a: a["p"] + (a["c"] - a["p"]) * k, p=perceived, c=band)
        for band in (red, green, blue)
    ]
    return merge_bands([band.convert("L") for band in changed], alpha)
