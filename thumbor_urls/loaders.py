"""LOADERS: where originals come from, one source or several tried in order.

`file` is the folder (sources.FolderSource), `s3` the buckets (aws/s3.S3Source, made by the
Lambda handler), `http` HTTP(S) origins (http_loader/). With several, a key is tried on each in
turn until one has it, as Thumbor's `file_loader_http_fallback` does for `file,http`; a key
written as a URL (`http://`, `https://`) goes to `http` alone (it is never a file name), and a
key the `http` fallback may not fetch (a host outside ALLOWED_SOURCES, not a host at all) is the
first loader's 404, not a refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from .config import SettingError, Settings
from .errors import NoSuchKey
from .sources import FolderSource, Original, Source
from .stores import ResultStore

T = TypeVar("T")


class Loaders:
    """Several sources, tried in order (the `Source` protocol)."""

    def __init__(self, named: Sequence[tuple[str, Source]]) -> None:
        if len(named) < 2:
            raise ValueError("Loaders needs at least two sources")
        self.named = tuple(named)

    def __repr__(self) -> str:
        # Part of every result's cache key: which sources, in which order.
        return f"Loaders({', '.join(f'{name}={source!r}' for name, source in self.named)})"

    def _order(self, key: str) -> tuple[tuple[str, Source], ...]:
        from .http_loader.urls import has_scheme  # noqa: PLC0415 - pure, and only for chains

        if has_scheme(key):
            urls = tuple(item for item in self.named if item[0] == "http")
            if urls:
                return urls
        return self.named

    def _first(self, key: str, call: Callable[[str, Source], T]) -> T:
        from .http_loader.errors import SourceNotAllowed  # noqa: PLC0415

        missing: NoSuchKey | None = None
        for name, source in self._order(key):
            try:
                return call(name, source)
            except NoSuchKey as error:
                missing = missing or error
            except SourceNotAllowed:
                if missing is None:
                    raise
                # A name the earlier loaders do not have and the http fallback may not
                # fetch: theirs is the answer (404), as for any missing file.
                raise missing from None
        assert missing is not None
        raise missing

    def load(self, key: str) -> Original:
        return self._first(key, lambda name, source: source.load(key))

    def last_modified(self, key: str) -> float | None:
        return self._first(key, lambda name, source: source.last_modified(key))

    def identity(self, key: str) -> str:
        """The source that has `key` and the object there: a loader before the last has it when
        it answers last_modified() (a file's stat, an S3 HEAD); the last is not asked."""
        order = self._order(key)

        def which(name: str, source: Source) -> str:
            if (name, source) != order[-1]:
                source.last_modified(key)
            return f"{name}:{source.identity(key)}"

        return self._first(key, which)

    def expires(self, key: str) -> float | None:
        def ask(name: str, source: Source) -> float | None:
            if hasattr(source, "expires"):
                expiry: float | None = source.expires(key)
                return expiry
            source.last_modified(key)  # raises NoSuchKey when this one does not have it
            return None

        return self._first(key, ask)


def build_source(settings: Settings, results: ResultStore, s3: Source | None = None) -> Source:
    """The source LOADERS names (by default `s3` when the Lambda gives one, else `file`):
    the source itself when it is one, a Loaders chain when several."""
    names = settings.LOADERS or (("s3",) if s3 is not None else ("file",))
    named: list[tuple[str, Source]] = []
    for name in names:
        if name == "file":
            named.append(
                (name, FolderSource(settings.FILE_LOADER_ROOT_PATH, settings.MAX_SOURCE_BYTES))
            )
        elif name == "s3":
            if s3 is None:
                raise SettingError("LOADERS names s3, which needs SOURCE_BUCKETS (on Lambda)")
            named.append((name, s3))
        else:
            from .http_loader.source import HTTPSource  # noqa: PLC0415 - urllib3 only when on

            named.append((name, HTTPSource.from_settings(settings, results)))
    if len(named) == 1:
        return named[0][1]
    return Loaders(named)


def source_expires(source: Source, key: str) -> float | None:
    """When the original at `key` stops being fresh, for sources whose originals expire (HTTP
    origins); None for the others."""
    expires = getattr(source, "expires", None)
    if expires is None:
        return None
    value: float | None = expires(key)
    return value
