"""Faces with OpenCV's Haar cascade, exactly as Thumbor's face detector finds them.

Thumbor (thumbor/detectors/local_detector.py and face_detector/) runs
`detectMultiScale(gray, 1.2, 4, minSize=(s, s))` with `s = max(20, min(width, height) / 15)` and
the `haarcascade_frontalface_alt.xml` cascade, then moves each face up by 12% of its height to
take in the hair (unless that leaves the image). The same parameters here give the same focal
points, hence the same crops. Needs the `opencv` extra (opencv-python-headless below 5:
version 5 dropped `CascadeClassifier`), which ships the cascade files under `cv2.data`.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import cv2  # type: ignore[import-not-found, unused-ignore]
import numpy
from PIL import Image

from ..config import Settings
from . import FACE, Region

CASCADE = "haarcascade_frontalface_alt.xml"
SCALE_FACTOR = 1.2
MIN_NEIGHBORS = 4
HAIR_OFFSET = 0.12


_LOCAL = threading.local()


def _cascade(name: str) -> Any:
    """The classifier, loaded once per thread: OpenCV does not promise that one classifier
    may run in several threads at once (the server runs requests in a pool of threads)."""
    loaded: dict[str, Any] = _LOCAL.__dict__.setdefault("cascades", {})
    if name not in loaded:
        path = name if os.path.isabs(name) else os.path.join(cv2.data.haarcascades, name)  # type: ignore[attr-defined, unused-ignore]
        classifier = cv2.CascadeClassifier(path)
        if classifier.empty():
            raise ValueError(f"OpenCV could not load the cascade {path}")
        loaded[name] = classifier
    return loaded[name]


def min_face_side(size: tuple[int, int]) -> int:
    """Thumbor's `get_min_size_for`: faces smaller than 1/15 of the shorter side are noise."""
    return max(20, int(min(size) / 15))


class OpenCVFaceDetector:
    name = "opencv"
    finds = FACE
    whole = False  # the small copy: faces are found at any scale, and far faster there
    origin = "Face Detection"

    def __init__(self, cascade: str = CASCADE) -> None:
        self.cascade = cascade

    def detect(self, image: Image.Image) -> list[Region]:
        gray = numpy.asarray(image.convert("L"))
        side = min_face_side(image.size)
        faces = _cascade(self.cascade).detectMultiScale(
            gray, SCALE_FACTOR, MIN_NEIGHBORS, minSize=(side, side)
        )
        regions = []
        for left, top, width, height in (tuple(int(v) for v in face) for face in faces):
            hair = height * HAIR_OFFSET
            shifted_top = top - hair if top - hair >= 0 else float(top)
            regions.append(Region(left, shifted_top, width, height, FACE, self.origin))
        return regions


def create(settings: Settings) -> OpenCVFaceDetector:
    return OpenCVFaceDetector()
