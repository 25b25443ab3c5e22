"""AWS Serverless Image Handler's base64 JSON requests: the mapping to Thumbor URLs, and the
whole request through the Lambda handler against moto, signed with `?signature=` and not."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.lambda_stack import Stack
from thumbor_urls.aws import sih
from thumbor_urls.errors import InvalidUrl, SignatureDoesNotMatch
from thumbor_urls.grammar import parse
from thumbor_urls.messages import Request
from thumbor_urls.signing import sih_signature, verify_thumbor

VECTOR_PATH = (
    "/eyJidWNrZXQiOiJ2YWxpZEJ1Y2tldCIsImtleSI6InZhbGlkS2V5IiwiZWRpdHMiOnsidG9Gb3JtYXQiOiJwbmcifX0="
)


def encoded(document: dict[str, Any]) -> str:
    return "/" + base64.b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        ({}, "k.jpg"),
        ({"resize": {"width": 300, "height": 200}}, "300x200/k.jpg"),
        ({"resize": {"width": 300}}, "300x/k.jpg"),
        ({"resize": {"width": 300, "height": 300, "fit": "inside"}}, "fit-in/300x300/k.jpg"),
        ({"resize": {"width": 300, "height": 300, "fit": "outside"}}, "full-fit-in/300x300/k.jpg"),
        ({"resize": {"width": 30, "height": 20, "fit": "fill"}}, "30x20/filters:stretch()/k.jpg"),
        (
            {
                "resize": {
                    "width": 30,
                    "height": 20,
                    "fit": "contain",
                    "background": {"r": 255, "g": 0, "b": 16, "alpha": 1},
                }
            },
            "fit-in/30x20/filters:fill(ff0010)/k.jpg",
        ),
        ({"flip": True, "flop": True}, "-x-/k.jpg"),
        ({"toFormat": "webp", "webp": {"quality": 60}}, "filters:format(webp):quality(60)/k.jpg"),
        ({"grayscale": True, "rotate": 90}, "filters:grayscale():rotate(270)/k.jpg"),
        ({"rotate": 45}, "k.jpg"),
    ],
)
def test_edits_map_to_thumbor(edits: dict[str, Any], expected: str) -> None:
    path, ignored = sih.thumbor_path({"key": "k.jpg", "edits": edits})
    assert path == expected
    assert ignored == []


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # Without a bucket, a key whose first folder looks like an option was read as that
        # option; the generator writes it after the default alignment instead.
        ("left/a.jpg", "middle/left/a.jpg"),
        ("300x200/a.jpg", "middle/300x200/a.jpg"),
        ("trim/a.jpg", "middle/trim/a.jpg"),
    ],
)
def test_keys_that_look_like_options_stay_keys(key: str, expected: str) -> None:
    path, _ = sih.thumbor_path({"key": key})
    assert path == expected
    assert parse(path).image == key
    resized, _ = sih.thumbor_path({"key": key, "edits": {"resize": {"width": 10}}})
    assert (parse(resized).width, parse(resized).image) == (10, key)


def test_a_key_no_thumbor_path_can_carry_is_refused() -> None:
    with pytest.raises(InvalidUrl, match="smart"):
        sih.thumbor_path({"key": "smart/a.jpg"})
    assert sih.thumbor_path({"key": "smart/a.jpg", "bucket": "b"})[0] == "s3:b/smart/a.jpg"


@pytest.mark.parametrize("size", ["Infinity", "-Infinity", "NaN", '"wide"', "-1"])
def test_sizes_that_are_no_numbers_are_invalid(size: str) -> None:
    document = json.loads(f'{{"key": "a.jpg", "edits": {{"resize": {{"width": {size}}}}}}}')
    with pytest.raises(InvalidUrl, match="resize sizes"):
        sih.thumbor_path(document)


def test_bucket_and_ignored_edits() -> None:
    path, ignored = sih.thumbor_path(
        {"bucket": "photos", "key": "/a/b.png", "edits": {"normalize": True, "smartCrop": {}}}
    )
    assert path == "s3:photos/a/b.png"
    assert ignored == ["normalize", "smartCrop"]


def test_the_issue_vector() -> None:
    assert sih.is_sih_path(VECTOR_PATH)
    request = Request("GET", VECTOR_PATH, query={"signature": sih_signature("secret", VECTOR_PATH)})
    rewritten, _ = sih.rewrite(request, "secret")
    signature, _, rest = rewritten.path.lstrip("/").partition("/")
    assert rest == "filters:format(png)/s3:validBucket/validKey"
    assert verify_thumbor("secret", signature, rest)
    assert "signature" not in rewritten.query
    unsigned, _ = sih.rewrite(Request("GET", VECTOR_PATH), "")
    assert unsigned.path == "/unsafe/filters:format(png)/s3:validBucket/validKey"
    with pytest.raises(SignatureDoesNotMatch):
        sih.rewrite(Request("GET", VECTOR_PATH), "secret")
    with pytest.raises(SignatureDoesNotMatch):
        sih.rewrite(Request("GET", VECTOR_PATH, query={"signature": "00" * 32}), "secret")


def test_not_sih_paths() -> None:
    assert not sih.is_sih_path("/unsafe/300x200/a.jpg")
    assert not sih.is_sih_path("/dwEEVUGtTG5MKzRpLw84XnURBAM=/300x200/smart/astronaut.jpg")
    assert not sih.is_sih_path("/healthcheck")
    with pytest.raises(InvalidUrl):
        sih.decode("/eyJub3QganNvbg")  # '{"not json'
    with pytest.raises(InvalidUrl):
        sih.decode(encoded({"bucket": "b"}))


def test_sih_request_through_the_handler(stack: Stack) -> None:
    path = encoded(
        {
            "bucket": stack.source,
            "key": "astronaut.jpg",
            "edits": {"resize": {"width": 120, "height": 120, "fit": "inside"}, "toFormat": "webp"},
        }
    )
    answer = stack.get(path)
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"] == "image/webp"
    assert answer.image().size == (120, 120)
    assert answer.log["sih"] is True
    assert answer.log["key"] == f"s3:{stack.source}/astronaut.jpg"
    refused = stack.get(encoded({"bucket": "not-allowed", "key": "astronaut.jpg"}))
    assert refused.status == 403
    assert refused.json()["code"] == "BucketNotAllowed"
    broken = stack.get("/eyJub3QganNvbg")
    assert broken.status == 400
    assert broken.json()["code"] == "InvalidUrl"


def test_signed_sih_request_through_the_handler(
    stack: Stack,
    signing_secret: Callable[..., str],
) -> None:
    signing_secret("sih-key")
    path = encoded({"key": "astronaut.jpg", "edits": {"grayscale": True}})
    answer = stack.get(path, query=f"signature={sih_signature('sih-key', path)}")
    assert answer.status == 200, answer.body
    assert answer.image().mode == "L"
    unsigned = stack.get(path)
    assert unsigned.status == 403
    assert unsigned.json()["code"] == "SignatureDoesNotMatch"
