"""Faces with Amazon Rekognition DetectFaces, on the small copy sent as JPEG bytes.

boto3 is imported only when a detector is made (the Lambda runtime ships it; a local install
that never names `rekognition` in DETECTORS never imports it). Any failure (throttling, a
timeout, access denied, a bad image) is a DetectorError, so the chain goes on to the next
detector.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from ..config import Settings
from . import FACE, DetectorError, Region

JPEG_QUALITY = 90  # the copy is small already; artefacts would cost more faces than bytes do


def jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def rekognition_client(timeout: float) -> Any:
    from ..aws.clients import client  # noqa: PLC0415 - boto3 only when Rekognition is used

    return client("rekognition", timeout)


def call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """One Rekognition call; botocore's failures become DetectorError naming the cause."""
    from botocore.exceptions import (  # type: ignore[import-untyped]  # noqa: PLC0415
        BotoCoreError,
        ClientError,
    )

    try:
        answer: dict[str, Any] = getattr(client, operation)(**params)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise DetectorError(f"Rekognition {operation}: {code}") from error
    except BotoCoreError as error:
        raise DetectorError(f"Rekognition {operation}: {type(error).__name__}") from error
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
    name = "rekognition"
    origin = "Rekognition"

    def __init__(self, client: Any = None, timeout: float = 5.0) -> None:
        self._client = client
        self.timeout = timeout

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = rekognition_client(self.timeout)
        return self._client

    def detect(self, image: Image.Image) -> list[Region]:
        answer = call(self.client, "detect_faces", Image={"Bytes": jpeg_bytes(image)})
        regions = []
        for face in answer.get("FaceDetails", []):
            region = box_region(face.get("BoundingBox", {}), image.size, self.origin)
            if region.width >= 1 and region.height >= 1:
                confidence = face.get("Confidence")
                confidence = None if confidence is None else float(confidence)
                regions.append(region._replace(confidence=confidence))
        return regions


def create(settings: Settings) -> RekognitionFaceDetector:
    return RekognitionFaceDetector(timeout=settings.REKOGNITION_TIMEOUT_SECONDS)
