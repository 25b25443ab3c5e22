"""frame(nine-patch): ours against expectations worked out by hand.

Thumbor 7.8.0 cannot be the oracle. Its frame() draws no frame at all: _nine_patch.c reads the
image mode from the header of the bytes object PyUnicode_AsUTF8String returns, so it computes a
garbage padding and draws no cell, whatever the patch (DIFFERENCES, for frame-a and frame-b; the
HAND_DRAWN cases below it answers without a frame pixel, padded 0/0/0/0, 0/1/0/1 and 0/0/4/0
left/top/right/bottom, measured on 7.8.0). Even with that fixed its pixels would not be the
nine-patch's: paste_rectangle samples a cell w pixels wide at steps of (w - 1) / w and blends
neighbours, fixed cells included (a 2-pixel fixed cell A|K comes out A|(A+K)/2). What its code
means, and the expectations below follow: the padding is the unmarked part of the bottom (left,
right) and right (top, bottom) borders; the picture is laid on an opaque white canvas of the padded
size (flattening any transparency); the nine-patch is drawn over the whole canvas, fixed cells at
their size, the stretchy runs sharing the rest in proportion to their lengths, int(share + 0.5)
each, and a cell that does not fit is not drawn.

* HAND_DRAWN: tiny nine-patches drawn as character grids on tiny pictures, every output pixel
  written down, each with its working. They pin what the photographs cannot: a padding that
  differs on all four sides, shares that round, a patch wider than the canvas. Exact.
* frame-a and frame-b on the photographs (sources.py): the frame drawn again at the output's
  size, its rectangles and lines moved by hand as the nine-patch says (expected_frame), over the
  picture on the white canvas. Compared as COMPOSITE (answers.py): our stretchy cells go through
  a resize.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from tests.peers.compare import alpha, flatten, psnr, psnr_same_mode
from tests.peers.filter_families.answers import (
    COMPOSITE_MAX_DIFF,
    COMPOSITE_PSNR,
    composite_ok,
    max_diff,
    ours,
    pixels,
    png_url,
    source,
    theirs,
)
from tests.peers.filter_families.differences import (
    Bug,
    Check,
    Difference,
    Peers,
    bug_tests,
    difference_test,
)
from thumbor_urls.app import App
from thumbor_urls.config import Settings

# --- Tiny nine-patches, drawn and worked out by hand ---------------------------------------------

# One character a pixel. In a patch's 1-pixel border, "x" is a marker (opaque black): stretchy
# columns on the top border, stretchy rows on the left one, the content area (what is not
# padding) on the bottom and right ones.
PALETTE: dict[str, tuple[int, int, int, int]] = {
    ".": (0, 0, 0, 0),  # transparent
    "x": (0, 0, 0, 255),  # a marker
    # frame colours, opaque
    "A": (220, 40, 40, 255),
    "B": (40, 180, 40, 255),
    "C": (40, 40, 220, 255),
    "D": (220, 200, 40, 255),
    "K": (60, 60, 60, 255),
    "L": (200, 100, 20, 255),
    "M": (20, 200, 200, 255),
    "R": (150, 20, 150, 255),
    "P": (250, 150, 150, 255),
    "Q": (150, 250, 150, 255),
    "T": (150, 150, 250, 255),
    "U": (250, 250, 150, 255),
    "a": (100, 60, 30, 255),
    "s": (30, 90, 160, 255),
    "b": (0, 0, 255, 128),  # half-transparent blue
    # picture colours
    "1": (10, 100, 240, 255),
    "2": (40, 110, 210, 255),
    "3": (70, 120, 180, 255),
    "4": (100, 130, 150, 255),
    "5": (130, 140, 120, 255),
    "6": (160, 150, 90, 255),
    "7": (190, 160, 60, 255),
    "8": (0, 0, 0, 128),  # half-transparent black
    "9": (0, 0, 0, 0),  # transparent
    "o": (90, 170, 90, 255),
    # only in outputs
    "W": (255, 255, 255, 255),  # the white canvas
    "g": (127, 127, 127, 255),  # "8" on white: 255 * (255 - 128) / 255 = 127
    "w": (127, 127, 255, 255),  # "b" on white: R, G 255 * (255 - 128) / 255 = 127; B 255
}


def grid_image(text: str) -> Image.Image:
    rows = [line.split() for line in text.strip().splitlines()]
    image = Image.new("RGBA", (len(rows[0]), len(rows)))
    image.putdata([PALETTE[char] for row in rows for char in row])
    return image


def image_grid(image: Image.Image) -> list[str]:
    """The image as rows of PALETTE characters ("?" for a colour not in it), for a readable diff."""
    names: dict[tuple[int, ...], str] = {c: char for char, c in PALETTE.items() if char not in ".x"}
    chars = [names.get(value, "?") for value in pixels(image.convert("RGBA"))]
    width = image.width
    return [" ".join(chars[i : i + width]) for i in range(0, len(chars), width)]


@dataclass(frozen=True)
class HandDrawn:
    name: str
    patch: str
    picture: str
    expected: str


HAND_DRAWN = [
    # A 5x5 drawing in a 7x7 patch. Top marker at drawing column 2, left at row 2: one stretchy
    # column and row, fixed cells of 2 on each side. Bottom markers at drawing columns 1..2:
    # padding 1 left, 2 right (columns 3, 4); right markers at rows 2..3: padding 2 top, 1 bottom.
    # The 3x3 picture: canvas (3 + 1 + 2) x (3 + 2 + 1) = 6x6, the picture at (1, 2), "8" on
    # white is "g", "9" leaves the white. Columns: 0..1 fixed, column 2 stretched over 6 - 4 = 2
    # (canvas 2..3), 3..4 at canvas 4..5; rows alike. The frame's inside is transparent: the
    # padding shows as white, W, the picture where it lies.
    HandDrawn(
        "padding-differs-on-each-side",
        patch="""
            . . . x . . .
            . A K K K B .
            . K . . . K .
            x K . . . K x
            . K . . . K x
            . C K K K D .
            . . x x . . .
        """,
        picture="""
            1 2 3
            4 5 6
            7 8 9
        """,
        expected="""
            A K K K K B
            K W W W W K
            K 1 2 3 W K
            K 4 5 6 W K
            K 7 g W W K
            C K K K K D
        """,
    ),
    # A 6x3 drawing: fixed L, a 1-pixel stretchy run "a", fixed M, a 2-pixel stretchy run "b b"
    # (half-transparent), fixed R; row 1 (transparent) stretchy. No padding on the sides, 1 px
    # above and below. A 10x1 picture: canvas 10x3; fixed columns 3, stretchy 3, spare 10 - 3 =
    # 7: "a" gets int(7 * 1/3 + 0.5) = int(2.83) = 2, "b b" int(7 * 2/3 + 0.5) = int(5.17) = 5,
    # 3 + 2 + 5 = 10. (Shares rounded down would give 2 and 4, leaving column 9 white.) Rows 0
    # and 2 are padding: "b" lies on white, "w".
    HandDrawn(
        "stretchy-runs-share-in-proportion",
        patch="""
            . . x . x x . .
            . L a M b b R .
            x . . . . . . x
            . L a M b b R .
            . x x x x x x .
        """,
        picture="o o o o o o o o o o",
        expected="""
            L a a M w w w w w R
            o o o o o o o o o o
            L a a M w w w w w R
        """,
    ),
    # A 5x1 drawing: fixed P Q, stretchy s, fixed T U; its one row stretchy; no padding. A 3x2
    # picture: canvas 3x2, narrower than the 4 fixed columns. The stretchy column gets
    # max(3 - 4, 0) = 0 and is not drawn; P Q fit at 0..1; T U would start at 2 and end past
    # the canvas, so they are not drawn (Thumbor's paste_rectangle: "If the region won't fit,
    # give up!"): column 2 is the picture.
    HandDrawn(
        "cells-that-do-not-fit-are-not-drawn",
        patch="""
            . . . x . . .
            x P Q s T U x
            . x x x x x .
        """,
        picture="""
            o o o
            o o o
        """,
        expected="""
            P Q o
            P Q o
        """,
    ),
]


@pytest.mark.parametrize("case", HAND_DRAWN, ids=lambda c: c.name)
def test_frame_matches_a_hand_drawn_expectation(tmp_path: Path, case: HandDrawn) -> None:
    grid_image(case.patch).save(tmp_path / "patch.png")
    grid_image(case.picture).save(tmp_path / "picture.png")
    app = App(Settings(FILE_LOADER_ROOT_PATH=tmp_path, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None))
    mine = ours(app, "/unsafe/filters:frame(patch.png):format(png)/picture.png").image()
    assert image_grid(mine) == image_grid(grid_image(case.expected))


# --- frame-a and frame-b on the photographs: the frame drawn again by hand at the output's size --


def _frame_a_at(size: tuple[int, int]) -> Image.Image:
    """frame-a's 20x20 drawing (sources.py) as it must look over a canvas of `size`. Columns 0..5
    and 14..19 are fixed, 6..13 one stretchy run; rows the same. So a drawing column x < 6 stays,
    x >= 14 moves to x + width - 20, and 6..13 stretch over 6 .. width - 7; rows alike. Every
    stretchy column (row) is the same along its axis. The drawing's commands, moved (the
    original's coordinates in the comments):"""
    width, height = size
    frame = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((0, 0, width - 1, height - 1), fill=(90, 40, 20, 255))  # 0, 0, 19, 19
    draw.rectangle((3, 3, width - 4, height - 4), fill=(230, 180, 40, 128))  # 3, 3, 16, 16
    draw.rectangle((5, 5, width - 6, height - 6), fill=(0, 0, 0, 0))  # 5, 5, 14, 14
    draw.line((0, 0, 5, 5), fill=(250, 250, 250, 255))  # in the fixed top-left cell: unmoved
    draw.line((width - 1, 0, width - 6, 5), fill=(20, 120, 250, 255))  # 19, 0, 14, 5
    draw.line((0, height - 1, 5, height - 6), fill=(20, 250, 120, 255))  # 0, 19, 5, 14
    return frame


