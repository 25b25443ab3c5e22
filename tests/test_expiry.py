"""expiry.py's decisions at their boundaries, with the time given."""

from __future__ import annotations

import pytest

from thumbor_urls.errors import UrlExpired
from thumbor_urls.expiry import capped_max_age, check, without_expire


def test_the_moment_itself_is_still_valid() -> None:
    check(None, 1e12)
    check(10_000, 10.0)
    with pytest.raises(UrlExpired) as refused:
        check(10_000, 10.001)
    assert (refused.value.status, refused.value.code) == (403, "UrlExpired")
    assert "10000" in refused.value.message


@pytest.mark.parametrize(
    ("max_age", "expires_ms", "now", "expected"),
    [
        (86400, None, 0.0, 86400),
        (86400, 10_999, 0.0, 10),  # rounded down: never a moment past it
        (86400, 10_000, 0.0, 10),
        (86400, 10_000, 0.001, 9),
        (86400, 999, 0.0, 0),
        (86400, 5_000, 6.0, 0),  # past: nothing (check() has refused it already)
        (5, 100_000, 0.0, 5),  # a shorter max-age wins
        (0, 100_000, 0.0, 0),
    ],
)
def test_capped_max_age(max_age: int, expires_ms: int | None, now: float, expected: int) -> None:
    assert capped_max_age(max_age, expires_ms, now) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("300x200/filters:expire(5)/a.jpg", "300x200/a.jpg"),
        ("300x200/filters:quality(5):expire(5):expire(7):blur(2)/a.jpg",
         "300x200/filters:quality(5):blur(2)/a.jpg"),
        ("filters:expire(5)/left/a.jpg", "middle/left/a.jpg"),
        ("300x200/a.jpg", "300x200/a.jpg"),
        ("filters:expire(5/a.jpg", "filters:expire(5/a.jpg"),  # not a path: as it is
    ],
)  # fmt: skip
def test_the_result_key_leaves_the_expiry_out(path: str, expected: str) -> None:
    assert without_expire(path) == expected
