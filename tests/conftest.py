"""Fixtures shared by the test modules: an originals folder and an in-process client of the App
over it; AWS through moto (one server for the session) and the Lambda handler over it.

Shared data and helpers live in modules beside this one (images.py, helpers.py, ...): test
modules import those, and take fixtures as arguments.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import Client
from tests.images import SAMPLES
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request, Response

if TYPE_CHECKING:  # imported where used: boto3 is slow to import, and most tests never need it
    from tests.aws_fixtures import MotoAws
    from tests.lambda_stack import Stack


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


@pytest.fixture(scope="session")
def moto_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoAws]:
    """moto in server mode behind a fault-injecting proxy, one for the whole session."""
    from tests.aws_fixtures import running_moto

    with running_moto(tmp_path_factory.mktemp("moto")) as aws:
        yield aws


@pytest.fixture
def stack(
    moto_aws: MotoAws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Stack]:
    """The Lambda handler over fresh buckets on moto (tests/lambda_stack.py)."""
    from tests.lambda_stack import stack_over

    with stack_over(moto_aws, monkeypatch, capsys) as built:
        yield built


@pytest.fixture
def signing_secret(stack: Stack) -> Callable[..., str]:
    """signing_secret(value, field=""): signed URLs with a key from Secrets Manager."""
    return stack.signing_secret
