"""Two Pillow internals for adding up mode I images, each what a public Pillow function does
minus a copy of the whole image:

- `view()` makes an image over existing bytes without copying them: Image.frombuffer does
  exactly this for the modes it maps (L, RGBA, ...), but copies mode I; `writable()` does the
  same over a bytearray and lets Pillow write into it, so that the bytes of a result are at
  hand without `tobytes()` (which encodes the image in 64 KiB pieces and joins them: two
  copies, and a quarter of blur()'s time on 12 megapixels);
- `add_into()` is ImageMath's integer add written into its first operand: ImageMath allocates
  and zero-fills a new image for every operation (a third of the add's time on a strip).

Pillow is pinned (requirements.txt), and the blur and convolution tests compare every pixel with
Thumbor's arithmetic, so a change in either internal cannot go unnoticed.
"""

from __future__ import annotations

from PIL import Image, _imaging, _imagingmath


def view(data: bytes | bytearray, width: int, rows: int, start: int) -> Image.Image:
    """`rows` rows of `width` int32 pixels read from `data` from pixel `start` on, as a
    read-only mode I image that shares the bytes."""
    image = Image.new("I", (0, 0))._new(
        _imaging.map_buffer(data, (width, rows), "raw", 4 * start, ("I", 0, 1))
    )
    image.readonly = 1
    return image


def writable(buffer: bytearray, width: int, rows: int) -> Image.Image:
    """A mode I image of `rows` rows of `width` pixels whose pixels are `buffer`'s bytes:
    whatever Pillow writes into the image (paste, add_into) lands in `buffer`."""
    if len(buffer) != 4 * width * rows:
        raise ValueError("the buffer must hold exactly the image's int32 pixels")
    image = Image.new("I", (0, 0))._new(
        _imaging.map_buffer(buffer, (width, rows), "raw", 0, ("I", 0, 1))
    )
    image.readonly = 0
    return image


def add_into(total: Image.Image, term: Image.Image) -> None:
    """total += term, pixel by pixel (int32, wrapping); both mode I and the same size."""
    if total.mode != "I" or term.mode != "I" or total.size != term.size or total.readonly:
        raise ValueError("add_into needs two mode I images of one size, the first writable")
    _imagingmath.binop(_imagingmath.add_I, total.getim(), total.getim(), term.getim())
