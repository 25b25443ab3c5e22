"""What `smart/` and `smart_crop()` need from a request's pixels: the detector chain's answer
about the original, cached per original in the result store, and the plan it changes.

The App holds one; the pipeline's detect step asks it, and it never touches the Job's frames
itself, only the small upright copy the step makes for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PIL import Image

from ..config import Settings
from ..errors import NotImplementedFeature
from ..filters.smart import face_box
from ..stores import ResultStore
from . import Detection, Detector, Region, build_detectors, run_chain

if TYPE_CHECKING:
    from ..plan import Plan

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when the meaning of cached regions changes


class DetectionService:
    def __init__(
        self, detectors: Sequence[Detector], store: ResultStore, identity: str, max_side: int = 600
    ) -> None:
        self.detectors = tuple(detectors)
        self.store = store
        self.identity = identity  # the source's repr: two sources never share an answer
        self.max_side = max_side  # DETECTION_MAX_SIDE: the sample's longer side
        self.chain = ",".join(detector.name for detector in self.detectors)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: ResultStore,
        identity: str,
        detectors: Sequence[Detector] | None = None,
    ) -> DetectionService:
        chain = build_detectors(settings) if detectors is None else detectors
        return cls(chain, store, identity, settings.DETECTION_MAX_SIDE)

    def wants(self, plan: Plan) -> bool:
        return plan.smart_crop is not None or (plan.smart and bool(self.detectors))

    def decode_floor(self, plan: Plan, size: tuple[int, int]) -> int:
        """The longer side JPEG draft must keep: enough for the detectors' copy (so a cached
        answer never depends on which size was asked for first), and everything for
        smart_crop(), whose crop is known only after detection."""
        if plan.smart_crop is not None:
            return max(size)
        return self.max_side if self.wants(plan) else 0

    def cache_key(self, image_key: str, variant: str) -> str:
        text = (
            f"detect|v{CACHE_VERSION}|{self.identity}|{image_key}|{self.chain}|{variant}|"
            f"{self.max_side}"
        )
        return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()

    def detect(
        self,
        image_key: str,
        variant: str,
        modified: float | None,
        working_size: tuple[int, int],
        make_sample: Callable[[], Image.Image],
    ) -> Detection:
        """The chain's answer in working-image pixels, from the store when the same original
        (same trim, same orientation) was looked at before."""
        if not self.detectors:
            return Detection((), None)
        key = self.cache_key(image_key, variant)
        cached = _cached_detection(self.store.get_data(key), modified, working_size)
        if cached is not None:
            return cached
        image = make_sample()
        found = run_chain(self.detectors, image)
        sx, sy = working_size[0] / image.width, working_size[1] / image.height
        detection = found._replace(regions=tuple(r.scaled(sx, sy) for r in found.regions))
        # A failed detector may work next time: its fall-back answer is not kept.
        if not detection.failed:
            self.store.put_data(key, _detection_data(detection, modified, working_size))
        return detection

    def apply(self, plan: Plan, detection: Detection, working_size: tuple[int, int]) -> Plan:
        """The plan with the detected focal points (smart/) or the face crop (smart_crop())."""
        if plan.smart_crop is not None:
            if not self.detectors:
                raise NotImplementedFeature(
                    "smart_crop() needs a face detector; DETECTORS names none on this server"
                )
            crop = plan.smart_crop
            box = face_box(detection.faces, working_size, crop.face_index, crop.padding)
            return plan.with_geometry(crop=box)
        if plan.smart and detection.regions:
            points = tuple(region.focal_point() for region in detection.regions)
            return plan._replace(focal_points=(*plan.focal_points, *points))
        return plan


def _detection_data(
    detection: Detection, modified: float | None, size: tuple[int, int]
) -> dict[str, Any]:
    return {
        "modified": modified,
        "size": list(size),
        "detector": detection.detector,
        "regions": [region.as_dict() for region in detection.regions],
    }


def _cached_detection(
    value: dict[str, Any] | None, modified: float | None, size: tuple[int, int]
) -> Detection | None:
    """A stored answer, if it is about this version of the original at this size."""
    if value is None or value.get("modified") != modified or value.get("size") != list(size):
        return None
    try:
        regions = tuple(Region.from_dict(item) for item in value.get("regions", []))
    except (KeyError, TypeError, ValueError):
        log.warning("ignoring damaged detector data")
        return None
    return Detection(regions, value.get("detector"))
