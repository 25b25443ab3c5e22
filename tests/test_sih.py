"""SIH_COMPAT's request reading (thumbor_urls/sih/request.py) piece by piece, and the switch on
the local server: default requests and Thumbor paths without `unsafe/` from a folder, buckets
checked against SOURCE_BUCKETS when it is set, and Thumbor's rules untouched without it. The
answers themselves are compared with AWS's handler in tests/peers/sih."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request, Response
from thumbor_urls.server import make_wsgi_app
from thumbor_urls.signing import sign_thumbor_path
from thumbor_urls.signing import sih_string_to_sign as string_to_sign
from thumbor_urls.sih import edits as sharp
from thumbor_urls.sih.request import (
    InvalidEdit,
    SihError,
    query_edits,
    request_type,
    rewrite,
    seconds_to_expiry,
    verify_signature,
)

KEY = "secret"
OLD_KEY = "rotated-out"


def sih_sign(text: str) -> str:
    return hmac.new(KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def default_path(document: dict[str, Any]) -> str:
    return "/" + base64.b64encode(json.dumps(document).encode()).decode()


# --- signatures -------------------------------------------------------------------------------


def test_v7_signs_the_query_sorted_as_javascript_sorts_pairs() -> None:
    query = {"width": "10", "w": "2", "a b": "c d", "signature": "x", "Z": "1"}
    # "a b,c d" < "w,2" < "width,10"; upper case first, by UTF-16 code unit.
    assert string_to_sign("/k.jpg", query) == "/k.jpg?Z=1&a b=c d&w=2&width=10"
    assert string_to_sign("/k.jpg", {"signature": "x"}) == "/k.jpg"


def test_v6_and_v7_signatures_verify() -> None:
    verify_signature((KEY,), "/k.jpg", {"signature": sih_sign("/k.jpg")}, None)
    query = {"width": "10", "expires": "20991231T000000Z"}
    signed = sih_sign("/k.jpg?expires=20991231T000000Z&width=10")
    verify_signature((KEY,), "/k.jpg", {**query, "signature": signed}, None)
    # An unknown parameter changes nothing: a v6 signature of the path still verifies.
    verify_signature((KEY,), "/k.jpg", {"v": "3", "signature": sih_sign("/k.jpg")}, None)
    # Keys rotate: a URL signed with any of them verifies.
    verify_signature((OLD_KEY, KEY), "/k.jpg", {"signature": sih_sign("/k.jpg")}, None)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({}, 400, "AuthorizationQueryParametersError"),
        ({"signature": "0" * 64}, 403, "SignatureDoesNotMatch"),
        # A v6 signature (of the path) does not cover an edit in the query.
        ({"width": "4000", "signature": sih_sign("/k.jpg")}, 403, "SignatureDoesNotMatch"),
    ],
)
def test_bad_signatures(query: dict[str, str], status: int, code: str) -> None:
    with pytest.raises(SihError) as caught:
        verify_signature((KEY,), "/k.jpg", query, None)
    assert (caught.value.status, caught.value.code) == (status, code)


# --- expires, types, rewrites, query edits ---------------------------------------------------


def test_expires() -> None:
    now = time.mktime((2030, 1, 1, 0, 0, 0, 0, 0, 0)) - time.timezone
    assert seconds_to_expiry({}, now) is None
    assert seconds_to_expiry({"expires": "20300101T000100Z"}, now) == 60
    for text, code in [
        ("20291231T235959Z", "ImageRequestExpired"),
        ("20300230T000000Z", "ImageRequestExpiryFormat"),  # no 30th of February
        ("2030-01-01", "ImageRequestExpiryFormat"),
    ]:
        with pytest.raises(SihError) as caught:
            seconds_to_expiry({"expires": text}, now)
        assert (caught.value.status, caught.value.code) == (400, code)


def test_request_types() -> None:
    assert request_type(default_path({"key": "a.jpg"}), False) == "default"
    assert request_type("/fit-in/10x10/a.jpg", False) == "thumbor"
    assert request_type("/no-extension", False) == "thumbor"
    assert request_type("/fit-in/10x10/a.jpg", True) == "custom"
    with pytest.raises(SihError) as caught:
        request_type("/a.bmp", False)
    assert caught.value.code == "RequestTypeError"


def test_rewrite_reads_javascript_regular_expressions() -> None:
    pattern, substitution = r"/^\/thumbs\/(\d+)x(\d+)\/(.*)$/", "/fit-in/$1x$2/$3"
    assert rewrite("/thumbs/80x60/a/b.jpg", pattern, substitution) == "/fit-in/80x60/a/b.jpg"
    assert rewrite("/other.jpg", pattern, substitution) == "/other.jpg"
    assert rewrite("/A-a-A", "/a/gi", "[$&]") == "/[A]-[a]-[A]"
    assert rewrite("/A-a-A", "/a/i", "$$") == "/$-a-A"


def test_query_edits_as_v7_maps_them() -> None:
    edits = query_edits(
        {
            "width": "0",
            "height": "40px",
            "fit": "contain",
            "flip": "FALSE",
            "flop": "1",
            "grayscale": "yes",
            "format": "webp",
            "rotate": "",
            "other": "x",
        }
    )
    assert edits == {
        "resize": {"width": None, "height": 40.0, "fit": "contain"},
        "flip": False,
        "flop": True,
        "greyscale": True,
        "toFormat": "webp",
        "rotate": None,
    }


def test_sharp_calls_keep_sharps_order_rules() -> None:
    options = sharp.Options()
    sharp.call(options, "extract", {"left": 0, "top": 0, "width": 10, "height": 10})
    sharp.call(options, "resize", {"width": 5})
    sharp.call(options, "extract", {"left": 1, "top": 1, "width": 2, "height": 2})
    assert options.extract_pre == (0, 0, 10, 10) and options.extract_post == (1, 1, 2, 2)
    turned = sharp.Options()
    sharp.call(turned, "rotate", 30)
    sharp.call(turned, "resize", {"width": 5})
    assert turned.rotate_before  # rotate() before resize(): rotated first
    with pytest.raises(InvalidEdit):
        sharp.call(sharp.Options(), "blur", 0.1)
    with pytest.raises(sharp.Unsupported):
        sharp.call(sharp.Options(), "convolve", {})


# --- the switch on the local server ----------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    Image.new("RGB", (200, 100), (200, 30, 30)).save(tmp_path / "photo.jpg")
    return tmp_path


def answer(app: App, path: str, query: dict[str, str] | None = None) -> Response:
    return app.handle(Request("GET", path, query=query or {}), record=lambda access: None)


def local(folder: Path, **settings: Any) -> App:
    return App(Settings(FILE_LOADER_ROOT_PATH=folder, SIH_COMPAT=True, **settings))


def size_of(response: Response) -> tuple[int, int]:
    assert response.status == 200, response.body
    return Image.open(io.BytesIO(response.body)).size


def test_default_requests_and_bare_thumbor_paths_on_the_local_server(folder: Path) -> None:
    app = local(folder)
    document = {"bucket": "any", "key": "photo.jpg", "edits": {"resize": {"width": 50}}}
    assert size_of(answer(app, default_path(document))) == (50, 25)
    assert size_of(answer(app, "/fit-in/40x40/photo.jpg")) == (40, 20)
    assert size_of(answer(app, "/photo.jpg", {"width": "20"})) == (20, 10)
    assert size_of(answer(app, "/unsafe/30x0/photo.jpg")) == (30, 15)


def test_local_buckets_are_checked_against_source_buckets_when_set(folder: Path) -> None:
    app = local(folder, SOURCE_BUCKETS=("images",))
    allowed = {"bucket": "images", "key": "photo.jpg", "edits": {"resize": {"width": 50}}}
    assert size_of(answer(app, default_path(allowed))) == (50, 25)
    refused = answer(app, default_path({**allowed, "bucket": "other"}))
    assert refused.status == 403
    assert json.loads(refused.body)["code"] == "ImageBucket::CannotAccessBucket"


def test_signing_on_needs_sih_signatures_and_keeps_thumbors(folder: Path) -> None:
    app = local(folder, SECURITY_KEY=KEY)
    path = "/fit-in/40x40/photo.jpg"
    assert answer(app, path).status == 400
    assert answer(app, path, {"signature": "0" * 64}).status == 403
    assert size_of(answer(app, path, {"signature": sih_sign(path)})) == (40, 20)
    assert size_of(answer(app, sign_thumbor_path(KEY, "fit-in/40x40/photo.jpg"))) == (40, 20)
    query = {"width": "20", "signature": sih_sign(f"{path}?width=20")}
    assert size_of(answer(app, path, query)) == (20, 10)


def test_a_thumbor_signature_does_not_cover_query_edits(folder: Path) -> None:
    app = local(folder, SECURITY_KEY=KEY)
    signed = sign_thumbor_path(KEY, "30x20/photo.jpg")
    # The signed image, and a query that changes nothing in it (SIH's tracking parameters...).
    assert size_of(answer(app, signed)) == (30, 20)
    assert size_of(answer(app, signed, {"utm_source": "mail"})) == (30, 20)
    for edits in ({"width": "400", "height": "400"}, {"format": "png"}, {"greyscale": "1"}):
        refused = answer(app, signed, edits)
        assert refused.status == 403, edits
        assert json.loads(refused.body)["code"] == "SignatureDoesNotMatch"


def test_expires_sets_the_cache_lifetime(folder: Path) -> None:
    app = local(folder)
    response = answer(app, "/photo.jpg", {"expires": "20991231T000000Z"})
    age = int(response.headers["Cache-Control"].split("=")[1].split(",")[0])
    assert 0 < age <= time.mktime((2099, 12, 31, 0, 0, 0, 0, 0, 0)) - time.time() + 86400
    assert answer(app, "/photo.jpg", {"expires": "20000101T000000Z"}).status == 400


def test_without_the_switch_thumbors_rules_stand(folder: Path) -> None:
    app = App(Settings(FILE_LOADER_ROOT_PATH=folder))
    assert answer(app, "/fit-in/40x40/photo.jpg").status == 403
    assert answer(app, default_path({"key": "photo.jpg"})).status in (403, 404)


def test_the_wsgi_server_passes_the_query(folder: Path) -> None:
    wsgi = make_wsgi_app(local(folder))
    statuses: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/photo.jpg", "QUERY_STRING": "width=20"}
    body = b"".join(wsgi(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"]
    assert Image.open(io.BytesIO(body)).size == (20, 10)
