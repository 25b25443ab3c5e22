"""The Lambda adapter: API Gateway events (REST v1, HTTP API v2) and direct invocations in, a proxy
response out. Every decision about images stays in `thumbor_urls.app`; this file only translates,
and adds what is Lambda's own: the signing key from Secrets Manager, the 6 MB response cap, the
deadline before API Gateway gives up, the fallback image, CORS and one JSON log line per request.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from .. import features
from ..app import App
from ..config import Settings
from ..deadline import Deadline
from ..errors import ImageServiceError, ServiceUnavailable
from ..messages import Request, Response, error_response
from ..stores import NoResultStore, ResultStore
from ..url import parse_path
from . import sih
from .s3 import S3ResultStore, S3Source, fallback_image, presign_oversize
from .secrets import signing_key


class _AccessLineCatcher(logging.Filter):
    """Takes the core's one-line JSON access record off the logger, so that the adapter can
    write a single line per request with its own fields added."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, dict[str, Any]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        try:
            self.lines[threading.get_ident()] = json.loads(record.getMessage())
        except ValueError:
            return True
        return False


_CATCHER = _AccessLineCatcher()
_ACCESS_LOG = logging.getLogger("thumbor_urls.access")
_ACCESS_LOG.addFilter(_CATCHER)
_ACCESS_LOG.setLevel(logging.INFO)  # the catcher sees the line; no handler writes it


class Service:
    """What one container keeps between invocations: settings, the App and its stores."""

    def __init__(self, settings: Settings) -> None:
        if settings.ENABLE_SIGNATURE:
            settings = settings.replace(SECURITY_KEY=signing_key(settings))
        results: ResultStore | None = None
        if settings.RESULT_STORAGE_BUCKET:
            results = S3ResultStore(
                settings.RESULT_STORAGE_BUCKET, timeout=settings.S3_TIMEOUT_SECONDS
            )
        elif settings.SOURCE_BUCKETS:
            results = NoResultStore()  # no bucket for results: never write to a container's /tmp
        if settings.SOURCE_BUCKETS:
            source = S3Source(
                settings.SOURCE_BUCKETS, settings.S3_TIMEOUT_SECONDS, settings.MAX_SOURCE_BYTES
            )
            self.app = App(settings, source, results)
        else:  # no bucket at all: the folder of originals (sls invoke local on samples/)
            self.app = App(settings, results=results)
        self.settings = settings


_CONTAINER: dict[str, Any] = {"cold": True}  # what outlives one invocation


def _service() -> Service:
    if "service" not in _CONTAINER:
        _CONTAINER["service"] = Service(Settings.from_env())
    service: Service = _CONTAINER["service"]
    return service


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    cold, _CONTAINER["cold"] = _CONTAINER["cold"], False
    started = time.perf_counter()
    if "imageKey" in event or "feature" in event:
        return _direct(event)
    request, kind = to_request(event)
    line: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    try:
        service = _service()
    except ImageServiceError as error:
        settings = Settings.from_env()
        response = _with_retry_after(error_response(error, settings.ERROR_MAX_AGE), error)
    else:
        settings = service.settings
        try:
            if sih.is_sih_path(request.path):
                request, extra["sihIgnoredEdits"] = sih.rewrite(request, settings.SECURITY_KEY)
                extra["sih"] = True
        except ImageServiceError as error:
            response = error_response(error, settings.ERROR_MAX_AGE)
            line = {"outcome": error.code}
        else:
            response, line = _handle_before_deadline(
                service.app, request, _deadline(settings, context), _remaining(context)
            )
        response = _after(settings, request, response, extra)
    if request.method == "HEAD" and response.body:
        response = response.without_body()
    line = {
        **line,
        "method": request.method,
        "path": request.path,
        "status": response.status,
        "event": kind,
        "coldStart": cold,
        "requestId": getattr(context, "aws_request_id", None),
        "totalMs": round((time.perf_counter() - started) * 1000, 1),
        **extra,
    }
    line.setdefault("outcome", "unavailable")
    line.setdefault("bytes", len(response.body))
    key = _image_key(request.path)
    if key is not None:
        line["key"] = key
    sys.stderr.write(json.dumps(line) + "\n")
    sys.stderr.flush()
    return to_proxy(response)


def to_request(event: Mapping[str, Any]) -> tuple[Request, str]:
    """API Gateway's event as our Request, and which kind of event it was."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    if event.get("version") == "2.0" or "rawPath" in event:
        http = (event.get("requestContext") or {}).get("http") or {}
        method = str(http.get("method") or "GET").upper()
        raw_path = str(event.get("rawPath") or "/")
        query = dict(parse_qsl(str(event.get("rawQueryString") or ""), keep_blank_values=True))
        kind = "apigw-v2"
    else:
        method = str(event.get("httpMethod") or "GET").upper()
        raw_path = str(event.get("path") or "/")
        query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
        kind = "apigw-v1"
    return Request(method, unquote(raw_path), headers, query, raw_path), kind


def to_proxy(response: Response) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": dict(response.headers),
        "body": base64.b64encode(response.body).decode("ascii"),
        "isBase64Encoded": True,
    }


def _remaining(context: Any) -> float | None:
    """Seconds before Lambda ends this invocation, where the context says."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else None


