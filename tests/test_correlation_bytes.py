"""blur() and convolution() give the very bytes they gave before their sums were kept in a
bytearray instead of copied out with tobytes() (filters/correlation.py): digests of the
previous implementation's output on two corpus images (Pillow is pinned, and with it the
decoder and the resampling that make the inputs)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from thumbor_urls.filters.bands import normalise
from thumbor_urls.filters.blur import gaussian_taps
from thumbor_urls.filters.correlation import correlate, correlate_separable

CORPUS = Path(__file__).resolve().parent / "corpus"


def _photo() -> Image.Image:
    with Image.open(CORPUS / "photo_sunset_4272x2848.jpg") as photo:
        photo.draft("RGB", (1100, 800))
        return photo.convert("RGB").resize((320, 213))


def _cut_out() -> Image.Image:
    with Image.open(CORPUS / "alpha_cutout_dandelions_1600x900.png") as cut:
        return cut.resize((200, 113))


IMAGES = {"photo": _photo, "cut-out": _cut_out}
KERNEL: list[list[float]] = [[1, -2, 3], [0.5, 4, -1], [2, 2, -0.25]]
EXPECTED = {
    ("photo", "blur(6,2)"): "78cd9e322ef0913743d8fe81e4f45d6323d5991aceec2f8bd5f5f82efa6c0b83",
    ("photo", "blur(20,7)"): "0dce2a2f40800c39cfdf96029c2422a5c70b76d72c5166bea70d8acc85fa57be",
    ("photo", "convolution"): "dd5e882f7ee5f9a17ec0c02ea54c45178b77aaba9bcecc9858fe774fa8c162e4",
    ("cut-out", "blur(6,2)"): "c962f7bfa5b5812287d09ec25ae1421299f0e8efcc21106ca4da26c5f6a302b4",
    ("cut-out", "blur(20,7)"): "5a2d6d591f3b24b5a6ab1ccae07eea5ea07a92f3fd728fe8af028862b1cd61d8",
    ("cut-out", "convolution"): "baa4b791c1e8139e95f444ed6b91cb8df7cde68b46fb56d457cd3ac7009d4221",
}


def _run(image: Image.Image, what: str) -> Image.Image:
    if what == "blur(6,2)":
        return correlate_separable(normalise(image), gaussian_taps(6, 2.0))
    if what == "blur(20,7)":
        return correlate_separable(normalise(image), gaussian_taps(20, 7.0))
    return correlate(normalise(image), KERNEL)


@pytest.mark.parametrize(("name", "what"), list(EXPECTED))
def test_the_bytes_are_those_of_the_previous_implementation(name: str, what: str) -> None:
    digest = hashlib.sha256(_run(IMAGES[name](), what).tobytes()).hexdigest()
    assert digest == EXPECTED[name, what]
