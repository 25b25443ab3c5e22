"""Allow-lists of the sizes and qualities a URL may ask for (ALLOWED_WIDTHS, ALLOWED_HEIGHTS,
ALLOWED_QUALITIES), as Next.js's `images.deviceSizes`, `imageSizes` and `qualities`: every
distinct size is one more result to compute and store, so a public server may want a few.

A value outside a list is refused, not snapped to the nearest allowed one, as Next.js's server
does (400): snapping would serve one result under many URLs, each a cache entry of its own at
the CDN, which is what the lists are there to prevent. Rounding to an allowed value belongs where
the URL is written (Next.js's `<Image>` does it before it asks).
"""

from __future__ import annotations

from .config import Settings
from .errors import ImageServiceError
from .plan import Plan

# The ratios dpr() may multiply an allowed size by: client hints' DPR classes (hints.py) and
# dpr()'s largest. Any ratio would make any size again.
DPRS = frozenset({1.0, 1.5, 2.0, 3.0, 4.0})


class SizeNotAllowed(ImageServiceError):
    """A width or height written in the URL that is not one of `ALLOWED_WIDTHS` or
    `ALLOWED_HEIGHTS`, or with either list set, a `dpr()` other than 1, 1.5, 2, 3 or 4."""

    status, code = 400, "SizeNotAllowed"


class QualityNotAllowed(ImageServiceError):
    """A `quality()` that is not one of `ALLOWED_QUALITIES`."""

    status, code = 400, "QualityNotAllowed"


class Allowlists:
    def __init__(
        self, widths: tuple[int, ...], heights: tuple[int, ...], qualities: tuple[int, ...]
    ) -> None:
        self.widths = frozenset(widths)
        self.heights = frozenset(heights)
        self.qualities = frozenset(qualities)

    @classmethod
    def from_settings(cls, settings: Settings) -> Allowlists | None:
        """None when no list is set: then nothing is checked at all."""
        lists = (settings.ALLOWED_WIDTHS, settings.ALLOWED_HEIGHTS, settings.ALLOWED_QUALITIES)
        return cls(*lists) if any(lists) else None

    def check(self, plan: Plan) -> None:
        """SizeNotAllowed or QualityNotAllowed for what `plan` asks beyond the lists. Sizes are
        the URL's own, before dpr() or client hints multiply them by one of a few ratios; 0
        (keep the proportion) and `orig` always pass."""
        geometry = plan.geometry
        for side, value, allowed, setting in (
            ("width", geometry.width, self.widths, "ALLOWED_WIDTHS"),
            ("height", geometry.height, self.heights, "ALLOWED_HEIGHTS"),
        ):
            if allowed and isinstance(value, int) and value and value not in allowed:
                raise SizeNotAllowed(
                    f"a {side} of {value} is not allowed here ({setting}: {_listed(allowed)})"
                )
        ratio = geometry.dpr
        if (self.widths or self.heights) and ratio is not None and ratio not in DPRS:
            raise SizeNotAllowed(
                f"dpr({ratio:g}) is not allowed here: with ALLOWED_WIDTHS or ALLOWED_HEIGHTS, "
                "dpr() is 1, 1.5, 2, 3 or 4"
            )
        quality = plan.output.quality
        if self.qualities and quality is not None and quality not in self.qualities:
            raise QualityNotAllowed(
                f"quality({quality}) is not allowed here (ALLOWED_QUALITIES: "
                f"{_listed(self.qualities)})"
            )


def _listed(values: frozenset[int]) -> str:
    return ", ".join(str(value) for value in sorted(values))
