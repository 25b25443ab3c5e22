"""Result writes after the answer (thumbor_urls/aws/after_answer.py): the handler answers before
its result is in the bucket, and the extension asks Lambda for its next event only once the
write is done. Lambda's runtime API has no local implementation: `FakeRuntimeApi` stands for its
Extensions API (tests/lambda_runtime.py); S3 is moto, the write held back by the tests' fault
proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lambda_runtime import FakeRuntimeApi, running_runtime_api
from tests.lambda_stack import Context, Stack, v2_event
from thumbor_urls.aws import lambda_handler, lifecycle
from thumbor_urls.aws.after_answer import NAME, DeferredWrites


@pytest.fixture
def runtime_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRuntimeApi]:
    with running_runtime_api() as api:
        monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", api.address)
        yield api


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
    answer = stack.call(v2_event(PATH), Context(aws_request_id="request-1"))
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
    assert stack.call(
        v2_event("/unsafe/40x30/nothing-here.jpg"), Context(aws_request_id="request-2")
    )
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
