"""Thumbor's URL grammar in both directions, as imagor's `imagorpath` does it: `parse` reads the
path after `unsafe/` or the signature into `Params`, a plain description ready for JSON, and
`generate` writes the canonical path back (`generate_url` adds `unsafe/` or the signature).
Pure: no I/O, no settings, no filter registry (arguments stay text; url.py binds them).

`(debug/)(meta/)(trim[:top-left|:bottom-right][:TOLERANCE]/)(LxT:RxB/)`
`((adaptive-)(full-)fit-in/)((-)W|orig x (-)H|orig/)(left|right|center/)(top|bottom|middle/)`
`(smart/)(filters:NAME(ARGS):NAME(ARGS)/)IMAGE_PATH`

The canonical path writes each part as libthumbor does, so that a path libthumbor makes
regenerates byte for byte, signature included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from .errors import InvalidUrl
from .geometry import Box, Dimension
from .signing import sign_thumbor_path

HAlign = Literal["left", "center", "right"]
VAlign = Literal["top", "middle", "bottom"]
Corner = Literal["top-left", "bottom-right"]


class Filter(NamedTuple):
    name: str
    args: tuple[str, ...] = ()  # each argument's text as written; `name()` has none

    @property
    def text(self) -> str:
        """The call as the URL writes it."""
        return f"{self.name}({','.join(self.args)})"


class Params(NamedTuple):
    """What a Thumbor path says, part by part, in plain values.

    None means "not written" where writers spell the same request two ways and the canonical
    path must keep the writer's spelling: `300x` (SIH's translation, hand-written URLs) and `300x0`
    (libthumbor) both keep the proportion, `trim` and `trim:top-left` both trim by the top-left
    pixel. The alignments hold their defaults instead: nothing writes `center/` or `middle/`.
    """

    image: str  # the image's key, percent-decoded once by the adapter that received it
    debug: bool = False
    meta: bool = False
    trim: bool = False
    trim_corner: Corner | None = None  # None: not written, which Thumbor reads as top-left
    trim_tolerance: int = 0
    crop: Box | None = None  # LxT:RxB in original pixels
    fit_in: bool = False
    full: bool = False  # full-fit-in
    adaptive: bool = False  # adaptive-(full-)fit-in
    width: Dimension | None = None  # None: not written; None and 0 keep the proportion
    height: Dimension | None = None
    horizontal_flip: bool = False  # `-W`
    vertical_flip: bool = False  # `-H`
    halign: HAlign = "center"
    valign: VAlign = "middle"
    smart: bool = False
    filters: tuple[Filter, ...] = ()  # in URL order

    def as_dict(self) -> dict[str, Any]:
        """For JSON: the crop as {left, top, right, bottom}, filters as {name, args}."""
        return {
            **self._asdict(),
            "crop": None if self.crop is None else self.crop._asdict(),
            "filters": [{"name": f.name, "args": list(f.args)} for f in self.filters],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Params:
        """The inverse of as_dict(); ValueError for a field that is unknown or of the wrong
        type. Whether the values make a path at all is generate()'s to say."""
        unknown = set(data) - set(cls._fields)
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        if not isinstance(data.get("image"), str):
            raise ValueError("image must be a string")
        values = dict(data)
        for field, kinds in _KINDS.items():
            if field in values and not _is_one_of(values[field], kinds):
                raise ValueError(f"{field} must be {' or '.join(k.__name__ for k in kinds)}")
        crop = values.get("crop")
        if crop is not None:
            if not (isinstance(crop, Mapping) and set(crop) == set(Box._fields)) or not all(
                _is_one_of(v, (int,)) for v in crop.values()
            ):
                raise ValueError("crop must hold the whole numbers left, top, right, bottom")
            values["crop"] = Box(**crop)
        values["filters"] = tuple(_filter(item) for item in values.get("filters", ()))
        return cls(**values)


# The JSON type of every scalar field; crop and filters are checked on their own.
_KINDS: dict[str, tuple[type, ...]] = {
    **{name: (bool,) for name, value in Params._field_defaults.items() if value is False},
    "trim_corner": (str, type(None)),
    "trim_tolerance": (int,),
    "width": (int, str, type(None)),
    "height": (int, str, type(None)),
    "halign": (str,),
    "valign": (str,),
    "filters": (list, tuple),
}


def _is_one_of(value: object, kinds: tuple[type, ...]) -> bool:
    # JSON's true is not a number here, though Python's bool is an int.
    if isinstance(value, bool):
        return bool in kinds
    return isinstance(value, kinds)


def _filter(item: object) -> Filter:
    if isinstance(item, Mapping) and set(item) <= {"name", "args"}:
        name, args = item.get("name"), item.get("args", [])
        strings = isinstance(args, list | tuple) and all(isinstance(a, str) for a in args)
        if isinstance(name, str) and strings:
            return Filter(name, tuple(args))
    raise ValueError(f"a filter must be {{'name': str, 'args': [str, ...]}}, not {item!r}")


# --- parse ----------------------------------------------------------------------------------

# Every part is optional, so this always matches; what it leaves is the filters and the image.
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
    """More than `MAX_FILTERS` filters in one URL."""

    code = "TooManyFilters"


