"""The service's own request and response, which every adapter (WSGI, Lambda) translates to."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .errors import ImageServiceError


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded, once: parsing never decodes it again
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    query: Mapping[str, str] = field(default_factory=dict)
    raw_path: str | None = None  # as sent, percent-encoded, when the adapter knows it

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def without_body(self) -> Response:
        """For HEAD: the same headers, Content-Length included, and no body."""
        headers = {**self.headers, "Content-Length": str(len(self.body))}
        return replace(self, headers=headers, body=b"")


def json_response(
    status: int, payload: object, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(payload).encode()
    return Response(status, {"Content-Type": "application/json", **(headers or {})}, body)


def error_response(error: ImageServiceError, error_max_age: int) -> Response:
    # Client errors are cached briefly (a CDN must not hammer us with the same bad URL, nor keep
    # an error for a year once the image appears); server-side failures are not cached at all.
    cache = f"public, max-age={error_max_age}" if error.status < 500 else "no-store"
    headers = {"Cache-Control": cache}
    if error.status == 405:
        headers["Allow"] = "GET, HEAD"
    return json_response(error.status, error.as_dict(), headers)
