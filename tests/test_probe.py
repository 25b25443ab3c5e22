"""probe(): the canvas, frame count and largest frame of GIF, WebP and PNG files, read from their
bytes, must be what Pillow 13 makes of them, and must cost no more than a walk over the file."""

from __future__ import annotations

import io
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests import broken_files as broken
from tests import hostile_files as hostile
from tests.images import encode
from thumbor_urls.probe import Structure, probe

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pillow_structure(data: bytes) -> tuple[str, tuple[int, int], int]:
    """Pillow's format, size once every frame has been seeked to (which is when Pillow grows a
    GIF's canvas), and frame count."""
    with Image.open(io.BytesIO(data)) as image:
        frames = int(getattr(image, "n_frames", 1))
        for index in range(frames):
            image.seek(index)
        return str(image.format), image.size, frames


def frames_of(size: tuple[int, int], count: int, mode: str = "RGB") -> list[Image.Image]:
    return [broken.picture(size, mode, seed=index) for index in range(count)]


def saved(fmt: str, images: list[Image.Image], **params: object) -> bytes:
    if len(images) > 1:
        params = {"save_all": True, "append_images": images[1:], **params}
    return encode(images[0], fmt, **params)


def growing_frames() -> list[Image.Image]:
    """Frames that grow: Pillow writes each at its own size, so later ones overflow the screen."""
    return [broken.picture((10 + 3 * index, 8 + 2 * index), seed=index) for index in range(4)]


def moving_square() -> list[Image.Image]:
    """Frames that differ in a small square only: Pillow's optimizer writes just that rectangle."""
    images = []
    for index in range(4):
        image = Image.new("RGB", (40, 30), (20, 40, 60))
        image.paste((250, 200, 10), (4 * index, 3 * index, 4 * index + 6, 3 * index + 5))
        images.append(image)
    return images


PILLOW_MADE = {
    "gif-still-p": lambda: saved("GIF", frames_of((33, 21), 1, "P")),
    "gif-still-rgb": lambda: saved("GIF", frames_of((7, 40), 1)),
    "gif-animated": lambda: saved("GIF", frames_of((32, 24), 5), duration=40, loop=0),
    "gif-animated-growing-frames": lambda: saved("GIF", growing_frames()),
    "gif-animated-sub-rectangles": lambda: saved("GIF", moving_square(), optimize=True),
    "gif-animated-disposal-transparency": lambda: saved(
        "GIF", frames_of((20, 20), 3, "RGBA"), disposal=2, transparency=0
    ),
    "gif-87a-still": lambda: encode(Image.new("L", (5, 9), 30), "GIF"),
    "webp-lossy": lambda: saved("WEBP", frames_of((31, 17), 1)),
    "webp-lossless": lambda: saved("WEBP", frames_of((31, 17), 1), lossless=True),
    "webp-alpha": lambda: saved("WEBP", frames_of((16, 16), 1, "RGBA")),
    "webp-animated-lossy": lambda: saved("WEBP", frames_of((24, 18), 4), duration=50),
    "webp-animated-lossless": lambda: saved("WEBP", frames_of((24, 18), 3), lossless=True),
    "webp-animated-sub-rectangles": lambda: saved("WEBP", moving_square(), minimize_size=True),
    "webp-animated-alpha": lambda: saved("WEBP", frames_of((15, 11), 3, "RGBA")),
    "png-rgb": lambda: saved("PNG", frames_of((19, 23), 1)),
    "png-rgba": lambda: saved("PNG", frames_of((19, 23), 1, "RGBA")),
    "png-palette": lambda: saved("PNG", frames_of((19, 23), 1, "P")),
    "png-grey-16": lambda: encode(Image.new("I;16", (12, 5), 999), "PNG"),
    "png-interlaced": lambda: saved("PNG", frames_of((30, 20), 1), interlace=1),
    "apng": lambda: saved("PNG", frames_of((24, 18), 4), duration=30),
    "apng-default-image": lambda: saved("PNG", frames_of((24, 18), 4), default_image=True),
    "apng-sub-rectangles": lambda: saved("PNG", moving_square(), disposal=1, blend=1),
    "apng-one-frame": lambda: saved("PNG", frames_of((9, 9), 1), save_all=True),
}


