"""A result's lookup and its original's read, at the same time where the source can open an
original without reading it (S3Source.open): a render then waits for one round trip to S3
before its work instead of two, and a cached result for one instead of two (the original's
headers say whether the result is still fresh, where a HEAD used to). Where the lookup finds a
fresh result, the opened original is closed unread: its connection is not reused, and a later
request opens another. Sources without `open` (folders, HTTP origins, a chain of loaders) are
read after the lookup, as before."""

from __future__ import annotations

from typing import Protocol

from . import background
from .errors import ImageServiceError
from .sources import Original, Source
from .stores import NoResultStore, ResultStore, StoredResult


class Opened(Protocol):
    """An original whose headers have arrived and whose body has not been read."""

    last_modified: float | None

    def read(self) -> Original: ...

    def close(self) -> None: ...


class PendingOriginal:
    """The opened original, or the error opening it, raised where reading it would raise."""

    def __init__(self, opened: Opened | None, error: ImageServiceError | None) -> None:
        self._opened = opened
        self._error = error
        self._read = False

    def last_modified(self) -> float | None:
        return self._get().last_modified

    def read(self) -> Original:
        original = self._get().read()
        self._read = True
        return original

    def close(self) -> None:
        """Drop it unread (nothing to do once read)."""
        if self._opened is not None and not self._read:
            self._opened.close()

    def _get(self) -> Opened:
        if self._error is not None:
            raise self._error
        assert self._opened is not None
        return self._opened


def look_up(
    results: ResultStore, source: Source, key: str, image: str
) -> tuple[StoredResult | None, PendingOriginal | None]:
    """The stored result under `key` (None: a miss) and, where `source` can open originals, the
    original `image`, opened while the lookup ran (None: read it the usual way)."""
    opener = getattr(source, "open", None)
    if opener is None or isinstance(results, NoResultStore):
        return results.get(key), None
    lookup = background.start("thumbor-urls-lookup", lambda: results.get(key))
    try:
        pending = PendingOriginal(opener(image), None)
    except ImageServiceError as error:
        pending = PendingOriginal(None, error)
    try:
        return lookup(), pending
    except BaseException:
        pending.close()
        raise
