"""Signing on Lambda, against moto: several keys in the JSON secret (rotation), the forms the
secret may take, imagor's signatures and expire(), and `sign --sih` requests served."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable

import pytest

from tests.lambda_stack import Stack
from thumbor_urls.cli import main
from thumbor_urls.signing import sign_path, sih_signature

NEW, OLD = "new-key", "old-key"


def sign_cli(*args: str) -> str:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["sign", *args]) == 0
    return printed.getvalue().strip()


def test_keys_rotate_through_the_json_secret(
    stack: Stack, signing_secret: Callable[..., str]
) -> None:
    signing_secret([NEW, OLD], field="signingKeys")
    for key in (NEW, OLD):
        for signer in ("sha1", "sha256"):
            answer = stack.get(sign_path(key, "60x40/astronaut.jpg", signer))
            assert answer.status == 200, (key, signer, answer.body)
            assert answer.image().size == (60, 40)
    refused = stack.get(sign_path("other-key", "60x40/astronaut.jpg"))
    assert (refused.status, refused.json()["code"]) == (403, "SignatureDoesNotMatch")
    # SIH's requests too (SIH_COMPAT), with either key, made by `sign --sih`.
    stack.configure(SIH_COMPAT="true")
    document = '{"key": "astronaut.jpg", "edits": {"resize": {"width": 50, "height": 50}}}'
    for key in (NEW, OLD):
        path, _, query = sign_cli("--key", key, "--sih", document).partition("?")
        answer = stack.get(path, query=query)
        assert answer.status == 200, (key, answer.body)
        assert answer.image().size == (50, 50)
        assert answer.log["outcome"] == "sih"
    path, _, query = sign_cli("--key", "other-key", "--sih", document).partition("?")
    assert stack.get(path, query=query).json()["code"] == "SignatureDoesNotMatch"


def test_a_key_string_is_taken_as_written(stack: Stack, signing_secret: Callable[..., str]) -> None:
    signing_secret("one,key with a comma", field="signingKey")
    assert stack.get(sign_path("one,key with a comma", "20x20/astronaut.jpg")).status == 200
    assert stack.get(sign_path("one", "20x20/astronaut.jpg")).status == 403


@pytest.mark.parametrize("value", [[], [""], ["a", 3], 5, {"key": "a"}])
def test_a_secret_that_holds_no_keys_is_unavailable(
    stack: Stack, signing_secret: Callable[..., str], value: object
) -> None:
    signing_secret(value, field="signingKeys")
    answer = stack.get(sign_path("a", "20x20/astronaut.jpg"))
    assert (answer.status, answer.json()["code"]) == (503, "ServiceUnavailable")
    assert "array of keys" in answer.json()["message"]


def test_sih_requests_still_served_when_only_sha256_is_accepted(
    stack: Stack, signing_secret: Callable[..., str]
) -> None:
    signing_secret([NEW], field="signingKeys")
    stack.configure(SIGNER_TYPES="sha256")
    assert stack.get(sign_path(NEW, "20x20/astronaut.jpg")).status == 403
    assert stack.get(sign_path(NEW, "20x20/astronaut.jpg", "sha256")).status == 200
    stack.configure(SIH_COMPAT="true")
    path = "/eyJrZXkiOiJhc3Ryb25hdXQuanBnIiwiZWRpdHMiOnsiZ3JheXNjYWxlIjp0cnVlfX0="
    answer = stack.get(path, query=f"signature={sih_signature(NEW, path)}")
    assert answer.status == 200, answer.body
    red, green, blue = answer.image().convert("RGB").split()
    assert red.tobytes() == green.tobytes() == blue.tobytes()


def test_expire_on_lambda(stack: Stack, signing_secret: Callable[..., str]) -> None:
    signing_secret([NEW, OLD], field="signingKeys")
    soon = int((time.time() + 90) * 1000)
    fresh = stack.get(sign_path(OLD, f"30x30/filters:expire({soon})/astronaut.jpg", "sha512"))
    assert fresh.status == 200, fresh.body
    age = int(fresh.headers["Cache-Control"].removeprefix("public, max-age="))
    assert 80 <= age <= 90
    past = int((time.time() - 1) * 1000)
    expired = stack.get(sign_path(NEW, f"30x30/filters:expire({past})/astronaut.jpg"))
    assert (expired.status, expired.json()["code"]) == (403, "UrlExpired")
    assert expired.log["outcome"] == "UrlExpired"


def test_the_whole_secret_may_be_an_array_of_keys(
    stack: Stack, signing_secret: Callable[..., str]
) -> None:
    signing_secret('["new-key", "old-key"]')
    for key in (NEW, OLD):
        assert stack.get(sign_path(key, "20x20/astronaut.jpg")).status == 200
    assert stack.get(sign_path("other", "20x20/astronaut.jpg")).status == 403


def test_a_plain_secret_starting_with_a_bracket_is_one_key(
    stack: Stack, signing_secret: Callable[..., str]
) -> None:
    signing_secret("[not json")
    assert stack.get(sign_path("[not json", "20x20/astronaut.jpg")).status == 200
