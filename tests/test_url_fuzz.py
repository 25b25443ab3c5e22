"""The URL parser under hostile input: it answers with one of our errors or a plan, never
anything else, and its work grows linearly with the URL."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.url_strategies import thumbor_paths
from thumbor_urls.errors import ImageServiceError
from thumbor_urls.grammar import TooManyFilters
from thumbor_urls.url import parse_path


@settings(max_examples=400, deadline=None)
@given(thumbor_paths(), st.booleans())
def test_grammar_shaped_paths_parse_or_fail_cleanly(path: str, strict: bool) -> None:
    with contextlib.suppress(ImageServiceError):
        parse_path(path, strict=strict, max_filters=20)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_or_fails_cleanly(path: str) -> None:
    with contextlib.suppress(ImageServiceError):
        parse_path(path, max_filters=20)


def _nested_extract_focal(levels: int) -> str:
    path = "a.jpg"
    for _ in range(levels):
        path = f"h:1/unsafe/1x1:9x9/filters:extract_focal()/{path}"
    return f"filters:extract_focal()/{path}"


def test_nested_extract_focal_is_refused_in_linear_time() -> None:
    path = _nested_extract_focal(24)
    started = time.perf_counter()
    with pytest.raises(ImageServiceError, match="another Thumbor URL"):
        parse_path(path)
    assert time.perf_counter() - started < 0.5
    # One level is what extract_focal is for.
    plan = parse_path("filters:extract_focal()/h:1/unsafe/1x1:9x9/a.jpg")
    assert plan.image == "a.jpg" and len(plan.focal_points) == 1


def test_filter_count_is_capped_while_scanning() -> None:
    twenty = "filters:" + ":".join(["grayscale()"] * 20) + "/a.jpg"
    assert len(parse_path(twenty, max_filters=20).filters) == 20
    with pytest.raises(TooManyFilters, match="MAX_FILTERS"):
        parse_path("filters:" + ":".join(["grayscale()"] * 21) + "/a.jpg", max_filters=20)


@pytest.mark.parametrize(
    "piece",
    [
        "curve([(0,0)" + ",(1,1)" * 2000 + "],[],[],[])",  # a long argument
        "(" * 7000,  # deep brackets, never closed
        "watermark(" + "'" * 7001 + ")",  # quotes
        "moderate(50," + "a|" * 3000 + "b)",  # the labels pattern
        "convolution(" + "1;" * 3000 + "1,3,true)",  # the matrix pattern
        "fill(" + "#" * 6000 + ")",
    ],
)
def test_kilobytes_of_arguments_parse_in_linear_time(piece: str) -> None:
    path = f"fit-in/10x10/filters:{piece}/a.jpg"
    assert len(path) > 6000
    started = time.perf_counter()
    with contextlib.suppress(ImageServiceError):
        parse_path(path, max_filters=20)
    assert time.perf_counter() - started < 0.5
