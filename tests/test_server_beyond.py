"""Presets, allow-lists, client hints and format preference over HTTP: `python -m thumbor_urls
serve` as a real process on loopback, where the headers are real headers."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Reply, Server, clean_env, running_server
from tests.images import SAMPLES

PRESETS = {"thumb": "fit-in/200x200/filters:quality(70)", "card": "300x200/smart"}
CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("beyond-root")
    for name in ("astronaut.jpg", "dandelions.jpg"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def server(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = clean_env(
        CLIENT_HINTS="true",
        AUTO_FORMAT_PREFERENCE="avif,webp,jpeg",
        PRESETS=json.dumps(PRESETS),
        ALLOWED_QUALITIES="70,80",
        RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path_factory.mktemp("beyond-results"),
    )
    logs = tmp_path_factory.mktemp("beyond-logs")
    with running_server(root, logs, env, "--threads", "2") as running:
        yield running


@pytest.fixture(scope="module")
def presets_only(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    presets = tmp_path_factory.mktemp("beyond-presets") / "presets.conf"
    presets.write_text("".join(f"{name}={options}\n" for name, options in PRESETS.items()))
    env = clean_env(ONLY_PRESETS="true", PRESETS=str(presets))
    logs = tmp_path_factory.mktemp("beyond-logs-only")
    with running_server(root, logs, env, "--threads", "1", "--no-result-storage") as running:
        yield running


def error(reply: Reply, status: int) -> str:
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    body = reply.json()
    assert (body["status"], set(body)) == (status, {"status", "code", "message"})
    return str(body["code"])


def test_preset_and_preference_over_http(server: Server) -> None:
    url = "/unsafe/preset:thumb/astronaut.jpg"
    preset = server.request(url, headers={"Accept": CHROME})
    assert preset.status == 200
    assert preset.headers["Content-Type"] == "image/avif"
    assert preset.image().size == (200, 200)
    assert preset.headers["Vary"] == "Accept, Sec-CH-DPR, DPR"
    assert "Content-DPR" not in preset.headers
    # A preset's size is a written size: the DPR hint multiplies it too.
    retina = server.request(url, headers={"Accept": CHROME, "Sec-CH-DPR": "2"})
    assert retina.image().size == (400, 400)
    assert retina.headers["Content-DPR"] == "2"


def test_q_values_and_hints_pick_format_and_size(server: Server) -> None:
    url = "/unsafe/150x100/astronaut.jpg"
    reply = server.request(
        url, headers={"Accept": "image/avif;q=0,image/webp,*/*;q=0.8", "Sec-CH-DPR": "2"}
    )
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "image/webp"
    assert reply.image().size == (300, 200)
    assert reply.headers["Vary"] == "Accept, Sec-CH-DPR, DPR"
    assert reply.headers["Content-DPR"] == "2"
    assert reply.headers["Accept-CH"] == "Sec-CH-DPR, DPR, Sec-CH-Width, Width"
    older = server.request(url, headers={"Accept": "image/png,image/*;q=0.8", "DPR": "1.3"})
    assert older.headers["Content-Type"] == "image/jpeg"  # image/* is no promise of AVIF
    assert older.image().size == (225, 150)
    assert older.headers["Content-DPR"] == "1.5"


def test_width_hint_over_http(server: Server) -> None:
    reply = server.request(
        "/unsafe/dandelions.jpg", headers={"Accept": "*/*", "Sec-CH-Width": "700"}
    )
    assert reply.status == 200
    assert reply.image().size == (960, 540)
    assert reply.headers["Vary"] == "Accept, Sec-CH-Width, Width"
    assert "Content-DPR" not in reply.headers


def test_allow_list_and_unknown_preset_over_http(server: Server) -> None:
    refused = server.request("/unsafe/100x100/filters:quality(90)/astronaut.jpg")
    assert error(refused, 400) == "QualityNotAllowed"
    assert error(server.request("/unsafe/preset:nope/astronaut.jpg"), 400) == "UnknownPreset"


def test_only_presets_over_http(presets_only: Server) -> None:
    assert presets_only.request("/unsafe/preset:card/astronaut.jpg").image().size == (300, 200)
    refused = presets_only.request("/unsafe/300x200/astronaut.jpg")
    assert error(refused, 403) == "PresetRequired"
    assert "card, thumb" in refused.json()["message"]
    assert "max-age=86400" not in refused.headers["Cache-Control"]  # errors are cached briefly
