"""The Lambda adapter: API Gateway events (REST v1, HTTP API v2) and direct invocations in, a proxy
response out. Every decision about images stays in `thumbor_urls.app`; this module holds what is
Lambda's own: the container's service (with the signing key from Secrets Manager), the deadline
before API Gateway gives up, and one JSON log line per request. Events are translated in
events.py, answers finished (fallback image, oversize redirect, CORS) in responses.py.
"""

from __future__ import annotations

import contextvars
import hmac
import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from .. import features
from ..app import App
from ..config import Settings
from ..deadline import Deadline
from ..errors import ImageServiceError, OriginNotAllowed, ServiceUnavailable
from ..loaders import build_source
from ..messages import Access, Request, Response, error_response
from ..stores import NoResultStore, ResultStore
from . import responses
from .after_answer import AfterAnswer, DeferredWrites, Write
from .events import is_direct, to_proxy, to_request
from .s3 import S3ResultStore, S3Source
from .secrets import read_keys, read_secret

# After its deadline, how long the work may take to reach its next check and stop (a step,
# a frame, a filter's pass), before the answer goes without it.
STOP_GRACE_SECONDS = 1.0

ORIGIN_HEADER = "X-Origin-Verify"  # what CloudFront sends the origin secret as


class Service:
    """What one container keeps between invocations: settings, the App and its stores."""

    def __init__(self, settings: Settings) -> None:
        timeout = settings.S3_TIMEOUT_SECONDS
        if settings.ENABLE_SIGNATURE:
            if not settings.SECRETS_MANAGER:
                raise ServiceUnavailable(
                    "ENABLE_SIGNATURE is on but SECRETS_MANAGER names no secret"
                )
            keys = read_keys(settings.SECRETS_MANAGER, settings.SECRET_KEY, timeout, "signing key")
            settings = settings.replace(SECURITY_KEY=keys[0], SECURITY_KEYS=keys)
        # What CloudFront sends in X-Origin-Verify; None: every caller is served.
        self.origin_token: str | None = None
        if settings.ORIGIN_SECRET:
            self.origin_token = read_secret(settings.ORIGIN_SECRET, "", timeout, "origin secret")
        results: ResultStore | None = None
        if settings.RESULT_STORAGE_BUCKET:
            results = S3ResultStore(
                settings.RESULT_STORAGE_BUCKET, timeout=settings.S3_TIMEOUT_SECONDS
            )
            if after_answer() is not None and settings.RESULT_STORAGE_AFTER_ANSWER:
                results = DeferredWrites(results)
        elif settings.SOURCE_BUCKETS:
            results = NoResultStore()  # no bucket for results: never write to a container's /tmp
        source = None  # no bucket at all: LOADERS, by default the folder (sls invoke local)
        if settings.SOURCE_BUCKETS:
            s3 = S3Source(
                settings.SOURCE_BUCKETS, settings.S3_TIMEOUT_SECONDS, settings.MAX_SOURCE_BYTES
            )
            source = build_source(settings, results or NoResultStore(), s3)  # LOADERS, or s3
        self.app = App(settings, source, results)
        self.settings = settings


_CONTAINER: dict[str, Any] = {"cold": True}  # what outlives one invocation


def _service() -> Service:
    if "service" not in _CONTAINER:
        _CONTAINER["service"] = Service(container_settings())
    service: Service = _CONTAINER["service"]
    return service


def container_settings() -> Settings:
    """The environment's settings, as the container's service is built with them."""
    settings = Settings.from_env()
    if settings.ENABLE_SIGNATURE and "ALLOW_UNSAFE_URL" not in os.environ:
        # Signing on means unsafe URLs off, unless the operator asked for both.
        settings = settings.replace(ALLOW_UNSAFE_URL=False)
    return settings


def build_service(settings: Settings | None = None) -> Service:
    """The container's service, built now (Lambda's init phase: lifecycle.py) rather than by
    the first request; `settings` instead of the environment's."""
    if settings is not None:
        _CONTAINER["service"] = Service(settings)
    return _service()


def after_answer() -> AfterAnswer | None:
    """The extension that writes results after the answer (after_answer.py), once registered
    and while it runs."""
    found: AfterAnswer | None = _CONTAINER.get("after")
    return found if found is not None and found.alive else None