@pytest.mark.parametrize("name", PILLOW_MADE)
def test_size_and_frames_are_pillows(name):
    data = PILLOW_MADE[name]()
    structure = probe(data, 1000)
    assert structure is not None
    assert (structure.format, structure.size, structure.frames) == pillow_structure(data)
    assert 0 < structure.largest_frame <= structure.size[0] * structure.size[1]


def test_largest_frame_is_the_largest_rectangle():
    data = broken.gif((50, 40), [(0, 0, 5, 5), (10, 10, 30, 20), (0, 0, 40, 2)])
    assert probe(data, 10) == Structure("GIF", (50, 40), 3, 600)
    webp = broken.webp_animation((32, 32), [(0, 0, 8, 8), (10, 4, 12, 20), (0, 0, 32, 2)])
    assert probe(webp, 10) == Structure("WEBP", (32, 32), 3, 240)
    png = broken.apng((32, 32), [(0, 0, 32, 32), (1, 1, 30, 31)])
    assert probe(png, 10) == Structure("PNG", (32, 32), 2, 1024)
    still = encode(broken.picture((13, 7)), "PNG")
    assert probe(still, 10) == Structure("PNG", (13, 7), 1, 91)


# GIF: the canvas Pillow really decodes ---------------------------------------------------------

rectangles = st.tuples(
    st.integers(0, 40), st.integers(0, 40), st.integers(1, 12), st.integers(1, 12)
)


@settings(max_examples=60, deadline=None)
@given(
    screen=st.tuples(st.integers(0, 24), st.integers(0, 24)),
    rects=st.lists(rectangles, min_size=1, max_size=5),
)
def test_gif_canvas_grows_as_pillows(screen, rects):
    data = broken.gif(screen, rects)
    structure = probe(data, 100)
    assert structure is not None
    assert (structure.format, structure.size, structure.frames) == pillow_structure(data)
    assert structure.largest_frame == max(width * height for _, _, width, height in rects)


def extension(label: int, *blocks: bytes) -> bytes:
    return b"\x21" + bytes([label]) + b"".join(bytes([len(b)]) + b for b in blocks) + b"\x00"


