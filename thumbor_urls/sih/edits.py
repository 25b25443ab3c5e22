"""A default request's edits, run as SIH runs them.

SIH (v7.0.8 image-handler.ts `applyEdits`; v6.3.3 the same) calls one sharp method per edit, in
the order of the request's JSON keys, except its own edits (`overlayWith`, `smartCrop`,
`roundCrop`, `contentModeration`, `crop`) which it handles itself. But sharp does not run
operations in the order they are called: each call sets an option, and sharp 0.34's
pipeline.cc applies the options in one fixed order (STAGES below), once, when the image is
written. What the call order does change: `extract` before or after `resize` (pre- or
post-resize extract), `rotate` before `resize` (rotated before resizing), a second call of
the same method (the last wins); and SIH's own edits, which render the pipeline so far to look
at it (smartCrop and contentModeration ask Rekognition, overlayWith measures the image,
roundCrop starts a new pipeline from the rendered image).

Every stage declares its cost (bytes a pixel it holds besides its input and output, CPU a
pixel) like a Thumbor filter does (filters/registry.py): estimate() walks them before a pixel
is decoded, and tests/test_budget_sih.py measures the real peaks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from PIL import Image

from ..budget import Frame, image_bytes
from ..deadline import checkpoint
from . import ops
from .request import InvalidEdit, SihError

Colour = ops.Colour
BLACK: Colour = (0, 0, 0, 255)

# Edits SIH handles itself, and the sharp methods it calls (lib/constants.ts).
SIH_EDITS = frozenset(
    {"overlayWith", "smartCrop", "roundCrop", "contentModeration", "crop", "animated"}
)
SHARP_EDITS = frozenset(
    {
        "removeAlpha",
        "ensureAlpha",
        "extractChannel",
        "joinChannel",
        "bandbool",
        "tint",
        "greyscale",
        "grayscale",
        "pipelineColourspace",
        "pipelineColorspace",
        "toColourspace",
        "toColorspace",
        "rotate",
        "flip",
        "flop",
        "affine",
        "sharpen",
        "median",
        "blur",
        "flatten",
        "unflatten",
        "gamma",
        "negate",
        "normalise",
        "normalize",
        "clahe",
        "convolve",
        "threshold",
        "boolean",
        "linear",
        "recomb",
        "modulate",
        "jpeg",
        "png",
        "webp",
        "gif",
        "avif",
        "tiff",
        "heif",
        "toFormat",
        "resize",
        "extend",
        "extract",
        "trim",
    }
)
# sharp methods this service does not have (answered 501, docs/sih.md).
UNSUPPORTED = frozenset(
    {
        "extractChannel",
        "joinChannel",
        "bandbool",
        "pipelineColourspace",
        "pipelineColorspace",
        "toColourspace",
        "toColorspace",
        "affine",
        "unflatten",
        "clahe",
        "convolve",
        "boolean",
        "linear",
        "recomb",
        "extend",
        "trim",
    }
)
# SIH's edits that render the pipeline so far to look at the image.
LOOKING_EDITS = frozenset({"overlayWith", "smartCrop", "roundCrop", "contentModeration"})
# Skipped on animations (image-handler.ts skipEdit).
NOT_ANIMATED = frozenset({"rotate", "smartCrop", "roundCrop", "contentModeration"})
FORMATS = {
    "jpeg": "jpeg",
    "jpg": "jpeg",
    "png": "png",
    "webp": "webp",
    "gif": "gif",
    "avif": "avif",
    "tiff": "tiff",
    "tif": "tiff",
    "heif": "heif",
    "heic": "heif",
}


class Unsupported(SihError):
    def __init__(self, edit: str) -> None:
        super().__init__(501, "UnsupportedEdit", f"the sharp edit {edit!r} is not supported here")


class Options:
    """sharp's options as SIH's calls leave them (sharp's lib/constructor.js names)."""

    def __init__(self) -> None:
        self.width: int | None = None
        self.height: int | None = None
        self.fit = "cover"
        self.position = (0.5, 0.5)
        self.background: Colour = BLACK
        self.without_enlargement = False
        self.without_reduction = False
        self.angle = 0  # a multiple of 90
        self.rotation_angle = 0.0
        self.rotation_background: Colour = BLACK
        self.rotate_before = False
        self.flip = False
        self.flop = False
        self.extract_pre: tuple[int, int, int, int] | None = None  # left, top, width, height
        self.extract_post: tuple[int, int, int, int] | None = None
        self.flatten: Colour | None = None
        self.gamma: float | None = None
        self.greyscale = False
        self.negate: bool | None = None  # None: no negate; else whether alpha too
        self.normalise: tuple[float, float] | None = None
        self.tint: Colour | None = None
        self.blur: float | bool | None = False  # False: none; None: sharp's mild blur
        self.sharpen: tuple[float | None, float, float] | bool = False
        self.median = 0
        self.threshold = 0
        self.threshold_grey = True
        self.modulate: tuple[float, float, float, float] | None = None
        self.remove_alpha = False
        self.ensure_alpha: float | None = None
        self.composites: list[tuple[Image.Image, tuple[int, int]]] = []
        self.format: str | None = None  # None: the input's
        self.format_options: dict[str, dict[str, Any]] = {}

    @property
    def resizing(self) -> bool:
        return self.width is not None or self.height is not None

    @property
    def rotating(self) -> bool:
        return self.angle % 360 != 0 or self.rotation_angle != 0


# --- values as sharp reads them ---------------------------------------------------------------


def _number(edit: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidEdit(f"{edit}: expected a number between {low} and {high}, got {value!r}")
    return float(value)


def _integer(edit: str, value: Any, low: int = 0, high: int = 10**9) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidEdit(f"{edit}: expected an integer between {low} and {high}, got {value!r}")
    return value


_HEX = re.compile(r"^#?([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$", re.I)
_NAMED = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
    "transparent": (0, 0, 0),
}


def colour(edit: str, value: Any) -> Colour:
    """A colour as the `color` package reads it: {r, g, b, alpha 0-1}, `#rgb`, `#rrggbb`,
    `rgb()`, a CSS name."""
    if isinstance(value, dict):
        try:
            r, g, b = (round(float(value.get(c, 0))) for c in ("r", "g", "b"))
            alpha = float(value.get("alpha", 1))
        except (TypeError, ValueError):
            raise InvalidEdit(f"{edit}: unable to parse colour {value!r}") from None
        return (_byte(r), _byte(g), _byte(b), _byte(round(alpha * 255)))
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _NAMED:
            return (*_NAMED[text], 0 if text == "transparent" else 255)
        match = _HEX.match(text)
        if match:
            digits = match.group(1)
            if len(digits) == 3:
                digits = "".join(c * 2 for c in digits)
            channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
            return (
                channels[0],
                channels[1],
                channels[2],
                channels[3] if len(channels) > 3 else 255,
            )
        rgb = re.match(r"^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)$", text)
        if rgb:
            alpha = float(rgb.group(4)) if rgb.group(4) else 1.0
            return (
                _byte(int(rgb.group(1))),
                _byte(int(rgb.group(2))),
                _byte(int(rgb.group(3))),
                _byte(round(alpha * 255)),
            )
    raise InvalidEdit(f"{edit}: unable to parse colour {value!r}")


def _byte(value: int) -> int:
    return max(0, min(255, value))


def _position(value: Any) -> tuple[float, float]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = ops.GRAVITY_NUMBERS.get(value)
    if isinstance(value, str) and value.lower() in ops.POSITIONS:
        return ops.POSITIONS[value.lower()]
    raise InvalidEdit(f"resize: unknown position or gravity {value!r}")


# --- the sharp calls --------------------------------------------------------------------------


def call(options: Options, edit: str, value: Any) -> None:
    """What sharp's `image[edit](value)` leaves in its options; InvalidEdit where sharp throws."""
    if edit in UNSUPPORTED:
        raise Unsupported(edit)
    handler = _CALLS.get(edit)
    if handler is not None:
        handler(options, value)


def _resize(o: Options, value: Any) -> None:
    if not isinstance(value, dict):
        value = {}
    for name in ("width", "height"):
        size = value.get(name)
        if size is None:
            setattr(o, name, None)
            continue
        if isinstance(size, float) and math.isnan(size):
            raise InvalidEdit(f"resize: {name} must be a positive integer, got NaN")
        setattr(o, name, _integer(f"resize {name}", size, 1, 100_000_000))
    fit = value.get("fit")
    if fit is not None:
        if fit not in ("cover", "contain", "fill", "inside", "outside"):
            raise InvalidEdit(f"resize: unknown fit {fit!r}")
        o.fit = fit
    # sharp's resize reads `position` only (a `gravity` there is ignored, as sharp does).
    if value.get("position") is not None:
        o.position = _position(value["position"])
    if value.get("background") is not None:
        o.background = colour("resize background", value["background"])
    if "withoutEnlargement" in value:
        o.without_enlargement = bool(value["withoutEnlargement"])
    if "withoutReduction" in value:
        o.without_reduction = bool(value["withoutReduction"])
    if o.rotating and o.resizing:
        o.rotate_before = True


def _extract(o: Options, value: Any) -> None:
    if not isinstance(value, dict):
        raise InvalidEdit("extract: expected {left, top, width, height}")
    box = tuple(_integer(f"extract {n}", value.get(n)) for n in ("left", "top", "width", "height"))
    if o.resizing or o.extract_pre is not None:
        o.extract_post = box  # type: ignore[assignment]
    else:
        o.extract_pre = box  # type: ignore[assignment]
        if o.rotating:
            o.rotate_before = True


def _rotate(o: Options, value: Any) -> None:
    o.angle, o.rotation_angle = 0, 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEdit(f"rotate: expected a number, got {value!r}")
    if float(value).is_integer() and int(value) % 90 == 0:
        o.angle = int(value)
    else:
        o.rotation_angle = float(value)


def _flag(name: str) -> Callable[[Options, Any], None]:
    def set_flag(o: Options, value: Any) -> None:
        setattr(o, name, value if isinstance(value, bool) else True)

    return set_flag


def _negate(o: Options, value: Any) -> None:
    if value is False:
        o.negate = None
    else:
        o.negate = not (isinstance(value, dict) and value.get("alpha") is False)


def _normalise(o: Options, value: Any) -> None:
    if value is False:
        o.normalise = None
        return
    lower, upper = 1.0, 99.0
    if isinstance(value, dict):
        lower = _number("normalise lower", value.get("lower", 1), 0, 99)
        upper = _number("normalise upper", value.get("upper", 99), 1, 100)
    o.normalise = (lower, upper)


def _flatten(o: Options, value: Any) -> None:
    if value is False:
        o.flatten = None
        return
    background = value.get("background") if isinstance(value, dict) else None
    o.flatten = colour("flatten background", background) if background is not None else BLACK


def _tint(o: Options, value: Any) -> None:
    o.tint = colour("tint", value)


def _blur(o: Options, value: Any) -> None:
    if value is None or isinstance(value, bool):
        o.blur = None if value is not False else False
        if value is None:
            o.blur = None
        return
    sigma = value.get("sigma") if isinstance(value, dict) else value
    o.blur = _number("blur sigma", sigma, 0.3, 1000)


def _sharpen(o: Options, value: Any) -> None:
    if value is None or isinstance(value, bool):
        o.sharpen = (None, 1.0, 2.0) if value is not False else False
        return
    if isinstance(value, dict):
        sigma = _number("sharpen sigma", value.get("sigma"), 0.000001, 10)
        flat = _number("sharpen m1", value.get("m1", 1.0), 0, 1000000)
        jagged = _number("sharpen m2", value.get("m2", 2.0), 0, 1000000)
        o.sharpen = (sigma, flat, jagged)
        return
    o.sharpen = (_number("sharpen sigma", value, 0.000001, 10), 1.0, 2.0)


def _median(o: Options, value: Any) -> None:
    o.median = 3 if value is None else _integer("median size", value, 1, 1000)


def _threshold(o: Options, value: Any) -> None:
    if value is None or value is True:
        o.threshold = 128
    elif value is False:
        o.threshold = 0
    else:
        o.threshold = _integer("threshold", value, 0, 255)


def _gamma(o: Options, value: Any) -> None:
    o.gamma = 2.2 if value is None else _number("gamma", value, 1, 3)


def _modulate(o: Options, value: Any) -> None:
    if not isinstance(value, dict):
        raise InvalidEdit("modulate: expected {brightness, saturation, hue, lightness}")
    o.modulate = (
        _number("modulate brightness", value.get("brightness", 1.0), 0, 1e6),
        _number("modulate saturation", value.get("saturation", 1.0), 0, 1e6),
        float(_integer("modulate hue", value.get("hue", 0), -(10**9), 10**9)),
        _number("modulate lightness", value.get("lightness", 0.0), -1e6, 1e6),
    )


def _remove_alpha(o: Options, value: Any) -> None:
    o.remove_alpha = True


def _ensure_alpha(o: Options, value: Any) -> None:
    o.ensure_alpha = 1.0 if value is None else _number("ensureAlpha", value, 0, 1)


def _to_format(o: Options, value: Any) -> None:
    name = value.get("id") if isinstance(value, dict) else value
    fmt = FORMATS.get(str(name).lower()) if isinstance(name, str) else None
    if fmt is None:
        raise InvalidEdit(f"toFormat: unsupported output format {value!r}")
    o.format = fmt


def _format(fmt: str) -> Callable[[Options, Any], None]:
    def set_format(o: Options, value: Any) -> None:
        o.format = fmt
        if isinstance(value, dict):
            o.format_options.setdefault(fmt, {}).update(value)
            quality = value.get("quality")
            if quality is not None:
                _integer(f"{fmt} quality", quality, 1, 100)

    return set_format


_CALLS: dict[str, Callable[[Options, Any], None]] = {
    "resize": _resize,
    "extract": _extract,
    "rotate": _rotate,
    "flip": _flag("flip"),
    "flop": _flag("flop"),
    "greyscale": _flag("greyscale"),
    "grayscale": _flag("greyscale"),
    "negate": _negate,
    "normalise": _normalise,
    "normalize": _normalise,
    "flatten": _flatten,
    "tint": _tint,
    "blur": _blur,
    "sharpen": _sharpen,
    "median": _median,
    "threshold": _threshold,
    "gamma": _gamma,
    "modulate": _modulate,
    "removeAlpha": _remove_alpha,
    "ensureAlpha": _ensure_alpha,
    "toFormat": _to_format,
    **{name: _format(fmt) for name, fmt in FORMATS.items() if name in SHARP_EDITS},
}


# --- the geometry -----------------------------------------------------------------------------


def _round(value: float) -> int:
    return max(1, math.floor(value + 0.5))


class ResizePlan(NamedTuple):
    scaled: tuple[int, int]  # what the image is resized to
    canvas: tuple[int, int]  # what it is then cropped or embedded to
    offset: tuple[int, int]  # the crop's top-left, or where the image sits on the canvas
    embed: bool


def resize_plan(o: Options, size: tuple[int, int]) -> ResizePlan:
    """sharp's resize of an image of `size`: the scaled size, then the crop (cover) or the
    canvas (contain) at the position."""
    iw, ih = size
    w, h = o.width, o.height
    if w is None and h is None:
        return ResizePlan(size, size, (0, 0), False)
    if w is not None and h is not None:
        sx, sy = w / iw, h / ih
        if o.fit == "fill":
            sx, sy = _limits(o, sx), _limits(o, sy)
            return ResizePlan(
                (_round(iw * sx), _round(ih * sy)),
                (_round(iw * sx), _round(ih * sy)),
                (0, 0),
                False,
            )
        scale = max(sx, sy) if o.fit in ("cover", "outside") else min(sx, sy)
    else:
        scale = w / iw if w is not None else h / ih  # type: ignore[operator]
    scale = _limits(o, scale)
    scaled = (_round(iw * scale), _round(ih * scale))
    if o.fit in ("inside", "outside"):
        return ResizePlan(scaled, scaled, (0, 0), False)
    px, py = o.position
    if o.fit == "contain":
        canvas = (max(w or scaled[0], scaled[0]), max(h or scaled[1], scaled[1]))
        offset = (int((canvas[0] - scaled[0]) * px), int((canvas[1] - scaled[1]) * py))
        return ResizePlan(scaled, canvas, offset, True)
    canvas = (min(w or scaled[0], scaled[0]), min(h or scaled[1], scaled[1]))
    # sharp's CalculateCrop rounds a centred crop's offset up.
    offset = (
        math.floor((scaled[0] - canvas[0]) * px + 0.5),
        math.floor((scaled[1] - canvas[1]) * py + 0.5),
    )
    return ResizePlan(scaled, canvas, offset, False)


def _limits(o: Options, scale: float) -> float:
    if o.without_enlargement and scale > 1:
        return 1.0
    if o.without_reduction and scale < 1:
        return 1.0
    return scale


def rotated_size(size: tuple[int, int], angle: float) -> tuple[int, int]:
    radians = math.radians(angle % 360)
    cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
    w, h = size
    return (round(w * cos + h * sin), round(w * sin + h * cos))


def _check_extract(box: tuple[int, int, int, int], size: tuple[int, int]) -> None:
    left, top, width, height = box
    if width < 1 or height < 1 or left + width > size[0] or top + height > size[1]:
        # sharp: "extract_area: bad extract area", which SIH answers 500 ProcessingFailure.
        raise InvalidEdit(
            f"extract: the area {width}x{height} at {left},{top} is not inside the "
            f"{size[0]}x{size[1]} image"
        )


# --- the stages, in sharp 0.34's pipeline.cc order --------------------------------------------


class Stage(NamedTuple):
    name: str
    active: Callable[[Options], bool]
    size: Callable[[Options, tuple[int, int]], tuple[int, int]]
    apply: Callable[[Options, Image.Image], Image.Image]
    transient: float  # bytes a pixel (of the larger of input and output) besides both
    ns: float  # CPU a pixel


def _same(o: Options, size: tuple[int, int]) -> tuple[int, int]:
    return size


def _turn_size(o: Options, size: tuple[int, int]) -> tuple[int, int]:
    return (size[1], size[0]) if o.angle % 180 else size


def _turn(o: Options, image: Image.Image) -> Image.Image:
    image = ops.rotate(image, o.angle, o.rotation_background)
    if o.flip:
        image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    if o.flop:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return image


def _angle_size(o: Options, size: tuple[int, int]) -> tuple[int, int]:
    return rotated_size(size, o.rotation_angle)


def _angle(o: Options, image: Image.Image) -> Image.Image:
    return ops.rotate(image, o.rotation_angle, o.rotation_background)


def _extract_size(
    box: Callable[[Options], tuple[int, int, int, int] | None],
) -> Callable[[Options, tuple[int, int]], tuple[int, int]]:
    def size(o: Options, current: tuple[int, int]) -> tuple[int, int]:
        area = box(o)
        assert area is not None
        _check_extract(area, current)
        return (area[2], area[3])

    return size


def _extract_apply(
    box: Callable[[Options], tuple[int, int, int, int] | None],
) -> Callable[[Options, Image.Image], Image.Image]:
    def apply(o: Options, image: Image.Image) -> Image.Image:
        area = box(o)
        assert area is not None
        _check_extract(area, image.size)
        left, top, width, height = area
        return image.crop((left, top, left + width, top + height))

    return apply


def _resize_size(o: Options, size: tuple[int, int]) -> tuple[int, int]:
    return resize_plan(o, size).canvas


def _resize_apply(o: Options, image: Image.Image) -> Image.Image:
    plan = resize_plan(o, image.size)
    image = ops.resize(image, plan.scaled)
    if plan.canvas == plan.scaled:
        return image
    if plan.embed:
        return ops.embed(image, plan.canvas, plan.offset, o.background)
    left, top = plan.offset
    return image.crop((left, top, left + plan.canvas[0], top + plan.canvas[1]))


def _sharpen_apply(o: Options, image: Image.Image) -> Image.Image:
    assert isinstance(o.sharpen, tuple)
    return ops.sharpen(image, *o.sharpen)


def _remove_alpha_apply(o: Options, image: Image.Image) -> Image.Image:
    return ops.rgb_mode(image).convert("RGB") if ops.has_alpha(image) else image


def _ensure_alpha_apply(o: Options, image: Image.Image) -> Image.Image:
    if ops.has_alpha(image):
        return image
    image = ops.rgb_mode(image).convert("RGBA")
    image.putalpha(round(255 * (o.ensure_alpha or 0)))
    return image


def _composite(o: Options, image: Image.Image) -> Image.Image:
    for overlay, offset in o.composites:
        if overlay.width > image.width or overlay.height > image.height:
            raise SihError(
                400, "BadRequest", "Image to overlay must have same dimensions or smaller"
            )
        image = ops.composite(image, overlay, offset)
    return image


STAGES: tuple[Stage, ...] = (
    # Rotate and mirror before extracting and resizing, when rotate() came before resize() or
    # extract(); right angles and mirrors commute with a resize, so they all go here.
    Stage("rotate", lambda o: o.angle % 360 != 0 or o.flip or o.flop, _turn_size, _turn, 0, 4),
    Stage(
        "rotate", lambda o: o.rotate_before and o.rotation_angle != 0, _angle_size, _angle, 4, 40
    ),
    Stage(
        "extract",
        lambda o: o.extract_pre is not None,
        _extract_size(lambda o: o.extract_pre),
        _extract_apply(lambda o: o.extract_pre),
        0,
        1,
    ),
    Stage(
        "flatten",
        lambda o: o.flatten is not None,
        _same,
        lambda o, i: ops.flatten(i, o.flatten or BLACK),
        4,
        10,
    ),
    Stage(
        "gamma",
        lambda o: o.gamma is not None,
        _same,
        lambda o, i: ops.gamma(i, 1 / (o.gamma or 1)),
        4,
        5,
    ),
    Stage("greyscale", lambda o: o.greyscale, _same, lambda o, i: ops.greyscale(i), 40, 60),
    Stage("resize", lambda o: o.resizing, _resize_size, _resize_apply, 12, 60),
    Stage(
        "rotate",
        lambda o: not o.rotate_before and o.rotation_angle != 0,
        _angle_size,
        _angle,
        4,
        40,
    ),
    Stage(
        "extract",
        lambda o: o.extract_post is not None,
        _extract_size(lambda o: o.extract_post),
        _extract_apply(lambda o: o.extract_post),
        0,
        1,
    ),
    Stage("median", lambda o: o.median > 0, _same, lambda o, i: ops.median(i, o.median), 8, 400),
    Stage(
        "threshold",
        lambda o: o.threshold > 0,
        _same,
        lambda o, i: ops.threshold(i, o.threshold, o.threshold_grey),
        44,
        70,
    ),
    Stage(
        "blur",
        lambda o: o.blur is not False,
        _same,
        lambda o, i: ops.blur(i, None if o.blur is None or o.blur is True else float(o.blur)),
        8,
        60,
    ),
    Stage(
        "modulate",
        lambda o: o.modulate is not None,
        _same,
        lambda o, i: ops.modulate(i, *(o.modulate or (1, 1, 0, 0))),
        40,
        200,
    ),
    Stage("sharpen", lambda o: o.sharpen is not False, _same, _sharpen_apply, 8, 80),
    Stage("composite", lambda o: bool(o.composites), _same, _composite, 8, 20),
    Stage(
        "gamma", lambda o: o.gamma is not None, _same, lambda o, i: ops.gamma(i, o.gamma or 1), 4, 5
    ),
    Stage(
        "normalise",
        lambda o: o.normalise is not None,
        _same,
        lambda o, i: ops.normalise(i, *(o.normalise or (1, 99))),
        16,
        150,
    ),
    Stage(
        "tint",
        lambda o: o.tint is not None,
        _same,
        lambda o, i: ops.tint(i, o.tint or BLACK),
        48,
        150,
    ),
    Stage("removeAlpha", lambda o: o.remove_alpha, _same, _remove_alpha_apply, 4, 2),
    Stage("ensureAlpha", lambda o: o.ensure_alpha is not None, _same, _ensure_alpha_apply, 4, 2),
    Stage(
        "negate",
        lambda o: o.negate is not None,
        _same,
        lambda o, i: ops.negate(i, bool(o.negate)),
        4,
        4,
    ),
)


def render(o: Options, frames: list[Image.Image]) -> list[Image.Image]:
    """The frames through every stage the options turn on, as sharp writes them out."""
    out = list(frames)
    for stage in STAGES:
        if not stage.active(o):
            continue
        for index, frame in enumerate(out):
            checkpoint()
            out[index] = stage.apply(o, frame)
    return out


def output_size(o: Options, size: tuple[int, int]) -> tuple[int, int]:
    for stage in STAGES:
        if stage.active(o):
            size = stage.size(o, size)
    return size


def stage_costs(o: Options, frame: Frame) -> list[tuple[str, Frame, Frame, int, float]]:
    """(what, before, after, transient bytes, ns) of every stage the options turn on."""
    steps = []
    for stage in STAGES:
        if not stage.active(o):
            continue
        size = stage.size(o, (frame.width, frame.height))
        bands = frame.bands
        if (
            stage.name in ("rotate", "resize", "flatten", "ensureAlpha", "composite")
            or o.background[3] < 255
        ):
            bands = max(bands, 4 if stage.name != "flatten" else 3)
        after = Frame(size[0], size[1], max(bands, 3))
        pixels = max(frame.pixels, after.pixels)
        transient = int(stage.transient * pixels) + (
            image_bytes(*size, 4) if stage.name == "resize" else 0
        )
        steps.append((stage.name, frame, after, transient, stage.ns * pixels))
        frame = after
    return steps
