"""Content moderation: Rekognition DetectModerationLabels through botocore's Stubber, the
policy (confidence, labels, blur), the verdict cached per original, and failing closed."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import ConnectTimeoutError  # type: ignore[import-untyped]
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]
from PIL import Image, ImageFilter, ImageStat

from tests.images import decode, gradient
from thumbor_urls.app import App
from thumbor_urls.aws.rekognition import RekognitionModeration
from thumbor_urls.config import SettingError, Settings
from thumbor_urls.messages import Request
from thumbor_urls.moderation import (
    Label,
    ModerationError,
    ModerationService,
    NoModeration,
    Policy,
    Verdict,
    blur,
)

NUDITY = {
    "ModerationLabels": [
        {"Name": "Explicit Nudity", "ParentName": "", "Confidence": 97.5},
        {"Name": "Graphic Male Nudity", "ParentName": "Explicit Nudity", "Confidence": 91.0},
        {"Name": "Suggestive", "ParentName": "", "Confidence": 60.0},
    ]
}
CLEAN: dict[str, Any] = {"ModerationLabels": []}


@pytest.fixture
def rekognition():
    client = boto3.client(
        "rekognition",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect(stubber, answer, floor=50.0):
    stubber.add_response(
        "detect_moderation_labels", answer, {"Image": {"Bytes": ANY}, "MinConfidence": floor}
    )


def make_app(root, tmp_path, backend, **overrides):
    settings = Settings(
        FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / "results"
    ).replace(**overrides)
    app = App(settings)
    app.moderator = ModerationService.from_settings(
        settings, app.results, repr(app.source), backend
    )
    return app


def get(app, path):
    return app.handle(Request("GET", path, {}))


def sharpness(data: bytes) -> float:
    """Mean edge strength: a blurred image has little."""
    image = decode(data).convert("L")
    return float(ImageStat.Stat(image.filter(ImageFilter.FIND_EDGES)).mean[0])


PLAIN = App(Settings(RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None, MODERATION_BACKEND="none"))


def blurred(app, path) -> bool:
    """The image `app` serves is much less sharp than the same one served unmoderated."""
    response = get(app, path)
    assert response.status == 200, response.body
    reference = get(PLAIN, re.sub(r"filters:moderate\([^)]*\)/", "", path))
    return sharpness(response.body) < sharpness(reference.body) / 3


# --- the policy ---------------------------------------------------------------------------------


def test_policy_confidence_and_labels():
    nudity = Label("Graphic Male Nudity", "Explicit Nudity", 91.0)
    assert Policy(75).acts_on(nudity)
    assert not Policy(95).acts_on(nudity)
    assert Policy(75, ("explicit nudity",)).acts_on(nudity)  # the parent counts, any case
    assert not Policy(75, ("Violence",)).acts_on(nudity)
    verdict = Verdict((nudity, Label("Suggestive", "", 60.0)), Policy(75), "test")
    assert verdict.flagged == (nudity,) and verdict.blurred
    assert verdict.as_dict()["flagged"] == [nudity.as_dict()]


def test_settings():
    settings = Settings.from_env(
        {
            "MODERATION": "on",
            "MODERATION_MIN_CONFIDENCE": "80",
            "MODERATION_LABELS": "Explicit Nudity, Violence",
            "MODERATION_BLUR": "8",
            "MODERATION_BACKEND": "none",
        }
    )
    assert settings.MODERATION and settings.MODERATION_MIN_CONFIDENCE == 80.0
    assert settings.MODERATION_LABELS == ("Explicit Nudity", "Violence")
    assert settings.MODERATION_BLUR == 8.0 and settings.MODERATION_BACKEND == "none"
    assert not settings.MODERATION_FAIL_OPEN  # fail closed unless told otherwise
    with pytest.raises(SettingError, match="MODERATION_BACKEND must be one of"):
        Settings.from_env({"MODERATION_BACKEND": "guess"})
    assert Settings().output_fingerprint() != Settings(MODERATION=True).output_fingerprint()


def test_blur_scales_with_the_image():
    image = Image.effect_noise((200, 100), 100).convert("RGB")
    blurred = blur(image, 5)
    assert blurred.size == image.size
    assert ImageStat.Stat(blurred).stddev[0] < ImageStat.Stat(image).stddev[0] / 4


# --- Rekognition ------------------------------------------------------------------------------


def test_rekognition_labels(rekognition):
    client, stubber = rekognition
    expect(stubber, NUDITY, floor=50.0)
    labels = RekognitionModeration(client).labels(gradient((300, 200)), 50.0)
    assert labels[1] == Label("Graphic Male Nudity", "Explicit Nudity", 91.0)


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError", "AccessDenied"])
def test_rekognition_failures_are_moderation_errors(rekognition, code):
    client, stubber = rekognition
    stubber.add_client_error("detect_moderation_labels", code, http_status_code=500)
    with pytest.raises(ModerationError, match=code):
        RekognitionModeration(client).labels(gradient((300, 200)), 50.0)


# --- end to end ---------------------------------------------------------------------------------


def test_flagged_images_are_blurred_when_moderation_is_on(root, tmp_path, rekognition):
    client, stubber = rekognition
    expect(stubber, NUDITY)
    app = make_app(root, tmp_path, RekognitionModeration(client), MODERATION=True)
    assert blurred(app, "/unsafe/200x200/astronaut.jpg")
    assert decode(get(app, "/unsafe/200x200/astronaut.jpg").body).size == (200, 200)
    # Another size of the same original: the verdict comes from the store, no second call.
    assert blurred(app, "/unsafe/120x80/astronaut.jpg")


def test_clean_images_are_served_as_they_are(root, tmp_path, rekognition):
    client, stubber = rekognition
    expect(stubber, CLEAN)
    app = make_app(root, tmp_path, RekognitionModeration(client), MODERATION=True)
    assert not blurred(app, "/unsafe/200x200/astronaut.jpg")


def test_the_policy_applies_to_the_cached_labels(root, tmp_path, rekognition):
    client, stubber = rekognition
    expect(stubber, NUDITY)
    backend = RekognitionModeration(client)
    lenient = make_app(root, tmp_path, backend, MODERATION=True, MODERATION_MIN_CONFIDENCE=98.0)
    assert not blurred(lenient, "/unsafe/100x100/astronaut.jpg")
    # Same store, stricter policy: answered from the cached labels (no call is left).
    strict = make_app(root, tmp_path, backend, MODERATION=True, MODERATION_MIN_CONFIDENCE=90.0)
    assert blurred(strict, "/unsafe/100x100/astronaut.jpg")
    violence = make_app(root, tmp_path, backend, MODERATION=True, MODERATION_LABELS=("Violence",))
    assert not blurred(violence, "/unsafe/90x90/astronaut.jpg")


def test_moderate_filter_asks_per_request(root, tmp_path, rekognition):
    client, stubber = rekognition
    app = make_app(root, tmp_path, RekognitionModeration(client))
    # Moderation is off: no call at all without moderate().
    assert get(app, "/unsafe/100x100/astronaut.jpg").status == 200
    expect(stubber, NUDITY)
    assert blurred(app, "/unsafe/100x100/filters:moderate()/astronaut.jpg")
    # A higher threshold, or other labels, per request: answered from the cache.
    assert not blurred(app, "/unsafe/100x100/filters:moderate(99)/astronaut.jpg")
    path = "/unsafe/100x100/filters:moderate(80,Violence|Drugs)/astronaut.jpg"
    assert not blurred(app, path)
    path = "/unsafe/100x100/filters:moderate(80,Explicit Nudity)/astronaut.jpg"
    assert blurred(app, path)


def test_a_threshold_below_the_cached_floor_asks_again(root, tmp_path, rekognition):
    client, stubber = rekognition
    app = make_app(root, tmp_path, RekognitionModeration(client))
    expect(stubber, CLEAN, floor=50.0)
    get(app, "/unsafe/100x100/filters:moderate()/astronaut.jpg")
    expect(stubber, NUDITY, floor=20.0)
    assert blurred(app, "/unsafe/100x100/filters:moderate(20)/astronaut.jpg")


def test_moderation_fails_closed_with_a_503(root, tmp_path, rekognition):
    client, stubber = rekognition
    stubber.add_client_error(
        "detect_moderation_labels", "ThrottlingException", http_status_code=400
    )
    app = make_app(root, tmp_path, RekognitionModeration(client), MODERATION=True)
    response = get(app, "/unsafe/100x100/astronaut.jpg")
    assert response.status == 503
    assert response.headers["Content-Type"] == "application/json"
    assert "no-store" in response.headers["Cache-Control"] or "max-age=0" in str(response.headers)
    body = json.loads(response.body)
    assert body["code"] == "ModerationUnavailable"
    assert "ThrottlingException" in body["message"] and "not served unmoderated" in body["message"]


def test_a_timeout_fails_closed_too(root, tmp_path):
    class Slow:
        def detect_moderation_labels(self, **params: Any) -> dict[str, Any]:
            raise ConnectTimeoutError(endpoint_url="https://rekognition.us-east-1.amazonaws.com")

    app = make_app(root, tmp_path, RekognitionModeration(Slow()), MODERATION=True)
    assert get(app, "/unsafe/100x100/astronaut.jpg").status == 503


def test_no_backend_means_no_unmoderated_image(root, tmp_path):
    app = make_app(root, tmp_path, NoModeration())
    response = get(app, "/unsafe/100x100/filters:moderate()/astronaut.jpg")
    assert response.status == 503
    assert "MODERATION_BACKEND=none" in json.loads(response.body)["message"]


def test_fail_open_serves_unmoderated_but_stores_nothing(root, tmp_path, rekognition):
    client, stubber = rekognition
    for _ in range(2):
        stubber.add_client_error("detect_moderation_labels", "ThrottlingException")
    app = make_app(
        root, tmp_path, RekognitionModeration(client), MODERATION=True, MODERATION_FAIL_OPEN=True
    )
    for _ in range(2):  # not cached: the second request asks again
        assert get(app, "/unsafe/100x100/astronaut.jpg").status == 200
    assert not list((tmp_path / "results").glob("*/*.json"))


def test_the_real_backend_is_chosen_by_the_setting(tmp_path):
    app = App(Settings(FILE_LOADER_ROOT_PATH=tmp_path))
    assert app.moderator.backend.name == "rekognition"
    app = App(Settings(FILE_LOADER_ROOT_PATH=tmp_path, MODERATION_BACKEND="none"))
    assert isinstance(app.moderator.backend, NoModeration)
