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
from . import FACE, Detection, Detector, Region, build_detectors, run_chain

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
        self.chain = _names(self.detectors)
        # smart_crop() asks only the detectors that find faces (the chain's first answer
        # could otherwise be a detail, and no face).
        self.face_detectors = tuple(d for d in self.detectors if d.finds == FACE)

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

    def chain_for(self, plan: Plan) -> tuple[Detector, ...]:
        """The detectors `plan` asks: the face detectors for smart_crop(), else all."""
        return self.face_detectors if plan.smart_crop is not None else self.detectors

    def looks_at_whole(self, plan: Plan) -> bool:
        """Whether a detector that sees every pixel of the working image may run."""
        return self.wants(plan) and any(d.whole for d in self.chain_for(plan))

    def decode_floor(self, plan: Plan, size: tuple[int, int], answered: bool = False) -> int:
        """The longer side JPEG draft must keep: enough for the detectors' copy (so a cached
        answer never depends on which size was asked for first), and everything for
        smart_crop(), whose crop is known only after detection, and for a detector that
        looks at the whole image, unless its answer is known already (`answered`)."""
        if plan.smart_crop is not None or (self.looks_at_whole(plan) and not answered):
            return max(size)
        return self.max_side if self.wants(plan) else 0

    def cache_key(self, image_key: str, variant: str, chain: str | None = None) -> str:
        text = (
            f"detect|v{CACHE_VERSION}|{self.identity}|{image_key}|{chain or self.chain}|"
            f"{variant}|{self.max_side}"
        )
        return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()

    def cached(
        self,
        plan: Plan,
        image_key: str,
        variant: str,
        modified: float | None,
        working_size: tuple[int, int],
    ) -> Detection | None:
        """The stored answer about this original (same trim, same orientation), if any."""
        chain = self.chain_for(plan)
        if not chain:
            return None
        key = self.cache_key(image_key, variant, _names(chain))
        return _cached_detection(self.store.get_data(key), modified, working_size)

    def detect(
        self,
        plan: Plan,
        image_key: str,
        variant: str,
        modified: float | None,
        working_size: tuple[int, int],
        make_sample: Callable[[], Image.Image],
        make_whole: Callable[[], Image.Image] | None = None,
    ) -> Detection:
        """The answer of the chain `plan` asks (`chain_for`) in working-image pixels, from the
        store when the same original was looked at before. `make_whole`: the whole working
        image, upright, for the detectors that look at every pixel."""
        chain = self.chain_for(plan)
        if not chain:
            return Detection((), None)
        cached = self.cached(plan, image_key, variant, modified, working_size)
        if cached is not None:
            return cached
        found = run_chain(chain, make_sample, make_whole)
        seen = found.seen or working_size
        sx, sy = working_size[0] / seen[0], working_size[1] / seen[1]
        # A detector that saw the whole image answered in working-image pixels: sx = sy = 1.
        detection = found._replace(regions=tuple(r.scaled(sx, sy) for r in found.regions))
        # A failed detector may work next time: its fall-back answer is not kept.
        if not detection.failed:
            key = self.cache_key(image_key, variant, _names(chain))
            self.store.put_data(key, _detection_data(detection, modified, working_size))
        return detection

    def apply(self, plan: Plan, detection: Detection, working_size: tuple[int, int]) -> Plan:
        """The plan with the detected focal points (smart/) or the face crop (smart_crop())."""
        if plan.smart_crop is not None:
            if not self.face_detectors:
                raise NotImplementedFeature(
                    "smart_crop() needs a face detector (opencv or rekognition); the "
                    f"detectors on this server are: {self.chain or 'none'} (DETECTORS)"
                )
            crop = plan.smart_crop
            box = face_box(detection.faces, working_size, crop.face_index, crop.padding)
            return plan.with_geometry(crop=box)
        if plan.smart and detection.regions:
            points = tuple(region.focal_point() for region in detection.regions)
            return plan._replace(focal_points=(*plan.focal_points, *points))
        return plan


def _names(chain: Sequence[Detector]) -> str:
    return ",".join(detector.name for detector in chain)


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
