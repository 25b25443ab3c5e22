"""`python -m thumbor_urls render | sign | serve` as real processes."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import shutil
import string
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libthumbor import CryptoURL
from PIL import Image

from tests.helpers import clean_env, cli, running_server
from tests.images import SAMPLES
from thumbor_urls.cli import main
from thumbor_urls.signing import sign_thumbor_path

KEY = "cli-test-key"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("originals")
    shutil.copy(SAMPLES / "astronaut.jpg", folder / "astronaut.jpg")
    shutil.copy(SAMPLES / "astronaut.jpg", folder / "my photo.jpg")
    (folder / "text.jpg").write_text("not an image\n")
    return folder


def no_storage() -> dict[str, str]:
    return clean_env(RESULT_STORAGE_FILE_STORAGE_ROOT_PATH="")


def error_json(stderr: bytes) -> Any:
    """The JSON error among the lines on stderr (log lines may come with it)."""
    for line in stderr.decode().splitlines():
        if line.startswith("{") and '"code"' in line:
            return json.loads(line)
    raise AssertionError(f"no JSON error on stderr: {stderr!r}")


# --- render --------------------------------------------------------------------------------


def test_render_writes_the_image(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jpg"
    done = cli("render", "/unsafe/300x200/astronaut.jpg", "--root", str(root), "-o", str(out),
               env=no_storage(), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "image/jpeg" in done.stdout.decode()
    with Image.open(out) as image:
        assert (image.format, image.size) == ("JPEG", (300, 200))


def test_render_to_stdout_and_without_leading_slash(root: Path, tmp_path: Path) -> None:
    done = cli("render", "unsafe/fit-in/100x100/filters:format(png)/my%20photo.jpg",
               "--root", str(root), "-o", "-", env=no_storage(), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    image = Image.open(io.BytesIO(done.stdout))
    assert (image.format, image.size) == ("PNG", (100, 100))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("auto_webp", "accept", "expected"),
    [("true", "image/webp", "WEBP"), ("true", "", "JPEG"), ("false", "image/webp", "JPEG")],
)
def test_render_negotiates_the_format(
    root: Path, tmp_path: Path, auto_webp: str, accept: str, expected: str
) -> None:
    out = tmp_path / "out"
    env = clean_env(AUTO_WEBP=auto_webp, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH="")
    done = cli("render", "/unsafe/64x64/astronaut.jpg", "--root", str(root), "-o", str(out),
               "--accept", accept, env=env, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Image.open(out) as image:
        assert (image.format, image.size) == (expected, (64, 64))


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/unsafe/300x200/missing.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/filters:quality(80/astronaut.jpg", 400, "InvalidUrl"),
        ("/unsafe/300x200/text.jpg", 415, "UnsupportedImageFormat"),
        ("/unsafe/300x200/../originals/astronaut.jpg", 404, "NoSuchKey"),
        ("/unsafe/300x200/%2e%2e/etc/passwd", 404, "NoSuchKey"),
        ("/unsafe/99999x200/astronaut.jpg", 413, "ImageTooLarge"),
        ("/300x200/astronaut.jpg", 403, "SignatureDoesNotMatch"),
    ],
)
def test_render_errors_go_to_stderr_as_json(
    root: Path, tmp_path: Path, path: str, status: int, code: str
) -> None:
    out = tmp_path / "out.jpg"
    done = cli("render", path, "--root", str(root), "-o", str(out), env=no_storage(),
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    error = error_json(done.stderr)
    assert set(error) == {"status", "code", "message"}
    assert (error["status"], error["code"]) == (status, code)
    assert not out.exists()
    assert done.stdout == b""


def test_render_unsafe_url_turned_off(root: Path, tmp_path: Path) -> None:
    env = clean_env(ALLOW_UNSAFE_URL="false", RESULT_STORAGE_FILE_STORAGE_ROOT_PATH="")
    done = cli("render", "/unsafe/30x20/astronaut.jpg", "--root", str(root), "-o", "x.jpg",
               env=env, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert error_json(done.stderr)["code"] == "UnsafeUrlNotAllowed"


def test_render_signed_path(root: Path, tmp_path: Path) -> None:
    path = CryptoURL(key=KEY).generate(width=30, height=20, image_url="astronaut.jpg")
    env = clean_env(SECURITY_KEY=KEY, ALLOW_UNSAFE_URL="false",
                    RESULT_STORAGE_FILE_STORAGE_ROOT_PATH="")  # fmt: skip
    done = cli("render", path, "--root", str(root), "-o", "x.jpg", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "x.jpg") as image:
        assert image.size == (30, 20)


def test_render_result_storage(root: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    env = clean_env(RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=results)
    command = ("render", "/unsafe/120x80/astronaut.jpg", "--root", str(root))
    skipped = cli(*command, "-o", "a.jpg", "--no-result-storage", env=env, cwd=tmp_path)
    assert skipped.returncode == 0, skipped.stderr
    assert not results.exists() or list(results.rglob("*")) == []
    stored = cli(*command, "-o", "b.jpg", env=env, cwd=tmp_path)
    assert stored.returncode == 0, stored.stderr
    assert any(p.is_file() for p in results.rglob("*"))
    again = cli(*command, "-o", "c.jpg", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    outputs = {(tmp_path / name).read_bytes() for name in ("a.jpg", "b.jpg", "c.jpg")}
    assert len(outputs) == 1


def test_default_result_storage_does_not_mix_up_roots(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    env = clean_env(TMPDIR=tmp_path / "tmp")  # where the default result storage goes
    yesterday = time.time() - 86400
    colours = {"red": (255, 0, 0), "blue": (0, 0, 255)}
    for name, colour in colours.items():
        (tmp_path / name).mkdir()
        Image.new("RGB", (100, 100), colour).save(tmp_path / name / "x.jpg")
        os.utime(tmp_path / name / "x.jpg", (yesterday, yesterday))
    for name, colour in colours.items():
        out = tmp_path / f"{name}-out.jpg"
        done = cli("render", "/unsafe/50x50/x.jpg", "--root", str(tmp_path / name),
                   "-o", str(out), env=env, cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        with Image.open(out) as image:
            pixel = image.convert("RGB").getpixel((25, 25))
        assert isinstance(pixel, tuple)
        assert all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=True)), (name, pixel)


def test_a_bad_setting_is_reported(root: Path, tmp_path: Path) -> None:
    env = clean_env(QUALITY="best", RESULT_STORAGE_FILE_STORAGE_ROOT_PATH="")
    done = cli("render", "/unsafe/30x20/astronaut.jpg", "--root", str(root), "-o", "x.jpg",
               env=env, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "QUALITY" in done.stderr.decode()
    assert not (tmp_path / "x.jpg").exists()


@pytest.mark.parametrize(
    "args", [(), ("render", "/unsafe/x.jpg"), ("sign", "300x200/x.jpg"), ("resize",)]
)
def test_usage_errors(args: tuple[str, ...], tmp_path: Path) -> None:
    done = cli(*args, env=no_storage(), cwd=tmp_path)
    assert done.returncode == 2
    assert b"usage" in done.stderr


# --- sign ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "options"),
    [
        ("300x200/x.jpg", {"width": 300, "height": 200, "image_url": "x.jpg"}),
        ("/300x200/x.jpg", {"width": 300, "height": 200, "image_url": "x.jpg"}),
        ("fit-in/300x300/filters:quality(50):format(webp)/dir/my photo.jpg",
         {"width": 300, "height": 300, "fit_in": True,
          "filters": ["quality(50)", "format(webp)"], "image_url": "dir/my photo.jpg"}),
        ("meta/10x20:300x400/-100x50/left/top/smart/café.jpg",
         {"meta": True, "crop": ((10, 20), (300, 400)), "width": -100, "height": 50,
          "halign": "left", "valign": "top", "smart": True, "image_url": "café.jpg"}),
    ],
)  # fmt: skip
def test_sign_matches_libthumbor(path: str, options: dict[str, Any], tmp_path: Path) -> None:
    done = cli("sign", "--key", KEY, path, env=no_storage(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8").strip() == CryptoURL(key=KEY).generate(**options)


@settings(max_examples=60, deadline=None)
@given(
    key=st.text(string.ascii_letters + string.digits + string.punctuation, min_size=1),
    width=st.integers(1, 5000),
    height=st.integers(1, 5000),
    fit_in=st.booleans(),
    image=st.from_regex(r"[a-zA-Z0-9_\- é]+(/[a-zA-Z0-9_\- é]+)*\.(jpg|png)", fullmatch=True),
)
def test_sign_matches_libthumbor_for_any_path(
    key: str, width: int, height: int, fit_in: bool, image: str
) -> None:
    path = f"{'fit-in/' if fit_in else ''}{width}x{height}/{image}"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["sign", f"--key={key}", path]) == 0
    expected = CryptoURL(key=key).generate(
        width=width, height=height, fit_in=fit_in, image_url=image
    )
    assert printed.getvalue().strip() == expected


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("300x/center/middle/a.jpg", "300x/a.jpg"),  # the default alignments are left out
        ("trim:0/0300x0200/a.jpg", "trim/300x200/a.jpg"),
        ("/fit-in/300x0/filters:blur( 3 )/a.jpg", "fit-in/300x0/filters:blur( 3 )/a.jpg"),
    ],
)
def test_sign_prints_the_canonical_path(
    path: str, canonical: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sign", "--key", KEY, path]) == 0
    assert capsys.readouterr().out.strip() == sign_thumbor_path(KEY, canonical)


@pytest.mark.parametrize("path", ["300x200/", "filters:quality(80/a.jpg", "filters:/a.jpg"])
def test_sign_refuses_what_is_not_a_thumbor_path(
    path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sign", "--key", KEY, path]) == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith("not a Thumbor path: ")


def test_signed_paths_are_accepted_by_the_server_and_tampered_ones_refused(
    root: Path, tmp_path: Path
) -> None:
    env = clean_env(SECURITY_KEY=KEY, ALLOW_UNSAFE_URL="false",
                    RESULT_STORAGE_FILE_STORAGE_ROOT_PATH="")  # fmt: skip

    def sign(path: str) -> str:
        done = cli("sign", "--key", KEY, path, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout.decode().strip()

    plain = sign("300x200/astronaut.jpg")
    spaced = sign("fit-in/100x100/filters:quality(50)/my photo.jpg")
    assert len(plain.split("/")[1]) == 28
    with running_server(root, tmp_path / "logs", env, "--threads", "2", cwd=tmp_path) as server:
        reply = server.request(plain, headers={"Accept": "image/avif,image/webp,*/*"})
        assert reply.status == 200, reply.body
        assert reply.image().size == (300, 200)
        assert reply.headers["Content-Type"] == "image/jpeg"
        assert "Vary" not in reply.headers  # no AUTO_WEBP or AUTO_AVIF: Accept changes nothing
        reply = server.request(quote(spaced, safe="/:(),="))
        assert reply.status == 200, reply.body
        assert reply.image().size == (100, 100)
        signature = plain.split("/")[1]
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        for tampered in (
            plain.replace("300x200", "300x201"),
            plain.replace("astronaut.jpg", "my photo.jpg").replace(" ", "%20"),
            f"/{signature}/300x200/filters:quality(1)/astronaut.jpg",
            f"/{flipped}/300x200/astronaut.jpg",
        ):
            reply = server.request(tampered)
            assert reply.status == 403, tampered
            assert reply.headers["Content-Type"] == "application/json"
            assert reply.json()["code"] == "SignatureDoesNotMatch"
        reply = server.request("/unsafe/300x200/astronaut.jpg")
        assert (reply.status, reply.json()["code"]) == (403, "UnsafeUrlNotAllowed")


# --- serve ---------------------------------------------------------------------------------


def test_serve_refuses_a_missing_root(tmp_path: Path) -> None:
    done = cli("serve", "--root", str(tmp_path / "nope"), "--port", "1", env=no_storage())
    assert done.returncode == 2
    assert "no such folder" in done.stderr.decode()


def test_serve_stops_on_ctrl_c(root: Path, tmp_path: Path) -> None:
    with running_server(root, tmp_path / "logs", no_storage(), cwd=tmp_path) as server:
        assert server.request("/unsafe/50x50/astronaut.jpg").status == 200
        status, stderr = server.stop()
        assert status == 0
        assert "stopped" in stderr
        assert server.process.poll() == 0


# --- sign: the key from the environment, imagor's signers, expiry, SIH ------------------------


def written_out(key: str, path: str, digest: str = "sha1", truncate: int = 0) -> str:
    """A signature computed here from hmac and base64, not by the code under test."""
    mac = hmac.new(key.encode(), path.encode(), getattr(hashlib, digest)).digest()
    text = base64.urlsafe_b64encode(mac).decode()
    return text[:truncate] if truncate else text


def test_sign_takes_the_key_from_the_environment(tmp_path: Path) -> None:
    path = "300x200/astronaut.jpg"
    done = cli("sign", path, env=clean_env(SECURITY_KEY=KEY), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == CryptoURL(key=KEY).generate(
        width=300, height=200, image_url="astronaut.jpg"
    )
    # With several keys, the first signs.
    done = cli("sign", path, env=clean_env(SECURITY_KEYS="new-key,old-key"), cwd=tmp_path)
    assert done.stdout.decode().strip() == f"/{written_out('new-key', path)}/{path}"
    # --key still wins.
    done = cli("sign", "--key", "k2", path, env=clean_env(SECURITY_KEY=KEY), cwd=tmp_path)
    assert done.stdout.decode().strip() == f"/{written_out('k2', path)}/{path}"


def test_sign_without_a_key(tmp_path: Path) -> None:
    done = cli("sign", "300x200/a.jpg", env=clean_env(), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == b""
    assert "usage" in done.stderr.decode()
    assert "SECURITY_KEY" in done.stderr.decode()


@pytest.mark.parametrize(
    ("options", "digest", "truncate"),
    [
        ((), "sha1", 0),
        (("--sha256",), "sha256", 0),
        (("--sha512",), "sha512", 0),
        (("--sha256", "--truncate", "40"), "sha256", 40),
        (("--sha512", "--truncate", "32"), "sha512", 32),
    ],
)
def test_sign_with_imagors_signers(
    options: tuple[str, ...], digest: str, truncate: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = "fit-in/300x300/filters:quality(50)/dir/my photo.jpg"
    assert main(["sign", "--key", KEY, *options, path]) == 0
    expected = f"/{written_out(KEY, path, digest, truncate)}/{path}"
    assert capsys.readouterr().out.strip() == expected


@pytest.mark.parametrize(
    "args", [("--sha256", "--sha512"), ("--truncate", "8"), ("--expires", "x")]
)
def test_sign_option_errors(args: tuple[str, ...], tmp_path: Path) -> None:
    done = cli("sign", "--key", KEY, *args, "a.jpg", env=no_storage(), cwd=tmp_path)
    assert done.returncode == 2
    assert b"usage" in done.stderr


def test_sign_expires(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sign", "--key", KEY, "--expires", "4102444800", "300x200/a.jpg"]) == 0
    path = "300x200/filters:expire(4102444800000)/a.jpg"
    assert capsys.readouterr().out.strip() == f"/{written_out(KEY, path)}/{path}"
    before = time.time()
    assert main(["sign", "--key", KEY, "--sha256", "--expires", "+60", "30x0/a.jpg"]) == 0
    printed = capsys.readouterr().out.strip()
    signature, _, rest = printed[1:].partition("/")
    assert signature == written_out(KEY, rest, "sha256")
    unix_ms = int(rest.split("expire(")[1].split(")")[0])
    assert (before + 60) * 1000 - 1 <= unix_ms <= (time.time() + 60) * 1000


def test_sign_sih(capsys: pytest.CaptureFixture[str]) -> None:
    def sih(key: str, text: str) -> str:
        return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()

    # A JSON document: written as SIH's base64 path, in JSON.stringify's spelling.
    document = '{"bucket": "b", "key": "café.jpg", "edits": {"resize": {"width": 300}}}'
    assert main(["sign", "--key", KEY, "--sih", document]) == 0
    path, _, query = capsys.readouterr().out.strip().partition("?")
    compact = '{"bucket":"b","key":"café.jpg","edits":{"resize":{"width":300}}}'
    assert path == "/" + base64.b64encode(compact.encode()).decode()
    assert query == f"signature={sih(KEY, path)}"
    # A base64 path or a Thumbor-style path, as it is.
    for text in (path, "fit-in/300x200/a.jpg"):
        assert main(["sign", "--key", KEY, "--sih", text]) == 0
        expected = "/" + text.lstrip("/")
        assert capsys.readouterr().out.strip() == f"{expected}?signature={sih(KEY, expected)}"
    # A path with a query, and SIH's own expires: v7 signs them all, sorted.
    assert main(["sign", "--key", KEY, "--sih", "--expires", "4102444800",
                 "/a.jpg?width=300&format=webp&signature=old"]) == 0  # fmt: skip
    printed = capsys.readouterr().out.strip()
    text = "/a.jpg?expires=21000101T000000Z&format=webp&width=300"
    assert printed == (
        f"/a.jpg?width=300&format=webp&expires=21000101T000000Z&signature={sih(KEY, text)}"
    )


def test_sign_sih_refuses_other_signers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sign", "--key", KEY, "--sih", "--truncate", "20", "a.jpg"])
    assert exited.value.code == 2
    assert "--sih" in capsys.readouterr().err
    assert main(["sign", "--key", KEY, "--sih", "{not json"]) == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith("not a SIH request")


def test_signed_paths_of_every_kind_served_over_http(root: Path, tmp_path: Path) -> None:
    env = clean_env(SECURITY_KEYS=f"{KEY},old-key", ALLOW_UNSAFE_URL="false", MAX_AGE="3600",
                    RESULT_STORAGE_FILE_STORAGE_ROOT_PATH="")  # fmt: skip

    def sign(*args: str) -> str:
        done = cli("sign", *args, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout.decode().strip()

    with running_server(root, tmp_path / "logs", env, "--threads", "2", cwd=tmp_path) as server:
        for url in (
            sign("--sha256", "64x64/astronaut.jpg"),
            sign("--key", "old-key", "--sha512", "64x64/astronaut.jpg"),
            sign("--sih", "64x64/astronaut.jpg"),
        ):
            reply = server.request(url)
            assert reply.status == 200, (url, reply.body)
            assert reply.image().size == (64, 64)
        soon = server.request(sign("--expires", "+100", "32x32/astronaut.jpg"))
        assert soon.status == 200, soon.body
        age = int(soon.headers["Cache-Control"].removeprefix("public, max-age="))
        assert 90 <= age <= 100
        gone = server.request(sign("--expires", str(time.time() - 10), "32x32/astronaut.jpg"))
        assert gone.status == 403
        assert gone.json()["code"] == "UrlExpired"
