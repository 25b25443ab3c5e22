"""Where originals come from. Sources only read: nothing here can write to an original."""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple, Protocol

from .errors import AccessDenied, ImageTooLarge, NoSuchKey

# No original is larger than this unless the operator says so (MAX_SOURCE_BYTES).
DEFAULT_MAX_BYTES = 50 << 20


class Original(NamedTuple):
    data: bytes
    last_modified: float | None = None
    # The object's own caching headers, where the source keeps them (S3's metadata): what an
    # SIH default request answers with.
    cache_control: str | None = None
    stored_expires: float | None = None
    # When its origin stops vouching for it (HTTP origins' Cache-Control or Expires): answers
    # made from it are not cached downstream past it. None: no such limit.
    expires: float | None = None


class Source(Protocol):
    """Where originals come from. Its repr() must say which originals (a folder, buckets):
    it is part of every result cache key."""

    def load(self, key: str) -> Original: ...

    def last_modified(self, key: str) -> float | None:
        """A cheap check used to validate cached results; raises NoSuchKey when gone."""
        ...

    def identity(self, key: str) -> str:
        """The object `key` names, however it is spelled (`a.png`, `//a.png`, `./a.png`)."""
        ...


_NO_HEADERS: Mapping[str, str] = {}
_REQUEST_HEADERS: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "request_headers", default=_NO_HEADERS
)


@contextlib.contextmanager
def serving(headers: Mapping[str, str]) -> Iterator[None]:
    """The headers (lower-case names) of the request this thread serves, for the block: what a
    source may pass on (the HTTP loader's HTTP_LOADER_FORWARD_* settings)."""
    token = _REQUEST_HEADERS.set(headers)
    try:
        yield
    finally:
        _REQUEST_HEADERS.reset(token)


def request_headers() -> Mapping[str, str]:
    return _REQUEST_HEADERS.get()


def too_large(size: int, limit: int, what: str) -> ImageTooLarge:
    return ImageTooLarge(
        f"{what} is {size:,} bytes, over the limit of {limit:,} (MAX_SOURCE_BYTES)"
    )


class FolderSource:
    """Originals in a folder. A key with `..` is refused from its text alone, before the file
    system is asked anything; a symlink that leads out of the folder is refused too. Files
    over `max_bytes` are refused from their size, before a byte is read."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root.resolve()
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"FolderSource({str(self.root)!r})"

    def resolve(self, key: str) -> Path:
        parts = [part for part in key.split("/") if part not in ("", ".")]
        if not parts or "\x00" in key or ".." in parts:
            raise NoSuchKey(f"no image at {key!r}")
        try:
            resolved = self.root.joinpath(*parts).resolve()
        except RuntimeError:  # a symlink loop, before Python 3.13 (an OSError since)
            raise NoSuchKey(f"no image at {key!r}") from None
        if not resolved.is_relative_to(self.root):
            raise NoSuchKey(f"no image at {key!r}")
        return resolved

    def identity(self, key: str) -> str:
        return str(self.resolve(key))

    def load(self, key: str) -> Original:
        path = self.resolve(key)
        # O_NONBLOCK: a FIFO among the originals must not hang the request in open().
        with _file_errors(key), os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            status = os.fstat(file.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise NoSuchKey(f"no image at {key!r}")
            if status.st_size > self.max_bytes:
                raise too_large(status.st_size, self.max_bytes, f"the image at {key!r}")
            # One more byte than allowed: a file that grew since fstat is still caught.
            data = file.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise too_large(len(data), self.max_bytes, f"the image at {key!r}")
        return Original(data, status.st_mtime)

    def last_modified(self, key: str) -> float | None:
        with _file_errors(key):
            return self.resolve(key).stat().st_mtime


@contextlib.contextmanager
def _file_errors(key: str) -> Iterator[None]:
    """File-system errors as the client's answer: permission is 403, anything else about the
    path (missing, not a directory, name too long, a symlink loop) is 404, never a 500."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EPERM):
            raise AccessDenied(f"the image at {key!r} cannot be read") from None
        raise NoSuchKey(f"no image at {key!r}") from None
