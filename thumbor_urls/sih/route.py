"""What App does with a request when `SIH_COMPAT=true`: SIH's checks (signature, `expires`),
then a default request answered here (edits.py), a Thumbor or rewritten path handed to the
Thumbor core with the query's edits folded in.
"""

from __future__ import annotations

import io
import math
import re
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, Protocol

from PIL import Image

from .. import codecs, costs, grammar, signed
from ..budget import Frame, check, image_bytes
from ..decode import decode_frames, open_image
from ..errors import (
    ImageServiceError,
    NotImplementedFeature,
    SignatureDoesNotMatch,
    UnsupportedImageFormat,
)
from ..messages import Request, Response
from ..pipeline import check_output_size, check_source
from ..probe import probe
from ..sources import FolderSource, Original
from . import edits as sharp
from . import ops
from .request import (
    EDIT_PARAMETERS,
    Document,
    InvalidEdit,
    SihError,
    document,
    merge,
    query_edits,
    request_type,
    rewrite,
    seconds_to_expiry,
    verify_signature,
)

if TYPE_CHECKING:
    from ..app import App
    from ..trace import Trace

DEFAULT_CACHE_CONTROL = "max-age=31536000,public"  # SIH's, when the original has none
CONTENT_TYPES = {**codecs.CONTENT_TYPES, "tiff": "image/tiff"}
SIH_FORMATS = {
    "JPEG": "jpeg",
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "AVIF": "avif",
    "TIFF": "tiff",
}


class Rekognition(Protocol):
    """What smartCrop and contentModeration ask: Amazon Rekognition's answers on an image."""

    def faces(self, image: bytes) -> list[dict[str, Any]]:
        """DetectFaces' FaceDetails."""
        ...

    def moderation_labels(self, image: bytes, min_confidence: float) -> list[dict[str, Any]]:
        """DetectModerationLabels' ModerationLabels."""
        ...


class BotoRekognition:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def _client(self) -> Any:
        try:
            from ..aws import clients  # noqa: PLC0415 - boto3 only where Rekognition is asked
        except ImportError:
            raise NotImplementedFeature("smartCrop and contentModeration need boto3") from None
        return clients.client("rekognition", self.timeout)

    def faces(self, image: bytes) -> list[dict[str, Any]]:
        answer = self._client().detect_faces(Image={"Bytes": image})
        return list(answer.get("FaceDetails", []))

    def moderation_labels(self, image: bytes, min_confidence: float) -> list[dict[str, Any]]:
        answer = self._client().detect_moderation_labels(
            Image={"Bytes": image}, MinConfidence=min_confidence
        )
        return list(answer.get("ModerationLabels", []))


def handle(app: App, request: Request, routed: list[str], trace: Trace) -> tuple[Response, str]:
    settings = app.settings
    query = request.query
    rest = _thumbor_signed(app, request)
    path = request.path
    if rest is not None and EDIT_PARAMETERS & set(query):
        # A Thumbor signature covers the path alone: edits in the query would change a signed
        # image as anyone pleases. SIH's ?signature= covers both.
        raise SignatureDoesNotMatch(
            "a Thumbor signature does not cover query parameters that change the image: sign "
            "the path and the query with ?signature= instead"
        )
    if rest is None:
        if settings.security_keys and not _unsafe_allowed(app, path):
            verify_signature(settings.security_keys, path, query, request.raw_path)
        rest = path.lstrip("/")
        if rest.startswith("unsafe/"):
            rest = rest.removeprefix("unsafe/")
            path = "/" + rest
    expiry = seconds_to_expiry(query)
    rewriting = bool(settings.REWRITE_MATCH_PATTERN and settings.REWRITE_SUBSTITUTION)
    kind = request_type(path, rewriting)
    if kind == "default":
        response = default_request(app, request, document(path), expiry, routed)
        return response, "sih"
    if kind == "custom":
        rest = rewrite(path, settings.REWRITE_MATCH_PATTERN, settings.REWRITE_SUBSTITUTION)
        rest = rest.lstrip("/")
    rest = thumbor_path(app, rest, query)
    response, outcome = app.serve_path(rest, request, routed, trace)
    if expiry is not None and response.status == 200:
        response.headers["Cache-Control"] = f"max-age={expiry},public"
    return response, outcome


def _thumbor_signed(app: App, request: Request) -> str | None:
    """The path after a valid Thumbor (or imagor) signature, to be routed as it is; None when
    the path does not start with one."""
    first = request.path.lstrip("/").partition("/")[0]
    if not app.settings.security_keys or first == "unsafe":
        return None
    try:
        return signed.verified_rest(request._replace(query={}), app.settings)
    except SignatureDoesNotMatch:
        return None


