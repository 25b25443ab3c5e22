"""Thumbor's feature detector: the 20 strongest corners of the whole image, as focal points.

Thumbor (thumbor/detectors/feature_detector) converts the working image (upright when it
respects the orientation, trimmed, at its full size) to grey, ignoring alpha, and runs
`cv2.goodFeaturesToTrack(grey, maxCorners=20, qualityLevel=0.04, minDistance=1.0)`; each
corner becomes `FocalPoint(x, y, 1)`: a 1x1 point of weight 1 whose origin is left at its
default, "alignment" (that is what Thumbor's meta/ shows). The crop then centres on the
corners' mean. Which corners are strongest depends on the scale, so this detector looks at the
whole working image, not at the small copy the others see (`whole = True`): the same pixels
give the same corners, hence Thumbor's crops. Needs the `opencv` extra.
"""

from __future__ import annotations

import numpy
from numpy.typing import NDArray
from PIL import Image

from ..config import Settings
from . import FEATURE, Region
from .corners import strongest_corners

MAX_CORNERS = 20
QUALITY_LEVEL = 0.04
ORIGIN = "alignment"  # Thumbor's FocalPoint default, which its feature detector keeps


class FeatureDetector:
    name = "features"
    finds = FEATURE
    whole = True

    def detect(self, image: Image.Image) -> list[Region]:
        width = image.width

        def grey_rows(first: int, last: int) -> NDArray[numpy.uint8]:
            # Grey a band at a time (convert("L") is per pixel, alpha ignored as Thumbor's
            # convert_to_grayscale(alpha=False) ignores it): no grey copy of the whole image.
            band = image.crop((0, first, width, last))
            return numpy.asarray(band if band.mode == "L" else band.convert("L"))

        corners = strongest_corners(grey_rows, image.size, MAX_CORNERS, QUALITY_LEVEL)
        return [Region(x, y, 1, 1, FEATURE, ORIGIN, weight=1.0) for x, y in corners]


def create(settings: Settings) -> FeatureDetector:
    return FeatureDetector()
