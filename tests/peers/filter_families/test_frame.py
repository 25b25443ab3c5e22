"""frame(nine-patch): Thumbor 7.8.0's frame() is broken (DIFFERENCES), so ours is compared with a
reference rendering of the nine-patch, as COMPOSITE (answers.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.peers.compare import alpha, flatten, psnr, psnr_same_mode
from tests.peers.filter_families.answers import (
    COMPOSITE_MAX_DIFF,
    COMPOSITE_PSNR,
    composite_ok,
    max_diff,
    ours,
    pixel,
    png_url,
    source,
    theirs,
)
from tests.peers.filter_families.differences import Bug, Check, Difference, Peers
from tests.peers.filter_families.sources import BLACK
from thumbor_urls.app import App


def _runs(markers: list[bool]) -> list[tuple[int, int, bool]]:
    runs: list[tuple[int, int, bool]] = []
    for index, marked in enumerate(markers):
        if runs and runs[-1][2] == marked:
            start, length, _ = runs[-1]
            runs[-1] = (start, length + 1, marked)
        else:
            runs.append((index, 1, marked))
    return runs


def _stretched(runs: list[tuple[int, int, bool]], target: int) -> list[int]:
    fixed = sum(length for _, length, stretchy in runs if not stretchy)
    stretchy_total = sum(length for _, length, stretchy in runs if stretchy)
    spare = max(target - fixed, 0)
    return [
        int(length / stretchy_total * spare + 0.5) if stretchy else length
        for _, length, stretchy in runs
    ]


def nine_patch_reference(image: Image.Image, patch: Image.Image) -> Image.Image:
    """Thumbor's frame() as its code means it (filters/frame.py and ext/filters/_nine_patch.c):
    pad the image on an opaque white canvas by the content area's margins, compositing the image
    onto it, then draw the nine-patch over the whole canvas, fixed cells at their size and the
    stretchy ones sharing the rest in proportion, int(x + 0.5). The test patches are constant
    along every stretched axis, so NEAREST stretches them exactly."""
    patch = patch.convert("RGBA")
    width, height = patch.size

    def marked(xy: tuple[int, int]) -> bool:
        return pixel(patch, xy) == BLACK

    top = [marked((x, 0)) for x in range(1, width - 1)]
    left = [marked((0, y)) for y in range(1, height - 1)]
    bottom = [marked((x, height - 1)) for x in range(1, width - 1)]
    right = [marked((width - 1, y)) for y in range(1, height - 1)]
    pad_left, pad_right = bottom.index(True), bottom[::-1].index(True)
    pad_top, pad_bottom = right.index(True), right[::-1].index(True)
    canvas = Image.new(
        "RGBA",
        (image.width + pad_left + pad_right, image.height + pad_top + pad_bottom),
        (255, 255, 255, 255),
    )
    canvas.alpha_composite(image.convert("RGBA"), (pad_left, pad_top))
    inner = patch.crop((1, 1, width - 1, height - 1))
    columns, rows = _runs(top), _runs(left)
    target_y = 0
    for (sy, sh, _), th in zip(rows, _stretched(rows, canvas.height), strict=True):
        target_x = 0
        for (sx, sw, _), tw in zip(columns, _stretched(columns, canvas.width), strict=True):
            cell = inner.crop((sx, sy, sx + sw, sy + sh))
            canvas.alpha_composite(
                cell.resize((tw, th), Image.Resampling.NEAREST), (target_x, target_y)
            )
            target_x += tw
        target_y += th
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
    expected = nine_patch_reference(source(root, name), source(root, patch))
    assert mine.size == expected.size == size
    value, worst = psnr(mine, expected), max_diff(mine, expected)
    print(f"PSNR {value:.2f} dB, max diff {worst} against the reference  frame({patch}) {name}")
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
        expected = nine_patch_reference(original, source(peers.root, patch))
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


@pytest.mark.parametrize("difference", DIFFERENCES, ids=lambda d: d.name)
def test_difference(peers: Peers, difference: Difference) -> None:
    difference.check(peers)


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
        expected = nine_patch_reference(flat, source(peers.root, patch))
        print(f"PSNR {psnr(mine, expected):.2f} dB against the flattened reference  {patch}")
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


@pytest.mark.parametrize("bug", OUR_BUGS, ids=lambda b: b.name)
def test_our_bug_thumbor_side(peers: Peers, bug: Bug) -> None:
    bug.thumbor_side(peers)


@pytest.mark.parametrize("bug", OUR_BUGS, ids=lambda b: b.name)
def test_our_bug_is_fixed(peers: Peers, bug: Bug) -> None:
    bug.our_side(peers)


# --- The thresholds catch near misses ------------------------------------------------------------


def test_frame_threshold_catches_a_shifted_image(root: Path) -> None:
    original = source(root, "astronaut.png")
    patch = source(root, "frame-a.png")
    right = nine_patch_reference(original, patch)
    wrong = nine_patch_reference(ImageChops.offset(original, 1, 0), patch)
    assert not composite_ok(right, wrong)
