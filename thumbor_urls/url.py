"""Thumbor's URL grammar, parsed into a Plan. Pure: no I/O, no settings beyond its arguments.

`/(unsafe|SIGNATURE)/` is routed away before this module; it parses the rest:
`(debug/)(meta/)(trim[:top-left|:bottom-right][:TOLERANCE]/)(LxT:RxB/)`
`((adaptive-)(full-)fit-in/)((-)W|orig x (-)H|orig/)(left|right|center/)(top|bottom|middle/)`
`(smart/)(filters:NAME(ARGS):NAME(ARGS)/)IMAGE_PATH`
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

from .errors import ImageServiceError, InvalidUrl
from .filters import REGISTRY
from .filters.registry import BoundFilter, IgnoredFilter, Phase, Registry
from .geometry import Box, Dimension, GeometryRequest
from .plan import Plan, Trim

log = logging.getLogger(__name__)

_OPTIONS = re.compile(
    r"(?:(?P<debug>debug)/)?"
    r"(?:(?P<meta>meta)/)?"
    r"(?:(?P<trim>trim(?::(?P<trim_corner>top-left|bottom-right))?(?::(?P<trim_tol>\d+))?)/)?"
    r"(?:(?P<crop_left>\d+)x(?P<crop_top>\d+):(?P<crop_right>\d+)x(?P<crop_bottom>\d+)/)?"
    r"(?:(?P<adaptive>adaptive-)?(?P<full>full-)?(?P<fit_in>fit-in)/)?"
    r"(?:(?P<hflip>-)?(?P<width>\d+|orig)?x(?P<vflip>-)?(?P<height>\d+|orig)?/)?"
    r"(?:(?P<halign>left|right|center)/)?"
    r"(?:(?P<valign>top|bottom|middle)/)?"
    r"(?:(?P<smart>smart)/)?"
)

_FILTER_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(")

FilterCall = tuple[str, list[str], str]  # name, raw arguments, the call's text


class TooManyFilters(InvalidUrl):
    code = "TooManyFilters"


def split_filters(text: str, max_calls: int | None = None) -> tuple[list[FilterCall], str]:
    """Split `NAME(ARGS):NAME(ARGS)/rest` into the calls and the rest (TooManyFilters past
    `max_calls`, as soon as the scan gets there).

    Arguments may hold nested brackets and parentheses (`curve([(0,0),(255,255)],...)`),
    quoted strings and slashes (`watermark(a/b.png,...)`), so this scans with a depth counter
    instead of Thumbor's non-greedy regex, which cuts such arguments apart.
    """
    calls: list[FilterCall] = []
    position = 0
    while True:
        match = _FILTER_NAME.match(text, position)
        if not match:
            raise InvalidUrl(f"malformed filters near {text[position : position + 40]!r}")
        name = match.group(1)
        depth, quoted = 0, False
        args: list[str] = []
        start = index = match.end()
        while index < len(text):
            char = text[index]
            if char == "'":
                quoted = not quoted
            elif not quoted and char in "([":
                depth += 1
            elif not quoted and char == "]":
                depth -= 1
            elif not quoted and char == ")":
                if depth == 0:
                    break
                depth -= 1
            elif not quoted and char == "," and depth == 0:
                args.append(text[start:index])
                start = index + 1
            index += 1
        else:
            raise InvalidUrl(f"filter {name}( is not closed")
        args.append(text[start:index])
        calls.append((name, args, text[match.start() : index + 1]))
        if max_calls is not None and len(calls) > max_calls:
            raise TooManyFilters(f"more than {max_calls} filters in one URL (MAX_FILTERS)")
        position = index + 1
        if text.startswith(":", position):
            position += 1
            continue
        if text.startswith("/", position):
            return calls, text[position + 1 :]
        raise InvalidUrl(f"expected ':' or '/' after {name}(...) in filters")


def _dimension(value: str | None) -> Dimension:
    if value is None:
        return 0
    return "orig" if value == "orig" else int(value)


def parse_path(
    path: str,
    strict: bool = False,
    registry: Registry = REGISTRY,
    max_filters: int | None = None,
) -> Plan:
    """Parse the part of a Thumbor URL after `unsafe/` or the signature, already
    percent-decoded (once, by the adapter that received it). Linear in the length of `path`;
    TooManyFilters past `max_filters` (MAX_FILTERS)."""
    groups, calls, image = _split(path, max_filters)
    trim = None
    if groups.get("trim"):
        corner = cast(Any, groups["trim_corner"] or "top-left")
        trim = Trim(corner, int(groups["trim_tol"] or 0))
    geometry = GeometryRequest(
        width=_dimension(groups.get("width")),
        height=_dimension(groups.get("height")),
        crop=_crop(groups),
        fit_in=bool(groups.get("fit_in")),
        full=bool(groups.get("full")),
        adaptive=bool(groups.get("adaptive")),
        halign=groups.get("halign") or "center",
        valign=groups.get("valign") or "middle",
        horizontal_flip=bool(groups.get("hflip")),
        vertical_flip=bool(groups.get("vflip")),
    )
    plan = Plan(
        path=path.lstrip("/"),
        image=image,
        geometry=geometry,
        trim=trim,
        smart=bool(groups.get("smart")),
        meta=bool(groups.get("meta")),
        debug=bool(groups.get("debug")),
    )
    return _apply_filters(plan, calls, strict, registry)


def _split(path: str, max_filters: int | None) -> tuple[dict[str, Any], list[FilterCall], str]:
    """The options' groups, the filter calls and the image, unparsed."""
    rest = path.lstrip("/")
    match = _OPTIONS.match(rest)
    groups: dict[str, Any] = match.groupdict() if match else {}
    rest = rest[match.end() :] if match else rest
    calls: list[FilterCall] = []
    if rest.startswith("filters:"):
        calls, rest = split_filters(rest[len("filters:") :], max_filters)
    if not rest:
        raise InvalidUrl("the URL names no image")
    return groups, calls, rest


def manual_crop_and_image(path: str) -> tuple[Box | None, str]:
    """The manual crop and the image of a Thumbor path, its filters skipped unparsed (for
    extract_focal(), which reads the URL it was given as its image)."""
    groups, _, image = _split(path, None)
    return _crop(groups), image


def _crop(groups: dict[str, Any]) -> Box | None:
    if groups.get("crop_left") is None:
        return None
    return Box(*(int(groups[k]) for k in ("crop_left", "crop_top", "crop_right", "crop_bottom")))


def _apply_filters(plan: Plan, calls: list[FilterCall], strict: bool, registry: Registry) -> Plan:
    post: list[BoundFilter] = []
    ignored: list[IgnoredFilter] = []
    for name, args, text in calls:
        try:
            bound = registry.bind(name, args)
        except ImageServiceError as error:
            if strict:
                raise
            # Thumbor skips a filter it cannot parse without a word; we log it and list it in meta/.
            log.info("ignoring filter %s: %s", text, error.message)
            ignored.append(IgnoredFilter(text, error.message))
            continue
        if bound.spec.phase is Phase.PRE_LOAD:
            plan = bound.spec.apply(plan, *bound.args)
        else:
            post.append(bound)
    return plan._replace(filters=tuple(post), ignored_filters=tuple(ignored))
