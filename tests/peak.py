"""A request's real peak memory and time, measured in a fresh process, beside its estimate.

`python -m tests.peak ROOT PATH [SETTINGS_JSON]` renders PATH (a Thumbor path after
/unsafe/) from the folder ROOT the way the App does, with the allocator set up as the entry
points set it, and prints JSON: the status, the estimate (bytes, CPU seconds) and the
measured peak: the kernel's high-water mark of resident memory (VmHWM, reset just before the
request) less the resident memory just before it. Python's own allocations are in it too
(tracemalloc sees only those, not Pillow's pixels).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

GENEROUS = {"MAX_REQUEST_MEMORY_MB": 2**20, "MAX_REQUEST_CPU_SECONDS": 3600.0}


class Peak(NamedTuple):
    status: int
    estimate: int  # bytes
    measured: int  # bytes
    estimated_seconds: float
    seconds: float
    message: str

    @property
    def ratio(self) -> float:
        return self.measured / max(self.estimate, 1)


def measure(
    root: Path, path: str, settings: Mapping[str, Any] | None = None, timeout: float = 120
) -> Peak:
    """`path` rendered in a fresh process, with budgets that refuse nothing unless `settings`
    set them."""
    command = [sys.executable, "-m", "tests.peak", str(root), path, json.dumps(settings or {})]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(f"the probe failed:\n{done.stderr[-3000:]}")
    return Peak(**json.loads(done.stdout.strip().splitlines()[-1]))


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _main(root: str, path: str, overrides: str) -> None:
    from PIL import Image

    from thumbor_urls import allocator, codecs
    from thumbor_urls.app import App
    from thumbor_urls.config import Settings
    from thumbor_urls.errors import ImageServiceError
    from thumbor_urls.url import parse_path

    allocator.keep_freed_memory()
    Image.init()  # every plugin imported once, as a warm process has them
    settings = Settings(
        FILE_LOADER_ROOT_PATH=Path(root), RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None
    )
    settings = settings.replace(**{**GENEROUS, **json.loads(overrides)})
    app = App(settings)
    if path.startswith("/eyJ"):  # an SIH default request (SIH_COMPAT)
        _sih(app, path)
        return
    plan = parse_path(path.removeprefix("/unsafe/"), max_filters=settings.MAX_FILTERS)
    accepted = codecs.accept_class("", settings.auto_formats, plan.output.format)
    original = app.source.load(plan.image)
    allocator.give_back()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # the high-water mark starts again from here
    before = _status("VmRSS")
    started = time.perf_counter()
    status, message, estimate, estimated_seconds = 200, "", 0, 0.0
    try:
        rendered = app.render(plan, accepted, original)
        job_estimate = rendered.job.estimate
    except ImageServiceError as error:
        status, message, job_estimate = error.status, error.message, None
    seconds = time.perf_counter() - started
    measured = _status("VmHWM") - before
    if job_estimate is not None:
        estimate, estimated_seconds = job_estimate.peak, job_estimate.seconds
    print(
        json.dumps(
            {
                "status": status,
                "estimate": estimate,
                "measured": measured,
                "estimated_seconds": estimated_seconds,
                "seconds": seconds,
                "message": message,
            }
        )
    )


def _sih(app: Any, path: str) -> None:
    from thumbor_urls import allocator
    from thumbor_urls.errors import ImageServiceError
    from thumbor_urls.sih.request import document
    from thumbor_urls.sih.route import Render

    doc = document(path)
    original = app.source.load(doc.key)
    allocator.give_back()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = _status("VmRSS")
    started = time.perf_counter()
    render = Render(app, original, doc.edits, doc)
    status, message = 200, ""
    try:
        render.run()
    except ImageServiceError as error:
        status, message = error.status, error.message
    seconds = time.perf_counter() - started
    measured = _status("VmHWM") - before
    estimate = getattr(render, "estimate", None)
    print(
        json.dumps(
            {
                "status": status,
                "estimate": estimate.peak if estimate else 0,
                "measured": measured,
                "estimated_seconds": estimate.seconds if estimate else 0.0,
                "seconds": seconds,
                "message": message,
            }
        )
    )


if __name__ == "__main__":
    _main(*sys.argv[1:4] if len(sys.argv) > 3 else (*sys.argv[1:3], "{}"))