gif_blocks = st.one_of(
    rectangles.map(lambda rect: broken.gif_control() + broken.gif_image(rect)),
    st.sampled_from(
        [
            extension(0x01),  # empty: Pillow skips the chain after it as well
            extension(0xF9),
            extension(0xFE),
            extension(0xFE, b"comment", b"more"),
            extension(0xFF, b"NETSCAPE2.0"),  # no loop count: the same, before the first frame
            extension(0xFF, b"NETSCAPE2.0", b"\x01\x00\x00"),
            extension(0xFF, b"XMP DataXMP", b"<x/>"),
            b"\x00",  # a stray byte, skipped
            b"\x07\x07",
        ]
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    blocks=st.lists(gif_blocks, min_size=1, max_size=8),
    trailer=st.booleans(),
)
def test_gif_blocks_are_walked_as_pillow_walks_them(blocks, trailer):
    """Frames, extensions (Pillow's quirks included) and stray bytes in any order."""
    data = broken.gif_screen((10, 10)) + b"".join(blocks) + (b"\x3b" if trailer else b"")
    try:
        expected = pillow_structure(data)
    except Exception:  # Pillow fails on some of these (a frame's LZW data read as blocks)
        expected = None
    structure = probe(data, 100)
    assert structure is not None
    if expected is not None:
        assert (structure.format, structure.size, structure.frames) == expected


@pytest.mark.parametrize(
    ("rects", "size"),
    [
        ([(0, 0, 1, 1), (79, 79, 1, 1)], (80, 80)),  # gif_frame_far_outside, smaller
        ([(30, 2, 4, 4)], (34, 6)),  # the first frame grows the canvas too
        ([(0, 0, 1, 1), (0, 50, 1, 1), (60, 0, 1, 1)], (61, 51)),  # each side on its own
    ],
)
def test_gif_frames_outside_the_screen_grow_the_canvas(rects, size):
    data = broken.gif((1, 1), rects)
    assert pillow_structure(data)[1] == size
    assert probe(data, 100) == Structure("GIF", size, len(rects), max(w * h for *_, w, h in rects))


def test_hostile_gifs():
    assert probe(hostile.gif_frame_far_outside(), 1000) == Structure("GIF", (8000, 8000), 2, 1)
    assert probe(hostile.gif_huge_screen(), 1000) == Structure("GIF", (30000, 30000), 2, 1)
    many = hostile.gif_many_frames()
    assert probe(many, 1000) == Structure("GIF", (1000, 1000), 1000, 1)
    with Image.open(io.BytesIO(many)) as image:  # n_frames walks the file without decoding
        assert getattr(image, "n_frames", 1) == 1000


def test_gif_without_trailer_or_frames():
    data = broken.gif((8, 8), [(0, 0, 8, 8), (0, 0, 4, 4)], trailer=False)
    assert probe(data, 10) == Structure("GIF", (8, 8), 2, 64)
    assert pillow_structure(data) == ("GIF", (8, 8), 2)
    assert probe(broken.gif_screen((8, 8)) + b"\x3b", 10) == Structure("GIF", (8, 8), 0, 0)
    assert probe(b"GIF89a\x08\x00", 10) is None


def test_gif_stray_bytes_between_blocks_are_skipped_as_pillow_does():
    data = broken.CORPUS["gif_stray_bytes_between_blocks"]()
    assert probe(data, 10) == Structure("GIF", (8, 8), 2, 64)
    with Image.open(io.BytesIO(data)) as image:
        assert getattr(image, "n_frames", 1) == 2


def test_gif_frames_read_after_the_limit_do_not_grow_the_canvas():
    data = broken.gif((1, 1), [(0, 0, 1, 1)] * 5 + [(99, 99, 1, 1)])
    assert probe(data, 3) == Structure("GIF", (1, 1), 4, 1)
    assert probe(data, 10) == Structure("GIF", (100, 100), 6, 1)


# WebP and PNG chunks ----------------------------------------------------------------------------


def junk_chunk(length: int) -> bytes:
    return broken.riff_chunk(b"JUNK", bytes(range(length)))


@settings(max_examples=30, deadline=None)
@given(junk=st.lists(st.integers(0, 9), min_size=2, max_size=4))
def test_webp_odd_chunks_are_padded(junk):
    """Unknown chunks of odd and even lengths between the frames: padding respected."""
    frames = [broken.anmf((0, 0, 8, 8), broken.webp_bitstream((8, 8)))] * (len(junk) - 1)
    chunks = [chunk for pair in zip(map(junk_chunk, junk), frames, strict=False) for chunk in pair]
    data = broken.riff(
        broken.vp8x((8, 8), animated=True), broken.anim(), *chunks, junk_chunk(junk[-1])
    )
    assert probe(data, 100) == Structure("WEBP", (8, 8), len(frames), 64)
    assert pillow_structure(data) == ("WEBP", (8, 8), len(frames))


def test_webp_declared_sizes():
    assert probe(broken.CORPUS["webp_vp8x_16383_animated"](), 10) == Structure(
        "WEBP", (16383, 16383), 1, 256
    )
    assert probe(broken.CORPUS["webp_vp8_16383"](), 10) == Structure(
        "WEBP", (16383, 16383), 1, 16383 * 16383
    )
    lossless = broken.riff(broken.webp_bitstream((3, 5), lossless=True))
    assert probe(lossless, 10) == Structure("WEBP", (3, 5), 1, 15)


def test_webp_frames_after_the_riff_chunk_are_ignored():
    """libwebp reads no further than the RIFF chunk's length says."""
    data = broken.webp_animation((8, 8), [(0, 0, 8, 8)] * 3)
    frame = broken.anmf((0, 0, 8, 8), broken.webp_bitstream((8, 8)))
    assert probe(data + frame, 10) == Structure("WEBP", (8, 8), 3, 64)
    assert pillow_structure(data + frame)[2] == 3


def test_webp_that_pillow_would_not_open():
    assert probe(b"RIFF\x00\x00\x00\x00WEBPJUNK\x00\x00\x00\x00", 10) is None
    assert probe(broken.CORPUS["webp_lossy_truncated_in_vp8_header"](), 10) is None
    assert probe(b"RIFF\x00\x00\x00\x00WAVEfmt ", 10) is None


def test_apng_counts_fctl_chunks_not_actl_claims():
    claims_more = broken.CORPUS["apng_actl_claims_more_frames_than_present"]()
    assert probe(claims_more, 10_000) == Structure("PNG", (16, 16), 2, 256)
    claims_2_31 = broken.CORPUS["apng_actl_2_31_frames"]()
    assert probe(claims_2_31, 10_000) == Structure("PNG", (16, 16), 2, 256)


def test_apng_frames_beyond_the_canvas_count_in_the_largest_frame():
    data = broken.CORPUS["apng_huge_fctl"]()
    assert probe(data, 10) == Structure("PNG", (16, 16), 2, (2**31 - 1) ** 2)


@pytest.mark.filterwarnings("ignore:Invalid APNG")
def test_png_acTL_pillow_ignores_is_a_still_image():
    for name in ("apng_actl_zero_frames", "apng_actl_ffffffff_frames"):
        data = broken.CORPUS[name]()
        assert probe(data, 10) == Structure("PNG", (16, 16), 1, 256)
        assert pillow_structure(data)[1:] == ((16, 16), 1)
    # An acTL after the image data is not read by Pillow either.
    late = broken.png(broken.png_chunk(b"IDAT", broken.scanlines(16, 16)), broken.actl(4))
    assert probe(late, 10) == Structure("PNG", (16, 16), 1, 256)


def test_png_declared_sizes_and_broken_chunks():
    assert probe(broken.CORPUS["png_huge_ihdr"](), 10) == Structure(
        "PNG", (2**31 - 1, 2**31 - 1), 1, (2**31 - 1) ** 2
    )
    assert probe(broken.CORPUS["png_ihdr_width_ffffffff"](), 10) == Structure(
        "PNG", (0xFFFFFFFF, 1), 1, 0xFFFFFFFF
    )
    assert probe(broken.CORPUS["png_no_ihdr"](), 10) is None
    assert probe(broken.CORPUS["png_truncated_in_ihdr"](), 10) is None
    # Walked by length, without CRC checks: a bad CRC or a length of 0xFFFFFFFF stops nothing.
    assert probe(broken.CORPUS["png_bad_ihdr_crc"](), 10) == Structure("PNG", (16, 16), 1, 256)
    assert probe(broken.CORPUS["png_idat_length_ffffffff"](), 10) is not None


# Limits and cost ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: hostile.gif_many_frames(frames=3000, screen=64),
        broken.CORPUS["apng_many_frames"],
        broken.CORPUS["webp_animated_many_frames"],
    ],
    ids=["gif", "apng", "webp"],
)
def test_counting_stops_at_one_over_the_limit(build):
    data = build()
    for limit, counted in ((10, 11), (0, 1), (999, 1000)):
        structure = probe(data, limit)
        assert structure is not None
        assert structure.frames == counted


