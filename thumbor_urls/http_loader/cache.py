"""Originals fetched from HTTP origins, kept beside the results, and how long each stays fresh.

An entry is the original's bytes and what its origin said of them: `ETag` and `Last-Modified`
(sent back as `If-None-Match` and `If-Modified-Since` once the entry is stale, so that an
unchanged original costs a 304 and no body), and its freshness from `Cache-Control` (`s-maxage`,
`max-age`, `no-cache`; `no-store` and `private` keep nothing) or `Expires`, less `Age`; an
origin that says nothing gets HTTP_LOADER_DEFAULT_MAX_AGE. `version` is when these bytes were
first fetched: results older than it were made from other bytes (the App's freshness check).

The entries live in the result store's backend: in a folder, `originals/` under the results'
folder, kept under HTTP_LOADER_CACHE_MAX_BYTES by removing the least recently used; in S3
(the Lambda), beside the results, expired by the same lifecycle rule.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from ..stores import FolderResultStore, NoResultStore, ResultStore, write_atomic

log = logging.getLogger(__name__)


class Entry(NamedTuple):
    """What is known of one original: everything but its bytes."""

    url: str
    version: float  # when these bytes were first fetched (time.time())
    fresh_until: float  # after this, ask the origin again, conditionally
    expires: float | None  # the origin's own expiry, when it gave one: results expire with it
    etag: str | None
    last_modified: str | None  # the origin's header, as it wrote it
    length: int
    digest: str

    def validators(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["if-none-match"] = self.etag
        if self.last_modified:
            headers["if-modified-since"] = self.last_modified
        return headers

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Entry | None:
        try:
            return cls(**{name: value[name] for name in cls._fields})
        except (KeyError, TypeError):
            return None


class Freshness(NamedTuple):
    store: bool  # whether the origin lets a shared cache keep the original at all
    fresh_until: float
    expires: float | None  # set when the origin said how long (or no-cache)


def _directives(value: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        if name:
            found[name.strip().lower()] = argument.strip().strip('"')
    return found


def _seconds(text: str | None) -> int | None:
    if text is None or not text.isdigit():
        return None
    return int(text)


def _date(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def freshness(headers: Mapping[str, str], now: float, default_max_age: int) -> Freshness:
    """How long an answer with `headers` (lower-case names) stays fresh in a shared cache."""
    directives = _directives(headers.get("cache-control", ""))
    store = "no-store" not in directives and "private" not in directives
    age = _seconds(headers.get("age")) or 0
    lifetime = _seconds(directives.get("s-maxage"))
    if lifetime is None:
        lifetime = _seconds(directives.get("max-age"))
    if lifetime is None and "expires" in headers:
        expires = _date(headers["expires"])
        date = _date(headers.get("date")) or now
        lifetime = 0 if expires is None else max(0, int(expires - date))
    explicit = lifetime is not None
    if "no-cache" in directives:
        lifetime, explicit = 0, True
    if lifetime is None:
        lifetime = default_max_age
    fresh_until = now + max(0, lifetime - age)
    return Freshness(store, fresh_until, fresh_until if explicit else None)


def cache_key(url: str, scope: str) -> str:
    """Where the original at `url` is kept, for a source whose guard is `scope` (its repr): an
    original fetched while an address or a host was allowed is not served once it is not."""
    text = f"http|v1|{scope}|{url}"
    return "original-" + hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Originals(Protocol):
    """Where entries are kept. A failure reads as a miss and skips a write: the cache never
    fails a request."""

    def entry(self, url: str) -> Entry | None: ...

    def data(self, entry: Entry) -> bytes | None: ...

    def put(self, entry: Entry, data: bytes) -> None: ...

    def put_entry(self, entry: Entry) -> None: ...


class FolderOriginals:
    """Entries as files under `root`: `<key[:10]>/<key>` the bytes, `<key>.json` the entry; at
    most `max_bytes` of them, the least recently used removed first (this process counts what
    it writes and looks at the folder again when the count says it is full)."""

    def __init__(self, root: Path, max_bytes: int, scope: str = "") -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.scope = scope
        self._lock = threading.Lock()
        self._counted: int | None = None

    def __repr__(self) -> str:
        return f"FolderOriginals({str(self.root)!r}, {self.max_bytes})"

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = cache_key(url, self.scope)
        folder = self.root / key[9:11]
        return folder / key, folder / f"{key}.json"

    def entry(self, url: str) -> Entry | None:
        try:
            value = json.loads(self._paths(url)[1].read_text())
        except (OSError, ValueError):
            return None
        entry = Entry.from_dict(value) if isinstance(value, dict) else None
        return entry if entry is not None and entry.url == url else None

    def data(self, entry: Entry) -> bytes | None:
        path = self._paths(entry.url)[0]
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: the last to go
        except OSError:
            return None
        return data if digest(data) == entry.digest else None

    def put(self, entry: Entry, data: bytes) -> None:
        if len(data) > self.max_bytes // 4:
            return  # one original may not push out most of the others
        data_path, entry_path = self._paths(entry.url)
        try:
            self._make_room(len(data))
            data_path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(data_path, data)
            write_atomic(entry_path, json.dumps(entry.as_dict()).encode())
        except OSError as error:
            log.warning("could not keep an original: %s", error)

    def put_entry(self, entry: Entry) -> None:
        try:
            write_atomic(self._paths(entry.url)[1], json.dumps(entry.as_dict()).encode())
        except OSError as error:
            log.warning("could not keep an original's entry: %s", error)

    def _make_room(self, size: int) -> None:
        with self._lock:
            if self._counted is not None and self._counted + size <= self.max_bytes:
                self._counted += size
                return
            files = []
            for folder in self.root.glob("??"):
                for path in folder.iterdir():
                    if path.suffix != ".json" and not path.name.startswith(".tmp-"):
                        try:
                            status = path.stat()
                        except OSError:
                            continue
                        files.append((status.st_mtime, status.st_size, path))
            total = sum(item[1] for item in files)
            goal = self.max_bytes * 9 // 10 - size
            for _, length, path in sorted(files):
                if total <= goal:
                    break
                path.unlink(missing_ok=True)
                path.with_name(path.name + ".json").unlink(missing_ok=True)
                total -= length
            self._counted = total + size


class StoreOriginals:
    """Entries in any result store (S3 on the Lambda): the bytes as a result, the entry as the
    store's JSON data, both under the original's key."""

    def __init__(self, store: ResultStore, max_bytes: int, scope: str = "") -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.scope = scope

    def __repr__(self) -> str:
        return f"StoreOriginals({self.store!r})"

    def entry(self, url: str) -> Entry | None:
        value = self.store.get_data(cache_key(url, self.scope))
        entry = None if value is None else Entry.from_dict(value)
        return entry if entry is not None and entry.url == url else None

    def data(self, entry: Entry) -> bytes | None:
        stored = self.store.get(cache_key(entry.url, self.scope))
        if stored is None or digest(stored.data) != entry.digest:
            return None
        return stored.data

    def put(self, entry: Entry, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        key = cache_key(entry.url, self.scope)
        self.store.put(key, data, "application/octet-stream", False)
        self.store.put_data(key, entry.as_dict())

    def put_entry(self, entry: Entry) -> None:
        self.store.put_data(cache_key(entry.url, self.scope), entry.as_dict())


def originals_for(results: ResultStore, max_bytes: int, scope: str) -> Originals | None:
    """The cache of originals in `results`' backend; None when there is none to keep it in."""
    if max_bytes <= 0 or isinstance(results, NoResultStore):
        return None
    if isinstance(results, FolderResultStore):
        return FolderOriginals(results.root / "originals", max_bytes, scope)
    return StoreOriginals(results, max_bytes, scope)
