"""sharpen()'s numpy wavelet (filters/wavelet_numpy.py) gives the very bytes of its Pillow band
maths (filters/sharpen.py), which the differential tests compare with Thumbor: on photos, noise,
flat areas, alpha, grey, and frames narrower or shorter than the widest level (where both bounce
between the edges), with positive, negative and huge amounts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from thumbor_urls.filters import FilterContext
from thumbor_urls.filters import sharpen as sharpen_module
from thumbor_urls.filters.bands import merge_bands, split_alpha

wavelet_numpy = pytest.importorskip("thumbor_urls.filters.wavelet_numpy")

CORPUS = Path(__file__).resolve().parent / "corpus"


def photo(size: tuple[int, int]) -> Image.Image:
    with Image.open(CORPUS / "photo_sunset_4272x2848.jpg") as original:
        original.draft("RGB", (size[0] * 2, size[1] * 2))
        return original.convert("RGB").resize(size)


def noise(size: tuple[int, int], mode: str) -> Image.Image:
    bands = [Image.effect_noise(size, 40 + 20 * i) for i in range(len(mode))]
    return Image.merge(mode, bands)


IMAGES = {
    "photo": lambda: photo((640, 427)),
    "photo, odd size": lambda: photo((333, 201)),
    "cut-out": lambda: Image.open(CORPUS / "alpha_cutout_dandelions_1600x900.png").resize(
        (400, 225)
    ),
    "noise RGB": lambda: noise((97, 61), "RGB"),
    "noise RGBA": lambda: noise((50, 70), "RGBA"),
    "noise L": lambda: noise((64, 48), "L"),
    "noise LA": lambda: noise((31, 29), "LA"),
    "flat": lambda: Image.new("RGB", (40, 30), (77, 128, 250)),
    "narrower than the widest level": lambda: noise((5, 40), "RGB"),
    "shorter than the widest level": lambda: noise((40, 3), "RGB"),
    "two by two": lambda: noise((2, 2), "RGB"),
    "one pixel": lambda: noise((1, 1), "RGB"),
    "one column": lambda: noise((1, 37), "L"),
    "one row": lambda: noise((29, 1), "RGB"),
    # Taller than one band of rows (_BAND_VALUES / width): the bands' seams are covered.
    "tall and thin": lambda: noise((3, 50_000), "RGB"),
}

ARGUMENTS = [
    (2.0, 1.0, False),
    (2.0, 1.0, True),
    (1.5, 0.5, False),
    (4.0, 3.0, True),
    (-1.0, 3.0, True),
    (-3.5, 0.0, False),
    (1e6, 2.0, True),
    (1e6, 4.0, False),
    (0.0, 1.0, True),
]


def pillow_sharpen(
    image: Image.Image, amount: float, radius: float, luminance_only: bool
) -> Image.Image:
    bands, alpha = split_alpha(image)
    return merge_bands(sharpen_module.sharpen_pillow(bands, amount, radius, luminance_only), alpha)


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize(("amount", "radius", "luminance_only"), ARGUMENTS)
def test_numpy_gives_the_bytes_of_the_pillow_band_maths(
    name: str, amount: float, radius: float, luminance_only: bool
) -> None:
    image = IMAGES[name]()
    assert sharpen_module.has_numpy()
    ours = sharpen_module.sharpen(image, FilterContext(image.size), amount, radius, luminance_only)
    expected = pillow_sharpen(image, amount, radius, luminance_only)
    assert ours.mode == expected.mode and ours.size == expected.size
    assert ImageChops.difference(ours, expected).getbbox() is None
    assert ours.tobytes() == expected.tobytes()


def test_without_numpy_the_pillow_band_maths_run(monkeypatch: pytest.MonkeyPatch) -> None:
    image = noise((30, 20), "RGB")
    monkeypatch.setattr(sharpen_module, "has_numpy", lambda: False)
    calls: list[bool] = []
    pillow = sharpen_module.sharpen_pillow

    def spy(*args: object) -> list[Image.Image]:
        calls.append(True)
        return pillow(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sharpen_module, "sharpen_pillow", spy)
    result = sharpen_module.sharpen(image, FilterContext(image.size), 2.0, 1.0, False)
    assert calls == [True]
    assert result.tobytes() == pillow_sharpen(image, 2.0, 1.0, False).tobytes()


def test_numpy_counts_as_missing_when_an_import_hook_refuses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(importlib.util, "find_spec", refuse)
    assert sharpen_module.has_numpy.__wrapped__() is False