def timed(data: bytes, max_frames: int) -> tuple[Structure | None, float]:
    started = time.perf_counter()
    structure = probe(data, max_frames)
    return structure, time.perf_counter() - started


def test_a_thousand_frame_gif_is_probed_in_milliseconds():
    data = hostile.gif_many_frames()
    best = min(timed(data, 100_000)[1] for _ in range(3))
    print(f"1000-frame GIF ({len(data)} bytes) probed in {best * 1000:.2f} ms")
    assert best < 1.0  # about 1-2 ms; generous so that it cannot flake


def test_a_hundred_thousand_frames_cost_no_more_than_the_limit():
    """Only max_frames + 1 descriptors are read, wherever the file ends."""
    frame = broken.gif_control() + broken.gif_image((0, 0, 1, 1))
    data = broken.gif_screen((1, 1)) + frame * 100_000 + b"\x3b"
    structure, seconds = timed(data, 10)
    assert structure == Structure("GIF", (1, 1), 11, 1)
    assert seconds < 0.5  # microseconds in fact


def one_byte_blocks(length: int) -> bytes:
    return b"\x01\x00" * length + b"\x00"


@pytest.mark.parametrize(
    "data",
    [
        # A megabyte of bytes Pillow skips one at a time between blocks.
        broken.gif_screen((1, 1)) + b"\x00" * (1 << 20) + broken.gif_image((0, 0, 1, 1)),
        # LZW data in half a million one-byte sub-blocks.
        broken.gif_screen((1, 1)) + b"\x2c" + bytes(9) + b"\x08" + one_byte_blocks(500_000),
        # 100,000 empty extensions.
        broken.gif_screen((1, 1)) + b"\x21\x01\x00" * 100_000 + b"\x3b",
        # 100,000 empty PNG chunks after the IHDR.
        PNG_SIGNATURE + broken.ihdr(1, 1) + broken.png_chunk(b"tEXt", b"") * 100_000,
        # 100,000 empty RIFF chunks.
        broken.riff(broken.vp8x((1, 1), animated=True), *[junk_chunk(1)] * 100_000),
    ],
    ids=["gif-stray-bytes", "gif-tiny-sub-blocks", "gif-extensions", "png-chunks", "webp-chunks"],
)
def test_the_walk_is_linear(data):
    structure, seconds = timed(data, 1000)
    assert structure is not None
    assert seconds < 1.0, f"{len(data)} bytes took {seconds:.2f} s"


