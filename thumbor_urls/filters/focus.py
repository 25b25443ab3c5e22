"""Filters that add focal points before loading: focal() and extract_focal()."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .. import grammar
from ..errors import InvalidFilterArgument
from ..geometry import FocalPoint
from .params import String
from .registry import Phase, register

if TYPE_CHECKING:
    from ..plan import Plan

_BOX = re.compile(r"(\d+)x(\d+):(\d+)x(\d+)")


@register("focal", String("box", r"\d+x\d+:\d+x\d+"), phase=Phase.PRE_LOAD)
def focal(plan: Plan, box: str) -> Plan:
    """Add a focal point: the box `LxT:RxB` in original pixels, weighted by its area."""
    match = _BOX.fullmatch(box)
    assert match is not None  # the parameter's pattern already guarantees it
    left, top, right, bottom = (int(v) for v in match.groups())
    if right <= left or bottom <= top:
        return plan
    point = FocalPoint.from_square(left, top, right - left, bottom - top, origin="Explicit")
    return plan._replace(focal_points=(*plan.focal_points, point))


# A leading `http(s)://host/` or `host:port/` in front of an embedded Thumbor URL.
_HOST = re.compile(r"^(?:https?://)?[^/]*[.:][^/]*/")
_SIGNED = re.compile(r"^(?:unsafe|[A-Za-z0-9_=-]{28})/")


@register("extract_focal", phase=Phase.PRE_LOAD)
def extract_focal(plan: Plan) -> Plan:
    """The image is itself a Thumbor URL with a manual crop: load its original instead and make
    that crop a focal point, so a new crop keeps what the first one chose.

    One level: the inner URL is read once (its filters are not run), and an inner URL that again
    names a Thumbor URL is refused, so the work stays linear in the URL's length."""
    inner = _thumbor_path(plan.image)
    if inner is None:
        return plan
    read = grammar.parse(inner)  # its filters are read, not bound
    crop, image = read.crop, read.image
    if _thumbor_path(image) is not None:
        raise InvalidFilterArgument("extract_focal(): the inner URL names another Thumbor URL")
    if crop is None:
        return plan
    point = FocalPoint.from_square(
        crop.left, crop.top, crop.width, crop.height, origin="Original Extraction"
    )
    return plan._replace(image=image, focal_points=(*plan.focal_points, point))


def _thumbor_path(image: str) -> str | None:
    """What follows `unsafe/` or a signature when `image` is a Thumbor URL, else None."""
    image = _HOST.sub("", image, count=1)
    signed = _SIGNED.match(image)
    return image[signed.end() :] if signed else None
