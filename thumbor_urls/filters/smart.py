"""Filters that need the detectors or the moderation backend: smart_crop() and moderate().

Both only record the request on the plan (they run before loading, so the result cache key
covers them); the pipeline's detect and moderate steps do the work once pixels exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import InvalidFilterArgument
from ..geometry import Box
from ..plan import Moderation, Plan, SmartCrop
from .params import DecimalNumber, Number, String
from .registry import Phase, register

if TYPE_CHECKING:
    from ..detectors import Region


# Any whole number parses, so that an index or padding out of range is always a 400 naming
# the problem, never a silently skipped filter (the image's faces are known only later).
@register(
    "smart_crop",
    Number("face_index", default=0),
    Number("padding", default=0),
    phase=Phase.PRE_LOAD,
)
def smart_crop(plan: Plan, face_index: int, padding: int) -> Plan:
    """Crop to one detected face (0 is the first) with `padding` pixels around it, like AWS's
    Serverless Image Handler's smartCrop; the resize then applies to that crop."""
    return plan._replace(smart_crop=SmartCrop(face_index, padding))


@register(
    "moderate",
    DecimalNumber("min_confidence", refuse=(0.0, 100.0), default=None),
    String("labels", r"[^|]+(\|[^|]+)*", default=""),
    phase=Phase.PRE_LOAD,
)
def moderate(plan: Plan, min_confidence: float | None, labels: str) -> Plan:
    """Moderate this image: blur it when the backend finds labels at `min_confidence` or more
    (of the `|`-separated `labels` only, when given)."""
    names = tuple(name.strip() for name in labels.split("|") if name.strip())
    return plan._replace(moderation=Moderation(min_confidence, names))


def face_box(faces: Sequence[Region], size: tuple[int, int], face_index: int, padding: int) -> Box:
    """The face's box grown by `padding` on every side, in working-image pixels; 400 when the
    face does not exist or the padding leaves the image (as AWS's handler answers)."""
    if not faces:
        raise InvalidFilterArgument("smart_crop(): no face was found in this image")
    if not 0 <= face_index < len(faces):
        raise InvalidFilterArgument(
            f"smart_crop(): face_index {face_index} is out of range; this image has "
            f"{len(faces)} face(s), numbered from 0"
        )
    if padding < 0:
        raise InvalidFilterArgument(f"smart_crop(): padding must be 0 or more, got {padding}")
    face = faces[face_index]
    left = round(face.left) - padding
    top = round(face.top) - padding
    right = round(face.left + face.width) + padding
    bottom = round(face.top + face.height) + padding
    width, height = size
    if left < 0 or top < 0 or right > width or bottom > height:
        raise InvalidFilterArgument(
            f"smart_crop(): a padding of {padding} pixels leaves the image around face "
            f"{face_index} (box {left},{top},{right},{bottom} in a {width}x{height} image); "
            "choose a smaller padding"
        )
    return Box(left, top, right, bottom)
