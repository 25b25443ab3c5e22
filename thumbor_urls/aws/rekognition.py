"""Amazon Rekognition, the one module that calls it: faces for `smart/` (a detector of the
DETECTORS chain) and moderation labels (a moderation backend), both on the small upright copy
the pipeline makes for them, sent as JPEG bytes.

botocore is imported with this module, which is loaded only when DETECTORS names `rekognition` or
moderation asks Rekognition for the first time (the Lambda runtime ships it; a local install
that never uses Rekognition never needs it). Every failure (throttling, a timeout, access
denied, a bad image) is the caller's own error: DetectorError (the chain goes on to the next
detector) or ModerationError (moderation fails closed or open, as configured).
"""

from __future__ import annotations

import io
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from PIL import Image

from ..config import Settings
from ..detectors import FACE, DetectorError, Region
from ..moderation import Label, ModerationError
from . import clients

JPEG_QUALITY = 90  # the copy is small already; artefacts would cost more faces than bytes do


class RekognitionError(Exception):
    pass


def jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


class Rekognition:
    """The service's client, made when first used."""

    def __init__(self, client: Any = None, timeout: float = 5.0) -> None:
        self._client = client
        self.timeout = timeout

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = clients.client("rekognition", self.timeout)
        return self._client

    def call(self, operation: str, image: Image.Image, **params: Any) -> dict[str, Any]:
        """One call on `image`; botocore's failures become RekognitionError naming the cause."""
        try:
            answer: dict[str, Any] = getattr(self.client, operation)(
                Image={"Bytes": jpeg_bytes(image)}, **params
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            raise RekognitionError(f"Rekognition {operation}: {code}") from error
        except BotoCoreError as error:
            raise RekognitionError(f"Rekognition {operation}: {type(error).__name__}") from error
        return answer


def box_region(box: dict[str, float], size: tuple[int, int], origin: str) -> Region:
    """Rekognition's BoundingBox (fractions of the image, possibly reaching outside it) as a
    Region in pixels, clipped to the image."""
    width, height = size
    left = min(max(float(box.get("Left", 0.0)), 0.0), 1.0)
    top = min(max(float(box.get("Top", 0.0)), 0.0), 1.0)
    right = min(max(float(box.get("Left", 0.0)) + float(box.get("Width", 0.0)), left), 1.0)
    bottom = min(max(float(box.get("Top", 0.0)) + float(box.get("Height", 0.0)), top), 1.0)
    return Region(
        left * width, top * height, (right - left) * width, (bottom - top) * height, FACE, origin
    )


class RekognitionFaceDetector:
    """DetectFaces: a detector of the DETECTORS chain."""

    name = "rekognition"
    finds = FACE
    whole = False
    origin = "Rekognition"

    def __init__(self, client: Any = None, timeout: float = 5.0) -> None:
        self.service = Rekognition(client, timeout)

    def detect(self, image: Image.Image) -> list[Region]:
        try:
            answer = self.service.call("detect_faces", image)
        except RekognitionError as error:
            raise DetectorError(str(error)) from error
        regions = []
        for face in answer.get("FaceDetails", []):
            region = box_region(face.get("BoundingBox", {}), image.size, self.origin)
            if region.width >= 1 and region.height >= 1:
                confidence = face.get("Confidence")
                confidence = None if confidence is None else float(confidence)
                regions.append(region._replace(confidence=confidence))
        return regions


class RekognitionModeration:
    """DetectModerationLabels: a moderation backend."""

    name = "rekognition"

    def __init__(self, client: Any = None, timeout: float = 5.0) -> None:
        self.service = Rekognition(client, timeout)

    def labels(self, image: Image.Image, min_confidence: float) -> list[Label]:
        try:
            answer = self.service.call(
                "detect_moderation_labels", image, MinConfidence=min_confidence
            )
        except RekognitionError as error:
            raise ModerationError(str(error)) from error
        return [
            Label(
                str(item.get("Name", "")),
                str(item.get("ParentName", "")),
                float(item.get("Confidence", 0.0)),
            )
            for item in answer.get("ModerationLabels", [])
        ]


def create(settings: Settings) -> RekognitionFaceDetector:
    """The detector DETECTORS=rekognition makes."""
    return RekognitionFaceDetector(timeout=settings.REKOGNITION_TIMEOUT_SECONDS)
