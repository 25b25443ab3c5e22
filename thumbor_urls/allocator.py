"""Keep freed image buffers in the process instead of handing them back to the kernel, and
give them back once the process is idle after requests far above its usual size.

glibc serves blocks above M_MMAP_THRESHOLD with a fresh mmap and gives the top of its heap back
to the kernel once more than M_TRIM_THRESHOLD is free there. Both start small and rise only after
a block that large has been freed, so until then every image a request makes gets fresh pages,
which the kernel zeroes one by one on first touch. Setting glibc's own ceilings at start skips
that warm-up. Each thread that runs requests keeps an arena of its own (glibc's default up to 8
a core; capped here at one per request thread and the main thread's): one arena shared by all
made concurrent requests wait for its lock and hand its heap's top back and forth to the kernel
(2,000-3,000 page faults a progressive thumbnail at 4 threads, none with an arena each). What an
arena keeps is at most what its own thread's requests held at once, each within its budget, so
the arenas together stay within the server's. The measurements are in docs/performance.md
("What makes the difference", "Threads").
"""

from __future__ import annotations

import os

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what glibc sets with it when it raises the threshold

# Set by an operator, these win: glibc reads them at start, and mallopt would override them.
_OPERATOR_SETTINGS = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_ARENA_MAX",
)


def keep_freed_memory(threads: int = 1) -> bool:
    """Apply the thresholds to this process, with an arena for each of its `threads` request
    threads and the main thread; False where they are not glibc's to set (musl, macOS,
    Windows) or the environment already sets them."""
    if any(name in os.environ for name in _OPERATOR_SETTINGS):
        return False
    if "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    import ctypes  # noqa: PLC0415 - 3 ms to import; only the entry points call this

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    # mallopt returns 1 on success; musl's is a stub returning 0.
    return (
        bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
        and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        and bool(mallopt(_M_ARENA_MAX, threads + 1))
    )


def give_back() -> bool:
    """Return freed memory to the system (glibc's malloc_trim): once idle after requests far
    larger than the thresholds above, whose buffers would otherwise stay resident for nobody."""
    import ctypes  # noqa: PLC0415 - imported by keep_freed_memory() already where it matters

    try:
        return bool(ctypes.CDLL(None).malloc_trim(0))
    except (OSError, AttributeError):
        return False
