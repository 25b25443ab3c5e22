"""Progressive JPEGs without the scans a scaled decode would throw away.

A progressive JPEG sends its DCT coefficients in several scans, and libjpeg decodes every scan
into a whole-image coefficient buffer before it draws a pixel, so a thumbnail costs almost as
much as the full image. But at 1/8 scale the inverse DCT of a full-resolution component reads
only the DC coefficient, and a grey decode reads only the luma component: the AC scans of those
components (about three quarters of the file) are decoded for nothing.

They cannot simply be dropped: libjpeg would then see coefficients it was never sent and smooth
the blocks to guess them, which changes the pixels. So each component's AC scans are replaced by
one scan that says "every AC coefficient is zero, exactly" in a few bytes of end-of-band runs;
the decoder then draws the same pixels as from the whole file, in half the time or less.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_SOI, _EOI = 0xD8, 0xD9
_SOF_PROGRESSIVE_HUFFMAN = 0xC2
_SOS, _DHT, _DRI, _APP14 = 0xDA, 0xC4, 0xDD, 0xEE
# A marker that can end a scan's entropy-coded data: 0xFF followed by anything but a stuffed
# zero or a restart marker (RST0-RST7 sit inside the data).
_SCAN_END = re.compile(rb"\xff[\xc0-\xcf\xd8-\xfe]")
# An end-of-band run EOBr covers 2**r + (r more bits) blocks; EOB14 is the longest.
_LONGEST_RUN = (1 << 15) - 1
# Our Huffman table: the 15 symbols EOB0..EOB14 (0x00, 0x10, ..., 0xE0), all 4 bits long.
_RUN_SYMBOLS = bytes(range(0x00, 0xF0, 0x10))
_TABLE_SLOT = 0


class _Segment(NamedTuple):
    marker: int
    start: int
    end: int  # for a scan, the end of its entropy-coded data


class _Component(NamedTuple):
    ident: int
    h: int
    v: int


def without_unused_scans(data: bytes, scale_denom: int, luma_only: bool) -> bytes | None:
    """A copy of progressive JPEG `data` that decodes to the same pixels at DCT scale
    1/`scale_denom` (luma only when `luma_only`), with the AC scans that decode never reads
    replaced by empty ones; None when there is nothing to skip or the file is not one we
    understand (the caller then decodes `data` as it is)."""
    try:
        return _rewrite(data, scale_denom, luma_only)
    except (IndexError, ValueError):  # a damaged file: Pillow reports it better than we would
        return None


def _rewrite(data: bytes, scale_denom: int, luma_only: bool) -> bytes | None:
    if scale_denom != 8 and not luma_only:
        return None  # every scan is read (see _unused_ac): spare the walk over the file
    segments = _segments(data)
    frame = next((s for s in segments if s.marker == _SOF_PROGRESSIVE_HUFFMAN), None)
    if frame is None:
        return None
    width, height, components = _frame(data[frame.start : frame.end])
    luma_only = luma_only and _is_ycbcr(data, segments, components)
    unused = _unused_ac(components, scale_denom, luma_only)
    if not unused:
        return None
    parts = [data[:2]]
    skipped: set[int] = set()
    restart_interval = 0
    for segment in segments:
        if segment.marker == _SOS:
            ident, first_coefficient = _scan(data, segment)
            if first_coefficient > 0 and ident in unused:
                skipped.add(ident)
                continue
        elif segment.marker == _DRI:
            restart_interval = int.from_bytes(data[segment.start + 4 : segment.start + 6], "big")
        elif segment.marker == _EOI:
            break
        parts.append(data[segment.start : segment.end])
    if not skipped:
        return None
    max_h = max(c.h for c in components)
    max_v = max(c.v for c in components)
    if restart_interval:
        parts.append(b"\xff\xdd\x00\x04\x00\x00")  # our scans have no restart markers
    parts.append(_run_table())
    for component in components:
        if component.ident in skipped:
            blocks_x = _ceil_div(_ceil_div(width * component.h, max_h), 8)
            blocks_y = _ceil_div(_ceil_div(height * component.v, max_v), 8)
            parts.append(_zero_ac_scan(component.ident, blocks_x * blocks_y))
    parts.append(b"\xff\xd9")
    return b"".join(parts)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _segments(data: bytes) -> list[_Segment]:
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    segments: list[_Segment] = []
    position = 2
    while position < len(data):
        if data[position] != 0xFF:
            raise ValueError(f"no marker at {position}")
        while data[position + 1] == 0xFF:  # fill bytes
            position += 1
        marker = data[position + 1]
        if marker == _EOI:
            segments.append(_Segment(marker, position, position + 2))
            return segments
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == _SOS:
            found = _SCAN_END.search(data, end)
            end = found.start() if found else len(data)
        segments.append(_Segment(marker, position, end))
        position = end
    return segments  # no EOI: libjpeg accepts that too


def _frame(segment: bytes) -> tuple[int, int, list[_Component]]:
    height = int.from_bytes(segment[5:7], "big")
    width = int.from_bytes(segment[7:9], "big")
    components = [
        _Component(segment[10 + 3 * i], segment[11 + 3 * i] >> 4, segment[11 + 3 * i] & 15)
        for i in range(segment[9])
    ]
    if not components or any(c.h == 0 or c.v == 0 for c in components):
        raise ValueError("bad frame header")
    return width, height, components


def _is_ycbcr(data: bytes, segments: list[_Segment], components: list[_Component]) -> bool:
    """Whether a three-component file is YCbCr, as libjpeg guesses it: an Adobe marker with
    transform 0, or components named R, G, B, mean RGB (whose grey needs all three)."""
    if len(components) != 3 or [c.ident for c in components] == list(b"RGB"):
        return False
    return not any(
        segment.marker == _APP14
        and data[segment.start + 4 : segment.start + 9] == b"Adobe"
        and segment.end - segment.start >= 16
        and data[segment.start + 15] == 0
        for segment in segments
    )


def _unused_ac(components: list[_Component], scale_denom: int, luma_only: bool) -> set[int]:
    """The components whose AC coefficients the decode never reads."""
    unused: set[int] = set()
    if luma_only:
        unused.update(c.ident for c in components[1:])
    if scale_denom == 8:
        # libjpeg gives a subsampled component a larger inverse DCT than 1x1 at this scale (it
        # upsamples in the DCT), so only full-resolution components are DC-only.
        max_h = max(c.h for c in components)
        max_v = max(c.v for c in components)
        unused.update(c.ident for c in components if (c.h, c.v) == (max_h, max_v))
    return unused


def _scan(data: bytes, segment: _Segment) -> tuple[int, int]:
    """The first component of a scan and its first coefficient (0: a DC scan). Progressive AC
    scans always carry a single component."""
    count = data[segment.start + 4]
    return data[segment.start + 5], data[segment.start + 5 + 2 * count]


def _run_table() -> bytes:
    counts = bytes(3) + bytes([len(_RUN_SYMBOLS)]) + bytes(12)  # all codes 4 bits long
    body = bytes([0x10 | _TABLE_SLOT]) + counts + _RUN_SYMBOLS
    return b"\xff\xc4" + (2 + len(body)).to_bytes(2, "big") + body


def _zero_ac_scan(ident: int, blocks: int) -> bytes:
    """A first AC scan (coefficients 1-63, full precision) of one component in which every
    block is empty: a chain of end-of-band runs."""
    header = bytes([1, ident, _TABLE_SLOT, 1, 63, 0])
    bits = _BitWriter()
    while blocks > 0:
        run = min(blocks, _LONGEST_RUN)
        r = run.bit_length() - 1
        bits.write(r, 4)  # the code of symbol EOBr is its index in our table: r
        bits.write(run - (1 << r), r)
        blocks -= run
    return b"\xff\xda" + (2 + len(header)).to_bytes(2, "big") + header + bits.flush()


class _BitWriter:
    def __init__(self) -> None:
        self.value = 0
        self.length = 0
        self.out = bytearray()

    def write(self, value: int, length: int) -> None:
        self.value = (self.value << length) | value
        self.length += length
        while self.length >= 8:
            self.length -= 8
            self._byte((self.value >> self.length) & 0xFF)
        self.value &= (1 << self.length) - 1

    def flush(self) -> bytes:
        if self.length:  # pad with one bits, as JPEG asks
            self.write((1 << (8 - self.length)) - 1, 8 - self.length)
        return bytes(self.out)

    def _byte(self, byte: int) -> None:
        self.out.append(byte)
        if byte == 0xFF:
            self.out.append(0)  # stuffed, so it is not read as a marker
