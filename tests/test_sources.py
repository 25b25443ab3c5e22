"""The folder source: every file-system failure is the client's 403/404, never a 500, and no
original is read past MAX_SOURCE_BYTES."""

from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path

import pytest

from tests.helpers import Client
from thumbor_urls.errors import AccessDenied, ImageTooLarge, NoSuchKey
from thumbor_urls.sources import FolderSource


@pytest.mark.parametrize(
    "path",
    [
        "/unsafe/" + "a" * 300 + ".jpg",  # one name over NAME_MAX
        "/unsafe/" + "/".join(["d" * 200] * 30) + ".jpg",  # a path over PATH_MAX
        "/unsafe/astronaut.jpg/inside.jpg",  # a file used as a folder
        "/unsafe/loop/x.jpg",  # a symlink loop
        "/unsafe/folder",  # a folder
        "/unsafe/fifo.jpg",  # a named pipe: must not hang in open()
    ],
)
def test_file_system_errors_are_404(path: str, root: Path, client: Client) -> None:
    (root / "loop").symlink_to(root / "loop")
    (root / "folder").mkdir()
    os.mkfifo(root / "fifo.jpg")
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(client(path).status), daemon=True)
    worker.start()
    worker.join(10)
    assert done == [404], f"{path[:60]}: {done or 'no answer in 10 s'}"


def test_errors_are_json_that_no_browser_sniffs(client: Client) -> None:
    response = client("/unsafe/<script>alert(1)</script>.jpg")
    assert response.status == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_permission_denied_is_403(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root in CI, where chmod 000 denies nothing: the kernel's answer is made here.
    def denied(path: object, flags: int, *args: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(AccessDenied):
        FolderSource(root).load("astronaut.jpg")


def test_originals_over_max_source_bytes_are_refused_before_reading(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = (root / "astronaut.jpg").stat().st_size
    source = FolderSource(root, max_bytes=size - 1)
    opened: list[int] = []
    real_fdopen = os.fdopen

    class Unreadable:
        def __init__(self, fd: int) -> None:
            self.file = real_fdopen(fd, "rb")
            opened.append(fd)

        def __enter__(self) -> Unreadable:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def fileno(self) -> int:
            return self.file.fileno()

        def read(self, size: int = -1) -> bytes:
            raise AssertionError("read past the size check")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Unreadable(fd))
    with pytest.raises(ImageTooLarge, match="MAX_SOURCE_BYTES"):
        source.load("astronaut.jpg")
    assert len(opened) == 1
    monkeypatch.undo()
    assert FolderSource(root, max_bytes=size).load("astronaut.jpg").data[:2] == b"\xff\xd8"


def test_max_source_bytes_through_the_app(make_client: object) -> None:
    client = make_client(MAX_SOURCE_BYTES=1000)  # type: ignore[operator]
    response = client("/unsafe/100x100/astronaut.jpg")
    assert response.status == 413
    body = json.loads(response.body)
    assert body["code"] == "ImageTooLarge"
    assert "MAX_SOURCE_BYTES" in body["message"]


def test_identity_names_the_file_however_the_key_is_spelled(root: Path) -> None:
    source = FolderSource(root)
    names = {
        source.identity(key) for key in ("astronaut.jpg", "//astronaut.jpg", "./astronaut.jpg")
    }
    assert names == {str((root / "astronaut.jpg").resolve())}
    with pytest.raises(NoSuchKey):
        source.identity("../astronaut.jpg")
