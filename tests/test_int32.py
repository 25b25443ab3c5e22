"""The two Pillow internals behind blur's and convolution's sums (thumbor_urls/filters/int32.py).
The filters' pixel tests cover them end to end; these pin down what each promises on its own."""

from __future__ import annotations

import array

import pytest
from PIL import Image

from thumbor_urls.filters import int32


def _ints(image: Image.Image) -> list[int]:
    return array.array("i", image.tobytes()).tolist()


def test_view_reads_rows_from_the_given_pixel_on_without_copying() -> None:
    data = array.array("i", range(-5, 25)).tobytes()
    view = int32.view(data, 4, 3, 2)  # pixels 2..13 of the buffer
    assert view.mode == "I" and view.size == (4, 3)
    assert _ints(view) == list(range(-3, 9))
    assert view.readonly
    with pytest.raises(ValueError):  # the buffer is shorter than the rows asked for
        int32.view(data, 4, 8, 2)


def test_add_into_adds_in_place_and_refuses_what_it_cannot_write() -> None:
    total = Image.frombytes("I", (3, 2), array.array("i", [1, -2, 3, 2**31 - 1, 0, 7]).tobytes())
    term = Image.frombytes("I", (3, 2), array.array("i", [10, 20, -30, 1, 0, -7]).tobytes())
    int32.add_into(total, term)
    assert _ints(total) == [11, 18, -27, -(2**31), 0, 0]  # int32 wraps
    assert _ints(term) == [10, 20, -30, 1, 0, -7]
    with pytest.raises(ValueError):
        int32.add_into(int32.view(total.tobytes(), 3, 2, 0), term)
    with pytest.raises(ValueError):
        int32.add_into(total, term.crop((0, 0, 2, 2)))
    with pytest.raises(ValueError):
        int32.add_into(total, term.convert("F"))


def test_writable_lets_pillow_write_into_the_bytearray() -> None:
    data = bytearray(4 * 6)
    image = int32.writable(data, 3, 2)
    assert image.mode == "I" and image.size == (3, 2) and not image.readonly
    values = [5, -6, 7, 2**31 - 1, 0, -(2**31)]
    image.paste(Image.frombytes("I", (3, 2), array.array("i", values).tobytes()))
    assert array.array("i", bytes(data)).tolist() == values  # the paste landed in `data`
    int32.add_into(image, Image.frombytes("I", (3, 2), array.array("i", [1] * 6).tobytes()))
    assert array.array("i", bytes(data)).tolist() == [6, -5, 8, -(2**31), 1, -(2**31) + 1]
    with pytest.raises(ValueError):  # not the image's size
        int32.writable(bytearray(20), 3, 2)