def _frame_b_at(size: tuple[int, int]) -> Image.Image:
    """frame-b's 24x16 drawing (sources.py) over a canvas of `size`. Columns: 0..3 fixed, 4..7
    stretchy, 8..15 fixed (the red and green ornaments), 16..19 stretchy, 20..23 fixed; the two
    runs are 4 px each, so each gets half of width - 16, s. Column x < 4 stays, 8..15 moves to
    x + s - 4, x >= 20 to x + 2s - 8 = x + width - 24. Rows: 0..2 fixed, 3..5 stretchy, 6..9
    fixed (the yellow ornament), 10..12 stretchy, 13..15 fixed; 3 px each, t = half of
    height - 10; row 6..9 moves to y + t - 3, y >= 13 to y + height - 16."""
    width, height = size
    assert (width - 16) % 2 == (height - 10) % 2 == 0, "shares that round: not worked out here"
    s, t = (width - 16) // 2, (height - 10) // 2
    frame = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((0, 0, width - 1, height - 1), fill=(20, 20, 60, 255))  # 0, 0, 23, 15
    draw.rectangle((2, 2, width - 3, height - 3), fill=(0, 0, 0, 0))  # 2, 2, 21, 13
    draw.rectangle((s + 6, 0, s + 9, 1), fill=(240, 60, 60, 255))  # 10, 0, 13, 1
    draw.rectangle((s + 6, height - 2, s + 9, height - 1), fill=(60, 240, 60, 255))  # 10, 14..
    draw.rectangle((0, t + 4, 1, t + 5), fill=(240, 240, 60, 200))  # 0, 7, 1, 8
    return frame


