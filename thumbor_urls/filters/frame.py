"""frame(image): draw a nine-patch frame around the result.

The patch is an image of the same source whose one-pixel border marks, in opaque black, which
of its rows and columns stretch (top and left) and where the picture goes (bottom and right):
the picture is padded by what lies outside that content area, flattened onto white as in
Thumbor, and the patch's cells are stretched over it. The padding can make the result larger
than the requested size, within the output limits.
"""

from __future__ import annotations

from PIL import Image

from ..budget import Cost, Frame
from .params import Overlay
from .registry import CostContext, FilterContext, register


def _nine_patch_runs(markers: list[bool]) -> list[tuple[int, int, bool]]:
    """(start, length, stretchy) runs along one border of the nine-patch."""
    runs: list[tuple[int, int, bool]] = []
    for index, stretchy in enumerate(markers):
        if runs and runs[-1][2] == stretchy:
            start, length, _ = runs[-1]
            runs[-1] = (start, length + 1, stretchy)
        else:
            runs.append((index, 1, stretchy))
    return runs


def _is_marker(pixel: tuple[int, ...]) -> bool:
    return pixel == (0, 0, 0, 255)


def _target_lengths(runs: list[tuple[int, int, bool]], target: int) -> list[int]:
    fixed = sum(length for _, length, stretchy in runs if not stretchy)
    stretchy_total = sum(length for _, length, stretchy in runs if stretchy)
    spare = max(target - fixed, 0)
    return [
        int(length / stretchy_total * spare + 0.5) if stretchy else length
        for _, length, stretchy in runs
    ]


def _frame_cost(frame: Frame, ctx: CostContext, key: str) -> Cost:
    patch = ctx.overlay(key)
    # The padding is read from the patch's borders: at most its own size.
    out = Frame(frame.width + patch.width - 2, frame.height + patch.height - 2, 4)
    # The picture as RGBA, the patch's inside, one cell stretched (at most the whole output),
    # and the border pixels read one by one in Python.
    transient = 4 * frame.pixels + patch.bytes + 2 * out.bytes + 64 * (patch.width + patch.height)
    ns = 40.0 * out.pixels + 20.0 * patch.pixels + 2000.0 * (patch.width + patch.height)
    return Cost(out, transient, ns)


@register("frame", Overlay("image"), cost=_frame_cost)
def frame(image: Image.Image, ctx: FilterContext, key: str) -> Image.Image:
    """Draw a nine-patch frame around the image, padding it first as the patch asks."""
    patch = ctx.image(key, "frame")  # read only: the shared decoded copy will do
    width, height = patch.size
    pixels = patch.load()
    assert pixels is not None
    columns = [_is_marker(pixels[x, 0]) for x in range(1, width - 1)]  # type: ignore[arg-type]
    rows = [_is_marker(pixels[0, y]) for y in range(1, height - 1)]  # type: ignore[arg-type]
    bottom = [_is_marker(pixels[x, height - 1]) for x in range(1, width - 1)]  # type: ignore[arg-type]
    right = [_is_marker(pixels[width - 1, y]) for y in range(1, height - 1)]  # type: ignore[arg-type]

    # The bottom and right borders mark the content area; what lies outside it is padding.
    pad_left = bottom.index(True) if True in bottom else 0
    pad_right = bottom[::-1].index(True) if True in bottom else 0
    pad_top = right.index(True) if True in right else 0
    pad_bottom = right[::-1].index(True) if True in right else 0
    size = (image.width + pad_left + pad_right, image.height + pad_top + pad_bottom)
    ctx.allow(size)  # a patch's padding can make the result larger than any requested size
    base = Image.new("RGBA", size, (255, 255, 255, 255))
    # As Thumbor: the picture is laid over the white canvas, so it is flattened with the padding.
    base.alpha_composite(image.convert("RGBA"), (pad_left, pad_top))

    inner = patch.crop((1, 1, width - 1, height - 1))
    column_runs, row_runs = _nine_patch_runs(columns), _nine_patch_runs(rows)
    target_x = 0
    widths = _target_lengths(column_runs, base.width)
    heights = _target_lengths(row_runs, base.height)
    target_y = 0
    for (sy, sh, _), th in zip(row_runs, heights, strict=True):
        target_x = 0
        for (sx, sw, _), tw in zip(column_runs, widths, strict=True):
            if tw > 0 and th > 0 and target_x + tw <= base.width and target_y + th <= base.height:
                cell = inner.crop((sx, sy, sx + sw, sy + sh))
                cell = cell.resize((tw, th), Image.Resampling.BILINEAR)
                base.alpha_composite(cell, (target_x, target_y))
            target_x += tw
        target_y += th
    return base
