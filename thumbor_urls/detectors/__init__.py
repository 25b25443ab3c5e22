"""Focal-point detectors for `smart/`: a chain configured by `DETECTORS`, first hit wins.

A detector looks at a small upright copy of the working image (at most
`DETECTION_MAX_SIDE` pixels on its longer side), never at the full decoded original, and
answers rectangles in that copy's pixels; the chain maps them back to the working image the
geometry plans on, where they become Thumbor focal points (`FocalPoint.from_square`: the
centre of the rectangle, weighted by its area). A detector whose answer depends on the scale
(`whole = True`: Thumbor's feature detector) sees the whole working image instead.

With `DETECTORS` unset, the chain is every detector whose dependencies are installed
(`default_chain`): Thumbor's face and feature detectors where OpenCV is, else saliency.

Detectors with heavy dependencies (OpenCV, boto3) live in their own modules, imported only
when `DETECTORS` names them, so the Lambda package and the plain local install need neither.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

from PIL import Image

from ..config import SettingError, Settings
from ..deadline import DeadlineExceeded
from ..geometry import FocalPoint
from ..transform import orient

log = logging.getLogger(__name__)

FACE = "face"
FEATURE = "feature"
SALIENCY = "saliency"


class Region(NamedTuple):
    """A rectangle a detector found, in the pixels of the image it looked at."""

    left: float
    top: float
    width: float
    height: float
    kind: str  # FACE, FEATURE or SALIENCY
    origin: str  # shown in meta/: "Face Detection", "Rekognition", "Saliency", "alignment"
    weight: float | None = None  # None: the area, as Thumbor weighs faces
    confidence: float | None = None

    def scaled(self, sx: float, sy: float) -> Region:
        return self._replace(
            left=self.left * sx,
            top=self.top * sy,
            width=self.width * sx,
            height=self.height * sy,
            weight=None if self.weight is None else self.weight * sx * sy,
        )

    def focal_point(self) -> FocalPoint:
        """Thumbor's `FocalPoint.from_square`, with its arithmetic: integer half sides added to
        a possibly fractional corner, then truncated."""
        width, height = max(round(self.width), 1), max(round(self.height), 1)
        weight = float(width * height) if self.weight is None else self.weight
        return FocalPoint(
            int(self.left + width // 2),
            int(self.top + height // 2),
            width=width,
            height=height,
            weight=weight,
            origin=self.origin,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "left": round(self.left, 3),
            "top": round(self.top, 3),
            "width": round(self.width, 3),
            "height": round(self.height, 3),
            "kind": self.kind,
            "origin": self.origin,
            "weight": self.weight,
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Region:
        return cls(
            float(value["left"]),
            float(value["top"]),
            float(value["width"]),
            float(value["height"]),
            str(value["kind"]),
            str(value["origin"]),
            None if value.get("weight") is None else float(value["weight"]),
            None if value.get("confidence") is None else float(value["confidence"]),
        )


class Detector(Protocol):
    name: str
    finds: str  # the kind of its regions: smart_crop() runs only the detectors that find FACE
    # False: it looks at the small upright copy (RGB or RGBA); True: at the whole working
    # image, upright (`whole_upright`: in any mode, grey when it had to be turned), as
    # Thumbor's detectors do, because its answer depends on the scale. The decoder then keeps
    # every pixel for it.
    whole: bool

    def detect(self, image: Image.Image) -> list[Region]:
        """Regions found in `image`, in its pixels, or DetectorError."""
        ...


class DetectorError(Exception):
    """A detector could not run (service down, throttled, timed out): the next one is tried."""


class Detection(NamedTuple):
    regions: tuple[Region, ...]
    detector: str | None  # the detector that found them; None when none did
    failed: tuple[str, ...] = ()  # detectors that raised (logged): the answer may be incomplete
    seen: tuple[int, int] | None = None  # the size of the image the regions are in

    @property
    def faces(self) -> tuple[Region, ...]:
        return tuple(region for region in self.regions if region.kind == FACE)


Picture = Image.Image | Callable[[], Image.Image]  # an image, or how to make it when needed


def run_chain(
    detectors: Sequence[Detector], image: Picture, whole: Picture | None = None
) -> Detection:
    """The regions of the first detector that finds any, in the pixels of the image it saw:
    `image` (the small copy) or, for a detector that looks at the whole image, `whole`. Each
    is made when a detector first needs it. A failing detector is logged and skipped: a smart
    crop around the next detector's answer beats no image at all."""
    made: dict[int, Image.Image] = {}  # by the id() of what was asked for
    failed: list[str] = []
    for detector in detectors:
        picture = whole if detector.whole and whole is not None else image
        try:
            if id(picture) not in made:
                made[id(picture)] = _look(picture)
            seen = made[id(picture)]
            regions = detector.detect(seen)
        except DeadlineExceeded:
            raise  # the answer has gone: no other detector is tried
        except Exception as error:
            # OpenCV raises cv2.error, boto3 its own tree: any failure falls through.
            log.warning("detector %s failed: %s: %s", detector.name, type(error).__name__, error)
            failed.append(detector.name)
            continue
        if regions:
            return Detection(tuple(regions), detector.name, tuple(failed), seen.size)
    return Detection((), None, tuple(failed))


