"""Fixtures of the filter-family tests: the sources (sources.py), the two Thumbors and the two Apps
that serve them, each started once for the whole folder (package scope).

Thumbor runs with its default settings except FILTERS, which adds `thumbor.filters.autojpg` to
its built-in list (autojpg is not built in: see test_output_options.py's DIFFERENCES); a second
Thumbor with PRESERVE_EXIF_INFO=True and the default FILTERS serves the metadata cases.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.filter_families.differences import Peers
from tests.peers.filter_families.sources import make_sources
from tests.peers.thumbor_peer import run_thumbor
from thumbor_urls.app import App
from thumbor_urls.config import Settings


@pytest.fixture(scope="package")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of sources both sides read (sources.py)."""
    folder = tmp_path_factory.mktemp("canvas-sources")
    make_sources(folder)
    return folder


def _builtin_filters(venv: Path) -> list[str]:
    """Thumbor's own BUILTIN_FILTERS list, asked of the installed Thumbor."""
    code = "import json; from thumbor.filters import BUILTIN_FILTERS as F; print(json.dumps(F))"
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], check=True, capture_output=True, text=True
    )
    names: list[str] = json.loads(out.stdout)
    return names


@pytest.fixture(scope="package")
def thumbor(thumbor_venv: Path, root: Path) -> Iterator[str]:
    filters = [*_builtin_filters(thumbor_venv), "thumbor.filters.autojpg"]
    with run_thumbor(thumbor_venv, root, FILTERS=filters) as base:
        yield base


@pytest.fixture(scope="package")
def thumbor_exif(thumbor_venv: Path, root: Path) -> Iterator[str]:
    """PRESERVE_EXIF_INFO=True and the default FILTERS (no autojpg)."""
    with run_thumbor(thumbor_venv, root, PRESERVE_EXIF_INFO=True) as base:
        yield base


@pytest.fixture(scope="package")
def app(root: Path) -> App:
    return App(Settings(FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None))


@pytest.fixture(scope="package")
def app_exif(root: Path) -> App:
    return App(
        Settings(
            FILE_LOADER_ROOT_PATH=root,
            RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None,
            PRESERVE_EXIF_INFO=True,
        )
    )


@pytest.fixture(scope="package")
def peers(thumbor: str, thumbor_exif: str, app: App, root: Path) -> Peers:
    """Everything a Difference or Bug check needs."""
    return Peers(thumbor, thumbor_exif, app, root)
