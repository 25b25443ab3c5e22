"""Every failure a client can cause, with its HTTP status and a stable code.

Anything raised outside this hierarchy is a bug in this service and is answered with 500.
"""

from __future__ import annotations


class ImageServiceError(Exception):
    status: int = 500
    code: str = "InternalError"
    retry_after: int | None = None  # seconds, sent as `Retry-After` when set

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "code": self.code, "message": self.message}


class InvalidUrl(ImageServiceError):
    status, code = 400, "InvalidUrl"


class InvalidFilterArgument(ImageServiceError):
    status, code = 400, "InvalidFilterArgument"


class UnknownFilter(ImageServiceError):
    status, code = 400, "UnknownFilter"


class SignatureDoesNotMatch(ImageServiceError):
    status, code = 403, "SignatureDoesNotMatch"


class UnsafeUrlNotAllowed(ImageServiceError):
    status, code = 403, "UnsafeUrlNotAllowed"


class NoSuchKey(ImageServiceError):
    status, code = 404, "NoSuchKey"


class MethodNotAllowed(ImageServiceError):
    status, code = 405, "MethodNotAllowed"


class ImageTooLarge(ImageServiceError):
    status, code = 413, "ImageTooLarge"


class UnsupportedImageFormat(ImageServiceError):
    status, code = 415, "UnsupportedImageFormat"


class SourceUnavailable(ImageServiceError):
    status, code = 502, "SourceUnavailable"


class AccessDenied(ImageServiceError):
    status, code = 403, "AccessDenied"


class BucketNotAllowed(ImageServiceError):
    status, code = 403, "BucketNotAllowed"


class NotImplementedFeature(ImageServiceError):
    status, code = 501, "NotImplemented"


class ServiceUnavailable(ImageServiceError):
    status, code, retry_after = 503, "ServiceUnavailable", 1


class SourceTimeout(ImageServiceError):
    status, code, retry_after = 504, "SourceTimeout", 1
