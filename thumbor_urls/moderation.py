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
import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from PIL import Image, ImageFilter

from .config import Settings
from .errors import ServiceUnavailable
from .stores import ResultStore

if TYPE_CHECKING:
    from .plan import Plan

log = logging.getLogger(__name__)

# Labels are asked for down to this confidence (Rekognition's own default) and cached, so any
# stricter policy is answered from the cache.
QUERY_FLOOR = 50.0


class ModerationUnavailable(ServiceUnavailable):
    """Moderation was required and its backend failed or timed out (moderation fails closed
    unless `MODERATION_FAIL_OPEN`); with `Retry-After`."""

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


class NoModeration:
    name = "none"

    def labels(self, image: Image.Image, min_confidence: float) -> list[Label]:
        raise ModerationError("no moderation backend is configured (MODERATION_BACKEND=none)")


class _DeferredRekognition:
    """Rekognition, imported (with boto3) when first asked: a local install that never
    moderates never needs boto3."""

    name = "rekognition"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._backend: ModerationBackend | None = None

    def labels(self, image: Image.Image, min_confidence: float) -> list[Label]:
        if self._backend is None:
            rekognition = importlib.import_module("thumbor_urls.aws.rekognition")
            self._backend = rekognition.RekognitionModeration(timeout=self.timeout)
        return self._backend.labels(image, min_confidence)


def create_backend(name: str, timeout: float) -> ModerationBackend:
    """The backend MODERATION_BACKEND names."""
    return _DeferredRekognition(timeout) if name == "rekognition" else NoModeration()


class ModerationService:
    """Verdicts on the originals a request asks (or the settings require) to moderate, cached
    per original in the result store, so that each original is sent to the backend once; the
    policy is applied to the cached labels on every request."""

    def __init__(
        self,
        backend: ModerationBackend,
        store: ResultStore,
        identity: str,
        *,
        always: bool = False,
        defaults: Policy | None = None,
        fail_open: bool = False,
        max_side: int = 600,
    ) -> None:
        self.backend = backend
        self.store = store
        self.identity = identity  # the source's repr: two sources never share a verdict
        self.always = always  # MODERATION: every image, not only moderate() requests
        self.defaults = defaults or Policy()
        self.fail_open = fail_open
        self.max_side = max_side  # DETECTION_MAX_SIDE: the sample's longer side

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: ResultStore,
        identity: str,
        backend: ModerationBackend | None = None,
    ) -> ModerationService:
        if backend is None:
            backend = create_backend(
                settings.MODERATION_BACKEND, settings.REKOGNITION_TIMEOUT_SECONDS
            )
        defaults = Policy(
            settings.MODERATION_MIN_CONFIDENCE, settings.MODERATION_LABELS, settings.MODERATION_BLUR
        )
        return cls(
            backend,
            store,
            identity,
            always=settings.MODERATION,
            defaults=defaults,
            fail_open=settings.MODERATION_FAIL_OPEN,
            max_side=settings.DETECTION_MAX_SIDE,
        )

    def wants(self, plan: Plan) -> bool:
        return self.always or plan.moderation is not None

    def decode_floor(self, plan: Plan) -> int:
        """The longer side JPEG draft must keep: the sample's, so that a cached verdict never
        depends on which size was asked for first."""
        return self.max_side if self.wants(plan) else 0

    def policy(self, plan: Plan) -> Policy:
        asked = plan.moderation
        if asked is None:
            return self.defaults
        min_confidence = self.defaults.min_confidence
        if asked.min_confidence is not None:
            min_confidence = asked.min_confidence
        return self.defaults._replace(
            min_confidence=min_confidence, labels=asked.labels or self.defaults.labels
        )

    def cache_key(self, image_key: str) -> str:
        text = f"moderation|{self.identity}|{image_key}|{self.backend.name}"
        return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()

    def verdict(
        self, plan: Plan, modified: float | None, make_sample: Callable[[], Image.Image]
    ) -> Verdict:
        """The verdict on `plan`'s original (`modified`: its version, for the cache)."""
        image_key, policy = plan.image, self.policy(plan)
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
