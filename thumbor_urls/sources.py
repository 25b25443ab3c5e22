"""Where originals come from. Sources only read: nothing here can write to an original."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol

from .errors import NoSuchKey


class Original(NamedTuple):
    data: bytes
    last_modified: float | None = None


class Source(Protocol):
    """Where originals come from. Its repr() must say which originals (a folder, buckets):
    it is part of every result cache key."""

    def load(self, key: str) -> Original: ...

    def last_modified(self, key: str) -> float | None:
        """A cheap check used to validate cached results; raises NoSuchKey when gone."""
        ...


class FolderSource:
    """Originals in a folder. A key with `..` is refused from its text alone, before the file
    system is asked anything; a symlink that leads out of the folder is refused too."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def __repr__(self) -> str:
        return f"FolderSource({str(self.root)!r})"

    def resolve(self, key: str) -> Path:
        parts = [part for part in key.split("/") if part not in ("", ".")]
        if not parts or "\x00" in key or ".." in parts:
            raise NoSuchKey(f"no image at {key!r}")
        resolved = self.root.joinpath(*parts).resolve()
        if not resolved.is_relative_to(self.root):
            raise NoSuchKey(f"no image at {key!r}")
        return resolved

    def load(self, key: str) -> Original:
        path = self.resolve(key)
        try:
            if not path.is_file():
                raise NoSuchKey(f"no image at {key!r}")
            return Original(path.read_bytes(), path.stat().st_mtime)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NoSuchKey(f"no image at {key!r}") from None

    def last_modified(self, key: str) -> float | None:
        try:
            return self.resolve(key).stat().st_mtime
        except (FileNotFoundError, NotADirectoryError):
            raise NoSuchKey(f"no image at {key!r}") from None
