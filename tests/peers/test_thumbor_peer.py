"""Smoke test of the Thumbor peer harness: install, start, resize, stop.

Stdlib only (runs under the system python's pytest too).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.peers.thumbor_peer import fetch, image_size, run_thumbor

SOURCE = "photo_sunset_4272x2848.jpg"


def test_fit_in_jpeg(thumbor_venv: Path, corpus: Path, tmp_path: Path) -> None:
    shutil.copy(corpus / SOURCE, tmp_path / "a.jpg")
    with run_thumbor(thumbor_venv, tmp_path) as base:
        status, headers, body = fetch(f"{base}/unsafe/fit-in/300x300/a.jpg")
        assert status == 200
        assert headers["content-type"] == "image/jpeg"
        assert image_size(body) == ("JPEG", 300, 200)  # 4272x2848 is 3:2

        status, _, _ = fetch(f"{base}/unsafe/fit-in/300x300/missing.jpg")
        assert status == 404


def test_settings_are_applied(thumbor_venv: Path, corpus: Path, tmp_path: Path) -> None:
    shutil.copy(corpus / "face_astronaut_512x512.png", tmp_path / "f.png")
    with run_thumbor(thumbor_venv, tmp_path, ALLOW_UNSAFE_URL=False) as base:
        status, _, _ = fetch(f"{base}/unsafe/40x30/f.png")
        assert status == 400
    with run_thumbor(thumbor_venv, tmp_path) as base:
        status, headers, body = fetch(f"{base}/unsafe/40x30/f.png")
        assert (status, headers["content-type"]) == (200, "image/png")
        assert image_size(body) == ("PNG", 40, 30)
