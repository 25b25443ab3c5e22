"""The structure of a GIF, WebP or PNG file, read from its bytes before Pillow opens it.

Pillow's header does not say what an animation costs to decode: a GIF has no frame count, and
Pillow 13 grows a GIF's canvas whenever a frame lies outside the logical screen (so the size
it reports at open can be far smaller than the one it decodes); libwebp allocates two
canvas-sized buffers as soon as Pillow opens a WebP. So the canvas, the frames and the largest
frame are read here first, by walking the file's blocks and chunks by their lengths: no pixel
data is decoded, no checksum computed, and every input (truncated, lying, random) gives an
answer in time linear in its size, counting at most `max_frames + 1` frames.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple


class Structure(NamedTuple):
    format: str  # Pillow's format name: "GIF", "WEBP" or "PNG"
    # The canvas as Pillow 13 will decode it (GIF: grown to hold every frame read).
    size: tuple[int, int]
    frames: int  # frames counted; counting stops at max_frames + 1
    # Pixels of the largest single frame rectangle (what one frame's decode buffer holds).
    largest_frame: int


def probe(data: bytes, max_frames: int) -> Structure | None:
    """None when `data` is not GIF, WebP or PNG (the caller lets Pillow's header decide then)."""
    # Counting stops at one over the limit: enough for the caller to refuse the file.
    limit = max(max_frames, 0) + 1
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _gif(data, limit)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _webp(data, limit)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data, limit)
    return None


# GIF ---------------------------------------------------------------------------------------

_GIF_EXTENSION, _GIF_TRAILER = 0x21, 0x3B
# An extension, an image descriptor or the trailer. Pillow skips any other byte between blocks,
# one at a time; this finds the next block at once.
_GIF_BLOCK = re.compile(rb"[!,;]")


def _gif(data: bytes, limit: int) -> Structure | None:
    if len(data) < 13:
        return None  # Pillow cannot read the logical screen either
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    position = 13 + _colour_table_size(flags)
    frames = largest = 0
    end = len(data)
    while frames < limit:
        found = _GIF_BLOCK.search(data, position)
        if found is None:
            break  # no trailer: Pillow stops at the end of the file as well
        position = found.start()
        kind = data[position]
        if kind == _GIF_TRAILER:
            break
        if kind == _GIF_EXTENSION:
            position = _skip_extension(data, position + 1, first_frame=frames == 0)
            continue
        # An image descriptor.
        if position + 10 > end:
            break  # a truncated image descriptor: Pillow fails on this frame
        left, top, frame_width, frame_height, frame_flags = struct.unpack_from(
            "<HHHHB", data, position + 1
        )
        # Pillow grows the canvas to hold the frame (the first one too) before it reads further.
        width = max(width, left + frame_width)
        height = max(height, top + frame_height)
        position += 10 + _colour_table_size(frame_flags)
        if position >= end:
            break  # no LZW code size after the colour table: Pillow fails on this frame
        frames += 1
        largest = max(largest, frame_width * frame_height)
        position = _skip_sub_blocks(data, position + 1)
    return Structure("GIF", (width, height), frames, largest)


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _skip_extension(data: bytes, label: int, first_frame: bool) -> int:
    """The offset after the extension whose label is at `label`, skipped as Pillow 13 skips it:
    it reads one sub-block, then skips a chain of them, so an extension without data (its first
    sub-block the terminator) makes it skip the chain that follows as well. Following Pillow
    there keeps us on the blocks it reads: a frame it would find must not hide from us."""
    if label >= len(data):
        return label
    kind = data[label]
    position, first = _read_sub_block(data, label + 1)
    if kind == 0xFE:  # a comment: its own chain only
        return _skip_sub_blocks(data, position) if first else position
    if kind == 0xFF and first_frame and first is not None and first.startswith(b"NETSCAPE2.0"):
        position, _ = _read_sub_block(data, position)  # the loop count, read apart
    return _skip_sub_blocks(data, position)


def _read_sub_block(data: bytes, position: int) -> tuple[int, bytes | None]:
    """The offset after one sub-block and its data; None for the terminator (or the end)."""
    if position >= len(data) or data[position] == 0:
        return position + 1, None
    end = position + 1 + data[position]
    return end, data[position + 1 : end]


def _skip_sub_blocks(data: bytes, position: int) -> int:
    """The offset after a chain of data sub-blocks (each a length byte and that many bytes,
    ended by a zero length), or past the end of `data` when it is cut short."""
    end = len(data)
    while position < end:
        length = data[position]
        position += 1 + length
        if length == 0:
            break
    return position


