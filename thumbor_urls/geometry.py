"""Size arithmetic, exactly as Thumbor 7.8's transformer does it, with no pixels involved.

Everything here is a pure function of sizes, so the whole geometry of a request is known from
the image header alone; that is what lets the decoder shrink JPEGs while decoding (`draft`)
even when the request crops. The rounding quirks are Thumbor's and are kept on purpose: the
same URL must give the same output size as Thumbor.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

Dimension = int | Literal["orig"]
Size = tuple[int, int]

ALIGNMENT = {"left": 0.0, "center": 0.5, "right": 1.0, "top": 0.0, "middle": 0.5, "bottom": 1.0}


class Box(NamedTuple):
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def shifted(self, dx: int, dy: int) -> Box:
        return Box(self.left + dx, self.top + dy, self.right + dx, self.bottom + dy)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)


class FocalPoint(NamedTuple):
    x: int
    y: int
    width: int = 1
    height: int = 1
    weight: float = 1.0
    origin: str = "alignment"

    @classmethod
    def from_square(
        cls, left: int, top: int, width: int, height: int, origin: str = "detection"
    ) -> FocalPoint:
        return cls(
            left + width // 2,
            top + height // 2,
            width=width,
            height=height,
            weight=float(width * height),
            origin=origin,
        )

    @classmethod
    def from_fraction(cls, x: float, y: float, size: Size, origin: str = "Explicit") -> FocalPoint:
        """The pixel at fractions `x`, `y` (0-1) of an image of `size`: the point the pixel box
        `focal(XxY:X+1xY+1)` makes, so that both spellings plan the same geometry."""
        width, height = size
        return cls(
            min(int(x * width), max(width - 1, 0)),
            min(int(y * height), max(height - 1, 0)),
            origin=origin,
        )

    def as_dict(self) -> dict[str, object]:
        """Thumbor's serialisation (`z` is the weight)."""
        return {
            "x": self.x,
            "y": self.y,
            "z": self.weight,
            "height": self.height,
            "width": self.width,
            "origin": self.origin,
        }


class GeometryRequest(NamedTuple):
    """The geometric part of a Thumbor URL plus the filters that change geometry."""

    width: Dimension = 0
    height: Dimension = 0
    crop: Box | None = None
    fit_in: bool = False
    full: bool = False
    adaptive: bool = False
    halign: str = "center"
    valign: str = "middle"
    horizontal_flip: bool = False
    vertical_flip: bool = False
    stretch: bool = False
    upscale: bool = False
    no_upscale: bool = False
    # dpr() or a DPR client hint: the written sizes times this (not Thumbor's); None: not set.
    dpr: float | None = None

    @property
    def requested(self) -> tuple[Dimension, Dimension]:
        """The width and height asked for, dpr applied."""
        return scaled(self.width, self.dpr), scaled(self.height, self.dpr)


class Crop(NamedTuple):
    box: Box


class Resize(NamedTuple):
    width: int
    height: int


class Flip(NamedTuple):
    horizontal: bool


Operation = Crop | Resize | Flip


class Geometry(NamedTuple):
    """What to do to a working image of `source` size, in order, and what comes out."""

    source: Size
    operations: tuple[Operation, ...]
    focal_points: tuple[FocalPoint, ...]
    # The box that filters such as fill() work in: the requested size after fit-in adjustments.
    canvas: Size

    @property
    def crop_box(self) -> Box:
        """All crops composed into one box in source coordinates."""
        box = Box(0, 0, *self.source)
        for op in self.operations:
            if isinstance(op, Crop):
                box = op.box.shifted(box.left, box.top)
        return box

    @property
    def output_size(self) -> Size:
        width, height = self.source
        for op in self.operations:
            if isinstance(op, Crop):
                width, height = op.box.width, op.box.height
            elif isinstance(op, Resize):
                width, height = op.width, op.height
        return width, height

    @property
    def flips(self) -> tuple[bool, bool]:
        horizontal = vertical = False
        for op in self.operations:
            if isinstance(op, Flip):
                if op.horizontal:
                    horizontal = not horizontal
                else:
                    vertical = not vertical
        return horizontal, vertical

    def operations_as_dicts(self) -> list[dict[str, object]]:
        """Thumbor's `meta/` operation list."""
        out: list[dict[str, object]] = []
        for op in self.operations:
            if isinstance(op, Crop):
                out.append({"type": "crop", **_box_dict(op.box)})
            elif isinstance(op, Resize):
                out.append({"type": "resize", "width": op.width, "height": op.height})
            else:
                out.append({"type": "flip_horizontally" if op.horizontal else "flip_vertically"})
        return out


def _box_dict(box: Box) -> dict[str, object]:
    return {"left": box.left, "top": box.top, "right": box.right, "bottom": box.bottom}


def proportional_width(size: Size, new_height: float) -> float:
    # Python's round() is half-to-even; Thumbor relies on it, so do we.
    return round(float(new_height) * size[0] / size[1], 0)


