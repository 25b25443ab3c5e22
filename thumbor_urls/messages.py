"""The service's own request and response, which every adapter (WSGI, Lambda) translates to."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from .errors import ImageServiceError

if TYPE_CHECKING:
    from .trace import Trace

_NO_ENTRIES: Mapping[str, str] = MappingProxyType({})


# NamedTuple and a plain class rather than dataclasses: importing dataclasses costs 7 ms of
# every cold start.
class Request(NamedTuple):
    method: str
    path: str  # percent-decoded, once: parsing never decodes it again
    headers: Mapping[str, str] = _NO_ENTRIES  # lower-case names
    query: Mapping[str, str] = _NO_ENTRIES
    raw_path: str | None = None  # as sent, percent-encoded, when the adapter knows it

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


class Response:
    """Status, headers (which adapters add to) and body."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self, status: int, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> None:
        self.status = status
        self.headers = {} if headers is None else headers
        self.body = body

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.headers!r}, <{len(self.body)} bytes>)"

    def without_body(self) -> Response:
        """For HEAD: the same headers, Content-Length included, and no body."""
        return Response(self.status, {**self.headers, "Content-Length": str(len(self.body))})


class Access(NamedTuple):
    """What became of one request: what an adapter writes as its log line."""

    method: str
    path: str
    status: int
    outcome: str  # processed, result-cache, meta, healthcheck, or the error's code
    bytes: int
    ms: float
    image: str | None = None  # the image's key, once the URL was parsed
    trace: Trace | None = None  # stages' times, source, operations, output

    def as_dict(self) -> dict[str, object]:
        line: dict[str, object] = {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "outcome": self.outcome,
            "bytes": self.bytes,
            "ms": self.ms,
        }
        if self.image is not None:
            line["key"] = self.image
        if self.trace is not None:
            line.update(self.trace.as_dict())
        return line


def json_response(
    status: int, payload: object, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(payload).encode()
    # JSON answers echo parts of the URL: no browser may take them for HTML.
    base = {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"}
    return Response(status, {**base, **(headers or {})}, body)


def error_response(error: ImageServiceError, error_max_age: int) -> Response:
    # Client errors are cached briefly (a CDN must not hammer us with the same bad URL, nor keep
    # an error for a year once the image appears); server-side failures are not cached at all.
    cache = f"public, max-age={error_max_age}" if error.status < 500 else "no-store"
    headers = {"Cache-Control": cache}
    if error.status == 405:
        headers["Allow"] = "GET, HEAD"
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return json_response(error.status, error.as_dict(), headers)
