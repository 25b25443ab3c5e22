"""AWS clients, made once per container from one botocore session.

A client is expensive to build: ~45 ms for S3 here with botocore as pip installs it (parsing the
service model and its endpoint rules, once botocore no longer lists every service it ships:
_NamedServicesLoader), 20-30 ms with the Lambda zip's, whose data holds only CALLS
(scripts/trim_botocore.py). One session for all of them shares its loader's caches, so the
second client (Secrets Manager next to S3, as a deployed stack has for its origin secret) costs
about half as much, and one TLS context holds the CA bundle for all of them
(load_certificates_once); botocore alone skips importing boto3, whose resources we never use.

Endpoints come from the standard `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` variables, which
botocore reads itself; nothing here sets `endpoint_url`, so any S3-compatible endpoint works.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.httpsession import get_cert_path  # type: ignore[import-untyped]
from botocore.loaders import Loader  # type: ignore[import-untyped]

from .calls import CALLS

# Every service this package makes a client for.
SERVICES = tuple(CALLS)


class _NamedServicesLoader(Loader):  # type: ignore[misc]
    """botocore's data loader, told which services exist instead of finding out: before loading
    a model, botocore lists every service it has (~400: a directory read for each, a stat for
    each of their versions), a third of building a process's first S3 client with botocore as
    pip installs it (44-46 ms instead of 65-83 here; more on Lambda's slower disk)."""

    def list_available_services(self, type_name: str) -> list[str]:
        return list(SERVICES)


def _session() -> Any:
    session = botocore.session.get_session()
    # As botocore's create_loader: AWS_DATA_PATH's folders are searched first.
    data_path = session.get_config_variable("data_path") or ""
    extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep) if p]
    session.register_component("data_loader", _NamedServicesLoader(extra))
    return session


# A botocore session is not safe to build clients from in two threads at once.
_LOCK = threading.Lock()
_SESSION: list[Any] = []  # the container's one session, once made
_CLIENTS: dict[tuple[str, float], Any] = {}
_CONTEXTS: dict[str, Any] = {}  # a CA bundle's path: the TLS context that holds it


def client(service: str, timeout: float = 5.0) -> Any:
    """The container's client for `service` with this timeout, built on first use."""
    key = (service, timeout)
    found = _CLIENTS.get(key)
    if found is not None:
        return found
    config = Config(
        connect_timeout=min(timeout, 3.0),
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": 2},
        s3={"addressing_style": "path"} if service == "s3" else None,
    )
    with _LOCK:
        if key not in _CLIENTS:
            if not _SESSION:
                _SESSION.append(_session())
            made = _SESSION[0].create_client(service, config=config)
            load_certificates_once(made)
            _CLIENTS[key] = made
        return _CLIENTS[key]


def load_certificates_once(made: Any) -> bool:
    """Have the client verify servers with a TLS context that already holds its CA bundle,
    parsed once for every client of the process, instead of at every new connection; whether
    it does.

    botocore hands urllib3 the bundle's path for each connection it opens, and urllib3 parses the
    whole file into the context every time: 16-26 ms here for botocore's 126 certificates, on
    the first request after a cold start and again after every idle connection the server
    closed. With the certificates already in the context, the path is left out for the
    connections made with that context (a proxy's have their own); verification is unchanged:
    the same certificates, the same CERT_REQUIRED. Where the bundle has OpenSSL's hashed
    directory beside it (`<bundle>.hashed`, as the Lambda zip has), the context is given that
    instead, and OpenSSL reads a certificate only when a handshake asks for it: no parse up
    front. Plain-HTTP endpoints never need any of it. This reaches into botocore's HTTP session
    (private, but the zip pins botocore, and tests/test_aws_tls.py fails if it moves)."""
    http: Any = getattr(getattr(made, "_endpoint", None), "http_session", None)
    verify = getattr(http, "_verify", None)
    pool_kw = getattr(getattr(http, "_manager", None), "connection_pool_kw", None)
    if not verify or not pool_kw or "ssl_context" not in pool_kw:
        return False  # verification off, or another HTTP session
    if not str(made.meta.endpoint_url).lower().startswith("https:"):
        return False
    bundle = get_cert_path(verify)
    context = _CONTEXTS.get(bundle)
    if context is None:
        # botocore's own context for this client (its options, CERT_REQUIRED), made shareable.
        context = _CONTEXTS[bundle] = pool_kw["ssl_context"]
        hashed = f"{bundle}.hashed"
        if os.path.isdir(hashed):
            # The same certificates as OpenSSL's hashed directory (the Lambda zip has one for
            # botocore's bundle: scripts/trim_botocore.py): read when a handshake needs one.
            context.load_verify_locations(capath=hashed)
        else:
            context.load_verify_locations(bundle)
    pool_kw["ssl_context"] = context
    setup = http._setup_ssl_cert

    def setup_ssl_cert(pool: Any, url: str, verify: Any) -> None:
        setup(pool, url, verify)
        if pool.ca_certs == bundle and pool.conn_kw.get("ssl_context") is context:
            pool.ca_certs = None

    http._setup_ssl_cert = setup_ssl_cert
    return True


def drop_connections() -> int:
    """Close the pooled connections of every client made so far (they stay usable: the next
    call opens a new one); how many clients. A SnapStart snapshot must not hold sockets that
    every environment restored from it would share, half-open, with the same peers."""
    for made in list(_CLIENTS.values()):
        # botocore keeps its urllib3 pools on the endpoint's http_session (private, but
        # stable since botocore 1.11); close() empties the pools and keeps the session usable.
        http = getattr(getattr(made, "_endpoint", None), "http_session", None)
        if http is not None:
            http.close()
    return len(_CLIENTS)


def reset() -> None:
    """Forget the session and every client (the tests: a new environment each)."""
    with _LOCK:
        _CLIENTS.clear()
        _SESSION.clear()
        _CONTEXTS.clear()
