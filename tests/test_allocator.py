"""thumbor_urls/allocator.py: freed image buffers are reused instead of faulted in again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Twenty times, three 4.8 MB images made and dropped together in a fresh process (as a filter
# makes its intermediate images), counting page faults, i.e. the kernel zeroing fresh pages:
# each image faults its ~1,200 pages in unless the memory freed before it was kept.
# With "threads", round i runs on thread i % 4 of a pool of four, as the server's requests do:
# memory warmed by one thread helps the others only if they share one arena.
_CHURN = """
import queue, resource, sys, threading
from PIL import Image
from thumbor_urls import allocator
applied = allocator.keep_freed_memory() if sys.argv[1] == "tuned" else None
def churn():
    images = [Image.new("RGB", (1200, 1000), 1) for _ in range(3)]
    del images
def worker(tasks, done):
    while tasks.get():
        churn()
        done.put(True)
pool = [(queue.Queue(), queue.Queue()) for _ in range(4)]
for tasks, done in pool:
    threading.Thread(target=worker, args=(tasks, done), daemon=True).start()
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(20):
    if sys.argv[2] == "threads":
        tasks, done = pool[i % 4]
        tasks.put(True)
        done.get()
    else:
        churn()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _churn(mode: str, where: str = "main", **env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    clean.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", _CHURN, mode, where],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_image_memory_is_reused_instead_of_faulted_in_again() -> None:
    _, untuned = _churn("untuned")
    applied, tuned = _churn("tuned")
    assert applied == "True"
    assert untuned > 20 * 1000  # glibc's defaults: every image on fresh pages
    assert tuned < untuned / 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_threads_reuse_the_memory_other_threads_freed() -> None:
    _, untuned = _churn("untuned", "threads")
    applied, tuned = _churn("tuned", "threads")
    assert applied == "True"
    assert untuned > 10 * 1000  # (each thread's own arena warms up once, then keeps more)
    # One arena: not even the first round of each thread faults its images in again.
    assert tuned < 1000


def test_thresholds_set_by_the_operator_win() -> None:
    applied, faults = _churn("tuned", MALLOC_TRIM_THRESHOLD_="262144")
    assert applied == "False"
    assert faults > 20 * 1000
    applied, _ = _churn("tuned", GLIBC_TUNABLES="glibc.malloc.trim_threshold=262144")
    assert applied == "False"
