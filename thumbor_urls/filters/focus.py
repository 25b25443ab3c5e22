"""Filters that add focal points before loading: focal() and extract_focal()."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import grammar
from ..errors import InvalidFilterArgument
from ..geometry import FocalPoint
from .params import DECIMAL_NUMBER, DecimalNumber, Param
from .registry import FilterSpec, Phase, register

if TYPE_CHECKING:
    from ..plan import Plan

_BOX = re.compile(r"(\d+)x(\d+):(\d+)x(\d+)")
_FRACTION = re.compile(DECIMAL_NUMBER)


def _box_or_fraction(text: str) -> str | float:
    """Thumbor's pixel box `LxT:RxB` as written, or a fraction from 0 to 1 (focal(x,y))."""
    if len(text) >= 2 and text[0] == text[-1] == "'":  # Thumbor's String strips one pair
        text = text[1:-1]
    if _BOX.fullmatch(text):
        return text
    if _FRACTION.fullmatch(text):
        value = float(text)
        if 0.0 <= value <= 1.0:
            return value
        raise ValueError(f"a fraction must be from 0 to 1, got {text}")
    raise ValueError(f"expected a box LxT:RxB or a fraction from 0 to 1, got {text!r}")


class _FocalSpec(FilterSpec):
    """focal(LxT:RxB) as Thumbor has it, or focal(x,y): one form or the other, whole."""

    __slots__ = ()

    def bind(self, raw_args: Sequence[str]) -> tuple[Any, ...]:
        first, y = super().bind(raw_args)
        if isinstance(first, str) and y is not None:
            raise InvalidFilterArgument("focal(): a box LxT:RxB takes no second argument")
        if isinstance(first, float) and y is None:
            raise InvalidFilterArgument("focal(): a fraction x needs its y: focal(x,y)")
        return first, y


@register(
    "focal",
    Param("box or x", "LxT:RxB|DecimalNumber", _box_or_fraction),
    DecimalNumber("y", refuse=(0, 1), default=None),
    phase=Phase.PRE_LOAD,
    spec=_FocalSpec,
)
def focal(plan: Plan, box_or_x: str | float, y: float | None) -> Plan:
    """Add a focal point: the box `LxT:RxB` in original pixels, weighted by its area (Thumbor's),
    or the point `x,y` in fractions (0-1) of the original's upright width and height, which is
    the pixel box `focal(XxY:X+1xY+1)` of that point."""
    if isinstance(box_or_x, float):
        assert y is not None  # _FocalSpec.bind sees to it
        return plan._replace(relative_focal_points=(*plan.relative_focal_points, (box_or_x, y)))
    match = _BOX.fullmatch(box_or_x)
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
