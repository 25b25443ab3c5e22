"""The processing pipeline: a list of small steps over one Job.

Everything that can be known before decoding is: the file's structure (its canvas and frames),
the geometry, the overlays' headers and the size the JPEG decoder will produce, so that the
request's cost is checked against its budget before the first pixel exists (costs.py,
budget.py). Geometry is planned from the header, so the JPEG decoder can shrink by DCT scaling
even when the request crops; orientation is applied after resizing, on the small image. Work
stops between steps and frames once the answer is no longer wanted (deadline.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PIL import Image

from . import budget, costs, moderation, transform
from .config import Settings
from .deadline import checkpoint
from .decode import Header, count_frames, decode_frames, draft, open_image
from .detectors import Detection, sample, whole_upright
from .errors import ImageTooLarge, InvalidFilterArgument, NoSuchKey
from .filters import FilterContext
from .geometry import (
    Box,
    Geometry,
    draft_request,
    oriented_size,
    plan_geometry,
    stored_box_and_size,
)
from .overlays import Overlays
from .plan import Plan
from .probe import probe
from .sources import Source
from .trace import Trace

if TYPE_CHECKING:
    from .detectors.service import DetectionService
    from .moderation import ModerationService


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
        source: Source | None = None,
        detectors: DetectionService | None = None,
        moderator: ModerationService | None = None,
        source_modified: float | None = None,
        limits: budget.Limits | None = None,
        accepted: str = "",
        trace: Trace | None = None,
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.data = data
        # Other images (watermarks, frames), read through the source of the originals.
        self.overlays = Overlays(source, settings.MAX_SOURCE_PIXELS)
        # smart/, smart_crop() and moderation: who answers (what they answered: detection,
        # verdict).
        self.detectors = detectors
        self.moderator = moderator
        self.source_modified = source_modified  # the original's version, checked by cached answers
        self.limits = limits  # None: no budget (tests of single steps)
        self.accepted = accepted  # the automatic formats the client takes (codecs.accept_class)
        self.estimate: budget.Estimate | None = None
        # The canvas every frame is given when the file's structure says Pillow grows it.
        self.canvas: tuple[int, int] | None = None
        self.frames: list[Image.Image] = []
        self.durations: list[int] = []
        self.trace = Trace() if trace is None else trace

    def require_header(self) -> Header:
        assert self.header is not None, "read_header runs first"
        return self.header

    def require_geometry(self) -> Geometry:
        assert self.geometry is not None, "plan_geometry runs first"
        return self.geometry

    def load_overlay(self, key: str, at_least: tuple[int, int] | None = None) -> Image.Image:
        return self.overlays.image(key, at_least)

    def overlay_size(self, key: str) -> tuple[int, int]:
        return self.overlays.header(key).size

    def wants_detection(self) -> bool:
        return self.detectors is not None and self.detectors.wants(self.plan)

    def wants_moderation(self) -> bool:
        return self.moderator is not None and self.moderator.wants(self.plan)


Step = Callable[[Job], None]


def read_header(job: Job) -> None:
    """The file's structure and header, and the limits that need nothing more: an animation's
    canvas and frames are read from its blocks and checked before Pillow opens it."""
    settings = job.settings
    structure = probe(job.data, settings.MAX_ANIMATION_FRAMES)
    if structure is not None:
        check_source(structure.size, structure.frames, settings)
        job.canvas = structure.size
    job.image, header = open_image(job.data)
    if structure is not None:
        header = header._replace(size=structure.size, frames=structure.frames)
    else:
        header = header._replace(frames=count_frames(job.image))
    job.header = header
    job.orientation = header.orientation if settings.RESPECT_ORIENTATION else 1
    job.working_size = job.loaded_size = oriented_size(header.size, job.orientation)
    if job.plan.relative_focal_points:
        job.plan = job.plan.with_relative_focal_points(job.loaded_size)


def check_limits(job: Job) -> None:
    header = job.require_header()
    check_source(header.size, header.frames, job.settings)


def check_source(size: tuple[int, int], frames: int, settings: Settings) -> None:
    limit = settings.MAX_SOURCE_PIXELS
    if size[0] * size[1] > limit:
        raise ImageTooLarge(
            f"the image has {size[0]}x{size[1]} pixels, over the limit of {limit} "
            "(MAX_SOURCE_PIXELS)"
        )
    if frames > settings.MAX_ANIMATION_FRAMES:
        raise ImageTooLarge(
            f"the animation has more than {settings.MAX_ANIMATION_FRAMES} frames "
            "(MAX_ANIMATION_FRAMES)"
        )


def plan_from_header(job: Job) -> None:
    if job.plan.trim is None:
        _plan(job)


def read_overlays(job: Job) -> None:
    """The headers of the images watermark() and frame() draw, so that their cost is known."""
    for bound in job.plan.filters:
        for key in bound.overlay_keys():
            try:
                job.overlays.header(key)
            except NoSuchKey:
                raise InvalidFilterArgument(
                    f"{bound.name}(): there is no image at {key!r}"
                ) from None


def prepare_decode(job: Job) -> None:
    """Tell the JPEG decoder the smallest size it may produce (nothing is decoded yet)."""
    assert job.image is not None
    header = job.require_header()
    if job.geometry is None or header.animated:
        return
    wanted = header.size
    box, out = stored_box_and_size(job.geometry, job.working_size, job.orientation)
    if out[0] < box[2] - box[0] and out[1] < box[3] - box[1]:
        wanted = draft_request(header.size, box, out, job.settings.JPEG_DRAFT_MIN_RATIO)
        wanted = _at_least(wanted, _decode_floor(job, header.size))
    job.image = draft(job.image, job.data, wanted, "L" if _grey_is_enough(job) else None)


def check_budget(job: Job) -> None:
    """Refuse (413) before decoding what would not fit the request's memory or CPU budget."""
    if job.limits is not None:
        job.estimate = costs.estimate(job)
        budget.check(job.estimate, job.limits)


