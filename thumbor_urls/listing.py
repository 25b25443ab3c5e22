"""The images of a folder, a page at a time: the playground's picker on the local server.

Bounded whatever the folder holds: at most MAX_SCANNED entries are looked at, MAX_DEPTH folders
deep, and a page holds at most MAX_PAGE images. Nothing outside the root is listed (a symlink
that leads out is skipped, as FolderSource refuses it), nor anything hidden (a name starting
with a dot, or inside such a folder), nor anything but the formats the service decodes (by
their first bytes, not their names).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

MAX_PAGE = 100
MAX_SCANNED = 10_000  # entries looked at, files and folders: a huge folder is listed in part
MAX_DEPTH = 8

# The formats the decoders' allow-list takes (decode.py), by their first bytes.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"WEBP", 8, "webp"),
    (b"ftypavif", 4, "avif"),
    (b"ftypavis", 4, "avif"),
)
_HEAD = 16


class Image(NamedTuple):
    key: str  # as an image URL names it: relative to the root, with `/`
    bytes: int
    format: str

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class Page(NamedTuple):
    images: list[Image]
    offset: int
    next_offset: int | None  # None: this is the last page
    complete: bool  # False: the folder holds more than MAX_SCANNED entries, not all were seen

    def as_dict(self) -> dict[str, Any]:
        return {
            "images": [image.as_dict() for image in self.images],
            "offset": self.offset,
            "next_offset": self.next_offset,
            "complete": self.complete,
        }


def sniff(head: bytes) -> str | None:
    """The image format `head` (a file's first 16 bytes) starts, or None."""
    for magic, at, name in _MAGIC:
        if head[at : at + len(magic)] == magic:
            return name
    return None


def list_images(root: Path, offset: int = 0, limit: int = MAX_PAGE) -> Page:
    """The images under `root` in key order, `limit` of them (at most MAX_PAGE) from `offset`."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    base = root.resolve()
    found: list[Image] = []
    scanned = 0
    complete = True
    # Depth first in name order: which entries MAX_SCANNED leaves out does not vary.
    stack: list[tuple[Path, int]] = [(base, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue  # unreadable: nothing to list there
        subfolders: list[tuple[Path, int]] = []
        for entry in entries:
            scanned += 1
            if scanned > MAX_SCANNED:
                complete = False
                stack.clear()
                break
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                real = path.resolve()
                if not real.is_relative_to(base):
                    continue
                if entry.is_dir():
                    if depth + 1 < MAX_DEPTH:
                        subfolders.append((path, depth + 1))
                    continue
                if not entry.is_file():
                    continue  # FIFOs, sockets, devices
                image = _image(base, path, real)
            except OSError:
                continue
            if image is not None:
                found.append(image)
        # Popped in name order, after the files of their parent.
        stack.extend(reversed(subfolders))
    found.sort(key=lambda image: image.key)
    page = found[offset : offset + limit]
    more = offset + limit < len(found)
    return Page(page, offset, offset + limit if more else None, complete)


def _image(base: Path, path: Path, real: Path) -> Image | None:
    with open(real, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        fmt = sniff(file.read(_HEAD))
    if fmt is None:
        return None
    return Image(path.relative_to(base).as_posix(), size, fmt)
