"""Signatures: libthumbor's vectors, URLs made by libthumbor itself, AWS SIH's vector, imagor's
vectors (SHA-256, SHA-512, truncated), several keys, the signers a length allows."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from libthumbor import CryptoURL

from thumbor_urls.signing import (
    FULL_LENGTH,
    SIGNERS,
    sign_path,
    sign_thumbor_path,
    signature,
    signers_of_length,
    sih_signature,
    sih_string_to_sign,
    thumbor_signature,
    verify,
    verify_sih,
    verify_sih_keys,
    verify_thumbor,
)

KEY = "my-security-key"


@pytest.mark.parametrize(
    ("path", "signature"),
    [
        ("300x200/my.server.com/some/path/to/image.jpg", "8ammJH8D-7tXy6kU3lTvoXlhu4o="),
        (
            "10x10:200x200/300x200/filters:brightness(20):contrast(10)/"
            "my.server.com/some/path/to/image.jpg",
            "as8U2DbUUtTMgvPF26LkjS3MocY=",
        ),
    ],
)
def test_libthumbor_vectors(path, signature):
    assert thumbor_signature(KEY, path) == signature
    assert verify_thumbor(KEY, signature, path)
    assert not verify_thumbor(KEY, signature, path + "x")
    assert not verify_thumbor("other-key", signature, path)


@pytest.mark.parametrize(
    "options",
    [
        {"width": 300, "height": 200, "image_url": "photos/cat.jpg"},
        {"width": 300, "height": 200, "smart": True, "image_url": "a.jpg"},
        {"fit_in": True, "width": 300, "height": 300, "filters": ["quality(70)"], "image_url": "a"},
        {"crop": ((10, 10), (200, 200)), "flip": True, "halign": "left", "image_url": "x.png"},
        {"meta": True, "trim": "bottom-right:10", "valign": "top", "image_url": "x.png"},
    ],
)
def test_urls_generated_by_libthumbor_verify(options):
    url = CryptoURL(key=KEY).generate(**options)
    assert url.startswith("/")
    signature, _, rest = url[1:].partition("/")
    assert verify_thumbor(KEY, signature, rest)
    assert sign_thumbor_path(KEY, rest) == url


def test_sih_vector():
    path = (
        "/eyJidWNrZXQiOiJ2YWxpZEJ1Y2tldCIsImtleSI6InZhbGlkS2V5IiwiZWRpdHMiOnsidG9Gb3JtYXQiOiJw"
        "bmcifX0="
    )
    expected = "4d41311006641a56de7bca8abdbda91af254506107a2c7b338a13ca2fa95eac3"
    assert sih_signature("secret", path) == expected
    assert verify_sih("secret", expected.upper(), path)
    assert not verify_sih("secret", expected, path + "x")


# --- imagor's HMAC-SHA256 and HMAC-SHA512, rotation, restriction ------------------------------


def independent(key: str, path: str, digest: str, truncate: int = 0) -> str:
    """The signature as imagor's hmacSigner makes it, written out here from hmac and base64."""
    mac = hmac.new(key.encode(), path.encode(), getattr(hashlib, digest)).digest()
    text = base64.urlsafe_b64encode(mac).decode()
    return text[:truncate] if truncate else text


@pytest.mark.parametrize(
    ("key", "path", "signer", "truncate", "expected"),
    [
        # imagor's own tests: imagor_test.go TestWithCustomSigner, imagorpath/params_test.go
        # (a custom signer, TestHMACSigner) and config/config_test.go TestSignerAlgorithm.
        ("1234", "foo.jpg", "sha256", 40, "91DBDJtTFePFnbaj5Qq8JLvq5sM5VTipE685f4Gp"),
        (
            "1234",
            "meta/10x11:12x13/fit-in/-300x-200/5x6/left/top/smart/filters:some_filter()/img",
            "sha256",
            40,
            "XBCO7esuLsNQuSF2v9ie36pESRGx2rzLjhUxXWnV",
        ),
        ("abcd", "assfasf", "sha256", 28, "zb6uWXQxwJDOe_zOgxkuj96Etrsz"),
        ("", "bar", "sha256", 0, "WN6mgyl8pD4KTy5IDSBs0GcFPaV7-R970JLsd01pqAU="),
        ("", "bar", "sha512", 32, "Kmml5ejnmsn7M7TszYkeM2j5G3bpI7mp"),
    ],
)
def test_imagor_vectors(key: str, path: str, signer: str, truncate: int, expected: str) -> None:
    assert signature(key, path, signer, truncate) == expected
    assert verify((key,), expected, path, (signer,), truncate)
    assert not verify((key,), expected, path + "x", (signer,), truncate)


