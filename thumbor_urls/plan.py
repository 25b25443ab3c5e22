"""What a URL asks for, as frozen data: the output of URL parsing, the input of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from .filters.registry import BoundFilter, IgnoredFilter
from .geometry import FocalPoint, GeometryRequest


@dataclass(frozen=True)
class Trim:
    # Which corner's colour is the border colour, and how far (per channel) a pixel may be
    # from it and still count as border.
    corner: Literal["top-left", "bottom-right"] = "top-left"
    tolerance: int = 0


@dataclass(frozen=True)
class Output:
    """Encoder options set by the URL's pre-load filters."""

    quality: int | None = None
    format: str | None = None
    max_age: int | None = None
    strip_exif: bool = False
    strip_icc: bool = False
    auto_jpg: bool | None = None  # autojpg(): None means the AUTO_PNG_TO_JPG setting decides
    max_bytes: int | None = None
    cover: bool = False  # cover(): an animation's first frame only


@dataclass(frozen=True)
class SmartCrop:
    """smart_crop(): crop to one detected face, with padding, before the resize."""

    face_index: int = 0
    padding: int = 0  # pixels of the working image on every side


@dataclass(frozen=True)
class Moderation:
    """moderate(): this request must be moderated; None fields take the settings' values."""

    min_confidence: float | None = None
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    path: str  # everything after `unsafe/` or the signature: what the signature covers
    image: str  # the image's key in the source, percent-decoded
    geometry: GeometryRequest = field(default_factory=GeometryRequest)
    output: Output = field(default_factory=Output)
    focal_points: tuple[FocalPoint, ...] = ()
    filters: tuple[BoundFilter, ...] = ()  # post-transform, in URL order
    ignored_filters: tuple[IgnoredFilter, ...] = ()
    trim: Trim | None = None
    smart: bool = False
    smart_crop: SmartCrop | None = None
    moderation: Moderation | None = None
    meta: bool = False
    debug: bool = False

    def with_geometry(self, **changes: object) -> Plan:
        return replace(self, geometry=replace(self.geometry, **changes))  # type: ignore[arg-type]

    def with_output(self, **changes: object) -> Plan:
        return replace(self, output=replace(self.output, **changes))  # type: ignore[arg-type]
