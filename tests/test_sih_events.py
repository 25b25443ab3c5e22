"""The committed events/sih-*.json, one per SIH request style, through the Lambda handler as
`sls invoke local --stage local -e SIH_COMPAT=true` runs them (originals from samples/, signed
with the Makefile's MY_SECURE_KEY; the rewrite event with the rules below)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from thumbor_urls.aws import lambda_handler

ROOT = Path(__file__).resolve().parent.parent
REWRITE = {"REWRITE_MATCH_PATTERN": r"/^\/thumbs\/(\d+)x(\d+)\/(.*)$/",
           "REWRITE_SUBSTITUTION": "/fit-in/$1x$2/$3"}  # fmt: skip
EVENTS = {
    "sih-default": ("image/png", (280, 180)),
    "sih-overlay": ("image/jpeg", (400, 225)),
    "sih-thumbor": ("image/jpeg", (300, 300)),
    "sih-query": ("image/webp", (300, 169)),
    "sih-expires": ("image/jpeg", (200, 200)),
    "sih-rewrite": ("image/jpeg", (200, 200)),
}


@pytest.fixture
def container(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("SOURCE_BUCKETS", "RESULT_STORAGE_BUCKET", "ENABLE_SIGNATURE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIH_COMPAT", "true")
    monkeypatch.setenv("SECURITY_KEY", "MY_SECURE_KEY")
    monkeypatch.setenv("FILE_LOADER_ROOT_PATH", str(ROOT / "samples"))
    monkeypatch.setenv("RESULT_STORAGE_FILE_STORAGE_ROOT_PATH", "")
    lambda_handler._CONTAINER.clear()
    lambda_handler._CONTAINER["cold"] = True
    yield
    lambda_handler._CONTAINER.clear()
    lambda_handler._CONTAINER["cold"] = True


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_sih_event(container: None, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    if name == "sih-rewrite":
        for key, value in REWRITE.items():
            monkeypatch.setenv(key, value)
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    answer = lambda_handler.handler(event)
    body = base64.b64decode(answer["body"])
    assert answer["statusCode"] == 200, body[:300]
    content_type, size = EVENTS[name]
    assert answer["headers"]["Content-Type"] == content_type
    assert Image.open(io.BytesIO(body)).size == size
    if name == "sih-default":
        assert answer["headers"]["X-Edited-By"] == "sih"
        assert answer["headers"]["Cache-Control"] == "max-age=3600,public"
    if name == "sih-expires":
        assert answer["headers"]["Cache-Control"].startswith("max-age=")


def test_a_tampered_event_is_refused(container: None) -> None:
    event = json.loads((ROOT / "events" / "sih-query.json").read_text())
    event["queryStringParameters"]["width"] = "3000"
    assert lambda_handler.handler(event)["statusCode"] == 403
    del event["queryStringParameters"]["signature"]
    assert lambda_handler.handler(event)["statusCode"] == 400
