"""thumbor_urls/allocator.py: freed image buffers are reused instead of faulted in again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Twenty rounds of three images made and dropped together in a fresh process (as a filter
# makes its intermediate images), counting page faults, i.e. the kernel zeroing fresh pages:
# each image faults its pages in again unless the memory freed before it was kept.
# "main": 4.8 MB images on the main thread. "threads": the same, round i on thread i % 4 of a
# pool of four, taking turns as a lightly loaded server's requests do. "together": the four
# threads at once, 12 MB images (4 x 36 MB: more than glibc's trim threshold), as a busy
# server's. The count starts once each thread has had a round: each warms its arena once.
_CHURN = """
import resource, sys, threading
from PIL import Image
from thumbor_urls import allocator
applied = allocator.keep_freed_memory(4) if sys.argv[1] == "tuned" else None
where = sys.argv[2]
size = (2000, 1500) if where == "together" else (1200, 1000)
def churn():
    images = [Image.new("RGB", size, 1) for _ in range(3)]
    del images
turns = [threading.Semaphore(0) for _ in range(4)]
done = threading.Semaphore(0)
def worker(turn):
    while True:
        turn.acquire()
        churn()
        done.release()
for turn in turns:
    threading.Thread(target=worker, args=(turn,), daemon=True).start()
def run(i):
    if where == "main":
        churn()
    elif where == "threads":
        turns[i % 4].release()
        done.acquire()
    elif i % 4 == 0:
        for turn in turns:
            turn.release()
        for _ in turns:
            done.acquire()
for i in range(4):
    run(i)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(20 * (4 if where == "together" else 1)):
    run(i)
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
def test_each_thread_reuses_the_memory_it_freed() -> None:
    _, untuned = _churn("untuned", "threads")
    applied, tuned = _churn("tuned", "threads")
    assert applied == "True"
    assert untuned > 10 * 1000
    assert tuned < 1000


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_threads_at_once_do_not_fault_their_images_in_again() -> None:
    # One arena shared by the four would hand its heap's top (4 x 36 MB) back to the kernel
    # each round: about 700,000 faults where an arena each has none.
    _, untuned = _churn("untuned", "together")
    applied, tuned = _churn("tuned", "together")
    assert applied == "True"
    assert untuned > 100 * 1000
    assert tuned < 1000


def test_thresholds_set_by_the_operator_win() -> None:
    applied, faults = _churn("tuned", MALLOC_TRIM_THRESHOLD_="262144")
    assert applied == "False"
    assert faults > 20 * 1000
    applied, _ = _churn("tuned", GLIBC_TUNABLES="glibc.malloc.trim_threshold=262144")
    assert applied == "False"
