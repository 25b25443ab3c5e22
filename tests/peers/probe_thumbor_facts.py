"""Probe the real Thumbor 7.8.0 for the facts in THUMBOR-FACTS.md.

Run with the Thumbor venv's python (it has Pillow and libthumbor):

    bash tests/peers/install_thumbor.sh .venv-thumbor
    .venv-thumbor/bin/python tests/peers/probe_thumbor_facts.py > /tmp/facts.txt

Prints one line per probe; not a test (nothing asserted).
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageFile, ImageSequence, JpegImagePlugin
from thumbor_peer import DEFAULT_VENV, fetch, run_thumbor  # type: ignore[import-not-found]  # run as a script

# Run as a script by Thumbor's own Python: the test photos by path, not through tests.images.
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
VENV = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_VENV


def gradient(width: int, height: int) -> Image.Image:
    """R grows left->right, G grows top->bottom, B constant: position is readable."""
    xs = Image.linear_gradient("L").rotate(90).resize((width, height))
    ys = Image.linear_gradient("L").resize((width, height))
    return Image.merge(
        "RGB",
        (xs.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ys, Image.new("L", (width, height), 128)),
    )


def make_images(root: Path) -> None:
    for w, h in [
        (4000, 3000),
        (300, 200),
        (800, 600),
        (600, 800),
        (2000, 1000),
        (1000, 2000),
        (1000, 667),
    ]:
        gradient(w, h).save(root / f"g{w}x{h}.jpg", quality=95)
    # 400x300: white 20px border around a 360x260 gradient "photo".
    framed = Image.new("RGB", (400, 300), "white")
    framed.paste(gradient(360, 260), (20, 20))
    framed.save(root / "trim.png")
    framed.save(root / "trim.jpg", quality=95)
    # Asymmetric border: 10px left/top, 30px right/bottom (for trim:bottom-right).
    asym = Image.new("RGB", (400, 300), "white")
    asym.paste(gradient(360, 260), (10, 10))
    asym.save(root / "trim_asym.png")
    gradient(320, 240).save(root / "static.webp", quality=90)
    # JPEG with EXIF + ICC for metadata-keeping checks.
    exif = Image.Exif()
    exif[0x010F] = "ProbeCam"  # Make
    exif[0x8298] = "(c) probe"  # Copyright
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    gradient(800, 600).save(root / "meta.jpg", quality=95, exif=exif, icc_profile=icc)
    gradient(400, 300).quantize(64).save(root / "palette.png")
    gradient(400, 300).convert("L").save(root / "gray.jpg", quality=95)
    gradient(400, 300).convert("CMYK").save(root / "cmyk.jpg", quality=95)
    (root / "text.jpg").write_bytes(b"this is not an image\n")
    for name in [
        "alpha_cutout_dandelions_1600x900.png",
        "animated_pan_16f_480x270.gif",
        "animated_pan_16f_480x270.webp",
        "exif_orientation6_2400x1350_display.jpg",
    ]:
        shutil.copy(CORPUS / name, root / name)


def describe(body: bytes) -> dict[str, Any]:
    try:
        img = Image.open(io.BytesIO(body))
    except Exception:
        return {"body": body[:200].decode("utf-8", "replace")}
    out: dict[str, Any] = {"fmt": img.format, "size": f"{img.width}x{img.height}", "mode": img.mode}
    frames = getattr(img, "n_frames", 1)
    if frames > 1:
        out["frames"] = frames
        out["durations"] = [f.info.get("duration") for f in ImageSequence.Iterator(img)][:3]
        img.seek(0)
        out["loop"] = img.info.get("loop")
    if img.format == "JPEG":
        out["progressive"] = bool(img.info.get("progressive"))
        out["subsampling"] = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}.get(
            JpegImagePlugin.get_sampling(img), "?"
        )
        out["q80_tables"] = _same_qtables(img, 80)
    if "exif" in img.info:
        out["exif"] = {k: v for k, v in img.getexif().items() if k in (0x010F, 0x8298, 0x0112)}
    if "icc_profile" in img.info:
        out["icc"] = len(img.info["icc_profile"])
    return out


def _same_qtables(img: Image.Image, quality: int) -> bool:
    ref = io.BytesIO()
    Image.new("RGB", (8, 8)).save(ref, "JPEG", quality=quality)
    ref_tables = Image.open(ref).quantization  # type: ignore[attr-defined]
    return bool(img.quantization == ref_tables)  # type: ignore[attr-defined]


def show(
    base: str, path: str, headers: dict[str, str] | None = None, want_headers: bool = False
) -> None:
    status, hdrs, body = fetch(base + path, headers=headers)
    line: dict[str, Any] = {"status": status}
    if status == 200 and "json" in hdrs.get("content-type", ""):
        line["json"] = body.decode()
    else:
        line.update(describe(body) if body else {"body": ""})
    if want_headers:
        line["headers"] = {k: v for k, v in hdrs.items() if k not in ("date", "content-length")}
    else:
        line["ct"] = hdrs.get("content-type")
    print(f"{path}\t{json.dumps(line)}", flush=True)


SIZE_CASES = {
    "g4000x3000.jpg": [
        "300x200",
        "300x0",
        "300x",
        "fit-in/300x300",
        "fit-in/300x0",
        "x150",
        "fit-in/0x300",
        "meta/300x200",
    ],
    "g300x200.jpg": [
        "1000x1000",
        "600x0",
        "fit-in/1000x1000",
        "full-fit-in/1000x1000",
        "meta/1000x1000",
    ],
    "g800x600.jpg": [
        "fit-in/300x200",
        "full-fit-in/300x200",
        "300xorig",
        "origx100",
        "fit-in/origx300",
        "100x100:500x400/200x0",
        "-300x200",
        "300x-200",
        "-300x-200",
        "0x0",
        "origxorig",
        "fit-in/0x0",
        "10x10:790x590/fit-in/300x300",
        "left/300x100",
        "right/top/300x100",
        "300x200/filters:no_upscale()",
        "1000x1000/filters:no_upscale()",
        "fit-in/1000x1000/filters:upscale()",
        "300x200/filters:stretch()",
        "fit-in/300x200/filters:fill(red)",
        "fit-in/300x200/filters:fill(blue,1)",
        "fit-in/300x200/filters:rotate(90)",
        "300x200/filters:rotate(90)",
        "100x100:5000x5000",
        "100x100:5000x5000/200x0",
        "100x100:100x100",
        "100x100:100x100/200x200",
        "300x300:100x100",
        "fit-in/1000x1000",
        "adaptive-fit-in/300x200",
        "smart/300x200",
        "300x200/smart",
        "300x100/left",
        "300x100/right/top",
        "300x100/center/bottom",
        "100x300/left",
        "100x300/right",
        "300x100/top",
        "300x100/bottom",
        "meta/300x100/left",
        "meta/300x100/right/top",
        "meta/300x100/bottom",
        "meta/100x300/right",
        "meta/100x100:5000x5000",
        "meta/100x100:100x100/200x200",
        "meta/300x300:100x100",
        "meta/-300x-200",
        "meta/fit-in/300x200/filters:fill(red)",
        "meta/10x10:790x590/fit-in/300x300",
        "meta/300xorig",
    ],
    "g2000x1000.jpg": ["301x0", "303x0", "fit-in/301x301", "fit-in/303x303", "meta/301x0"],
    "g1000x2000.jpg": ["0x301", "fit-in/301x301"],
    "g1000x667.jpg": ["300x200", "meta/300x200", "meta/400x200"],
    "palette.png": ["200x150", "200x150/filters:format(jpeg)", "200x150/filters:format(webp)"],
    "gray.jpg": ["200x150", "200x150/filters:format(png)"],
    "cmyk.jpg": ["200x150", "200x150/filters:format(png)"],
    "g600x800.jpg": [
        "fit-in/300x200",
        "full-fit-in/300x200",
        "adaptive-fit-in/300x200",
        "adaptive-full-fit-in/300x200",
    ],
    "trim.png": [
        "trim",
        "trim:bottom-right",
        "trim:top-left:10",
        "trim/10x10:100x100",
        "trim/300x200",
        "trim/fit-in/1000x1000",
    ],
    "trim.jpg": ["trim", "trim:top-left:10"],
    "trim_asym.png": ["trim", "trim:top-left", "trim:bottom-right"],
}


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha1(data).hexdigest()[:12]


def _pil_pipeline(
    src: Path, crop: tuple[int, int, int, int] | None, size: tuple[int, int], fmt: str, draft: bool
) -> bytes:
    img: Image.Image = Image.open(src)
    icc = img.info.get("icc_profile")
    if crop:
        img = img.crop(crop)
    if img.mode in ("1", "P"):
        img = img.convert("RGB" if img.mode == "1" else None)
    if draft:
        img.draft(None, size)
    img = img.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    opts: dict[str, Any] = {"quality": 80}
    if fmt == "JPEG":
        opts.update(optimize=True, progressive=True)
        img = img.convert("RGB")
    if fmt == "PNG":
        opts["compress_level"] = 6
    if icc:
        opts["icc_profile"] = icc
    img.save(out, fmt, **opts)
    return out.getvalue()


def reproduce(base: str, root: Path) -> None:
    ImageFile.MAXBLOCK = 2**25  # thumbor.engines.pil sets this: one PNG IDAT chunk
    cases = [
        ("fit-in/300x300/g800x600.jpg", "g800x600.jpg", None, (300, 225), "JPEG"),
        ("fit-in/300x300/g4000x3000.jpg", "g4000x3000.jpg", None, (300, 225), "JPEG"),
        ("300x200/g800x600.jpg", "g800x600.jpg", (0, 34, 800, 567), (300, 200), "JPEG"),
        (
            "300x200/filters:format(webp)/g800x600.jpg",
            "g800x600.jpg",
            (0, 34, 800, 567),
            (300, 200),
            "WEBP",
        ),
        (
            "300x200/alpha_cutout_dandelions_1600x900.png",
            "alpha_cutout_dandelions_1600x900.png",
            (125, 0, 1475, 900),
            (300, 200),
            "PNG",
        ),
        ("fit-in/300x300/photo.jpg", "photo.jpg", None, (300, 200), "JPEG"),
    ]
    shutil.copy(CORPUS / "photo_sunset_4272x2848.jpg", root / "photo.jpg")
    for path, src, crop, size, fmt in cases:
        _, _, body = fetch(f"{base}/unsafe/{path}")
        with_draft = _pil_pipeline(root / src, crop, size, fmt, True)
        no_draft = _pil_pipeline(root / src, crop, size, fmt, False)
        print(
            f"{path}\tthumbor={_sha(body)} pil+draft={_sha(with_draft)} "
            f"pil-nodraft={_sha(no_draft)} equal_draft={body == with_draft} "
            f"equal_nodraft={body == no_draft}"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_images(root)
        with run_thumbor(VENV, root) as base:
            print("## sizes")
            for src, cases in SIZE_CASES.items():
                for case in cases:
                    show(base, f"/unsafe/{case}/{src}")
            print("## pixel probes (trim + crop origin)")
            for case in ["trim/10x10:100x100", "trim", "10x10:100x100"]:
                _, _, body = fetch(f"{base}/unsafe/{case}/trim.png")
                img = Image.open(io.BytesIO(body)).convert("RGB")
                print(case, "pixel(0,0)=", img.getpixel((0, 0)), "size", img.size)
            show(base, "/unsafe/meta/trim/10x10:100x100/trim.png")
            print("## byte-for-byte reproduction with Pillow (same version as thumbor venv)")
            reproduce(base, root)
            print("## formats and headers")
            for path in [
                "/unsafe/300x200/g800x600.jpg",
                "/unsafe/300x200/alpha_cutout_dandelions_1600x900.png",
                "/unsafe/300x200/animated_pan_16f_480x270.gif",
                "/unsafe/animated_pan_16f_480x270.gif",
                "/unsafe/300x200/animated_pan_16f_480x270.webp",
                "/unsafe/300x200/static.webp",
                "/unsafe/300x200/filters:format(webp)/g800x600.jpg",
                "/unsafe/300x200/filters:format(png)/g800x600.jpg",
                "/unsafe/300x200/filters:format(jpeg)/alpha_cutout_dandelions_1600x900.png",
                "/unsafe/300x200/filters:format(gif)/g800x600.jpg",
                "/unsafe/300x200/meta.jpg",
                "/unsafe/fit-in/300x300/exif_orientation6_2400x1350_display.jpg",
                "/unsafe/300x200/filters:quality(50)/g800x600.jpg",
            ]:
                show(base, path, want_headers=True)
            show(base, "/unsafe/300x200/g800x600.jpg", {"Accept": "image/webp"}, True)
            show(base, "/unsafe/meta/300x200/g800x600.jpg", want_headers=True)
            _, hdrs, _ = fetch(f"{base}/unsafe/300x200/g800x600.jpg")
            show(base, "/unsafe/300x200/g800x600.jpg", {"If-None-Match": hdrs["etag"]}, True)
            print("## errors")
            for path in [
                "/unsafe/300x200/nope.jpg",
                "/unsafe/300x200/text.jpg",
                "/unsafe/abcx/g800x600.jpg",
                "/unsafe/300x200/filters:quality(abc)/g800x600.jpg",
                "/unsafe/300x200/filters:nope()/g800x600.jpg",
                "/unsafe/300x200/filters:blur(abc)/g800x600.jpg",
                "/unsafe/300x200/../g800x600.jpg",
                "/unsafe/",
                "/",
                "/healthcheck",
                "/unsafe/300x200/filters:format(bmp)/g800x600.jpg",
            ]:
                show(base, path, want_headers=True)
            print("## meta")
            for path in [
                "/unsafe/meta/300x200/g800x600.jpg",
                "/unsafe/meta/fit-in/300x200/filters:grayscale()/g800x600.jpg",
                "/unsafe/meta/-300x200/smart/g800x600.jpg",
                "/unsafe/meta/10x10:200x200/300x200/g800x600.jpg",
                "/unsafe/meta/10x10:200x200/g800x600.jpg",
                "/unsafe/meta/trim/300x200/trim.png",
                "/unsafe/meta/300x200/animated_pan_16f_480x270.gif",
            ]:
                show(base, path)
        with run_thumbor(VENV, root, AUTO_WEBP=True) as base:
            print("## AUTO_WEBP=True")
            show(base, "/unsafe/300x200/g800x600.jpg", {"Accept": "image/webp,*/*"}, True)
            show(base, "/unsafe/300x200/g800x600.jpg", {"Accept": "image/jpeg"}, True)
            show(
                base, "/unsafe/300x200/animated_pan_16f_480x270.gif", {"Accept": "image/webp"}, True
            )
            show(
                base,
                "/unsafe/300x200/filters:format(png)/g800x600.jpg",
                {"Accept": "image/webp"},
                True,
            )
            show(base, "/unsafe/300x200/g800x600.jpg", None, True)
            show(
                base,
                "/unsafe/300x200/alpha_cutout_dandelions_1600x900.png",
                {"Accept": "image/webp"},
                True,
            )
            show(base, "/unsafe/300x200/palette.png", {"Accept": "image/webp"}, True)
        with run_thumbor(VENV, root, USE_GIFSICLE_ENGINE=True) as base:
            print("## USE_GIFSICLE_ENGINE=True")
            show(base, "/unsafe/300x200/animated_pan_16f_480x270.gif", want_headers=True)
            show(base, "/unsafe/fit-in/300x300/animated_pan_16f_480x270.gif")
        with run_thumbor(VENV, root, RESPECT_ORIENTATION=True) as base:
            print("## RESPECT_ORIENTATION=True")
            show(base, "/unsafe/fit-in/300x300/exif_orientation6_2400x1350_display.jpg")
        with run_thumbor(VENV, root, PRESERVE_EXIF_INFO=True) as base:
            print("## PRESERVE_EXIF_INFO=True")
            show(base, "/unsafe/300x200/meta.jpg")
        with run_thumbor(VENV, root, ALLOW_UNSAFE_URL=False) as base:
            print("## ALLOW_UNSAFE_URL=False")
            show(base, "/unsafe/300x200/g800x600.jpg", want_headers=True)
        from libthumbor import CryptoURL

        key = "probe-key"
        with run_thumbor(VENV, root, SECURITY_KEY=key, ALLOW_UNSAFE_URL=False) as base:
            print("## SECURITY_KEY='probe-key', ALLOW_UNSAFE_URL=False")
            signed = CryptoURL(key=key).generate(width=300, height=200, image_url="g800x600.jpg")
            print("signed url:", signed)
            show(base, signed, want_headers=True)
            bad = "/" + "A" * 27 + "=" + signed[signed.index("/", 1) :]
            show(base, bad, want_headers=True)
            show(base, signed.replace("300x200", "300x201"), want_headers=True)
            show(base, "/unsafe/300x200/g800x600.jpg")
        with run_thumbor(VENV, root, SECURITY_KEY=key) as base:
            print("## SECURITY_KEY set, ALLOW_UNSAFE_URL=True")
            show(base, "/unsafe/300x200/g800x600.jpg")
            show(base, signed)


if __name__ == "__main__":
    main()
