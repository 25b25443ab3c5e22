"""Result writes that wait until the answer has gone, on Lambda.

A render's result goes to the result bucket, and writing it before answering put an S3 round trip
on every render's path (half of what the result bucket added to a quick render, 9-17 ms against
moto on loopback and 30-32 with S3 10 ms away: docs/performance.md, "What the result bucket costs
a render"). Lambda sends the function's
answer to the caller as soon as the runtime posts it, but ends the invocation (and may freeze
the environment) only once every registered extension has asked for its next event. So during
init this process registers an internal extension with Lambda's Extensions API (a thread of its
own: `AfterAnswer`), and for each invocation the handler hands it the writes it deferred; the
extension does them, then asks for the next event. Work stays bounded: the writes run only
while the invocation has time left, and a handler that hands nothing over (which the handler's
`finally` prevents) holds the invocation only until a second before its deadline.

Not under SnapStart (lifecycle.py does not register it there): an HTTP request to the runtime API
held open across a snapshot is not something this has been tried with.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.client
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..stores import ResultStore, StoredResult

log = logging.getLogger(__name__)

API_VERSION = "2020-01-01"
NAME = "thumbor-urls-results"  # how Lambda lists the extension
# A write starts only with at least this much of the invocation left (an S3 PUT's own timeouts
# are a few seconds; one that cannot finish in time is skipped, as a failed write is).
MARGIN_SECONDS = 1.0
_GIVE_UP_AFTER = 5  # failed calls for the next event in a row: the extension reports and stops

Write = Callable[[], None]


class ExtensionsApi:
    """The calls of Lambda's Extensions API this needs, on `AWS_LAMBDA_RUNTIME_API`."""

    def __init__(self, address: str) -> None:
        host, _, port = address.partition(":")
        self.host, self.port = host, int(port or 80)
        self.identifier = ""

    def _call(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
        # No timeout: the next event may be minutes away, and the process is frozen meanwhile.
        connection = http.client.HTTPConnection(self.host, self.port)
        try:
            connection.request(method, f"/{API_VERSION}/extension/{path}", body, headers)
            answer = connection.getresponse()
            data = answer.read()
            if answer.status != 200:
                raise OSError(f"{method} {path}: HTTP {answer.status} {data[:200]!r}")
            return answer, data
        finally:
            connection.close()

    def register(self) -> None:
        body = json.dumps({"events": ["INVOKE"]}).encode()  # internal: INVOKE only
        headers = {"Lambda-Extension-Name": NAME, "Content-Type": "application/json"}
        answer, _ = self._call("POST", "register", body, headers)
        self.identifier = answer.getheader("Lambda-Extension-Identifier") or ""
        if not self.identifier:
            raise OSError("register: no Lambda-Extension-Identifier")

    def next_event(self) -> dict[str, Any]:
        _, data = self._call("GET", "event/next", None, self._me())
        event: dict[str, Any] = json.loads(data)
        return event

    def exit_error(self, kind: str) -> None:
        headers = {**self._me(), "Lambda-Extension-Function-Error-Type": kind}
        self._call("POST", "exit/error", b"{}", headers)

    def _me(self) -> dict[str, str]:
        return {"Lambda-Extension-Identifier": self.identifier}


class AfterAnswer:
    """The registered extension: hand_over() each invocation's deferred writes to it."""

    def __init__(self, api: ExtensionsApi) -> None:
        self.api = api
        self._handed: queue.Queue[tuple[str, list[Write]]] = queue.Queue()
        self.thread = threading.Thread(target=self._serve, name=NAME, daemon=True)

    @classmethod
    def register(cls, address: str) -> AfterAnswer | None:
        """Register with the runtime API at `address` and start asking for events; None where
        Lambda refuses (the handler then writes before answering, as without it)."""
        api = ExtensionsApi(address)
        try:
            api.register()
        except Exception as error:  # whatever it is, the writes stay before answers
            log.warning("result writes stay before the answer: %s", error)
            return None
        extension = cls(api)
        extension.thread.start()
        return extension

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def hand_over(self, request_id: str, writes: list[Write]) -> None:
        """The writes `request_id` deferred (maybe none): every invocation hands over once."""
        self._handed.put((request_id, writes))

    def _serve(self) -> None:
        # Nothing may end this loop but Lambda's API failing for good: while the extension is
        # registered, Lambda waits for it at every invocation.
        failures = 0
        while True:
            try:
                event = self.api.next_event()
            except Exception as error:  # http.client's own errors among them
                failures += 1
                log.warning("extension: no next event (%s)", error)
                if failures >= _GIVE_UP_AFTER:
                    # Report, so that Lambda replaces the environment instead of waiting for
                    # this extension until the deadline at every invocation.
                    with contextlib.suppress(Exception):
                        self.api.exit_error("Extension.NoNextEvent")
                    return
                time.sleep(0.1)
                continue
            failures = 0
            try:
                if event.get("eventType") == "INVOKE":
                    deadline = float(event["deadlineMs"]) / 1000
                    self._finish(str(event.get("requestId", "")), deadline)
            except Exception as error:  # the next event is asked for regardless
                log.warning("extension: %s: %s", type(error).__name__, error)

    def _finish(self, request_id: str, deadline: float) -> None:
        """Do the writes the invocation `request_id` hands over (and any an earlier one handed
        over too late), while it has time left."""
        while True:
            try:
                wait = max(deadline - time.time() - MARGIN_SECONDS, 0.0)
                handed, writes = self._handed.get(timeout=wait)
            except queue.Empty:
                log.warning("extension: invocation %s handed nothing over", request_id)
                return
            for write in writes:
                if deadline - time.time() < MARGIN_SECONDS:
                    log.warning("result write skipped: the invocation's time is up")
                    break
                try:
                    write()
                except Exception as error:  # a store's failure, already logged by most
                    log.warning("result write failed after the answer: %s", error)
            if handed == request_id:
                return


class DeferredWrites:
    """A result store whose writes, inside deferred(), wait in a list instead of being made;
    reads, and writes outside it (a direct invocation's, which answers with the stored key),
    go straight to `inner`."""

    def __init__(self, inner: ResultStore) -> None:
        self.inner = inner
        self._pending: contextvars.ContextVar[list[Write] | None] = contextvars.ContextVar(
            "pending_result_writes", default=None
        )

    def __repr__(self) -> str:
        return f"{self.inner!r}, written after the answer"

    @contextlib.contextmanager
    def deferred(self, pending: list[Write]) -> Iterator[None]:
        """Writes made inside go to `pending` (in this context and in copies of it: the
        request's worker thread)."""
        token = self._pending.set(pending)
        try:
            yield
        finally:
            self._pending.reset(token)

    def _write(self, write: Write) -> None:
        pending = self._pending.get()
        if pending is None:
            write()
        else:
            pending.append(write)

    def get(self, key: str) -> StoredResult | None:
        return self.inner.get(key)

    def put(self, key: str, data: bytes, content_type: str, vary_accept: bool) -> None:
        self._write(lambda: self.inner.put(key, data, content_type, vary_accept))

    def get_data(self, key: str) -> dict[str, Any] | None:
        return self.inner.get_data(key)

    def put_data(self, key: str, value: dict[str, Any]) -> None:
        self._write(lambda: self.inner.put_data(key, value))
