"""One GET of an image from an origin, with urllib3 (pooled connections, no hand-written HTTP).

The host is resolved once and checked (addresses.py); the connection goes to the checked address
itself, with the host name kept for the `Host` header, TLS's SNI and the certificate's check, so
the name is never resolved again between the check and the connection. Redirects are followed
here, a few at most, each target checked as the first URL was (scheme, ALLOWED_SOURCES,
addresses). The fetch as a whole, redirects and a slow body included, ends within
HTTP_LOADER_REQUEST_TIMEOUT and the request's deadline; the body is refused past MAX_SOURCE_BYTES
from its `Content-Length`, then counted as it comes (a missing or lying length, an endless body,
a gzip bomb), and refused after its first bytes when neither its type nor they say image.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urljoin

from .. import deadline
from ..errors import NoSuchKey, UnsupportedImageFormat
from ..sources import too_large
from .addresses import AddressPolicy, Resolver, checked_addresses
from .errors import SourceNotAllowed, UpstreamError, UpstreamTimeout
from .urls import AllowedSources, SourceUrl, parse_url

if TYPE_CHECKING:
    import urllib3

log = logging.getLogger(__name__)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 << 10
# What may come back with the redirected request, to another host: nothing of the client's.
_KEPT_ACROSS_HOSTS = frozenset({"user-agent", "accept", "accept-encoding"})
IMAGE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/jpg",
        "image/pjpeg",
        "image/png",
        "image/x-png",
        "image/apng",
        "image/gif",
        "image/webp",
        "image/avif",
    }
)


class Fetched(NamedTuple):
    status: int  # 200, or 304 when the validators sent still hold
    body: bytes
    headers: Mapping[str, str]  # lower-case names


def looks_like_image(head: bytes) -> bool:
    """Whether the first bytes are those of a format we read (decode.SOURCE_FORMATS)."""
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or (head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis", b"mif1", b"msf1"))
    )


class Client:
    """Fetches images: thread-safe, one pool of connections per (address, host, port)."""

    def __init__(
        self,
        *,
        policy: AddressPolicy,
        resolver: Resolver,
        allowed: AllowedSources,
        max_bytes: int,
        connect_timeout: float = 5.0,
        request_timeout: float = 20.0,
        max_redirects: int = 5,
        ca_certs: str | None = None,
        pool_size: int = 4,
    ) -> None:
        import urllib3  # noqa: PLC0415 - only servers with HTTP origins pay for the import

        self.policy = policy
        self.resolver = resolver
        self.allowed = allowed
        self.max_bytes = max_bytes
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.max_redirects = max_redirects
        self._urllib3 = urllib3
        self._pools = urllib3.PoolManager(
            num_pools=64,
            maxsize=pool_size,
            block=False,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs,
        )

    def get(self, source: SourceUrl, headers: Mapping[str, str]) -> Fetched:
        """GET `source` (already checked against ALLOWED_SOURCES) with `headers` (lower-case
        names), following redirects."""
        until = self._until()
        what = source.url
        current, sent = source, dict(headers)
        for hop in range(self.max_redirects + 1):
            where = what if hop == 0 else "a redirect of the image's URL"
            addresses = checked_addresses(
                current.host, current.port, self.policy, self.resolver, where
            )
            response = self._open(current, addresses, sent, until, what)
            location = response.headers.get("location")
            if response.status not in REDIRECTS or not location:
                return self._answer(response, until, what)
            _discard(response)
            try:
                target = parse_url(urljoin(current.url, location))
            except SourceNotAllowed:
                raise SourceNotAllowed(
                    "the image's origin redirected to a URL this server does not fetch"
                ) from None
            self.allowed.check(target, "the host the image's origin redirected to")
            if current.scheme == "https" and target.scheme == "http":
                raise UpstreamError(f"the origin of {what} redirected from https to http")
            if (target.scheme, target.host, target.port) != (
                current.scheme,
                current.host,
                current.port,
            ):
                sent = {k: v for k, v in sent.items() if k in _KEPT_ACROSS_HOSTS}
            current = target
        raise UpstreamError(f"the origin of {what} redirected more than {self.max_redirects} times")

    # --- one request ------------------------------------------------------------------------

    def _until(self) -> float:
        seconds = self.request_timeout
        remaining = deadline.current().remaining()
        if remaining is not None:
            seconds = min(seconds, remaining)
        return time.monotonic() + seconds

    def _left(self, until: float, what: str) -> float:
        left = until - time.monotonic()
        if left <= 0:
            raise self._timeout(what)
        return left

    def _timeout(self, what: str) -> Exception:
        deadline.checkpoint()  # the request's own deadline passed: 503, as for any work
        return UpstreamTimeout(f"the origin of {what} did not send the image in time")

    def _open(
        self,
        source: SourceUrl,
        addresses: list[str],
        headers: Mapping[str, str],
        until: float,
        what: str,
    ) -> urllib3.BaseHTTPResponse:
        urllib3 = self._urllib3
        exceptions = urllib3.exceptions
        pool_kwargs: dict[str, Any] = {}
        if source.scheme == "https":
            pool_kwargs = {"server_hostname": source.host, "assert_hostname": source.host}
        failure: Exception | None = None
        for address in addresses:
            left = self._left(until, what)
            pool = self._pools.connection_from_host(
                address, source.port, source.scheme, pool_kwargs=pool_kwargs
            )
            timeout = urllib3.Timeout(connect=min(self.connect_timeout, left), read=left)
            try:
                return pool.urlopen(
                    "GET",
                    source.target,
                    headers={**headers, "host": source.host_header},
                    retries=False,
                    redirect=False,
                    assert_same_host=False,
                    preload_content=False,
                    decode_content=False,
                    timeout=timeout,
                )
            except exceptions.NewConnectionError as error:  # refused, unreachable: the next one
                log.info("connecting to %s for %s failed: %s", address, source.url, error)
                failure = UpstreamError(f"the origin of {what} could not be reached")
            except exceptions.ConnectTimeoutError:
                log.info("connecting to %s for %s timed out", address, source.url)
                failure = self._timeout(what)
            except exceptions.SSLError as error:
                log.info("TLS with %s for %s failed: %s", address, source.url, error)
                raise UpstreamError(
                    f"TLS with the origin of {what} failed (is its certificate valid for its host?)"
                ) from None
            except (exceptions.ReadTimeoutError, TimeoutError):
                raise self._timeout(what) from None
            except (exceptions.HTTPError, OSError) as error:
                log.info("GET %s from %s failed: %s", source.url, address, error)
                raise UpstreamError(f"the origin of {what} broke off its answer") from None
        assert failure is not None  # addresses is never empty
        raise failure

    def _answer(self, response: urllib3.BaseHTTPResponse, until: float, what: str) -> Fetched:
        status = response.status
        headers = {name.lower(): value for name, value in response.headers.items()}
        if status == 304:
            _discard(response)
            return Fetched(304, b"", headers)
        if 400 <= status < 500:
            _discard(response)
            raise NoSuchKey(f"no image at {what}: its origin answered {status}")
        if status not in (200, 203):
            _discard(response)
            raise UpstreamError(f"the origin of {what} answered {status}")
        try:
            body = self._body(response, headers, until, what)
        except BaseException:
            response.close()
            raise
        response.release_conn()
        return Fetched(200, body, headers)

    def _body(self, response: Any, headers: Mapping[str, str], until: float, what: str) -> bytes:
        limit = self.max_bytes
        length = headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > limit:
            raise too_large(int(length), limit, f"the image at {what}")
        decoder = _decoder(headers.get("content-encoding", ""), what)
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        checked = content_type in IMAGE_TYPES
        read = _reader(response)
        errors = self._urllib3.exceptions
        chunks: list[bytes] = []
        size = 0
        while True:
            _read_timeout(response, self._left(until, what))
            try:
                raw = read(CHUNK)
            except (errors.ReadTimeoutError, TimeoutError):
                raise self._timeout(what) from None
            except (errors.HTTPError, OSError, ValueError) as error:
                log.info("reading %s failed: %s", what, error)
                raise UpstreamError(f"the origin of {what} broke off the image") from None
            # Inflated, at most one byte more than allowed: enough to refuse, and a bomb's
            # output never gets larger than that.
            data = raw if decoder is None else _inflate(decoder, raw, limit - size + 1, what)
            size += len(data)
            if size > limit:
                raise too_large(size, limit, f"the image at {what}")
            if data:
                chunks.append(data)
            if not raw and not size:
                raise UpstreamError(f"the origin of {what} sent an empty body")
            if not checked and (size >= 32 or not raw):
                checked = looks_like_image(b"".join(chunks)[:32])
                if not checked:
                    raise UnsupportedImageFormat(
                        f"the origin of {what} did not send an image "
                        f"(Content-Type: {content_type or 'none'})"
                    )
            if not raw:
                break
        if decoder is not None and not decoder.eof:
            raise UpstreamError(f"the origin of {what} sent a truncated compressed body")
        return b"".join(chunks)


def _reader(response: Any) -> Callable[[int], bytes]:
    """Reads of at most one receive each, so that the clock is read between them."""
    read1 = getattr(response, "read1", None)
    if read1 is not None:
        return lambda size: bytes(read1(size, decode_content=False))
    # urllib3 before 2.1 (an older Lambda runtime's): http.client's own read1 underneath.
    return response._fp.read1  # type: ignore[no-any-return]


def _decoder(encoding: str, what: str) -> Any:
    """A bounded decompressor for `Content-Encoding`, None for none."""
    value = encoding.strip().lower()
    if value in ("", "identity"):
        return None
    if value in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if value == "deflate":
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip framing
    raise UpstreamError(f"the origin of {what} sent the image in an encoding we do not read")


def _inflate(decoder: Any, data: bytes, room: int, what: str) -> bytes:
    """At most `room` bytes out of `data`: when that many came out, the image is over the
    limit anyway, so what the decoder held back (unconsumed_tail) never matters."""
    try:
        out: bytes = decoder.decompress(data, room)
    except zlib.error:
        raise UpstreamError(f"the origin of {what} sent a broken compressed body") from None
    return out


def _read_timeout(response: Any, seconds: float) -> None:
    """Each read waits at most what is left of the fetch: a slow body cannot stretch it."""
    connection = getattr(response, "connection", None) or getattr(response, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _discard(response: Any) -> None:
    """Close an answer whose body is not wanted (a redirect's, an error's): reading it could
    take as long as its origin likes."""
    response.close()
    response.release_conn()
