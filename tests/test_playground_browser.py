"""The playground page in headless Chromium, against the real local server on 127.0.0.1 (started
here on a free port over a copy of samples/): every control group builds its URL and the image
loads at the size the server made; filters are added, reordered and removed; a crop is dragged;
a pasted URL fills the controls; errors show their JSON message; labels, a keyboard-only flow
and a phone-sized screen. The README's screenshot comes from here (docs/playground.png)."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.browser import launch
from tests.helpers import Server, clean_env, running_server
from tests.images import SAMPLES
from tests.url_strategies import thumbor_paths
from thumbor_urls.errors import InvalidUrl
from thumbor_urls.filters import REGISTRY
from thumbor_urls.grammar import Params, VAlign, generate, parse
from thumbor_urls.signing import sign_thumbor_path, sih_signature

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "playground.png"
KEY = "playground-key"
TIMES = "\u00d7"  # the page writes sizes as 300x200 with a multiplication sign
TIMEOUT = 20_000  # ms: two cores shared with other work
expect.set_options(timeout=TIMEOUT)


def server_env(tmp: Path, **settings: object) -> dict[str, str]:
    # This checkout's package, whichever one the venv installed in editable mode.
    return {
        **clean_env(RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp, **settings),
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("playground") / "originals"
    shutil.copytree(SAMPLES, folder, ignore=shutil.ignore_patterns("*.md"))
    return folder


@pytest.fixture(scope="module")
def server(originals: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("server")
    with running_server(
        # SIH's requests are answered only with SIH_COMPAT (the page's SIH mode needs it).
        originals,
        tmp / "logs",
        server_env(tmp / "results", SIH_COMPAT="true"),
        "--threads",
        "2",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


def base(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}"


def open_page(browser: Browser, server: Server, path: str = "/playground/", **options: Any) -> Page:
    page = browser.new_page(**{"viewport": {"width": 1280, "height": 1000}, **options})
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base(server) + path)
    page.wait_for_selector("body[data-ready=true]")
    wait_for_result(page, "/unsafe/fit-in/300x300/astronaut.jpg")
    assert errors == []
    return page


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    page = open_page(browser, server)
    yield page
    page.close()


def wait_for_result(page: Page, url_path: str, state: str = "loaded") -> None:
    """Until the result shown is the answer to `url_path` (the page's URL field shows it)."""
    page.wait_for_function(
        "([url, state]) => { const r = document.getElementById('result');"
        " return r.dataset.url === url && r.dataset.state === state; }",
        arg=[url_path, state],
    )
    expect(page.locator("#url")).to_have_value(page.url.split("/playground/")[0] + url_path)


def natural_size(page: Page) -> tuple[int, int]:
    size = page.evaluate("() => [result.naturalWidth, result.naturalHeight]")
    return size[0], size[1]


def served_size(server: Server, url_path: str) -> tuple[int, int]:
    reply = server.request(url_path)
    assert reply.status == 200, reply.body[:200]
    with Image.open(io.BytesIO(reply.body)) as image:
        return image.size


def set_number(page: Page, selector: str, value: str) -> None:
    page.fill(selector, value)


# -- the page and its first result -------------------------------------------------------------


def test_root_opens_the_playground_over_the_served_folder(browser: Browser, server: Server) -> None:
    page = open_page(browser, server, "/")
    assert page.url == base(server) + "/playground/"
    assert natural_size(page) == (300, 300)  # astronaut.jpg is 512x512
    # The picker lists the folder; the original shows its size, format and bytes.
    options = page.locator("#image-picker option").all_text_contents()
    assert options[0].startswith("astronaut.jpg (jpeg, ")
    assert any(o.startswith("pan.gif (gif,") for o in options)
    size = (SAMPLES / "astronaut.jpg").stat().st_size
    expect(page.locator("#original-info")).to_have_text(
        f"astronaut.jpg: 512{TIMES}512, jpeg, {size:,} bytes"
    )
    # The answer's size, format, bytes, time and caching headers.
    info = page.locator("#result-info").text_content() or ""
    assert info.startswith(f"300{TIMES}300, jpeg, ") and "answered in" in info
    names = page.locator("#result-headers dt").all_text_contents()
    values = page.locator("#result-headers dd").all_text_contents()
    headers = dict(zip(names, values, strict=True))
    assert headers["Cache-Control"] == "public, max-age=86400"
    assert headers["ETag"].startswith('"')
    page.close()


# -- every control group ---------------------------------------------------------------------


def test_size_orig_and_flips(page: Page, server: Server) -> None:
    page.select_option("#fit", "")
    set_number(page, "#width", "200")
    set_number(page, "#height", "100")
    page.check("#flip-h")
    wait_for_result(page, "/unsafe/-200x100/astronaut.jpg")
    assert natural_size(page) == (200, 100)
    page.uncheck("#flip-h")
    page.check("#width-orig")
    page.check("#flip-v")
    wait_for_result(page, "/unsafe/origx-100/astronaut.jpg")
    assert natural_size(page) == (512, 100)


def test_fit_alignment_and_smart(page: Page, server: Server) -> None:
    page.select_option("#image-picker", "dandelions-exif-rotated.jpg")
    page.select_option("#fit", "adaptive-full-fit-in")
    set_number(page, "#width", "300")
    set_number(page, "#height", "200")
    wait_for_result(page, "/unsafe/adaptive-full-fit-in/300x200/dandelions-exif-rotated.jpg")
    assert natural_size(page) == served_size(
        server, "/unsafe/adaptive-full-fit-in/300x200/dandelions-exif-rotated.jpg"
    )
    page.select_option("#fit", "")
    page.select_option("#halign", "left")
    page.select_option("#valign", "bottom")
    page.check("#smart")
    url = "/unsafe/300x200/left/bottom/smart/dandelions-exif-rotated.jpg"
    wait_for_result(page, url)
    assert natural_size(page) == (300, 200)


def test_trim_and_the_answer_parts(page: Page) -> None:
    page.check("#trim")
    page.select_option("#trim-corner", "bottom-right")
    set_number(page, "#trim-tolerance", "10")
    wait_for_result(page, "/unsafe/trim:bottom-right:10/fit-in/300x300/astronaut.jpg")
    page.check("#debug")
    wait_for_result(page, "/unsafe/debug/trim:bottom-right:10/fit-in/300x300/astronaut.jpg")
    page.check("#meta")
    wait_for_result(
        page, "/unsafe/debug/meta/trim:bottom-right:10/fit-in/300x300/astronaut.jpg", "json"
    )
    answer = json.loads(page.locator("#result-json").text_content() or "")
    assert answer["thumbor"]["source"] == {
        "url": "astronaut.jpg",
        "width": 512,
        "height": 512,
        "frameCount": 1,
    }
    # meta/'s trim box is drawn over the original.
    expect(page.locator("#original-overlay rect.trim")).to_have_count(1)


def test_drag_a_crop_on_the_original(page: Page, server: Server) -> None:
    page.select_option("#fit", "")
    page.fill("#width", "")
    page.fill("#height", "")
    box = page.locator("#original").bounding_box()
    assert box is not None and box["width"] > 100
    # From 10% / 20% of the picture to 60% / 70%, in a few moves as a hand would.
    page.mouse.move(box["x"] + 0.1 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    for step in (0.3, 0.5, 0.6):
        page.mouse.move(box["x"] + step * box["width"], box["y"] + (step + 0.1) * box["height"])
    page.mouse.up()
    expect(page.locator("#crop")).to_be_checked()
    sides = [int(page.input_value(f"#crop-{side}")) for side in ("left", "top", "right", "bottom")]
    for got, wanted in zip(sides, (51, 102, 307, 358), strict=True):  # 512 px wide and high
        assert abs(got - wanted) <= 3, sides
    left, top, right, bottom = sides
    wait_for_result(page, f"/unsafe/{left}x{top}:{right}x{bottom}/astronaut.jpg")
    assert natural_size(page) == (right - left, bottom - top)
    # The crop box from meta/, over the original where it was drawn.
    crop = page.locator("#original-overlay rect.crop")
    expect(crop).to_have_count(1)
    assert [float(crop.get_attribute(a) or 0) for a in ("x", "y")] == [left, top]


# -- filters ---------------------------------------------------------------------------------


def add_filter(page: Page, name: str, *values: str) -> None:
    page.select_option("#filter-picker", name)
    page.click("#add-filter")
    row = page.locator(f"#filter-list li[data-filter={name}]").last
    for index, value in enumerate(values):
        row.locator(".filter-fields input, .filter-fields select").nth(index).fill(value)


def test_filters_are_added_reordered_and_removed(page: Page) -> None:
    add_filter(page, "grayscale")
    add_filter(page, "blur", "3")
    add_filter(page, "quality", "80")
    wait_for_result(
        page, "/unsafe/fit-in/300x300/filters:grayscale():blur(3):quality(80)/astronaut.jpg"
    )
    page.get_by_role("button", name="Move quality, filter 3 of 3 up").click()
    wait_for_result(
        page, "/unsafe/fit-in/300x300/filters:grayscale():quality(80):blur(3)/astronaut.jpg"
    )
    # Dragged by its handle above the first filter.
    handle = page.locator("#filter-list li[data-filter=blur] .drag-handle").bounding_box()
    first = page.locator("#filter-list li").first.bounding_box()
    assert handle is not None and first is not None
    page.mouse.move(handle["x"] + 5, handle["y"] + 5)
    page.mouse.down()
    page.mouse.move(handle["x"] + 5, first["y"] + 20, steps=5)
    page.mouse.move(handle["x"] + 5, first["y"] + 2, steps=2)
    page.mouse.up()
    wait_for_result(
        page, "/unsafe/fit-in/300x300/filters:blur(3):grayscale():quality(80)/astronaut.jpg"
    )
    page.get_by_role("button", name="Remove grayscale, filter 2 of 3").click()
    wait_for_result(page, "/unsafe/fit-in/300x300/filters:blur(3):quality(80)/astronaut.jpg")
    assert natural_size(page) == (300, 300)
    # Focus stays in the list, on the filter that took the removed one's place.
    assert (
        page.evaluate("document.activeElement.getAttribute('aria-label')")
        == "Remove quality, filter 2 of 2"
    )


def test_a_bad_argument_is_shown_and_not_sent(page: Page) -> None:
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    add_filter(page, "quality", "101")
    field = page.locator("#filter-list li[data-filter=quality] input")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#filter-list .field-error")).to_have_text("at most 100")
    expect(page.locator("#problems")).to_contain_text("quality(): quality: at most 100")
    expect(page.locator("#url")).to_have_value(
        page.url.replace(
            "/playground/", "/unsafe/fit-in/300x300/filters:quality(101)/astronaut.jpg"
        )
    )
    page.wait_for_timeout(600)  # past the page's debounce
    assert not [url for url in sent if "quality(101)" in url]
    field.fill("90")
    wait_for_result(page, "/unsafe/fit-in/300x300/filters:quality(90)/astronaut.jpg")
    expect(page.locator("#problems")).to_be_empty()


def test_an_error_shows_its_json_message(page: Page) -> None:
    page.fill("#image-key", "missing.jpg")
    wait_for_result(page, "/unsafe/fit-in/300x300/missing.jpg", "error")
    expect(page.locator("#error")).to_have_text("404 NoSuchKey: no image at 'missing.jpg'")
    expect(page.locator("#original-info")).to_contain_text("The original cannot be shown")


# -- URLs in and out --------------------------------------------------------------------------

PASTED = (
    "/unsafe/trim:bottom-right:5/10x20:300x400/adaptive-full-fit-in/-200x-orig/left/top/smart/"
    "filters:blur(3):round_corner(20|10,255,255,255):nope(1,2)/astronaut.jpg"
)


def test_a_pasted_url_fills_the_controls(page: Page, server: Server) -> None:
    page.fill("#url", base(server) + PASTED)
    page.press("#url", "Enter")
    expect(page.locator("#image-key")).to_have_value("astronaut.jpg")
    for control, value in {
        "#width": "200", "#fit": "adaptive-full-fit-in", "#halign": "left", "#valign": "top",
        "#trim-corner": "bottom-right", "#trim-tolerance": "5", "#crop-left": "10",
        "#crop-top": "20", "#crop-right": "300", "#crop-bottom": "400",
    }.items():  # fmt: skip
        expect(page.locator(control)).to_have_value(value)
    for box in ("#height-orig", "#flip-h", "#flip-v", "#smart", "#trim", "#crop"):
        expect(page.locator(box)).to_be_checked()
    expect(page.locator("#filter-list li")).to_have_count(3)
    # Written back as it was pasted: the grammar's round trip, through the page.
    wait_for_result(page, PASTED)
    # The unknown filter is kept as written; the server says it ignored it.
    expect(page.locator("#problems")).to_contain_text("Ignored by the server: nope(1,2)")
    # A path without unsafe/ or a signature, and one with a stray `%`, are read too.
    page.fill("#url", "fit-in/120x90/filters:grayscale()/pan.gif")
    page.press("#url", "Enter")
    wait_for_result(page, "/unsafe/fit-in/120x90/filters:grayscale()/pan.gif")
    page.fill("#url", "/unsafe/100x100/100%.jpg")
    page.press("#url", "Enter")
    wait_for_result(page, "/unsafe/100x100/100%25.jpg", "error")


def test_copy_puts_the_url_on_the_clipboard(browser: Browser, server: Server) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(base(server) + "/playground/")
    page.wait_for_selector("body[data-ready=true]")
    wait_for_result(page, "/unsafe/fit-in/300x300/astronaut.jpg")
    page.click("#copy-url")
    assert (
        page.evaluate("navigator.clipboard.readText()")
        == base(server) + "/unsafe/fit-in/300x300/astronaut.jpg"
    )
    context.close()


def test_the_sih_mode_writes_base64_requests(page: Page, server: Server) -> None:
    page.check("input[name=mode][value=sih]")
    set_number(page, "#sih-width", "120")
    set_number(page, "#sih-height", "80")
    page.select_option("#sih-fit", "inside")
    page.check("#sih-grayscale")
    document = {
        "key": "astronaut.jpg",
        "edits": {"resize": {"width": 120, "height": 80, "fit": "inside"}, "grayscale": True},
    }
    path = "/" + base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    wait_for_result(page, path)
    assert natural_size(page) == (80, 80)
    # The base64 request is the SIH mode's first style; the query parameters' controls wait.
    expect(page.locator("input[name=sih-style][value=default]")).to_be_checked()
    expect(page.locator("#sih-query")).to_be_hidden()
    # With SIH_COMPAT, the mode is not described as off.
    expect(page.locator("input[name=mode][value=sih]")).to_have_accessible_description("")
    # Pasted back, the document fills the SIH form.
    page.check("input[name=mode][value=thumbor]")
    wait_for_result(page, "/unsafe/fit-in/300x300/astronaut.jpg")
    page.fill("#url", base(server) + path)
    page.press("#url", "Enter")
    expect(page.locator("#sih-form")).to_be_visible()
    expect(page.locator("#sih-width")).to_have_value("120")
    expect(page.locator("#sih-grayscale")).to_be_checked()
    wait_for_result(page, path)


def sih_query_mode(page: Page) -> None:
    page.check("input[name=mode][value=sih]")
    page.check("input[name=sih-style][value=query]")


def test_the_sih_mode_writes_query_parameters(page: Page, server: Server) -> None:
    sih_query_mode(page)
    page.select_option("#sih-q-format", "webp")
    page.select_option("#sih-q-fit", "fill")
    page.fill("#sih-q-width", "120")
    page.fill("#sih-q-height", "80")
    page.fill("#sih-q-rotate", "90")
    page.check("#sih-q-grayscale")
    url = "/astronaut.jpg?format=webp&fit=fill&width=120&height=80&rotate=90&grayscale=true"
    wait_for_result(page, url)
    # fill: 120x80 whatever the ratio, then turned (Thumbor turns after resizing), as webp.
    assert natural_size(page) == (80, 120) == served_size(server, url)
    expect(page.locator("#result")).to_have_attribute("alt", f"The result: 80{TIMES}120, webp")
    assert server.request(url).headers["Content-Type"] == "image/webp"


def test_a_pasted_query_url_fills_the_query_controls(page: Page, server: Server) -> None:
    # From the Thumbor mode: unsafe/, SIH's other spelling, an unknown parameter and a
    # signature (this server does not sign) are read as the server reads them.
    page.fill(
        "#url",
        base(server)
        + "/unsafe/pan.gif?greyscale=1&width=60&flop=true&foo=1&fit=inside&signature=ab",
    )
    page.press("#url", "Enter")
    expect(page.locator("#sih-query")).to_be_visible()
    expect(page.locator("input[name=sih-style][value=query]")).to_be_checked()
    expect(page.locator("#image-key")).to_have_value("pan.gif")
    expect(page.locator("#sih-q-width")).to_have_value("60")
    expect(page.locator("#sih-q-fit")).to_have_value("inside")
    expect(page.locator("#sih-q-height")).to_have_value("")
    for box in ("#sih-q-grayscale", "#sih-q-flop"):
        expect(page.locator(box)).to_be_checked()
    expect(page.locator("#sih-q-flip")).not_to_be_checked()
    expect(page.locator("#url-status")).to_contain_text("Not read: foo")
    # Written back in the page's order and names, with the same meaning.
    url = "/pan.gif?fit=inside&width=60&flop=true&grayscale=true"
    wait_for_result(page, url)
    assert natural_size(page) == served_size(server, url)
    # The URL the page wrote, pasted back, gives the same controls and the same URL.
    page.fill("#sih-q-width", "")
    page.fill("#url", base(server) + url)
    page.press("#url", "Enter")
    expect(page.locator("#sih-q-width")).to_have_value("60")
    wait_for_result(page, url)


def test_a_bad_query_value_is_shown_and_not_sent(page: Page, server: Server) -> None:
    sih_query_mode(page)
    wait_for_result(page, "/astronaut.jpg")
    page.fill("#sih-q-width", "-5")
    page.fill("#sih-q-rotate", "45")
    problems = page.locator("#problems")
    expect(problems).to_contain_text("Width: a whole number of 0 or more")
    expect(problems).to_contain_text("Rotate: whole degrees, a multiple of 90")
    expect(page.locator("#url-status")).to_contain_text("not sent")
    # The last answer shown is the one before the bad values.
    assert page.evaluate("document.getElementById('result').dataset.url") == "/astronaut.jpg"
    # A pasted value the form does not offer stays in view, named.
    page.fill("#url", base(server) + "/astronaut.jpg?format=tiff&expires=20200101T000000Z")
    page.press("#url", "Enter")
    expect(page.locator("#sih-q-format")).to_have_value("tiff")
    expect(problems).to_contain_text("Format: one of jpeg, png, webp, avif, gif (not tiff)")
    expect(problems).to_contain_text("Expires: already past")
    page.select_option("#sih-q-format", "png")
    page.fill("#sih-q-expires", "29991231T235959Z")
    wait_for_result(page, "/astronaut.jpg?format=png&expires=29991231T235959Z")
    expect(problems).to_be_empty()


def test_without_sih_compat_the_sih_mode_says_why(
    browser: Browser, originals: Path, tmp_path: Path
) -> None:
    env = server_env(tmp_path / "results")  # SIH_COMPAT off: Thumbor's rules
    with running_server(originals, tmp_path / "logs", env, "--threads", "2") as thumbor:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(base(thumbor) + "/playground/")
        wait_for_result(page, "/unsafe/fit-in/300x300/astronaut.jpg")
        sih = page.locator("input[name=mode][value=sih]")
        expect(sih).to_be_disabled()
        expect(page.locator("#sih-off")).to_be_visible()
        expect(sih).to_have_accessible_description(
            "This server answers SIH requests only with SIH_COMPAT=true (without it, Thumbor's "
            "rules stand): start it with SIH_COMPAT=true make serve."
        )
        # A pasted SIH request is not sent: the page says why instead.
        page.fill("#url", base(thumbor) + "/eyJrZXkiOiJhc3Ryb25hdXQuanBnIn0=")
        page.press("#url", "Enter")
        expect(page.locator("#problems")).to_contain_text("only with SIH_COMPAT=true")
        expect(page.locator("#sih-form")).to_be_hidden()
        assert page.evaluate("document.getElementById('result').dataset.url") == (
            "/unsafe/fit-in/300x300/astronaut.jpg"
        )
        page.close()


# -- the page's generator is the grammar's ------------------------------------------------------

IMAGES = [
    "a.jpg",
    "left/a.jpg",
    "300x200/a.jpg",
    "smart/a.jpg",
    "filters:x/a.jpg",
    "a b/ç#?.jpg",
    "meta/a.jpg",
]


@pytest.fixture(scope="module")
def bare_page(browser: Browser, server: Server) -> Iterator[Page]:
    page = browser.new_page()
    page.goto(base(server) + "/playground/")
    page.wait_for_selector("body[data-ready=true]")
    yield page
    page.close()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=thumbor_paths(), image=st.sampled_from(IMAGES), valign=st.sampled_from(["middle", "top"])
)
def test_the_page_writes_paths_as_the_grammar_does(
    bare_page: Page, path: str, image: str, valign: str
) -> None:
    try:
        params = parse(path)
    except InvalidUrl:
        params = Params(image="a.jpg")
    params = params._replace(image=image, valign=cast(VAlign, valign))
    try:
        wanted = generate(params)
    except InvalidUrl:
        wanted = "ERROR"
    got = bare_page.evaluate(
        "async (p) => { const g = await import('./grammar.js');"
        " try { return g.generate(p); } catch (e) {"
        " if (e instanceof g.GrammarError) return 'ERROR'; throw e; } }",
        params.as_dict(),
    )
    assert got == wanted


ARGUMENTS = [
    "", "0", "5", "-5", "100", "101", "1.5", "-1.5", ".5", "+1", "true", "False", "1", "jpeg",
    "WEBP", "'abc'", "ff00AA", "ff00", "10x10:20x20", "a|b", "a||b", " 7 ",
]  # fmt: skip


def test_the_page_checks_arguments_as_the_registry_does(bare_page: Page) -> None:
    catalog = json.loads(bare_page.evaluate("fetch('filters.json').then(r => r.text())"))
    params = {(f["name"], p["name"]): p for f in catalog["filters"] for p in f["params"]}
    checked = 0
    for spec in REGISTRY.specs.values():
        for param in spec.params:
            described = params[(spec.name, param.name)]
            if not (described["pattern"] or described["choices"]):
                continue  # only the server can check it: the page lets it through
            verdicts = bare_page.evaluate(
                "async ([param, args]) => { const f = await import('./filters.js');"
                " return args.map((a) => f.checkArgument(param, a) === ''); }",
                [described, ARGUMENTS],
            )
            for text, accepted in zip(ARGUMENTS, verdicts, strict=True):
                if text.strip() == "":
                    assert accepted == (not param.required), (spec.name, param.name)
                    continue
                try:
                    param.parse(text.strip())
                    valid = True
                except ValueError:
                    valid = False
                assert accepted == valid, (spec.name, param.name, text)
                checked += 1
    assert checked > 500


# -- signing ---------------------------------------------------------------------------------


def test_a_local_server_signs_for_the_page_when_allowed(
    browser: Browser, originals: Path, tmp_path: Path
) -> None:
    env = server_env(
        tmp_path / "results",
        SECURITY_KEY=KEY,
        ALLOW_UNSAFE_URL="false",
        PLAYGROUND_SIGNING="true",
        SIH_COMPAT="true",
    )
    with running_server(originals, tmp_path / "logs", env, "--threads", "2") as signing:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(base(signing) + "/playground/")
        signed = sign_thumbor_path(KEY, "fit-in/300x300/astronaut.jpg")
        wait_for_result(page, signed)
        assert natural_size(page) == (300, 300)
        expect(page.locator("#server-note")).to_contain_text("signs the page's URLs")
        # SIH's query parameters, signed as SIH_COMPAT verifies them (v7: path and query).
        sih_query_mode(page)
        page.fill("#sih-q-width", "100")
        page.check("#sih-q-flip")
        text = "/astronaut.jpg?flip=true&width=100"  # the parameters sorted
        wait_for_result(
            page, f"/astronaut.jpg?width=100&flip=true&signature={sih_signature(KEY, text)}"
        )
        assert natural_size(page) == (100, 100)
        page.close()


def test_without_signing_for_the_page_it_explains_how_to_sign(
    browser: Browser, originals: Path, tmp_path: Path
) -> None:
    env = server_env(tmp_path / "results", SECURITY_KEY=KEY, ALLOW_UNSAFE_URL="false")
    with running_server(originals, tmp_path / "logs", env, "--threads", "2") as signing:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(base(signing) + "/playground/")
        wait_for_result(page, "/unsafe/fit-in/300x300/astronaut.jpg", "error")
        expect(page.locator("#error")).to_contain_text("403 UnsafeUrlNotAllowed")
        expect(page.locator("#signing-help")).to_be_visible()
        expect(page.locator("#signing-help")).to_contain_text("thumbor-urls sign --key")
        expect(page.locator("#signing-why")).to_contain_text("PLAYGROUND_SIGNING is off")
        # The page got no key and no signature.
        assert (
            signing.request(
                "/playground/sign?path=300x200/a.jpg", headers={"Host": "127.0.0.1"}
            ).status
            == 403
        )
        page.close()


# -- as deployed: static files, no listing -------------------------------------------------------


def test_without_the_listing_the_page_takes_a_typed_key(browser: Browser, server: Server) -> None:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT)
    # A static copy of the page: config.json and images.json are not there.
    for name in ("config.json", "images.json"):
        page.route(
            f"**/playground/{name}*",
            lambda route: route.fulfill(status=404, body="<h1>no</h1>", content_type="text/html"),
        )
    page.goto(base(server) + "/playground/")
    page.wait_for_selector("body[data-ready=true]")
    wait_for_result(page, "/unsafe/fit-in/300x300/astronaut.jpg")
    expect(page.locator("#picker")).to_be_hidden()
    expect(page.locator("#original-info")).to_contain_text(
        f"512{TIMES}512, format and bytes are known only"
    )
    page.fill("#image-key", "pan.gif")
    wait_for_result(page, "/unsafe/fit-in/300x300/pan.gif")
    page.close()


