"""bench/result_bucket.py, one round of one job kind, in its own process (it sets the handler's
environment and leaves OpenCV and numpy out, as the zip does): every mode answers, and the two
with the result bucket write there once per request, before the answer or after it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_one_round_writes_one_result_per_request_with_the_bucket() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.result_bucket", "--rounds", "1", "--jobs", "gray300"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    line = r"^\| (gray300@\S+) " + r"\| ([\d.]+) " * 5 + r"\|$"
    rows = re.findall(line, done.stdout, re.M)
    photos = ["cc0-16mp-baseline", "cc0-16mp-progressive"]
    assert [job for job, *_ in rows] == [f"gray300@{photo}" for photo in photos]
    assert all(float(ms) > 0 for _, *numbers in rows for ms in numbers)
    # Two jobs, an untimed round and a timed one each, written by the two modes with a bucket.
    assert re.search(r"results written to the bucket .*: 8$", done.stdout, re.M), done.stdout
