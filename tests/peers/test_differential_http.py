"""Differential test of the HTTP loader: the real Thumbor 7.8.0 (its `http_loader` and
`file_loader_http_fallback`) and our server (`LOADERS=http`, `file,http`) answer the same
URLs for images on one origin, a real HTTP server on 127.0.0.1.

Both run as real HTTP servers on 127.0.0.1, so the URL's percent-decoding is each server's own.
Every host in these URLs is the literal 127.0.0.1 (no name is ever resolved), and ours opens
loopback for it (HTTP_LOADER_ALLOW_LOOPBACK), which Thumbor never refuses.

Each case states both statuses; where they differ, why. A change on either side fails here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import pytest

from tests.helpers import clean_env, running_server
from tests.http_origins import Origin, image, redirect, send, status, trickle
from tests.images import encode, gradient
from tests.peers.thumbor_peer import fetch, image_size, run_thumbor

JPEG = encode(gradient((320, 200)), "JPEG")
LOCAL = encode(gradient((200, 320)), "JPEG")


class Case(NamedTuple):
    image: str  # the image part; {o} is the origin, 127.0.0.1:PORT
    ours: int
    thumbor: int
    why: str = ""  # why the statuses differ


CASES = [
    Case("http://{o}/a.jpg", 200, 200),
    Case("{o}/a.jpg", 200, 200),  # no scheme: http://
    Case(quote("http://{o}/a.jpg", safe="{}"), 200, 200),  # percent-encoded whole
    Case(quote("http://{o}/q.jpg?v=2", safe="{}"), 200, 200),  # its query string too
    Case("http://{o}/hop", 200, 200),  # a redirect to the image
    Case("http:/{o}/a.jpg", 400, 400),  # a merged //: both refuse it
    Case("https:/{o}/a.jpg", 400, 400),
    Case("http://{o}/missing.jpg", 404, 404),
    Case("http://{o}/403", 404, 404),  # any 4xx of the origin: 404
    Case("http://{o}/slow.jpg", 504, 504),  # past HTTP_LOADER_REQUEST_TIMEOUT (2 s)
    Case("http://{o}/empty", 502, 502),
    Case("http://{o}/500", 502, 404, "the origin failed: Thumbor says 404, we say 502"),
    Case("http://{o}/html", 415, 400, "not an image: Thumbor's engine fails (400); ours 415"),
    Case("http://127.0.0.1:1/a.jpg", 502, 500, "nobody listens: Thumbor's is an unhandled 500"),
    Case("https://{o}/a.jpg", 502, 500, "TLS to a plain HTTP port: Thumbor's is a 500"),
    Case("ftp://{o}/a.jpg", 400, 504, "not http(s): Thumbor tries and times out (504)"),
]
ALLOW_LISTED = [  # ALLOWED_SOURCES=example.com: both refuse before fetching
    Case("http://{o}/a.jpg", 400, 400),
    Case("{o}/a.jpg", 400, 400),
    Case(quote("http://{o}/a.jpg", safe="{}"), 400, 400),
]
FALLBACK = [  # file,http and Thumbor's file_loader_http_fallback over a folder with local.jpg
    Case("local.jpg", 200, 200),
    Case("{o}/a.jpg", 200, 200),
    Case("http://{o}/a.jpg", 200, 200),
    Case("http://{o}/missing.jpg", 404, 404),
    Case("http:/{o}/a.jpg", 400, 500, "a merged //: Thumbor's fallback fails with a 500"),
]
SIZES = {"local.jpg": (100, 160)}  # the rest is the origin's 320x200, as 100x62


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with Origin() as server:
        server.routes["/a.jpg"] = image(JPEG)
        server.routes["/q.jpg?v=2"] = image(JPEG)
        server.routes["/hop"] = redirect("/a.jpg")
        server.routes["/403"] = status(403)
        server.routes["/500"] = status(500)
        server.routes["/empty"] = lambda handler: send(handler, 200, b"")
        server.routes["/html"] = lambda handler: send(handler, 200, b"<p>hi</p>", "text/html")
        server.routes["/slow.jpg"] = trickle(JPEG, every=0.05, stop_after=4)
        yield server


@contextlib.contextmanager
def both(
    thumbor_venv: Path, root: Path, logs: Path, loader: str, **settings: str
) -> Iterator[tuple[str, str]]:
    """Thumbor with `loader` and ours with the matching LOADERS, both with `settings`."""
    ours_loaders = "file,http" if loader.endswith("fallback") else "http"
    env = clean_env(
        LOADERS=ours_loaders,
        HTTP_LOADER_ALLOW_LOOPBACK="true",
        HTTP_LOADER_REQUEST_TIMEOUT="2",
        **settings,
    )
    thumbor_settings: dict[str, Any] = {"LOADER": loader, "HTTP_LOADER_REQUEST_TIMEOUT": 2}
    if "ALLOWED_SOURCES" in settings:
        thumbor_settings["ALLOWED_SOURCES"] = settings["ALLOWED_SOURCES"].split(",")
    with (
        run_thumbor(thumbor_venv, root, **thumbor_settings) as thumbor,
        running_server(root, logs, env, "--no-result-storage", "--threads", "2") as ours,
    ):
        yield thumbor, f"http://127.0.0.1:{ours.port}"


def compare(thumbor: str, ours: str, cases: list[Case], origin: Origin) -> list[str]:
    found = []
    for case in cases:
        part = case.image.replace("{o}", f"127.0.0.1:{origin.port}")
        answers = []
        for base in (ours, thumbor):
            code, _, body = fetch(f"{base}/unsafe/100x0/{part}", timeout=20)
            size = image_size(body)[1:] if code == 200 else None
            answers.append((code, size))
        want = SIZES.get(part, (100, 62))
        expected = [(case.ours, want if case.ours == 200 else None),
                    (case.thumbor, want if case.thumbor == 200 else None)]  # fmt: skip
        if answers != expected:
            found.append(f"{part}: ours, Thumbor = {answers}, expected {expected}")
    return found


def test_url_forms_and_statuses(thumbor_venv: Path, tmp_path: Path, origin: Origin) -> None:
    with both(thumbor_venv, tmp_path, tmp_path / "logs", "thumbor.loaders.http_loader") as (
        thumbor,
        ours,
    ):
        assert compare(thumbor, ours, CASES, origin) == []


def test_allowed_sources(thumbor_venv: Path, tmp_path: Path, origin: Origin) -> None:
    loader = "thumbor.loaders.http_loader"
    with both(thumbor_venv, tmp_path, tmp_path / "logs", loader, ALLOWED_SOURCES="example.com") as (
        thumbor,
        ours,
    ):
        assert compare(thumbor, ours, ALLOW_LISTED, origin) == []


def test_file_then_http(thumbor_venv: Path, tmp_path: Path, origin: Origin) -> None:
    (tmp_path / "local.jpg").write_bytes(LOCAL)
    loader = "thumbor.loaders.file_loader_http_fallback"
    with both(thumbor_venv, tmp_path, tmp_path / "logs", loader) as (thumbor, ours):
        assert compare(thumbor, ours, FALLBACK, origin) == []
