"""Direct invocations of the function (as AWS's Serverless Image Handler documents them):

    {"imageKey": "photos/a.jpg", "feature": "smartCropping", "width": 300, "height": 300}
    {"imageKey": "photos/a.jpg", "feature": "contentModeration", "minConfidence": 80}

Each feature is the Thumbor URL that does the same work (`300x300/smart/photos/a.jpg`,
`filters:moderate(80)/photos/a.jpg`), run through the App's pipeline and stored under that
URL's result key, so the processed image is also what the URL serves afterwards. The answer
is JSON: what was found, what was done, and where the image was stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import codecs, pipeline
from .app import App
from .errors import ImageServiceError, InvalidUrl
from .stores import FolderResultStore
from .url import parse_path


class InvalidInvocation(InvalidUrl):
    """(Lambda) a direct invocation with a missing or bad field, named in the message."""

    code = "InvalidInvocation"


class UnknownFeature(InvalidUrl):
    """(Lambda) a direct invocation of a feature we do not have."""

    code = "UnknownFeature"


Feature = Callable[[App, Mapping[str, Any]], dict[str, Any]]


def invoke(app: App, event: Mapping[str, Any]) -> dict[str, Any]:
    """The feature's JSON answer, or the error's (`status`, `code`, `message`)."""
    try:
        feature = FEATURES.get(str(event.get("feature")))
        if feature is None:
            known = ", ".join(FEATURES)
            raise UnknownFeature(
                f"unknown feature {event.get('feature')!r}; the features are: {known}"
            )
        return {"status": 200, **feature(app, event)}
    except ImageServiceError as error:
        return error.as_dict()


def smart_cropping(app: App, event: Mapping[str, Any]) -> dict[str, Any]:
    key = _image_key(event)
    width, height = _side(event, "width"), _side(event, "height")
    if not width and not height:
        raise InvalidInvocation("smartCropping needs a width or a height above 0")
    limit = app.settings.MAX_OUTPUT_SIDE
    if max(width, height) > limit:
        raise InvalidInvocation(f"width and height must be at most {limit} (MAX_OUTPUT_SIDE)")
    filters = ""
    if "faceIndex" in event or "padding" in event:
        index, padding = _whole(event, "faceIndex", 0), _whole(event, "padding", 0)
        filters = f"filters:smart_crop({index},{padding})/"
    job, answer = _process(app, f"{width}x{height}/smart/{filters}{key}")
    detection = job.detection
    crop = job.require_geometry().crop_box
    answer.update(
        detector=detection.detector if detection else None,
        faces=[region.as_dict() for region in detection.faces] if detection else [],
        focalPoints=[point.as_dict() for point in job.require_geometry().focal_points],
        cropBox={"left": crop.left, "top": crop.top, "right": crop.right, "bottom": crop.bottom},
    )
    return answer


def content_moderation(app: App, event: Mapping[str, Any]) -> dict[str, Any]:
    key = _image_key(event)
    arguments = []
    confidence = event.get("minConfidence")
    if confidence is not None:
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            raise InvalidInvocation("minConfidence must be a number from 0 to 100")
        if not 0 <= confidence <= 100:
            raise InvalidInvocation(f"minConfidence must be from 0 to 100, got {confidence}")
        arguments.append(f"{float(confidence):g}")
    labels = event.get("moderationLabels") or []
    if not isinstance(labels, list) or not all(
        isinstance(label, str) and label.strip() and not set("|(),/") & set(label)
        for label in labels
    ):
        raise InvalidInvocation("moderationLabels must be a list of label names")
    if labels:
        arguments = [arguments[0] if arguments else "", "|".join(labels)]
    job, answer = _process(app, f"filters:moderate({','.join(arguments)})/{key}")
    assert job.verdict is not None  # moderate() makes the moderate step give one
    answer.update(job.verdict.as_dict())
    return answer


FEATURES: dict[str, Feature] = {
    "smartCropping": smart_cropping,
    "contentModeration": content_moderation,
}


def _process(app: App, path: str) -> tuple[pipeline.Job, dict[str, Any]]:
    """Run `path` as the App would for a client that sends no Accept header, store the result
    under that URL's key, and describe it."""
    plan = parse_path(path, strict=True)
    accepted = codecs.accept_class("", app.settings.auto_formats, plan.output.format)
    body, content_type, vary, job = app.render(plan, accepted)
    result_key = app.result_key(plan, accepted)
    stored = job.cacheable
    if stored:
        app.results.put(result_key, body, content_type, vary)
    width, height = job.frames[0].size
    return job, {
        "imageKey": plan.image,
        "url": f"/unsafe/{plan.path}",
        "width": width,
        "height": height,
        "contentType": content_type,
        "bytes": len(body),
        "resultKey": _location(app, result_key) if stored else None,
    }


def _location(app: App, key: str) -> str | None:
    """Where the store keeps `key`: an s3:// URL, a file, or None when nothing is stored."""
    store = app.results
    bucket = getattr(store, "bucket", None)
    if bucket:
        return f"s3://{bucket}/{getattr(store, 'prefix', '')}{key}"
    if isinstance(store, FolderResultStore):
        return str(store.root / key[:2] / key)
    return None


def _image_key(event: Mapping[str, Any]) -> str:
    key = event.get("imageKey")
    if not isinstance(key, str) or not key.strip("/"):
        raise InvalidInvocation("the event names no image: imageKey is missing or empty")
    return key.lstrip("/")


def _side(event: Mapping[str, Any], name: str) -> int:
    return _whole(event, name, 0, low=0)


def _whole(event: Mapping[str, Any], name: str, default: int, low: int | None = None) -> int:
    value = event.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInvocation(f"{name} must be a whole number, got {value!r}")
    if low is not None and value < low:
        raise InvalidInvocation(f"{name} must be {low} or more, got {value}")
    return value
