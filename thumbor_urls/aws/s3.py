"""Originals and results in S3, and the mapping of S3's failures to clear HTTP statuses."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

from ..errors import (
    AccessDenied,
    BucketNotAllowed,
    ImageServiceError,
    NoSuchKey,
    ServiceUnavailable,
    SourceTimeout,
    SourceUnavailable,
)
from ..sources import DEFAULT_MAX_BYTES, Original, too_large
from ..stores import StoredResult
from .clients import client

log = logging.getLogger(__name__)

_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchBucket"}
_DENIED = {"AccessDenied", "Forbidden", "403", "AllAccessDisabled", "InvalidObjectState"}
_BUSY = {
    "SlowDown",
    "ServiceUnavailable",
    "503",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalError",
    "500",
}


def map_error(error: Exception, what: str) -> ImageServiceError:
    """An S3 (botocore) failure as one of our errors; never a bare 500."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in _NOT_FOUND or status == 404:
            return NoSuchKey(f"no image at {what}")
        if code in _DENIED or status == 403:
            return AccessDenied(f"this function may not read {what}")
        if code in _BUSY or status >= 500:
            return ServiceUnavailable(f"S3 is busy ({code or status}) reading {what}; retry soon")
        return SourceUnavailable(f"S3 answered {code or status} reading {what}")
    if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
        return SourceTimeout(f"S3 did not answer in time reading {what}; retry soon")
    if isinstance(error, ConnectionError):
        return ServiceUnavailable(f"S3 could not be reached reading {what}; retry soon")
    return SourceUnavailable(f"S3 failed reading {what}: {type(error).__name__}")


