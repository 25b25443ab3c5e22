"""The container image (Dockerfile, .dockerignore). Where a Docker engine answers, the image is
built and run: it must serve the samples as an unprivileged user and stop cleanly. Everywhere, the
Dockerfile is read: it installs exactly the pinned runtime (requirements.txt, which
tests/test_packaging.py holds equal to `pip install .`'s dependencies) and the package, and its
build context holds what the build copies and nothing else of note. `make lint` runs hadolint."""

from __future__ import annotations

import http.client
import io
import json
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word:
            found.append((word.upper(), " ".join(rest.split())))
    return found


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The build stages, each from its FROM."""
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(text):
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def only(stage: list[tuple[str, str]], word: str) -> str:
    [arguments] = [rest for name, rest in stage if name == word]
    return arguments


def commands(stage: list[tuple[str, str]]) -> list[list[str]]:
    """Every shell command of the stage's RUN instructions, as words."""
    return [shlex.split(part) for name, rest in stage if name == "RUN" for part in rest.split("&&")]


FINAL = stages(DOCKERFILE)[-1]


def test_the_image_installs_exactly_the_pinned_runtime_and_the_package() -> None:
    *builders, final = stages(DOCKERFILE)
    # The build stage makes the package's wheel only, with no dependencies.
    [builder] = builders
    assert [c[:2] for c in commands(builder)] == [["pip", "wheel"]]
    [wheel] = commands(builder)
    assert "--no-deps" in wheel and wheel[-1] == "."
    # The image: requirements.txt as copied in, then that wheel without dependencies.
    copies = {rest.split()[-1]: rest.split()[:-1] for name, rest in final if name == "COPY"}
    installs = [c for c in commands(final) if c[:2] == ["pip", "install"]]
    assert len(installs) == 2, installs
    requirements, package = installs
    assert [w for w in requirements if not w.startswith("--no-cache")] == [
        "pip", "install", "-r", "/tmp/requirements.txt"
    ]  # fmt: skip
    assert copies["/tmp/requirements.txt"] == ["requirements.txt"]
    assert "--no-deps" in package and package[-1] == "/tmp/wheels/*.whl"
    assert copies["/tmp/wheels"] == ["--from=wheel", "/wheels"]
    assert not any("pip" in c[0] for c in commands(final) if c[:2] != ["pip", "install"])


def test_the_image_serves_from_a_volume_unprivileged_with_a_health_check() -> None:
    base = only(FINAL, "FROM")
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base), base
    assert only(FINAL, "USER").split(":")[0] not in {"root", "0"}
    assert json.loads(only(FINAL, "ENTRYPOINT")) == ["thumbor-urls"]
    command = json.loads(only(FINAL, "CMD"))
    assert command[0] == "serve"
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options["--host"] == "0.0.0.0"
    assert options["--root"] in json.loads(only(FINAL, "VOLUME"))
    assert only(FINAL, "EXPOSE") == options["--port"]
    check = only(FINAL, "HEALTHCHECK")
    assert f"http://127.0.0.1:{options['--port']}/healthcheck" in check
    assert only(FINAL, "STOPSIGNAL") == "SIGINT"  # what waitress stops cleanly on


def in_context(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore's patterns leave `path` in the build context: the last pattern that
    matches the path or a folder above it decides; `!` keeps."""
    kept = True
    parts = path.split("/")
    for pattern in patterns:
        keep = pattern.startswith("!")
        glob = pattern.removeprefix("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            kept = keep
    return kept


def test_the_build_context_holds_what_the_build_copies_and_no_tests_or_venvs() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [
        source
        for name, rest in instructions(DOCKERFILE)
        if name == "COPY" and not rest.startswith("--from")
        for source in rest.split()[:-1]
    ]
    assert sources, "no COPY from the build context"
    for source in sources:
        assert (ROOT / source).exists(), source
        assert in_context(source, patterns), source
    for kept in ("thumbor_urls/__init__.py", "thumbor_urls/filters/__init__.py", "LICENSE"):
        assert in_context(kept, patterns), kept
    for left_out in ("tests/corpus/photo_sunset_4272x2848.jpg", "samples/dandelions.jpg",
                     ".venv/bin/python", "node_modules/x/package.json", ".git/HEAD",
                     "bench/run.py", "requirements-dev.txt", ".serverless/thumbor-urls.zip",
                     "thumbor_urls/__pycache__/app.cpython-312.pyc"):  # fmt: skip
        assert not in_context(left_out, patterns), left_out


# -- with a Docker engine ---------------------------------------------------------------------


def docker_engine() -> str | None:
    """None when an engine answers, else why not."""
    if shutil.which("docker") is None:
        return "no docker command on PATH"
    done = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["docker info failed"])[-1]
        return f"no Docker engine reachable (docker info: {reason})"
    return None


def docker(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"docker {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip()


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    reason = docker_engine()
    if reason:
        pytest.skip(f"the image is not built here: {reason}")
    tag = f"thumbor-urls-test:{uuid.uuid4().hex[:12]}"
    docker("build", "--pull", "-t", tag, str(ROOT), timeout=900)
    try:
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120, check=False)


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_image_holds_only_the_runtime(image: str) -> None:
    frozen = docker("run", "--rm", "--entrypoint", "pip", image, "list", "--format=freeze")
    names = {line.split("==")[0].lower() for line in frozen.splitlines()}
    assert names - {"pip", "setuptools", "wheel"} == {"pillow", "waitress", "thumbor-urls"}


def test_the_image_serves_the_samples_and_stops_on_docker_stop(image: str) -> None:
    samples = ROOT / "samples"
    container = docker("run", "-d", "-p", "127.0.0.1::8888", "-v", f"{samples}:/srv/images:ro",
                       "--memory", "1g", "-e", "MEMORY_LIMIT_MB=1024", image)  # fmt: skip
    try:
        port = int(docker("port", container, "8888/tcp").splitlines()[0].rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = get(port, "/healthcheck")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(docker("logs", container)) from None
                time.sleep(0.5)
        assert (status, body) == (200, b"WORKING")
        status, body = get(port, "/unsafe/fit-in/300x300/dandelions.jpg")
        assert status == 200, body
        with Image.open(io.BytesIO(body)) as thumbnail:
            assert (thumbnail.format, thumbnail.size) == ("JPEG", (300, 169))
        assert docker("exec", container, "id", "-u") != "0"
        started = time.monotonic()
        docker("stop", "--time", "20", container)
        assert time.monotonic() - started < 10, "docker stop waited for the kill"
        assert docker("inspect", "--format", "{{.State.ExitCode}}", container) == "0"
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, timeout=60,
                       check=False)  # fmt: skip
