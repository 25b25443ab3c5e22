"""HTTP origins on the Lambda, as the stack's httpOrigins=Yes configures them (LOADERS=s3,http and
ALLOWED_SOURCES): a real HTTP origin on loopback (the loopback switch on for it, as tests only
may), the source buckets and the result bucket in moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.http_origins import Origin, image
from tests.images import SAMPLES
from tests.lambda_stack import Stack

PHOTO = (SAMPLES / "astronaut.jpg").read_bytes()


@pytest.fixture
def origin() -> Iterator[Origin]:
    with Origin() as server:
        server.routes["/photos/a.jpg"] = image(PHOTO, headers={"Cache-Control": "max-age=600"})
        yield server


def test_urls_and_bucket_keys_side_by_side(stack: Stack, origin: Origin) -> None:
    stack.configure(LOADERS="s3,http", ALLOWED_SOURCES="127.0.0.1", HTTP_LOADER_ALLOW_LOOPBACK="1")
    remote = stack.get(f"/unsafe/fit-in/120x120/{origin.url('/photos/a.jpg')}")
    assert remote.status == 200, remote.body[:300]
    assert max(remote.image().size) == 120
    # Kept in the result bucket: the same URL again is answered without the origin.
    again = stack.get(f"/unsafe/fit-in/120x120/{origin.url('/photos/a.jpg')}")
    assert again.status == 200
    assert again.body == remote.body
    assert origin.paths() == ["/photos/a.jpg"]
    # The bucket's keys are read from S3 as before.
    local = stack.get("/unsafe/fit-in/120x120/astronaut.jpg")
    assert local.status == 200
    assert max(local.image().size) == 120


def test_hosts_outside_allowed_sources_are_never_asked(stack: Stack, origin: Origin) -> None:
    stack.configure(
        LOADERS="s3,http", ALLOWED_SOURCES="images.example.com", HTTP_LOADER_ALLOW_LOOPBACK="1"
    )
    refused = stack.get(f"/unsafe/100x100/{origin.url('/photos/a.jpg')}")
    assert (refused.status, refused.json()["code"]) == (400, "SourceNotAllowed")
    assert origin.paths() == []


def test_without_http_origins_a_url_is_a_bucket_key(stack: Stack, origin: Origin) -> None:
    # The stack's default (httpOrigins=No): LOADERS unset is s3; nothing is fetched.
    answer = stack.get(f"/unsafe/100x100/{origin.url('/photos/a.jpg')}")
    assert (answer.status, answer.json()["code"]) == (404, "NoSuchKey")
    assert origin.paths() == []