# -- accessibility -----------------------------------------------------------------------------

NAMED_ROLES = {
    "textbox",
    "combobox",
    "listbox",
    "checkbox",
    "radio",
    "button",
    "spinbutton",
    "link",
    "img",
}


def test_every_control_has_an_accessible_name(page: Page) -> None:
    add_filter(page, "watermark")  # fields of several kinds, and its buttons
    session = page.context.new_cdp_session(page)
    trees = []
    # Hidden controls are out of the tree: each form is looked at while it is shown.
    for show in ("input[name=sih-style][value=query]", "input[name=sih-style][value=default]"):
        page.check("input[name=mode][value=sih]")
        page.check(show)
        trees.append(session.send("Accessibility.getFullAXTree")["nodes"])
    page.check("input[name=mode][value=thumbor]")
    trees.append(session.send("Accessibility.getFullAXTree")["nodes"])
    unnamed = [
        node for tree in trees for node in tree
        if not node.get("ignored") and node.get("role", {}).get("value") in NAMED_ROLES
        and not (node.get("name", {}).get("value") or "").strip()
    ]  # fmt: skip
    assert unnamed == []
    names = {node.get("name", {}).get("value") for node in trees[0] if not node.get("ignored")}
    assert {"width", "rotate (degrees clockwise)", "expires (UTC)", "grayscale"} <= names
    tree = trees[-1]
    roles = {node.get("role", {}).get("value") for node in tree if not node.get("ignored")}
    assert {"textbox", "combobox", "checkbox", "radio", "button", "spinbutton"} <= roles
    ids = page.evaluate("[...document.querySelectorAll('[id]')].map((e) => e.id)")
    assert len(ids) == len(set(ids))


