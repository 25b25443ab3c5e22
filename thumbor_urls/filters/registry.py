"""The filter registry: each filter declares its name, typed parameters (params.py), phase and,
when it touches pixels, its cost.

Like Thumbor's `@filter_method(BaseFilter.Number, ...)`, the declaration is the single source
of truth: the URL parser validates arguments from it, the pipeline runs each phase's filters in
URL order, and the memory and CPU budget adds up their costs (costs.py).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

from PIL import Image

from ..budget import Cost, Frame
from ..errors import InvalidFilterArgument, NoSuchKey, UnknownFilter
from .params import IMAGE, REQUIRED, Overlay, Param

__all__ = [
    "IMAGE",
    "REGISTRY",
    "REQUIRED",
    "BoundFilter",
    "CostContext",
    "FilterContext",
    "FilterCost",
    "FilterSpec",
    "IgnoredFilter",
    "Overlay",
    "OverlayFrame",
    "Param",
    "Phase",
    "Registry",
    "per_pixel",
    "register",
]


class Phase(enum.Enum):
    # Pure changes to the plan (output options, geometry flags): they run before anything is
    # loaded, which is what lets format negotiation and the result cache key use them.
    PRE_LOAD = "pre-load"
    # Pixel operations on every frame after the geometry has been applied.
    POST_TRANSFORM = "post-transform"


class OverlayFrame(Protocol):
    def __call__(self, key: str, at_least: tuple[int, int] | None = None) -> Frame:
        """The image at `key` as decode_size(key, at_least) would decode it."""
        ...


class CostContext(NamedTuple):
    """What a filter's cost declaration may know besides the frame: the canvas fill() and
    friends draw into, and the decoded size of the images watermark() and frame() draw."""

    canvas: tuple[int, int]
    overlay: OverlayFrame


# (frame, context, *arguments) -> Cost: what the filter will hold and do on one frame, an upper
# bound checked against measured peaks by tests/test_budget.py.
FilterCost = Callable[..., Cost]


def per_pixel(transient: float = 0.0, ns: float = 5.0, *, colour: bool = False) -> FilterCost:
    """The cost of a filter that writes a frame of its input's size: `transient` bytes and `ns`
    nanoseconds a pixel. `colour`: grey frames come out RGB(A), converted first."""

    def cost(frame: Frame, ctx: CostContext, *args: Any) -> Cost:
        out, extra = frame, 0
        if colour and frame.bands < 3:
            out, extra = frame.with_bands(frame.bands + 2), 4
        return Cost(out, int((transient + extra) * frame.pixels), ns * frame.pixels)

    return cost


class FilterSpec(NamedTuple):
    name: str
    params: tuple[Param, ...]
    phase: Phase
    apply: Callable[..., Any]
    doc: str = ""  # the reference text: the first paragraph of the filter's docstring
    cost: FilterCost | None = None  # every post-transform filter has one

    def bind(self, raw_args: Sequence[str]) -> tuple[Any, ...]:
        """Typed argument values for `raw_args`, or InvalidFilterArgument naming the problem."""
        args = list(raw_args)
        # `name()` has one empty argument in the URL text; it means no arguments.
        if args == [""]:
            args = []
        if len(args) > len(self.params):
            raise InvalidFilterArgument(
                f"{self.name}() takes at most {len(self.params)} argument(s), got {len(args)}"
            )
        values: list[Any] = []
        for index, param in enumerate(self.params):
            text = args[index].strip() if index < len(args) else ""
            if index >= len(args) or (text == "" and not param.required):
                if param.required:
                    raise InvalidFilterArgument(
                        f"{self.name}(): missing argument {index + 1} ({param.name})"
                    )
                values.append(param.default)
                continue
            try:
                values.append(param.parse(text))
            except ValueError as error:
                raise InvalidFilterArgument(
                    f"{self.name}(): argument {index + 1} ({param.name}) {error}"
                ) from None
        return tuple(values)

    def signature(self) -> str:
        """Thumbor's usage form, optional parameters nested in brackets:
        `watermark(image, x, y, alpha [, w_ratio [, h_ratio]])`."""
        text, depth = "", 0
        for param in self.params:
            separator = ", " if text else ""
            if param.required and depth == 0:
                text += separator + param.name
            else:
                text += (" [" if text else "[") + separator + param.name
                depth += 1
        return f"{self.name}({text}{']' * depth})"


class BoundFilter(NamedTuple):
    spec: FilterSpec
    args: tuple[Any, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    def overlay_keys(self) -> tuple[str, ...]:
        """The keys of the other images this filter draws (its `image` parameters)."""
        return tuple(
            value
            for param, value in zip(self.spec.params, self.args, strict=True)
            if param.kind == IMAGE
        )


class IgnoredFilter(NamedTuple):
    """A filter Thumbor would silently skip; we skip it too but say why in `meta/`."""

    text: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"filter": self.text, "reason": self.reason}


class Registry:
    def __init__(self) -> None:
        self.specs: dict[str, FilterSpec] = {}

    def register(
        self,
        name: str,
        *params: Param,
        phase: Phase = Phase.POST_TRANSFORM,
        cost: FilterCost | None = None,
        spec: type[FilterSpec] = FilterSpec,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function as the filter `name`. `spec` is a FilterSpec subclass
        for a filter whose arguments are only valid together (its bind() checks them)."""
        if phase is Phase.POST_TRANSFORM and cost is None:
            raise ValueError(f"filter {name} touches pixels and must declare its cost")

        def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
            self.add(spec(name, params, phase, function, _first_paragraph(function.__doc__), cost))
            return function

        return decorate

    def add(self, spec: FilterSpec) -> None:
        if spec.name in self.specs:
            raise ValueError(f"filter {spec.name} registered twice")
        self.specs[spec.name] = spec

    def bind(self, name: str, raw_args: Sequence[str]) -> BoundFilter:
        spec = self.specs.get(name)
        if spec is None:
            raise UnknownFilter(f"unknown filter {name}()")
        return BoundFilter(spec, spec.bind(raw_args))