def _unsafe_allowed(app: App, path: str) -> bool:
    return app.settings.ALLOW_UNSAFE_URL and path.lstrip("/").startswith("unsafe/")


# --- Thumbor paths ----------------------------------------------------------------------------


def thumbor_path(app: App, rest: str, query: dict[str, str] | Any) -> str:
    """The Thumbor path with SIH's `s3:<bucket>/` segment moved to the image and the query's
    edits (v7) replacing what the path says, as v7 merges them into the path's edits."""
    bucket = None
    for segment in rest.split("/"):
        if segment.startswith("s3:") and segment[3:] in app.settings.SOURCE_BUCKETS:
            bucket = segment[3:]
            rest = rest.replace(f"{segment}/", "", 1)
            break
    overrides = query_edits(query) if query else {}
    if bucket is None and not overrides:
        return rest
    params = grammar.parse(rest, max_filters=app.settings.MAX_FILTERS)
    if bucket is not None:
        params = params._replace(image=image_key(app, bucket, params.image))
    filters = list(params.filters)
    changes: dict[str, Any] = {}
    if "resize" in overrides:
        # v7 replaces the path's resize whole: its fit-in, fill(), stretch() and no_upscale().
        resize = overrides["resize"]
        filters = [f for f in filters if f.name not in _RESIZE_FILTERS]
        fit = resize.get("fit")
        changes.update(
            width=_dimension(resize.get("width")),
            height=_dimension(resize.get("height")),
            fit_in=fit in ("inside", "outside", "contain"),
            full=fit == "outside",
        )
        if fit == "contain":
            filters.append(grammar.Filter("fill", ("black",)))
        elif fit == "fill":
            filters.append(grammar.Filter("stretch"))
    if "toFormat" in overrides:
        fmt = sharp.FORMATS.get(str(overrides["toFormat"]).lower())
        if fmt is None or fmt not in codecs.CONTENT_TYPES:
            raise InvalidEdit(f"format: unsupported output format {overrides['toFormat']!r}")
        filters = [f for f in filters if f.name != "format"] + [grammar.Filter("format", (fmt,))]
    if "rotate" in overrides:
        angle = overrides["rotate"]
        filters = [f for f in filters if f.name != "rotate"]
        if angle is None:
            filters.append(grammar.Filter("strip_exif"))
        elif math.isnan(angle) or angle % 90:  # NaN, or not a right angle
            raise InvalidEdit(f"rotate: only right angles on a Thumbor path, got {angle}")
        elif angle % 360:
            filters.append(grammar.Filter("rotate", (str(int(-angle) % 360),)))
    if "flip" in overrides:
        changes["vertical_flip"] = bool(overrides["flip"])
    if "flop" in overrides:
        changes["horizontal_flip"] = bool(overrides["flop"])
    if "greyscale" in overrides:
        filters = [f for f in filters if f.name != "grayscale"]
        if overrides["greyscale"]:
            filters.append(grammar.Filter("grayscale"))
    params = params._replace(filters=tuple(filters), **changes)
    return grammar.generate(params)


_RESIZE_FILTERS = frozenset({"fill", "stretch", "upscale", "no_upscale", "proportion"})


def _dimension(value: Any) -> int:
    if value is None:
        return 0
    if math.isnan(value) or value < 0:
        raise SihError(400, "InvalidResizeException", "The image size is invalid.")
    return int(value)


# --- default requests -------------------------------------------------------------------------


def image_key(app: App, bucket: str | None, key: str) -> str:
    """The source's key for `key` in `bucket`: `s3:<bucket>/<key>` on S3; on a folder, the key
    under the root, the bucket checked against SOURCE_BUCKETS when that is set."""
    buckets = app.settings.SOURCE_BUCKETS
    if bucket is not None and buckets and bucket not in buckets:
        raise SihError(
            403,
            "ImageBucket::CannotAccessBucket",
            "The bucket you specified could not be accessed. Please check that the bucket is "
            "specified in your SOURCE_BUCKETS.",
        )
    if bucket is None or isinstance(app.source, FolderSource):
        return key
    return f"s3:{bucket}/{key}"