def test_keyboard_only(page: Page) -> None:
    page.evaluate("document.activeElement.blur()")
    order: list[str] = []
    for _ in range(8):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.name"))
    # Focus follows the page: the skip link, the image, the picker, then the controls.
    assert order[:5] == ["", "image-key", "image-picker", "mode", "width"]
    # Choose an image, a size and a filter, and add it, without a pointer.
    page.focus("#image-key")
    page.keyboard.press("Control+A")
    page.keyboard.type("pan.webp")
    page.keyboard.press("Tab")  # the picker
    page.keyboard.press("Tab")  # the request style
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "width"
    page.keyboard.press("Control+A")
    page.keyboard.type("150")
    page.focus("#filter-picker")
    page.keyboard.type("grayscale")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "add-filter"
    page.keyboard.press("Enter")
    wait_for_result(page, "/unsafe/fit-in/150x300/filters:grayscale()/pan.webp")
    # The added filter took the focus, and says where it is.
    assert (
        page.evaluate("document.activeElement.getAttribute('aria-label')")
        == "Remove grayscale, filter 1 of 1"
    )
    expect(page.locator("#url-status")).to_contain_text("Result:")


# -- a phone-sized screen ----------------------------------------------------------------------


def test_a_phone_sized_screen(browser: Browser, server: Server) -> None:
    page = open_page(
        browser, server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    # Nothing is wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    too_wide = page.evaluate(
        "[...document.querySelectorAll('input, select, textarea, button, img')]"
        ".filter((e) => e.offsetParent && e.getBoundingClientRect().right > 361).map((e) => e.id)"
    )
    assert too_wide == []
    page.tap("#flip-h")
    wait_for_result(page, "/unsafe/fit-in/-300x300/astronaut.jpg")
    page.close()


