"""What a URL asks for, as frozen data: the output of URL parsing, the input of the pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

from .geometry import FocalPoint, GeometryRequest

if TYPE_CHECKING:
    # Only named: a Plan holds filters bound by url.py, and never needs their module to load.
    from .filters.registry import BoundFilter, IgnoredFilter


class Trim(NamedTuple):
    # Which corner's colour is the border colour, and how far (per channel) a pixel may be
    # from it and still count as border.
    corner: Literal["top-left", "bottom-right"] = "top-left"
    tolerance: int = 0


class Output(NamedTuple):
    """Encoder options set by the URL's pre-load filters."""

    quality: int | None = None
    format: str | None = None
    max_age: int | None = None
    strip_exif: bool = False
    strip_icc: bool = False
    auto_jpg: bool | None = None  # autojpg(): None means the AUTO_PNG_TO_JPG setting decides
    max_bytes: int | None = None
    cover: bool = False  # cover(): an animation's first frame only
    expires: int | None = None  # expire(): UNIX milliseconds after which the URL is refused


class SmartCrop(NamedTuple):
    """smart_crop(): crop to one detected face, with padding, before the resize."""

    face_index: int = 0
    padding: int = 0  # pixels of the working image on every side


class Moderation(NamedTuple):
    """moderate(): this request must be moderated; None fields take the settings' values."""

    min_confidence: float | None = None
    labels: tuple[str, ...] = ()


class Plan(NamedTuple):
    path: str  # everything after `unsafe/` or the signature: what the signature covers
    image: str  # the image's key in the source, percent-decoded
    geometry: GeometryRequest = GeometryRequest()
    output: Output = Output()
    focal_points: tuple[FocalPoint, ...] = ()
    # focal(x,y): fractions of the original's upright size, made pixel points once it is known.
    relative_focal_points: tuple[tuple[float, float], ...] = ()
    filters: tuple[BoundFilter, ...] = ()  # post-transform, in URL order
    ignored_filters: tuple[IgnoredFilter, ...] = ()
    trim: Trim | None = None
    smart: bool = False
    smart_crop: SmartCrop | None = None
    moderation: Moderation | None = None
    meta: bool = False
    debug: bool = False

    def with_geometry(self, **changes: object) -> Plan:
        return self._replace(geometry=self.geometry._replace(**changes))  # type: ignore[arg-type]

    def with_relative_focal_points(self, size: tuple[int, int]) -> Plan:
        """The relative focal points as pixel points of an original of `size` (upright)."""
        points = tuple(FocalPoint.from_fraction(x, y, size) for x, y in self.relative_focal_points)
        return self._replace(focal_points=(*self.focal_points, *points), relative_focal_points=())

    def with_output(self, **changes: object) -> Plan:
        return self._replace(output=self.output._replace(**changes))  # type: ignore[arg-type]
