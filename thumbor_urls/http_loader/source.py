"""HTTPSource: originals from HTTP(S) origins, a `Source` like FolderSource and S3Source."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from ..config import Settings
from ..sources import Original, request_headers
from ..stores import ResultStore
from .addresses import AddressPolicy, Resolver, system_resolver
from .cache import Entry, Originals, digest, freshness, originals_for
from .client import Client, Fetched
from .errors import UpstreamError, UpstreamTimeout
from .urls import AllowedSources, SourceUrl, source_url

log = logging.getLogger(__name__)

# Thumbor's Accept; the body uncompressed, please (a compressed one is read within the limit).
ACCEPT = "image/*;q=0.9,*/*;q=0.1"
# After a failed revalidation, the stale original is served for this long before the origin is
# asked again (stale-if-error): an origin that is down does not cost every request a timeout.
RETRY_STALE_SECONDS = 30.0
# Entries remembered in this process, so that a fresh original costs no read of the store.
REMEMBERED = 4096


class HTTPSource:
    """Originals at `http://` and `https://` URLs; a key without a scheme is an `http://` URL,
    as Thumbor reads it. Every fetch goes through the address guard (addresses.py) and the
    client's limits (client.py); originals are kept, with their origin's validators and
    freshness, in `originals` (cache.py) when given."""

    def __init__(
        self,
        *,
        client: Client,
        allowed: AllowedSources,
        originals: Originals | None = None,
        user_agent: str = "thumbor-urls",
        forward_user_agent: bool = False,
        forward_headers: tuple[str, ...] = (),
        default_max_age: int = 3600,
    ) -> None:
        self.client = client
        self.allowed = allowed
        self.originals = originals
        self.user_agent = user_agent
        self.forward_user_agent = forward_user_agent
        self.forward_headers = forward_headers
        self.default_max_age = default_max_age
        self._remembered: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings, results: ResultStore, resolver: Resolver | None = None
    ) -> HTTPSource:
        allowed = AllowedSources(settings.ALLOWED_SOURCES)
        ca_certs = settings.HTTP_LOADER_CA_CERTS
        client = Client(
            policy=AddressPolicy(
                settings.HTTP_LOADER_ALLOW_LOOPBACK, settings.HTTP_LOADER_ALLOW_PRIVATE
            ),
            resolver=resolver or system_resolver,
            allowed=allowed,
            max_bytes=settings.MAX_SOURCE_BYTES,
            connect_timeout=settings.HTTP_LOADER_CONNECT_TIMEOUT,
            request_timeout=settings.HTTP_LOADER_REQUEST_TIMEOUT,
            max_redirects=settings.HTTP_LOADER_MAX_REDIRECTS,
            ca_certs=None if ca_certs is None else str(ca_certs),
        )
        scope = describe(client.policy, allowed)
        return cls(
            client=client,
            allowed=allowed,
            originals=originals_for(results, settings.HTTP_LOADER_CACHE_MAX_BYTES, scope),
            user_agent=settings.HTTP_LOADER_DEFAULT_USER_AGENT,
            forward_user_agent=settings.HTTP_LOADER_FORWARD_USER_AGENT,
            forward_headers=settings.HTTP_LOADER_FORWARD_HEADERS_WHITELIST,
            default_max_age=settings.HTTP_LOADER_DEFAULT_MAX_AGE,
        )

    def __repr__(self) -> str:
        # Part of every result's cache key: never the same as a folder's or a bucket's, and
        # results fetched under one guard are not served under another.
        return describe(self.client.policy, self.allowed)

    # --- the Source protocol ----------------------------------------------------------------

    def locate(self, key: str) -> SourceUrl:
        """The URL `key` names, if this server fetches from it (SourceNotAllowed otherwise)."""
        source = source_url(key)
        self.allowed.check(source)
        return source

    def identity(self, key: str) -> str:
        return self.locate(key).url

    def load(self, key: str) -> Original:
        source = self.locate(key)
        entry = self._entry(source.url)
        data = None
        if entry is not None and self.originals is not None:
            data = self.originals.data(entry)
        if entry is None or data is None:
            return self._fetch(source, None, None)
        if entry.fresh_until > time.time():
            return Original(data, entry.version, expires=entry.expires)
        try:
            return self._fetch(source, entry, data)
        except (UpstreamError, UpstreamTimeout) as error:
            return self._stale(source, entry, data, error)

    def last_modified(self, key: str) -> float | None:
        """When the bytes now served for `key` were first fetched. A stale entry is revalidated
        first (conditionally: a 304 costs no body); with none, the original is taken as changed
        now, so that results made from it are made again."""
        source = self.locate(key)
        entry = self._entry(source.url)
        if entry is None or self.originals is None:
            return time.time()
        if entry.fresh_until > time.time():
            return entry.version
        data = self.originals.data(entry)
        if data is None:
            return time.time()
        try:
            return self._fetch(source, entry, data).last_modified
        except (UpstreamError, UpstreamTimeout) as error:
            return self._stale(source, entry, data, error).last_modified

    def _stale(
        self, source: SourceUrl, entry: Entry, data: bytes, error: UpstreamError | UpstreamTimeout
    ) -> Original:
        """stale-if-error: the origin failed (5xx, unreachable, too slow) while a copy is kept;
        the copy is served, and the origin left alone for RETRY_STALE_SECONDS."""
        log.warning("serving %s stale: %s", source.url, error.message)
        self._remember(entry._replace(fresh_until=time.time() + RETRY_STALE_SECONDS))
        return Original(data, entry.version, expires=entry.expires)

    def expires(self, key: str) -> float | None:
        """The origin's own expiry of the original now served for `key`, if it gave one."""
        entry = self._entry(self.locate(key).url)
        return None if entry is None else entry.expires

    # --- fetching ---------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        client = request_headers()
        headers = {"accept": ACCEPT, "accept-encoding": "identity"}
        for name in self.forward_headers:
            if name in client:
                headers[name] = client[name]
        agent = client.get("user-agent") if self.forward_user_agent else None
        headers["user-agent"] = agent or self.user_agent
        return headers

    def _fetch(self, source: SourceUrl, entry: Entry | None, data: bytes | None) -> Original:
        """GET the original, conditionally when `entry` (and its `data`) is kept."""
        headers = self._headers()
        if entry is not None:
            headers.update(entry.validators())
        fetched = self.client.get(source, headers)
        now = time.time()
        fresh = freshness(fetched.headers, now, self.default_max_age)
        if fetched.status == 304:
            if entry is None or data is None:
                raise UpstreamError(f"the origin of {source.url} answered 304 to a plain GET")
            entry = entry._replace(
                fresh_until=fresh.fresh_until,
                expires=fresh.expires,
                etag=fetched.headers.get("etag", entry.etag),
                last_modified=fetched.headers.get("last-modified", entry.last_modified),
            )
            self._keep(entry, None)
            return Original(data, entry.version, expires=entry.expires)
        body = fetched.body
        if not fresh.store:
            self._forget(source.url)
            # Nothing may be kept: results made from it neither (it expires now).
            return Original(body, now, expires=now)
        self._keep(self._new_entry(source, fetched, now, fresh.fresh_until, fresh.expires), body)
        return Original(body, now, expires=fresh.expires)

    @staticmethod
    def _new_entry(
        source: SourceUrl, fetched: Fetched, now: float, fresh_until: float, expires: float | None
    ) -> Entry:
        return Entry(
            url=source.url,
            version=now,
            fresh_until=fresh_until,
            expires=expires,
            etag=fetched.headers.get("etag"),
            last_modified=fetched.headers.get("last-modified"),
            length=len(fetched.body),
            digest=digest(fetched.body),
        )

    # --- what is known of each original -----------------------------------------------------

    def _entry(self, url: str) -> Entry | None:
        with self._lock:
            entry = self._remembered.get(url)
            if entry is not None:
                self._remembered.move_to_end(url)
                return entry
        if self.originals is None:
            return None
        entry = self.originals.entry(url)
        if entry is not None:
            self._remember(entry)
        return entry

    def _keep(self, entry: Entry, data: bytes | None) -> None:
        if self.originals is None:
            return
        if data is None:
            self.originals.put_entry(entry)
        else:
            self.originals.put(entry, data)
        self._remember(entry)

    def _remember(self, entry: Entry) -> None:
        with self._lock:
            self._remembered[entry.url] = entry
            self._remembered.move_to_end(entry.url)
            while len(self._remembered) > REMEMBERED:
                self._remembered.popitem(last=False)

    def _forget(self, url: str) -> None:
        with self._lock:
            self._remembered.pop(url, None)


def describe(policy: AddressPolicy, allowed: AllowedSources) -> str:
    opened = [name for name, on in zip(("loopback", "private"), policy, strict=True) if on]
    return f"HTTPSource(allowed={list(allowed.patterns)!r}, opened={opened!r})"