def _deadline(settings: Settings, context: Any) -> float:
    seconds = settings.REQUEST_DEADLINE_SECONDS
    remaining = _remaining(context)
    if remaining is not None:
        # Keep a second to answer before Lambda itself times out.
        seconds = min(seconds, max(0.1, remaining - 1.0))
    return seconds


# After its deadline, how long the work may take to reach its next check and stop (a step,
# a frame, a filter's pass), before the answer goes without it.
STOP_GRACE_SECONDS = 1.0


def _handle_before_deadline(
    app: App, request: Request, seconds: float, remaining: float | None
) -> tuple[Response, dict[str, Any]]:
    """The App's answer, or a 503 once `seconds` have passed. The work runs in a thread and
    checks the same deadline between its steps, frames and passes, so it stops soon after:
    it is waited for (within what is left of Lambda's time), so that no thread outlives the
    invocation and its memory is free for the next one."""
    deadline = Deadline(seconds)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["response"] = app.handle(request, deadline)
        finally:
            box["line"] = _CATCHER.lines.pop(threading.get_ident(), {})

    thread = threading.Thread(target=work, name="thumbor-urls-request", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        grace = STOP_GRACE_SECONDS if remaining is None else max(remaining - seconds - 0.2, 0.0)
        thread.join(min(grace, STOP_GRACE_SECONDS))
    response = box.get("response")
    if response is None or (deadline.expired() and response.status == 503):
        error = ServiceUnavailable(
            f"the image took longer than {seconds:.1f} s to process; retry, or ask for less"
        )
        return _with_retry_after(error_response(error, 0), error), {"outcome": "deadline"}
    return response, box.get("line", {})


def _with_retry_after(response: Response, error: ImageServiceError) -> Response:
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _after(
    settings: Settings, request: Request, response: Response, extra: dict[str, Any]
) -> Response:
    """Fallback image, oversize redirect and CORS."""
    if (
        response.status >= 400
        and settings.ENABLE_DEFAULT_FALLBACK_IMAGE
        and request.path.rstrip("/") != "/healthcheck"
    ):
        try:
            data, content_type = fallback_image(settings)
        except ImageServiceError as error:
            extra["fallbackError"] = error.code
        else:
            headers = {
                "Content-Type": content_type,
                "Cache-Control": response.headers.get("Cache-Control", "no-store"),
            }
            if response.body:
                headers["X-Error-Code"] = str(json.loads(response.body).get("code", ""))
            response = Response(response.status, headers, data)
            extra["fallback"] = True
    if len(response.body) > settings.MAX_RESPONSE_BYTES and settings.RESULT_STORAGE_BUCKET:
        try:
            url = presign_oversize(settings, response.body, response.headers["Content-Type"])
        except ImageServiceError as error:
            response = _with_retry_after(error_response(error, settings.ERROR_MAX_AGE), error)
        else:
            extra["oversize"] = len(response.body)
            # Cached for half the URL's life, so that a cached redirect never points to an
            # expired URL.
            max_age = settings.PRESIGNED_URL_EXPIRY // 2
            headers = {"Location": url, "Cache-Control": f"public, max-age={max_age}"}
            if "Vary" in response.headers:
                headers["Vary"] = response.headers["Vary"]
            response = Response(302, headers)
    if settings.CORS_ENABLED:
        response.headers["Access-Control-Allow-Origin"] = settings.CORS_ORIGIN
        if settings.CORS_ORIGIN != "*":
            vary = response.headers.get("Vary")
            response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    return response


def _image_key(path: str) -> str | None:
    """The image key, for the log line (best effort: the URL may be malformed)."""
    rest = path.lstrip("/").partition("/")[2]
    try:
        return parse_path(rest).image
    except Exception:
        return None


def _direct(event: Mapping[str, Any]) -> dict[str, Any]:
    """smartCropping and contentModeration (thumbor_urls.features): JSON in, JSON out."""
    try:
        answer = features.invoke(_service().app, event)
    except ImageServiceError as error:  # the service could not start (the signing secret)
        answer = error.as_dict()
    line = {
        "event": "direct",
        "feature": event.get("feature"),
        "imageKey": event.get("imageKey"),
        "status": answer.get("status"),
        "outcome": answer.get("code", "processed"),
    }
    sys.stderr.write(json.dumps(line) + "\n")
    return answer
