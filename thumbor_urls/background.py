"""Work started in a thread of its own and waited for later: what it returns, or its exception,
raised in the thread that waits. The thread runs in a copy of the starting thread's context, so
that context variables (a request's headers, its deferred result writes) carry over."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def start(name: str, work: Callable[[], T]) -> Callable[[], T]:
    """Start `work` in a thread called `name`; a function that waits for it."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # raised again in the thread that waits for it
            outcome["error"] = error

    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(run,), name=name, daemon=True)
    thread.start()

    def wait() -> T:
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        value: T = outcome["value"]
        return value

    return wait
