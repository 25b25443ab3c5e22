"""What a user installs. `pip install .` gives the package, Pillow, waitress and urllib3
(pyproject.toml's dependencies, pinned as in requirements.txt, which `make serve` and the
Dockerfile install); the
Lambda zip packs Pillow only (requirements-lambda.txt); the extras pin what requirements-dev.txt
pins, so that the tests cover them; and `thumbor-urls serve` runs with nothing else importable."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.helpers import Server, clean_env, free_port

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def canonical(name: str) -> str:
    """PEP 503's normalised name, without extras: `Pillow` and `pillow` are one package."""
    return re.sub(r"[-_.]+", "-", name.split("[", 1)[0]).lower().strip()


def pin(requirement: str, where: str) -> tuple[str, str]:
    name, sep, version = requirement.partition("==")
    assert sep and version.strip(), f"{where}: not pinned to one version: {requirement!r}"
    return canonical(name), version.strip()


def pins(path: Path) -> dict[str, str]:
    """A requirements file's `name==version` lines (and those of the files it names with -r)."""
    found: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line[3:].strip()))
        elif line:
            name, version = pin(line, path.name)
            found[name] = version
    return found


def test_pip_install_gives_exactly_the_pinned_runtime() -> None:
    declared = dict(pin(r, "pyproject.toml dependencies") for r in PYPROJECT["dependencies"])
    assert declared == pins(ROOT / "requirements.txt")
    assert set(declared) == {"pillow", "waitress", "urllib3"}


def test_the_lambda_zip_packs_pillow_urllib3_and_botocore_only() -> None:
    runtime = pins(ROOT / "requirements.txt")
    dev = pins(ROOT / "requirements-dev.txt")
    # The same versions as the local server's: urllib3 for the HTTP loader (httpOrigins=Yes);
    # botocore and what it needs as the tests install them (with boto3, which stays out).
    assert pins(ROOT / "requirements-lambda.txt") == {
        "pillow": runtime["pillow"],
        "urllib3": runtime["urllib3"],
        **{name: dev[name] for name in ("botocore", "jmespath", "python-dateutil", "six")},
    }
    serverless = (ROOT / "serverless.yml").read_text()
    assert re.search(r"^\s+fileName: requirements-lambda\.txt\b", serverless, re.MULTILINE)


def test_extras_and_runtime_are_pinned_as_the_tests_install_them() -> None:
    dev = pins(ROOT / "requirements-dev.txt")
    extras = PYPROJECT["optional-dependencies"]
    assert set(extras) == {"opencv", "aws"}
    for extra, requirements in extras.items():
        for requirement in requirements:
            name, version = pin(requirement, f"extra {extra}")
            assert dev.get(name) == version, (extra, name, version, dev.get(name))
    runtime = pins(ROOT / "requirements.txt")
    assert {name: dev[name] for name in runtime} == runtime


# A server whose imports outside the standard library, Pillow, waitress, urllib3 and the package
# fail as if nothing else were installed (ModuleNotFoundError, which optional imports expect).
BLOCKED_START = """
import sys
ALLOWED = set(sys.stdlib_module_names) | {"PIL", "waitress", "urllib3", "thumbor_urls"}
class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in ALLOWED:
            print(f"blocked import: {name}", file=sys.stderr)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
from thumbor_urls.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_serving_needs_only_the_runtime_dependencies(tmp_path: Path) -> None:
    port = free_port()
    stderr_path = tmp_path / "serve.err"
    command = [sys.executable, "-c", BLOCKED_START, "serve", "--root", str(ROOT / "samples"),
               "--host", "127.0.0.1", "--port", str(port), "--threads", "2"]  # fmt: skip
    env = clean_env(RESULT_STORAGE_FILE_STORAGE_ROOT_PATH="", PYTHONPATH=str(ROOT))
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=stderr)
    server = Server(port, process, stderr_path)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, stderr_path.read_text()
            try:
                health = server.request("/healthcheck")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert (health.status, health.body) == (200, b"WORKING")
        reply = server.request("/unsafe/fit-in/300x300/dandelions.jpg")
        assert reply.status == 200, reply.body
        with reply.image() as image:
            assert (image.format, image.size) == ("JPEG", (300, 169))
        smart = server.request("/unsafe/200x200/smart/filters:grayscale()/astronaut.png")
        assert smart.status == 200, smart.body
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("the server did not stop within 15 s of SIGINT")
    text = stderr_path.read_text()
    # With DETECTORS unset the server tries OpenCV (the opencv extra) and does without it: smart/
    # crops with saliency, which needs nothing more.
    blocked = {line for line in text.splitlines() if line.startswith("blocked import")}
    assert blocked <= {"blocked import: cv2"}, text
    assert "detectors saliency;" in text, text
    assert process.returncode == 0, text
