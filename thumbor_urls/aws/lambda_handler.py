"""The Lambda adapter: API Gateway events (REST v1, HTTP API v2) and direct invocations in, a proxy
response out. Every decision about images stays in `thumbor_urls.app`; this module holds what is
Lambda's own: the container's service (with the signing key from Secrets Manager), the deadline
before API Gateway gives up, and one JSON log line per request. Events are translated in
events.py, answers finished (fallback image, oversize redirect, CORS) in responses.py.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from .. import features
from ..app import App
from ..config import Settings
from ..deadline import Deadline
from ..errors import ImageServiceError, ServiceUnavailable
from ..messages import Access, Request, Response, error_response
from ..stores import NoResultStore, ResultStore
from . import responses, sih
from .events import is_direct, to_proxy, to_request
from .s3 import S3ResultStore, S3Source
from .secrets import signing_key

# After its deadline, how long the work may take to reach its next check and stop (a step,
# a frame, a filter's pass), before the answer goes without it.
STOP_GRACE_SECONDS = 1.0


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
    if is_direct(event):
        return _direct(event)
    request, kind = to_request(event)
    core: dict[str, Any] = {}  # the core's access record, when the core answered
    note: responses.Note = {}
    try:
        service = _service()
    except ImageServiceError as error:  # the signing secret could not be read
        response = error_response(error, Settings.from_env().ERROR_MAX_AGE)
    else:
        settings = service.settings
        try:
            # SIH_COMPAT: the App reads every SIH request style itself (thumbor_urls/sih).
            if not settings.SIH_COMPAT and sih.is_sih_path(request.path):
                request, note["sihIgnoredEdits"] = sih.rewrite(request, settings.SECURITY_KEY)
                note["sih"] = True
        except ImageServiceError as error:
            response = error_response(error, settings.ERROR_MAX_AGE)
            core["outcome"] = error.code
        else:
            response, core = _handle_before_deadline(
                service.app, request, _deadline(settings, context), _remaining(context)
            )
        response = responses.finish(settings, request, response, note)
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
