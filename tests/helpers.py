"""Shared by the tests: the type of the in-process client fixture, and for the end-to-end tests,
`python -m thumbor_urls` run as a real process and talked to over HTTP."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from tests.images import SAMPLES
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Access, Request, Response

# What the `client` fixture (conftest.py) returns: get(path, method="GET", **headers).
Client = Callable[..., Response]

SETTING_NAMES = frozenset(Settings._fields)


class RecordingApp:
    """An App over copies of some sample images, with a result folder; the outcome of each
    request is kept."""

    def __init__(self, tmp_path: Path, names: tuple[str, ...], **settings: object) -> None:
        root = tmp_path / "originals"
        root.mkdir(parents=True)
        for name in names:
            (root / name).write_bytes((SAMPLES / name).read_bytes())
        self.results = tmp_path / "results"
        self.app = App(
            Settings(FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=self.results)
            .replace(**settings)
        )  # fmt: skip
        self.outcomes: list[str] = []

    def get(self, path: str, **headers: str) -> Response:
        """GET `path`; headers as keywords (`sec_ch_dpr="2"` is `Sec-CH-DPR: 2`)."""

        def record(access: Access) -> None:
            self.outcomes.append(access.outcome)

        lowered = {name.replace("_", "-").lower(): value for name, value in headers.items()}
        return self.app.handle(Request("GET", path, lowered), record=record)

    def stored(self) -> int:
        """How many results the result folder holds."""
        return sum(1 for p in self.results.rglob("*") if p.is_file() and p.suffix != ".json")


def clean_env(**settings: object) -> dict[str, str]:
    """This process's environment without inherited service settings, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if key not in SETTING_NAMES}
    env.update({key: str(value) for key, value in settings.items()})
    return env


def cli(
    *args: str, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`python -m thumbor_urls ARGS`, its output captured."""
    command = [sys.executable, "-m", "thumbor_urls", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, timeout=60, check=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage  # case-insensitive
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.body))


@dataclasses.dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def request(
        self,
        path: str,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        connection: http.client.HTTPConnection | None = None,
    ) -> Reply:
        """One request, on `connection` (kept open) or on a connection of its own."""
        conn = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, headers=dict(headers or {}))
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            if connection is None:
                conn.close()

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, then the exit status and everything the server wrote on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError("the server did not stop within 15 s of SIGINT") from None
        return self.process.returncode, self.stderr_path.read_text(errors="replace")


@contextlib.contextmanager
def _sigint_not_ignored() -> Iterator[None]:
    """A child inherits an ignored SIGINT (`nohup`, `cmd &` in a script), and Python then never
    raises KeyboardInterrupt; make sure the server starts with SIGINT at its default."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def running_server(
    root: Path, logs: Path, env: Mapping[str, str], *args: str, cwd: Path | None = None
) -> Iterator[Server]:
    """`serve` on a free port, ready (its /healthcheck answered); on exit it must stop on
    SIGINT with exit status 0, saying "stopped" on stderr."""
    port = free_port()
    logs.mkdir(parents=True, exist_ok=True)
    stderr_path = logs / f"serve-{port}.err"
    command = [sys.executable, "-m", "thumbor_urls", "serve", "--root", str(root)]
    command += ["--host", "127.0.0.1", "--port", str(port), *args]
    with open(stderr_path, "wb") as stderr, _sigint_not_ignored():
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr
        )
    server = Server(port, process, stderr_path)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited early:\n{stderr_path.read_text()}")
            try:
                if server.request("/healthcheck").status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield server
    except BaseException:
        process.kill()
        process.wait()
        raise
    status, text = server.stop()
    assert status == 0, f"exit status {status} after SIGINT:\n{text}"
    assert "stopped" in text, f"no 'stopped' on stderr after SIGINT:\n{text}"
