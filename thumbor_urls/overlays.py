"""The other images a request's filters draw: watermark() marks and frame() nine-patches.

They are read through the source of the originals and held to the same limits. Each object
is read once per request, whatever spelling of its key the URL uses (`a.png`, `//a.png`,
`./a.png` are one file), and decoded at the size the filter needs: a JPEG mark shrunk by DCT
scaling instead of decoded whole and resized. The cost model counts them at that size.
"""

from __future__ import annotations

from PIL import Image

from .decode import Header, decode_frames, jpeg_draft_size, open_image
from .errors import ImageTooLarge, NoSuchKey
from .sources import Source

Size = tuple[int, int]


class Overlays:
    def __init__(self, source: Source | None, max_pixels: int) -> None:
        self.source = source
        self.max_pixels = max_pixels
        self._data: dict[str, tuple[bytes, Header]] = {}  # by identity
        self._decoded: dict[tuple[str, Size], Image.Image] = {}

    def header(self, key: str) -> Header:
        """The header of the image at `key`, its bytes read once (NoSuchKey if none)."""
        identity = self.identity(key)
        if identity not in self._data:
            assert self.source is not None
            data = self.source.load(key).data
            header = open_image(data)[1]
            width, height = header.size
            if width * height > self.max_pixels:
                raise ImageTooLarge(
                    f"the image at {key!r} has {width}x{height} pixels, over the limit of "
                    f"{self.max_pixels} (MAX_SOURCE_PIXELS)"
                )
            self._data[identity] = (data, header)
        return self._data[identity][1]

    def decoded_size(self, key: str, at_least: Size | None = None) -> Size:
        """The size image(key, at_least) decodes to: the original's, or for a JPEG the smallest
        DCT scale that still covers `at_least`."""
        header = self.header(key)
        if at_least is None or header.format != "JPEG":
            return header.size
        return jpeg_draft_size(header.size, at_least)

    def image(self, key: str, at_least: Size | None = None) -> Image.Image:
        """The image at `key` as RGBA, decoded once per request at decoded_size()."""
        self.header(key)
        identity = self.identity(key)
        size = self.decoded_size(key, at_least)
        if (identity, size) not in self._decoded:
            data, header = self._data[identity]
            image = open_image(data)[0]
            if size != header.size:
                image.draft(image.mode, size)
            frames, _ = decode_frames(image, 1)
            self._decoded[identity, size] = frames[0].convert("RGBA")
        return self._decoded[identity, size]

    def held(self) -> int:
        """Bytes of the overlays read so far (the cost model adds their decoded pixels)."""
        return sum(len(data) for data, _ in self._data.values())

    def identity(self, key: str) -> str:
        if self.source is None:
            raise NoSuchKey(f"no image at {key!r}")
        return self.source.identity(key)
