"""The HTTP loader (LOADERS=http): Thumbor's URL forms, ALLOWED_SOURCES, the SSRF guard, the
limits on what an origin sends, its errors, and the cache of originals with conditional GETs.

Every origin is a real HTTP server on 127.0.0.1 (tests/http_origins.py), reached with
HTTP_LOADER_ALLOW_LOOPBACK on. Host names go through a FakeResolver; the private, link-local
and metadata cases are refused before any connection, which the NetworkGuard (on for every test
here) proves: it records every connect(), fails any to an address outside loopback before the
system call, and fails any DNS lookup.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.http_origins import (
    FakeResolver,
    NetworkGuard,
    Origin,
    chunked,
    close_delimited,
    endless,
    image,
    redirect,
    send,
    short_body,
    status,
    tls_files,
    trickle,
)
from tests.images import decode, encode, gradient
from thumbor_urls.app import App
from thumbor_urls.config import SettingError, Settings
from thumbor_urls.http_loader.addresses import AddressPolicy, kind, literal
from thumbor_urls.http_loader.cache import Entry as CacheEntry
from thumbor_urls.http_loader.cache import FolderOriginals, digest, freshness
from thumbor_urls.http_loader.errors import SourceNotAllowed
from thumbor_urls.http_loader.source import HTTPSource
from thumbor_urls.http_loader.urls import AllowedSources, source_url
from thumbor_urls.loaders import Loaders, build_source
from thumbor_urls.messages import Request, Response
from thumbor_urls.sources import FolderSource
from thumbor_urls.stores import FolderResultStore

JPEG = encode(gradient((320, 200)), "JPEG")
JPEG_2 = encode(gradient((200, 320)), "JPEG")
PNG = encode(gradient((64, 48)), "PNG")
BOMB = gzip.compress(b"\0" * 20_000_000)  # 20 MB of zeros in 20 kB


@pytest.fixture(autouse=True)
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    guard = NetworkGuard()
    guard.install(monkeypatch)
    yield guard
    assert guard.refused == [], f"a test tried to leave the machine: {guard.refused}"


@pytest.fixture
def origin() -> Iterator[Origin]:
    with Origin() as server:
        yield server


Get = Callable[..., Response]


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., tuple[App, FakeResolver]]:
    """An App with LOADERS=http (or `loaders`) over a fake resolver, loopback opened."""

    def factory(
        answers: dict[str, Any] | None = None,
        loaders: tuple[str, ...] = ("http",),
        store: str = "results",
        **overrides: Any,
    ) -> tuple[App, FakeResolver]:
        settings = Settings(
            LOADERS=loaders,
            HTTP_LOADER_ALLOW_LOOPBACK=True,
            RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / store,
            FILE_LOADER_ROOT_PATH=tmp_path / "files",
        ).replace(**overrides)
        resolver = FakeResolver(answers or {})
        results = FolderResultStore(tmp_path / store)
        http = HTTPSource.from_settings(settings, results, resolver=resolver)
        if loaders == ("http",):
            return App(settings, http, results), resolver
        named = [
            (name, http if name == "http" else FolderSource(settings.FILE_LOADER_ROOT_PATH))
            for name in loaders
        ]
        return App(settings, Loaders(named), results), resolver

    return factory


def get(app: App, path: str, **headers: str) -> Response:
    return app.handle(
        Request("GET", path, {k.replace("_", "-").lower(): v for k, v in headers.items()})
    )


def error(response: Response) -> str:
    import json

    return str(json.loads(response.body)["code"])


# --- the image part of the URL ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("http://cdn.example.com/a.jpg", "http://cdn.example.com/a.jpg"),
        ("https://cdn.example.com/a.jpg", "https://cdn.example.com/a.jpg"),
        ("cdn.example.com/a.jpg", "http://cdn.example.com/a.jpg"),  # Thumbor prefixes http://
        ("HTTPS://CDN.Example.com:443/a.jpg", "https://cdn.example.com/a.jpg"),
        ("cdn.example.com:8080/a.jpg?w=300&h=200", "http://cdn.example.com:8080/a.jpg?w=300&h=200"),
        ("cdn.example.com/a b.jpg", "http://cdn.example.com/a%20b.jpg"),
        ("cdn.example.com/a%2Fb.jpg", "http://cdn.example.com/a%2Fb.jpg"),  # escapes stay
        ("cdn.example.com/100%.jpg", "http://cdn.example.com/100%25.jpg"),
        ("cdn.example.com/é.jpg", "http://cdn.example.com/%C3%A9.jpg"),
        ("httpbin.org/a.jpg", "http://httpbin.org/a.jpg"),  # a host, not a scheme
        ("bücher.example/a.jpg", "http://xn--bcher-kva.example/a.jpg"),
        ("cdn.example.com./a.jpg#part", "http://cdn.example.com/a.jpg"),
        ("http://[::1]:8080/a.jpg", "http://[::1]:8080/a.jpg"),
    ],
)
def test_thumbor_url_forms(key: str, url: str) -> None:
    assert source_url(key).url == url


@pytest.mark.parametrize(
    "key",
    [
        "ftp://cdn.example.com/a.jpg",
        "http:/cdn.example.com/a.jpg",  # a merged //: Thumbor's 400 too
        "https:/cdn.example.com/a.jpg",
        "http:///cdn.example.com/a.jpg",
        "http:cdn.example.com/a.jpg",
        "file:///etc/passwd",
        "gopher://cdn.example.com/",
        "http://user:secret@cdn.example.com/a.jpg",
        "http://@cdn.example.com/a.jpg",
        "http://cdn.example.com:0/a.jpg",
        "http://cdn.example.com:99999/a.jpg",
        "http:///",
        "data:image/png;base64,AAAA",
        "cdn example.com/a.jpg",
        "http://[not-v6]/a.jpg",
    ],
)
def test_what_is_not_an_http_url_of_a_host_is_refused(key: str) -> None:
    with pytest.raises(SourceNotAllowed):
        source_url(key)


def test_allowed_sources_as_thumbor_reads_them() -> None:
    def allows(patterns: list[str], key: str) -> bool:
        return AllowedSources(patterns).allows(source_url(key))

    assert allows([], "anything.example/a.jpg")
    assert allows(["cdn.example.com"], "https://CDN.example.com/a.jpg")
    assert not allows(["cdn.example.com"], "cdnxexample.com/a.jpg")  # dots are dots
    assert not allows(["cdn.example.com"], "cdn.example.com.evil.test/a.jpg")
    assert allows([r".*\.example\.com"], "img.example.com/a.jpg")  # the whole host
    assert not allows([r".*\.example\.com"], "img.example.com.evil.test/a.jpg")
    assert allows([r"cdn[0-9]{1,2}\.example\.com"], "cdn12.example.com/a.jpg")
    assert allows([r"re:https://img\.example\.com/public/"], "https://img.example.com/public/a.jpg")
    assert not allows([r"re:https://img\.example\.com/public/"], "http://img.example.com/public/a")
    assert not allows([r"re:https://img\.example\.com/public/"], "https://img.example.com/x/a")


def test_settings_of_the_http_loader() -> None:
    parsed = Settings.from_env(
        {
            "LOADERS": "file, HTTP",
            "ALLOWED_SOURCES": r"cdn.example.com, cdn[0-9]{1,2}\.example\.com ,re:https://x/",
            "HTTP_LOADER_FORWARD_HEADERS_WHITELIST": "Accept-Language",
        }
    )
    assert parsed.LOADERS == ("file", "http")
    assert parsed.ALLOWED_SOURCES == (
        "cdn.example.com",
        r"cdn[0-9]{1,2}\.example\.com",
        "re:https://x/",
    )
    assert parsed.HTTP_LOADER_FORWARD_HEADERS_WHITELIST == ("accept-language",)
    for bad in (
        {"LOADERS": "file,ftp"},
        {"LOADERS": "http,http"},
        {"ALLOWED_SOURCES": "*.example.com"},  # Thumbor reads it as a regular expression
        {"HTTP_LOADER_FORWARD_HEADERS_WHITELIST": "Cookie"},
        {"HTTP_LOADER_FORWARD_HEADERS_WHITELIST": "x-a,authorization"},
    ):
        with pytest.raises(SettingError):
            Settings.from_env(bad)


def test_loaders_default_as_today_and_need_what_they_name(tmp_path: Path) -> None:
    settings = Settings(FILE_LOADER_ROOT_PATH=tmp_path)
    results = FolderResultStore(tmp_path / "r")
    assert isinstance(build_source(settings, results), FolderSource)
    s3 = FolderSource(tmp_path)  # stands in for the Lambda's S3Source
    assert build_source(settings, results, s3) is s3
    chain = build_source(settings.replace(LOADERS=("s3", "http")), results, s3)
    assert isinstance(chain, Loaders)
    assert [name for name, _ in chain.named] == ["s3", "http"]
    with pytest.raises(SettingError):
        build_source(settings.replace(LOADERS=("s3",)), results)


# --- addresses ----------------------------------------------------------------------------------

REFUSED_ALWAYS = [
    "169.254.169.254",  # cloud metadata (AWS, GCP, Azure)
    "169.254.170.2",  # ECS task metadata
    "fd00:ec2::254",  # AWS metadata over IPv6
    "100.100.100.200",  # Alibaba's metadata
    "fe80::1",
    "0.0.0.0",
    "0.1.2.3",
    "::",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
    "2002:a9fe:a9fe::1",  # 6to4 of it
]
LOOPBACK = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "2002:7f00:1::1"]
PRIVATE = ["10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fc00::1", "fd12::1",
           "::ffff:10.0.0.1", "198.18.0.1", "192.0.2.1"]  # fmt: skip
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(
    ("policy", "allowed"),
    [
        (AddressPolicy(), PUBLIC),
        (AddressPolicy(allow_loopback=True), PUBLIC + LOOPBACK),
        (AddressPolicy(allow_private=True), PUBLIC + PRIVATE),
        (AddressPolicy(True, True), PUBLIC + LOOPBACK + PRIVATE),
    ],
)
def test_address_policy(policy: AddressPolicy, allowed: list[str]) -> None:
    for text in REFUSED_ALWAYS + LOOPBACK + PRIVATE + PUBLIC:
        address = literal(text)
        assert address is not None, text
        assert policy.allows(address) == (text in allowed), (text, kind(address))


def test_every_spelling_of_an_address_is_read_as_one() -> None:
    for spelling in ("127.1", "2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1"):
        assert str(literal(spelling)) == "127.0.0.1", spelling
    assert literal("cafe.example") is None
    assert literal("deadbeef.example") is None


# --- end to end: URL forms --------------------------------------------------------------------


def test_every_url_form_is_served(make_app: Any, origin: Origin) -> None:
    origin.routes["/a.jpg"] = image(JPEG)
    origin.routes["/a%20b.jpg"] = image(PNG, "image/png")
    origin.routes["/q.jpg?size=big"] = image(JPEG)
    origin.routes["/q.jpg?size=small"] = image(PNG, "image/png")
    app, resolver = make_app({"images.test": ["127.0.0.1"]})
    port = origin.port
    forms = {
        f"http://127.0.0.1:{port}/a.jpg": (320, 200),
        f"127.0.0.1:{port}/a.jpg": (320, 200),  # no scheme: http://
        f"images.test:{port}/a.jpg": (320, 200),  # a name, resolved
        f"http://images.test:{port}/a b.jpg": (64, 48),  # decoded once by the adapter
        f"http://127.0.0.1:{port}/q.jpg?size=big": (320, 200),  # %3F in the URL sent
        f"http://127.0.0.1:{port}/q.jpg?size=small": (64, 48),
    }
    for key, size in forms.items():
        response = get(app, f"/unsafe/{key}")
        assert response.status == 200, (key, response.body)
        assert decode(response.body).size == size, key
    assert resolver.calls == ["images.test", "images.test"]
    hosts = [seen.headers["host"] for seen in origin.seen]
    assert f"images.test:{port}" in hosts  # the name, though the connection went to 127.0.0.1
    # The two spellings of one URL are one original, fetched once; the name is another URL.
    assert origin.paths().count("/a.jpg") == 2


def test_percent_encoded_urls_through_the_wsgi_adapter(make_app: Any, origin: Origin) -> None:
    from thumbor_urls.server import make_wsgi_app

    origin.routes["/q.jpg?v=2"] = image(JPEG)
    app, _ = make_app()
    wsgi = make_wsgi_app(app)
    raw = "/unsafe/100x0/" + quote(f"http://127.0.0.1:{origin.port}/q.jpg?v=2", safe="")
    answers: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": raw.encode().decode("latin-1")}
    from urllib.parse import unquote

    environ["PATH_INFO"] = unquote(raw)  # what a WSGI server hands over: decoded once
    body = b"".join(wsgi(environ, lambda status, headers: answers.append(status)))
    assert answers == ["200 OK"], body
    assert decode(body).size == (100, 62)
    assert origin.paths() == ["/q.jpg?v=2"]


def test_results_of_two_urls_and_of_a_file_of_the_same_name_are_apart(
    make_app: Any, origin: Origin, tmp_path: Path
) -> None:
    origin.routes["/a.jpg"] = image(JPEG)
    files = tmp_path / "files" / f"127.0.0.1:{origin.port}"
    files.mkdir(parents=True)
    (files / "a.jpg").write_bytes(JPEG_2)
    key = f"127.0.0.1:{origin.port}/a.jpg"
    chain, _ = make_app(loaders=("file", "http"))
    http, _ = make_app()
    folder = App(Settings(FILE_LOADER_ROOT_PATH=tmp_path / "files",
                          RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / "results"))  # fmt: skip
    # One results folder for all three: the file and the URL are two originals.
    assert decode(get(chain, f"/unsafe/{key}").body).size == (200, 320)  # the file first
    assert decode(get(http, f"/unsafe/{key}").body).size == (320, 200)
    assert decode(get(folder, f"/unsafe/{key}").body).size == (200, 320)
    (files / "a.jpg").unlink()
    assert decode(get(chain, f"/unsafe/{key}").body).size == (320, 200)  # then the origin
    assert decode(get(http, f"/unsafe/{key}").body).size == (320, 200)
    assert get(folder, f"/unsafe/{key}").status == 404


def test_a_chain_sends_urls_to_http_and_keeps_404_for_missing_files(
    make_app: Any, origin: Origin, tmp_path: Path
) -> None:
    origin.routes["/a.jpg"] = image(JPEG)
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "local.jpg").write_bytes(JPEG_2)
    app, resolver = make_app(loaders=("file", "http"), ALLOWED_SOURCES=("127.0.0.1",))
    assert decode(get(app, "/unsafe/local.jpg").body).size == (200, 320)
    assert get(app, f"/unsafe/http://127.0.0.1:{origin.port}/a.jpg").status == 200
    missing = get(app, "/unsafe/missing.jpg")  # not a file; the fallback may not fetch it
    assert (missing.status, error(missing)) == (404, "NoSuchKey")
    assert resolver.calls == []
    refused = get(app, "/unsafe/http://elsewhere.test/a.jpg")  # a URL: its own refusal
    assert (refused.status, error(refused)) == (400, "SourceNotAllowed")


# --- refused sources, before any connection ----------------------------------------------------


def test_allowed_sources_refuse_before_resolving(
    make_app: Any, origin: Origin, network: NetworkGuard
) -> None:
    app, resolver = make_app({"other.test": ["127.0.0.1"]}, ALLOWED_SOURCES=("images.test",))
    for key in ("other.test/a.jpg", "ftp://images.test/a.jpg", "http://u:p@images.test/a.jpg"):
        response = get(app, f"/unsafe/{key}")
        assert (response.status, error(response)) == (400, "SourceNotAllowed"), key
        assert response.headers["Content-Type"] == "application/json"
    assert resolver.calls == []
    assert network.connects == []


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("metadata.test", "169.254.169.254"),
        ("metadata6.test", "fd00:ec2::254"),
        ("internal.test", "10.0.0.5"),
        ("mapped.test", "::ffff:10.0.0.5"),
        ("mapped-meta.test", "::ffff:169.254.169.254"),
        ("multicast.test", "224.0.0.251"),
        ("mixed.test", ["8.8.8.8", "192.168.0.1"]),  # one bad answer is enough
    ],
)
def test_private_link_local_and_metadata_addresses_are_refused_before_any_socket(
    make_app: Any, network: NetworkGuard, name: str, address: Any
) -> None:
    answers = address if isinstance(address, list) else [address]
    app, resolver = make_app({name: answers}, HTTP_LOADER_ALLOW_LOOPBACK=False)
    response = get(app, f"/unsafe/300x200/http://{name}/latest/meta-data/")
    assert (response.status, error(response)) == (400, "AddressNotAllowed")
    assert resolver.calls == [name]
    assert network.connects == []  # no socket was connected to anything
    for answer in answers:
        assert answer.encode() not in response.body  # no internal address in the answer


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "[fd00:ec2::254]",
        "[::ffff:169.254.169.254]",
        "[::ffff:a9fe:a9fe]",
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "[::1]",
        "0.0.0.0",
        "10.1.2.3",
        "localhost",
    ],
)
def test_literal_and_loopback_hosts_are_refused_without_the_switch(
    make_app: Any, network: NetworkGuard, host: str
) -> None:
    app, resolver = make_app({"localhost": ["127.0.0.1", "::1"]}, HTTP_LOADER_ALLOW_LOOPBACK=False)
    response = get(app, f"/unsafe/http://{host}:8080/a.jpg")
    assert (response.status, error(response)) == (400, "AddressNotAllowed"), host
    assert resolver.calls == (["localhost"] if host == "localhost" else [])
    assert network.connects == []


def test_private_opens_internal_origins_but_never_metadata(
    make_app: Any, network: NetworkGuard
) -> None:
    app, _ = make_app(
        {"metadata.test": ["169.254.169.254"], "v6.test": ["fd00:ec2::254"]},
        HTTP_LOADER_ALLOW_LOOPBACK=False,
        HTTP_LOADER_ALLOW_PRIVATE=True,
    )
    for key in ("metadata.test/", "v6.test/", "169.254.169.254/", "[fd00:ec2::254]/"):
        response = get(app, f"/unsafe/{key}a.jpg")
        assert (response.status, error(response)) == (400, "AddressNotAllowed"), key
    assert network.connects == []


# --- redirects --------------------------------------------------------------------------------


def test_redirects_are_followed_each_target_checked(
    make_app: Any, origin: Origin, network: NetworkGuard
) -> None:
    port = origin.port
    origin.routes["/a.jpg"] = image(JPEG)
    origin.routes["/hop"] = redirect("/a.jpg", 301)
    origin.routes["/named"] = redirect(f"http://images.test:{port}/hop", 307)
    origin.routes["/to-metadata"] = redirect("http://169.254.169.254/latest/meta-data/")
    origin.routes["/to-metadata-name"] = redirect("http://metadata.test/latest/")
    origin.routes["/to-private-v6"] = redirect("http://[fd00:ec2::254]/")
    origin.routes["/to-file"] = redirect("file:///etc/passwd")
    origin.routes["/to-elsewhere"] = redirect(f"http://elsewhere.test:{port}/a.jpg")
    origin.routes["/loop"] = redirect("/loop")
    answers = {
        "images.test": ["127.0.0.1"],
        "metadata.test": ["169.254.169.254"],
        "elsewhere.test": ["127.0.0.1"],
    }
    app, resolver = make_app(answers)
    listed, _ = make_app(answers, ALLOWED_SOURCES=("127.0.0.1", "images.test"))
    assert get(app, f"/unsafe/127.0.0.1:{port}/named").status == 200
    assert get(listed, f"/unsafe/127.0.0.1:{port}/named").status == 200
    expected = {
        "/to-metadata": (app, 400, "AddressNotAllowed"),
        "/to-metadata-name": (app, 400, "AddressNotAllowed"),
        "/to-private-v6": (app, 400, "AddressNotAllowed"),
        "/to-file": (app, 400, "SourceNotAllowed"),
        "/to-elsewhere": (listed, 400, "SourceNotAllowed"),  # ALLOWED_SOURCES holds there too
        "/loop": (app, 502, "UpstreamError"),
    }
    for path, (which, *answer) in expected.items():
        response = get(which, f"/unsafe/127.0.0.1:{port}{path}")
        assert [response.status, error(response)] == answer, path
        assert b"169.254" not in response.body and b"fd00" not in response.body
    assert set(network.connects) == {"127.0.0.1"}  # nothing else was ever connected to
    assert resolver.calls.count("elsewhere.test") == 0
    assert origin.paths().count("/loop") == 6  # the first request and 5 redirects


# --- DNS rebinding --------------------------------------------------------------------------------


def test_the_checked_address_is_the_one_connected_to(
    make_app: Any, origin: Origin, network: NetworkGuard
) -> None:
    """The resolver answers an allowed address, then a private one (a rebinding attack): the
    fetch connects to the first answer, and the name is never resolved again for it."""
    origin.routes["/a.jpg"] = image(JPEG)
    app, resolver = make_app({"rebind.test": [["127.0.0.1"], ["10.0.0.7"]]})
    response = get(app, f"/unsafe/rebind.test:{origin.port}/a.jpg")
    assert response.status == 200
    assert resolver.calls == ["rebind.test"]
    assert network.connects == ["127.0.0.1"]
    # The next fetch asks again, gets the private answer, and is refused before connecting.
    again = get(app, f"/unsafe/100x100/rebind.test:{origin.port}/a.jpg?other")
    assert (again.status, error(again)) == (400, "AddressNotAllowed")
    assert network.connects == ["127.0.0.1"]


def test_rebinding_from_a_public_to_a_private_address(make_app: Any, network: NetworkGuard) -> None:
    """Public first, then private: only the public address checked is ever connected to (here
    the guard stops that connection in the process, as no test may leave the machine)."""
    app, resolver = make_app(
        {"rebind.test": [["93.184.215.14"], ["127.0.0.1"], ["169.254.169.254"]]},
        HTTP_LOADER_ALLOW_LOOPBACK=False,
    )
    response = get(app, "/unsafe/http://rebind.test/a.jpg")
    assert (response.status, error(response)) == (502, "UpstreamError")
    assert resolver.calls == ["rebind.test"]
    assert network.connects == ["93.184.215.14"]
    assert b"93.184" not in response.body
    network.refused.clear()  # the one connection the guard was there to stop, stopped


# --- what the origin sends ----------------------------------------------------------------------


def test_a_length_over_the_limit_is_refused_before_the_body(make_app: Any, origin: Origin) -> None:
    origin.routes["/big.jpg"] = lambda handler: send(handler, 200, JPEG, length=50_000_000)
    app, _ = make_app(MAX_SOURCE_BYTES=1_000_000)
    response = get(app, f"/unsafe/127.0.0.1:{origin.port}/big.jpg")
    assert (response.status, error(response)) == (413, "ImageTooLarge")
    assert b"50,000,000 bytes" in response.body


@pytest.mark.parametrize(
    ("route", "answer"),
    [
        (endless(JPEG[:100]), (413, "ImageTooLarge")),  # chunked, never ends
        (close_delimited(JPEG + b"\0" * 2_000_000), (413, "ImageTooLarge")),  # no length
        (short_body(JPEG[:1000], claimed=len(JPEG)), (502, "UpstreamError")),  # says more
        (lambda h: send(h, 200, JPEG + b"\0" * 3_000_000, length=1000), (415, None)),  # less
        (chunked(lambda: iter([BOMB]), {"Content-Encoding": "gzip"}), (413, "ImageTooLarge")),
        (chunked(lambda: iter([JPEG]), {"Content-Encoding": "br"}), (502, "UpstreamError")),
        (lambda h: send(h, 200, b""), (502, "UpstreamError")),
        (lambda h: send(h, 200, b"<html>hello</html>", "text/html"), (415, None)),
        (lambda h: send(h, 200, b"<html>" * 10, "image/jpeg"), (415, None)),  # lying type
        (lambda h: send(h, 200, b"%PDF-1.7\n" * 10, "application/pdf"), (415, None)),
    ],
)
def test_bodies_origins_should_not_send(
    make_app: Any, origin: Origin, route: Any, answer: tuple[int, str | None]
) -> None:
    origin.routes["/x"] = route
    app, _ = make_app(MAX_SOURCE_BYTES=1_000_000)
    started = time.monotonic()
    response = get(app, f"/unsafe/127.0.0.1:{origin.port}/x")
    assert response.status == answer[0], response.body
    if answer[1]:
        assert error(response) == answer[1]
    assert time.monotonic() - started < 5


def test_compressed_and_untyped_images_are_read(make_app: Any, origin: Origin) -> None:
    origin.routes["/gz"] = chunked(
        lambda: iter([gzip.compress(JPEG)]), {"Content-Encoding": "gzip"}
    )
    origin.routes["/octets"] = image(JPEG, "application/octet-stream")
    origin.routes["/untyped"] = image(PNG, "")
    app, _ = make_app()
    for path in ("/gz", "/octets", "/untyped"):
        response = get(app, f"/unsafe/127.0.0.1:{origin.port}{path}")
        assert response.status == 200, (path, response.body)


def test_a_slow_body_is_cut_at_the_request_timeout(make_app: Any, origin: Origin) -> None:
    origin.routes["/slow.jpg"] = trickle(JPEG, every=0.05)  # ~100 s for the whole image
    app, _ = make_app(HTTP_LOADER_REQUEST_TIMEOUT=1.0)
    started = time.monotonic()
    response = get(app, f"/unsafe/127.0.0.1:{origin.port}/slow.jpg")
    assert (response.status, error(response)) == (504, "UpstreamTimeout")
    assert time.monotonic() - started < 2.5


def test_a_silent_origin_is_cut_at_the_request_timeout(make_app: Any, origin: Origin) -> None:
    origin.routes["/silent"] = lambda handler: time.sleep(3)
    app, _ = make_app(HTTP_LOADER_REQUEST_TIMEOUT=0.5)
    started = time.monotonic()
    response = get(app, f"/unsafe/127.0.0.1:{origin.port}/silent")
    assert (response.status, error(response)) == (504, "UpstreamTimeout")
    assert time.monotonic() - started < 1.5


def test_the_request_deadline_bounds_the_fetch(make_app: Any, origin: Origin) -> None:
    origin.routes["/slow.jpg"] = trickle(JPEG, every=0.05)
    app, _ = make_app(REQUEST_DEADLINE_SECONDS=0.8, HTTP_LOADER_REQUEST_TIMEOUT=20.0)
    started = time.monotonic()
    response = get(app, f"/unsafe/127.0.0.1:{origin.port}/slow.jpg")
    assert (response.status, error(response)) == (503, "DeadlineExceeded")
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    ("code", "answer"),
    [(404, (404, "NoSuchKey")), (410, (404, "NoSuchKey")), (403, (404, "NoSuchKey")),
     (500, (502, "UpstreamError")), (503, (502, "UpstreamError")),
     (206, (502, "UpstreamError"))],
)  # fmt: skip
def test_upstream_statuses(
    make_app: Any, origin: Origin, code: int, answer: tuple[int, str]
) -> None:
    origin.routes["/x.jpg"] = status(code)
    app, _ = make_app({"images.test": ["127.0.0.1"]})
    response = get(app, f"/unsafe/images.test:{origin.port}/x.jpg")
    assert (response.status, error(response)) == answer
    assert b"127.0.0.1" not in response.body
    cache = response.headers["Cache-Control"]
    assert cache == ("no-store" if answer[0] >= 500 else "public, max-age=60")


def test_an_origin_that_cannot_be_reached(make_app: Any, origin: Origin) -> None:
    port = origin.port
    origin.__exit__()  # nothing listens there any more
    app, _ = make_app({"gone.test": ["127.0.0.1"], "nowhere.test": []})
    response = get(app, f"/unsafe/gone.test:{port}/a.jpg")
    assert (response.status, error(response)) == (502, "UpstreamError")
    assert b"127.0.0.1" not in response.body
    unknown = get(app, "/unsafe/unknown.test/a.jpg")
    assert (unknown.status, error(unknown)) == (404, "NoSuchKey")


# --- headers sent -------------------------------------------------------------------------------


def test_no_credentials_are_forwarded(make_app: Any, origin: Origin) -> None:
    port = origin.port
    origin.routes["/a.jpg"] = image(JPEG)
    origin.routes["/away"] = redirect(f"http://other.test:{port}/a.jpg")
    app, _ = make_app(
        {"images.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]},
        HTTP_LOADER_FORWARD_HEADERS_WHITELIST=("accept-language",),
    )
    client = {"cookie": "session=1", "authorization": "Bearer x", "accept_language": "fr",
              "user_agent": "Browser/1.0", "x_forwarded_for": "1.2.3.4"}  # fmt: skip
    assert get(app, f"/unsafe/images.test:{port}/a.jpg", **client).status == 200
    sent = origin.seen[-1].headers
    assert sent["accept-language"] == "fr"
    assert sent["user-agent"].startswith("thumbor-urls/")
    assert not {"cookie", "authorization", "x-forwarded-for"} & set(sent)
    assert get(app, f"/unsafe/images.test:{port}/away", **client).status == 200
    assert "accept-language" not in origin.seen[-1].headers  # not sent on to another host
    agent, _ = make_app(HTTP_LOADER_FORWARD_USER_AGENT=True)
    assert get(agent, f"/unsafe/127.0.0.1:{port}/a.jpg", user_agent="Browser/1.0").status == 200
    assert origin.seen[-1].headers["user-agent"] == "Browser/1.0"


# --- HTTPS ----------------------------------------------------------------------------------------


def test_https_checks_the_certificate_of_the_name_on_the_checked_address(
    make_app: Any, tmp_path: Path, network: NetworkGuard
) -> None:
    with tls_files(tmp_path, "images.test") as (ca, context), Origin(context) as secure:
        secure.routes["/a.jpg"] = image(JPEG)
        secure.routes["/down"] = redirect("http://images.test/a.jpg")
        app, _ = make_app(
            {"images.test": ["127.0.0.1"], "wrong.test": ["127.0.0.1"]}, HTTP_LOADER_CA_CERTS=ca
        )
        response = get(app, f"/unsafe/https://images.test:{secure.port}/a.jpg")
        assert response.status == 200, response.body
        wrong = get(app, f"/unsafe/https://wrong.test:{secure.port}/a.jpg")
        assert (wrong.status, error(wrong)) == (502, "UpstreamError")
        downgrade = get(app, f"/unsafe/https://images.test:{secure.port}/down")
        assert (downgrade.status, error(downgrade)) == (502, "UpstreamError")
        # The system's CAs only (and results of its own: those above were fetched with trust).
        untrusted, _ = make_app({"images.test": ["127.0.0.1"]}, store="untrusted")
        plain = get(untrusted, f"/unsafe/https://images.test:{secure.port}/a.jpg")
        assert (plain.status, error(plain)) == (502, "UpstreamError")
    assert set(network.connects) == {"127.0.0.1"}


# --- caching originals ----------------------------------------------------------------------------


def test_conditional_get_with_etag(make_app: Any, origin: Origin) -> None:
    versions: dict[str, Any] = {"etag": '"v1"', "body": JPEG}

    def route(handler: Any) -> None:
        if handler.headers.get("If-None-Match") == versions["etag"]:
            send(handler, 304, b"", "", {"ETag": versions["etag"], "Cache-Control": "no-cache"})
        else:
            send(handler, 200, versions["body"], "image/jpeg",
                 {"ETag": versions["etag"], "Cache-Control": "no-cache"})  # fmt: skip

    origin.routes["/a.jpg"] = route
    app, _ = make_app()
    path = f"/unsafe/100x0/127.0.0.1:{origin.port}/a.jpg"
    first = get(app, path)
    assert first.status == 200 and decode(first.body).size == (100, 62)
    assert "if-none-match" not in origin.seen[-1].headers
    second = get(app, path)  # no-cache: asked again, 304: the stored result
    assert second.status == 200 and second.body == first.body
    assert origin.seen[-1].headers["if-none-match"] == '"v1"'
    assert len(origin.seen) == 2
    versions.update(etag='"v2"', body=JPEG_2)
    third = get(app, path)  # changed: fetched whole, the result made again
    assert third.status == 200 and decode(third.body).size == (100, 160)
    assert first.headers["Cache-Control"] == "no-cache"  # downstream caches revalidate too


def test_conditional_get_with_last_modified_after_max_age(make_app: Any, origin: Origin) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"

    def route(handler: Any) -> None:
        if handler.headers.get("If-Modified-Since") == stamp:
            send(handler, 304, b"", "", {"Cache-Control": "max-age=1"})
        else:
            send(handler, 200, JPEG, "image/jpeg",
                 {"Last-Modified": stamp, "Cache-Control": "max-age=1"})  # fmt: skip

    origin.routes["/a.jpg"] = route
    app, _ = make_app()
    path = f"/unsafe/100x0/127.0.0.1:{origin.port}/a.jpg"
    first = get(app, path)
    assert first.status == 200
    assert first.headers["Cache-Control"] in ("public, max-age=1", "no-cache")
    assert get(app, path).status == 200
    assert len(origin.seen) == 1  # fresh: not asked again
    time.sleep(1.1)
    assert get(app, path).status == 200
    assert len(origin.seen) == 2
    assert origin.seen[-1].headers["if-modified-since"] == stamp
    # A new App (a restarted server) finds the original in the cache beside the results.
    fresh, _ = make_app()
    assert get(fresh, f"/unsafe/50x0/127.0.0.1:{origin.port}/a.jpg").status == 200
    assert len(origin.seen) == 2


def test_no_store_originals_are_fetched_every_time(make_app: Any, origin: Origin) -> None:
    origin.routes["/a.jpg"] = image(JPEG, headers={"Cache-Control": "private, max-age=600"})
    app, _ = make_app()
    path = f"/unsafe/100x0/127.0.0.1:{origin.port}/a.jpg"
    for _ in range(3):
        response = get(app, path)
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-cache"
    assert len(origin.seen) == 3


def test_a_failing_origin_serves_the_stale_original(make_app: Any, origin: Origin) -> None:
    origin.routes["/a.jpg"] = image(JPEG, headers={"ETag": '"1"', "Cache-Control": "no-cache"})
    app, _ = make_app()
    path = f"/unsafe/100x0/127.0.0.1:{origin.port}/a.jpg"
    assert get(app, path).status == 200
    origin.routes["/a.jpg"] = status(503)
    assert get(app, path).status == 200  # stale-if-error
    assert get(app, path).status == 200
    assert len(origin.seen) == 2  # asked once, then left alone for a while


def test_freshness_from_headers() -> None:
    now = 1_000_000.0
    assert freshness({}, now, 3600) == (True, now + 3600, None)
    assert freshness({"cache-control": "max-age=60"}, now, 3600) == (True, now + 60, now + 60)
    assert freshness({"cache-control": "max-age=60, s-maxage=10"}, now, 0)[1] == now + 10
    assert freshness({"cache-control": "max-age=60", "age": "50"}, now, 0)[1] == now + 10
    assert freshness({"cache-control": "no-cache, max-age=60"}, now, 0)[1:] == (now, now)
    assert not freshness({"cache-control": "no-store"}, now, 0).store
    assert not freshness({"cache-control": "private"}, now, 0).store
    dated = {"date": "Wed, 21 Oct 2015 07:28:00 GMT", "expires": "Wed, 21 Oct 2015 07:38:00 GMT"}
    assert freshness(dated, now, 0)[1] == now + 600
    assert freshness({"expires": "0"}, now, 3600)[1] == now  # an invalid Expires: expired


def test_the_folder_of_originals_stays_under_its_size(tmp_path: Path) -> None:
    originals = FolderOriginals(tmp_path, max_bytes=4000)
    entries = []
    for number in range(10):
        data = bytes([number]) * 900
        entry = CacheEntry(f"http://x/{number}", 0.0, 0.0, None, None, None, 900, digest(data))
        originals.put(entry, data)
        entries.append(entry)
        time.sleep(0.01)
    kept = [entry for entry in entries if originals.data(entry) is not None]
    assert sum(entry.length for entry in kept) <= 4000
    assert entries[-1] in kept and entries[0] not in kept
    big = CacheEntry("http://x/big", 0.0, 0.0, None, None, None, 2000, digest(b"b" * 2000))
    originals.put(big, b"b" * 2000)  # over a quarter of the cache: not kept
    assert originals.data(big) is None


def test_the_guard_itself_refuses_to_leave_the_machine(network: NetworkGuard) -> None:
    import socket

    with socket.socket() as sock, pytest.raises(OSError, match="NetworkGuard"):
        sock.connect(("192.0.2.1", 80))
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 80)
    assert network.refused == ["192.0.2.1", "getaddrinfo(example.com)"]
    network.refused.clear()
