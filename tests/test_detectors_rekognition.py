"""Rekognition DetectFaces as a detector, with botocore's Stubber (moto has no Rekognition):
the answer mapped to pixels, throttling, errors and timeouts falling through to the next
detector; and the detector data in the S3 result store."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import ReadTimeoutError  # type: ignore[import-untyped]
from botocore.response import StreamingBody  # type: ignore[import-untyped]
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]
from PIL import Image

from tests.images import decode, gradient
from thumbor_urls.app import App
from thumbor_urls.aws.rekognition import RekognitionFaceDetector
from thumbor_urls.config import Settings
from thumbor_urls.detectors import FACE, DetectorError, build_detectors, run_chain
from thumbor_urls.detectors.saliency import SaliencyDetector
from thumbor_urls.detectors.service import DetectionService
from thumbor_urls.messages import Request


def aws_client(service: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def rekognition():
    client = aws_client("rekognition")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


FACES = {
    "FaceDetails": [
        {
            "BoundingBox": {"Width": 0.2, "Height": 0.25, "Left": 0.34, "Top": 0.1},
            "Confidence": 99.9,
        },
        # Reaching outside the picture, as Rekognition's boxes may: clipped.
        {
            "BoundingBox": {"Width": 0.2, "Height": 0.2, "Left": -0.05, "Top": 0.9},
            "Confidence": 88.0,
        },
    ]
}


def test_faces_are_mapped_to_pixels_of_the_copy(rekognition):
    client, stubber = rekognition
    stubber.add_response("detect_faces", FACES, {"Image": {"Bytes": ANY}})
    image = gradient((500, 400))
    regions = RekognitionFaceDetector(client).detect(image)
    first, second = regions
    assert (first.left, first.top, first.width, first.height) == pytest.approx((170, 40, 100, 100))
    assert first.kind == FACE and first.origin == "Rekognition" and first.confidence == 99.9
    assert (second.left, second.top) == (0, 360)
    assert second.width == pytest.approx(75) and second.height == pytest.approx(40)


def test_the_copy_is_sent_as_a_small_jpeg(rekognition):
    client, stubber = rekognition
    sent: dict[str, bytes] = {}

    def keep(params: dict[str, Any], **kwargs: Any) -> None:
        sent["bytes"] = params["Image"]["Bytes"]

    client.meta.events.register("provide-client-params.rekognition.DetectFaces", keep)
    stubber.add_response("detect_faces", {"FaceDetails": []}, {"Image": {"Bytes": ANY}})
    assert RekognitionFaceDetector(client).detect(gradient((600, 338))) == []
    assert Image.open(io.BytesIO(sent["bytes"])).format == "JPEG"
    assert Image.open(io.BytesIO(sent["bytes"])).size == (600, 338)


@pytest.mark.parametrize(
    "code",
    ["ThrottlingException", "ProvisionedThroughputExceededException", "AccessDeniedException"],
)
def test_service_errors_fall_through_to_the_next_detector(rekognition, caplog, code):
    client, stubber = rekognition
    stubber.add_client_error("detect_faces", code, http_status_code=400)
    image = gradient((300, 200))
    image.paste(Image.effect_noise((60, 60), 120).convert("RGB"), (200, 20))
    with caplog.at_level(logging.WARNING, "thumbor_urls.detectors"):
        detection = run_chain([RekognitionFaceDetector(client), SaliencyDetector()], image)
    assert detection.detector == "saliency"
    assert detection.failed == ("rekognition",)
    assert code in caplog.text


def test_a_timeout_is_a_detector_error():
    class Slow:
        def detect_faces(self, **params: Any) -> dict[str, Any]:
            raise ReadTimeoutError(endpoint_url="https://rekognition.us-east-1.amazonaws.com")

    with pytest.raises(DetectorError, match="ReadTimeoutError"):
        RekognitionFaceDetector(Slow()).detect(gradient((100, 100)))


def test_rekognition_is_built_lazily_from_the_setting(monkeypatch):
    made: list[tuple[str, float]] = []

    def fake_client(service: str, timeout: float = 5.0) -> Any:
        made.append((service, timeout))
        return object()

    monkeypatch.setattr("thumbor_urls.aws.clients.client", fake_client)
    [detector] = build_detectors(
        Settings(DETECTORS=("rekognition",), REKOGNITION_TIMEOUT_SECONDS=2.5)
    )
    assert made == []  # no client until the first detection
    assert isinstance(detector, RekognitionFaceDetector)
    assert detector.service.client is not None and made == [("rekognition", 2.5)]


def test_smart_crop_with_rekognition_end_to_end(root, tmp_path, rekognition):
    client, stubber = rekognition
    face = {"BoundingBox": {"Width": 0.2, "Height": 0.2, "Left": 0.34, "Top": 0.1}}
    stubber.add_response("detect_faces", {"FaceDetails": [face]}, {"Image": {"Bytes": ANY}})
    settings = Settings(
        FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / "r"
    )
    app = App(settings)
    detector = RekognitionFaceDetector(client)
    app.detectors = DetectionService.from_settings(
        settings, app.results, repr(app.source), [detector]
    )
    meta = app.handle(Request("GET", "/unsafe/meta/filters:smart_crop(0,8)/astronaut.jpg", {}))
    operations = json.loads(meta.body)["thumbor"]["operations"]
    # 512 x (0.34, 0.1, 0.54, 0.3) = (174.08, 51.2, 276.48, 153.6), rounded, 8 px around.
    assert operations == [{"type": "crop", "left": 166, "top": 43, "right": 284, "bottom": 162}]
    # The answer is cached: the image itself costs no second call (the stubber has none left).
    image = app.handle(Request("GET", "/unsafe/50x50/filters:smart_crop(0,8)/astronaut.jpg", {}))
    assert decode(image.body).size == (50, 50)


def test_detector_data_in_the_s3_result_store(monkeypatch):
    from thumbor_urls.aws import s3

    client = aws_client("s3")
    monkeypatch.setattr(s3, "client", lambda service, timeout=5.0: client)
    store = s3.S3ResultStore("results-bucket")
    document = {"regions": [{"left": 1}], "modified": 12.5}
    body = json.dumps(document).encode()
    with Stubber(client) as stubber:
        stubber.add_response(
            "put_object",
            {},
            {
                "Bucket": "results-bucket",
                "Key": "results/data/k1.json",
                "Body": body,
                "ContentType": "application/json",
                "Metadata": {"vary-accept": "0"},
            },
        )
        stubber.add_response(
            "get_object",
            {
                "Body": StreamingBody(io.BytesIO(body), len(body)),
                "ContentType": "application/json",
                "LastModified": datetime(2026, 1, 1, tzinfo=UTC),
            },
            {"Bucket": "results-bucket", "Key": "results/data/k1.json"},
        )
        stubber.add_client_error("get_object", "NoSuchKey", http_status_code=404)
        stubber.add_client_error("get_object", "SlowDown", http_status_code=503)
        store.put_data("k1", document)
        assert store.get_data("k1") == document
        assert store.get_data("k2") is None  # a miss
        assert store.get_data("k3") is None  # a failure is a miss too
