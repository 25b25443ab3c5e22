"""A stand-in for Lambda's runtime API, as far as its Extensions API goes (register, event/next,
exit/error, as AWS documents them), on loopback: Lambda's runtime has no local implementation.
For tests/test_after_answer.py and bench/cold.py."""

from __future__ import annotations

import contextlib
import http.server
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

PREFIX = "/2020-01-01/extension/"


class FakeRuntimeApi(http.server.ThreadingHTTPServer):
    """Lambda's Extensions API for one extension: `events` are what event/next answers, in
    order (it waits for the next one); `on_next` runs as each call for the next event arrives."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.refuse = False  # register answers 403
        self.failing = False  # event/next answers 500
        self.registered: list[dict[str, Any]] = []
        self.nexts: list[float] = []  # when each call for the next event came
        self.errors: list[str] = []
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.on_next: Callable[[int], None] = lambda count: None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An extension's call for the next event cut when its process ends is expected."""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def invoke(self, request_id: str, seconds_left: float = 30.0) -> None:
        deadline_ms = int((time.time() + seconds_left) * 1000)
        self.events.put({"eventType": "INVOKE", "requestId": request_id, "deadlineMs": deadline_ms})

    def wait_for_nexts(self, count: int, timeout: float = 15.0) -> bool:
        end = time.monotonic() + timeout
        while len(self.nexts) < count and time.monotonic() < end:
            time.sleep(0.01)
        return len(self.nexts) >= count


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeRuntimeApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, status: int, body: dict[str, Any], **headers: str) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == PREFIX + "register":
            if self.server.refuse:
                self._answer(403, {"errorType": "Extension.RegistrationRefused"})
                return
            self.server.registered.append(
                {"name": self.headers["Lambda-Extension-Name"], **json.loads(body)}
            )
            self._answer(200, {}, **{"Lambda-Extension-Identifier": "extension-1"})
        elif self.path == PREFIX + "exit/error":
            self.server.errors.append(self.headers["Lambda-Extension-Function-Error-Type"])
            self._answer(200, {"status": "OK"})

    def do_GET(self) -> None:
        assert self.path == PREFIX + "event/next"
        assert self.headers["Lambda-Extension-Identifier"] == "extension-1"
        arrived = time.monotonic()
        self.server.on_next(len(self.server.nexts) + 1)
        self.server.nexts.append(arrived)  # after on_next: wait_for_nexts() sees what it saw
        if self.server.failing:
            self._answer(500, {"errorType": "Runtime.Unavailable"})
            return
        self._answer(200, self.server.events.get())


@contextlib.contextmanager
def running_runtime_api() -> Iterator[FakeRuntimeApi]:
    """A FakeRuntimeApi serving on loopback for the block; at its end, its extension (if any)
    gets errors and stops."""
    api = FakeRuntimeApi()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    try:
        yield api
    finally:
        api.failing = True  # the extension's thread gives up and ends
        api.events.put({"eventType": "SHUTDOWN"})
        api.shutdown()
        api.server_close()