def _first_paragraph(doc: str | None) -> str:
    """A docstring's first paragraph, on one line."""
    lines = []
    for line in (doc or "").strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines)


REGISTRY = Registry()
register = REGISTRY.register


class FilterContext(NamedTuple):
    """What a post-transform filter may know besides the frame it changes."""

    # The box that fill() and friends draw into: the requested size after fit-in adjustments.
    canvas: tuple[int, int]
    frame_index: int = 0
    # Another image (watermark, frame) read through the same source as originals, as RGBA,
    # decoded once per request at no less than the size given; None where no source is at hand.
    load_image: Callable[[str, tuple[int, int] | None], Image.Image] | None = None
    # That image's size, from its header.
    image_size: Callable[[str], tuple[int, int]] | None = None
    # ImageTooLarge when a frame of this size would pass the output limits.
    check_size: Callable[[tuple[int, int]], None] | None = None

    def image(
        self, key: str, filter_name: str, at_least: tuple[int, int] | None = None
    ) -> Image.Image:
        try:
            if self.load_image is None:
                raise NoSuchKey(key)
            return self.load_image(key, at_least)
        except NoSuchKey:
            raise InvalidFilterArgument(f"{filter_name}(): there is no image at {key!r}") from None

    def size_of(self, key: str, filter_name: str) -> tuple[int, int]:
        try:
            if self.image_size is None:
                raise NoSuchKey(key)
            return self.image_size(key)
        except NoSuchKey:
            raise InvalidFilterArgument(f"{filter_name}(): there is no image at {key!r}") from None

    def allow(self, size: tuple[int, int]) -> None:
        if self.check_size is not None:
            self.check_size(size)
