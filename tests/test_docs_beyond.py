"""Every example of docs/beyond-thumbor.md works: each ```sh block starts the server over samples/
(`SETTING=value ... make serve`) and lists URLs (or `curl -H ...` lines), each answered 200 unless
its comment names the status and code it answers instead (`# 403 PresetRequired`); a comment may
also say what the answer is (`# image/webp; 600x338; Content-DPR: 2`). Run through the App that
`make serve` starts, with the settings the block gives it."""

from __future__ import annotations

import io
import itertools
import json
import re
import shlex
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from tests.images import SAMPLES
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request

DOC = Path(__file__).resolve().parent.parent / "docs" / "beyond-thumbor.md"
BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
EXPECT = re.compile(r"#\s*(\d{3})\s+(\w+)\s*$")
SIZE = re.compile(r"(\d+)x(\d+)")

Example = tuple[dict[str, str], str, dict[str, str], int, str, list[str]]


def examples() -> list[Example]:
    """(settings, path, headers, status, code, what the answer is) for every example line."""
    found = []
    for block in BLOCK.findall(DOC.read_text()):
        first, *lines = block.strip().splitlines()
        words = shlex.split(first)
        assert words[-2:] == ["make", "serve"], first
        env = dict(word.split("=", 1) for word in words[:-2])
        for line in lines:
            command, _, comment = line.partition("  # ")
            expected = EXPECT.search(line)
            status, code = (int(expected[1]), expected[2]) if expected else (200, "")
            described = [] if expected or not comment else comment.split("; ")
            words = shlex.split(command)
            headers: dict[str, str] = {}
            if words[0] == "curl":
                for flag, value in itertools.pairwise(words):
                    if flag == "-H":
                        name, _, text = value.partition(":")
                        headers[name.strip().lower()] = text.strip()
            url = urlsplit(words[-1])
            assert (url.hostname, url.port) == ("127.0.0.1", 8888), line
            found.append((env, unquote(url.path), headers, status, code, described))
    return found


EXAMPLES = examples()


def test_every_block_is_read() -> None:
    assert len(BLOCK.findall(DOC.read_text())) >= 7
    assert len(EXAMPLES) >= 15


@pytest.mark.parametrize(("env", "path", "headers", "status", "code", "described"), EXAMPLES)
def test_the_example_answers_as_the_document_says(
    env: dict[str, str],
    path: str,
    headers: dict[str, str],
    status: int,
    code: str,
    described: list[str],
) -> None:
    settings = Settings.from_env(env).replace(
        FILE_LOADER_ROOT_PATH=SAMPLES, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None
    )
    response = App(settings).handle(Request("GET", path, headers))
    assert response.status == status, response.body[:300]
    if code:
        assert json.loads(response.body)["code"] == code
    for claim in described:
        size = SIZE.fullmatch(claim)
        if size:
            with Image.open(io.BytesIO(response.body)) as image:
                assert image.size == (int(size[1]), int(size[2])), claim
        elif claim.startswith("image/"):
            assert response.headers["Content-Type"] == claim
        else:
            name, _, value = claim.partition(": ")
            assert response.headers.get(name) == value, claim
