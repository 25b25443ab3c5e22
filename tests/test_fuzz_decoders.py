"""Broken files served through the real App: every one must be answered with 200, 400, 413 or
415 (never a server error), within a few seconds, whatever is wrong with it.

The corpus (tests/broken_files.py) breaks one thing per file; hypothesis mutates a few valid
small files at random (byte flips, truncations, inserted junk). A request runs under a cap on
the process's address space, so that a decoder that tries to allocate gigabytes fails with
MemoryError (a 500 here) instead of taking the machine down.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests import broken_files as broken
from tests.images import encode
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Request

# Pillow warns about the corrupt EXIF data some files carry on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data")

ALLOWED = frozenset({200, 400, 413, 415})
SECONDS = 5.0  # per request; the slowest corpus file takes about 0.15 s
# 1000x1000: every huge declared size in the corpus is over it, every real picture under it.
MAX_SOURCE_PIXELS = 1_000_000
URLS = (
    "/unsafe/{}",
    "/unsafe/fit-in/64x64/{}",
    "/unsafe/meta/{}",
    "/unsafe/filters:format(png)/{}",
)
# Virtual memory a request may add: libwebp reserves (without touching) two 1 GB canvases for
# a 16383x16383 WebP, which must still open; a 65536x65536 GIF canvas must not.
ADDRESS_SPACE = 3 << 30


class Answer(NamedTuple):
    url: str
    status: int
    seconds: float
    body: bytes
    exceptions: tuple[str, ...]  # what the App logged as a bug, if anything

    def __str__(self) -> str:
        detail = f" {self.body[:160]!r}" if self.status != 200 else ""
        logged = f" logged {', '.join(self.exceptions)}" if self.exceptions else ""
        return f"{self.url}: {self.status} in {self.seconds:.2f} s{detail}{logged}"


class _Exceptions(logging.Handler):
    """Collects the exceptions the App logs as its own bugs (answered with 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.seen.append(repr(record.exc_info[1]))


def address_space() -> int | None:
    """This process's address space in bytes, where Linux says (None elsewhere)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


CAN_CAP = address_space() is not None


@contextlib.contextmanager
def address_space_cap(extra: int) -> Iterator[None]:
    """RLIMIT_AS at the current address space plus `extra` bytes, restored afterwards."""
    now = address_space()
    if now is None:
        yield
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = now + extra
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft <= cap:
        yield  # already capped tighter
        return
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


class Server:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.app = App(
            Settings(
                FILE_LOADER_ROOT_PATH=folder,
                RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None,
                MAX_SOURCE_PIXELS=MAX_SOURCE_PIXELS,
            )
        )
        self.exceptions = _Exceptions()

    def serve(self, name: str, data: bytes, urls: tuple[str, ...] = URLS) -> list[Answer]:
        (self.folder / name).write_bytes(data)
        answers = []
        for template in urls:
            url = template.format(name)
            self.exceptions.seen.clear()
            started = time.perf_counter()
            with address_space_cap(ADDRESS_SPACE):
                response = self.app.handle(Request("GET", url))
            seconds = time.perf_counter() - started
            logged = tuple(self.exceptions.seen)
            answers.append(Answer(url, response.status, seconds, response.body, logged))
        return answers


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("broken"))
    logger = logging.getLogger("thumbor_urls")
    logger.addHandler(server.exceptions)
    try:
        yield server
    finally:
        logger.removeHandler(server.exceptions)


def check(answers: list[Answer]) -> None:
    for answer in answers:
        assert answer.status in ALLOWED, str(answer)
        assert answer.seconds < SECONDS, str(answer)
        if answer.status != 200:
            error = json.loads(answer.body)
            assert error["status"] == answer.status, str(answer)
            assert isinstance(error["code"], str) and isinstance(error["message"], str)


# The corpus -----------------------------------------------------------------------------------

# Without the cap these would really allocate gigabytes.
ALLOCATE_GIGABYTES = frozenset({"gif_frame_at_65535"})


def marks(name: str) -> list[pytest.MarkDecorator]:
    if name in ALLOCATE_GIGABYTES:
        return [pytest.mark.skipif(not CAN_CAP, reason="no address-space cap here")]
    return []


def corpus_cases() -> list[object]:
    return [pytest.param(name, marks=marks(name)) for name in broken.CORPUS]


def file_name(name: str) -> str:
    return f"{name}.{broken.SUFFIX[name]}"


@pytest.mark.parametrize("name", corpus_cases())
def test_broken_file_is_answered_without_a_server_error(server, name):
    check(server.serve(file_name(name), broken.CORPUS[name]()))


def test_the_corpus_is_large_and_every_file_small():
    assert len(broken.CORPUS) >= 60
    assert set(REFUSED) <= set(broken.CORPUS)
    for name, build in broken.CORPUS.items():
        assert len(build()) < 100_000, name


# Sizes over MAX_SOURCE_PIXELS (declared, or what the decoder would really make) and animations
# over MAX_ANIMATION_FRAMES are refused with 413, by every URL (meta/ included).
REFUSED = (
    "gif_huge_screen",
    "gif_frame_outside_screen",  # a 1x1 screen whose second frame grows it to 2000x2000
    "gif_frame_at_65535",
    "gif_many_frames",
    "png_huge_ihdr",
    "png_huge_ihdr_one_row",
    "png_ihdr_width_ffffffff",
    "apng_many_frames",
    "jpeg_sof_65500",
    "jpeg_progressive_sof_65500",
    "webp_vp8_16383",
    "webp_vp8x_16383_animated",
)


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=marks(name)) for name in REFUSED],
)
def test_too_large_is_refused_from_the_structure(server, name):
    for answer in server.serve(file_name(name), broken.CORPUS[name]()):
        assert answer.status == 413, str(answer)
        assert json.loads(answer.body)["code"] == "ImageTooLarge"


# Every truncation, every mutation ------------------------------------------------------------

SMALL_FILES: dict[str, Callable[[], bytes]] = {
    "gif": lambda: broken.animation("GIF", 3, (12, 9)),
    "apng": lambda: broken.animation("PNG", 3, (12, 9)),
    "webp-animated": lambda: broken.animation("WEBP", 3, (12, 9)),
    "png": lambda: encode(broken.picture((12, 9), "RGBA"), "PNG"),
    "jpeg": lambda: encode(broken.picture((24, 16)), "JPEG"),
    "jpeg-progressive": lambda: encode(broken.picture((24, 16)), "JPEG", progressive=True),
    "webp-lossy": lambda: encode(broken.picture((12, 9)), "WEBP"),
    "webp-lossless": lambda: encode(broken.picture((12, 9)), "WEBP", lossless=True),
}
SUFFIXES = {"gif": "gif", "apng": "png", "png": "png", "jpeg": "jpg", "jpeg-progressive": "jpg"}


@pytest.mark.parametrize("base", list(SMALL_FILES))
def test_every_truncation(server, base):
    data = SMALL_FILES[base]()
    name = f"cut.{SUFFIXES.get(base, 'webp')}"
    failures = []
    for end in range(len(data)):
        for answer in server.serve(name, data[:end], URLS[1:2]):
            if answer.status not in ALLOWED or answer.seconds >= SECONDS:
                failures.append(f"cut at {end}: {answer}")
    assert not failures, f"{len(failures)} of {len(data)} cuts:\n" + "\n".join(failures[:10])


@st.composite
def mutations(draw: st.DrawFn, data: bytes) -> bytes:
    mutated = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        # Anywhere in the file: hypothesis favours small integers, which would be the header.
        at = draw(st.integers(0, 1 << 16)) * len(mutated) >> 16
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "overwrite"]))
        if kind == "flip" and at < len(mutated):
            mutated[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del mutated[at:]
        elif kind == "insert":
            mutated[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            junk = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\xff\xd9"]))
            mutated[at : at + len(junk)] = junk
    return bytes(mutated)


@pytest.mark.parametrize("base", list(SMALL_FILES))
def test_mutated_files(server, base):
    data = SMALL_FILES[base]()
    name = f"mutated.{SUFFIXES.get(base, 'webp')}"

    # Derandomized, so that a run on CI tries what a run here tried; not shrunk, as a file that
    # makes the App allocate gigabytes would be tried a hundred times over.
    @settings(
        max_examples=150,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(mutated=mutations(data))
    def answered(mutated: bytes) -> None:
        check(server.serve(name, mutated, URLS[1:2]))

    answered()
