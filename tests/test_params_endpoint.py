"""`GET /params/<unsafe-or-signature>/<path>`: the path's Params as JSON, checked like the image
URL it describes, with nothing loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.grammar import Params, generate_url, parse
from thumbor_urls.messages import Request, Response
from thumbor_urls.signing import sign_thumbor_path, sih_signature

KEY = "params-key"


@pytest.fixture
def app(tmp_path: Path) -> App:
    # No image in the folder: the endpoint never loads one.
    return App(Settings(FILE_LOADER_ROOT_PATH=tmp_path, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None))


def signed_app(tmp_path: Path, **changes: Any) -> App:
    settings = Settings(
        FILE_LOADER_ROOT_PATH=tmp_path,
        RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None,
        SECURITY_KEY=KEY,
        ALLOW_UNSAFE_URL=False,
    )
    return App(settings.replace(**changes))


def body(response: Response) -> Any:
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


def test_an_unsafe_path_is_described(app: App) -> None:
    path = "trim/fit-in/300x/smart/filters:quality(80):nope(1)/dir/missing.jpg"
    response = app.handle(Request("GET", f"/params/unsafe/{path}"))
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-cache"
    described = body(response)
    assert described == parse(path).as_dict()
    assert (described["width"], described["height"], described["fit_in"]) == (300, None, True)
    # Filters are described, not bound: an unknown one is listed like any other.
    assert described["filters"] == [
        {"name": "quality", "args": ["80"]},
        {"name": "nope", "args": ["1"]},
    ]
    # What the playground does with it: back to the same URL.
    assert generate_url(Params.from_dict(described)) == f"/unsafe/{path}"


def test_head_answers_headers_only(app: App) -> None:
    response = app.handle(Request("HEAD", "/params/unsafe/300x200/a.jpg"))
    assert (response.status, response.body) == (200, b"")
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/params/unsafe/300x200/", "InvalidUrl"),
        ("/params/unsafe/filters:quality(80/a.jpg", "InvalidUrl"),
        ("/params/unsafe/filters:" + ":".join(["blur(1)"] * 21) + "/a.jpg", "TooManyFilters"),
    ],
)
def test_a_bad_path_is_400(app: App, path: str, code: str) -> None:
    response = app.handle(Request("GET", path))
    assert response.status == 400
    assert body(response)["code"] == code


def test_signed_paths_are_checked_like_image_urls(tmp_path: Path) -> None:
    app = signed_app(tmp_path)
    path = "fit-in/100x100/filters:fill(red)/my photo.jpg"
    url = sign_thumbor_path(KEY, path)
    response = app.handle(Request("GET", f"/params{url}"))
    assert (response.status, body(response)["image"]) == (200, "my photo.jpg")
    # Sent percent-encoded: the adapter decodes the path once and keeps the raw one.
    raw = f"/params{quote(url, safe='/:(),=')}"
    response = app.handle(Request("GET", f"/params{url}", raw_path=raw))
    assert response.status == 200
    tampered = url.replace("100x100", "100x101")
    for refused, code in [
        (f"/params{tampered}", "SignatureDoesNotMatch"),
        (f"/params/unsafe/{path}", "UnsafeUrlNotAllowed"),
        (f"/params/{path}", "SignatureDoesNotMatch"),
    ]:
        response = app.handle(Request("GET", refused))
        assert response.status == 403, refused
        assert body(response)["code"] == code


def test_an_sih_signature_covers_the_path_after_params(tmp_path: Path) -> None:
    app = signed_app(tmp_path)
    path = "/300x200/a.jpg"
    query = {"signature": sih_signature(KEY, path)}
    response = app.handle(Request("GET", f"/params{path}", query=query))
    assert (response.status, body(response)["width"]) == (200, 300)
    query = {"signature": sih_signature(KEY, "/300x201/a.jpg")}
    response = app.handle(Request("GET", f"/params{path}", query=query))
    assert response.status == 403


def test_params_is_only_a_prefix_of_the_whole_path(app: App) -> None:
    # After unsafe/, `params/` is a folder of images like any other.
    response = app.handle(Request("GET", "/unsafe/params/a.jpg"))
    assert (response.status, body(response)["code"]) == (404, "NoSuchKey")
