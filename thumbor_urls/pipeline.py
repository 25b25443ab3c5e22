"""The processing pipeline: a list of small steps over one Job.

Geometry is planned from the header before any pixel is decoded, so the JPEG decoder can
shrink by DCT scaling even when the request crops; orientation is applied after resizing,
on the small image.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from PIL import Image

from . import moderation, transform
from .config import Settings
from .decode import Header, count_frames, decode_frames, draft, open_image
from .detectors import Detection, sample
from .errors import ImageTooLarge, NoSuchKey
from .filters import FilterContext
from .geometry import (
    Box,
    Geometry,
    displayed_to_stored_box,
    draft_request,
    oriented_size,
    plan_geometry,
)
from .plan import Plan

if TYPE_CHECKING:
    from .detectors.inspector import Inspector


class Job:
    """One request on its way through the pipeline: what each step reads and leaves behind.
    (A plain class: importing dataclasses costs 7 ms of every cold start.)"""

    image: Image.Image | None = None
    header: Header | None = None
    # Orientation still to apply to `frames` (1 once applied).
    orientation: int = 1
    # The displayed size of the image the geometry works on (after orientation and trim).
    working_size: tuple[int, int] = (0, 0)
    # The displayed size before trim: what no_upscale() compares with, as in Thumbor.
    loaded_size: tuple[int, int] = (0, 0)
    trim: Box | None = None
    geometry: Geometry | None = None
    sample: Image.Image | None = None  # the small upright copy the detectors look at
    detection: Detection | None = None
    verdict: moderation.Verdict | None = None
    # False when an answer may be incomplete (a detector or the moderation backend failed):
    # the result is served but not stored, so the next request tries again.
    cacheable: bool = True

    def __init__(
        self,
        plan: Plan,
        settings: Settings,
        data: bytes,
        *,
        loader: Callable[[str], bytes] | None = None,
        inspector: Inspector | None = None,
        source_modified: float | None = None,
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.data = data
        # Reads other images (watermarks, frames) through the source of the originals.
        self.loader = loader
        # smart/, smart_crop() and moderation: who answers, and what they answered.
        self.inspector = inspector
        self.source_modified = source_modified  # the original's version, checked by cached answers
        self.frames: list[Image.Image] = []
        self.durations: list[int] = []
        self.assets: dict[str, Image.Image] = {}

    def require_header(self) -> Header:
        assert self.header is not None, "read_header runs first"
        return self.header

    def require_geometry(self) -> Geometry:
        assert self.geometry is not None, "plan_geometry runs first"
        return self.geometry

    def load_asset(self, key: str) -> Image.Image:
        """Another image for a filter, decoded once per request and held to the same limits
        as originals."""
        if key not in self.assets:
            if self.loader is None:
                raise NoSuchKey(f"no image at {key!r}")
            image, header = open_image(self.loader(key))
            _check_pixels(header.size, self.settings.MAX_SOURCE_PIXELS)
            frames, _ = decode_frames(image, 1)
            self.assets[key] = frames[0].convert("RGBA")
        return self.assets[key]


Step = Callable[[Job], None]


def read_header(job: Job) -> None:
    job.image, header = open_image(job.data)
    frames = count_frames(job.image, job.settings.MAX_ANIMATION_FRAMES)
    job.header = header._replace(frames=frames)
    job.orientation = header.orientation if job.settings.RESPECT_ORIENTATION else 1
    job.working_size = job.loaded_size = oriented_size(header.size, job.orientation)


def check_limits(job: Job) -> None:
    _check_pixels(job.require_header().size, job.settings.MAX_SOURCE_PIXELS)


def _check_pixels(size: tuple[int, int], limit: int) -> None:
    if size[0] * size[1] > limit:
        raise ImageTooLarge(
            f"the image has {size[0]}x{size[1]} pixels, over the limit of {limit} "
            "(MAX_SOURCE_PIXELS)"
        )


def plan_from_header(job: Job) -> None:
    if job.plan.trim is None:
        _plan(job)


def decode(job: Job) -> None:
    assert job.image is not None
    header = job.require_header()
    if job.geometry is not None and not header.animated:
        wanted = header.size
        box, out = _stored_box_and_size(job)
        if out[0] < box[2] - box[0] and out[1] < box[3] - box[1]:
            wanted = draft_request(header.size, box, out, job.settings.JPEG_DRAFT_MIN_RATIO)
            if job.inspector is not None:
                wanted = _at_least(wanted, job.inspector.decode_floor(job.plan, header.size))
        job.image = draft(job.image, job.data, wanted, "L" if _grey_is_enough(job) else None)
    # cover() keeps the first frame only, so the others are never decoded.
    max_frames = 1 if job.plan.output.cover else job.settings.MAX_ANIMATION_FRAMES
    job.frames, job.durations = decode_frames(job.image, max_frames)


# Filters that commute with grayscale(): they move pixels without looking at their colour.
_COLOUR_BLIND = frozenset({"rotate", "proportion"})


def _grey_is_enough(job: Job) -> bool:
    """Whether grayscale() comes before anything that needs colour: then the JPEG decoder can
    skip the chroma planes altogether (its luma is the same ITU-R 601 grey)."""
    inspector = job.inspector
    if inspector is not None and (
        inspector.wants_points(job.plan) or inspector.wants_verdict(job.plan)
    ):
        return False
    for bound in job.plan.filters:
        if bound.name == "grayscale":
            return True
        if bound.name not in _COLOUR_BLIND:
            return False
    return False


def trim(job: Job) -> None:
    """Trim needs pixels, so it orients first and plans the geometry afterwards."""
    if job.plan.trim is None:
        return
    job.frames = [transform.orient(frame, job.orientation) for frame in job.frames]
    job.orientation = 1
    box = transform.trim_box(job.frames[0], job.plan.trim.corner, job.plan.trim.tolerance)
    if box is not None:
        job.trim = box
        job.frames = [frame.crop(box.as_tuple()) for frame in job.frames]
        job.working_size = (box.width, box.height)
        crop = job.plan.geometry.crop
        if crop is not None:
            # Thumbor takes crop coordinates in the original and moves them with the trim.
            job.plan = job.plan.with_geometry(crop=crop.shifted(-box.left, -box.top))
    _plan(job)


def detect(job: Job) -> None:
    """smart/ and smart_crop(): the DETECTORS chain looks at a small copy of the working image
    (its answer cached per original), then the geometry is planned again around what it found."""
    inspector = job.inspector
    if inspector is None or not inspector.wants_points(job.plan):
        return
    variant = f"{job.trim}|{job.settings.RESPECT_ORIENTATION}"
    job.detection = inspector.detect(
        job.plan.image, variant, job.source_modified, job.working_size, lambda: _sample(job)
    )
    job.cacheable = job.cacheable and not job.detection.failed
    job.plan = inspector.apply(job.plan, job.detection, job.working_size)
    _plan(job)


def moderate(job: Job) -> None:
    """The moderation verdict, on the whole working image before any crop (blurred later, on
    the small output)."""
    inspector = job.inspector
    if inspector is None or not inspector.wants_verdict(job.plan):
        return
    job.verdict = inspector.verdict(job.plan, job.source_modified, lambda: _sample(job))
    job.cacheable = job.cacheable and job.verdict.error is None


def resize(job: Job) -> None:
    box, out = _stored_box_and_size(job)
    scale_x = job.frames[0].width / _stored_working_size(job)[0]
    scale_y = job.frames[0].height / _stored_working_size(job)[1]
    scaled = (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)
    resample = transform.RESAMPLING[job.settings.PILLOW_RESAMPLING_FILTER]
    job.frames = [transform.crop_and_resize(f, scaled, out, resample) for f in job.frames]


def orient(job: Job) -> None:
    job.frames = [transform.orient(frame, job.orientation) for frame in job.frames]
    job.orientation = 1


def flip(job: Job) -> None:
    horizontal, vertical = job.require_geometry().flips
    job.frames = [transform.flip(frame, horizontal, vertical) for frame in job.frames]


def apply_filters(job: Job) -> None:
    canvas = job.require_geometry().canvas
    for bound in job.plan.filters:
        job.frames = [
            bound.spec.apply(frame, FilterContext(canvas, index, job.load_asset), *bound.args)
            for index, frame in enumerate(job.frames)
        ]


def blur_flagged(job: Job) -> None:
    if job.verdict is not None and job.verdict.blurred:
        strength = job.verdict.policy.blur
        job.frames = [moderation.blur(frame, strength) for frame in job.frames]


def draw_debug(job: Job) -> None:
    if not job.plan.debug:
        return
    geometry = job.require_geometry()
    job.frames = [
        transform.draw_focal_points(frame, geometry.focal_points, geometry.crop_box, geometry.flips)
        for frame in job.frames
    ]


PIPELINE: tuple[Step, ...] = (
    read_header,
    check_limits,
    plan_from_header,
    decode,
    trim,
    detect,
    moderate,
    resize,
    orient,
    flip,
    apply_filters,
    blur_flagged,
    draw_debug,
)

# What `meta/` needs: the geometry, and pixels only when trim must look at them.
META_PIPELINE: tuple[Step, ...] = (read_header, check_limits, plan_from_header)


def run(job: Job, steps: tuple[Step, ...] = PIPELINE) -> Job:
    for step in steps:
        step(job)
    return job


def run_meta(job: Job) -> Job:
    run(job, META_PIPELINE)
    # trim has to look at the pixels before the geometry is known, and so do the detectors.
    detecting = job.inspector is not None and job.inspector.wants_points(job.plan)
    if job.geometry is None or detecting:
        run(job, (decode, trim, detect))
    return job


def _plan(job: Job) -> None:
    job.geometry = plan_geometry(
        job.working_size,
        job.plan.geometry,
        job.plan.focal_points,
        loaded_size=job.loaded_size,
    )
    for size in (job.geometry.output_size, job.geometry.canvas):
        check_output_size(size, job.settings)


def check_output_size(size: tuple[int, int], settings: Settings) -> None:
    """ImageTooLarge when a result of `size` would pass MAX_OUTPUT_SIDE or MAX_OUTPUT_PIXELS."""
    width, height = size
    limit = settings.MAX_OUTPUT_SIDE
    if max(width, height) > limit:
        raise ImageTooLarge(
            f"the result would be {width}x{height}, over the limit of {limit} pixels per "
            "side (MAX_OUTPUT_SIDE)"
        )
    check_output_pixels(size, settings.MAX_OUTPUT_PIXELS)


def check_output_pixels(size: tuple[int, int], limit: int) -> None:
    if size[0] * size[1] > limit:
        raise ImageTooLarge(
            f"the result would be {size[0]}x{size[1]} = {size[0] * size[1]:,} pixels, over the "
            f"limit of {limit:,} (MAX_OUTPUT_PIXELS)"
        )


def _sample(job: Job) -> Image.Image:
    """The detectors' small upright copy of the working image, made once per request."""
    if job.sample is None:
        job.sample = sample(job.frames[0], job.orientation, job.settings.DETECTION_MAX_SIDE)
    return job.sample


def _at_least(wanted: tuple[int, int], longer_side: int) -> tuple[int, int]:
    """A draft request raised (proportionally) until its longer side reaches `longer_side`."""
    if longer_side <= max(wanted):
        return wanted
    scale = longer_side / max(*wanted, 1)
    return (math.ceil(wanted[0] * scale), math.ceil(wanted[1] * scale))


def _stored_working_size(job: Job) -> tuple[int, int]:
    """The working image's size in the orientation its pixels are stored in right now."""
    return oriented_size(job.working_size, job.orientation)


def _stored_box_and_size(
    job: Job,
) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
    """The crop box and output size in the coordinates of the pixels as stored (before the
    orientation still to apply), so resizing happens before rotating."""
    geometry = job.require_geometry()
    crop = geometry.crop_box
    box = displayed_to_stored_box(
        (crop.left, crop.top, crop.right, crop.bottom),
        job.orientation,
        _stored_working_size(job),
    )
    return box, oriented_size(geometry.output_size, job.orientation)
