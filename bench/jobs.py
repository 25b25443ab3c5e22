"""The benchmark's jobs: one Thumbor URL each, and what sharp and plain Pillow do for the same
result. Every engine reads this list (the Node and Thumbor workers get it as JSON), so a job
cannot mean one thing to one engine and another to the next.

Encoder settings are the same on every side: JPEG quality 80, progressive (Thumbor's and our
default), 4:2:0, no metadata written by choice; WebP quality 80 method/effort 4; PNG zlib 6
(not the same effort in libvips and Pillow: compare the sizes); AVIF quality 80, 4:2:0, aom
speed 6 (Pillow's default speed 6 is sharp's effort 3).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

JPEG_SHARP: dict[str, Any] = {
    "quality": 80,
    "progressive": True,
    "mozjpeg": False,
    "chromaSubsampling": "4:2:0",
}
JPEG_PILLOW: dict[str, Any] = {"format": "JPEG", "quality": 80, "progressive": True}
WEBP_SHARP: dict[str, Any] = {"quality": 80, "effort": 4}
WEBP_PILLOW: dict[str, Any] = {"format": "WEBP", "quality": 80, "method": 4}
PNG_SHARP: dict[str, Any] = {"compressionLevel": 6}
PNG_PILLOW: dict[str, Any] = {"format": "PNG", "compress_level": 6}
AVIF_SHARP: dict[str, Any] = {"quality": 80, "effort": 3, "chromaSubsampling": "4:2:0"}
AVIF_PILLOW: dict[str, Any] = {"format": "AVIF", "quality": 80}
GIF_PILLOW: dict[str, Any] = {"format": "GIF"}


@dataclass(frozen=True)
class JobKind:
    """A job before it is given an input: the Thumbor URL (without the image) and its
    equivalents. `sharp` is a list of [method, *args] calls on a sharp pipeline; `pillow` is a
    list of plain-Pillow operations after the geometry (see bench/engines.py)."""

    key: str
    title: str
    inputs: str  # "photo", "alpha_png" or "animated_gif"
    url: str
    sharp: list[list[Any]]
    pillow: list[list[Any]]
    save: dict[str, Any]
    # Whether our PSNR is comparable with sharp's: false where the two crop differently by
    # design (smart crop: sharp's attention strategy, Thumbor's and ours the alignment).
    same_geometry: bool = True
    animated: bool = False


def _sharp_resize(**options: Any) -> list[Any]:
    return ["resize", options]


KINDS: tuple[JobKind, ...] = (
    JobKind(
        "fit300",
        "fit-in 300x300 JPEG",
        "photo",
        "fit-in/300x300",
        [["autoOrient"], _sharp_resize(width=300, height=300, fit="inside",
                                       withoutEnlargement=True), ["jpeg", JPEG_SHARP]],
        [],
        JPEG_PILLOW,
    ),
    JobKind(
        "cover800",
        "800x600 crop-to-fill",
        "photo",
        "800x600",
        # Serverless Image Handler maps Thumbor's WxH to sharp's cover resize.
        [["autoOrient"], _sharp_resize(width=800, height=600, fit="cover"), ["jpeg", JPEG_SHARP]],
        [],
        JPEG_PILLOW,
    ),
    JobKind(
        "webp1200",
        "1200-wide WebP",
        "photo",
        "1200x0/filters:format(webp)",
        [["autoOrient"], _sharp_resize(width=1200), ["webp", WEBP_SHARP]],
        [],
        WEBP_PILLOW,
    ),
    JobKind(
        "gray300",
        "grayscale + fit-in 300x300",
        "photo",
        "fit-in/300x300/filters:grayscale()",
        [["autoOrient"], _sharp_resize(width=300, height=300, fit="inside",
                                       withoutEnlargement=True), ["grayscale"],
         ["jpeg", JPEG_SHARP]],
        [["grayscale"]],
        JPEG_PILLOW,
    ),
    JobKind(
        "png400",
        "RGBA PNG -> fit-in 400x400 PNG",
        "alpha_png",
        "fit-in/400x400",
        [["autoOrient"], _sharp_resize(width=400, height=400, fit="inside",
                                       withoutEnlargement=True), ["png", PNG_SHARP]],
        [],
        PNG_PILLOW,
    ),
    JobKind(
        "blur800",
        "800 wide, then blur sigma 2",
        "photo",
        # Thumbor's blur(radius, sigma): a Gaussian of sigma 2 cut at 3 sigma, as sharp's.
        "800x0/filters:blur(6,2)",
        [["autoOrient"], _sharp_resize(width=800), ["blur", 2], ["jpeg", JPEG_SHARP]],
        [["blur", 2]],
        JPEG_PILLOW,
    ),
    JobKind(
        "avif800",
        "fit-in 800x800 AVIF",
        "photo",
        "fit-in/800x800/filters:format(avif)",
        [["autoOrient"], _sharp_resize(width=800, height=800, fit="inside",
                                       withoutEnlargement=True), ["avif", AVIF_SHARP]],
        [],
        AVIF_PILLOW,
    ),
    JobKind(
        "gif240",
        "animated GIF (16 frames) -> 240 wide GIF",
        "animated_gif",
        "240x0",
        [_sharp_resize(width=240), ["gif", {}]],
        [],
        GIF_PILLOW,
        animated=True,
    ),
    JobKind(
        "smart300",
        "300x300 smart crop",
        "photo",
        "300x300/smart",
        [["autoOrient"], _sharp_resize(width=300, height=300, fit="cover",
                                       position="attention"), ["jpeg", JPEG_SHARP]],
        [],
        JPEG_PILLOW,
        same_geometry=False,
    ),
    JobKind(
        "chain3",
        "fit-in 400x400 + rotate(90), grayscale(), fill(white)",
        "photo",
        "fit-in/400x400/filters:rotate(90):grayscale():fill(white)",
        # Thumbor turns counter-clockwise, sharp clockwise. Rotating after the resize keeps
        # sharp's shrink-on-load (rotating first costs it 8x); extendTo (sharp_worker.js)
        # centres the result on the white box as Thumbor's fill does.
        [["autoOrient"], _sharp_resize(width=400, height=400, fit="inside",
                                       withoutEnlargement=True),
         ["rotate", 270], ["grayscale"], ["extendTo", 400, 400, "#ffffff"],
         ["jpeg", JPEG_SHARP]],
        [["rotate", 90], ["grayscale"], ["fill", "white", 400, 400]],
        JPEG_PILLOW,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Input:
    label: str
    path: Path
    # Only the thumbnail job runs on it (keeps the run short; it is a second photo).
    thumbnail_only: bool = False


@dataclass
class Job:
    """One job on one input, as every worker receives it (see `as_json`)."""

    kind: JobKind
    input: Input
    # Filled in by the driver from our own `meta/` answer: the crop box and output size.
    crop: tuple[int, int, int, int] | None = None
    size: tuple[int, int] = (0, 0)
    ignored_filters: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.kind.key}@{self.input.label}"

    @property
    def name(self) -> str:
        """The key the image is served under (in memory and in the HTTP servers' folder)."""
        return f"{self.input.label}{self.input.path.suffix.lower()}"

    @property
    def url(self) -> str:
        return f"/unsafe/{self.kind.url}/{self.name}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "input": str(self.input.path),
            "url": self.url,
            "animated": self.kind.animated,
            "sharp": self.kind.sharp,
            "pillow": self.kind.pillow,
            "save": self.kind.save,
            "crop": list(self.crop) if self.crop else None,
            "size": list(self.size),
        }