def decode(job: Job) -> None:
    assert job.image is not None
    # cover() keeps the first frame only, so the others are never decoded.
    frames = 1 if job.plan.output.cover else job.require_header().frames
    job.frames, job.durations = decode_frames(job.image, frames, job.canvas)
    # The decoded image is a frame now, or was copied into them: no second reference may keep
    # a full-size copy alive through the rest of the request.
    job.image = None


# Filters that commute with grayscale(): they move pixels without looking at their colour.
_COLOUR_BLIND = frozenset({"rotate", "proportion"})


def _grey_is_enough(job: Job) -> bool:
    """Whether grayscale() comes before anything that needs colour: then the JPEG decoder can
    skip the chroma planes altogether (its luma is the same ITU-R 601 grey)."""
    if job.wants_detection() or job.wants_moderation():
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
    orientation = job.orientation
    _each_frame(job, lambda frame: transform.orient(frame, orientation))
    job.orientation = 1
    box = transform.trim_box(job.frames[0], job.plan.trim.corner, job.plan.trim.tolerance)
    if box is not None:
        job.trim = box
        _each_frame(job, lambda frame: frame.crop(box.as_tuple()))
        job.working_size = (box.width, box.height)
        crop = job.plan.geometry.crop
        if crop is not None:
            # Thumbor takes crop coordinates in the original and moves them with the trim.
            job.plan = job.plan.with_geometry(crop=crop.shifted(-box.left, -box.top))
    _plan(job)
    # The geometry is known only now: what is left is checked against the budget again.
    if job.limits is not None:
        rest = costs.estimate_rest(job)
        budget.check(rest, job.limits)
        if job.estimate is None or rest.peak > job.estimate.peak:
            job.estimate = rest


def detect(job: Job) -> None:
    """smart/ and smart_crop(): the DETECTORS chain looks at a small copy of the working image
    (or, a detector that needs it, at the whole of it; the answer is cached per original),
    then the geometry is planned again around what it found."""
    detectors = job.detectors
    if detectors is None or not detectors.wants(job.plan):
        return
    if job.detection is None:  # else found in the store before decoding (_decode_floor)
        job.detection = detectors.detect(
            job.plan,
            job.plan.image,
            _variant(job),
            job.source_modified,
            job.working_size,
            lambda: _sample(job),
            lambda: whole_upright(job.frames[0], job.orientation),
        )
    job.cacheable = job.cacheable and not job.detection.failed
    job.plan = detectors.apply(job.plan, job.detection, job.working_size)
    _plan(job)