def write_after_answer(extension: AfterAnswer) -> None:
    """Leave result writes to `extension` (registered during init) in services built from now."""
    _CONTAINER["after"] = extension


def forget_service() -> None:
    """The next request builds the service again (after a SnapStart restore: see lifecycle.py)."""
    _CONTAINER.pop("service", None)


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    writes: list[Write] = []  # result writes left for after the answer
    try:
        return _invocation(event, context, writes)
    finally:
        # Every invocation hands over, even with nothing: the extension waits for it.
        extension = after_answer()
        if extension is not None:
            extension.hand_over(getattr(context, "aws_request_id", ""), writes)


def _invocation(event: Mapping[str, Any], context: Any, writes: list[Write]) -> dict[str, Any]:
    cold, _CONTAINER["cold"] = _CONTAINER["cold"], False
    started = time.perf_counter()
    if is_direct(event):
        return _direct(event)
    request, kind = to_request(event)
    core: dict[str, Any] = {}  # the core's access record, when the core answered
    note: responses.Note = {}
    try:
        service = _service()
    except ImageServiceError as error:  # a secret could not be read
        response = error_response(error, Settings.from_env().ERROR_MAX_AGE)
    else:
        results = service.app.results
        if isinstance(results, DeferredWrites) and after_answer() is not None:
            with results.deferred(writes):
                response, core = _answer(service, request, context, note)
        else:
            response, core = _answer(service, request, context, note)
    if request.method == "HEAD" and response.body:
        response = response.without_body()
    line = {
        "method": request.method,
        "path": request.path,
        "status": response.status,
        "outcome": "unavailable",
        "bytes": len(response.body),
        **core,
    }
    line.update(
        method=request.method,
        path=request.path,
        status=response.status,
        event=kind,
        coldStart=cold,
        requestId=getattr(context, "aws_request_id", None),
        totalMs=round((time.perf_counter() - started) * 1000, 1),
        **note,
    )
    sys.stderr.write(json.dumps(line) + "\n")
    sys.stderr.flush()
    return to_proxy(response)


def _answer(
    service: Service, request: Request, context: Any, note: responses.Note
) -> tuple[Response, dict[str, Any]]:
    """The answer to an API request and the core's access record."""
    settings = service.settings
    try:
        _check_origin(service, request)
    except OriginNotAllowed as error:  # never the fallback image, nor anything else of ours
        return error_response(error, 0), {"outcome": error.code}
    # HEAD is rendered as GET: an oversize answer must be stored and redirected to the same
    # way; the body is dropped at the end.
    rendered = request._replace(method="GET") if request.method == "HEAD" else request
    response, core = _handle_before_deadline(
        service.app, rendered, _deadline(settings, context), _remaining(context)
    )
    return responses.finish(settings, request, response, note), core


def _check_origin(service: Service, request: Request) -> None:
    """Only CloudFront knows the origin secret: anyone calling the API's own URL is refused,
    so that nobody can skip the CDN's cache, its WAF and its throttling."""
    expected = service.origin_token
    if expected is None:
        return
    sent = request.header(ORIGIN_HEADER)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise OriginNotAllowed("this API answers only through its CloudFront distribution")


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


def _handle_before_deadline(
    app: App, request: Request, seconds: float, remaining: float | None
) -> tuple[Response, dict[str, Any]]:
    """The App's answer and its access record, or a 503 once `seconds` have passed. The work
    runs in a thread and checks the same deadline between its steps, frames and passes, so it
    stops soon after: it is waited for (within what is left of Lambda's time), so that no
    thread outlives the invocation and its memory is free for the next one."""
    deadline = Deadline(seconds)
    box: dict[str, Any] = {}

    def record(access: Access) -> None:
        box["access"] = access.as_dict()

    def work() -> None:
        box["response"] = app.handle(request, deadline, record)

    # In the request's context: a result write it makes may be one to defer (DeferredWrites).
    run = contextvars.copy_context().run
    thread = threading.Thread(target=run, args=(work,), name="thumbor-urls-request", daemon=True)
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
        return error_response(error, 0), {"outcome": "deadline"}
    return response, box.get("access", {})


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
