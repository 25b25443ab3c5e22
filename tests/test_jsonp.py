"""`meta/?callback=NAME`: JSONP in Thumbor's shape, with NAME checked so that `meta/` cannot
be made to run anyone's script (and the same through the WSGI server and Lambda's events)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from thumbor_urls.app import App
from thumbor_urls.aws.events import to_request
from thumbor_urls.config import SettingError, Settings
from thumbor_urls.jsonp import InvalidCallback, checked_callback
from thumbor_urls.messages import Request, Response
from thumbor_urls.server import make_wsgi_app

Client = Callable[..., Response]  # (path, **query)

GOOD = ["cb", "_", "$", "jQuery3710_1700000000000", "app.images.onMeta", "a.default", "$.x1"]
BAD = [
    "alert(1)",
    "<script>",
    "a b",
    "a..b",
    ".a",
    "a.",
    "1a",
    "a-b",
    "a;b",
    "a\nb",
    "cb\n",
    "a[0]",
    "café",  # ASCII only: no look-alike letters
    "a\u2028b",
    "x" * 129,
    "function",
    "this.x",
    "new",
]


@pytest.mark.parametrize("name", GOOD)
def test_javascript_names_and_dotted_paths_are_callbacks(name: str) -> None:
    assert checked_callback(name) == name


@pytest.mark.parametrize("name", BAD)
def test_anything_else_is_refused(name: str) -> None:
    with pytest.raises(InvalidCallback):
        checked_callback(name)


def test_no_callback_is_plain_json() -> None:
    assert checked_callback(None) is None
    assert checked_callback("") is None
    assert checked_callback("x" * 128) == "x" * 128


def jsonp_parts(response: Response) -> tuple[str, dict[str, Any]]:
    """The function called and the JSON it is called with (`NAME({...});`)."""
    match = re.fullmatch(rb"([A-Za-z0-9_$.]+)\((.*)\);", response.body, re.DOTALL)
    assert match is not None, response.body[:80]
    return match.group(1).decode(), json.loads(match.group(2))


def make_get(app: App) -> Client:
    def get(path: str, **query: str) -> Response:
        return app.handle(Request("GET", path, {}, query))

    return get


@pytest.fixture
def get(root: Path) -> Client:
    return make_get(App(Settings(FILE_LOADER_ROOT_PATH=root, DETECTORS=())))


def test_meta_with_a_callback_answers_jsonp(get: Client) -> None:
    plain = get("/unsafe/meta/300x200/astronaut.jpg")
    response = get("/unsafe/meta/300x200/astronaut.jpg", callback="app.onMeta")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/javascript"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    name, payload = jsonp_parts(response)
    assert name == "app.onMeta"
    assert payload == json.loads(plain.body)
    assert response.body == b"app.onMeta(" + plain.body + b");"


def test_a_bad_callback_is_a_400_before_anything_is_loaded(get: Client) -> None:
    response = get("/unsafe/meta/300x200/astronaut.jpg", callback="alert(document.cookie)//")
    assert response.status == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = json.loads(response.body)
    assert body["code"] == "InvalidCallback"
    assert "JavaScript function name" in body["message"]
    assert b"alert" not in response.body  # the name is not echoed
    # Checked first: even for an image that does not exist.
    assert get("/unsafe/meta/missing.jpg", callback="<x>").status == 400
    assert get("/unsafe/meta/missing.jpg", callback="ok").status == 404


def test_an_empty_callback_is_plain_json(get: Client) -> None:
    response = get("/unsafe/meta/300x200/astronaut.jpg", callback="")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"


def test_images_ignore_the_callback(get: Client) -> None:
    response = get("/unsafe/300x200/astronaut.jpg", callback="<x>")
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/jpeg"


def test_meta_callback_name_wins_over_the_query(root: Path) -> None:
    settings = Settings.from_env({"META_CALLBACK_NAME": " site.meta "}).replace(
        FILE_LOADER_ROOT_PATH=root, DETECTORS=()
    )
    assert settings.META_CALLBACK_NAME == "site.meta"
    get = make_get(App(settings))
    for query in ({}, {"callback": "other"}, {"callback": "<not checked: not used>"}):
        response = get("/unsafe/meta/astronaut.jpg", **query)
        assert response.status == 200
        assert jsonp_parts(response)[0] == "site.meta"


@pytest.mark.parametrize("value", ["alert(1)", "a b", "function"])
def test_a_bad_meta_callback_name_is_a_setting_error(value: str) -> None:
    with pytest.raises(SettingError, match="META_CALLBACK_NAME"):
        Settings.from_env({"META_CALLBACK_NAME": value})


def test_jsonp_through_the_wsgi_server(root: Path) -> None:
    wsgi = make_wsgi_app(App(Settings(FILE_LOADER_ROOT_PATH=root, DETECTORS=())))
    status: list[str] = []
    headers: dict[str, str] = {}

    def start(line: str, pairs: list[tuple[str, str]], *_: object) -> None:
        status.append(line)
        headers.update(pairs)

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/unsafe/meta/astronaut.jpg",
        "QUERY_STRING": "callback=jQuery_1%2Eon2",  # %2E is a dot
        "wsgi.url_scheme": "http",
    }
    body = b"".join(wsgi(environ, start))
    assert status[0].startswith("200") and headers["Content-Type"] == "text/javascript"
    assert body.startswith(b"jQuery_1.on2({") and body.endswith(b"});")
    environ["QUERY_STRING"] = "callback=%3Cscript%3E"
    b"".join(wsgi(environ, start))
    assert status[-1].startswith("400")


def test_jsonp_through_a_lambda_event(root: Path) -> None:
    app = App(Settings(FILE_LOADER_ROOT_PATH=root, DETECTORS=()))

    def answer(query: str) -> Response:
        event = {
            "version": "2.0",
            "rawPath": "/unsafe/meta/astronaut.jpg",
            "rawQueryString": query,
            "requestContext": {"http": {"method": "GET", "path": "/unsafe/meta/astronaut.jpg"}},
            "headers": {},
        }
        request, _ = to_request(event)
        return app.handle(request)

    response = answer("callback=cb")
    assert (response.status, response.headers["Content-Type"]) == (200, "text/javascript")
    assert response.body.startswith(b"cb({")
    # API Gateway keeps an empty value: plain JSON, as Thumbor answers it.
    assert answer("callback=").headers["Content-Type"] == "application/json"
    assert answer("callback=%22%3E").status == 400
