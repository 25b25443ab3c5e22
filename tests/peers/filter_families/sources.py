"""The sources the filter-family tests serve, written to one folder by make_sources() (the `root`
fixture in conftest.py); each side reads them with its own file loader.

    astronaut.png    RGB 300x200, samples/astronaut.jpg cropped to 3:2 and resized
    dandelions.png   RGB 300x200, a 1200x800 crop of samples/dandelions.jpg, resized
    cutout.png       RGBA 320x180, samples/dandelions-cutout.png resized (transparent corners)
    opaque-rgba.png  astronaut.png as RGBA, every pixel opaque
    tagged.png       astronaut.png with EXIF (Make, Copyright) and the sRGB ICC profile
    wm.png           RGBA 64x40 watermark: a dandelion crop in a soft-edged ellipse
    frame-a.png      nine-patch, 20x20 drawing: one stretchy run per axis, padding 5/4/5/4
    frame-b.png      nine-patch, 24x16 drawing: two stretchy runs per axis with fixed
                     ornaments between them, padding 2/1/2/1
    anim.gif         160x120, 4 frames of 50 ms
    localhost:8888/unsafe/200x100:290x190/astronaut.png
                     dandelions.png again, at the nested path extract_focal's demonstration
                     needs as a real file (test_focal.py, DIFFERENCES)
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from tests.images import SAMPLES, gradient

BLACK = (0, 0, 0, 255)

# The sources the URLs ask for at their own size (answers.png_url).
SIZES = {
    "astronaut.png": (300, 200),
    "dandelions.png": (300, 200),
    "cutout.png": (320, 180),
    "opaque-rgba.png": (300, 200),
    "tagged.png": (300, 200),
}

# The nested path extract_focal's demonstration needs as a real file (see DIFFERENCES).
LITERAL_NESTED = "localhost:8888/unsafe/200x100:290x190/astronaut.png"


def _nine_patch(
    drawing: Image.Image,
    stretch_x: list[tuple[int, int]],
    stretch_y: list[tuple[int, int]],
    content_x: tuple[int, int],
    content_y: tuple[int, int],
) -> Image.Image:
    """An Android nine-patch: `drawing` inside a 1 px border of black markers. Ranges are in
    drawing pixels, end excluded: stretchy columns (top border) and rows (left border), and the
    content area (bottom and right borders) whose complement is the padding."""
    width, height = drawing.size
    patch = Image.new("RGBA", (width + 2, height + 2), (0, 0, 0, 0))
    patch.paste(drawing, (1, 1))
    for low, high in stretch_x:
        for x in range(low, high):
            patch.putpixel((x + 1, 0), BLACK)
    for low, high in stretch_y:
        for y in range(low, high):
            patch.putpixel((0, y + 1), BLACK)
    for x in range(*content_x):
        patch.putpixel((x + 1, height + 1), BLACK)
    for y in range(*content_y):
        patch.putpixel((width + 1, y + 1), BLACK)
    return patch


def _frame_a() -> Image.Image:
    # Every stretchy cell is constant along the axis it stretches on, so that any resampling
    # gives the same pixels and the reference below can stretch with NEAREST.
    drawing = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    draw = ImageDraw.Draw(drawing)
    draw.rectangle((0, 0, 19, 19), fill=(90, 40, 20, 255))
    draw.rectangle((3, 3, 16, 16), fill=(230, 180, 40, 128))
    draw.rectangle((5, 5, 14, 14), fill=(0, 0, 0, 0))
    draw.line((0, 0, 5, 5), fill=(250, 250, 250, 255))  # corner ornaments: a corner cell drawn
    draw.line((19, 0, 14, 5), fill=(20, 120, 250, 255))  # at the wrong corner shows
    draw.line((0, 19, 5, 14), fill=(20, 250, 120, 255))
    return _nine_patch(drawing, [(6, 14)], [(6, 14)], (5, 15), (4, 16))


def _frame_b() -> Image.Image:
    drawing = Image.new("RGBA", (24, 16), (0, 0, 0, 0))
    draw = ImageDraw.Draw(drawing)
    draw.rectangle((0, 0, 23, 15), fill=(20, 20, 60, 255))
    draw.rectangle((2, 2, 21, 13), fill=(0, 0, 0, 0))
    draw.rectangle((10, 0, 13, 1), fill=(240, 60, 60, 255))  # in the fixed columns 8..15
    draw.rectangle((10, 14, 13, 15), fill=(60, 240, 60, 255))
    draw.rectangle((0, 7, 1, 8), fill=(240, 240, 60, 200))  # in the fixed rows 6..9
    return _nine_patch(drawing, [(4, 8), (16, 20)], [(3, 6), (10, 13)], (2, 22), (1, 15))


def _watermark(dandelions: Image.Image) -> Image.Image:
    mark = dandelions.crop((100, 50, 164, 90)).convert("RGBA")
    alpha = Image.new("L", mark.size, 0)
    draw = ImageDraw.Draw(alpha)
    draw.ellipse((2, 2, 61, 37), fill=200)
    draw.rectangle((20, 10, 43, 29), fill=255)
    mark.putalpha(alpha)
    return mark


def make_sources(folder: Path) -> None:
    """Write every source above into `folder`."""
    with Image.open(SAMPLES / "astronaut.jpg") as photo:
        astronaut = ImageOps.fit(photo.convert("RGB"), (300, 200))
    astronaut.save(folder / "astronaut.png")
    astronaut.convert("RGBA").save(folder / "opaque-rgba.png")
    with Image.open(SAMPLES / "astronaut.png") as original:
        icc = original.info["icc_profile"]
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x8298] = "Copyright Someone"
    astronaut.save(folder / "tagged.png", exif=exif.tobytes(), icc_profile=icc)
    with Image.open(SAMPLES / "dandelions.jpg") as photo:
        crop = photo.convert("RGB").crop((2000, 1100, 3200, 1900))
    dandelions = crop.resize((300, 200), Image.Resampling.LANCZOS)
    dandelions.save(folder / "dandelions.png")
    with Image.open(SAMPLES / "dandelions-cutout.png") as cutout:
        cutout.convert("RGBA").resize((320, 180), Image.Resampling.LANCZOS).save(
            folder / "cutout.png"
        )
    _watermark(dandelions).save(folder / "wm.png")
    _frame_a().save(folder / "frame-a.png")
    _frame_b().save(folder / "frame-b.png")
    still = gradient((160, 120))
    transposes = (
        Image.Transpose.FLIP_LEFT_RIGHT,
        Image.Transpose.FLIP_TOP_BOTTOM,
        Image.Transpose.ROTATE_180,
    )
    frames = [still, *(still.transpose(t) for t in transposes)]
    frames[0].save(
        folder / "anim.gif", save_all=True, append_images=frames[1:], duration=50, loop=0
    )
    nested = folder / LITERAL_NESTED
    nested.parent.mkdir(parents=True)
    shutil.copy(folder / "dandelions.png", nested)  # not the astronaut: which one loads shows
