"""Direct invocations: smartCropping and contentModeration answer JSON and store the image
under the result key of the Thumbor URL that does the same work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.images import decode
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.detectors import FACE, Region
from thumbor_urls.detectors.service import DetectionService
from thumbor_urls.features import invoke
from thumbor_urls.messages import Request
from thumbor_urls.moderation import Label, ModerationError, ModerationService


class Faces:
    name = "faces"
    finds = FACE
    whole = False

    def __init__(self, regions):
        self.regions = regions
        self.calls = 0

    def detect(self, image):
        self.calls += 1
        return list(self.regions)


class Labels:
    name = "labels"

    def __init__(self, labels=(), error=None):
        self.answer = list(labels)
        self.error = error
        self.calls = 0

    def labels(self, image, min_confidence):
        self.calls += 1
        if self.error:
            raise ModerationError(self.error)
        return [label for label in self.answer if label.confidence >= min_confidence]


FACE_BOX = Region(174, 52, 101, 101, FACE, "Rekognition", confidence=99.5)


def make_app(root: Path, tmp_path: Path, detectors=(), backend=None, **overrides):
    settings = Settings(
        FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / "results"
    ).replace(**overrides)
    app = App(settings)
    app.detectors = DetectionService.from_settings(
        settings, app.results, repr(app.source), list(detectors)
    )
    app.moderator = ModerationService.from_settings(
        settings, app.results, repr(app.source), backend
    )
    return app


def test_smart_cropping(root, tmp_path):
    detector = Faces([FACE_BOX])
    app = make_app(root, tmp_path, [detector])
    event = {"imageKey": "astronaut.jpg", "feature": "smartCropping", "width": 100, "height": 200}
    answer = invoke(app, event)
    assert answer["status"] == 200
    assert answer["url"] == "/unsafe/100x200/smart/astronaut.jpg"
    assert answer["detector"] == "faces"
    assert answer["faces"][0]["confidence"] == 99.5
    assert answer["focalPoints"][0]["x"] == 224
    assert answer["cropBox"] == {"left": 96, "top": 0, "right": 352, "bottom": 512}
    assert (answer["width"], answer["height"]) == (100, 200)
    stored = Path(answer["resultKey"])
    assert stored.is_file() and decode(stored.read_bytes()).size == (100, 200)
    # The same URL is now served from the result store, with no detection.
    response = app.handle(Request("GET", answer["url"], {}))
    assert response.status == 200 and response.body == stored.read_bytes()
    assert detector.calls == 1
    json.dumps(answer)  # all of it is JSON


def test_smart_cropping_to_one_face(root, tmp_path):
    app = make_app(root, tmp_path, [Faces([FACE_BOX])])
    event = {
        "imageKey": "astronaut.jpg",
        "feature": "smartCropping",
        "width": 50,
        "height": 50,
        "faceIndex": 0,
        "padding": 10,
    }
    answer = invoke(app, event)
    assert answer["cropBox"] == {"left": 164, "top": 42, "right": 285, "bottom": 163}
    bad = invoke(app, {**event, "faceIndex": 2})
    assert bad["status"] == 400 and "face_index 2 is out of range" in bad["message"]


def test_content_moderation(root, tmp_path):
    backend = Labels([Label("Explicit Nudity", "", 97.0), Label("Suggestive", "", 60.0)])
    app = make_app(root, tmp_path, backend=backend)
    event = {"imageKey": "astronaut.jpg", "feature": "contentModeration", "minConfidence": 80}
    answer = invoke(app, event)
    assert answer["status"] == 200
    assert answer["url"] == "/unsafe/filters:moderate(80)/astronaut.jpg"
    assert [label["name"] for label in answer["flagged"]] == ["Explicit Nudity"]
    assert len(answer["labels"]) == 2
    assert answer["blurred"] is True and answer["blurPercent"] == 5.0
    assert (answer["width"], answer["height"]) == (512, 512)
    assert Path(answer["resultKey"]).is_file()
    clean = invoke(app, {**event, "minConfidence": 99, "moderationLabels": ["Violence"]})
    assert clean["blurred"] is False and clean["flagged"] == []
    assert clean["url"] == "/unsafe/filters:moderate(99,Violence)/astronaut.jpg"
    assert backend.calls == 1  # one verdict per original


def test_content_moderation_fails_closed(root, tmp_path):
    app = make_app(root, tmp_path, backend=Labels(error="ThrottlingException"))
    answer = invoke(app, {"imageKey": "astronaut.jpg", "feature": "contentModeration"})
    assert answer["status"] == 503 and answer["code"] == "ModerationUnavailable"


def test_fail_open_moderation_stores_nothing(root, tmp_path):
    app = make_app(root, tmp_path, backend=Labels(error="Throttling"), MODERATION_FAIL_OPEN=True)
    answer = invoke(app, {"imageKey": "astronaut.jpg", "feature": "contentModeration"})
    assert answer["status"] == 200 and answer["error"] == "Throttling"
    assert answer["resultKey"] is None and answer["blurred"] is False


@pytest.mark.parametrize(
    ("event", "status", "code", "words"),
    [
        ({"feature": "smartCropping", "width": 10}, 400, "InvalidInvocation", "imageKey"),
        ({"imageKey": "astronaut.jpg", "feature": "resize"}, 400, "UnknownFeature", "resize"),
        ({"imageKey": "astronaut.jpg"}, 400, "UnknownFeature", "smartCropping"),
        (
            {"imageKey": "astronaut.jpg", "feature": "smartCropping"},
            400,
            "InvalidInvocation",
            "width or a height",
        ),
        (
            {"imageKey": "a.jpg", "feature": "smartCropping", "width": "300"},
            400,
            "InvalidInvocation",
            "width must be a whole number",
        ),
        (
            {"imageKey": "a.jpg", "feature": "smartCropping", "width": 99999},
            400,
            "InvalidInvocation",
            "MAX_OUTPUT_SIDE",
        ),
        (
            {"imageKey": "a.jpg", "feature": "contentModeration", "minConfidence": 120},
            400,
            "InvalidInvocation",
            "0 to 100",
        ),
        (
            {"imageKey": "a.jpg", "feature": "contentModeration", "moderationLabels": "Nudity"},
            400,
            "InvalidInvocation",
            "list of label names",
        ),
        (
            {"imageKey": "missing.jpg", "feature": "contentModeration"},
            404,
            "NoSuchKey",
            "missing.jpg",
        ),
    ],
)
def test_bad_events_name_the_problem(root, tmp_path, event, status, code, words):
    answer = invoke(make_app(root, tmp_path, [Faces([])], Labels()), event)
    assert (answer["status"], answer["code"]) == (status, code)
    assert words in answer["message"]