# (left, top, right, bottom) padding, read off each patch's content markers by hand:
# frame-a's content area is drawing columns 5..14 of 20 and rows 4..15 of 20; frame-b's
# columns 2..21 of 24 and rows 1..14 of 16.
FRAMES: dict[str, tuple[tuple[int, int, int, int], Callable[[tuple[int, int]], Image.Image]]] = {
    "frame-a.png": ((5, 4, 5, 4), _frame_a_at),
    "frame-b.png": ((2, 1, 2, 1), _frame_b_at),
}


def expected_frame(picture: Image.Image, patch: str) -> Image.Image:
    """frame(patch) of `picture`, as worked out above: the picture on the padded white canvas,
    the frame drawn over it."""
    (left, top, right, bottom), drawn_at = FRAMES[patch]
    size = (picture.width + left + right, picture.height + top + bottom)
    canvas = Image.new("RGBA", size, (255, 255, 255, 255))
    canvas.alpha_composite(picture.convert("RGBA"), (left, top))
    canvas.alpha_composite(drawn_at(size))
    return canvas


FRAME_CASES = [
    ("frame-a.png", "astronaut.png", (310, 208)),
    ("frame-b.png", "astronaut.png", (304, 202)),
    ("frame-a.png", "dandelions.png", (310, 208)),
    ("frame-b.png", "dandelions.png", (304, 202)),
]


