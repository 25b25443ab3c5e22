from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request, Response

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A smooth, asymmetric test picture: every region looks different from every other."""
    width, height = size
    horizontal = Image.linear_gradient("L").resize((width, height))
    vertical = Image.linear_gradient("L").rotate(90).resize((width, height))
    blue = Image.new("L", (width, height), 90)
    image = Image.merge("RGB", (horizontal, vertical, blue))
    if mode == "RGBA":
        alpha = Image.linear_gradient("L").rotate(45).resize((width, height))
        image.putalpha(alpha)
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def frame_count(image: Image.Image) -> int:
    return int(getattr(image, "n_frames", 1))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "originals"
    folder.mkdir()
    for name in ("astronaut.jpg", "dandelions-exif-rotated.jpg", "pan.gif", "pan.webp"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


Client = Callable[..., Response]


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
