"""Fixtures for every test: an originals folder and an in-process client of the App over it.

Shared data and helpers live in modules beside this one (images.py, helpers.py, ...): test
modules import those, and take fixtures as arguments.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Client
from tests.images import SAMPLES
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request, Response


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "originals"
    folder.mkdir()
    for name in ("astronaut.jpg", "dandelions-exif-rotated.jpg", "pan.gif", "pan.webp"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


@pytest.fixture
def make_client(root: Path, tmp_path: Path) -> Callable[..., Client]:
    """A client for an App over `root`, with settings overridden by keyword."""

    def factory(**overrides: object) -> Client:
        settings = Settings(
            FILE_LOADER_ROOT_PATH=root,
            RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / "results",
        ).replace(**overrides)
        app = App(settings)

        def get(path: str, method: str = "GET", **headers: str) -> Response:
            lowered = {k.replace("_", "-").lower(): v for k, v in headers.items()}
            return app.handle(Request(method, path, lowered))

        return get

    return factory


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()