# WebP --------------------------------------------------------------------------------------

_WEBP_STILL = (b"VP8 ", b"VP8L")


def _webp(data: bytes, limit: int) -> Structure | None:
    end = len(data)
    if end < 20 or data[12:16] not in (*_WEBP_STILL, b"VP8X"):
        return None  # Pillow only takes files that start with one of these chunks
    # The canvas as Pillow's _get_size reads it (libwebp allocates it at open).
    if data[12:16] == b"VP8X":
        size = (_u24le(data, 24) + 1, _u24le(data, 27) + 1) if end >= 30 else None
    else:
        size = _bitstream_size(data, 12, end)
    if size is None:
        return None
    # libwebp ignores whatever follows the RIFF chunk.
    end = min(end, 8 + _u32le(data, 4))
    animation_frames = still_frames = largest = 0
    position = 12
    while position + 8 <= end and animation_frames < limit:
        fourcc = data[position : position + 4]
        length = _u32le(data, position + 4)
        payload = position + 8
        if fourcc == b"ANMF" and payload + 12 <= end:
            frame = (_u24le(data, payload + 6) + 1) * (_u24le(data, payload + 9) + 1)
            animation_frames += 1
            largest = max(largest, frame)
        elif fourcc in _WEBP_STILL and not animation_frames:
            still = _bitstream_size(data, position, end) or size
            still_frames = 1
            largest = max(largest, still[0] * still[1])
        # Chunks are padded to an even length.
        position = payload + length + (length & 1)
    if animation_frames:
        return Structure("WEBP", size, animation_frames, largest)
    return Structure("WEBP", size, still_frames, largest)


def _bitstream_size(data: bytes, chunk: int, end: int) -> tuple[int, int] | None:
    """The size a VP8 or VP8L chunk at offset `chunk` declares, as Pillow's _get_size reads it."""
    payload = chunk + 8
    if data[chunk : chunk + 4] == b"VP8 ":
        if payload + 10 <= end and data[payload + 3 : payload + 6] == b"\x9d\x01\x2a":
            return _u16le(data, payload + 6) & 0x3FFF, _u16le(data, payload + 8) & 0x3FFF
    elif payload + 5 <= end and data[payload] == 0x2F:  # VP8L's signature
        bits = _u32le(data, payload + 1)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


# PNG ---------------------------------------------------------------------------------------

# Pillow stops at a chunk whose type is not four word characters (PngImagePlugin.is_cid).
_CHUNK_TYPE = re.compile(rb"\w{4}")
_MOST_APNG_FRAMES = 0x80000000  # Pillow ignores an acTL that claims more (or none)


def _png(data: bytes, limit: int) -> Structure | None:
    end = len(data)
    size: tuple[int, int] | None = None
    # Pillow reads the header chunks up to the first IDAT: an acTL there makes an animation.
    animated = seen_image_data = default_image = False
    controls = largest_control = 0
    position = 8
    while position + 8 <= end:
        length = _u32be(data, position)
        kind = data[position + 4 : position + 8]
        payload = position + 8
        if not _CHUNK_TYPE.fullmatch(kind) or kind == b"IEND":
            break
        if kind == b"IHDR" and not seen_image_data and length >= 13 and payload + 8 <= end:
            size = (_u32be(data, payload), _u32be(data, payload + 4))
        elif kind == b"acTL" and not seen_image_data and length >= 8 and payload + 4 <= end:
            # A second acTL makes Pillow give up on the animation (a third starts it again).
            animated = not animated and 0 < _u32be(data, payload) <= _MOST_APNG_FRAMES
        elif kind == b"fcTL" and payload + 12 <= end:
            # The fcTL chunks present, not acTL's claim: they are what a decode walks through.
            controls += 1
            frame = _u32be(data, payload + 4) * _u32be(data, payload + 8)
            largest_control = max(largest_control, frame)
        elif kind == b"IDAT" and not seen_image_data:
            seen_image_data = True
            # An image before any fcTL is the default image, which Pillow counts as a frame.
            default_image = animated and controls == 0
        if animated and controls + default_image >= limit:
            break
        position = payload + length + 4  # and the CRC, which is not checked
    if size is None:
        return None
    image = size[0] * size[1]
    if not animated:
        return Structure("PNG", size, 1, image)
    largest = max(largest_control, image if default_image else 0)
    return Structure("PNG", size, controls + default_image, largest)


# Integers ----------------------------------------------------------------------------------


def _u16le(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 2], "little")


def _u24le(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 3], "little")


def _u32le(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def _u32be(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "big")