def moderate(job: Job) -> None:
    """The moderation verdict, on the whole working image before any crop (blurred later, on
    the small output)."""
    moderator = job.moderator
    if moderator is None or not moderator.wants(job.plan):
        return
    job.verdict = moderator.verdict(job.plan, job.source_modified, lambda: _sample(job))
    job.cacheable = job.cacheable and job.verdict.error is None


def resize(job: Job) -> None:
    box, out = stored_box_and_size(job.require_geometry(), job.working_size, job.orientation)
    stored = oriented_size(job.working_size, job.orientation)
    scale_x = job.frames[0].width / stored[0]
    scale_y = job.frames[0].height / stored[1]
    scaled = (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)
    resample = transform.RESAMPLING[job.settings.PILLOW_RESAMPLING_FILTER]
    _each_frame(job, lambda frame: transform.crop_and_resize(frame, scaled, out, resample))


def orient(job: Job) -> None:
    orientation = job.orientation
    if orientation != 1:
        _each_frame(job, lambda frame: transform.orient(frame, orientation))
    job.orientation = 1


def flip(job: Job) -> None:
    horizontal, vertical = job.require_geometry().flips
    if horizontal or vertical:
        _each_frame(job, lambda frame: transform.flip(frame, horizontal, vertical))


def apply_filters(job: Job) -> None:
    canvas = job.require_geometry().canvas
    settings = job.settings

    def check_size(size: tuple[int, int]) -> None:
        check_output_size(size, settings)

    for bound in job.plan.filters:
        for index, frame in enumerate(job.frames):
            checkpoint()
            context = FilterContext(canvas, index, job.load_overlay, job.overlay_size, check_size)
            job.frames[index] = bound.spec.apply(frame, context, *bound.args)


def blur_flagged(job: Job) -> None:
    if job.verdict is not None and job.verdict.blurred:
        strength = job.verdict.policy.blur
        _each_frame(job, lambda frame: moderation.blur(frame, strength))


def draw_debug(job: Job) -> None:
    if not job.plan.debug:
        return
    geometry = job.require_geometry()
    points, box, flips = geometry.focal_points, geometry.crop_box, geometry.flips
    _each_frame(job, lambda frame: transform.draw_focal_points(frame, points, box, flips))


def _each_frame(job: Job, change: Callable[[Image.Image], Image.Image]) -> None:
    """Replace every frame by `change(frame)`, one at a time, so that a frame's old pixels go
    as soon as its new ones exist; the work stops between frames once the answer is unwanted."""
    for index, frame in enumerate(job.frames):
        checkpoint()
        job.frames[index] = change(frame)


PIPELINE: tuple[Step, ...] = (
    read_header,
    check_limits,
    plan_from_header,
    read_overlays,
    prepare_decode,
    check_budget,
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


# The steps timed as the log line's `decode` stage; the ones after them are `process`.
DECODE_STEPS = frozenset(PIPELINE[: PIPELINE.index(decode) + 1])


def run(job: Job, steps: tuple[Step, ...] = PIPELINE) -> Job:
    for step in steps:
        checkpoint()
        started = time.perf_counter()
        try:
            step(job)
        finally:
            stage = "decode" if step in DECODE_STEPS else "process"
            job.trace.add(stage, time.perf_counter() - started)
    return job


def run_meta(job: Job) -> Job:
    run(job, META_PIPELINE)
    # trim has to look at the pixels before the geometry is known, and so do the detectors.
    if job.geometry is None or job.wants_detection():
        run(job, (read_overlays, prepare_decode, check_budget, decode, trim, detect))
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


def _variant(job: Job) -> str:
    """What besides the original changes the detectors' answer: the pixels they see."""
    return f"{job.trim}|{job.settings.RESPECT_ORIENTATION}"


def _decode_floor(job: Job, size: tuple[int, int]) -> int:
    """The longer side the decoded image must keep for the detectors and moderation."""
    floors = [0]
    detectors = job.detectors
    if detectors is not None:
        if detectors.looks_at_whole(job.plan) and job.plan.trim is None:
            # A detector that needs every pixel may have answered before: then the decoder
            # may shrink the image as much as the rest of the request allows.
            job.detection = detectors.cached(
                job.plan, job.plan.image, _variant(job), job.source_modified, job.working_size
            )
        floors.append(detectors.decode_floor(job.plan, size, job.detection is not None))
    if job.moderator is not None:
        floors.append(job.moderator.decode_floor(job.plan))
    return max(floors)


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
