"""AWS for the tests, through real HTTP: moto in server mode on 127.0.0.1, started by the tests,
and a small proxy in front of it that injects S3 faults (error answers, delays) on demand."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers import free_port
from tests.http_origins import tls_files

REGION = "us-east-1"


@dataclass
class Fault:
    """Answer `status` with S3's XML error `code` (or wait `delay` seconds first) for requests
    whose method is `method` (any when empty) and whose path contains `path`. With `until`, the
    wait ends early once a request whose path contains `until` has come, and `met` says whether
    one did (two requests in flight at once)."""

    path: str
    status: int = 0
    code: str = ""
    delay: float = 0.0
    method: str = ""
    until: str = ""
    hits: int = 0
    met: bool = False


@dataclass
class FaultProxy:
    upstream_port: int
    faults: list[Fault] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, path: str, **kwargs: Any) -> Fault:
        fault = Fault(path, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.seen.clear()

    def wait_for(self, path: str, timeout: float) -> bool:
        """Whether a request whose path contains `path` comes within `timeout` seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if any(path in seen for _, seen in self.seen):
                    return True
            time.sleep(0.005)
        return False

    def match(self, method: str, path: str) -> Fault | None:
        with self.lock:
            self.seen.append((method, path))
            for fault in self.faults:
                if fault.path in path and fault.method in ("", method):
                    fault.hits += 1
                    return fault
        return None


def _handler_class(proxy: FaultProxy) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                body = self._chunked_body()
            fault = proxy.match(self.command, self.path)
            if fault is not None and fault.until:
                fault.met = proxy.wait_for(fault.until, fault.delay)
            elif fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.status:
                xml = (
                    f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{fault.code}</Code>'
                    f"<Message>injected by the tests</Message></Error>"
                ).encode()
                payload = b"" if self.command == "HEAD" else xml
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
            try:
                upstream.request(self.command, self.path, body, dict(self.headers.items()))
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                upstream.close()

        def _chunked_body(self) -> bytes:
            """A chunked body as sent, framing and trailers included, to pass on as it is
            (botocore sends uploads so over TLS, with the checksum in a trailer)."""
            parts = []
            while True:
                line = self.rfile.readline()
                parts.append(line)
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    break
                parts.append(self.rfile.read(size + 2))  # the chunk and its CRLF
            while True:  # the trailers, up to the empty line
                line = self.rfile.readline()
                parts.append(line)
                if line in (b"\r\n", b"\n", b""):
                    return b"".join(parts)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

    return Handler


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a delayed answer (a timeout test) is expected: be quiet."""

    def get_request(self) -> tuple[Any, Any]:
        # No Nagle: an answer's headers and body go out as two writes, and over TLS the second
        # waited for the client's delayed ACK (40 ms), which no S3 endpoint makes a client wait.
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


@dataclass
class MotoAws:
    endpoint: str  # moto itself
    proxy_endpoint: str  # through the fault proxy
    proxy: FaultProxy

    def client(self, service: str, via_proxy: bool = False) -> Any:
        import boto3  # type: ignore[import-untyped]

        return boto3.client(
            service,
            endpoint_url=self.proxy_endpoint if via_proxy else self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def bucket(self, prefix: str = "b") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client("s3").create_bucket(Bucket=name)
        return name

    def env(self) -> dict[str, str]:
        """What a process needs to talk to this moto through the proxy, and nothing else."""
        return {
            "AWS_ENDPOINT_URL": self.proxy_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


@contextlib.contextmanager
def running_moto(logs: Path) -> Iterator[MotoAws]:
    port = free_port()
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "moto.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MOTO_PORT": str(port)},
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((logs / "moto.log").read_text()) from None
                time.sleep(0.1)
        proxy = FaultProxy(port)
        server = _Server(("127.0.0.1", 0), _handler_class(proxy))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield MotoAws(
                f"http://127.0.0.1:{port}",
                f"http://127.0.0.1:{server.server_address[1]}",
                proxy,
            )
        finally:
            server.shutdown()
            server.server_close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def serving_tls(server: http.server.HTTPServer, folder: Path) -> Iterator[tuple[str, Path]]:
    """`server` over TLS on loopback, served from a thread: (its https URL, the CA file a client
    must trust), its certificate from tests/http_origins.py's test CA."""
    with tls_files(folder, "127.0.0.1") as (ca_file, context):
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"https://127.0.0.1:{server.server_address[1]}", ca_file
        finally:
            server.shutdown()
            server.server_close()


@contextlib.contextmanager
def tls_front(aws: MotoAws, folder: Path) -> Iterator[tuple[str, Path]]:
    """moto behind the same proxy, over TLS on loopback, as AWS's endpoints are reached:
    (its https URL, the CA file a client must trust)."""
    with serving_tls(_Server(("127.0.0.1", 0), _handler_class(aws.proxy)), folder) as found:
        yield found
