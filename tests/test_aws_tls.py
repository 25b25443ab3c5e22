"""The AWS clients over real TLS on loopback: the CA bundle is parsed once per client, when it is
built (clients.load_certificates_once), not at every new connection, and certificates are
still verified: a server the bundle does not vouch for is refused."""

from __future__ import annotations

import http.server
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import SSLError  # type: ignore[import-untyped]

from tests.aws_fixtures import serving_tls
from thumbor_urls.aws import clients

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import trim_botocore

BOTOCORE_BUNDLE = Path(botocore.__file__).parent / "cacert.pem"


class _Handler(http.server.BaseHTTPRequestHandler):
    """HeadObject's answer, and the connection closed after it: every call opens a new one."""

    def do_HEAD(self) -> None:
        self.server.connections += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.send_header("Last-Modified", "Mon, 07 Dec 2026 10:00:00 GMT")
        self.send_header("ETag", '"abc"')
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path, Any]]:
    """An HTTPS server on loopback: (its URL, the CA file that vouches for it, the server)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.connections = 0  # type: ignore[attr-defined]
    with serving_tls(server, tmp_path) as (url, ca_file):
        yield url, ca_file, server


def trusting(folder: Path, ca_file: Path) -> Path:
    """botocore's own certificates and the test CA: a bundle of the usual size."""
    bundle = folder / "bundle.pem"
    bundle.write_bytes(BOTOCORE_BUNDLE.read_bytes() + ca_file.read_bytes())
    return bundle


def s3_client(monkeypatch: pytest.MonkeyPatch, url: str, bundle: Path) -> Any:
    for name, value in {
        "AWS_ENDPOINT_URL": url,
        "AWS_CA_BUNDLE": str(bundle),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    clients.reset()
    return clients.client("s3", 2.0)


def count_loads(made: Any) -> list[Any]:
    """What the client's TLS context is asked to load from now on."""
    context = made._endpoint.http_session._manager.connection_pool_kw["ssl_context"]
    loaded: list[Any] = []
    load = context.load_verify_locations

    def counting(*args: Any, **kwargs: Any) -> None:
        loaded.append(args)
        load(*args, **kwargs)

    context.load_verify_locations = counting
    return loaded


def test_the_bundle_is_parsed_once_not_at_every_connection(
    tls_server: tuple[str, Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file, server = tls_server
    bundle = trusting(tmp_path, ca_file)
    s3 = s3_client(monkeypatch, url, bundle)
    loaded = count_loads(s3)
    try:
        for _ in range(3):
            assert s3.head_object(Bucket="b", Key="k")["ContentLength"] == 5
    finally:
        clients.reset()
    assert server.connections == 3  # three connections, each verified against the bundle
    assert loaded == []  # which was loaded when the client was built


def test_without_it_urllib3_parses_the_bundle_at_every_connection(
    tls_server: tuple[str, Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: botocore as it comes, the cost load_certificates_once takes away."""
    url, ca_file, server = tls_server
    bundle = trusting(tmp_path, ca_file)
    monkeypatch.setattr(clients, "load_certificates_once", lambda made: False)
    s3 = s3_client(monkeypatch, url, bundle)
    loaded = count_loads(s3)
    try:
        for _ in range(3):
            s3.head_object(Bucket="b", Key="k")
    finally:
        clients.reset()
    assert server.connections == 3
    assert len(loaded) == 3


def test_a_server_the_bundle_does_not_vouch_for_is_refused(
    tls_server: tuple[str, Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, server = tls_server
    s3 = s3_client(monkeypatch, url, BOTOCORE_BUNDLE)
    try:
        with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            s3.head_object(Bucket="b", Key="k")
        # Again, on a new connection: the certificates stay required.
        with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            s3.head_object(Bucket="b", Key="k")
    finally:
        clients.reset()
    assert server.connections == 0


def test_every_client_shares_one_context_and_plain_http_needs_none(
    tls_server: tuple[str, Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, _ = tls_server
    s3 = s3_client(monkeypatch, url, BOTOCORE_BUNDLE)
    try:
        secrets = clients.client("secretsmanager", 2.0)
        contexts = [
            made._endpoint.http_session._manager.connection_pool_kw["ssl_context"]
            for made in (s3, secrets)
        ]
        assert contexts[0] is contexts[1]  # one parse of the bundle for both
        # moto's endpoint in the tests and the benches: no TLS, nothing loaded.
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        clients.reset()
        plain = clients.client("s3", 2.0)
        assert clients.load_certificates_once(plain) is False
    finally:
        clients.reset()


needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="no openssl command to hash a directory with"
)


@needs_openssl
def test_a_hashed_directory_beside_the_bundle_is_read_lazily_instead(
    tls_server: tuple[str, Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca_file, server = tls_server
    bundle = trusting(tmp_path, ca_file)
    assert trim_botocore.write_hashed(bundle)  # bundle.pem.hashed/, as the zip has botocore's
    s3 = s3_client(monkeypatch, url, bundle)
    context = s3._endpoint.http_session._manager.connection_pool_kw["ssl_context"]
    try:
        assert context.cert_store_stats()["x509_ca"] == 0  # nothing parsed up front
        loaded = count_loads(s3)
        for _ in range(2):
            assert s3.head_object(Bucket="b", Key="k")["ContentLength"] == 5
        assert context.cert_store_stats()["x509_ca"] == 1  # the one the handshakes needed
    finally:
        clients.reset()
    assert (server.connections, loaded) == (2, [])


@needs_openssl
def test_a_hashed_directory_without_the_servers_root_refuses_it(
    tls_server: tuple[str, Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, server = tls_server
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(BOTOCORE_BUNDLE.read_bytes())
    assert trim_botocore.write_hashed(bundle)
    s3 = s3_client(monkeypatch, url, bundle)
    try:
        with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            s3.head_object(Bucket="b", Key="k")
    finally:
        clients.reset()
    assert server.connections == 0
