"""DIFFERENCES and OUR_BUGS, the way every filter-family module records where the two sides
differ.

* A Difference is where we differ on purpose or Thumbor is wrong: its reason, and a check that
  asserts both sides' behaviour, so that a change on either side shows.
* A Bug is a bug of ours a differential test found, fixed since and kept as a regression test:
  what it was, the facts about Thumbor the expectation rests on (checked on their own by
  test_our_bug_thumbor_side), and what we do now (test_our_bug_is_fixed; it failed before).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from thumbor_urls.app import App


@dataclass(frozen=True)
class Peers:
    thumbor: str
    thumbor_exif: str
    app: App
    root: Path


Check = Callable[[Peers], None]


@dataclass(frozen=True)
class Difference:
    name: str
    reason: str
    check: Check


@dataclass(frozen=True)
class Bug:
    name: str
    reason: str  # what the bug was, for the record
    thumbor_side: Check  # the facts about Thumbor the expectation rests on
    our_side: Check  # what we do now (it failed before the fix)


def difference_test(differences: list[Difference]) -> Callable[..., None]:
    """The test of a module's DIFFERENCES, one case each: `test_difference = difference_test(
    DIFFERENCES)` in the module."""

    @pytest.mark.parametrize("difference", differences, ids=lambda d: d.name)
    def test_difference(peers: Peers, difference: Difference) -> None:
        difference.check(peers)

    return test_difference


def bug_tests(bugs: list[Bug]) -> tuple[Callable[..., None], Callable[..., None]]:
    """The two tests of a module's OUR_BUGS, one case each: `test_our_bug_thumbor_side,
    test_our_bug_is_fixed = bug_tests(OUR_BUGS)` in the module."""

    @pytest.mark.parametrize("bug", bugs, ids=lambda b: b.name)
    def test_our_bug_thumbor_side(peers: Peers, bug: Bug) -> None:
        bug.thumbor_side(peers)

    @pytest.mark.parametrize("bug", bugs, ids=lambda b: b.name)
    def test_our_bug_is_fixed(peers: Peers, bug: Bug) -> None:
        bug.our_side(peers)

    return test_our_bug_thumbor_side, test_our_bug_is_fixed
