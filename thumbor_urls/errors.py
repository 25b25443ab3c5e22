"""Every failure a client can cause, with its HTTP status and a stable code.

Anything raised outside this hierarchy is a bug in this service and is answered with 500.
"""

from __future__ import annotations


class ImageServiceError(Exception):
    """The base of every answered failure. Raised itself (500 `InternalError`), it is a bug of
    ours: answered without a stack trace, logged whole."""

    status: int = 500
    code: str = "InternalError"
    retry_after: int | None = None  # seconds, sent as `Retry-After` when set

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "code": self.code, "message": self.message}


class InvalidUrl(ImageServiceError):
    """A malformed URL or filter list."""

    status, code = 400, "InvalidUrl"


class InvalidFilterArgument(ImageServiceError):
    """A filter's argument is not valid: with `STRICT_FILTERS=true` (otherwise the filter is
    skipped, as Thumbor does, and listed in `meta/`), and always for `smart_crop()`'s face index
    or padding out of range, `extract_focal()` nested twice, or an image a filter names that is
    not there."""

    status, code = 400, "InvalidFilterArgument"


class UnknownFilter(ImageServiceError):
    """A filter we do not have, with `STRICT_FILTERS=true`."""

    status, code = 400, "UnknownFilter"


class SignatureDoesNotMatch(ImageServiceError):
    """The URL's signature is missing or wrong."""

    status, code = 403, "SignatureDoesNotMatch"


class UrlExpired(ImageServiceError):
    """The URL's `expire(UNIX_MS)` filter (imagor's) is in the past: checked right after the
    signature, before anything is loaded. 403 like a signature that does not match (the URL no
    longer grants access), with its own code so that a client knows to ask for a new URL rather
    than suspect its key. imagor answers 410 Gone here; the status is the only difference."""

    status, code = 403, "UrlExpired"


class UnsafeUrlNotAllowed(ImageServiceError):
    """`/unsafe/` while `ALLOW_UNSAFE_URL=false`."""

    status, code = 403, "UnsafeUrlNotAllowed"


class NoSuchKey(ImageServiceError):
    """No such image (also for paths that try to leave the root, or that the file system
    cannot resolve: a name too long, a file used as a folder), and `/`, `/favicon.ico`."""

    status, code = 404, "NoSuchKey"


class MethodNotAllowed(ImageServiceError):
    """Anything but GET and HEAD."""

    status, code = 405, "MethodNotAllowed"


class ImageTooLarge(ImageServiceError):
    """Over `MAX_SOURCE_BYTES`, `MAX_SOURCE_PIXELS`, `MAX_ANIMATION_FRAMES`, `MAX_OUTPUT_SIDE`,
    `MAX_OUTPUT_PIXELS`, or the memory budget of a request: the message says what and by how
    much."""

    status, code = 413, "ImageTooLarge"


class UnsupportedImageFormat(ImageServiceError):
    """Not a JPEG, PNG, GIF, WebP or AVIF image, whatever its name; damaged image data; an output
    format whose optional extra is not installed."""

    status, code = 415, "UnsupportedImageFormat"


class SourceUnavailable(ImageServiceError):
    """(Lambda) S3 answered something unexpected."""

    status, code = 502, "SourceUnavailable"


class AccessDenied(ImageServiceError):
    """The file system or S3 refused to let the original be read."""

    status, code = 403, "AccessDenied"


class OriginNotAllowed(ImageServiceError):
    """(Lambda) a request without the origin secret (`ORIGIN_SECRET`) that CloudFront sends:
    the API was called directly, around the CDN."""

    status, code = 403, "OriginNotAllowed"


class SigningNotOffered(ImageServiceError):
    """(local server) the playground asked for a signature, and this server does not sign for
    it: no `SECURITY_KEY`, `PLAYGROUND_SIGNING` off, or not on loopback."""

    status, code = 403, "SigningNotOffered"


class BucketNotAllowed(ImageServiceError):
    """(Lambda) an `s3:<bucket>/` that is not one of `SOURCE_BUCKETS`."""

    status, code = 403, "BucketNotAllowed"


class NotImplementedFeature(ImageServiceError):
    """`smart_crop()` on a server whose `DETECTORS` has no face detector."""

    status, code = 501, "NotImplemented"


class ServiceUnavailable(ImageServiceError):
    """(Lambda) S3 throttled or failed, or the signing secret could not be read; with
    `Retry-After`."""

    status, code, retry_after = 503, "ServiceUnavailable", 1


class SourceTimeout(ImageServiceError):
    """(Lambda) S3 did not answer within `S3_TIMEOUT_SECONDS`; with `Retry-After`."""

    status, code, retry_after = 504, "SourceTimeout", 1
