"""Requests near the memory budget, one for every pipeline step, decoder, encoder and filter,
on content that is the worst case for them (noise: nothing compresses, nothing is flat).

tests/test_budget.py measures each in a fresh process against its estimate;
bench/calibrate.py prints the same table with the CPU side, for whoever tunes costs.py.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any, NamedTuple

from PIL import Image

from tests.hostile_files import gif, nine_patch


class Source(NamedTuple):
    name: str
    size: tuple[int, int]
    mode: str = "RGB"
    fmt: str = "PNG"
    params: tuple[tuple[str, Any], ...] = ()
    frames: int = 1


class Case(NamedTuple):
    name: str  # what it exercises
    source: Source
    path: str  # after /unsafe/, the source named `{source.name}`
    settings: tuple[tuple[str, Any], ...] = ()


def noise(size: tuple[int, int], mode: str, seed: int = 0) -> Image.Image:
    grey = Image.effect_noise(size, 100).convert("L")
    if seed:
        grey = grey.point(lambda v: (v + 37 * seed) % 256)
    if mode in ("L", "P", "1", "I;16"):
        base = grey
    else:
        turned = grey.transpose(Image.Transpose.ROTATE_180)
        flipped = grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        base = Image.merge("RGB", (grey, turned, flipped))
        if mode in ("RGBA", "LA"):
            base.putalpha(flipped.transpose(Image.Transpose.FLIP_TOP_BOTTOM))
    if mode == "P":
        return base.quantize(256)
    if mode == "I;16":
        return base.convert("I").point(lambda v: v * 257).convert("I;16")
    return base.convert(mode)


def build(source: Source, folder: Path) -> Path:
    path = folder / source.name
    if path.exists():
        return path
    params = dict(source.params)
    if source.fmt == "NINEPATCH":
        path.write_bytes(nine_patch(int(params["padding"])))
    elif source.fmt == "GIFSCREEN":
        side = source.size[0]
        path.write_bytes(gif((side, side), [(i % side, 0, 1, 1) for i in range(source.frames)]))
    elif source.frames > 1:
        frames = [noise(source.size, source.mode, seed) for seed in range(source.frames)]
        buffer = io.BytesIO()
        frames[0].save(
            buffer, source.fmt, save_all=True, append_images=frames[1:], duration=50, **params
        )
        path.write_bytes(buffer.getvalue())
    else:
        if "orientation" in params:
            exif = Image.Exif()
            exif[0x0112] = params.pop("orientation")
            params["exif"] = exif.tobytes()
        noise(source.size, source.mode).save(path, source.fmt, **params)
    return path


PHOTO = Source("photo.jpg", (4000, 3000), fmt="JPEG", params=(("quality", 90),))
PROGRESSIVE = Source(
    "progressive.jpg", (4000, 3000), fmt="JPEG", params=(("quality", 90), ("progressive", True))
)
GREY_PHOTO = Source("grey.jpg", (4000, 3000), "L", "JPEG")
RGB_PNG = Source("rgb.png", (3000, 2000), params=(("compress_level", 1),))
RGBA_PNG = Source("rgba.png", (3000, 2000), "RGBA", params=(("compress_level", 1),))
SMALL_RGB = Source("small.png", (1400, 1000), params=(("compress_level", 1),))
SMALL_RGBA = Source("small-rgba.png", (1400, 1000), "RGBA", params=(("compress_level", 1),))

CASES: tuple[Case, ...] = (
    # Decoders, at full size (the output is small, so the decode is the peak)
    Case("decode JPEG", PHOTO, "100x100/photo.jpg"),
    Case("decode JPEG, no resize", PHOTO, "filters:quality(50)/photo.jpg"),
    Case("decode progressive JPEG", PROGRESSIVE, "100x100/progressive.jpg"),
    Case("decode progressive JPEG, full", PROGRESSIVE, "3000x2250/progressive.jpg"),
    Case("decode grey JPEG", GREY_PHOTO, "filters:format(png)/grey.jpg"),
    Case("decode PNG", RGB_PNG, "100x100/rgb.png"),
    Case("decode PNG with alpha", RGBA_PNG, "100x100/rgba.png"),
    Case("decode palette PNG", Source("p.png", (4000, 3000), "P"), "100x100/p.png"),
    Case("decode 16-bit PNG", Source("16.png", (4000, 3000), "I;16"), "100x100/16.png"),
    Case("decode GIF", Source("still.gif", (4000, 3000), "P", "GIF"), "100x100/still.gif"),
    Case("decode WebP", Source("lossy.webp", (2500, 2000), fmt="WEBP"), "100x100/lossy.webp"),
    Case(
        "decode lossless WebP with alpha",
        Source("lossless.webp", (2500, 2000), "RGBA", "WEBP", (("lossless", True),)),
        "100x100/lossless.webp",
    ),
    Case("decode AVIF", Source("photo.avif", (2000, 1500), fmt="AVIF"), "100x100/photo.avif"),
    Case(
        "decode animated GIF",
        Source("anim.gif", (800, 600), "P", "GIF", frames=20),
        "fit-in/200x200/anim.gif",
    ),
    Case(
        "decode animated WebP",
        Source("anim.webp", (800, 600), fmt="WEBP", frames=12),
        "fit-in/200x200/anim.webp",
    ),
    Case("decode APNG", Source("anim.png", (800, 600), frames=20), "fit-in/200x200/anim.png"),
    Case(
        "decode GIF frames on a large screen",
        Source("screen.gif", (1500, 1500), fmt="GIFSCREEN", frames=16),
        "fit-in/100x100/screen.gif",
    ),
    # Geometry
    Case("resize up", SMALL_RGB, "2800x2000/filters:format(jpeg)/small.png"),
    Case("resize with reduce", PHOTO, "fit-in/1100x1100/photo.jpg"),
    Case("crop without resize", RGB_PNG, "10x10:2010x1510/filters:format(jpeg)/rgb.png"),
    Case("flip", SMALL_RGB, "-1400x-1000/filters:format(jpeg)/small.png"),
    Case("trim", RGB_PNG, "trim/100x100/rgb.png"),
    Case(
        "orientation",
        Source("turned.jpg", (3000, 2000), fmt="JPEG", params=(("orientation", 6),)),
        "filters:format(png)/turned.jpg",
    ),
    Case("debug", SMALL_RGB, "debug/1400x1000/small.png"),
    # Encoders, on the full frame
    Case("encode JPEG from alpha", SMALL_RGBA, "filters:format(jpeg)/small-rgba.png"),
    Case("encode PNG", RGBA_PNG, "filters:format(png)/rgba.png"),
    Case("encode WebP", SMALL_RGB, "filters:format(webp)/small.png"),
    Case("encode WebP with alpha", SMALL_RGBA, "filters:format(webp)/small-rgba.png"),
    Case("encode lossless WebP", SMALL_RGB, "filters:format(webp):quality(100)/small.png"),
    Case("encode GIF", SMALL_RGBA, "filters:format(gif)/small-rgba.png"),
    Case("encode AVIF", SMALL_RGB, "fit-in/1000x1000/filters:format(avif)/small.png"),
    Case(
        "encode animated GIF",
        Source("anim.gif", (800, 600), "P", "GIF", frames=20),
        "filters:format(gif)/anim.gif",
    ),
    Case("max_bytes", SMALL_RGB, "filters:format(jpeg):max_bytes(20000)/small.png"),
    # Filters, on the full frame
    Case("blur", SMALL_RGB, "filters:blur(6,2):format(jpeg)/small.png"),
    Case("blur, largest radius", SMALL_RGBA, "filters:blur(150):format(jpeg)/small-rgba.png"),
    Case(
        "convolution",
        SMALL_RGB,
        "filters:convolution(" + ";".join(["1", "-1", "2"] * 75) + ",15,false):format(jpeg)"
        "/small.png",
    ),
    Case("sharpen", SMALL_RGB, "filters:sharpen(2,1,false):format(jpeg)/small.png"),
    Case("sharpen luminance", SMALL_RGB, "filters:sharpen(2,1,true):format(jpeg)/small.png"),
    Case("noise", SMALL_RGB, "filters:noise(30):format(jpeg)/small.png"),
    Case("saturation", SMALL_RGB, "filters:saturation(2):format(jpeg)/small.png"),
    Case("equalize", SMALL_RGB, "filters:equalize():format(jpeg)/small.png"),
    Case(
        "colour tables",
        SMALL_RGB,
        "filters:rgb(10,5,2):contrast(10):brightness(5):colorize(10,20,30,ff0000):format(jpeg)"
        "/small.png",
    ),
    Case(
        "curve on grey",
        GREY_PHOTO,
        "filters:curve([(0,0),(255,200)],[(0,9),(255,255)],[(0,0),(200,255)],[(9,0),(255,255)])"
        "/grey.jpg",
    ),
    Case("grayscale", SMALL_RGBA, "filters:grayscale():format(jpeg)/small-rgba.png"),
    Case("round_corner", SMALL_RGB, "filters:round_corner(80,255,0,0,true):format(jpeg)/small.png"),
    Case(
        "background_color", SMALL_RGBA, "filters:background_color(red):format(jpeg)/small-rgba.png"
    ),
    Case("fill blur", SMALL_RGB, "fit-in/2800x2000/filters:fill(blur):format(jpeg)/small.png"),
    Case("fill colour", SMALL_RGBA, "fit-in/2800x2000/filters:fill(red)/small-rgba.png"),
    Case("proportion", RGB_PNG, "filters:proportion(0.9):format(jpeg)/rgb.png"),
    Case("rotate", SMALL_RGB, "filters:rotate(90):format(jpeg)/small.png"),
    Case(
        "watermark, a large JPEG mark drawn small",
        SMALL_RGB,
        "filters:watermark(photo.jpg,10,10,30,20,20):format(jpeg)/small.png",
    ),
    Case(
        "watermark, a mark repeated",
        SMALL_RGB,
        "filters:watermark(rgba.png,repeat,repeat,0):format(jpeg)/small.png",
    ),
    Case(
        "frame with a wide padding",
        SMALL_RGB,
        "filters:frame(patch.png):format(jpeg)/small.png",
    ),
    Case(
        "smart crop, saliency",
        PHOTO,
        "300x300/smart/photo.jpg",
        (("DETECTORS", ("saliency",)),),
    ),
    Case(
        "smart crop, features (the whole image, greyed band by band)",
        PHOTO,
        "300x300/smart/photo.jpg",
        (("DETECTORS", ("features",)),),
    ),
    Case(
        "smart crop, faces on the small copy then features on the whole image",
        PHOTO,
        "300x300/smart/photo.jpg",
        (("DETECTORS", ("opencv", "features")),),
    ),
    Case(
        "smart crop, features on a turned photo (a grey copy, turned)",
        Source("turned-photo.jpg", (4000, 3000), fmt="JPEG", params=(("orientation", 6),)),
        "300x300/smart/turned-photo.jpg",
        (("DETECTORS", ("features",)),),
    ),
    Case(
        "moderation",
        PHOTO,
        "filters:moderate()/photo.jpg",
        (("MODERATION_BACKEND", "none"), ("MODERATION_FAIL_OPEN", True)),
    ),
)

# The extra files the filters above read.
OVERLAYS = (
    PHOTO,
    RGBA_PNG,
    Source("patch.png", (0, 0), fmt="NINEPATCH", params=(("padding", 600),)),
)


# AWS Serverless Image Handler's default requests (SIH_COMPAT, thumbor_urls/sih/edits.py): one
# for every stage of its sharp pipeline and every SIH edit that renders the image to look at it.
SIH_PHOTO = Source("sih.jpg", (2400, 1800), fmt="JPEG", params=(("quality", 90),))
SIH_ALPHA = Source("sih.png", (1600, 1200), mode="RGBA")
SIH_LOGO = Source("sih-logo.png", (300, 200), mode="RGBA")


class SihCase(NamedTuple):
    name: str
    source: Source
    edits: tuple[tuple[str, Any], ...]

    @property
    def path(self) -> str:
        document = {"key": self.source.name, "edits": dict(self.edits)}
        return "/" + base64.b64encode(json.dumps(document).encode()).decode()


_BIG = ("resize", {"width": 2000})
SIH_CASES: tuple[SihCase, ...] = (
    SihCase("sih resize", SIH_PHOTO, (("resize", {"width": 1200, "height": 1200}),)),
    SihCase(
        "sih resize contain",
        SIH_PHOTO,
        (("resize", {"width": 1800, "height": 1800, "fit": "contain"}),),
    ),
    SihCase(
        "sih rotate 90, flip, flop", SIH_PHOTO, (("rotate", 90), ("flip", True), ("flop", True))
    ),
    SihCase("sih rotate 33", SIH_PHOTO, (("rotate", 33),)),
    SihCase("sih rotate 33 before resize", SIH_PHOTO, (("rotate", 33), _BIG)),
    SihCase(
        "sih extract",
        SIH_PHOTO,
        (("extract", {"left": 10, "top": 10, "width": 2000, "height": 1500}), _BIG),
    ),
    SihCase(
        "sih extract after resize",
        SIH_PHOTO,
        (_BIG, ("crop", {"left": 0, "top": 0, "width": 1000, "height": 1000})),
    ),
    SihCase("sih flatten", SIH_ALPHA, (("flatten", {"background": "#ff0000"}),)),
    SihCase("sih gamma", SIH_PHOTO, (("gamma", 2.2),)),
    SihCase("sih greyscale", SIH_PHOTO, (("greyscale", True),)),
    SihCase("sih median", SIH_PHOTO, (("median", 3),)),
    SihCase("sih threshold", SIH_PHOTO, (("threshold", 100),)),
    SihCase("sih blur", SIH_PHOTO, (("blur", 5),)),
    SihCase(
        "sih modulate",
        SIH_PHOTO,
        (("modulate", {"brightness": 1.2, "saturation": 0.5, "hue": 30}),),
    ),
    SihCase("sih sharpen", SIH_PHOTO, (("sharpen", 2),)),
    SihCase("sih normalise", SIH_PHOTO, (("normalise", True),)),
    SihCase("sih tint", SIH_PHOTO, (("tint", "#3050a0"),)),
    SihCase("sih removeAlpha", SIH_ALPHA, (("removeAlpha", True),)),
    SihCase("sih ensureAlpha", SIH_PHOTO, (("ensureAlpha", 0.5), ("toFormat", "png"))),
    SihCase("sih negate", SIH_ALPHA, (("negate", True),)),
    SihCase(
        "sih overlayWith",
        SIH_PHOTO,
        (
            (
                "overlayWith",
                {"bucket": "images", "key": "sih-logo.png", "options": {"left": 10, "top": 10}},
            ),
        ),
    ),
    SihCase("sih roundCrop", SIH_PHOTO, (("roundCrop", True),)),
    SihCase("sih webp", SIH_PHOTO, (("toFormat", "webp"), _BIG)),
)