@pytest.mark.parametrize(("patch", "name", "size"), FRAME_CASES)
def test_frame_draws_the_nine_patch(
    app: App, root: Path, patch: str, name: str, size: tuple[int, int]
) -> None:
    mine = ours(app, png_url(f"frame({patch})", name)).image()
    expected = expected_frame(source(root, name), patch)
    assert mine.size == expected.size == size
    value, worst = psnr(mine, expected), max_diff(mine, expected)
    print(f"PSNR {value:.2f} dB, max diff {worst} expected  frame({patch}) {name}")
    assert value >= COMPOSITE_PSNR
    assert worst <= COMPOSITE_MAX_DIFF


# --- Differences: on purpose, or Thumbor's bugs --------------------------------------------------


def _placed_at(canvas: Image.Image, image: Image.Image) -> tuple[int, int] | None:
    """Where `image` lies unchanged inside `canvas` on an otherwise white canvas, if it does."""
    canvas, image = canvas.convert("RGBA"), image.convert("RGBA")
    for top in range(canvas.height - image.height + 1):
        for left in range(canvas.width - image.width + 1):
            box = (left, top, left + image.width, top + image.height)
            if psnr_same_mode(canvas.crop(box), image) < math.inf:
                continue
            expected = Image.new("RGBA", canvas.size, (255, 255, 255, 255))
            expected.paste(image, box[:2])
            if psnr_same_mode(canvas, expected) == math.inf:
                return left, top
    return None


def _frame_is_broken_in_thumbor(patch: str, name: str, padding: tuple[int, int]) -> Check:
    def check(peers: Peers) -> None:
        path = png_url(f"frame({patch})", name)
        their = theirs(peers.thumbor, path).image()
        mine = ours(peers.app, path).image()
        original = source(peers.root, name)
        expected = expected_frame(original, patch)
        # Ours: padded by the patch's content area, the frame drawn.
        assert mine.size == expected.size
        assert composite_ok(mine, expected)
        # Thumbor: the source, untouched, on a white canvas padded by a garbage amount, and
        # not a pixel of frame.
        assert their.size != expected.size
        assert _placed_at(their, original) == padding

    return check


DIFFERENCES = [
    Difference(
        "frame-a",
        "Thumbor 7.8.0's _nine_patch.c casts the bytes object PyUnicode_AsUTF8String returns to "
        "char*: the 'mode' it reads is the object's header (strlen 1), so it computes garbage "
        "padding (19 px right and 7 px bottom for frame-a) and draws no frame at all",
        _frame_is_broken_in_thumbor("frame-a.png", "astronaut.png", (0, 0)),
    ),
    Difference(
        "frame-b",
        "the same Thumbor bug with the second nine-patch (4 px top, 1 px bottom)",
        _frame_is_broken_in_thumbor("frame-b.png", "dandelions.png", (0, 4)),
    ),
]


test_difference = difference_test(DIFFERENCES)


# --- Bugs of ours this test found, fixed since; each stays as a regression test ------------------


def _thumbor_frame_flattens(peers: Peers) -> None:
    # Thumbor's handle_padding composites the image onto an opaque white canvas (that part of
    # its frame() works): the transparent cutout comes back opaque, flattened onto white.
    their = theirs(peers.thumbor, png_url("frame(frame-a.png)", "cutout.png")).image()
    assert alpha(their).getextrema() == (255, 255)
    original = source(peers.root, "cutout.png")
    flat = flatten(original, (255, 255, 255))
    assert composite_ok(their.crop((0, 0, *original.size)), flat)


def _our_frame_flattens(peers: Peers) -> None:
    for patch in ("frame-a.png", "frame-b.png"):
        mine = ours(peers.app, png_url(f"frame({patch})", "cutout.png")).image()
        original = source(peers.root, "cutout.png")
        flat = flatten(original, (255, 255, 255))
        expected = expected_frame(flat, patch)
        print(f"PSNR {psnr(mine, expected):.2f} dB against the flattened expectation  {patch}")
        assert composite_ok(mine, expected)


OUR_BUGS = [
    Bug(
        "frame-rgba-half-flattened",
        "frame() on a transparent image: the padding is opaque white but the image "
        "inside keeps its transparency (a white ring around see-through content); "
        "Thumbor composites the image onto the white canvas",
        _thumbor_frame_flattens,
        _our_frame_flattens,
    ),
]


test_our_bug_thumbor_side, test_our_bug_is_fixed = bug_tests(OUR_BUGS)


# --- The thresholds catch near misses ------------------------------------------------------------


def test_frame_threshold_catches_a_shifted_image(root: Path) -> None:
    original = source(root, "astronaut.png")
    right = expected_frame(original, "frame-a.png")
    wrong = expected_frame(ImageChops.offset(original, 1, 0), "frame-a.png")
    assert not composite_ok(right, wrong)
