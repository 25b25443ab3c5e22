"""Add `__pycache__/<name>.<cache tag>.pyc` next to every .py file of a Lambda zip, compiled by the
interpreter that runs this script (run it with the runtime's Python, e.g. python3.12).

Lambda's filesystem is read-only, so without them every cold start compiles every module again.
The pycs are unchecked-hash ones (PEP 552): Python loads them without looking at the source's
mtime, which a zip keeps only to 2 seconds (timestamp pycs would be found stale). The .py files
stay for tracebacks. Called by scripts/lambda-zip.js after `sls package`.

Usage: python3.12 scripts/add_bytecode.py .serverless/thumbor-urls.zip
"""

from __future__ import annotations

import importlib.util
import marshal
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, check_source off
# The pycs' mtime means nothing (unchecked); a constant keeps the zip reproducible.
PYC_DATE = (1980, 1, 1, 0, 0, 0)


def pyc(source: bytes, filename: str) -> bytes:
    """What `py_compile --invalidation-mode unchecked-hash` writes, without files on disk."""
    code = compile(source, filename, "exec", dont_inherit=True, optimize=0)
    return b"".join((
        importlib.util.MAGIC_NUMBER,
        UNCHECKED_HASH.to_bytes(4, "little"),
        importlib.util.source_hash(source),
        marshal.dumps(code),
    ))  # fmt: skip


def add_bytecode(archive: Path) -> tuple[int, list[str]]:
    """Append the pycs to `archive` (replaced atomically); returns how many were added and the
    .py files that do not compile (left without a pyc, as pip's own compileall does)."""
    pycs: dict[str, tuple[zipfile.ZipInfo, bytes]] = {}
    failed = []
    with zipfile.ZipFile(archive) as zipped:  # "r" first: "a" would append a zip to a non-zip
        names = set(zipped.namelist())
        for entry in zipped.infolist():
            if entry.is_dir() or not entry.filename.endswith(".py"):
                continue
            # cache_from_source gives the interpreter's own tag: __pycache__/x.cpython-312.pyc
            target = importlib.util.cache_from_source(entry.filename)
            if target in names:  # already there (a second run): never a duplicate entry
                continue
            try:
                pycs[target] = (entry, pyc(zipped.read(entry), entry.filename))
            except (SyntaxError, ValueError) as error:
                failed.append(f"{entry.filename}: {error}")
    if not pycs:
        return 0, failed
    handle, temporary = tempfile.mkstemp(dir=archive.parent, suffix=".zip")
    os.close(handle)
    try:
        shutil.copyfile(archive, temporary)
        # Appending leaves the existing entries byte for byte as they were.
        with zipfile.ZipFile(temporary, "a") as zipped:
            for target, (source, data) in pycs.items():
                info = zipfile.ZipInfo(target, date_time=PYC_DATE)
                info.compress_type = source.compress_type
                info.create_system = 3  # Unix, so that the permissions below count
                info.external_attr = 0o100644 << 16
                zipped.writestr(info, data, compresslevel=9)
        os.chmod(temporary, archive.stat().st_mode & 0o777)
        os.replace(temporary, archive)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return len(pycs), failed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    added, failed = add_bytecode(Path(argv[0]))
    for line in failed:
        print(f"not compiled: {line}", file=sys.stderr)
    tag = sys.implementation.cache_tag
    print(f"{added} {tag} pycs added to {argv[0]} ({len(failed)} .py files did not compile)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
