"""The image part of a Thumbor URL as the URL an origin is asked for, and ALLOWED_SOURCES.

Thumbor's forms are read the way Thumbor reads them: `http://` and `https://`, a host without a
scheme (`http://` is put in front), a percent-encoded URL (the adapter decoded it once), a query
string percent-encoded into the path (`a.jpg%3Fw%3D300` asks the origin for `a.jpg?w=300`).
`http:/host` (a merged double slash) is refused, as Thumbor refuses it (400). Beyond Thumbor, a
host that starts with `http` (`httpbin.org/a.jpg`) is a host (Thumbor takes it for a scheme and
answers 400). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from .errors import SourceNotAllowed

DEFAULT_PORTS = {"http": 80, "https": 443}

_HTTP_SCHEME = re.compile(r"(https?)://(?!/)", re.IGNORECASE)
# `http:/host`, `http:///host`: not a URL of a host (Thumbor answers 400 too); most often a
# proxy in front merged the URL's `//` (nginx does unless `merge_slashes off`).
_MANGLED_SCHEME = re.compile(r"https?:(?!//[^/])", re.IGNORECASE)
# Any other scheme written with its `//`: `file://`, `ftp://`, `gopher://`.
_OTHER_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Thumbor's test for a string in ALLOWED_SOURCES that is a regular expression.
_REGEX_MARKERS = re.compile(r"(\\|[\^\$\*\+\?\{\}\[\]\(\)\|])")


class SourceUrl(NamedTuple):
    """An image URL ready to be fetched."""

    url: str  # normalised: what is fetched, what the cache of originals is keyed on
    scheme: str  # http or https
    host: str  # lower case, ASCII (IDNA), without brackets or a trailing dot
    port: int
    target: str  # the path and query string, percent-encoded, as the request line sends them

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def has_scheme(key: str) -> bool:
    """Whether `key` says it is a URL (`http:`, `https:`, or any `scheme://`)."""
    text = key.lstrip("/")
    return bool(
        _MANGLED_SCHEME.match(text) or _HTTP_SCHEME.match(text) or _OTHER_SCHEME.match(text)
    )


def source_url(key: str, default_scheme: str = "http") -> SourceUrl:
    """The URL the image key `key` (percent-decoded once) names; SourceNotAllowed for what is
    not an http or https URL of a host."""
    text = key.lstrip("/")
    match = _HTTP_SCHEME.match(text)
    if match:
        scheme, rest = match.group(1).lower(), text[match.end() :]
    elif _MANGLED_SCHEME.match(text):
        raise SourceNotAllowed(
            "the image URL's scheme is not followed by exactly two slashes (a proxy in front "
            "may have merged them: nginx's merge_slashes)"
        )
    elif _OTHER_SCHEME.match(text):
        raise SourceNotAllowed("only http and https image URLs are fetched")
    else:
        scheme, rest = default_scheme, text
    return parse_url(f"{scheme}://{rest}")


def parse_url(url: str) -> SourceUrl:
    """An absolute http(s) URL (an image key with its scheme, or a redirect's target)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SourceNotAllowed("the image URL's host or port is not valid") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise SourceNotAllowed("only http and https image URLs are fetched")
    if "@" in parts.netloc:
        raise SourceNotAllowed("image URLs with a user name or password are not fetched")
    host = _host(parts.hostname or "")
    if port == 0:
        raise SourceNotAllowed("the image URL's port is not valid")
    port = port or DEFAULT_PORTS[scheme]
    target = _quote(parts.path or "/", "/")
    if parts.query:
        target += "?" + _quote(parts.query, "/?")
    netloc = f"[{host}]" if ":" in host else host
    if port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return SourceUrl(f"{scheme}://{netloc}{target}", scheme, host, port, target)


def _host(host: str) -> str:
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise SourceNotAllowed("the image URL names no host")
    if ":" in host:  # an IPv6 literal: urlsplit took it from its brackets
        import ipaddress  # noqa: PLC0415 - only for IPv6 literals

        try:
            return str(ipaddress.IPv6Address(host.split("%", 1)[0]))
        except ValueError:
            raise SourceNotAllowed("the image URL's host is not valid") from None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise SourceNotAllowed("the image URL's host is not valid") from None
    host = host.lower()
    if len(host) > 253 or not _HOST_NAME.fullmatch(host):
        raise SourceNotAllowed("the image URL's host is not valid")
    return host


def _quote(text: str, safe: str) -> str:
    """Percent-encode what a URL cannot carry as it is; escapes already there stay."""
    text = _LONE_PERCENT.sub("%25", text)
    return quote(text, safe=safe + "%:@!$&'()*+,;=-._~")


class AllowedSources:
    """ALLOWED_SOURCES as Thumbor reads it: empty allows every host; a plain string is a host
    (dots are dots); a string with regular expression characters must match the whole host;
    `re:EXPR`, our spelling of Thumbor's `re.compile(EXPR)`, must match the URL from its start."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self.hosts: set[str] = set()
        self.host_expressions: list[re.Pattern[str]] = []
        self.url_expressions: list[re.Pattern[str]] = []
        for pattern in self.patterns:
            if pattern.startswith("re:"):
                self.url_expressions.append(re.compile(pattern[3:]))
            elif _REGEX_MARKERS.search(pattern):
                self.host_expressions.append(re.compile(pattern))
            else:
                self.hosts.add(pattern.lower().rstrip("."))

    def __repr__(self) -> str:
        return f"AllowedSources({list(self.patterns)!r})"

    def allows(self, source: SourceUrl) -> bool:
        if not self.patterns:
            return True
        return (
            source.host in self.hosts
            or any(expression.fullmatch(source.host) for expression in self.host_expressions)
            or any(expression.match(source.url) for expression in self.url_expressions)
        )

    def check(self, source: SourceUrl, what: str = "the image's host") -> None:
        if not self.allows(source):
            raise SourceNotAllowed(f"{what} is not one this server fetches from (ALLOWED_SOURCES)")
