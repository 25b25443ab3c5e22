"""The HTTP loader's own failures. Their messages name the image's URL as the client wrote it at
most, never an address it resolved to nor where a redirect pointed: the answer must not tell
a client anything about the network behind this service."""

from __future__ import annotations

from ..errors import ImageServiceError


class SourceNotAllowed(ImageServiceError):
    """(http) An image URL this server does not fetch: not `http` or `https`, with a user name or
    password in it, or a host outside `ALLOWED_SOURCES` (checked again on every redirect)."""

    status, code = 400, "SourceNotAllowed"


class AddressNotAllowed(ImageServiceError):
    """(http) The image's host, or a redirect's, is or resolves to an address this server never
    fetches from: loopback, private, link-local (cloud metadata), multicast, reserved
    (`HTTP_LOADER_ALLOW_LOOPBACK` and `HTTP_LOADER_ALLOW_PRIVATE` open the first two). Refused
    before any connection is made."""

    status, code = 400, "AddressNotAllowed"


class UpstreamError(ImageServiceError):
    """(http) The origin could not be reached, answered a 5xx, broke off, sent a body it did not
    finish or in an encoding we do not read, redirected too often or from https to http, or its
    certificate was not valid for its host."""

    status, code = 502, "UpstreamError"


class UpstreamTimeout(ImageServiceError):
    """(http) The origin did not connect within `HTTP_LOADER_CONNECT_TIMEOUT` or did not send the
    whole image within `HTTP_LOADER_REQUEST_TIMEOUT` (a slow body included)."""

    status, code = 504, "UpstreamTimeout"
