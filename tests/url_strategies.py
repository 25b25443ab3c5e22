"""Hypothesis strategies that write Thumbor paths: shared by the parser's fuzz tests and the
grammar's round-trip tests."""

from __future__ import annotations

from hypothesis import strategies as st

from thumbor_urls.filters import REGISTRY

# Pieces of the grammar, so that generated URLs reach deep into it rather than failing on
# the first character.
OPTION_PIECES = [
    "debug/", "meta/", "trim/", "trim:bottom-right:20/", "10x10:200x200/", "fit-in/",
    "adaptive-full-fit-in/", "-300x-200/", "orig x0/", "0x0/", "left/", "bottom/", "smart/",
    "unsafe/", "host:8888/", "http://a.b/",
]  # fmt: skip
ARGUMENT_PIECES = [
    "", "0", "-1", "1.5", "true", "'a,b'", "[(0,0),(255,255)]", "a/b.png", "red", "10p",
    "repeat", "none", "1;2;3", "(", ")", "[", "]", "'", ",", "9" * 40,
]  # fmt: skip


@st.composite
def thumbor_paths(draw: st.DrawFn) -> str:
    options = "".join(draw(st.lists(st.sampled_from(OPTION_PIECES), max_size=6)))
    calls = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from([*REGISTRY.specs, "nope", "extract_focal"]))
        args = draw(st.lists(st.sampled_from(ARGUMENT_PIECES), max_size=5))
        calls.append(f"{name}({','.join(args)})")
    filters = f"filters:{':'.join(calls)}/" if calls else ""
    image = draw(st.sampled_from(["a.jpg", "x/y.png", "", "unsafe/10x10:20x20/a.jpg"]))
    noise = draw(st.text(max_size=8))
    return draw(st.sampled_from([options + filters + image, options + noise + filters + image]))
