"""Keep freed image buffers in the process instead of handing them back to the kernel, and
give them back once the process is idle after requests far above its usual size.

glibc serves blocks above M_MMAP_THRESHOLD with a fresh mmap and gives the top of its heap back
to the kernel once more than M_TRIM_THRESHOLD is free there. Both start small and rise only after
a block that large has been freed, so until then every image a request makes gets fresh pages,
which the kernel zeroes one by one on first touch. Setting glibc's mmap ceiling at start skips
that warm-up; one arena for all threads lets whichever server thread takes a request reuse the
same warm heap, and lets malloc_trim give all of it back (it cannot shrink the top of another
arena's heap). The trim threshold is high so that the heap's top stays while requests run: at
glibc's 64 MB, four requests freeing 30-50 MB each at about the same time crossed it again and
again, and the top went back to the kernel and was faulted in again (2,000-3,800 page faults a
progressive thumbnail at 4 threads); it goes back once the process has been idle a moment
(IdleGiveBack). The peak does not change (the same buffers exist at the same time). The
measurements are in docs/performance.md ("What makes the difference", "Threads").
"""

from __future__ import annotations

import os
from threading import Lock, Timer
from time import monotonic

from .budget import resident_bytes

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
# Above what the requests of a default server (1 GiB) or Lambda free at once; glibc's own,
# once it raises the mmap threshold, is twice that (64 MB).
TRIM_THRESHOLD = 1 << 30

# Freed memory the process keeps above its idle size between requests, and how long it must
# have been idle before the rest goes back: a burst of requests right after an idle instant
# would fault everything in again (4 progressive thumbnails at once: 1.0-1.25x one's throughput
# when it went back at once, 1.6-2.1x without; docs/performance.md, "Threads").
GIVE_BACK_ABOVE = 128 << 20
GIVE_BACK_AFTER_SECONDS = 1.0

# mallopt's parameter, our value, and how an operator sets it (the environment variable, the
# tunable): an operator's setting wins over ours, parameter by parameter (glibc reads it at
# start, and mallopt would override it). MALLOC_ARENA_MAX=8, say, gives each server thread an
# arena of its own: animated GIFs scale better on threads, and more memory stays when idle.
_SETTINGS = (
    (_M_MMAP_THRESHOLD, MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),
    (_M_TRIM_THRESHOLD, TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),
    (_M_ARENA_MAX, 1, "MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),
)


def keep_freed_memory() -> bool:
    """Apply the thresholds and the single arena to this process, but for what the operator
    set; False where they are not glibc's to set (musl, macOS, Windows)."""
    import ctypes  # noqa: PLC0415 - 3 ms to import; only the entry points call this

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    applied = True
    for parameter, value, variable, tunable in _SETTINGS:
        if variable not in os.environ and f"{tunable}=" not in tunables:
            # mallopt returns 1 on success; musl's is a stub returning 0.
            applied = bool(mallopt(parameter, value)) and applied
    return applied


def give_back() -> bool:
    """Return freed memory to the system (glibc's malloc_trim): once idle after requests far
    larger than usual, whose buffers would otherwise stay resident for nobody."""
    import ctypes  # noqa: PLC0415 - imported by keep_freed_memory() already where it matters

    try:
        return bool(ctypes.CDLL(None).malloc_trim(0))
    except (OSError, AttributeError):
        return False


class IdleGiveBack:
    """Counts the requests in flight and gives freed memory back (give_back) once none has run
    for `after` seconds while the process holds more than `above` bytes over `idle`, its size
    before any request. One timer at most is pending; a request that starts meanwhile puts the
    give-back off until the process is idle again."""

    def __init__(
        self,
        idle: int | None,
        above: int = GIVE_BACK_ABOVE,
        after: float = GIVE_BACK_AFTER_SECONDS,
    ) -> None:
        self.idle, self.above, self.after = idle, above, after
        self._in_flight = 0
        self._idle_since = 0.0  # monotonic() when the last request in flight ended
        self._timer: Timer | None = None
        self._lock = Lock()

    def started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def finished(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight or self.idle is None:
                return
            self._idle_since = monotonic()
            if self._timer is not None:
                return  # it will see the new idle time
        resident = resident_bytes()
        if resident is not None and resident - self.idle > self.above:
            self._wait(self.after)

    def _wait(self, seconds: float) -> None:
        with self._lock:
            if self._timer is None:
                self._timer = Timer(seconds, self._check)
                self._timer.name = "thumbor-urls-give-back"
                self._timer.daemon = True
                self._timer.start()

    def _check(self) -> None:
        with self._lock:
            self._timer = None
            if self._in_flight:
                return  # the last of them to end looks again
            left = self._idle_since + self.after - monotonic()
        if left > 0:
            self._wait(left)
        else:
            give_back()
