"""Result writes after the answer (thumbor_urls/aws/after_answer.py): the handler answers before
its result is in the bucket, and the extension asks Lambda for its next event only once the
write is done. Lambda's runtime API has no local implementation: `FakeRuntimeApi` stands for its
Extensions API, as AWS documents it (register, event/next, exit/error), on loopback; S3 is moto,
the write held back by the tests' fault proxy."""

from __future__ import annotations

import http.server
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.lambda_stack import Context, Stack
from thumbor_urls.aws import lambda_handler, lifecycle
from thumbor_urls.aws.after_answer import NAME, DeferredWrites

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


@pytest.fixture
def runtime_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRuntimeApi]:
    api = FakeRuntimeApi()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", api.address)
    try:
        yield api
    finally:
        api.failing = True  # the extension's thread gives up and ends
        api.events.put({"eventType": "SHUTDOWN"})
        api.shutdown()
        api.server_close()


PATH = "/unsafe/40x30/astronaut.jpg"


def test_the_answer_goes_before_its_result_is_written(
    stack: Stack, runtime_api: FakeRuntimeApi
) -> None:
    assert lifecycle.register_after_answer() is True
    assert runtime_api.registered == [{"name": NAME, "events": ["INVOKE"]}]
    assert runtime_api.wait_for_nexts(1)  # init ends: the extension waits for an event
    assert isinstance(lambda_handler._service().app.results, DeferredWrites)
    written_by_next: list[list[str]] = []
    runtime_api.on_next = lambda count: written_by_next.append(stack.result_keys())
    stack.aws.proxy.inject("results/", method="PUT", delay=1.5)  # S3 holds the write back
    runtime_api.invoke("request-1")
    answer = stack.call(v2(PATH), Context(aws_request_id="request-1"))
    assert answer.status == 200
    assert stack.result_keys() == []  # answered with the write still on its way
    assert len(runtime_api.nexts) == 1  # and the invocation still open
    assert runtime_api.wait_for_nexts(2)
    assert len(written_by_next[0]) == 1  # the write done before the extension asked for more
    assert stack.get(PATH).log["outcome"] == "result-cache"  # the next request finds it


def test_every_invocation_hands_over_even_without_a_write(
    stack: Stack, runtime_api: FakeRuntimeApi
) -> None:
    assert lifecycle.register_after_answer() is True
    assert runtime_api.wait_for_nexts(1)
    runtime_api.invoke("request-2", seconds_left=60)
    assert stack.call(v2("/unsafe/40x30/nothing-here.jpg"), Context(aws_request_id="request-2"))
    # Not a minute: the handler handed over its (empty) list at once.
    assert runtime_api.wait_for_nexts(2, timeout=10)


def test_an_invocation_that_hands_nothing_over_is_let_go_before_its_deadline(
    runtime_api: FakeRuntimeApi, stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    assert lifecycle.register_after_answer() is True
    assert runtime_api.wait_for_nexts(1)
    runtime_api.invoke("lost", seconds_left=2.5)
    assert runtime_api.wait_for_nexts(2, timeout=10)
    assert runtime_api.nexts[1] - runtime_api.nexts[0] < 2.5  # a second before the deadline
    assert "handed nothing over" in caplog.text


def test_an_event_it_cannot_read_does_not_stop_the_extension(
    runtime_api: FakeRuntimeApi, stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    assert lifecycle.register_after_answer() is True
    assert runtime_api.wait_for_nexts(1)
    runtime_api.events.put({"eventType": "INVOKE", "requestId": "odd"})  # no deadlineMs
    assert runtime_api.wait_for_nexts(2, timeout=10)
    assert "KeyError" in caplog.text
    assert lambda_handler.after_answer() is not None


def test_where_lambda_refuses_the_extension_results_are_written_before_answering(
    stack: Stack, runtime_api: FakeRuntimeApi
) -> None:
    runtime_api.refuse = True
    assert lifecycle.register_after_answer() is False
    assert not isinstance(lambda_handler._service().app.results, DeferredWrites)
    assert stack.get(PATH).status == 200
    assert len(stack.result_keys()) == 1


def test_off_under_snapstart_and_by_setting(
    stack: Stack, runtime_api: FakeRuntimeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    assert lifecycle.register_after_answer() is False
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE")
    stack.configure(RESULT_STORAGE_AFTER_ANSWER="No")
    assert lifecycle.register_after_answer() is False
    assert runtime_api.registered == []


def test_an_extension_without_events_reports_and_stops_and_writes_go_back_before(
    stack: Stack, runtime_api: FakeRuntimeApi
) -> None:
    runtime_api.failing = True
    assert lifecycle.register_after_answer() is True
    extension = lambda_handler._CONTAINER["after"]
    extension.thread.join(10)
    assert not extension.alive
    assert runtime_api.errors == ["Extension.NoNextEvent"]  # Lambda replaces the environment
    assert lambda_handler.after_answer() is None
    stack.configure()  # a service built now writes before answering
    assert stack.get(PATH).status == 200
    assert len(stack.result_keys()) == 1


def v2(path: str) -> dict[str, Any]:
    from tests.lambda_stack import v2_event

    return v2_event(path)
