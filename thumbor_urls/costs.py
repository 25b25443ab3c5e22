"""What a request will cost, known before its first pixel is decoded.

The steps below mirror the pipeline's (pipeline.py), in its order: each says what it holds at
its peak and what it leaves behind, from the file's structure, the size the decoder was told
to produce, the geometry and each filter's declaration (filters/registry.py). Walking them
gives an upper bound of the request's peak memory above the idle process, which
tests/test_budget.py checks against peaks measured in fresh processes, and an estimate of its
CPU time. The coefficients are Pillow 13's, measured (bytes and nanoseconds a pixel), with a
margin; bench/calibrate.py prints each against a fresh measurement.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from . import codecs
from .budget import Cost, Estimate, Frame, MiB, image_bytes
from .filters import CostContext
from .geometry import Geometry, oriented_size, plan_geometry, stored_box_and_size
from .transform import REDUCING_GAP

if TYPE_CHECKING:
    from .pipeline import Job

BANDS = {"1": 1, "L": 1, "P": 3, "I;16": 1, "I": 1, "F": 1, "LA": 2, "La": 2, "PA": 4}
# Per decoded pixel, what a decoder holds besides the image it makes (measured: WebP 17-22 B/px
# in all, AVIF 10, a palette or 16-bit image 5 with its conversion).
DECODER_BYTES = {"WEBP": 20, "AVIF": 12}
# CPU a decoded pixel, by format (JPEG has its own model below).
DECODER_NS = {"PNG": 25.0, "GIF": 15.0, "WEBP": 60.0, "AVIF": 40.0}
# Animations: the canvases a decoder composes frames on (GIF and APNG: Pillow's current,
# previous and disposal images; WebP: libwebp's two canvases and the copy handed to Pillow).
ANIMATION_CANVASES = {"WEBP": 8}
DEFAULT_ANIMATION_CANVASES = 4
# What the detectors and the moderation backend hold besides their small sample.
DETECTORS_BYTES = 24 * MiB
# What a request holds besides its images: Python's objects, lookup tables, the allocator's
# granularity (measured 2 MiB for a 16x16 image through five filters).
OVERHEAD = 8 * MiB
DETECTORS_NS = 300e6
# A detector that looks at the whole image (features): the working set of one band of rows
# (detectors/corners.py: about a megapixel, at least 16 rows and their margins; the band's
# grey rows and OpenCV's gradients and eigenvalues), measured 29-37 MiB for a megapixel of
# noise, and, when the image must be turned first, a grey copy of it and that copy turned.
# It runs after the detectors that look at the small copy (or before them): the larger of the
# two phases counts, not their sum.
WHOLE_BAND_PIXELS = 1 << 20
WHOLE_BAND_ROWS = 16 + 2 * 5
WHOLE_BYTES_PER_BAND_PIXEL = 48
WHOLE_BYTES = 16 * MiB  # numpy's and the allocator's share beside it
WHOLE_NS = 40.0  # per pixel (measured 20-29 on noise)


class Ledger:
    """What a request holds as it goes, its peak, and its CPU."""

    def __init__(self, held: int) -> None:
        self.held = held
        self.peak = held
        self.peak_step = "reading the image"
        self.ns = 0.0
        self.costliest = ("reading the image", 0.0)

    def step(self, what: str, transient: int, before: int, after: int, ns: float) -> None:
        """A step that turns `before` bytes of what is held into `after`, holding `transient`
        more at its peak."""
        peak = self.held + transient + after
        if peak > self.peak:
            self.peak, self.peak_step = peak, what
        self.held += after - before
        self.ns += ns
        if ns > self.costliest[1]:
            self.costliest = (what, ns)

    def frames(
        self, what: str, count: int, before: Frame, after: Frame, transient: int, ns: float
    ) -> None:
        """A step on every frame, each replaced as soon as its successor exists."""
        if count == 1:
            self.step(what, transient, before.bytes, after.bytes, ns)
            return
        old, new = before.bytes, after.bytes
        during = max(count * old + new, count * new + old) - count * old + transient
        peak = self.held + during
        if peak > self.peak:
            self.peak, self.peak_step = peak, what
        self.held += count * (new - old)
        self.ns += count * ns
        if count * ns > self.costliest[1]:
            self.costliest = (what, count * ns)

    def estimate(self) -> Estimate:
        return Estimate(self.peak, self.peak_step, self.ns / 1e9, *self._costliest())

    def _costliest(self) -> tuple[str, float]:
        return self.costliest[0], self.costliest[1] / 1e9


class State(NamedTuple):
    """Where the walk is: the frames held and how many, and the geometry they will take."""

    frame: Frame
    frames: int
    geometry: Geometry


StepCost = Callable[["Job", Ledger, State], State]


def _size(frame: Frame) -> str:
    return f"{frame.width}x{frame.height}"


def bands_of(mode: str) -> int:
    return BANDS.get(mode, 4 if len(mode) >= 4 or mode == "CMYK" else len(mode))


# --- the steps --------------------------------------------------------------------------------


def decode_cost(job: Job, ledger: Ledger, state: State) -> State:
    header = job.require_header()
    assert job.image is not None
    data = len(job.data)
    if header.animated and not job.plan.output.cover:
        canvas = Frame(*header.size, 4)
        canvases = ANIMATION_CANVASES.get(header.format, DEFAULT_ANIMATION_CANVASES)
        frames = header.frames
        ns = DECODER_NS.get(header.format, 60.0) * canvas.pixels
        ledger.step(
            f"decoding {frames} frames of {_size(canvas)}",
            canvases * canvas.bytes,
            0,
            frames * canvas.bytes,
            frames * ns,
        )
        return state._replace(frame=canvas, frames=frames)
    # After draft(), what the JPEG decoder will produce; a GIF's canvas as its frames grow it.
    width, height = job.image.size if header.format == "JPEG" else header.size
    decoded = Frame(width, height, bands_of(job.image.mode))
    transient = DECODER_BYTES.get(header.format, 0) * decoded.pixels
    out = decoded
    if job.image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        # Converted to a mode every step takes (decode._normalize_mode): both exist a moment.
        out = decoded.with_bands({1: 1, 2: 4, 4: 4}.get(decoded.bands, 3))
        transient += image_bytes(width, height, 4) + decoded.bytes
    ns = DECODER_NS.get(header.format, 60.0) * decoded.pixels
    if header.format == "JPEG":
        full = header.size[0] * header.size[1]
        if job.image.info.get("progressive") or job.image.info.get("progression"):
            transient += coefficient_bytes(job.image, header.size) + data  # and the lighter copy
            ns = 32.0 * full + 4.0 * decoded.pixels
        else:
            ns = 14.0 * full + 4.0 * decoded.pixels
    ledger.step(f"decoding {_size(decoded)} pixels", transient, 0, out.bytes, ns)
    return state._replace(frame=out, frames=1)


def coefficient_bytes(image: object, stored: tuple[int, int]) -> int:
    """libjpeg's whole-image coefficient arrays, which a progressive decode needs at any DCT
    scale: 64 two-byte coefficients for every block of every component, padded to whole MCUs."""
    layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * 3
    h_max = max(layer[1] for layer in layers)
    v_max = max(layer[2] for layer in layers)
    mcus_x = math.ceil(stored[0] / (8 * h_max))
    mcus_y = math.ceil(stored[1] / (8 * v_max))
    blocks = sum(mcus_x * layer[1] * mcus_y * layer[2] for layer in layers)
    return int(128 * blocks)


def trim_cost(job: Job, ledger: Ledger, state: State) -> State:
    if job.plan.trim is None:
        return state
    frame = state.frame
    if job.orientation != 1:
        ledger.frames("orienting before trim", state.frames, frame, frame, 0, 4.0 * frame.pixels)
    # |pixel - corner| per band in int32, squared and summed (measured 40-47 B/px); the crop
    # may keep every pixel.
    ledger.step(f"trim on {_size(frame)}", 48 * frame.pixels, 0, 0, 60.0 * frame.pixels)
    ledger.frames("trim", state.frames, frame, frame, 0, 2.0 * frame.pixels)
    return state


def detect_cost(job: Job, ledger: Ledger, state: State) -> State:
    if job.wants_detection() or job.wants_moderation():
        side = job.settings.DETECTION_MAX_SIDE
        sample = 4 * side * side
        transient = state.frame.bytes // 2 + 4 * sample + DETECTORS_BYTES
        ns = DETECTORS_NS + 5.0 * state.frame.pixels
        detectors = job.detectors
        if detectors is not None and detectors.looks_at_whole(job.plan) and job.detection is None:
            frame = state.frame
            band = max(WHOLE_BAND_PIXELS, WHOLE_BAND_ROWS * max(frame.width, frame.height))
            whole = WHOLE_BYTES_PER_BAND_PIXEL * band + WHOLE_BYTES
            grey = 2 * frame.pixels if job.orientation != 1 else 0  # else greyed band by band
            transient = max(transient, whole) + grey
            ns += WHOLE_NS * frame.pixels
        ledger.step("detection", transient, 0, sample, ns)
    return state


def resize_cost(job: Job, ledger: Ledger, state: State) -> State:
    geometry = state.geometry
    box, out_size = stored_box_and_size(geometry, job.working_size, job.orientation)
    stored = oriented_size(job.working_size, job.orientation)
    frame = state.frame
    sx, sy = frame.width / stored[0], frame.height / stored[1]
    box_width = max((box[2] - box[0]) * sx, 1.0)
    box_height = max((box[3] - box[1]) * sy, 1.0)
    out = frame.sized(*out_size)
    exact = box_width == out_size[0] and box_height == out_size[1]
    if exact and geometry.output_size == out_size and sx == sy == 1:
        ledger.frames(f"cropping to {_size(out)}", state.frames, frame, out, 0, out.pixels)
        return state._replace(frame=out)
    # Pillow reduces by whole factors within REDUCING_GAP first, then resamples: a horizontal
    # pass into a temporary image of the new width and the (reduced) box's height.
    factor_x = max(int(box_width / out.width / REDUCING_GAP), 1)
    factor_y = max(int(box_height / out.height / REDUCING_GAP), 1)
    reduced = Frame(math.ceil(box_width / factor_x), math.ceil(box_height / factor_y), frame.bands)
    temporary = out.sized(out.width, reduced.height)
    transient = (reduced.bytes if factor_x * factor_y > 1 else 0) + temporary.bytes
    ns = 4.0 * box_width * box_height + 30.0 * (temporary.pixels + out.pixels)
    ledger.frames(f"resizing to {_size(out)}", state.frames, frame, out, transient, ns)
    return state._replace(frame=out)


def orient_cost(job: Job, ledger: Ledger, state: State) -> State:
    frame = state.frame
    flips = sum(state.geometry.flips) + (job.orientation != 1)
    if flips:
        turned = frame.sized(*oriented_size((frame.width, frame.height), job.orientation))
        ledger.frames("orienting", state.frames, frame, turned, 0, 4.0 * flips * frame.pixels)
        return state._replace(frame=turned)
    return state


def filters_cost(job: Job, ledger: Ledger, state: State) -> State:
    overlays = job.overlays
    wanted: set[tuple[str, tuple[int, int]]] = set()
    decoded: set[tuple[str, tuple[int, int]]] = set()

    def overlay(key: str, at_least: tuple[int, int] | None = None) -> Frame:
        size = overlays.decoded_size(key, at_least)
        wanted.add((overlays.identity(key), size))
        return Frame(*size, 4)

    context = CostContext(state.geometry.canvas, overlay)
    frame = state.frame
    for bound in job.plan.filters:
        assert bound.spec.cost is not None
        cost: Cost = bound.spec.cost(frame, context, *bound.args)
        # An overlay, decoded in its own mode and converted to RGBA, is held to the end.
        for _, (width, height) in wanted - decoded:
            held = image_bytes(width, height, 4)
            ledger.step(
                f"decoding the image of {bound.name}()", held, 0, held, 60.0 * width * height
            )
        decoded |= wanted
        what = f"{bound.name}() on {_size(frame)}"
        ledger.frames(what, state.frames, frame, cost.out, cost.transient, cost.ns)
        frame = cost.out
    return state._replace(frame=frame)


def moderation_blur_cost(job: Job, ledger: Ledger, state: State) -> State:
    if job.wants_moderation():
        frame = state.frame
        ledger.frames("blurring", state.frames, frame, frame, frame.bytes, 30.0 * frame.pixels)
    return state


def debug_cost(job: Job, ledger: Ledger, state: State) -> State:
    if job.plan.debug:
        frame = state.frame.with_bands(4)
        ledger.frames("debug", state.frames, state.frame, frame, 0, 2.0 * frame.pixels)
        return state._replace(frame=frame)
    return state


# Per output pixel, what each encoder holds with its output (measured, noise at quality 80-100:
# JPEG 3.7-5.3 B/px, PNG 2.3-5.7, WebP 21-45 (lossless 31-42), GIF 8-15, AVIF 27-56 falling
# with size).
ENCODER_BYTES = {"jpeg": 6, "webp": 24, "gif": 16, "avif": 32, "heic": 32, "heif": 32}
ENCODER_ALPHA_BYTES = {"jpeg": 15, "webp": 48}
LOSSLESS_WEBP_BYTES = 48
ENCODER_FIXED = {"avif": 16 * MiB, "heic": 16 * MiB, "heif": 16 * MiB}
# CPU per output pixel (measured on noise: the worst case of every encoder).
ENCODER_NS = {"jpeg": 60.0, "png": 240.0, "webp": 400.0, "gif": 100.0, "avif": 1200.0}
LOSSLESS_WEBP_NS = 1500.0
ENCODER_FIXED_NS = {"avif": 3e8, "heic": 3e8, "heif": 3e8}


def encode_cost(job: Job, ledger: Ledger, state: State) -> State:
    header = job.require_header()
    frame = state.frame
    animated = state.frames > 1
    forced = job.plan.output.format
    fmt = codecs.choose_format(header.format, header.has_alpha, animated, forced, job.accepted)
    candidates = {fmt, "jpeg"} if fmt == "png" else {fmt}  # autojpg() may pick JPEG later
    count = state.frames if animated and fmt in codecs.ANIMATED_FORMATS else 1
    lossless = (job.plan.output.quality or job.settings.webp_quality) >= 100
    worst = max(candidates, key=lambda name: _encoder_bytes(name, frame, lossless))
    transient = _encoder_bytes(worst, frame, lossless) + (count - 1) * frame.pixels
    ns = count * max(_encoder_ns(name, job, lossless, frame) for name in candidates)
    if job.plan.output.max_bytes is not None:
        ns *= 8  # at most seven more encodes, the best and the smallest kept
        transient += _encoder_bytes(worst, frame, lossless)
    ledger.step(f"encoding {_size(frame)} as {worst}", transient, 0, 0, ns)
    return state


def encoder_bytes(fmt: str, frame: Frame, lossless: bool) -> int:
    """What the encoder of `fmt` holds besides the frame it writes (measured, see above)."""
    return _encoder_bytes(fmt, frame, lossless)


def _encoder_bytes(fmt: str, frame: Frame, lossless: bool) -> int:
    alpha = frame.bands in (2, 4)
    per_pixel = ENCODER_BYTES.get(fmt, 32)
    if alpha:
        per_pixel = ENCODER_ALPHA_BYTES.get(fmt, per_pixel)
    if fmt == "webp" and lossless:
        per_pixel = LOSSLESS_WEBP_BYTES
    if fmt == "png":  # the compressed stream can be as large as the raw bytes, held twice
        per_pixel = 2 * max(frame.bands, 1) + 2
    return per_pixel * frame.pixels + ENCODER_FIXED.get(fmt, 2 * MiB)


def _encoder_ns(fmt: str, job: Job, lossless: bool, frame: Frame) -> float:
    ns = ENCODER_NS.get(fmt, 1200.0)
    if fmt == "webp" and lossless:
        ns = LOSSLESS_WEBP_NS
    speed = job.settings.AVIF_SPEED
    if fmt == "avif" and speed is not None and speed < 6:
        ns *= 2 ** (6 - speed)  # each step down of aom's speed about doubles the time
    if fmt == "png":  # zlib's work is per byte: per band
        ns *= max(frame.bands, 1) / 4 * (4 if job.settings.PNG_COMPRESSION_LEVEL > 6 else 1)
    return ns * frame.pixels + ENCODER_FIXED_NS.get(fmt, 0.0)


PIPELINE_COSTS: tuple[StepCost, ...] = (
    decode_cost,
    trim_cost,
    detect_cost,
    resize_cost,
    orient_cost,
    filters_cost,
    moderation_blur_cost,
    debug_cost,
    encode_cost,
)


def estimate(job: Job) -> Estimate:
    """The whole request, from the decode on: called once the decoder knows its size. With
    trim, the geometry is known only after decoding: until then, the untrimmed one stands in
    (estimate_rest() checks again with the real one)."""
    ledger = Ledger(OVERHEAD + len(job.data) + job.overlays.held())
    geometry = job.geometry or plan_geometry(
        job.working_size, job.plan.geometry, job.plan.focal_points, loaded_size=job.loaded_size
    )
    state = State(Frame(0, 0, 1), 0, geometry)
    for cost in PIPELINE_COSTS:
        state = cost(job, ledger, state)
    return ledger.estimate()


def estimate_rest(job: Job) -> Estimate:
    """What is left once the frames are decoded (and trimmed): called when the geometry has
    been planned again from the pixels."""
    frames = job.frames
    current = Frame(frames[0].width, frames[0].height, bands_of(frames[0].mode))
    ledger = Ledger(OVERHEAD + len(job.data) + job.overlays.held() + len(frames) * current.bytes)
    state = State(current, len(frames), job.require_geometry())
    start = PIPELINE_COSTS.index(detect_cost)
    for cost in PIPELINE_COSTS[start:]:
        state = cost(job, ledger, state)
    return ledger.estimate()
