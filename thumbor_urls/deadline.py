"""When a request's answer stops being wanted, and the checks that stop its work then.

Pillow cannot be interrupted inside one call, so the work checks between its pieces: between
the pipeline's steps, between frames, and between the passes of the long filters. Each piece
is bounded by the memory and work budgets (budget.py), so the work stops soon after its
answer has gone, and its memory goes with it. The deadline of the request running in this
thread is a context variable: deep helpers (a blur's passes) check it without every
signature on the way carrying it.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import ServiceUnavailable


class DeadlineExceeded(ServiceUnavailable):
    """The request ran past `REQUEST_DEADLINE_SECONDS`, or its client hung up: the work was
    abandoned; with `Retry-After`."""

    code = "DeadlineExceeded"


class Deadline:
    """A moment (time.monotonic) after which the work is abandoned, and optionally a test of
    whether the client that asked has gone."""

    __slots__ = ("at", "client_gone", "seconds")

    def __init__(
        self, seconds: float | None, client_gone: Callable[[], bool] | None = None
    ) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds
        self.client_gone = client_gone

    def remaining(self) -> float | None:
        """Seconds left, None without a deadline."""
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def check(self) -> None:
        if self.expired():
            raise DeadlineExceeded(
                f"the image took longer than {self.seconds:g} s to process; retry, or ask for less"
            )
        if self.client_gone is not None and self.client_gone():
            raise DeadlineExceeded("the client has gone; the work was abandoned")


_NONE = Deadline(None)
_CURRENT: contextvars.ContextVar[Deadline] = contextvars.ContextVar("deadline", default=_NONE)


@contextmanager
def running_until(deadline: Deadline) -> Iterator[Deadline]:
    """Make `deadline` the one checkpoint() checks, in this thread, for the block."""
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)


def current() -> Deadline:
    """The deadline of the request running in this thread (one that never passes outside one)."""
    return _CURRENT.get()


def checkpoint() -> None:
    """Stop here (DeadlineExceeded, a 503) if the current request's answer is no longer wanted."""
    _CURRENT.get().check()