@contextlib.contextmanager
def s3_errors(what: str) -> Iterator[None]:
    """S3's (botocore's) failures inside the block as our errors, about `what`."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise map_error(error, what) from None


class S3Source:
    """Originals in an allow-list of buckets. `s3:<bucket>/<key>` picks a bucket of the list
    (anything else is 403 `BucketNotAllowed`); a plain key is read from the first bucket.
    Read-only: this class never writes."""

    def __init__(
        self, buckets: tuple[str, ...], timeout: float = 5.0, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if not buckets:
            raise ValueError("S3Source needs at least one bucket")
        self.buckets = buckets
        self.timeout = timeout
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        # Part of every result cache key (see Source): plain keys are read from the first bucket,
        # `s3:` keys name theirs, so adding a bucket to the list keeps every cached result.
        return f"S3Source(default={self.buckets[0]!r})"

    def locate(self, key: str) -> tuple[str, str]:
        bucket = self.buckets[0]
        if key.startswith("s3:"):
            bucket, _, key = key[3:].partition("/")
            if bucket not in self.buckets:
                raise BucketNotAllowed(f"bucket {bucket!r} is not one of this service's sources")
        key = key.lstrip("/")
        if not key or "\x00" in key:
            raise NoSuchKey(f"no image at {key!r}")
        return bucket, key

    def identity(self, key: str) -> str:
        bucket, name = self.locate(key)
        return f"s3://{bucket}/{name}"

    def load(self, key: str) -> Original:
        return self.open(key).read()

    def open(self, key: str) -> OpenedObject:
        """The object at `key` with its headers read and its body not (thumbor_urls/lookup.py)."""
        bucket, name = self.locate(key)
        where = f"s3://{bucket}/{name}"
        with s3_errors(where):
            answer = client("s3", self.timeout).get_object(Bucket=bucket, Key=name)
        return OpenedObject(answer, where, self.max_bytes)

    def last_modified(self, key: str) -> float | None:
        bucket, name = self.locate(key)
        with s3_errors(f"s3://{bucket}/{name}"):
            answer = client("s3", self.timeout).head_object(Bucket=bucket, Key=name)
        stamp: float = answer["LastModified"].timestamp()
        return stamp


class OpenedObject:
    """A GetObject answer whose body is read by read(), or dropped by close()."""

    def __init__(self, answer: Any, where: str, max_bytes: int) -> None:
        self.answer = answer
        self.where = where
        self.max_bytes = max_bytes
        self.last_modified: float | None = answer["LastModified"].timestamp()

    def read(self) -> Original:
        answer = self.answer
        with s3_errors(self.where):
            # Refused from the object's size, before its body is read.
            size = int(answer.get("ContentLength") or 0)
            if size > self.max_bytes:
                answer["Body"].close()
                raise too_large(size, self.max_bytes, self.where)
            data = answer["Body"].read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise too_large(len(data), self.max_bytes, self.where)
        expires = answer.get("Expires")
        return Original(
            data,
            self.last_modified,
            cache_control=answer.get("CacheControl"),
            stored_expires=expires.timestamp() if hasattr(expires, "timestamp") else None,
        )

    def close(self) -> None:
        self.answer["Body"].close()


class S3ResultStore:
    """Results under `results/<key>` in one bucket (expired by the bucket's lifecycle rule).
    A failing result store never fails a request: a read error is a miss, a write is skipped."""

    def __init__(self, bucket: str, prefix: str = "results/", timeout: float = 5.0) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def get(self, key: str) -> StoredResult | None:
        try:
            with s3_errors(f"s3://{self.bucket}/{self.prefix}{key}"):
                answer = client("s3", self.timeout).get_object(
                    Bucket=self.bucket, Key=self.prefix + key
                )
                data = answer["Body"].read()
        except ImageServiceError as error:
            if not isinstance(error, NoSuchKey):
                log.warning("result store read failed: %s", error.message)
            return None
        meta = answer.get("Metadata", {})
        return StoredResult(
            data,
            answer.get("ContentType", "application/octet-stream"),
            meta.get("vary-accept") == "1",
            answer["LastModified"].timestamp(),
        )

    def put(self, key: str, data: bytes, content_type: str, vary_accept: bool) -> None:
        try:
            with s3_errors(f"s3://{self.bucket}/{self.prefix}{key}"):
                client("s3", self.timeout).put_object(
                    Bucket=self.bucket,
                    Key=self.prefix + key,
                    Body=data,
                    ContentType=content_type,
                    Metadata={"vary-accept": "1" if vary_accept else "0"},
                )
        except ImageServiceError as error:
            log.warning("result store write failed: %s", error.message)

    def get_data(self, key: str) -> dict[str, Any] | None:
        """A JSON document under `<prefix>data/<key>.json` (detector data); None on any failure."""
        stored = self.get(f"data/{key}.json")
        if stored is None:
            return None
        try:
            value = json.loads(stored.data)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def put_data(self, key: str, value: dict[str, Any]) -> None:
        self.put(f"data/{key}.json", json.dumps(value).encode(), "application/json", False)


def store_oversize(
    bucket: str, body: bytes, content_type: str, cache_control: str, timeout: float
) -> str:
    """Store a body too large for Lambda's response under `oversize/` (named by its content,
    so that the same result is stored once) and return its key: CloudFront serves that prefix
    from the bucket, with the image's own caching."""
    key = f"oversize/{hashlib.blake2b(body, digest_size=20).hexdigest()}"
    with s3_errors(f"s3://{bucket}/{key}"):
        client("s3", timeout).put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl=cache_control
        )
    return key


_FALLBACK: dict[tuple[str, str], tuple[bytes, str]] = {}


def fallback_image(bucket: str, key: str, timeout: float) -> tuple[bytes, str]:
    """The default fallback image (bytes, content type), read once per container."""
    where = (bucket, key)
    if where not in _FALLBACK:
        with s3_errors(f"s3://{bucket}/{key}"):
            answer = client("s3", timeout).get_object(Bucket=bucket, Key=key)
            data = answer["Body"].read()
        _FALLBACK[where] = (data, answer.get("ContentType", "application/octet-stream"))
    return _FALLBACK[where]
