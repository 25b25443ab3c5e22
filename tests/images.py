"""Images for the tests: the sample folder, a synthetic picture, and encoding to and from bytes.

Shared by the test modules (import from here, not from conftest.py, which holds fixtures).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
# The test photos, with their licences (tests/corpus/SOURCES.md).
CORPUS = Path(__file__).resolve().parent / "corpus"


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
    """The image in `data`, fully loaded."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def frame_count(image: Image.Image) -> int:
    return int(getattr(image, "n_frames", 1))
