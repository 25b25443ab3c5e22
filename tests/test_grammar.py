"""The grammar in both directions: parse(generate(p)) == p, generate(parse(s)) == s for
canonical paths, and byte-identical regeneration of what libthumbor makes, signature included."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libthumbor import CryptoURL

from tests.url_strategies import thumbor_paths
from thumbor_urls.errors import ImageServiceError, InvalidUrl
from thumbor_urls.geometry import Box, Dimension
from thumbor_urls.grammar import Filter, Params, generate, generate_url, parse
from thumbor_urls.url import build_plan, parse_path

FULL = (
    "debug/meta/trim:bottom-right:12/10x20:300x400/adaptive-full-fit-in/-300x-orig/"
    "right/bottom/smart/filters:quality(70):grayscale():fill(red, 1)/some/dir/image.jpg"
)


def test_every_part_in_one_path() -> None:
    assert parse(FULL) == Params(
        image="some/dir/image.jpg",
        debug=True,
        meta=True,
        trim=True,
        trim_corner="bottom-right",
        trim_tolerance=12,
        crop=Box(10, 20, 300, 400),
        fit_in=True,
        full=True,
        adaptive=True,
        width=300,
        height="orig",
        horizontal_flip=True,
        vertical_flip=True,
        halign="right",
        valign="bottom",
        smart=True,
        filters=(Filter("quality", ("70",)), Filter("grayscale"), Filter("fill", ("red", " 1"))),
    )
    assert generate(parse(FULL)) == FULL
    assert parse("a.jpg") == Params("a.jpg")


def test_the_plan_is_built_from_the_params() -> None:
    path = "/trim/fit-in/300x/filters:quality(70):nope():rotate(90)/a.jpg"
    plan = build_plan(parse(path), path)
    assert plan == parse_path(path)
    assert plan.path == path.lstrip("/")
    assert (plan.geometry.width, plan.geometry.height) == (300, 0)
    assert plan.trim is not None and plan.trim.corner == "top-left"
    assert (plan.output.quality, [f.name for f in plan.filters]) == (70, ["rotate"])
    assert [f.text for f in plan.ignored_filters] == ["nope()"]


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("/a.jpg", "a.jpg"),
        ("center/middle/a.jpg", "a.jpg"),  # the default alignments
        ("x/a.jpg", "a.jpg"),  # a size that says nothing
        ("0300x0200/a.jpg", "300x200/a.jpg"),
        ("trim:top-left:0/a.jpg", "trim:top-left/a.jpg"),
        ("trim:0/a.jpg", "trim/a.jpg"),
        # What two writers spell differently stays as written: SIH, libthumbor.
        ("300x/a.jpg", "300x/a.jpg"),
        ("300x0/a.jpg", "300x0/a.jpg"),
        ("-x-/a.jpg", "-x-/a.jpg"),
        ("-0x-0/a.jpg", "-0x-0/a.jpg"),
        ("trim/a.jpg", "trim/a.jpg"),
        ("trim:top-left/a.jpg", "trim:top-left/a.jpg"),
        ("0x0:0x0/a.jpg", "0x0:0x0/a.jpg"),
        ("filters:text('a,b)c'):blur( 3 )/a.jpg", "filters:text('a,b)c'):blur( 3 )/a.jpg"),
        # Out of order: the rest is the image, and stays so.
        ("smart/300x200/a.jpg", "smart/300x200/a.jpg"),
        ("filters:blur(1)/filters:blur(2)/a.jpg", "filters:blur(1)/filters:blur(2)/a.jpg"),
        ("center/left/a.jpg", "middle/left/a.jpg"),
    ],
)
def test_the_canonical_path(written: str, canonical: str) -> None:
    assert generate(parse(written)) == canonical
    assert parse(canonical) == parse(written)


@pytest.mark.parametrize(
    ("params", "path"),
    [
        (Params("left/a.jpg"), "middle/left/a.jpg"),
        (Params("300x200/a.jpg"), "middle/300x200/a.jpg"),
        (Params("trim/a.jpg", meta=True), "meta/middle/trim/a.jpg"),
        (Params("top/a.jpg", halign="left"), "left/middle/top/a.jpg"),
        (Params("/a.jpg"), "middle//a.jpg"),
        (Params("smart/a.jpg", smart=True), "smart/smart/a.jpg"),
        (Params("smart/a.jpg", filters=(Filter("blur", ("1",)),)), "filters:blur(1)/smart/a.jpg"),
        (Params("filters:x()/a.jpg", filters=(Filter("x"),)), "filters:x()/filters:x()/a.jpg"),
    ],
)
def test_an_image_that_looks_like_an_option_is_written_after_the_default_alignment(
    params: Params, path: str
) -> None:
    assert generate(params) == path
    assert parse(path) == params


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (Params("smart/a.jpg"), "smart False would read back as True"),
        (Params("filters:x()/a.jpg"), "filters"),
        (Params("smart/a.jpg", valign="top"), "smart False would read back as True"),
        (Params(""), "no image"),
        (Params("a.jpg", width=-5), "width -5 would read back as 5"),
        (Params("a.jpg", halign="up"), "halign 'up' would read back as 'center'"),  # type: ignore[arg-type]
        (Params("a.jpg", adaptive=True), "adaptive True would read back as False"),
        (Params("a.jpg", trim_corner="top-left"), "trim_corner"),
        (Params("a.jpg", trim=True, trim_tolerance=-1), "trim"),
        (Params("a.jpg", filters=(Filter("x", ("(",)),)), "is not closed"),
        (Params("a.jpg", filters=(Filter("x", ("",)),)), "filters"),  # x() has no argument
        (Params("a.jpg", filters=(Filter("2x"),)), "malformed filters"),
    ],
)
def test_params_no_path_says_are_refused(params: Params, message: str) -> None:
    with pytest.raises(InvalidUrl, match=message.replace("(", r"\(")):
        generate(params)


def test_numbers_past_what_int_reads_are_invalid_urls() -> None:
    with pytest.raises(InvalidUrl, match="5000 digits"):
        parse("9" * 5000 + "x1/a.jpg")


# --- generated Params -----------------------------------------------------------------------

# First segments that the options would read, to reach the `middle/` case and its limits.
OPTION_LIKE = [
    "debug", "meta", "trim", "trim:5", "1x2:3x4", "fit-in", "full-fit-in", "300x200", "x",
    "-x-", "origx0", "left", "center", "top", "middle", "smart", "filters:x()", "filters:",
]  # fmt: skip
ARGUMENTS = [
    "", "80", " 1 ", "red", "-10", "a/b.png", "'a,b)c'", "[(0,0),(255,255)]", "(1,2)", "é",
]  # fmt: skip
# Any character but "/" and the lone surrogates, which no URL (nor libthumbor) can encode.
SEGMENT = st.text(st.characters(exclude_characters="/", exclude_categories=["Cs"]), max_size=6)
IMAGES = st.lists(st.one_of(st.sampled_from(OPTION_LIKE), SEGMENT), min_size=1, max_size=4)
NUMBER = st.integers(0, 10**9)
DIMENSION: st.SearchStrategy[Dimension | None] = st.one_of(st.none(), NUMBER, st.just("orig"))
FILTERS = st.builds(
    Filter,
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
    st.lists(st.sampled_from(ARGUMENTS), max_size=4).filter(lambda a: a != [""]).map(tuple),
)


@st.composite
def params(draw: st.DrawFn) -> Params:
    # Parts are drawn up to a random one in the grammar's order and the rest left out, so that
    # an option-like image often follows nothing that would stop it being read as an option.
    upto = draw(st.integers(0, 10))

    def part(index: int, strategy: st.SearchStrategy[Any], default: Any = False) -> Any:
        return draw(strategy) if index < upto else default

    trim, fit_in = part(2, st.booleans()), part(4, st.booleans())
    return Params(
        image=draw(IMAGES.map("/".join).filter(bool)),
        debug=part(0, st.booleans()),
        meta=part(1, st.booleans()),
        trim=trim,
        trim_corner=draw(st.sampled_from([None, "top-left", "bottom-right"])) if trim else None,
        trim_tolerance=draw(NUMBER) if trim else 0,
        crop=part(3, st.none() | st.builds(Box, NUMBER, NUMBER, NUMBER, NUMBER), None),
        fit_in=fit_in,
        full=fit_in and draw(st.booleans()),
        adaptive=fit_in and draw(st.booleans()),
        width=part(5, DIMENSION, None),
        height=part(5, DIMENSION, None),
        horizontal_flip=part(5, st.booleans()),
        vertical_flip=part(5, st.booleans()),
        halign=part(6, st.sampled_from(["left", "center", "right"]), "center"),
        valign=part(7, st.sampled_from(["top", "middle", "bottom"]), "middle"),
        smart=part(8, st.booleans()),
        filters=tuple(part(9, st.lists(FILTERS, max_size=3), [])),
    )


def unwritable(p: Params) -> bool:
    """After `middle/` only `smart/` and `filters:` are read: an image that starts with one
    of them and is not behind it cannot be told from it."""
    if p.filters:
        return False
    return p.image.startswith("filters:") or (not p.smart and p.image.startswith("smart/"))


@settings(max_examples=500, deadline=None)
@given(params())
def test_generate_then_parse_is_the_identity(p: Params) -> None:
    if unwritable(p):
        with pytest.raises(InvalidUrl):
            generate(p)
    else:
        assert parse(generate(p)) == p


@settings(max_examples=200, deadline=None)
@given(params())
def test_params_survive_json(p: Params) -> None:
    assert Params.from_dict(json.loads(json.dumps(p.as_dict()))) == p


@settings(max_examples=300, deadline=None)
@given(thumbor_paths())
def test_whatever_parses_regenerates(path: str) -> None:
    # Anything parse() reads, generate() can write: the reader makes no Params it cannot.
    try:
        read = parse(path)
    except ImageServiceError:
        return
    assert parse(generate(read)) == read


# --- canonical paths ------------------------------------------------------------------------

CALLS = [
    "quality(80)", "grayscale()", "fill(red,1)", "watermark(a/b.png,-10,center,50)",
    "curve([(0,0),(255,255)],[],[],[])", "text('a,b)c')", "nope(1)", "blur( 3 )", "x(,)",
]  # fmt: skip
# A first segment no option reads, then anything.
SAFE_IMAGES = st.tuples(
    st.sampled_from(["a.jpg", "photos", "img-é", "s3:bucket", "café 1.png", "lefty", "1"]),
    st.lists(SEGMENT, max_size=3),
).map(lambda t: "/".join([t[0], *t[1]]))
DIGITS = st.integers(0, 99999).map(str)


@st.composite
def canonical_paths(draw: st.DrawFn) -> str:
    def maybe(*choices: str) -> list[str]:
        return [c for c in [draw(st.sampled_from(["", *choices]))] if c]

    parts = maybe("debug") + maybe("meta")
    parts += maybe("trim", "trim:top-left", "trim:bottom-right", "trim:7", "trim:bottom-right:30")
    if draw(st.booleans()):
        parts.append("{}x{}:{}x{}".format(*draw(st.tuples(DIGITS, DIGITS, DIGITS, DIGITS))))
    parts += maybe("fit-in", "full-fit-in", "adaptive-fit-in", "adaptive-full-fit-in")
    side = st.tuples(st.sampled_from(["", "-"]), st.sampled_from(["", "orig"]) | DIGITS)
    (hflip, width), (vflip, height) = draw(side), draw(side)
    size = f"{hflip}{width}x{vflip}{height}"
    parts += [size] if size != "x" else []
    parts += maybe("left", "right") + maybe("top", "bottom") + maybe("smart")
    calls = draw(st.lists(st.sampled_from(CALLS), max_size=3))
    parts += [":".join(["filters", *calls])] if calls else []
    return "/".join([*parts, draw(SAFE_IMAGES)])


@settings(max_examples=500, deadline=None)
@given(canonical_paths())
def test_parse_then_generate_gives_back_a_canonical_path(path: str) -> None:
    assert generate(parse(path)) == path


# --- libthumbor -----------------------------------------------------------------------------

KEY = "grammar-test-key"


@pytest.mark.parametrize(
    "options",
    [
        {"width": 300, "height": 200},
        {"width": 300},  # 300x0
        {"fit_in": True, "width": 300, "height": 300, "filters": ["quality(50)", "format(webp)"]},
        {"meta": True, "crop": ((10, 20), (300, 400)), "width": -100, "height": 50,
         "halign": "left", "valign": "top", "smart": True},
        {"trim": True}, {"trim": ("top-left", 0)}, {"trim": ("bottom-right", 15)},
        {"flip": True, "flop": True},  # -0x-0
        {"full_fit_in": True, "height": 80}, {"adaptive_full_fit_in": True, "width": 80},
        {"filters": ["watermark(a/b.png,-10,center,50)", "fill(ff0000,1)", "grayscale()"]},
    ],
)  # fmt: skip
def test_libthumbor_urls_regenerate_byte_for_byte(options: dict[str, Any]) -> None:
    for image in ("a.jpg", "dir/my photo.jpg", "café.jpg"):
        url = CryptoURL(key=KEY).generate(image_url=image, **options)
        path = url.split("/", 2)[2]
        assert generate_url(parse(path), KEY) == url
        unsafe = CryptoURL(key=KEY).generate(unsafe=True, image_url=image, **options)
        assert generate_url(parse(path)) == f"/{unsafe}"


@st.composite
def libthumbor_options(draw: st.DrawFn) -> dict[str, Any]:
    options: dict[str, Any] = {"image_url": draw(SAFE_IMAGES)}
    trims = [None, True, ("top-left", 0), ("bottom-right", 0), ("top-left", 9), ("bottom-right", 2)]
    choices: dict[str, st.SearchStrategy[Any]] = {
        "meta": st.booleans(),
        "trim": st.sampled_from(trims),
        "crop": st.tuples(st.tuples(NUMBER, NUMBER), st.tuples(NUMBER, NUMBER)),
        "width": st.integers(-5000, 5000),
        "height": st.integers(-5000, 5000),
        "flip": st.booleans(),
        "flop": st.booleans(),
        "halign": st.sampled_from(["left", "center", "right"]),
        "valign": st.sampled_from(["top", "middle", "bottom"]),
        "smart": st.booleans(),
        "filters": st.lists(st.sampled_from(CALLS), max_size=3),
    }
    for name, strategy in choices.items():
        if draw(st.booleans()):
            options[name] = draw(strategy)
    fit = draw(st.sampled_from(["", "fit_in", "full_fit_in", "adaptive_fit_in"]))
    if fit:
        options[fit] = True
        if not (options.get("width") or options.get("height")):
            options["width"] = 100  # libthumbor wants a size with fit-in
    return options


@settings(max_examples=300, deadline=None)
@given(libthumbor_options(), st.text(string.ascii_letters + string.punctuation, min_size=1))
def test_any_libthumbor_url_regenerates_byte_for_byte(options: dict[str, Any], key: str) -> None:
    url = CryptoURL(key=key).generate(**options)
    path = url.split("/", 2)[2]
    assert generate(parse(path)) == path
    assert generate_url(parse(path), key) == url


# --- JSON -----------------------------------------------------------------------------------


def test_as_dict_is_plain_json() -> None:
    assert parse("1x2:3x4/fit-in/300x/filters:quality(80):grayscale()/a.jpg").as_dict() == {
        "image": "a.jpg",
        "debug": False,
        "meta": False,
        "trim": False,
        "trim_corner": None,
        "trim_tolerance": 0,
        "crop": {"left": 1, "top": 2, "right": 3, "bottom": 4},
        "fit_in": True,
        "full": False,
        "adaptive": False,
        "width": 300,
        "height": None,
        "horizontal_flip": False,
        "vertical_flip": False,
        "halign": "center",
        "valign": "middle",
        "smart": False,
        "filters": [{"name": "quality", "args": ["80"]}, {"name": "grayscale", "args": []}],
    }


def test_from_dict_needs_only_the_image() -> None:
    params = Params.from_dict({"image": "a.jpg", "width": 300, "filters": [{"name": "blur"}]})
    assert generate(params) == "300x/filters:blur()/a.jpg"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"image": 1},
        {"image": "a.jpg", "colour": "red"},
        {"image": "a.jpg", "width": 1.5},
        {"image": "a.jpg", "width": True},
        {"image": "a.jpg", "smart": 1},
        {"image": "a.jpg", "crop": [1, 2, 3, 4]},
        {"image": "a.jpg", "crop": {"left": 1, "top": 2, "right": 3}},
        {"image": "a.jpg", "filters": "blur(1)"},
        {"image": "a.jpg", "filters": [{"name": "blur", "args": "1"}]},
        {"image": "a.jpg", "filters": [{"name": "blur", "args": [1]}]},
    ],
)
def test_from_dict_refuses_what_is_not_params(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Params.from_dict(data)
