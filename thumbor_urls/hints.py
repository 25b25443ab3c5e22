"""Client hints (CLIENT_HINTS): the size picked from the device pixel ratio (`Sec-CH-DPR`, or the
older `DPR`) or from the image's rendered width (`Sec-CH-Width`, or `Width`).

A hint only fills in what the URL leaves open, so that a URL keeps meaning what it says:

- a URL that writes a size and no dpr() is asked for at the DPR class: its sizes times it;
- a URL that writes no size at all is asked for at the width class, never enlarged (the Width
  hint is in device pixels already, so the DPR does not multiply it again);
- anything else (dpr() in the URL, `orig`) consults no hint.

Hints are quantised into a few classes first (DPR 1, 1.5, 2, 3; ten widths from 160 to 3840,
each rounded up, never down, so that an image is never blurred by its class), so that caches
hold a few variants of a URL, not one per device. The CloudFront Function in
resources/cloudfront.yml does the same quantisation (tests/test_deploy_template.py runs it in
node against dpr_class() and width_class() on the same inputs), and the result cache keys on the
class used. Everything here but content_dpr() is pure arithmetic on text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import NamedTuple

from .config import Settings
from .plan import Plan

DPR_CLASSES = (1.0, 1.5, 2.0, 3.0)
WIDTH_CLASSES = (160, 240, 320, 480, 640, 960, 1280, 1920, 2560, 3840)
# What a hint's value may look like; anything else is no hint (the CloudFront Function uses the
# same expressions, so both read the same texts the same way).
_DPR_TEXT = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,6})?")
_WIDTH_TEXT = re.compile(r"[0-9]{1,6}")

DPR_HEADERS = ("Sec-CH-DPR", "DPR")
WIDTH_HEADERS = ("Sec-CH-Width", "Width")
# Sent with every image: a browser that loads an image URL as a page (or a page on this host)
# starts sending these. A page on another host must ask for them itself (docs/beyond-thumbor.md).
ACCEPT_CH = ", ".join((*DPR_HEADERS, *WIDTH_HEADERS))


def dpr_class(text: str) -> float | None:
    """The DPR class of a `Sec-CH-DPR` value: the smallest class at least the value (the
    largest above it); None for no valid positive value."""
    text = text.strip()
    if not _DPR_TEXT.fullmatch(text):
        return None
    value = float(text)
    if value <= 0:
        return None
    return next((c for c in DPR_CLASSES if value <= c), DPR_CLASSES[-1])


def width_class(text: str) -> int | None:
    """The width class of a `Sec-CH-Width` value (device pixels), as dpr_class() does it."""
    text = text.strip()
    if not _WIDTH_TEXT.fullmatch(text):
        return None
    value = int(text)
    if value <= 0:
        return None
    return next((c for c in WIDTH_CLASSES if value <= c), WIDTH_CLASSES[-1])


class Hints(NamedTuple):
    dpr: float | None = None
    width: int | None = None


def read(headers: Mapping[str, str]) -> Hints:
    """The classes of a request's hints (lower-case header names), the `Sec-CH-` header first,
    then the older one when the first is missing or not valid."""
    dpr = next(
        (c for name in DPR_HEADERS if (c := dpr_class(headers.get(name.lower(), ""))) is not None),
        None,
    )
    width = next(
        (
            c
            for name in WIDTH_HEADERS
            if (c := width_class(headers.get(name.lower(), ""))) is not None
        ),
        None,
    )
    return Hints(dpr, width)


def consulted(plan: Plan) -> str | None:
    """Which hint can change the answer to `plan`: "dpr", "width" or None (module docstring)."""
    geometry = plan.geometry
    if geometry.dpr is not None:
        return None
    sides = (geometry.width, geometry.height)
    if any(isinstance(side, int) and side > 0 for side in sides):
        return "dpr"
    if sides == (0, 0):
        return "width"
    return None


class Shaped(NamedTuple):
    """A plan with the hints it consults applied."""

    plan: Plan
    variant: str = ""  # part of the result's cache key: "" when it is the hint-less answer
    vary: tuple[str, ...] = ()  # the request headers the answer depends on
    dpr: float | None = None  # the DPR class applied, for Content-DPR


def shape(plan: Plan, hints: Hints, settings: Settings) -> Shaped:
    """`plan` as `hints` ask for it, within MAX_OUTPUT_SIDE and MAX_OUTPUT_PIXELS: a hint may
    not turn a URL that is served into one that is refused, so a DPR class that would pass the
    limits falls back to the largest class that does not."""
    which = consulted(plan)
    if which == "dpr":
        if hints.dpr is None:
            return Shaped(plan, vary=DPR_HEADERS)
        ratio = next(
            c for c in reversed(DPR_CLASSES) if c <= hints.dpr and _fits(plan, c, settings)
        )
        shaped = plan.with_geometry(dpr=ratio) if ratio != 1.0 else plan
        variant = f"dpr={ratio:g}" if ratio != 1.0 else ""
        return Shaped(shaped, variant, DPR_HEADERS, ratio)
    if which == "width":
        if hints.width is None:
            return Shaped(plan, vary=WIDTH_HEADERS)
        width = min(hints.width, settings.MAX_OUTPUT_SIDE)
        # Never enlarged: a hint says how much is needed, not that more pixels should be made.
        shaped = plan.with_geometry(width=width, no_upscale=True)
        return Shaped(shaped, f"w={width}", WIDTH_HEADERS)
    return Shaped(plan)


def _fits(plan: Plan, ratio: float, settings: Settings) -> bool:
    if ratio == 1.0:
        return True
    width, height = plan.with_geometry(dpr=ratio).geometry.requested
    sides = [side for side in (width, height) if isinstance(side, int)]
    if any(side > settings.MAX_OUTPUT_SIDE for side in sides):
        return False
    if isinstance(width, int) and isinstance(height, int):
        return width * height <= settings.MAX_OUTPUT_PIXELS
    return True


def effective_dpr(served: tuple[int, int], plan: Plan, ratio: float) -> float:
    """What the DPR class `ratio` made of the answer: the served size over the size the URL
    wrote, on the side that reached its box, at most `ratio` and at least 1 (a fit-in that left
    the image smaller than its box, at any class, did not use the ratio at all)."""
    written = (plan.geometry.width, plan.geometry.height)
    ratios = [
        served[index] / side
        for index, side in enumerate(written)
        if isinstance(side, int) and side > 0
    ]
    return round(max(1.0, min(ratio, max(ratios, default=1.0))), 2)


def answer(headers: dict[str, str], shaped: Shaped, body: bytes) -> None:
    """Add what a client-hints answer says: Accept-CH, the hints it varies on, and Content-DPR
    when a DPR hint chose the size (the served image's size read from its header)."""
    headers["Accept-CH"] = ACCEPT_CH
    if shaped.vary:
        vary = headers.get("Vary")
        headers["Vary"] = ", ".join([vary, *shaped.vary] if vary else shaped.vary)
    if shaped.dpr is not None:
        from PIL import Image  # noqa: PLC0415 - loaded already by then; not at import

        with Image.open(io.BytesIO(body)) as image:
            served = image.size
        headers["Content-DPR"] = f"{effective_dpr(served, shaped.plan, shaped.dpr):g}"
