"""thumbor_urls/allocator.py: freed image buffers are reused instead of faulted in again."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from thumbor_urls import allocator

ROOT = Path(__file__).resolve().parent.parent

# Twenty rounds of three images made and dropped together in a fresh process (as a filter
# makes its intermediate images), counting page faults, i.e. the kernel zeroing fresh pages:
# each image faults its pages in again unless the memory freed before it was kept. One round
# first, uncounted. "main": 4.8 MB images on the main thread. "threads": the same, round i on
# thread i % 4 of a pool of four, taking turns as a lightly loaded server's requests do (only
# thread 0 had the first round). "together": the four threads at once, 12 MB images (4 x 36 MB,
# more than glibc's own trim threshold), as a busy server's. Then the resident memory (MiB)
# before the rounds, after them, and after give_back().
_CHURN = """
import resource, sys, threading
from PIL import Image
from thumbor_urls import allocator
from thumbor_urls.budget import resident_bytes
applied = allocator.keep_freed_memory() if sys.argv[1] == "tuned" else None
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
        return
    chosen = turns if where == "together" else [turns[i % 4]]
    for turn in chosen:
        turn.release()
    for _ in chosen:
        done.acquire()
idle = resident_bytes() >> 20
run(0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(20):
    run(i)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
loaded = resident_bytes() >> 20
allocator.give_back()
print(applied, faults, idle, loaded, resident_bytes() >> 20)
"""


def _run(script: str, *args: str, **env: str) -> list[str]:
    """What `script` prints, run in a fresh process without the operator's malloc settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    clean.pop("GLIBC_TUNABLES", None)
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def _churn(mode: str, where: str = "main", **env: str) -> tuple[str, int, list[int]]:
    out = _run(_CHURN, mode, where, **env)
    return out[0], int(out[1]), [int(mib) for mib in out[2:]]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_image_memory_is_reused_instead_of_faulted_in_again() -> None:
    _, untuned, _ = _churn("untuned")
    applied, tuned, _ = _churn("tuned")
    assert applied == "True"
    assert untuned > 20 * 1000  # glibc's defaults: every image on fresh pages
    assert tuned < untuned / 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_threads_reuse_the_memory_other_threads_freed() -> None:
    _, untuned, _ = _churn("untuned", "threads")
    applied, tuned, _ = _churn("tuned", "threads")
    assert applied == "True"
    assert untuned > 10 * 1000  # (each thread's own arena warms up once, then keeps more)
    # One arena: threads 1-3 reuse what thread 0 freed, from their first round.
    assert tuned < 1000


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_threads_at_once_keep_their_memory_until_it_is_given_back() -> None:
    # At glibc's trim threshold (64 MB) the heap's top (4 x 36 MB) went back to the kernel at
    # the end of each round: about 700,000 faults in 20 rounds.
    _, untuned, _ = _churn("untuned", "together")
    applied, tuned, (idle, loaded, given_back) = _churn("tuned", "together")
    assert applied == "True"
    assert untuned > 100 * 1000
    # The shared heap settles after a few rounds: 0 to 5 of the 240 images faulted in again
    # (2,932 faults each) in 30 runs.
    assert tuned < 50 * 1000
    # Kept while requests run, all of it back once idle (an arena per thread would keep its
    # heap's top: malloc_trim shrinks only the main heap's).
    assert loaded > idle + 100
    assert given_back < idle + 20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize(
    "env",
    [
        {"MALLOC_TRIM_THRESHOLD_": "262144"},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=262144"},
    ],
)
def test_a_trim_threshold_set_by_the_operator_wins(env: dict[str, str]) -> None:
    applied, faults, _ = _churn("tuned", **env)
    assert applied == "True"  # the rest is ours
    assert faults > 20 * 1000  # the heap's top trimmed after each round, as asked


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize(
    "env", [{"MALLOC_ARENA_MAX": "8"}, {"GLIBC_TUNABLES": "glibc.malloc.arena_max=8"}]
)
def test_arenas_set_by_the_operator_win(env: dict[str, str]) -> None:
    applied, faults, (idle, loaded, given_back) = _churn("tuned", "together", **env)
    assert applied == "True"
    assert faults < 50 * 1000  # our trim threshold
    assert loaded > idle + 100
    assert given_back > idle + 20  # the threads' own heaps keep their tops, as documented


# A request that leaves far more than GIVE_BACK_ABOVE freed behind it, in a fresh process as
# the server runs it: the resident memory (MiB) after a first small request, right after the
# large one, after another small one right after it, then once idle for a while.
_IDLE = """
import sys, time
from pathlib import Path
from thumbor_urls import allocator
from thumbor_urls.app import App
from thumbor_urls.budget import resident_bytes
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request
allocator.keep_freed_memory()
settings = Settings(FILE_LOADER_ROOT_PATH=Path(sys.argv[1]))
app = App(settings.replace(RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None))
def get(path):
    assert app.handle(Request("GET", path), record=lambda access: None).status == 200
    return resident_bytes() >> 20
idle = get("/unsafe/50x50/big.png")
large = get("/unsafe/filters:rgb(10,0,0):saturation(1.5):format(jpeg)/big.png")  # 400 MB peak
small = get("/unsafe/50x50/big.png")
time.sleep(allocator.GIVE_BACK_AFTER_SECONDS + 0.5)
print(idle, large, small, resident_bytes() >> 20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_memory_a_request_freed_goes_back_once_idle_a_while(tmp_path: Path) -> None:
    Image.effect_noise((3000, 3000), 40).convert("RGB").save(tmp_path / "big.png", compress_level=0)
    out = _run(_IDLE, str(tmp_path))
    idle, large, small, later = (int(mib) for mib in out)
    assert large > idle + 200, out  # kept for the next request,
    assert small > idle + 200, out  # which came before the process had been idle long,
    assert later < idle + 64, out  # and back once it had


class _Process:
    """What IdleGiveBack sees of the process, under the test's control: its resident size, a
    clock, the timers it sets (run by the test) and its give-backs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, resident: int) -> None:
        self.resident, self.now, self.given_back = resident, 0.0, 0
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self._due: list[float] = []
        monkeypatch.setattr(allocator, "resident_bytes", lambda: self.resident)
        monkeypatch.setattr(allocator, "give_back", self._give_back)
        monkeypatch.setattr("thumbor_urls.allocator.monotonic", lambda: self.now)
        monkeypatch.setattr("thumbor_urls.allocator.Timer", self._timer)

    def _give_back(self) -> bool:
        self.given_back += 1
        return True

    def _timer(self, seconds: float, function: Callable[[], None]) -> Any:
        self.timers.append((seconds, function))
        self._due.append(self.now + seconds)
        return SimpleNamespace(start=lambda: None)

    def run_timer(self) -> float:
        """Let the next timer's time come and run it; how long it was set for."""
        (seconds, function), due = self.timers.pop(0), self._due.pop(0)
        self.now = max(self.now, due)
        function()
        return seconds


def test_give_back_waits_until_no_request_has_run_for_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    process = _Process(monkeypatch, resident=500)
    returner = allocator.IdleGiveBack(idle=100, above=128, after=1.0)
    returner.started()
    returner.started()
    returner.finished()
    assert process.timers == []  # one still in flight
    returner.finished()  # idle from here
    process.now += 0.4
    returner.started()  # before the second: put off
    assert process.run_timer() == 1.0
    assert (process.given_back, process.timers) == (0, [])  # the request in flight looks again
    returner.finished()
    process.now += 0.5
    returner.started()
    returner.finished()  # idle again, from here: the pending timer is moved on, not doubled
    assert len(process.timers) == 1
    assert process.run_timer() == 1.0  # 0.5 s short of a second since the last request
    assert process.given_back == 0
    assert process.run_timer() == pytest.approx(0.5)
    assert (process.given_back, process.timers) == (1, [])


def test_nothing_to_give_back_under_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    process = _Process(monkeypatch, resident=200)
    returner = allocator.IdleGiveBack(idle=100, above=128, after=1.0)
    returner.started()
    returner.finished()
    assert (process.given_back, process.timers) == (0, [])
