"""noise(amount [, seed]): add the same random offset in [-amount/2, amount/2) to R, G and B of
each pixel.

Thumbor's _noise.c draws `random() % amount - amount / 2` from the C library, re-seeded with
`seed` on every frame when seed > 0. We draw from Python's Mersenne Twister (31 bits a pixel,
the range of random()), so a seed gives the same picture on every request and every frame, with
the same distribution as Thumbor's, but not Thumbor's exact pixels. Alpha is kept.
"""

from __future__ import annotations

from PIL import Image

from ..budget import Cost
from .bands import band_math, merge_bands, split_alpha
from .c_arithmetic import INT_MAX
from .params import PositiveNumber
from .registry import FilterContext, register


@register(
    "noise",
    # Thumbor passes both through PyArg "i": larger values are a 500 there.
    PositiveNumber("amount", refuse=(0, INT_MAX)),
    PositiveNumber("seed", refuse=(0, INT_MAX), default=0),
    # Random bytes, their int32 image, the offsets, and each band in int32 (measured 21 B/px).
    cost=lambda frame, ctx, amount, seed: Cost(frame, 24 * frame.pixels, 40.0 * frame.pixels),
)
def noise(image: Image.Image, ctx: FilterContext, amount: int, seed: int) -> Image.Image:
    """Add the same random offset in [-amount/2, amount/2) to R, G and B of each pixel; a seed
    makes it repeatable."""
    if amount <= 1:  # random() % 1 - 0 is always 0; amount 0 is skipped by Thumbor
        return image
    bands, alpha = split_alpha(image)
    import random  # noqa: PLC0415 - noise() only; 1-2 ms of every cold start otherwise

    # Picture noise, not secrets: a seedable generator is the point.
    rng = random.Random(seed) if seed > 0 else random.Random()  # noqa: S311
    raw = Image.frombytes("I", bands[0].size, rng.randbytes(4 * bands[0].width * bands[0].height))
    half = amount >> 1
    offsets = band_math(lambda a: (a["n"] & INT_MAX) % amount - half, n=raw)
    # In int32 mode, so nothing wraps; converting I to L clamps to 0..255 (ADJUST_COLOR).
    noisy = [band_math(lambda a: a["b"] + a["n"], b=band, n=offsets).convert("L") for band in bands]
    return merge_bands(noisy, alpha)
