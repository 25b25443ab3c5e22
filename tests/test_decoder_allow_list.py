"""Only the decoders of what we serve are reachable from a URL, whatever the file is named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import Client
from tests.hostile_files import LEGACY_FORMATS, POSTSCRIPT, legacy

# A `gs` that records each call: if Pillow's EPS plugin ever ran, the record says so.
FAKE_GHOSTSCRIPT = """#!/bin/sh
echo "$@" >> "$GS_CALLS"
exit 0
"""


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ghostscript_never_runs_even_when_installed(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gs = bin_dir / "gs"
    gs.write_text(FAKE_GHOSTSCRIPT)
    gs.chmod(0o755)
    root = tmp_path / "originals"
    root.mkdir()
    for name in ("x.jpg", "x.eps", "x.ps", "x.png"):
        (root / name).write_bytes(POSTSCRIPT)
    calls = tmp_path / "gs-calls"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GS_CALLS": str(calls)}

    served = _python(
        f"""
        import json
        from pathlib import Path
        from thumbor_urls.app import App
        from thumbor_urls.config import Settings
        from thumbor_urls.messages import Request
        app = App(Settings(FILE_LOADER_ROOT_PATH=Path({str(root)!r}),
                           RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None))
        paths = ["/unsafe/x.jpg", "/unsafe/x.eps", "/unsafe/fit-in/10x10/x.ps",
                 "/unsafe/meta/x.png", "/unsafe/filters:watermark(x.eps,0,0,0)/x.jpg"]
        print(json.dumps([app.handle(Request("GET", p)).status for p in paths]))
        """,
        env,
    )
    assert served.returncode == 0, served.stderr
    assert json.loads(served.stdout) == [415] * 5
    assert not calls.exists(), f"Ghostscript ran: {calls.read_text()}"

    # The control: Pillow left to itself finds this `gs` and runs it on the same file.
    control = _python(
        f"""
        from PIL import Image
        try:
            Image.open({str(root / "x.jpg")!r}).load()
        except Exception:
            pass
        """,
        env,
    )
    assert control.returncode == 0, control.stderr
    assert calls.exists() and "-sDEVICE" in calls.read_text()


@pytest.mark.parametrize("fmt", LEGACY_FORMATS)
def test_legacy_formats_are_refused_whatever_their_name(
    fmt: str, root: Path, client: Client
) -> None:
    data = legacy(fmt)
    (root / f"legacy.{fmt.lower()}").write_bytes(data)
    (root / "legacy-named.jpg").write_bytes(data)
    for path in (f"/unsafe/legacy.{fmt.lower()}", "/unsafe/fit-in/8x8/legacy-named.jpg"):
        response = client(path)
        assert response.status == 415, (path, response.body)
        body = json.loads(response.body)
        assert body["code"] == "UnsupportedImageFormat"
        assert "JPEG, PNG, GIF, WebP or AVIF" in body["message"]
