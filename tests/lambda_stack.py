"""The Lambda handler for the tests: its events and context, and Stack, the handler over moto
with its buckets filled and its settings in the environment (the `stack` fixture in conftest.py
builds one for each test)."""

from __future__ import annotations

import base64
import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from tests.aws_fixtures import MotoAws
from tests.images import SAMPLES
from thumbor_urls.aws import clients, lambda_handler, lifecycle, s3, secrets
from thumbor_urls.config import Settings

SETTING_NAMES = frozenset(Settings._fields)


@dataclass
class Context:
    remaining_ms: int = 29_000
    aws_request_id: str = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    log: dict[str, Any]

    def json(self) -> Any:
        return json.loads(self.body)

    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.body))


def v2_event(path: str, method: str = "GET", query: str = "", **headers: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.replace("_", "-").lower(): v for k, v in headers.items()},
        "requestContext": {"http": {"method": method, "path": path}},
        "isBase64Encoded": False,
    }


def v1_event(path: str, method: str = "GET", **headers: str) -> dict[str, Any]:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {k.replace("_", "-"): v for k, v in headers.items()} or None,
        "queryStringParameters": None,
        "requestContext": {"httpMethod": method},
        "body": None,
        "isBase64Encoded": False,
    }


@dataclass
class Stack:
    aws: MotoAws
    source: str
    other: str
    results: str
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def configure(self, **settings: object) -> None:
        for name, value in settings.items():
            self.monkeypatch.setenv(name, str(value))
        lambda_handler._CONTAINER.pop("service", None)

    def call(self, event: dict[str, Any], context: Context | None = None) -> Answer:
        self.capsys.readouterr()
        proxy = lambda_handler.handler(event, context or Context())
        lines = [line for line in self.capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 1, lines  # one structured line per request
        body = base64.b64decode(proxy["body"]) if proxy["isBase64Encoded"] else proxy["body"]
        return Answer(proxy["statusCode"], proxy["headers"], body, json.loads(lines[0]))

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.call(v2_event(path, **kwargs))

    def put(self, bucket: str, key: str, data: bytes, content_type: str = "image/jpeg") -> None:
        self.aws.client("s3").put_object(
            Bucket=bucket, Key=key, Body=data, ContentType=content_type
        )

    def result_keys(self) -> list[str]:
        listing = self.aws.client("s3").list_objects_v2(Bucket=self.results)
        return [item["Key"] for item in listing.get("Contents", [])]

    def signing_secret(self, value: str | list[Any], field: str = "") -> str:
        """Store `value` in Secrets Manager (as JSON under `field`, when given: a key, or a
        list of keys) and configure signed URLs with it; returns the secret's name."""
        name = f"signing-{len(json.dumps(value))}-{field or 'plain'}-{self.source}"
        secret = json.dumps({field: value}) if field else str(value)
        self.aws.client("secretsmanager").create_secret(Name=name, SecretString=secret)
        self.configure(
            ENABLE_SIGNATURE="Yes", SECRETS_MANAGER=name, SECRET_KEY=field, ALLOW_UNSAFE_URL="No"
        )
        return name


def reset_caches() -> None:
    """Forget the handler's clients, service, fallback and keys: the next call starts cold."""
    clients.reset()
    lambda_handler._CONTAINER.clear()
    lambda_handler._CONTAINER["cold"] = True
    s3._FALLBACK.clear()
    secrets._VALUES.clear()
    lifecycle._READING.clear()


@contextlib.contextmanager
def stack_over(
    moto_aws: MotoAws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Stack]:
    """The handler configured for fresh buckets on `moto_aws`: src (astronaut.jpg,
    photos/pan.gif), other (elsewhere.jpg) and res for results; caches reset before and after."""
    for name in SETTING_NAMES | {"AWS_PROFILE", "AWS_ENDPOINT_URL_S3"}:
        monkeypatch.delenv(name, raising=False)
    for name, value in moto_aws.env().items():
        monkeypatch.setenv(name, value)
    moto_aws.proxy.clear()
    reset_caches()
    source, other, results = (
        moto_aws.bucket("src"),
        moto_aws.bucket("other"),
        moto_aws.bucket("res"),
    )
    built = Stack(moto_aws, source, other, results, capsys, monkeypatch)
    astronaut = (SAMPLES / "astronaut.jpg").read_bytes()
    built.put(source, "astronaut.jpg", astronaut)
    built.put(source, "photos/pan.gif", (SAMPLES / "pan.gif").read_bytes(), "image/gif")
    built.put(other, "elsewhere.jpg", astronaut)
    built.configure(
        SOURCE_BUCKETS=f"{source},{other}",
        RESULT_STORAGE_BUCKET=results,
        S3_TIMEOUT_SECONDS="2",
        DETECTORS="",  # as serverless.yml sets it by default: no detector (no OpenCV there)
    )
    try:
        yield built
    finally:
        moto_aws.proxy.clear()
        reset_caches()
