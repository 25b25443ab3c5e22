"""The local server's playground routes (thumbor_urls/playground.py) and the listing of the
originals (thumbor_urls/listing.py), in process through the WSGI application."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image

from tests.images import SAMPLES
from thumbor_urls import listing
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.filters import REGISTRY
from thumbor_urls.filters.catalog import describe
from thumbor_urls.playground import PAGE_FOLDER, Playground, is_loopback
from thumbor_urls.server import make_wsgi_app, status_line
from thumbor_urls.signing import verify_sih, verify_thumbor

KEY = "playground-key"


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = int(status.split(maxsplit=1)[0])
        self.headers = dict(headers)
        self.body = body

    def json(self) -> Any:
        assert self.headers["Content-Type"] == "application/json"
        return json.loads(self.body)


def call(wsgi: Any, path: str, method: str = "GET", host: str = "127.0.0.1:8888") -> Answer:
    raw_path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": raw_path.encode().decode("latin-1"),
        "QUERY_STRING": query,
        "HTTP_HOST": host,
        "wsgi.input": io.BytesIO(),
    }
    started: list[Any] = []
    body = b"".join(wsgi(environ, lambda status, headers: started.extend([status, headers])))
    return Answer(started[0], started[1], body)


def server(root: Path, host: str = "127.0.0.1", **settings: Any) -> Any:
    config = Settings(FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None)
    config = config.replace(**settings)
    app = App(config)
    playground = Playground(config, host) if config.PLAYGROUND else None
    return make_wsgi_app(app, playground)


@pytest.fixture
def originals(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(SAMPLES / "astronaut.jpg", root / "b.jpg")
    shutil.copy(SAMPLES / "pan.gif", root / "sub" / "a.gif")
    shutil.copy(SAMPLES / "pan.webp", root / "sub" / "deeper" / "c.webp")
    shutil.copy(SAMPLES / "astronaut.png", root / "named-like-a.jpg.png")
    (root / "text.jpg").write_text("not an image")  # named like one, is not one
    shutil.copy(SAMPLES / "astronaut.jpg", root / ".hidden.jpg")
    (root / ".git").mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", root / ".git" / "inside.jpg")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", outside / "secret.jpg")
    (root / "escape.jpg").symlink_to(outside / "secret.jpg")
    (root / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / "alias.jpg").symlink_to(root / "b.jpg")  # inside: listed, as it is served
    os.mkfifo(root / "fifo.jpg")
    return root


# -- the listing -------------------------------------------------------------------------------


def test_the_listing_shows_images_inside_the_root_only(originals: Path) -> None:
    page = listing.list_images(originals)
    assert [(i.key, i.format) for i in page.images] == [
        ("alias.jpg", "jpeg"),
        ("b.jpg", "jpeg"),
        ("named-like-a.jpg.png", "png"),
        ("sub/a.gif", "gif"),
        ("sub/deeper/c.webp", "webp"),
    ]
    assert page.images[1].bytes == (SAMPLES / "astronaut.jpg").stat().st_size
    assert (page.next_offset, page.complete) == (None, True)


def test_the_listing_is_paged_and_bounded(originals: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = listing.list_images(originals, 0, 2)
    assert [i.key for i in first.images] == ["alias.jpg", "b.jpg"]
    assert first.next_offset == 2
    last = listing.list_images(originals, 4, 2)
    assert ([i.key for i in last.images], last.next_offset) == (["sub/deeper/c.webp"], None)
    # A page is never larger than MAX_PAGE, whatever is asked.
    monkeypatch.setattr(listing, "MAX_PAGE", 3)
    assert len(listing.list_images(originals, 0, 10**6).images) == 3
    # Past MAX_SCANNED entries the listing stops, and says it is incomplete.
    monkeypatch.setattr(listing, "MAX_SCANNED", 4)
    partial = listing.list_images(originals)
    assert partial.complete is False
    assert len(partial.images) < 5
    # Deeper than MAX_DEPTH folders is not looked at.
    monkeypatch.setattr(listing, "MAX_SCANNED", 10_000)
    monkeypatch.setattr(listing, "MAX_DEPTH", 2)
    assert "sub/deeper/c.webp" not in [i.key for i in listing.list_images(originals).images]


def test_images_json(originals: Path) -> None:
    wsgi = server(originals)
    answer = call(wsgi, "/playground/images.json?offset=1&limit=2")
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == "no-cache"
    assert answer.json() == listing.list_images(originals, 1, 2).as_dict()
    assert call(wsgi, "/playground/images.json?offset=-1").json()["code"] == "InvalidUrl"
    assert call(wsgi, "/playground/images.json?limit=" + "9" * 30).status == 400


# -- the page, the registry, the configuration --------------------------------------------------


def test_root_redirects_to_the_page_which_is_served_with_its_files(originals: Path) -> None:
    wsgi = server(originals)
    assert (call(wsgi, "/").status, call(wsgi, "/").headers["Location"]) == (302, "/playground/")
    assert call(wsgi, "/playground").headers["Location"] == "/playground/"
    page = call(wsgi, "/playground/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.body == (PAGE_FOLDER / "index.html").read_bytes()
    script = call(wsgi, "/playground/main.js")
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    head = call(wsgi, "/playground/main.js", method="HEAD")
    assert (head.status, head.body) == (200, b"")
    assert head.headers["Content-Length"] == str(len(script.body))
    for missing in ("/playground/nope.js", "/playground/../README.md", "/playground/%2e%2e/x.js"):
        assert call(wsgi, missing).json()["code"] == "NoSuchKey", missing


def test_a_server_without_the_page_files_says_so(originals: Path, tmp_path: Path) -> None:
    config = Settings(FILE_LOADER_ROOT_PATH=originals, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None)
    wsgi = make_wsgi_app(App(config), Playground(config, "127.0.0.1", tmp_path / "absent"))
    assert "not installed here" in call(wsgi, "/playground/").json()["message"]


def test_without_the_playground_the_root_is_404(originals: Path) -> None:
    wsgi = server(originals, PLAYGROUND=False)
    assert call(wsgi, "/").json()["code"] == "NoSuchKey"
    assert call(wsgi, "/playground/images.json").status == 403  # an image URL, unsigned


def test_filters_json_is_the_registry(originals: Path) -> None:
    catalog = call(server(originals), "/playground/filters.json").json()
    assert catalog == json.loads(json.dumps(describe()))
    assert [f["name"] for f in catalog["filters"]] == sorted(REGISTRY.specs)
    quality = next(f for f in catalog["filters"] if f["name"] == "quality")
    assert quality["params"] == [
        {"name": "quality", "kind": "PositiveNumber", "required": True, "default": None,
         "pattern": r"\d+", "min": 0, "max": 100, "choices": None},
    ]  # fmt: skip
    fmt = next(f for f in catalog["filters"] if f["name"] == "format")
    assert "webp" in fmt["params"][0]["choices"]


def test_config_json(originals: Path) -> None:
    config = call(server(originals), "/playground/config.json").json()
    assert config["mode"] == "local"
    assert config["listing"] is True
    assert config["signing"]["offered"] is False
    # Whether SIH's requests are answered: the page's SIH mode says why not when they are not.
    assert config["sih"] is False
    assert call(server(originals, SIH_COMPAT=True), "/playground/config.json").json()["sih"] is True


# -- signing for the page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "settings", "why"),
    [
        ("127.0.0.1", {}, "no SECURITY_KEY"),
        ("127.0.0.1", {"SECURITY_KEY": KEY}, "PLAYGROUND_SIGNING is off"),
        ("0.0.0.0", {"SECURITY_KEY": KEY, "PLAYGROUND_SIGNING": True}, "listens on loopback"),
        ("192.168.1.2", {"SECURITY_KEY": KEY, "PLAYGROUND_SIGNING": True}, "listens on loopback"),
    ],
)
def test_no_signature_unless_allowed_on_loopback(
    originals: Path, host: str, settings: dict[str, Any], why: str
) -> None:
    wsgi = server(originals, host, **settings)
    config = call(wsgi, "/playground/config.json").json()
    assert config["signing"]["offered"] is False
    assert why in config["signing"]["why"]
    refused = call(wsgi, "/playground/sign?path=300x200/b.jpg")
    assert (refused.status, refused.json()["code"]) == (403, "SigningNotOffered")


def test_signatures_for_the_page(originals: Path) -> None:
    wsgi = server(
        originals,
        SECURITY_KEY=KEY,
        PLAYGROUND_SIGNING=True,
        ALLOW_UNSAFE_URL=False,
        SIH_COMPAT=True,
    )
    assert call(wsgi, "/playground/config.json").json()["signing"]["offered"] is True
    url = call(wsgi, "/playground/sign?path=fit-in/100x100/b.jpg").json()["url"]
    signature, _, path = url.lstrip("/").partition("/")
    assert path == "fit-in/100x100/b.jpg"
    assert verify_thumbor(KEY, signature, path)
    assert call(wsgi, url).status == 200
    sih = call(wsgi, "/playground/sign?style=sih&path=/eyJrZXkiOiJiLmpwZyJ9").json()["url"]
    path, _, signature = sih.partition("?signature=")
    assert verify_sih(KEY, signature, path)
    assert call(wsgi, sih).status == 200
    assert call(wsgi, "/playground/sign?style=sih&path=/eyJrZXkiOiJiLmpwZyJ9").json() == {
        "url": sih,
        "signature": signature,
    }
    # Asked for by another name (DNS rebinding: another site's page on this address).
    for host in ("evil.example:8888", "127.0.0.1.evil.example"):
        refused = call(wsgi, "/playground/sign?path=b.jpg", host=host)
        assert (refused.status, refused.json()["code"]) == (403, "SigningNotOffered"), host
    for host in ("localhost:8888", "[::1]:8888", "127.0.0.2"):
        assert call(wsgi, "/playground/sign?path=b.jpg", host=host).status == 200, host
    assert call(wsgi, "/playground/sign").json()["code"] == "InvalidUrl"
    assert call(wsgi, "/playground/sign?path=filters:blur(/b.jpg").json()["code"] == "InvalidUrl"


def test_signatures_of_sih_query_parameters(originals: Path) -> None:
    wsgi = server(originals, SECURITY_KEY=KEY, PLAYGROUND_SIGNING=True, SIH_COMPAT=True)
    query = "format=webp&fit=fill&width=40&height=30&rotate=90&flop=true&expires=29991231T000000Z"
    sign = f"/playground/sign?style=sih&path=/b.jpg&query={quote(query)}"
    answer = call(wsgi, sign).json()
    assert answer["url"] == f"/b.jpg?{query}&signature={answer['signature']}"
    # v7's string to sign: the path, then the parameters sorted.
    wanted = (
        "/b.jpg?expires=29991231T000000Z&fit=fill&flop=true&format=webp&height=30&rotate=90"
        "&width=40"
    )
    assert verify_sih(KEY, answer["signature"], wanted)
    # SIH_COMPAT takes it: 40x30 (fill: the size asked, whatever the ratio), then turned, as
    # Thumbor turns after resizing (docs/sih.md).
    image = call(wsgi, answer["url"])
    assert (image.status, image.headers["Content-Type"]) == (200, "image/webp")
    with Image.open(io.BytesIO(image.body)) as result:
        assert result.size == (30, 40)
    # It covers every parameter: one changed is refused.
    changed = answer["url"].replace("width=40", "width=41")
    assert call(wsgi, changed).json()["code"] == "SignatureDoesNotMatch"
    # Under the same rules as every signature: asked for from another name, none.
    refused = call(wsgi, sign, host="evil.example:8888")
    assert (refused.status, refused.json()["code"]) == (403, "SigningNotOffered")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3:80", True), ("localhost", True), ("LOCALHOST:1", True),
     ("::1", True), ("[::1]:8888", True), ("0.0.0.0", False), ("::", False),
     ("example.com", False), ("10.0.0.1", False), ("", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# -- SIH's requests on the local server ----------------------------------------------------------


def test_the_local_server_answers_sih_requests(originals: Path) -> None:
    wsgi = server(originals, SIH_COMPAT=True)
    answer = call(wsgi, "/eyJrZXkiOiJiLmpwZyIsImVkaXRzIjp7InJlc2l6ZSI6eyJ3aWR0aCI6NTB9fX0=")
    assert (answer.status, answer.headers["Content-Type"]) == (200, "image/jpeg")
    assert call(wsgi, "/eyJrZXkiOjF9").status == 404  # {"key":1}: as SIH answers it
    # Without SIH_COMPAT, Thumbor's rules: a path that is neither unsafe/ nor signed.
    assert call(server(originals), "/eyJrZXkiOiJiLmpwZyJ9").status == 403


def test_every_status_has_its_reason_phrase(originals: Path) -> None:
    # A sharp edit this service does not have: 501, whose phrase the server must know too.
    document = {"key": "b.jpg", "edits": {"clahe": {"width": 3}}}
    path = "/" + base64.b64encode(json.dumps(document).encode()).decode()
    lines: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "HTTP_HOST": "127.0.0.1:8888", "wsgi.input": io.BytesIO()}  # fmt: skip
    b"".join(server(originals, SIH_COMPAT=True)(environ, lambda s, h: lines.append(s)))
    assert lines == ["501 Not Implemented"]
    assert status_line(599) == "599 Unknown"
