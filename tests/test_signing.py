"""Signatures: libthumbor's vectors, URLs made by libthumbor itself, and AWS SIH's vector."""

from __future__ import annotations

import pytest
from libthumbor import CryptoURL

from thumbor_urls.signing import (
    sign_thumbor_path,
    sih_signature,
    thumbor_signature,
    verify_sih,
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
