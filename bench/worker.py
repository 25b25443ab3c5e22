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
from collections.abc import Callable
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


def serve(
    jobs_path: str,
    versions: dict[str, str],
    run: Callable[[dict[str, Any]], Any],
    body: Callable[[Any], bytes] = lambda result: result,
    prepare: Callable[[dict[str, Any]], object] = lambda job: None,
) -> int:
    """The protocol's loop: `prepare(job)` untimed, `run(job)` timed, `body(result)` (the bytes
    out, or ValueError for an answer that is not the image) untimed again."""
    jobs: dict[str, dict[str, Any]] = {
        job["id"]: job for job in json.loads(Path(jobs_path).read_text())
    }
    print(json.dumps({"ready": True, "rss_kb": _rss_kb(), "versions": versions}), flush=True)
    for line in sys.stdin:
        message = json.loads(line)
        if message["op"] == "quit":
            break
        if message["op"] == "rss":
            print(json.dumps({"rss_kb": _rss_kb()}), flush=True)
            continue
        job = jobs[message["id"]]
        prepare(job)
        try:
            started = time.perf_counter()
            result = run(job)
            elapsed = (time.perf_counter() - started) * 1000
            data = body(result)
        except Exception as error:  # reported per job; one failing job must not stop the rest
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
            continue
        if message.get("out"):
            Path(message["out"]).write_bytes(data)
        print(json.dumps({"ms": elapsed, "bytes": len(data)}), flush=True)
    return 0


def main(argv: list[str]) -> int:
    engine_name, jobs_path = argv
    if engine_name == "ours":
        keep_freed_memory()  # as the server and the Lambda handler do at start
    engines = Engines()
    run = {"ours": engines.ours, "pillow": engines.pillow}[engine_name]
    versions = {"Pillow": PIL.__version__} if engine_name == "ours" else {}
    # The original is read once, outside the timing.
    return serve(jobs_path, versions, run, prepare=engines.data)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