def parse(path: str, max_filters: int | None = None) -> Params:
    """Read the part of a Thumbor URL after `unsafe/` or the signature, percent-decoded once.
    Linear in the length of `path`; InvalidUrl for malformed filters or no image,
    TooManyFilters past `max_filters` (MAX_FILTERS)."""
    rest = path.lstrip("/")
    match = _OPTIONS.match(rest)
    assert match is not None  # every part is optional
    # The regex's alternatives are the Literal types' values.
    groups: dict[str, Any] = match.groupdict()
    rest = rest[match.end() :]
    filters: tuple[Filter, ...] = ()
    if rest.startswith("filters:"):
        calls, rest = split_filters(rest[len("filters:") :], max_filters)
        # `name()` is one empty argument in the text; it means none (as FilterSpec.bind reads it).
        filters = tuple(
            Filter(name, () if args == [""] else tuple(args)) for name, args, _ in calls
        )
    if not rest:
        raise InvalidUrl("the URL names no image")
    crop = None
    if groups["crop_left"] is not None:
        crop = Box(*(_number(groups[f"crop_{side}"]) for side in Box._fields))
    return Params(
        image=rest,
        debug=bool(groups["debug"]),
        meta=bool(groups["meta"]),
        trim=bool(groups["trim"]),
        trim_corner=groups["trim_corner"],
        trim_tolerance=_number(groups["trim_tol"] or "0"),
        crop=crop,
        fit_in=bool(groups["fit_in"]),
        full=bool(groups["full"]),
        adaptive=bool(groups["adaptive"]),
        width=_dimension(groups["width"]),
        height=_dimension(groups["height"]),
        horizontal_flip=bool(groups["hflip"]),
        vertical_flip=bool(groups["vflip"]),
        halign=groups["halign"] or "center",
        valign=groups["valign"] or "middle",
        smart=bool(groups["smart"]),
        filters=filters,
    )


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # past the 4300 digits int() reads: far over every limit anyway
        raise InvalidUrl(f"the number {text[:20]}... has {len(text)} digits") from None


def _dimension(text: str | None) -> Dimension | None:
    if text is None:
        return None
    if text == "orig":
        return "orig"
    return _number(text)


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


# --- generate -------------------------------------------------------------------------------


def generate(params: Params) -> str:
    """The canonical path of `params` (no leading slash, no `unsafe/` or signature), such that
    parse(generate(params)) == params; InvalidUrl when no path says `params`.

    The image comes last with nothing to mark where it starts, so an image whose first segment
    looks like an option (`left/a.jpg`, `300x200/a.jpg`) would be read as that option. Then
    `middle/` (the default alignment, written out) goes in front of it: after it only `smart/`
    and `filters:` are read, and an image starting with those can only follow them."""
    path = "/".join([*_parts(params, explicit_middle=False), params.image])
    misread = _misread(path, params)
    if not misread:
        return path
    if params.valign == "middle":
        path = "/".join([*_parts(params, explicit_middle=True), params.image])
        if not _misread(path, params):
            return path
    raise InvalidUrl(f"no Thumbor path says this: {misread}")


def generate_url(params: Params, key: str | None = None) -> str:
    """`/unsafe/<path>` without a key, `/<signature>/<path>` with one: HMAC-SHA1 of the
    canonical path, as libthumbor signs."""
    path = generate(params)
    return f"/unsafe/{path}" if key is None else sign_thumbor_path(key, path)


def _parts(p: Params, explicit_middle: bool) -> list[str]:
    """Each written part in Thumbor's order, spelt as libthumbor spells it."""
    parts: list[str] = []
    if p.debug:
        parts.append("debug")
    if p.meta:
        parts.append("meta")
    if p.trim:
        corner = [p.trim_corner] if p.trim_corner else []
        tolerance = [str(p.trim_tolerance)] if p.trim_tolerance else []
        parts.append(":".join(["trim", *corner, *tolerance]))
    if p.crop is not None:
        parts.append("{}x{}:{}x{}".format(*p.crop))
    if p.fit_in:
        parts.append(f"{'adaptive-' if p.adaptive else ''}{'full-' if p.full else ''}fit-in")
    if p.width is not None or p.height is not None or p.horizontal_flip or p.vertical_flip:
        width = "" if p.width is None else str(p.width)
        height = "" if p.height is None else str(p.height)
        hflip, vflip = "-" if p.horizontal_flip else "", "-" if p.vertical_flip else ""
        parts.append(f"{hflip}{width}x{vflip}{height}")
    if p.halign != "center":
        parts.append(p.halign)
    if p.valign != "middle" or explicit_middle:
        parts.append(p.valign)
    if p.smart:
        parts.append("smart")
    if p.filters:
        parts.append(":".join(["filters", *(f.text for f in p.filters)]))
    return parts


def _misread(path: str, params: Params) -> str:
    """How `path` reads back differently from `params`, or "" when it reads back the same.
    Reading it back is the check: it covers every value outside the grammar (a negative
    width, an alignment that is none, an argument with an unclosed bracket) in one rule."""
    try:
        got = parse(path)
    except InvalidUrl as error:
        return error.message
    for field in (*Params._fields[1:], "image"):  # the image last, as in the path
        wanted, read = getattr(params, field), getattr(got, field)
        if wanted != read:
            return f"{field} {wanted!r} would read back as {read!r} from {path!r}"
    return ""