def proportional_height(size: Size, new_width: float) -> float:
    return round(float(new_width) * size[1] / size[0], 0)


def scaled(side: Dimension, dpr: float | None) -> Dimension:
    """A written side times the device pixel ratio, rounded half up; 0 (keep the proportion)
    and `orig` (the image's own) are not sizes to multiply."""
    if dpr is None or dpr == 1.0 or side == "orig" or not side:
        return side
    return math.floor(side * dpr + 0.5)


def target_dimensions(size: Size, width: Dimension, height: Dimension) -> tuple[float, float]:
    """Thumbor's `_calculate_target_dimensions`: 0 means proportional, `orig` the current side."""
    source_width, source_height = float(size[0]), float(size[1])
    if not width and not height:
        return source_width, source_height
    if width == "orig":
        target_width = source_width
    elif width:
        target_width = float(width)
    else:
        target_width = proportional_width(size, float(_numeric(height, size[1])))
    if height == "orig":
        target_height = source_height
    elif height:
        target_height = float(height)
    else:
        target_height = proportional_height(size, float(_numeric(width, size[0])))
    return target_width, target_height


def _numeric(value: Dimension, orig: int) -> int:
    return orig if value == "orig" else value


def clamp_crop(crop: Box, size: Size) -> Box | None:
    """A manual crop limited to the image; None when nothing would be left (Thumbor ignores it)."""

    def limit(value: int, maximum: int) -> int:
        return min(max(value, 0), maximum)

    box = Box(
        limit(crop.left, size[0]),
        limit(crop.top, size[1]),
        limit(crop.right, size[0]),
        limit(crop.bottom, size[1]),
    )
    if box.left >= box.right or box.top >= box.bottom:
        return None
    return box


def alignment_point(halign: str, valign: str, size: Size) -> FocalPoint:
    return FocalPoint(int(size[0] * ALIGNMENT[halign]), int(size[1] * ALIGNMENT[valign]))


def points_in_crop(points: tuple[FocalPoint, ...], crop: Box | None) -> tuple[FocalPoint, ...]:
    if crop is None:
        return points
    return tuple(
        p._replace(x=p.x - crop.left, y=p.y - crop.top)
        for p in points
        if crop.left <= p.x <= crop.right and crop.top <= p.y <= crop.bottom
    )


def center_of_mass(points: tuple[FocalPoint, ...]) -> tuple[float, float]:
    total = sum(p.weight for p in points)
    # Thumbor floors here (`//`), which moves crops by up to a pixel; kept for parity.
    return (
        sum(p.x * p.weight for p in points) // total,
        sum(p.y * p.weight for p in points) // total,
    )


def auto_crop_box(
    size: Size, target: tuple[float, float], points: tuple[FocalPoint, ...]
) -> Box | None:
    """Thumbor's crop-to-aspect around the focal points' centre of mass; None when not needed."""
    source_width, source_height = size
    target_width, target_height = target
    safe_width, safe_height = target_width or 1, target_height or 1
    if round(source_width / source_height, 2) == round(safe_width / safe_height, 2):
        return None
    focal_x, focal_y = center_of_mass(points)
    if target_width / source_width > target_height / source_height:
        crop_width = source_width
        crop_height = int(round(source_width * target_height / safe_width, 0))
    else:
        crop_width = int(round(math.ceil(target_width * source_height / safe_height), 0))
        crop_height = source_height
    crop_width, crop_height = max(crop_width, 1), max(crop_height, 1)
    left = round(min(max(focal_x - crop_width / 2, 0.0), source_width - crop_width))
    top = round(min(max(focal_y - crop_height / 2, 0.0), source_height - crop_height))
    return Box(
        left, top, min(left + crop_width, source_width), min(top + crop_height, source_height)
    )


def fit_in_size(
    size: Size, target: tuple[float, float], full: bool, adaptive: bool
) -> tuple[Size | None, tuple[float, float], bool]:
    """Thumbor's `fit_in_resize`: the new size (None when the image already fits), the target
    after an adaptive swap, and whether the swap happened."""
    source_width, source_height = size
    target_width, target_height = target
    swapped = adaptive and (
        (source_width < source_height and target_width > target_height)
        or (source_width > source_height and target_width < target_height)
    )
    if swapped:
        target_width, target_height = target_height, target_width
    sign = -1 if full else 1
    if sign == 1 and target_width >= source_width and target_height >= source_height:
        return None, (target_width, target_height), swapped
    target_width, target_height = max(target_width, 1.0), max(target_height, 1.0)
    # Thumbor adds 1e-5 so that .5 rounds up as it did under Python 2.
    new_width: float
    new_height: float
    if source_width / target_width * sign >= source_height / target_height * sign:
        new_width = target_width
        new_height = round(source_height * target_width / source_width + 1e-5)
    else:
        new_width = round(source_width * target_height / source_height + 1e-5)
        new_height = target_height
    return (max(int(new_width), 1), max(int(new_height), 1)), (target_width, target_height), swapped