def baseline_copy(progressive: Path, cache: Path) -> Path:
    """A baseline (sequential) re-encode of a progressive JPEG, made once: most JPEGs in the
    wild are baseline, and progressive decoding costs about 4x in every engine."""
    target = cache / f"{progressive.stem}_baseline.jpg"
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with Image.open(progressive) as image:
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=92, progressive=False, optimize=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(target)
    return target


def is_progressive(path: Path) -> bool:
    with Image.open(path) as image:
        return bool(image.info.get("progressive") or image.info.get("progression"))


def corpus_inputs(corpus: Path, cache: Path) -> dict[str, list[Input]]:
    """tests/corpus: both big photos are progressive, so the CC0 one also runs as a
    baseline re-encode."""
    cc0 = corpus / "photo_seeding_dandelions_5312x2988_cc0.jpg"
    return {
        "photo": [
            Input("cc0-16mp-baseline", baseline_copy(cc0, cache)),
            Input("cc0-16mp-progressive", cc0),
            Input(
                "sunset-11mp-progressive",
                corpus / "photo_sunset_4272x2848.jpg",
                thumbnail_only=True,
            ),
        ],
        "alpha_png": [Input("cutout-1600x900", corpus / "alpha_cutout_dandelions_1600x900.png")],
        "animated_gif": [Input("pan-16f-480x270", corpus / "animated_pan_16f_480x270.gif")],
    }


def folder_inputs(folder: Path) -> dict[str, list[Input]]:
    """Images from a folder given on the command line, sorted into the job families."""
    found: dict[str, list[Input]] = {"photo": [], "alpha_png": [], "animated_gif": []}
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        try:
            with Image.open(path) as image:
                fmt, mode, frames = image.format, image.mode, getattr(image, "n_frames", 1)
        except OSError:
            continue
        label = "".join(c if c.isalnum() or c in "-_" else "-" for c in path.stem)
        if fmt == "JPEG":
            found["photo"].append(Input(f"{folder.name}-{label}", path))
        elif fmt == "PNG" and "A" in mode:
            found["alpha_png"].append(Input(f"{folder.name}-{label}", path))
        elif fmt == "GIF" and frames > 1:
            found["animated_gif"].append(Input(f"{folder.name}-{label}", path))
    return found


def expand(inputs: dict[str, list[Input]], only: set[str] | None = None) -> list[Job]:
    """Every job kind on every input of its family."""
    jobs: list[Job] = []
    for kind in KINDS:
        if only is not None and kind.key not in only:
            continue
        for source in inputs.get(kind.inputs, []):
            if source.thumbnail_only and kind.key != "fit300":
                continue
            jobs.append(Job(kind, source))
    return jobs
