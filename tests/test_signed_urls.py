"""Signed URLs end to end through the App: keys that rotate, imagor's signatures and its
expire(), the signer restriction, and a signature verified on exactly the string routed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import shutil
import time
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from libthumbor import CryptoURL
from PIL import Image

from tests.images import SAMPLES
from thumbor_urls.app import App
from thumbor_urls.config import Settings
from thumbor_urls.messages import Access, Request, Response

NEW, OLD = "new-key", "old-key"


def written_out(key: str, path: str, digest: str = "sha1", truncate: int = 0) -> str:
    """A signature computed here from hmac and base64, not by the code under test."""
    mac = hmac.new(key.encode(), path.encode(), getattr(hashlib, digest)).digest()
    text = base64.urlsafe_b64encode(mac).decode()
    return text[:truncate] if truncate else text


def signed(key: str, path: str, digest: str = "sha1", truncate: int = 0) -> str:
    return f"/{written_out(key, path, digest, truncate)}/{path}"


class Served:
    """An App over a folder, asked as an HTTP adapter asks it: the path decoded once, the path
    as sent beside it."""

    def __init__(self, root: Path, results: Path, **settings: object) -> None:
        base = Settings(FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=results)
        self.app = App(base.replace(**settings))
        self.outcomes: list[str] = []

    def get(self, sent: str, query: dict[str, str] | None = None) -> Response:
        def record(access: Access) -> None:
            self.outcomes.append(access.outcome)

        request = Request("GET", unquote(sent), {}, query or {}, raw_path=sent)
        return self.app.handle(request, record=record)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "originals"
    root.mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", root / "astronaut.jpg")
    return root


def serve(folder: Path, **settings: object) -> Served:
    return Served(folder, folder.parent / "results", **settings)


def size_of(response: Response) -> tuple[int, int]:
    assert response.status == 200, response.body
    with Image.open(io.BytesIO(response.body)) as image:
        return image.size


def code_of(response: Response) -> tuple[int, str]:
    return response.status, json.loads(response.body)["code"]


def max_age_of(response: Response) -> int:
    value = response.headers["Cache-Control"]
    if value == "no-cache":
        return 0
    assert value.startswith("public, max-age="), value
    return int(value.removeprefix("public, max-age="))


# --- keys ------------------------------------------------------------------------------------


def test_rotation_old_key_still_verifies_and_the_first_signs(folder: Path) -> None:
    settings = Settings.from_env({"SECURITY_KEYS": f"{NEW},{OLD}"})
    assert settings.signing_key == NEW
    server = serve(folder, SECURITY_KEYS=settings.SECURITY_KEYS, ALLOW_UNSAFE_URL=False)
    path = "60x40/astronaut.jpg"
    assert size_of(server.get(signed(NEW, path))) == (60, 40)
    assert size_of(server.get(signed(OLD, path))) == (60, 40)
    assert code_of(server.get(signed("other", path))) == (403, "SignatureDoesNotMatch")


def test_security_key_beside_security_keys_verifies_after_them(folder: Path) -> None:
    settings = Settings.from_env({"SECURITY_KEY": OLD, "SECURITY_KEYS": NEW})
    assert settings.security_keys == (NEW, OLD)
    assert settings.signing_key == NEW
    server = serve(folder, SECURITY_KEY=OLD, SECURITY_KEYS=(NEW,))
    assert size_of(server.get(signed(OLD, "30x20/astronaut.jpg"))) == (30, 20)
    assert size_of(server.get(signed(NEW, "30x20/astronaut.jpg"))) == (30, 20)
    alone = serve(folder, SECURITY_KEY=OLD)
    assert code_of(alone.get(signed(NEW, "30x20/astronaut.jpg")))[0] == 403


# --- imagor's signers ------------------------------------------------------------------------


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_each_signer_is_served_by_default(folder: Path, digest: str) -> None:
    server = serve(folder, SECURITY_KEY=NEW)
    url = signed(NEW, "50x50/astronaut.jpg", digest)
    assert size_of(server.get(url)) == (50, 50)
    assert code_of(server.get(url.replace("50x50", "50x51")))[0] == 403


def test_libthumbor_urls_unchanged_by_default(folder: Path) -> None:
    server = serve(folder, SECURITY_KEY=NEW, ALLOW_UNSAFE_URL=False)
    url = CryptoURL(key=NEW).generate(width=64, height=48, smart=True, image_url="astronaut.jpg")
    assert size_of(server.get(url)) == (64, 48)


def test_signer_types_restrict_what_is_accepted(folder: Path) -> None:
    server = serve(folder, SECURITY_KEY=NEW, SIGNER_TYPES=("sha256",))
    path = "40x40/astronaut.jpg"
    assert size_of(server.get(signed(NEW, path, "sha256"))) == (40, 40)
    for digest in ("sha1", "sha512"):
        assert code_of(server.get(signed(NEW, path, digest))) == (403, "SignatureDoesNotMatch")


def test_truncated_signatures_with_signer_truncate(folder: Path) -> None:
    path = "40x40/astronaut.jpg"
    cut = signed(NEW, path, "sha512", 40)
    assert code_of(serve(folder, SECURITY_KEY=NEW).get(cut))[0] == 403
    server = serve(folder, SECURITY_KEY=NEW, SIGNER_TRUNCATE=40)
    assert size_of(server.get(cut)) == (40, 40)
    assert size_of(server.get(signed(NEW, path, "sha256", 40))) == (40, 40)
    assert size_of(server.get(signed(NEW, path))) == (40, 40)  # libthumbor's, whole
    assert code_of(server.get(signed(NEW, path, "sha256", 39)))[0] == 403


# --- expire() ----------------------------------------------------------------------------------


def expiring(path: str, seconds_from_now: float) -> str:
    unix_ms = int((time.time() + seconds_from_now) * 1000)
    options, _, image = path.rpartition("/")
    return f"{options}/filters:expire({unix_ms})/{image}"


def test_an_expired_url_is_refused_before_anything_is_loaded(folder: Path) -> None:
    server = serve(folder, SECURITY_KEY=NEW)
    expired = expiring("30x30/astronaut.jpg", -5)
    assert code_of(server.get(signed(NEW, expired, "sha256"))) == (403, "UrlExpired")
    # The image does not exist: the expiry is answered first, nothing was looked up.
    assert code_of(server.get(signed(NEW, expiring("30x30/missing.jpg", -5)))) == (
        403,
        "UrlExpired",
    )
    assert code_of(server.get(signed(NEW, expiring("30x30/missing.jpg", 60))))[0] == 404
    # Its expiry is in what is signed: moving it is a signature that no longer matches.
    moved = signed(NEW, expired).replace("expire(", "expire(9")
    assert code_of(server.get(moved)) == (403, "SignatureDoesNotMatch")
    # Unsigned URLs are held to it too (as imagor does), for what that is worth.
    assert code_of(server.get("/unsafe/" + expired)) == (403, "UrlExpired")


def test_the_max_age_never_outlives_the_expiry(folder: Path) -> None:
    server = serve(folder, SECURITY_KEY=NEW, MAX_AGE=86400)
    soon = signed(NEW, expiring("32x32/astronaut.jpg", 120))
    first = server.get(soon)
    assert size_of(first) == (32, 32)
    assert 110 <= max_age_of(first) <= 120
    # Another expiry of the same image: one result-store entry serves both, each capped.
    sooner = signed(NEW, expiring("32x32/astronaut.jpg", 30))
    second = server.get(sooner)
    assert server.outcomes == ["processed", "result-cache"]
    assert second.body == first.body
    assert 20 <= max_age_of(second) <= 30
    # In its last second it is not cached at all (the second is generous: under load the
    # request may take a while to get there).
    last = server.get(signed(NEW, expiring("32x32/astronaut.jpg", 1.9)))
    assert max_age_of(last) <= 1
    # A shorter MAX_AGE or max_age() wins.
    later = expiring("32x32/astronaut.jpg", 10_000)
    assert max_age_of(serve(folder, SECURITY_KEY=NEW, MAX_AGE=600).get(signed(NEW, later))) == 600
    with_filter = later.replace("filters:", "filters:max_age(77):")
    assert max_age_of(server.get(signed(NEW, with_filter))) == 77


def test_an_unparsable_expiry_is_skipped_or_refused_under_strict_filters(folder: Path) -> None:
    path = "20x20/filters:expire(soon)/astronaut.jpg"
    assert size_of(serve(folder, SECURITY_KEY=NEW).get(signed(NEW, path))) == (20, 20)
    strict = serve(folder, SECURITY_KEY=NEW, STRICT_FILTERS=True)
    assert code_of(strict.get(signed(NEW, path)))[0] == 400
    fine = expiring("20x20/astronaut.jpg", 60)
    assert size_of(strict.get(signed(NEW, fine))) == (20, 20)


# --- the string signed is the string routed -----------------------------------------------------


def test_a_key_signed_encoded_stays_one_key(folder: Path) -> None:
    """Signed as sent, `fit-in%2F300x200/astronaut.jpg` names one key with slashes in it:
    decoding it before parsing would have read a fit-in resize of astronaut.jpg instead."""
    nested = folder / "fit-in" / "300x200"
    nested.mkdir(parents=True)
    Image.new("RGB", (17, 13), "red").save(nested / "astronaut.jpg")
    server = serve(folder, SECURITY_KEY=NEW)
    sent = signed(NEW, "fit-in%2F300x200/astronaut.jpg")
    response = server.get(sent)
    assert size_of(response) == (17, 13)  # the red image the signature names, as it is
    (nested / "astronaut.jpg").unlink()
    assert code_of(server.get(sent)) == (404, "NoSuchKey")
    # The same string signed decoded is the resize, as it says.
    assert size_of(server.get(signed(NEW, "fit-in/300x200/astronaut.jpg"))) == (200, 200)


def test_a_signed_filter_spelt_encoded_is_not_run(folder: Path) -> None:
    """`filters%3Agrayscale()/x.jpg`, signed as sent, is an image key, not a filter."""
    server = serve(folder, SECURITY_KEY=NEW)
    response = server.get(signed(NEW, "30x30/filters%3Agrayscale()/astronaut.jpg"))
    assert response.status in (400, 404)
    assert code_of(response)[1] in ("InvalidUrl", "NoSuchKey")


@pytest.mark.parametrize("name", ["my photo.jpg", "café.jpg", "100%.jpg"])
def test_signed_decoded_sent_encoded(folder: Path, name: str) -> None:
    """libthumbor signs the key as written; the browser sends it percent-encoded."""
    shutil.copy(folder / "astronaut.jpg", folder / name)
    server = serve(folder, SECURITY_KEY=NEW)
    path = f"24x24/{name}"
    assert size_of(server.get(quote(signed(NEW, path), safe="/:(),="))) == (24, 24)


def test_signed_encoded_sent_as_signed(folder: Path) -> None:
    shutil.copy(folder / "astronaut.jpg", folder / "my photo.jpg")
    server = serve(folder, SECURITY_KEY=NEW)
    assert size_of(server.get(signed(NEW, "24x24/my%20photo.jpg"))) == (24, 24)
    assert size_of(server.get(signed(NEW, "24x24/filters:quality(50)/my%20photo.jpg"))) == (
        24,
        24,
    )


def test_sih_signature_covers_what_is_routed(folder: Path) -> None:
    nested = folder / "fit-in" / "300x200"
    nested.mkdir(parents=True)
    Image.new("RGB", (9, 7), "blue").save(nested / "astronaut.jpg")
    server = serve(folder, SECURITY_KEYS=(NEW, OLD))

    def sih(key: str, path: str) -> str:
        return hmac.new(key.encode(), path.encode(), hashlib.sha256).hexdigest()

    plain = "/fit-in/300x200/astronaut.jpg"
    assert size_of(server.get(plain, {"signature": sih(OLD, plain)})) == (200, 200)
    encoded = "/fit-in%2F300x200/astronaut.jpg"
    assert size_of(server.get(encoded, {"signature": sih(NEW, encoded)})) == (9, 7)
    assert code_of(server.get(plain, {"signature": sih("other", plain)}))[0] == 403