def upscale_size(size: Size, box: Size) -> Size | None:
    """Thumbor's `upscale()` filter: grow an image smaller than the box on both sides to fit it."""
    source_width, source_height = size
    box_width, box_height = box
    if source_width >= box_width or source_height >= box_height:
        return None
    if source_width / box_width >= source_height / box_height:
        return box_width, int(source_height * box_width / source_width)
    return int(source_width * box_height / source_height), box_height


def plan_geometry(
    size: Size,
    request: GeometryRequest,
    focal_points: tuple[FocalPoint, ...] = (),
    loaded_size: Size | None = None,
) -> Geometry:
    """The operations Thumbor's transformer would run on an image of `size` (after orientation
    and trim). `loaded_size` is the size before trim, which `no_upscale()` looks at."""
    width, height = request.requested
    if request.no_upscale:
        full_width, full_height = loaded_size or size
        width = width if width == "orig" else min(width, full_width)
        height = height if height == "orig" else min(height, full_height)

    operations: list[Operation] = []
    current = size
    manual = clamp_crop(request.crop, size) if request.crop else None
    if manual is not None:
        operations.append(Crop(manual))
        current = (manual.width, manual.height)

    target = target_dimensions(current, width, height)
    points = points_in_crop(focal_points, manual)
    if not points:
        points = (alignment_point(request.halign, request.valign, current),)

    if request.fit_in:
        new_size, target, swapped = fit_in_size(current, target, request.full, request.adaptive)
        if swapped:
            width, height = height, width
        if new_size is not None:
            requested_width = current[0] if width == "orig" else width
            requested_height = current[1] if height == "orig" else height
            width = int(max(requested_width, new_size[0]))
            height = int(max(requested_height, new_size[1]))
            operations.append(Resize(*new_size))
            current = new_size
    else:
        if not request.stretch:
            box = auto_crop_box(current, target, points)
            if box is not None:
                operations.append(Crop(box))
                current = (box.width, box.height)
        if target != (current[0], current[1]):
            new_size = (max(int(target[0] or 1), 1), max(int(target[1] or 1), 1))
            operations.append(Resize(*new_size))
            current = new_size
    if request.horizontal_flip:
        operations.append(Flip(horizontal=True))
    if request.vertical_flip:
        operations.append(Flip(horizontal=False))

    box_width = current[0] if width in ("orig", 0) else int(width)
    box_height = current[1] if height in ("orig", 0) else int(height)
    if request.upscale:
        grown = upscale_size(current, (box_width, box_height))
        if grown is not None:
            operations.append(Resize(*grown))
            current = grown
    return Geometry(size, tuple(operations), points, (box_width, box_height))


# EXIF orientation: how the stored pixels map to the displayed image.
TRANSPOSED_ORIENTATIONS = frozenset({5, 6, 7, 8})


def oriented_size(stored: Size, orientation: int) -> Size:
    return (stored[1], stored[0]) if orientation in TRANSPOSED_ORIENTATIONS else stored


def displayed_to_stored_box(
    box: tuple[float, float, float, float], orientation: int, stored: Size
) -> tuple[float, float, float, float]:
    """The box in stored-pixel coordinates whose pixels, once oriented, are `box` (displayed)."""
    left, top, right, bottom = box
    width, height = stored
    if orientation == 2:  # mirrored horizontally
        return (width - right, top, width - left, bottom)
    if orientation == 3:  # rotated 180
        return (width - right, height - bottom, width - left, height - top)
    if orientation == 4:  # mirrored vertically
        return (left, height - bottom, right, height - top)
    if orientation == 5:  # transposed
        return (top, left, bottom, right)
    if orientation == 6:  # displayed = stored turned 90 degrees clockwise
        return (top, height - right, bottom, height - left)
    if orientation == 7:  # transverse
        return (width - bottom, height - right, width - top, height - left)
    if orientation == 8:  # displayed = stored turned 90 degrees counter-clockwise
        return (width - bottom, left, width - top, right)
    return box


def draft_request(
    stored: Size, box: tuple[float, float, float, float], out: Size, min_ratio: float
) -> Size:
    """The size to ask JPEG `draft()` for, so that `box` still has at least `min_ratio` times
    the output's pixels along each axis after DCT scaling."""
    box_width = max(box[2] - box[0], 1e-9)
    box_height = max(box[3] - box[1], 1e-9)
    return (
        min(stored[0], math.ceil(stored[0] * out[0] * min_ratio / box_width)),
        min(stored[1], math.ceil(stored[1] * out[1] * min_ratio / box_height)),
    )


def stored_box_and_size(
    geometry: Geometry, working_size: Size, orientation: int
) -> tuple[tuple[float, float, float, float], Size]:
    """The crop box and output size in the coordinates of the pixels as stored (before the
    orientation still to apply), so that resizing can happen before rotating."""
    crop = geometry.crop_box
    box = displayed_to_stored_box(
        (crop.left, crop.top, crop.right, crop.bottom),
        orientation,
        oriented_size(working_size, orientation),
    )
    return box, oriented_size(geometry.output_size, orientation)
