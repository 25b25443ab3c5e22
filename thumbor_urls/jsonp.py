"""JSONP for `meta/`: `?callback=NAME` (or `META_CALLBACK_NAME`) wraps the JSON in a call.

Thumbor's shape (thumbor/engines/json_engine.py and its handler): the body `NAME({...});` as
`text/javascript`; `META_CALLBACK_NAME`, when set, wins over the query; an empty `callback`
means plain JSON. Thumbor writes whatever NAME it is given into a script, which makes its
`meta/` a way to run anyone's JavaScript under the image server's origin; here NAME must be a
JavaScript name or a dotted path of them (`cb`, `jQuery123_456`, `app.images.onMeta`), ASCII
only and at most 128 characters, or the answer is a 400. (Thumbor 7.8 also writes a query's
NAME as Python bytes, `b'cb'({...});`, which no browser can call: the configured name shows
the shape it means.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from .errors import InvalidUrl
from .messages import Response


class InvalidCallback(InvalidUrl):
    """`meta/` with a `callback` that is not a JavaScript name or a dotted path of names."""

    code = "InvalidCallback"


MAX_LENGTH = 128
_NAME = r"[A-Za-z_$][A-Za-z0-9_$]*"
_PATH = re.compile(rf"{_NAME}(?:\.{_NAME})*")
# Words that cannot name a variable, so cannot start the path (after a dot they are property
# names, which JavaScript allows).
# fmt: off
RESERVED = frozenset({
    "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
    "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function",
    "if", "import", "in", "instanceof", "let", "new", "null", "return", "static", "super",
    "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
})
# fmt: on


def checked_callback(name: str | None) -> str | None:
    """`name` if it is a JavaScript name or dotted path, None if empty, else InvalidCallback."""
    if not name:
        return None
    if len(name) > MAX_LENGTH or not _PATH.fullmatch(name):
        raise InvalidCallback(
            "callback must be a JavaScript function name or dotted path (letters, digits, _ "
            f"and $, at most {MAX_LENGTH} characters), such as onMeta or app.images.onMeta"
        )
    first = name.partition(".")[0]
    if first in RESERVED:
        raise InvalidCallback(f"callback cannot start with the JavaScript word {first!r}")
    return name


def callback_for(configured: str, query: Mapping[str, str]) -> str | None:
    """The function `meta/` calls: META_CALLBACK_NAME (checked when the settings were read),
    else the query's `callback`, checked here; None for plain JSON."""
    return configured or checked_callback(query.get("callback"))


def jsonp_response(
    status: int, callback: str, payload: object, headers: Mapping[str, str] | None = None
) -> Response:
    # json.dumps escapes everything outside ASCII, U+2028 and U+2029 included, which older
    # JavaScript does not take inside a string; nosniff keeps browsers from reading it as HTML.
    body = f"{callback}({json.dumps(payload)});".encode()
    base = {"Content-Type": "text/javascript", "X-Content-Type-Options": "nosniff"}
    return Response(status, {**base, **(headers or {})}, body)
