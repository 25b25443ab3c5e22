"""thumbor_urls.client: URLs built and signed for a frontend, against libthumbor and against the
real App behind its WSGI adapter."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import pytest
from libthumbor import CryptoURL
from PIL import Image

from tests.images import SAMPLES
from thumbor_urls.app import App
from thumbor_urls.client import Filter, Params, UrlBuilder, with_expiry
from thumbor_urls.config import Settings
from thumbor_urls.errors import InvalidUrl
from thumbor_urls.server import make_wsgi_app
from thumbor_urls.signing import verify

KEY = "client-key"
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("request_", "options"),
    [
        (Params(image="a.jpg", width=300, height=200), {"width": 300, "height": 200}),
        ("fit-in/300x300/filters:quality(70)/a.jpg",
         {"fit_in": True, "width": 300, "height": 300, "filters": ["quality(70)"]}),
        (Params(image="a.jpg", smart=True, halign="left", width=10, height=0),
         {"smart": True, "halign": "left", "width": 10, "height": 0}),
    ],
)  # fmt: skip
def test_sha1_paths_are_libthumbors(request_: Params | str, options: dict[str, Any]) -> None:
    assert UrlBuilder(KEY).path(request_) == CryptoURL(key=KEY).generate(
        image_url="a.jpg", **options
    )


def test_unsafe_paths_and_bad_input() -> None:
    assert UrlBuilder().path("300x200/a b.jpg") == "/unsafe/300x200/a b.jpg"
    assert (
        UrlBuilder(base="http://h/").url("300x200/a b.jpg") == "http://h/unsafe/300x200/a%20b.jpg"
    )
    with pytest.raises(ValueError, match="signer"):
        UrlBuilder(KEY, signer="md5").path("a.jpg")
    with pytest.raises(InvalidUrl):
        UrlBuilder(KEY).path("filters:quality(80/a.jpg")


def test_with_expiry_adds_imagors_filter_in_milliseconds() -> None:
    params = with_expiry(Params(image="a.jpg", filters=(Filter("quality", ("80",)),)), 1234.5678)
    assert params.filters == (Filter("quality", ("80",)), Filter("expire", ("1234567",)))
    signed = UrlBuilder(KEY, signer="sha256").path(Params(image="a.jpg", width=5), expires=2.0)
    signature, _, rest = signed[1:].partition("/")
    assert rest == "5x/filters:expire(2000)/a.jpg"
    assert verify((KEY,), signature, rest, ("sha256",))


@pytest.fixture
def wsgi(tmp_path: Path) -> Any:
    root = tmp_path / "originals"
    (root / "dir").mkdir(parents=True)
    for name in ("astronaut.jpg", "dir/my photo #1.jpg", "100% é?.jpg"):
        shutil.copy(SAMPLES / "astronaut.jpg", root / name)
    settings = Settings(
        FILE_LOADER_ROOT_PATH=root,
        RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / "results",
        SECURITY_KEYS=("other-key", KEY),
        ALLOW_UNSAFE_URL=False,
        SIGNER_TRUNCATE=32,
    )
    return make_wsgi_app(App(settings))


def fetch(wsgi: Any, url: str) -> tuple[int, dict[str, str], bytes]:
    """`url` asked of the WSGI application as waitress asks it: the path as sent in
    REQUEST_URI, decoded in PATH_INFO (PEP 3333's latin-1 of the bytes)."""
    parts = urlsplit(url)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": unquote_to_bytes(parts.path).decode("latin-1"),
        "QUERY_STRING": parts.query,
        "REQUEST_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
    }
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = int(status.split(maxsplit=1)[0]), dict(headers)

    body = b"".join(wsgi(environ, start_response))
    return answer["status"], answer["headers"], body


@pytest.mark.parametrize(
    "builder",
    [
        UrlBuilder(KEY, base="https://images.example.com"),
        UrlBuilder(KEY, signer="sha256"),
        UrlBuilder(KEY, signer="sha512", truncate=32),
    ],
)
@pytest.mark.parametrize(
    "request_",
    [
        Params(image="astronaut.jpg", width=120, height=80, smart=True),
        "fit-in/120x120/filters:quality(60):format(png)/dir/my photo #1.jpg",
        Params(image="100% é?.jpg", width=120, height=80, filters=(Filter("grayscale"),)),
    ],
)
def test_round_trip_against_the_app(wsgi: Any, builder: UrlBuilder, request_: Params | str) -> None:
    url = builder.url(request_, expires=time.time() + 600)
    assert " " not in url and "#" not in url and "?" not in url  # safe in a page as it is
    status, headers, body = fetch(wsgi, url)
    assert status == 200, body
    with Image.open(io.BytesIO(body)) as image:
        assert max(image.size) == 120
    assert 590 <= int(headers["Cache-Control"].removeprefix("public, max-age=")) <= 600
    expired = builder.url(request_, expires=time.time() - 1)
    assert fetch(wsgi, expired)[0] == 403
    tampered = url.replace("120", "121", 1)
    assert fetch(wsgi, tampered)[0] == 403


def test_the_client_imports_nothing_heavy() -> None:
    code = "import sys, thumbor_urls.client; print(sorted({'PIL', 'boto3'} & set(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
