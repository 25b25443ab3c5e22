"""Where processed results are kept, so that the same request is processed once."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple, Protocol


class StoredResult(NamedTuple):
    data: bytes
    content_type: str
    vary_accept: bool
    stored_at: float


class ResultStore(Protocol):
    def get(self, key: str) -> StoredResult | None: ...

    def put(self, key: str, data: bytes, content_type: str, vary_accept: bool) -> None: ...

    # Small JSON documents about an original (detected focal points, moderation verdicts), so
    # that the next size of the same image costs no detection. A miss or a failure is None.
    def get_data(self, key: str) -> dict[str, Any] | None: ...

    def put_data(self, key: str, value: dict[str, Any]) -> None: ...


class NoResultStore:
    def __repr__(self) -> str:
        return "nowhere"

    def get(self, key: str) -> StoredResult | None:
        return None

    def put(self, key: str, data: bytes, content_type: str, vary_accept: bool) -> None:
        return None

    def get_data(self, key: str) -> dict[str, Any] | None:
        return None

    def put_data(self, key: str, value: dict[str, Any]) -> None:
        return None


class FolderResultStore:
    """Results as files: `<key[:2]>/<key>` holds the bytes, `<key>.json` what the response needs.
    Writes go through a temporary file and a rename, so a reader never sees half a result."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return str(self.root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        folder = self.root / key[:2]
        return folder / key, folder / f"{key}.json"

    def get(self, key: str) -> StoredResult | None:
        data_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text())
            data = data_path.read_bytes()
            stored_at = data_path.stat().st_mtime
        except (OSError, ValueError):
            return None
        if len(data) != meta.get("length"):
            return None
        return StoredResult(data, meta["content_type"], bool(meta["vary_accept"]), stored_at)

    def put(self, key: str, data: bytes, content_type: str, vary_accept: bool) -> None:
        data_path, meta_path = self._paths(key)
        data_path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"content_type": content_type, "vary_accept": vary_accept, "length": len(data)}
        write_atomic(data_path, data)
        write_atomic(meta_path, json.dumps(meta).encode())

    def _data_path(self, key: str) -> Path:
        return self.root / "data" / key[:2] / f"{key}.json"

    def get_data(self, key: str) -> dict[str, Any] | None:
        try:
            value = json.loads(self._data_path(key).read_text())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def put_data(self, key: str, value: dict[str, Any]) -> None:
        path = self._data_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(value).encode())


def write_atomic(path: Path, data: bytes) -> None:
    """`data` at `path`, whole or not at all (readers never see half a file)."""
    import tempfile  # noqa: PLC0415 - 6 ms of every cold start otherwise, for a rare write

    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
