"""Thumbor 7.8.0's own request path, in process, for the benchmark (protocol: bench/worker.py).

    .venv-thumbor/bin/python bench/thumbor_worker.py JOBS.json

Builds Thumbor's Config, Importer, Context and ThumborServiceApp exactly as `thumbor` does at
start-up (thumbor/server.py), then hands each URL to tornado's router as a parsed request on
a connection that only collects the response. So every request runs Thumbor's whole handler:
URL parsing, loader, engine (Pillow), transformer, filters and encoding; only the socket and
the HTTP parsing are left out (the HTTP comparison in bench/run.py has them). The engine
thread pool is off (ENGINE_THREADPOOL_SIZE=0): the work runs on this thread, single-threaded.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import PIL
import thumbor  # type: ignore[import-not-found]
from thumbor.config import Config  # type: ignore[import-not-found]
from thumbor.context import ServerParameters  # type: ignore[import-not-found]
from thumbor.server import (  # type: ignore[import-not-found]
    get_application,
    get_context,
    get_importer,
    validate_config,
)
from tornado.httputil import (  # type: ignore[import-not-found]
    HTTPHeaders,
    HTTPServerRequest,
    RequestStartLine,
)

# A plain module beside this script (sys.path[0]), the way Thumbor imports its LOADER.
memory_loader: Any = importlib.import_module("thumbor_memory_loader")

# The same work as ours: orientation applied (our default), no result storage.
SETTINGS: dict[str, Any] = {
    "LOADER": "thumbor_memory_loader",
    "STORAGE": "thumbor.storages.no_storage",
    "RESULT_STORAGE": None,
    "ALLOW_UNSAFE_URL": True,
    "ENGINE_THREADPOOL_SIZE": 0,
    "RESPECT_ORIENTATION": True,
    "QUALITY": 80,
    "PROGRESSIVE_JPEG": True,
    "PNG_COMPRESSION_LEVEL": 6,
}


class Connection:
    """What tornado's RequestHandler writes its response to, in place of a socket."""

    def __init__(self) -> None:
        self.status = 0
        self.chunks: list[bytes] = []
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def set_close_callback(self, callback: Any) -> None:
        pass

    def _ready(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    def write_headers(self, start_line: Any, headers: Any, chunk: bytes | None = None) -> Any:
        self.status = start_line.code
        if chunk:
            self.chunks.append(chunk)
        return self._ready()

    def write(self, chunk: bytes) -> Any:
        self.chunks.append(chunk)
        return self._ready()

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


def build_app() -> Any:
    config = Config(**SETTINGS)
    server = ServerParameters(
        8888, "127.0.0.1", None, None, "error", "thumbor.app.ThumborServiceApp"
    )
    server.security_key = "bench"
    validate_config(config, server)
    importer = get_importer(config)
    context = get_context(server, config, importer)
    return get_application(context)


async def handle(app: Any, url: str) -> tuple[int, bytes]:
    connection = Connection()
    request = HTTPServerRequest(
        start_line=RequestStartLine("GET", url, "HTTP/1.1"),
        headers=HTTPHeaders({"Host": "127.0.0.1"}),
        connection=connection,
    )
    app.find_handler(request).execute()
    await connection.done
    return connection.status, b"".join(connection.chunks)


def rss_kb() -> int:
    """Peak RSS of this process's own memory (VmHWM), not counting the parent's pre-exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


async def main(jobs_path: str) -> int:
    jobs = {job["id"]: job for job in json.loads(Path(jobs_path).read_text())}
    app = build_app()
    versions = {"Thumbor": thumbor.__version__, "Thumbor's Pillow": PIL.__version__}
    print(json.dumps({"ready": True, "rss_kb": rss_kb(), "versions": versions}), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        message = json.loads(line)
        if message["op"] == "quit":
            break
        if message["op"] == "rss":
            print(json.dumps({"rss_kb": rss_kb()}), flush=True)
            continue
        job = jobs[message["id"]]
        if job["name"] not in memory_loader.FILES:
            memory_loader.FILES[job["name"]] = Path(job["input"]).read_bytes()
        started = time.perf_counter()
        status, body = await handle(app, job["url"])
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            print(json.dumps({"error": f"Thumbor answered {status}"}), flush=True)
            continue
        if message.get("out"):
            Path(message["out"]).write_bytes(body)
        print(json.dumps({"ms": elapsed, "bytes": len(body)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
