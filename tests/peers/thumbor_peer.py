"""Run the real Thumbor (installed by install_thumbor.sh) as a local peer.

Stdlib only: importable from our own test venv, which does not have thumbor.

    from tests.peers.thumbor_peer import ensure_thumbor, run_thumbor, fetch

    venv = ensure_thumbor()                      # installs once, then no-op
    with run_thumbor(venv, root, QUALITY=90) as base:
        status, headers, body = fetch(f"{base}/unsafe/300x200/a.jpg")
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
DEFAULT_VENV = REPO_ROOT / ".venv-thumbor"
INSTALL_SCRIPT = HERE / "install_thumbor.sh"

# Settings every peer starts with; keyword arguments to run_thumbor override.
BASE_SETTINGS: dict[str, object] = {
    "LOADER": "thumbor.loaders.file_loader",
    "ALLOW_UNSAFE_URL": True,
    "STORAGE": "thumbor.storages.no_storage",
    "RESULT_STORAGE": None,
    "ENGINE_THREADPOOL_SIZE": 0,
}


def ensure_thumbor(venv: Path = DEFAULT_VENV) -> Path:
    """Install Thumbor into `venv` via install_thumbor.sh (no-op when current)."""
    subprocess.run(["bash", str(INSTALL_SCRIPT), str(venv)], check=True)
    return venv


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def render_conf(root: Path, settings: Mapping[str, object]) -> str:
    """thumbor.conf text (it is Python): base settings, then `settings`."""
    merged: dict[str, object] = dict(BASE_SETTINGS)
    merged["FILE_LOADER_ROOT_PATH"] = str(Path(root).resolve())
    merged.update(settings)
    return "".join(f"{key} = {value!r}\n" for key, value in merged.items())


def fetch(
    url: str,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], bytes]:
    """GET `url`; returns (status, headers, body) and never raises on 4xx/5xx.

    Header names are lower-cased (a repeated header keeps its last value).
    """
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        with error:
            return (
                error.code,
                {k.lower(): v for k, v in error.headers.items()},
                error.read(),
            )


def image_size(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of a JPEG/PNG/GIF/WebP body, without Pillow."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        width, height = struct.unpack(">II", data[16:24])
        return "PNG", width, height
    if data[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack("<HH", data[6:10])
        return "GIF", width, height
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        chunk = data[12:16]
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return "WEBP", width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return "WEBP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            width = int.from_bytes(data[24:27], "little") + 1
            height = int.from_bytes(data[27:30], "little") + 1
            return "WEBP", width, height
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 4 <= len(data):
            if data[pos] != 0xFF:
                pos += 1
                continue
            marker = data[pos + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                pos += 1 if marker == 0xFF else 2
                continue
            length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return "JPEG", width, height
            pos += 2 + length
    raise ValueError("not a JPEG/PNG/GIF/WebP image")


def _wait_healthy(
    proc: subprocess.Popen[bytes], base: str, stderr_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"thumbor exited early with code {proc.returncode}:\n"
                + stderr_path.read_text(errors="replace")
            )
        try:
            status, _, _ = fetch(f"{base}/healthcheck", timeout=2.0)
            if status == 200:
                return
            last_error = f"status {status}"
        except OSError as error:  # connection refused while starting
            last_error = str(error)
        time.sleep(0.1)
    raise RuntimeError(
        f"thumbor did not answer /healthcheck within {timeout}s ({last_error}):\n"
        + stderr_path.read_text(errors="replace")
    )


@contextlib.contextmanager
def run_thumbor(
    venv: Path,
    root: Path,
    *,
    startup_timeout: float = 30.0,
    log_level: str = "warning",
    **settings: object,
) -> Iterator[str]:
    """Start Thumbor on 127.0.0.1 serving files under `root`; yield its base URL.

    `settings` are thumbor.conf keys (e.g. SECURITY_KEY="k", AUTO_WEBP=True,
    RESPECT_ORIENTATION=True, QUALITY=90, DETECTORS=[...]); they override
    BASE_SETTINGS. The process is terminated (then killed) on exit.
    """
    thumbor_bin = Path(venv) / "bin" / "thumbor"
    if not thumbor_bin.exists():
        raise FileNotFoundError(f"{thumbor_bin} missing: run bash {INSTALL_SCRIPT} {venv}")
    with tempfile.TemporaryDirectory(prefix="thumbor-peer-") as tmp:
        tmpdir = Path(tmp)
        conf = tmpdir / "thumbor.conf"
        conf.write_text(render_conf(root, settings))
        stderr_path = tmpdir / "stderr.log"
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # keep our venv's packages out of it
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen(
                [
                    str(thumbor_bin),
                    "-c",
                    str(conf),
                    "-p",
                    str(port),
                    "-i",
                    "127.0.0.1",
                    "-l",
                    log_level,
                ],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                cwd=tmpdir,
                env=env,
            )
            try:
                _wait_healthy(proc, base, stderr_path, startup_timeout)
                yield base
            finally:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
