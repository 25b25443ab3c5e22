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
_CHURN = """
import resource, sys
from PIL import Image
from thumbor_urls import allocator
applied = allocator.keep_freed_memory() if sys.argv[1] == "tuned" else None
Image.new("RGB", (1200, 1000), 1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    images = [Image.new("RGB", (1200, 1000), 1) for _ in range(3)]
    del images
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _churn(mode: str, **env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    clean.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", _CHURN, mode],
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


def test_thresholds_set_by_the_operator_win() -> None:
    applied, faults = _churn("tuned", MALLOC_TRIM_THRESHOLD_="262144")
    assert applied == "False"
    assert faults > 20 * 1000
    applied, _ = _churn("tuned", GLIBC_TUNABLES="glibc.malloc.trim_threshold=262144")
    assert applied == "False"