def default_request(
    app: App, request: Request, doc: Document, expiry: int | None, routed: list[str]
) -> Response:
    edits = merge(doc.edits, query_edits(request.query)) if request.query else doc.edits
    key = image_key(app, doc.bucket, doc.key)
    routed.append(key)
    original = app.source.load(key)
    body, fmt = Render(app, original, edits, doc).run()
    headers = {"Cache-Control": original.cache_control or DEFAULT_CACHE_CONTROL, **doc.headers}
    if expiry is not None:
        headers["Cache-Control"] = f"max-age={expiry},public"
    headers["Content-Type"] = CONTENT_TYPES.get(fmt, "application/octet-stream")
    if original.stored_expires is not None:
        headers["Expires"] = formatdate(original.stored_expires, usegmt=True)
    if original.last_modified is not None:
        headers["Last-Modified"] = formatdate(original.last_modified, usegmt=True)
    return Response(200, headers, body)


class Render:
    """One default request's image: decoded, edited as SIH's sharp pipeline would, written."""

    def __init__(self, app: App, original: Original, edits: dict[str, Any], doc: Document) -> None:
        self.app = app
        self.settings = app.settings
        self.data = original.data
        self.edits = edits
        self.doc = doc
        self.rekognition: Rekognition = getattr(app, "sih_rekognition", None) or BotoRekognition(
            self.settings.S3_TIMEOUT_SECONDS
        )

    def run(self) -> tuple[bytes, str]:
        settings = self.settings
        structure = probe(self.data, settings.MAX_ANIMATION_FRAMES)
        if structure is not None:
            check_source(structure.size, structure.frames, settings)
        image, header = open_image(self.data)
        frames_in = structure.frames if structure is not None else 1
        check_source(header.size, frames_in, settings)
        input_format = SIH_FORMATS.get(header.format)
        if input_format is None:
            raise UnsupportedImageFormat(f"{header.format} images are not read here")
        edits = self.edits = validate_resize(self.edits)
        output_format = edits.get("toFormat") or self.doc.output_format
        if not edits and output_format is None:
            return self.data, input_format  # SIH sends the original as it is
        animated = bool(edits.get("animated", header.format == "GIF")) and frames_in > 1
        options = sharp.Options()
        self.compile_dry(options, animated, header.size)
        out = options.format or input_format
        if output_format is not None:
            out = sharp.FORMATS.get(str(output_format).lower(), out)
        self.check_budget(
            options, header.size, frames_in if animated else 1, header.mode, header.format, out
        )
        frames, durations = decode_frames(image, frames_in if animated else 1, None)
        del image
        frames = [ops.rgb_mode(f) if f.mode not in ("L", "LA") else f for f in frames]
        options = sharp.Options()
        keep_metadata = True
        for edit, value in list(edits.items()):
            if animated and edit in sharp.NOT_ANIMATED:
                continue
            if edit == "rotate" and value is None:
                keep_metadata = False  # sharp without withMetadata(): EXIF and ICC dropped
            elif edit == "overlayWith":
                self.overlay(options, frames, value)
            elif edit == "smartCrop":
                self.smart_crop(options, frames, value)
            elif edit == "contentModeration":
                self.moderate(options, frames, value)
            elif edit == "roundCrop":
                frames, options = self.round_crop(options, frames, value, input_format)
            elif edit == "crop":
                sharp.call(options, "extract", value)
            elif edit in sharp.SHARP_EDITS:
                sharp.call(options, edit, value)
        check_output_size(sharp.output_size(options, frames[0].size), settings)
        frames = sharp.render(options, frames)
        fmt = options.format or input_format
        if output_format is not None:
            fmt = sharp.FORMATS.get(str(output_format).lower()) or _unsupported(output_format)
        return self.encode(frames, fmt, options, header, keep_metadata, durations), fmt

    # --- the budget, before decoding ------------------------------------------------------------

    def compile_dry(self, options: sharp.Options, animated: bool, size: tuple[int, int]) -> None:
        """The options without what needs pixels (what Rekognition finds, the round crop's
        trim): an upper bound of the work, for the budget."""
        for edit, value in self.edits.items():
            if animated and edit in sharp.NOT_ANIMATED:
                continue
            if edit == "crop":
                sharp.call(options, "extract", value)
            elif edit in sharp.SHARP_EDITS and not (edit == "rotate" and value is None):
                sharp.call(options, edit, value)

    def check_budget(
        self,
        options: sharp.Options,
        size: tuple[int, int],
        count: int,
        mode: str,
        fmt: str,
        out: str,
    ) -> None:
        """413 before decoding when the request would pass its memory or CPU budget: the
        decode, every stage the edits turn on (each declares its cost, edits.STAGES), one more
        rendering of the first frame for each of SIH's own edits that looks at the image, and
        the encoder."""
        bands = 4 if count > 1 else costs.bands_of(mode)
        decoded = Frame(size[0], size[1], bands if bands != 2 else 4)
        ledger = costs.Ledger(costs.OVERHEAD + len(self.data))
        decoder = costs.DECODER_BYTES.get(fmt.upper(), 0) * decoded.pixels
        converted = image_bytes(*size, 4) if mode not in ("L", "RGB", "RGBA") else 0
        ledger.frames(
            f"decoding {size[0]}x{size[1]}",
            count,
            Frame(0, 0, 1),
            decoded,
            decoder + converted,
            costs.DECODER_NS.get(fmt.upper(), 60.0) * decoded.pixels,
        )
        steps = sharp.stage_costs(options, decoded)
        looks = sum(1 for edit in self.edits if edit in sharp.LOOKING_EDITS)
        if looks:
            # A rendering of the first frame beside the frames (its largest stage and its
            # output), and what the edit holds to look at it: roundCrop's mask, drawn at 4x4
            # times the pixels, with the copies it cuts and trims with; the JPEG for Rekognition.
            final = steps[-1][2] if steps else decoded
            biggest = max(
                (after.bytes + transient for _, _, after, transient, _ in steps), default=0
            )
            cutting = 40 * final.pixels if "roundCrop" in self.edits else 4 * final.pixels
            ledger.step(
                "rendering the image for SIH's own edits",
                biggest + (final.bytes if steps else 0) + cutting,
                0,
                0,
                looks * sum(ns for *_, ns in steps) + 20.0 * final.pixels,
            )
        frame = decoded
        for name, before, after, transient, ns in steps:
            ledger.frames(
                f"{name} on {before.width}x{before.height}", count, before, after, transient, ns
            )
            frame = after
        # The encoder's own buffers (costs.py's measurements), and a copy flattened for it.
        lossless = bool(options.format_options.get(out, {}).get("lossless"))
        encoder = costs.encoder_bytes(out, frame, lossless) + (count - 1) * frame.pixels
        ns = costs.ENCODER_NS.get(out, 1200.0) * frame.pixels * count
        ledger.step(
            f"encoding {frame.width}x{frame.height} as {out}",
            encoder + image_bytes(frame.width, frame.height, 4),
            0,
            0,
            ns + costs.ENCODER_FIXED_NS.get(out, 0.0),
        )
        self.estimate = ledger.estimate()
        if self.app.limits is not None:
            check(self.estimate, self.app.limits)

    # --- SIH's own edits ------------------------------------------------------------------------

    def _rendered(self, options: sharp.Options, frames: list[Image.Image]) -> Image.Image:
        return sharp.render(options, [frames[0]])[0]

    def overlay(self, options: sharp.Options, frames: list[Image.Image], value: Any) -> None:
        """overlayWith: the overlay, fitted within wRatio/hRatio percent of the image as it is
        now, faded by `alpha` percent, at `options.left/top` (pixels, `Np` percent, negative
        from the far edge), or centred."""
        if not isinstance(value, dict):
            return
        width, height = sharp.output_size(options, frames[0].size)
        bucket, key = value.get("bucket"), value.get("key")
        buckets = self.settings.SOURCE_BUCKETS
        if not isinstance(bucket, str) or (buckets and bucket not in buckets):
            raise SihError(
                403,
                "ImageBucket::CannotAccessBucket",
                "The overlay image bucket you specified could not be accessed. Please check "
                "that the bucket is specified in your SOURCE_BUCKETS.",
            )
        try:
            data = self.app.source.load(image_key(self.app, bucket, str(key))).data
            opened = Image.open(io.BytesIO(data))
            opened.load()
        except (ImageServiceError, OSError, ValueError):
            raise SihError(
                400,
                "OverlayImageException",
                "The overlay image could not be applied. Please contact the system administrator.",
            ) from None
        overlay = opened.convert("RGBA")
        box_w = _ratio(value.get("wRatio"), width)
        box_h = _ratio(value.get("hRatio"), height)
        if box_w is not None or box_h is not None:
            scale = min(
                box_w / overlay.width if box_w is not None else float("inf"),
                box_h / overlay.height if box_h is not None else float("inf"),
            )
            size = (max(1, round(overlay.width * scale)), max(1, round(overlay.height * scale)))
            overlay = ops.resize(overlay, size)
        alpha = _ratio_percent(value.get("alpha"))
        if alpha:
            fade = overlay.getchannel("A").point(lambda v: round(v * (1 - alpha / 100)))
            overlay.putalpha(fade)
        given = value.get("options")
        opts: dict[str, Any] = given if isinstance(given, dict) else {}
        left = _offset(opts.get("left"), width, overlay.width)
        top = _offset(opts.get("top"), height, overlay.height)
        # Centred by default, the odd pixel given to the far side (as sharp's gravity does).
        if left is None:
            left = (width - overlay.width + 1) // 2
        if top is None:
            top = (height - overlay.height + 1) // 2
        options.composites.append((overlay, (left, top)))

    def smart_crop(self, options: sharp.Options, frames: list[Image.Image], value: Any) -> None:
        if value is not True and not isinstance(value, dict):
            return
        settings = value if isinstance(value, dict) else {}
        index = int(settings.get("faceIndex") or 0)
        padding = int(settings.get("padding") or 0)
        image = self._rendered(options, frames)
        faces = self.rekognition.faces(_jpeg(image))
        if not faces:
            box = {"Left": 0.0, "Top": 0.0, "Width": 1.0, "Height": 1.0}
        elif index >= len(faces) or index < 0:
            raise SihError(
                400,
                "SmartCrop::FaceIndexOutOfRange",
                "You have provided a FaceIndex value that exceeds the length of the zero-based "
                "detectedFaces array. Please specify a value that is in-range.",
            )
        else:
            box = {k: min(max(float(v), 0.0), 1.0) for k, v in faces[index]["BoundingBox"].items()}
            box["Width"] = min(box["Width"], 1 - box["Left"])
            box["Height"] = min(box["Height"], 1 - box["Top"])
        width, height = image.size
        left = max(int(box["Left"] * width - padding), 0)
        top = max(int(box["Top"] * height - padding), 0)
        crop_w = min(int(box["Width"] * width + padding * 2), width - left)
        crop_h = min(int(box["Height"] * height + padding * 2), height - top)
        sharp.call(
            options, "extract", {"left": left, "top": top, "width": crop_w, "height": crop_h}
        )

    def moderate(self, options: sharp.Options, frames: list[Image.Image], value: Any) -> None:
        if value is not True and not isinstance(value, dict):
            return
        settings = value if isinstance(value, dict) else {}
        image = self._rendered(options, frames)
        confidence = settings.get("minConfidence")
        found = self.rekognition.moderation_labels(
            _jpeg(image), 75.0 if confidence is None else float(confidence)
        )
        blur = settings.get("blur")
        strength = 50 if blur is None else int(-(-float(blur) // 1))  # Math.ceil
        if not 0.3 <= strength <= 1000:
            return
        wanted = settings.get("moderationLabels")
        if wanted is not None:
            hit = any(label.get("Name") in wanted for label in found)
        else:
            hit = bool(found)
        if hit:
            options.blur = float(strength)

    def round_crop(
        self, options: sharp.Options, frames: list[Image.Image], value: Any, input_format: str
    ) -> tuple[list[Image.Image], sharp.Options]:
        """The image so far, cut to an ellipse, written and read again (a new pipeline: what
        came before is done), then trimmed of its border."""
        if value is not True and not isinstance(value, dict):
            return frames, options
        settings = value if isinstance(value, dict) else {}
        image = self._rendered(options, frames)
        width, height = image.size

        def given(name: str, default: float) -> float:
            number = settings.get(name)
            if isinstance(number, int | float) and not isinstance(number, bool) and number > 0:
                return float(number)
            return default

        radius = min(width, height) / 2
        fmt = options.format or input_format
        cut = ops.round_crop(
            image,
            (given("left", width / 2), given("top", height / 2)),
            (given("rx", radius), given("ry", radius)),
            keep_alpha=fmt in ("png", "webp", "avif", "tiff", "gif"),
        )
        box = ops.trim_box(cut)
        if box is not None:
            cut = cut.crop(box)
        fresh = sharp.Options()
        fresh.format = options.format
        fresh.format_options = options.format_options
        return [cut], fresh

    # --- writing --------------------------------------------------------------------------------

    def encode(
        self,
        frames: list[Image.Image],
        fmt: str,
        options: sharp.Options,
        header: Any,
        keep_metadata: bool,
        durations: list[int],
    ) -> bytes:
        given = options.format_options.get(fmt, {})
        buffer = io.BytesIO()
        extra: dict[str, Any] = {}
        if keep_metadata and fmt in ("jpeg", "png", "webp", "avif", "tiff"):
            if header.exif:
                extra["exif"] = header.exif
            if header.icc_profile:
                extra["icc_profile"] = header.icc_profile
        first = frames[0]
        if fmt in ("jpeg", "tiff") and ops.has_alpha(first):
            # libvips writes formats without alpha flattened on black.
            frames = [ops.flatten(frame, sharp.BLACK) for frame in frames]
            first = frames[0]
        if fmt == "jpeg":
            image = ops.rgb_mode(first).convert("RGB") if first.mode != "L" else first
            subsampling = 0 if given.get("chromaSubsampling") == "4:4:4" else 2
            image.save(
                buffer,
                "JPEG",
                quality=int(given.get("quality", 80)),
                progressive=bool(given.get("progressive", False)),
                subsampling=subsampling,
                optimize=bool(given.get("optimiseCoding", True)),
                **extra,
            )
        elif fmt == "png":
            image = first if first.mode in ("L", "LA", "RGB", "RGBA") else first.convert("RGBA")
            image.save(buffer, "PNG", compress_level=int(given.get("compressionLevel", 6)), **extra)
        elif fmt == "webp":
            effort = self.doc.effort if self.doc.effort is not None else given.get("effort", 4)
            kw = {
                "quality": int(given.get("quality", 80)),
                "lossless": bool(given.get("lossless", False)),
                "method": int(effort),
                **extra,
            }
            if len(frames) > 1:
                kw.update(
                    save_all=True,
                    append_images=frames[1:],
                    duration=durations,
                    loop=header.loop or 0,
                )
            ops.rgb_mode(first).save(buffer, "WEBP", **kw)
        elif fmt == "avif":
            ops.rgb_mode(first).save(
                buffer, "AVIF", quality=int(given.get("quality", 50)), subsampling="4:4:4", **extra
            )
        elif fmt == "tiff":
            image = ops.rgb_mode(first)
            compression = given.get("compression", "jpeg")
            if compression == "jpeg":
                image = image.convert("RGB")
                image.save(
                    buffer, "TIFF", compression="jpeg", quality=int(given.get("quality", 80))
                )
            else:
                image.save(buffer, "TIFF", compression=str(compression))
        elif fmt == "gif":
            kw2: dict[str, Any] = {"loop": header.loop or 0}
            if len(frames) > 1:
                kw2.update(save_all=True, append_images=frames[1:], duration=durations)
            first.save(buffer, "GIF", **kw2)
        else:
            _unsupported(fmt)
        return buffer.getvalue()


def validate_resize(edits: dict[str, Any]) -> dict[str, Any]:
    """image-handler.ts validateResizeInputs: sizes given are rounded numbers (`"90"` is 90),
    and one that is not above 0 is 400 `InvalidResizeException`."""
    resize = edits.get("resize")
    if not isinstance(resize, dict):
        return edits
    resize = dict(resize)
    for name in ("width", "height"):
        value = resize.get(name)
        if value is None:
            continue
        number = _js_number(value)
        if value not in (0, "", False):
            resize[name] = number if math.isnan(number) else math.floor(number + 0.5)
        if number <= 0:  # NaN is not
            raise SihError(400, "InvalidResizeException", "The image size is invalid.")
    return {**edits, "resize": resize}


def _js_number(value: Any) -> float:
    """JavaScript's Number(value)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(text)
        except ValueError:
            return float("nan")
    return float("nan")


def _unsupported(fmt: object) -> str:
    raise InvalidEdit(f"toFormat: unsupported output format {fmt!r}")


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    ops.rgb_mode(image).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _ratio(value: Any, size: int) -> int | None:
    percent = _ratio_percent(value)
    return None if percent is None else (size * percent) // 100


def _ratio_percent(value: Any) -> int | None:
    text = str(value) if value is not None else ""
    if text.isdigit() and 0 <= int(text) <= 100 and text == str(int(text)):
        return int(text)
    return None


def _offset(value: Any, size: int, overlay: int) -> int | None:
    """image-handler.ts calcOverlaySizeOption: pixels or `Np` percent, negative ones from the
    far edge (less the overlay)."""
    if value is None:
        return None
    text = str(value)
    percent = text.endswith("p")
    number = _js_int(text[:-1] if percent else text)
    if number is None:
        return None
    if percent:
        if number < 0:
            return int((size + size * number / 100 - overlay) // 1)
        return int((size * number / 100) // 1)
    return size + number - overlay if number < 0 else number


def _js_int(text: str) -> int | None:
    match = re.match(r"^\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else None
