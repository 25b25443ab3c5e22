"""What a Lambda answer gets after the core's, as named steps run in order: the fallback image
for errors, a redirect for bodies over Lambda's response limit, CORS. Each step may add fields
to the request's log line (`note`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..config import Settings
from ..errors import ImageServiceError
from ..messages import Request, Response, error_response
from .s3 import fallback_image, store_oversize

Note = dict[str, Any]
Step = Callable[[Settings, Request, Response, Note], Response]


def with_fallback(settings: Settings, request: Request, response: Response, note: Note) -> Response:
    """An error of an image request answered with the fallback image (its status and caching
    kept), when set; /healthcheck and /params/ answer as they are."""
    path = request.path.rstrip("/")
    if (
        response.status < 400
        or not settings.ENABLE_DEFAULT_FALLBACK_IMAGE
        or path == "/healthcheck"
        or path.startswith("/params/")
    ):
        return response
    try:
        data, content_type = fallback_image(
            settings.DEFAULT_FALLBACK_IMAGE_BUCKET,
            settings.DEFAULT_FALLBACK_IMAGE_KEY,
            settings.S3_TIMEOUT_SECONDS,
        )
    except ImageServiceError as error:
        note["fallbackError"] = error.code
        return response
    headers = {
        "Content-Type": content_type,
        "Cache-Control": response.headers.get("Cache-Control", "no-store"),
    }
    if response.body:
        headers["X-Error-Code"] = str(json.loads(response.body).get("code", ""))
    note["fallback"] = True
    return Response(response.status, headers, data)


def redirect_oversize(
    settings: Settings, request: Request, response: Response, note: Note
) -> Response:
    """Lambda answers at most 6 MB, base64 included: a larger body is stored in the result
    bucket under `oversize/` and answered by a redirect to that path on the same host, which
    CloudFront serves from the bucket and caches like any result. The redirect is cached as
    the image would have been: it always leads to the same bytes."""
    if len(response.body) <= settings.MAX_RESPONSE_BYTES or not settings.RESULT_STORAGE_BUCKET:
        return response
    cache_control = response.headers.get("Cache-Control", "no-cache")
    try:
        key = store_oversize(
            settings.RESULT_STORAGE_BUCKET,
            response.body,
            response.headers["Content-Type"],
            cache_control,
            settings.S3_TIMEOUT_SECONDS,
        )
    except ImageServiceError as error:
        return error_response(error, settings.ERROR_MAX_AGE)
    note["oversize"] = len(response.body)
    headers = {"Location": f"/{key}", "Cache-Control": cache_control}
    if "Vary" in response.headers:
        headers["Vary"] = response.headers["Vary"]
    return Response(302, headers)


def with_cors(settings: Settings, request: Request, response: Response, note: Note) -> Response:
    if settings.CORS_ENABLED:
        response.headers["Access-Control-Allow-Origin"] = settings.CORS_ORIGIN
        if settings.CORS_ORIGIN != "*":
            vary = response.headers.get("Vary")
            response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    return response


STEPS: tuple[Step, ...] = (with_fallback, redirect_oversize, with_cors)


def finish(settings: Settings, request: Request, response: Response, note: Note) -> Response:
    for step in STEPS:
        response = step(settings, request, response, note)
    return response
