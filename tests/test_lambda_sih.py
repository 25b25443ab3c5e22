"""AWS Serverless Image Handler's requests through the Lambda handler against moto, with
SIH_COMPAT on (the recorded differential test is tests/peers/sih/; here: S3 buckets, the key
from Secrets Manager, and the switch off)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from tests.lambda_stack import Stack
from thumbor_urls.signing import sih_signature


def encoded(document: dict[str, Any]) -> str:
    return "/" + base64.b64encode(json.dumps(document).encode()).decode()


def test_default_request_through_the_handler(stack: Stack) -> None:
    stack.configure(SIH_COMPAT="true")
    edits = {"resize": {"width": 120, "height": 120, "fit": "inside"}, "toFormat": "webp"}
    answer = stack.get(encoded({"bucket": stack.source, "key": "astronaut.jpg", "edits": edits}))
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"] == "image/webp"
    assert answer.image().size == (120, 120)
    assert answer.log["outcome"] == "sih"
    refused = stack.get(encoded({"bucket": "not-allowed", "key": "astronaut.jpg"}))
    assert refused.status == 403
    assert refused.json()["code"] == "ImageBucket::CannotAccessBucket"  # SIH's own code
    # Not base64 JSON: SIH reads it as a key of its Thumbor style, and there is none.
    assert stack.get("/eyJub3QganNvbg").status == 404


def test_query_parameters_on_a_plain_key(stack: Stack) -> None:
    stack.configure(SIH_COMPAT="true")
    answer = stack.get("/astronaut.jpg", query="width=64&height=48&format=png")
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"] == "image/png"
    assert answer.image().size == (64, 48)


def test_signed_requests_with_the_key_from_secrets_manager(
    stack: Stack, signing_secret: Callable[..., str]
) -> None:
    signing_secret("sih-key", field="signingKey")
    stack.configure(SIH_COMPAT="true")
    path = encoded({"key": "astronaut.jpg", "edits": {"grayscale": True}})
    answer = stack.get(path, query=f"signature={sih_signature('sih-key', path)}")
    assert answer.status == 200, answer.body
    red, green, blue = answer.image().convert("RGB").split()
    assert red.tobytes() == green.tobytes() == blue.tobytes()
    unsigned = stack.get(path)
    assert (unsigned.status, unsigned.json()["code"]) == (400, "AuthorizationQueryParametersError")
    wrong = stack.get(path, query="signature=" + "0" * 64)
    assert (wrong.status, wrong.json()["code"]) == (403, "SignatureDoesNotMatch")


def test_without_the_switch_thumbors_rules_stand(stack: Stack) -> None:
    path = encoded({"bucket": stack.source, "key": "astronaut.jpg"})
    answer = stack.get(path)
    assert answer.status in (400, 403, 404)
    assert answer.headers["Content-Type"] == "application/json"
    assert stack.get("/astronaut.jpg", query="width=64").status != 200
