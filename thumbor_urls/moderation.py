"""Content moderation: flagged images are blurred before they are served.

The verdict comes from a pluggable backend (Amazon Rekognition DetectModerationLabels is the
real one), looks at the same small copy the detectors see, and is cached per original in the
result store, so each original is sent to the backend once. The policy (minimum confidence,
the labels to act on, the blur strength) is applied to the cached labels on every request, so
changing it costs no new call.

When moderation is mandatory (`MODERATION=on`, or `moderate()` asked for it) and the backend
fails or times out, the image is not served unmoderated: 503 `ModerationUnavailable`, unless
`MODERATION_FAIL_OPEN` says otherwise (and then the answer is not cached).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from PIL import Image, ImageFilter

from .config import Settings
from .errors import ServiceUnavailable
from .stores import ResultStore

log = logging.getLogger(__name__)

# Labels are asked for down to this confidence (Rekognition's own default) and cached, so any
# stricter policy is answered from the cache.
QUERY_FLOOR = 50.0


class ModerationUnavailable(ServiceUnavailable):
    code = "ModerationUnavailable"


class ModerationError(Exception):
    """The backend could not give a verdict (down, throttled, timed out, not configured)."""


class Label(NamedTuple):
    name: str
    parent: str
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "parent": self.parent, "confidence": self.confidence}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Label:
        return cls(str(value["name"]), str(value.get("parent", "")), float(value["confidence"]))


class Policy(NamedTuple):
    min_confidence: float = 75.0
    labels: tuple[str, ...] = ()  # empty: every label counts
    blur: float = 5.0  # radius in % of the output's longer side

    def acts_on(self, label: Label) -> bool:
        if label.confidence < self.min_confidence:
            return False
        if not self.labels:
            return True
        wanted = {name.lower() for name in self.labels}
        return label.name.lower() in wanted or label.parent.lower() in wanted


class Verdict(NamedTuple):
    labels: tuple[Label, ...]
    policy: Policy
    backend: str
    error: str | None = None  # set when the backend failed and the policy is fail-open

    @property
    def flagged(self) -> tuple[Label, ...]:
        return tuple(label for label in self.labels if self.policy.acts_on(label))

    @property
    def blurred(self) -> bool:
        return bool(self.flagged)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "minConfidence": self.policy.min_confidence,
            "labels": [label.as_dict() for label in self.labels],
            "flagged": [label.as_dict() for label in self.flagged],
            "blurred": self.blurred,
            "blurPercent": self.policy.blur if self.blurred else 0,
            "error": self.error,
        }


class ModerationBackend(Protocol):
    name: str

    def labels(self, image: Image.Image, min_confidence: float) -> list[Label]:
        """Moderation labels of `image` down to `min_confidence`, or ModerationError."""
        ...


class RekognitionModeration:
    """DetectModerationLabels on the small copy, sent as JPEG bytes."""

    name = "rekognition"

    def __init__(self, client: Any = None, timeout: float = 5.0) -> None:
        self._client = client
        self.timeout = timeout

    def labels(self, image: Image.Image, min_confidence: float) -> list[Label]:
        from .detectors import DetectorError  # noqa: PLC0415 - detectors import this module's peers
        from .detectors.rekognition import call, jpeg_bytes, rekognition_client  # noqa: PLC0415

        if self._client is None:
            self._client = rekognition_client(self.timeout)
        try:
            answer = call(
                self._client,
                "detect_moderation_labels",
                Image={"Bytes": jpeg_bytes(image)},
                MinConfidence=min_confidence,
            )
        except DetectorError as error:
            raise ModerationError(str(error)) from error
        return [
            Label(
                str(item.get("Name", "")),
                str(item.get("ParentName", "")),
                float(item.get("Confidence", 0.0)),
            )
            for item in answer.get("ModerationLabels", [])
        ]


class NoModeration:
    name = "none"

    def labels(self, image: Image.Image, min_confidence: float) -> list[Label]:
        raise ModerationError("no moderation backend is configured (MODERATION_BACKEND=none)")


def create_backend(settings: Settings) -> ModerationBackend:
    if settings.MODERATION_BACKEND == "rekognition":
        return RekognitionModeration(timeout=settings.REKOGNITION_TIMEOUT_SECONDS)
    return NoModeration()


class Moderator:
    """Verdicts, cached per original in the result store."""

    def __init__(
        self,
        backend: ModerationBackend,
        store: ResultStore,
        identity: str,
        fail_open: bool = False,
    ) -> None:
        self.backend = backend
        self.store = store
        self.identity = identity  # the source's repr: two sources never share a verdict
        self.fail_open = fail_open

    def cache_key(self, image_key: str) -> str:
        text = f"moderation|{self.identity}|{image_key}|{self.backend.name}"
        return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()

    def verdict(
        self,
        image_key: str,
        modified: float | None,
        policy: Policy,
        make_sample: Callable[[], Image.Image],
    ) -> Verdict:
        key = self.cache_key(image_key)
        cached = self.store.get_data(key)
        if (
            cached is not None
            and cached.get("modified") == modified
            and float(cached.get("floor", 100.0)) <= policy.min_confidence
        ):
            labels = tuple(Label.from_dict(item) for item in cached.get("labels", []))
            return Verdict(labels, policy, self.backend.name)
        floor = min(QUERY_FLOOR, policy.min_confidence)
        try:
            labels = tuple(self.backend.labels(make_sample(), floor))
        except ModerationError as error:
            log.warning("moderation of %s failed: %s", image_key, error)
            if not self.fail_open:
                raise ModerationUnavailable(
                    f"the image could not be moderated ({error}); it is not served unmoderated"
                ) from None
            return Verdict((), policy, self.backend.name, error=str(error))
        value = {"modified": modified, "floor": floor, "labels": [lb.as_dict() for lb in labels]}
        self.store.put_data(key, value)
        return Verdict(labels, policy, self.backend.name)


def blur(frame: Image.Image, percent: float) -> Image.Image:
    """A Gaussian blur whose radius is `percent` of the frame's longer side, so a flagged image
    is as unrecognisable as a thumbnail as it is at full size."""
    radius = max(max(frame.size) * percent / 100, 1.0)
    return frame.filter(ImageFilter.GaussianBlur(radius))