# -- the README's screenshot -------------------------------------------------------------------


def test_screenshot_for_the_readme(browser: Browser, server: Server, tmp_path: Path) -> None:
    """Taken on every run (so it shows the page as it is); written into docs/ only when it is
    missing or UPDATE_SCREENSHOT=1, so that pixel differences never fail anything."""
    page = open_page(browser, server, viewport={"width": 1280, "height": 900})
    page.select_option("#image-picker", "dandelions.jpg")
    page.select_option("#fit", "")
    set_number(page, "#width", "300")
    set_number(page, "#height", "200")
    page.check("#smart")
    add_filter(page, "brightness", "10")
    add_filter(page, "round_corner", "20")
    page.locator("#filter-list li[data-filter=round_corner] input").nth(1).fill("255")
    page.locator("#filter-list li[data-filter=round_corner] input").nth(2).fill("255")
    page.locator("#filter-list li[data-filter=round_corner] input").nth(3).fill("255")
    wait_for_result(
        page,
        "/unsafe/300x200/smart/filters:brightness(10):round_corner(20,255,255,255)/dandelions.jpg",
    )
    # meta/'s kept box drawn over the original, the page at its top, no focus ring.
    expect(page.locator("#original-overlay rect.kept")).to_have_count(1)
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    shot = tmp_path / "playground.png"
    page.screenshot(path=str(shot))
    with Image.open(shot) as image:
        assert image.size == (1280, 900)
    if os.environ.get("UPDATE_SCREENSHOT") == "1" or not SCREENSHOT.exists():
        shutil.copy(shot, SCREENSHOT)
    page.close()
