"""A benchmark worker for one Python engine (`ours` or `pillow`), driven by bench/run.py.

    python -m bench.worker ENGINE JOBS.json

Speaks the same JSON-lines protocol as bench/sharp_worker.js and bench/thumbor_worker.py, so
the driver can interleave engines that live in different runtimes. Each engine times itself
around the call, bytes in memory to bytes in memory, so process hops are not in the numbers.

    > {"op": "run", "id": JOB_ID, "out": PATH_OR_NULL}   < {"ms": 12.3, "bytes": 4567}
    > {"op": "rss"}                                       < {"rss_kb": 45678}
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import PIL

from bench.engines import Engines
from thumbor_urls.allocator import keep_freed_memory


def _rss_kb() -> int:
    """Peak RSS of this process's own memory (VmHWM): getrusage's ru_maxrss would also count
    the parent's memory that fork copied before exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main(argv: list[str]) -> int:
    engine_name, jobs_path = argv
    jobs: dict[str, dict[str, Any]] = {
        job["id"]: job for job in json.loads(Path(jobs_path).read_text())
    }
    if engine_name == "ours":
        keep_freed_memory()  # as the server and the Lambda handler do at start
    engines = Engines()
    run = {"ours": engines.ours, "pillow": engines.pillow}[engine_name]
    versions = {"Pillow": PIL.__version__} if engine_name == "ours" else {}
    print(json.dumps({"ready": True, "rss_kb": _rss_kb(), "versions": versions}), flush=True)
    for line in sys.stdin:
        message = json.loads(line)
        if message["op"] == "quit":
            break
        if message["op"] == "rss":
            print(json.dumps({"rss_kb": _rss_kb()}), flush=True)
            continue
        job = jobs[message["id"]]
        engines.data(job)  # the original is read once, outside the timing
        try:
            started = time.perf_counter()
            body = run(job)
            elapsed = (time.perf_counter() - started) * 1000
        except Exception as error:  # reported per job; one failing job must not stop the rest
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
            continue
        if message.get("out"):
            Path(message["out"]).write_bytes(body)
        print(json.dumps({"ms": elapsed, "bytes": len(body)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
