"""For the HTTP loader's tests: real HTTP origins on loopback, a fake resolver, and a guard that
refuses (and records) every connection and name lookup that would leave this machine.

No test sends traffic beyond 127.0.0.0/8 and ::1: origins listen on 127.0.0.1; host names are
answered by FakeResolver, never by DNS; and while `NetworkGuard` is on, a connect() to any other
address fails in-process, before the system call, and is recorded, as is any getaddrinfo() of
a name that is not a literal address (which would ask the machine's DNS server).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

Handler = BaseHTTPRequestHandler
Route = Callable[[Handler], None]


class Seen:
    """One request an origin received."""

    def __init__(self, path: str, headers: dict[str, str]) -> None:
        self.path = path
        self.headers = headers

    def __repr__(self) -> str:
        return f"Seen({self.path!r})"


class Origin:
    """An HTTP/1.1 server on 127.0.0.1: `routes[path]` writes the answer to a GET of `path`
    (the query string is part of the path here); 404 for anything else. Every request is
    recorded in `seen`."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        origin = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                origin.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = origin.routes.get(self.path)
                if route is None:
                    send(self, 404, b"not here", content_type="text/plain")
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Origin:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.seen]


def send(
    handler: Handler,
    status: int,
    body: bytes,
    content_type: str = "image/jpeg",
    headers: dict[str, str] | None = None,
    length: int | None = None,
) -> None:
    """A whole answer; `length` overrides the Content-Length sent (a lying one)."""
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


def image(
    data: bytes, content_type: str = "image/jpeg", headers: dict[str, str] | None = None
) -> Route:
    return lambda handler: send(handler, 200, data, content_type, headers)


def status(code: int, headers: dict[str, str] | None = None) -> Route:
    return lambda handler: send(handler, code, b"", "", headers)


def redirect(location: str, code: int = 302) -> Route:
    return lambda handler: send(handler, code, b"", "", {"Location": location})


def chunked(chunks: Callable[[], Iterator[bytes]], headers: dict[str, str] | None = None) -> Route:
    """A chunked answer whose chunks come from `chunks()`, however many and however slowly."""

    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        for chunk in chunks():
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")

    return route


def endless(head: bytes, stop_after: float = 10.0) -> Route:
    """An image's first bytes, then zeros for ever (until `stop_after` seconds, so that a test
    that fails does not leave it running)."""

    def chunks() -> Iterator[bytes]:
        yield head
        ends = time.monotonic() + stop_after
        while time.monotonic() < ends:
            yield b"\0" * 65536

    return chunked(chunks)


def trickle(data: bytes, every: float, stop_after: float = 10.0) -> Route:
    """`data` one byte every `every` seconds, with its true length: a slow body."""

    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        ends = time.monotonic() + stop_after
        for index in range(len(data)):
            if time.monotonic() > ends:
                break
            handler.wfile.write(data[index : index + 1])
            handler.wfile.flush()
            time.sleep(every)

    return route


def close_delimited(data: bytes, content_type: str = "image/jpeg") -> Route:
    """An HTTP/1.0-style answer: no length, the body ends when the connection does."""

    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
        handler.close_connection = True

    return route


def short_body(data: bytes, claimed: int) -> Route:
    """Says `claimed` bytes, sends `data` (fewer) and hangs up."""

    def route(handler: Handler) -> None:
        send(handler, 200, data, length=claimed)
        handler.close_connection = True

    return route


class FakeResolver:
    """Answers host names from a table, never from DNS: `answers[name]` is a list of addresses,
    or a list of such lists given out one per call (the last one kept), to change its answer
    between calls as a rebinding DNS server would. Unknown names do not exist."""

    def __init__(self, answers: dict[str, Sequence[str] | Sequence[Sequence[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answer = self.answers.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if answer and not isinstance(answer[0], str):
            calls = self.calls.count(host)
            return list(answer[min(calls, len(answer)) - 1])
        return [str(item) for item in answer]


def _loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    """While on: connect() to anything but loopback fails before the system call, getaddrinfo()
    of anything but a literal address fails; both are recorded."""

    def __init__(self) -> None:
        self.connects: list[str] = []  # every address connected to, loopback included
        self.refused: list[str] = []  # what was stopped: it would have left the machine

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_getaddrinfo = socket.getaddrinfo
        guard = self

        def check(address: Any) -> None:
            host = address[0] if isinstance(address, tuple) else address
            guard.connects.append(str(host))
            if not _loopback(host):
                guard.refused.append(str(host))
                raise OSError(101, f"NetworkGuard: no connection to {host} from a test")

        def connect(self: socket.socket, address: Any) -> None:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                check(address)
            real_connect(self, address)

        def connect_ex(self: socket.socket, address: Any) -> int:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                check(address)
            return real_connect_ex(self, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            text = host.decode() if isinstance(host, bytes) else str(host)
            try:
                ipaddress.ip_address(text.split("%", 1)[0])
            except ValueError:
                guard.refused.append(f"getaddrinfo({text})")
                raise socket.gaierror(socket.EAI_NONAME, "NetworkGuard: no DNS in tests") from None
            return real_getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@contextlib.contextmanager
def tls_files(directory: Path, host: str) -> Iterator[tuple[Path, ssl.SSLContext]]:
    """A CA (its PEM file) and a server context with a certificate for `host` signed by it."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    try:  # an address (127.0.0.1) is named as one, anything else as a DNS name
        subject: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        subject = x509.DNSName(host)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "thumbor-urls test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([subject]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = directory / f"{host}.pem"
    chain.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    yield ca_path, context