def _look(picture: Picture) -> Image.Image:
    return picture if isinstance(picture, Image.Image) else picture()


# Names accepted in DETECTORS, with Thumbor's module names as aliases so that a Thumbor
# configuration carries over; each module has `create(settings)`, and is imported only when
# named, since each brings a heavy dependency (OpenCV, boto3).
_MODULES = {
    "opencv": "thumbor_urls.detectors.opencv",
    "face": "thumbor_urls.detectors.opencv",
    "thumbor.detectors.face_detector": "thumbor_urls.detectors.opencv",
    "features": "thumbor_urls.detectors.features",
    "feature": "thumbor_urls.detectors.features",
    "thumbor.detectors.feature_detector": "thumbor_urls.detectors.features",
    "saliency": "thumbor_urls.detectors.saliency",
    "rekognition": "thumbor_urls.aws.rekognition",
}
_NAMES = ("features", "opencv", "rekognition", "saliency")
# With DETECTORS unset: Thumbor's faces, then its features (for pictures without a face),
# when OpenCV is installed; else the detector that needs nothing but Pillow.
WITH_OPENCV = ("opencv", "features")
WITHOUT_OPENCV = ("saliency",)


def build_detectors(settings: Settings) -> tuple[Detector, ...]:
    """The chain `DETECTORS` names, in order (unset: `default_chain()`); a name we do not
    know, or one whose package is missing, is a configuration error."""
    if settings.DETECTORS is None:
        return default_chain(settings)
    return _chain(settings.DETECTORS, settings)


def default_chain(settings: Settings) -> tuple[Detector, ...]:
    """Every detector whose dependencies are installed: a server with OpenCV crops as Thumbor
    does with its face and feature detectors, one without it around the detail."""
    try:
        return _chain(WITH_OPENCV, settings)
    except SettingError:
        return _chain(WITHOUT_OPENCV, settings)


def _chain(names: Sequence[str], settings: Settings) -> tuple[Detector, ...]:
    chain: list[Detector] = []
    for name in names:
        module_name = _MODULES.get(name.strip().lower())
        if module_name is None:
            known = ", ".join(_NAMES)
            raise SettingError(f"DETECTORS: unknown detector {name!r}; the detectors are {known}")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise SettingError(
                f"DETECTORS names {name!r}, which needs {error.name or 'a package'} "
                "(for opencv and features: pip install '.[opencv]')"
            ) from None
        chain.append(module.create(settings))
    return tuple(chain)


def sample(frame: Image.Image, orientation: int, max_side: int) -> Image.Image:
    """A small upright RGB(A) copy of `frame` for the detectors (and the moderation backend):
    shrunk first, then oriented and converted, so those steps touch few pixels."""
    width, height = frame.size
    scale = max_side / max(width, height)
    small = frame
    if scale < 1:
        size = (max(round(width * scale), 1), max(round(height * scale), 1))
        small = frame.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    # Alpha is kept (RGBA) so that saliency can ignore a cut-out's outline.
    wanted = "RGBA" if "A" in small.getbands() or "transparency" in small.info else "RGB"
    if small.mode != wanted:
        small = small.convert(wanted)
    return orient(small, orientation)


def whole_upright(frame: Image.Image, orientation: int) -> Image.Image:
    """The whole working image, upright, for the detectors that look at every pixel: the
    decoded frame itself (no copy), or, when it must be turned, turned in grey (one byte a pixel;
    alpha ignored, as Thumbor's `convert_to_grayscale(alpha=False)` ignores it)."""
    if orientation == 1:
        return frame
    return orient(frame.convert("L"), orientation)
