"""Filters that add focal points before loading: focal() and extract_focal()."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..geometry import FocalPoint
from .registry import Phase, Str, register

if TYPE_CHECKING:
    from ..plan import Plan

_BOX = re.compile(r"(\d+)x(\d+):(\d+)x(\d+)")


@register("focal", Str("box", r"\d+x\d+:\d+x\d+"), phase=Phase.PRE_LOAD)
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
MAX_NESTING = 10


@register("extract_focal", phase=Phase.PRE_LOAD)
def extract_focal(plan: Plan) -> Plan:
    """The image is itself a Thumbor URL with a manual crop: load its original instead and make
    that crop a focal point, so a new crop keeps what the first one chose."""
    from ..url import parse_path  # noqa: PLC0415 - url imports the filters

    image = plan.image
    for _ in range(MAX_NESTING):
        image = _HOST.sub("", image, count=1)
        signed = _SIGNED.match(image)
        if not signed:
            return plan
        inner = parse_path(image[signed.end() :])
        crop = inner.geometry.crop
        if crop is not None:
            point = FocalPoint.from_square(
                crop.left, crop.top, crop.width, crop.height, origin="Original Extraction"
            )
            return plan._replace(image=inner.image, focal_points=(*plan.focal_points, point))
        image = inner.image
    return plan