@pytest.mark.parametrize("signer", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("path", ["300x200/a.jpg", "fit-in/10x10/filters:quality(5)/b c/é.png"])
def test_every_signer_against_hmac_written_out(signer: str, path: str) -> None:
    expected = independent(KEY, path, signer)
    assert len(expected) == FULL_LENGTH[signer] == {"sha1": 28, "sha256": 44, "sha512": 88}[signer]
    assert signature(KEY, "/" + path, signer) == expected  # the leading slash is not signed
    assert sign_path(KEY, path, signer) == f"/{expected}/{path}"
    assert verify((KEY,), expected, path)  # every kind is accepted by default
    others = tuple(name for name in SIGNERS if name != signer)
    assert not verify((KEY,), expected, path, others)


@pytest.mark.parametrize(
    ("length", "signers", "truncate", "expected"),
    [
        (28, SIGNERS, 0, ("sha1",)),
        (44, SIGNERS, 0, ("sha256",)),
        (88, SIGNERS, 0, ("sha512",)),
        (40, SIGNERS, 0, ()),
        (40, SIGNERS, 40, ("sha256", "sha512")),
        (28, SIGNERS, 28, ("sha1", "sha256", "sha512")),  # libthumbor's length, and cut ones
        (20, SIGNERS, 20, ("sha1", "sha256", "sha512")),
        (44, SIGNERS, 60, ("sha256",)),  # cut only where it is shorter than the whole
        (60, SIGNERS, 60, ("sha512",)),
        (44, ("sha1", "sha512"), 0, ()),
    ],
)
def test_the_length_tells_the_signers_apart(
    length: int, signers: tuple[str, ...], truncate: int, expected: tuple[str, ...]
) -> None:
    assert signers_of_length(length, signers, truncate) == expected


def test_truncated_signatures_only_when_truncation_is_on() -> None:
    path = "300x200/a.jpg"
    cut = independent(KEY, path, "sha256", 32)
    assert not verify((KEY,), cut, path)
    assert verify((KEY,), cut, path, truncate=32)
    assert not verify((KEY,), cut, path, truncate=33)
    assert not verify((KEY,), cut[:-1] + ("A" if cut[-1] != "A" else "B"), path, truncate=32)
    # A truncation never stops whole signatures: libthumbor's URLs keep working.
    assert verify((KEY,), independent(KEY, path, "sha1"), path, truncate=32)


def test_several_keys_verify() -> None:
    path = "300x200/a.jpg"
    keys = ("new-key", "old-key")
    for key in keys:
        for signer in SIGNERS:
            assert verify(keys, independent(key, path, signer), path)
    assert not verify(keys, independent("gone-key", path, "sha1"), path)
    assert not verify((), independent("new-key", path, "sha1"), path)


def test_sih_string_to_sign() -> None:
    assert sih_string_to_sign("/a.jpg", {}) == "/a.jpg"
    assert sih_string_to_sign("/a.jpg", {"signature": "x"}) == "/a.jpg"
    query = {"width": "300", "format": "webp", "signature": "x", "expires": "20300101T000000Z"}
    assert (
        sih_string_to_sign("/a.jpg", query)
        == "/a.jpg?expires=20300101T000000Z&format=webp&width=300"
    )
    # JavaScript sorts the pairs as the strings "k,v": "a+,b" comes before "a,z" ('+' < ','),
    # where sorting by key would put "a" first.
    assert sih_string_to_sign("/p", {"a": "z", "a+": "b"}) == "/p?a+=b&a=z"
    assert verify_sih_keys(("k1", "k2"), sih_signature("k2", "/p").upper(), "/p")
    assert not verify_sih_keys(("k1",), sih_signature("k2", "/p"), "/p")
