r"""Filter parameters, read with Thumbor's patterns (thumbor/filters/__init__.py, BaseFilter).

Thumbor declares a filter's parameters as regular expressions, `@filter_method(BaseFilter.Number,
r"[\w]+", ...)`, and skips the filter without a word when an argument does not match. Each
parameter here matches the same text, so an argument Thumbor would skip is skipped here too (or
refused under STRICT_FILTERS):

- `Number`: Thumbor's `BaseFilter.Number`, `-?\d+` (no `+`);
- `PositiveNumber`: `BaseFilter.PositiveNumber`, `\d+` (no sign at all);
- `PositiveNonZeroNumber`: `BaseFilter.PositiveNonZeroNumber`, `\d*[1-9]\d*`;
- `DecimalNumber`: `BaseFilter.DecimalNumber`, `-?(\d+\.?\d*|\d*\.?\d+)` (no `+`, no exponent);
- `Boolean`: `BaseFilter.Boolean`, exactly `true`, `True`, `false`, `False`, `1` or `0`;
- `String`: `BaseFilter.String`, any text, one pair of single quotes stripped; `Choice` and
  `Overlay` are strings too;
- `Param(name, kind, parse)`: a filter's own expression (watermark's positions, curve's points).

Blanks around an argument are ignored, as Thumbor's `\s*` does. Beyond the pattern, a number may
`refuse` values that Thumbor matches but cannot handle (a 500 there) or that pass a limit of
ours, and `clamp` values beyond which the result cannot change any more (so that the clamping
is invisible).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  # the default of a parameter that has none

IMAGE = "image"  # the kind of a parameter that names another image (watermark, frame)


# (low, high): None leaves that side open.
Bounds = tuple[float | None, float | None]


class Param(NamedTuple):
    """One typed parameter. `parse` turns the URL text into a value or raises ValueError;
    `kind` names what it reads (Thumbor's type name, or IMAGE)."""

    name: str
    kind: str
    parse: Callable[[str], Any]
    default: Any = REQUIRED
    # What `parse` checks, declared again for those who cannot call it (the playground checks
    # arguments in the browser): the text's pattern (a regex that JavaScript reads the same)
    # and the values it refuses below or above. None: only `parse` knows.
    pattern: str | None = None
    refuse: Bounds | None = None
    choices: tuple[str, ...] | None = None  # the only values (in any case)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


# Thumbor's patterns, as BaseFilter spells them.
NUMBER = r"-?\d+"
POSITIVE_NUMBER = r"\d+"
POSITIVE_NONZERO_NUMBER = r"\d*[1-9]\d*"
DECIMAL_NUMBER = r"-?(?:\d+\.?\d*|\d*\.?\d+)"
BOOLEAN = r"[Tt]rue|[Ff]alse|1|0"


def _bounded(value: Any, clamp: Bounds | None, refuse: Bounds | None) -> Any:
    if refuse is not None:
        low, high = refuse
        if low is not None and value < low:
            raise ValueError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise ValueError(f"must be at most {high}, got {value}")
    if clamp is not None:
        low, high = clamp
        if low is not None:
            value = max(value, type(value)(low))
        if high is not None:
            value = min(value, type(value)(high))
    return value


class NumberParam(Protocol):
    def __call__(
        self,
        name: str,
        *,
        clamp: Bounds | None = None,
        refuse: Bounds | None = None,
        default: Any = REQUIRED,
    ) -> Param:
        """A parameter of this type called `name`."""
        ...


def _number(kind: str, pattern: str, convert: Callable[[str], float], what: str) -> NumberParam:
    compiled = re.compile(pattern)

    def declare(
        name: str,
        *,
        clamp: Bounds | None = None,
        refuse: Bounds | None = None,
        default: Any = REQUIRED,
    ) -> Param:
        def parse(text: str) -> Any:
            if not compiled.fullmatch(text):
                raise ValueError(f"expected {what} ({pattern}), got {text!r}")
            return _bounded(convert(text), clamp, refuse)

        return Param(name, kind, parse, default, pattern, refuse)

    return declare


Number = _number("Number", NUMBER, int, "a whole number")
PositiveNumber = _number("PositiveNumber", POSITIVE_NUMBER, int, "a whole number")
PositiveNonZeroNumber = _number(
    "PositiveNonZeroNumber", POSITIVE_NONZERO_NUMBER, int, "a whole number above 0"
)
DecimalNumber = _number("DecimalNumber", DECIMAL_NUMBER, float, "a decimal number")


def Boolean(name: str, default: Any = REQUIRED) -> Param:
    """Thumbor's `Boolean`: exactly `true`, `True`, `false`, `False`, `1` or `0`."""
    compiled = re.compile(BOOLEAN)

    def parse(text: str) -> bool:
        if not compiled.fullmatch(text):
            raise ValueError(f"expected true, false, 1 or 0, got {text!r}")
        return text in ("true", "True", "1")

    return Param(name, "Boolean", parse, default, BOOLEAN)


def _unquoted(text: str) -> str:
    """Thumbor's `String` strips one pair of single quotes."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def String(name: str, pattern: str = r".+", default: Any = REQUIRED) -> Param:
    """Thumbor's `String`, with its quotes stripped; `pattern` is what the filter does with it
    (Thumbor's filters check it themselves, and skip or fail on anything else)."""
    compiled = re.compile(pattern)

    def parse(text: str) -> str:
        text = _unquoted(text)
        if not compiled.fullmatch(text):
            raise ValueError(f"{text!r} is not valid here")
        return text

    return Param(name, "String", parse, default, pattern)


def Choice(name: str, choices: Sequence[str], default: Any = REQUIRED) -> Param:
    """A `String` that must be one of `choices`, in any case (Thumbor lower-cases it)."""
    allowed = {c.lower(): c for c in choices}

    def parse(text: str) -> str:
        try:
            return allowed[_unquoted(text).lower()]
        except KeyError:
            raise ValueError(f"expected one of {', '.join(choices)}, got {text!r}") from None

    return Param(name, "|".join(choices), parse, default, choices=tuple(choices))


def Overlay(name: str) -> Param:
    """A `String`: the key of another image, read through the source of the originals."""
    return String(name)._replace(kind=IMAGE)