# Never raises -----------------------------------------------------------------------------------

SMALL_FILES = {
    "gif": lambda: saved("GIF", frames_of((6, 5), 3)),
    "gif-local-palettes": lambda: (
        broken.gif_screen((6, 6), palette_bits=None)
        + broken.gif_image((0, 0, 6, 6), palette_bits=2)
        + broken.gif_control()
        + broken.gif_image((2, 2, 5, 5), palette_bits=1)
        + b"\x3b"
    ),
    "apng": lambda: saved("PNG", frames_of((5, 4), 3)),
    "png": lambda: saved("PNG", frames_of((5, 4), 1)),
    "webp-animated": lambda: broken.webp_animation((8, 8), [(0, 0, 8, 8), (2, 2, 4, 4)]),
    "webp-lossless": lambda: saved("WEBP", frames_of((5, 4), 1), lossless=True),
}


def check_invariants(structure: Structure | None, max_frames: int) -> None:
    if structure is None:
        return
    assert structure.format in ("GIF", "WEBP", "PNG")
    assert all(side >= 0 for side in structure.size)
    assert 0 <= structure.frames <= max_frames + 1
    assert structure.largest_frame >= 0


@pytest.mark.parametrize("name", SMALL_FILES)
def test_truncation_at_every_offset_never_raises(name):
    data = SMALL_FILES[name]()
    whole = probe(data, 100)
    assert whole is not None
    for end in range(len(data) + 1):
        structure = probe(data[:end], 100)
        check_invariants(structure, 100)
        if structure is not None:
            assert structure.format == whole.format
            assert structure.frames <= whole.frames


@pytest.mark.parametrize("name", ["gif", "gif-local-palettes"])
def test_truncated_gifs_count_the_frames_pillow_counts(name):
    """Wherever Pillow can still count a truncated GIF's frames, it counts as many."""
    data = SMALL_FILES[name]()
    compared = 0
    for end in range(len(data) + 1):
        try:
            with Image.open(io.BytesIO(data[:end])) as image:
                frames, opened_size = getattr(image, "n_frames", 1), image.size
        except Exception:  # Pillow fails on some cuts (struct.error, IndexError, ...)
            continue
        structure = probe(data[:end], 100)
        assert structure is not None
        assert structure.frames == frames, end
        assert structure.size[0] >= opened_size[0] and structure.size[1] >= opened_size[1]
        compared += 1
    assert compared >= 20  # every cut after the first frame's LZW code size


PREFIXES = [
    b"GIF89a",
    b"GIF87a",
    PNG_SIGNATURE,
    b"RIFF\xff\xff\xff\x7fWEBPVP8X",
    b"RIFF\xff\xff\xff\x7fWEBPVP8 ",
    b"RIFF\xff\xff\xff\x7fWEBPVP8L",
    b"",
]


@settings(max_examples=300, deadline=None)
@given(prefix=st.sampled_from(PREFIXES), rest=st.binary(max_size=300), limit=st.integers(0, 5))
def test_arbitrary_bytes_never_raise(prefix, rest, limit):
    check_invariants(probe(prefix + rest, limit), limit)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SMALL_FILES[draw(st.sampled_from(sorted(SMALL_FILES)))]())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["flip", "truncate", "insert", "overwrite"]))
        if operation == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif operation == "truncate":
            del data[at:]
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            value = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00", b"\x2c", b"\x21"]))
            data[at : at + len(value)] = value
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated(), limit=st.integers(0, 5))
def test_mutated_files_never_raise(data, limit):
    check_invariants(probe(data, limit), limit)


def test_not_gif_webp_or_png():
    assert probe(b"", 10) is None
    assert probe(broken.baseline_jpeg(), 10) is None
    assert probe(b"GIF88a" + bytes(20), 10) is None
    assert probe(struct.pack(">I", 0) + PNG_SIGNATURE, 10) is None
