"""The playground on the local server: the page's static files (the repository's `playground/`
folder, the same files the stack deploys), and what only a local server can tell the page:
the filter registry as JSON, a listing of the originals, and, when a developer allows it,
signatures.

    /                         302 to /playground/
    /playground/              the page; /playground/<file> its other files
    /playground/config.json   what this server offers the page (listing, signing, SIH_COMPAT)
    /playground/filters.json  the filter registry (filters/catalog.py)
    /playground/images.json   ?offset=&limit=: a page of the originals (listing.py)
    /playground/sign          ?path=: the signed URL of a Thumbor path (PLAYGROUND_SIGNING);
                              with &style=sih, of an SIH request's path and its query
                              (&query=, v7's query parameters, URL-encoded)

On AWS the page is static: it finds no images.json (and asks for a typed key), and the
deployed config.json and filters.json are written beside it when it is uploaded.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import parse_qsl

from . import grammar, listing, signing
from .config import Settings
from .errors import ImageServiceError, InvalidUrl, NoSuchKey, SigningNotOffered
from .filters.catalog import describe
from .messages import Request, Response, error_response, json_response

# The page's files live in the repository, beside the package: a `pip install .` or the
# container has none, and says so at /playground/.
PAGE_FOLDER = Path(__file__).resolve().parent.parent / "playground"
PREFIX = "/playground/"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

# The page loads nothing from elsewhere: its scripts, styles and images come from this server,
# results as blob: URLs. The same policy suits the deployed page (CloudFront's headers policy).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)
_NO_CACHE = {"Cache-Control": "no-cache"}


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name, with or without a port or brackets) is loopback."""
    name = host.strip()
    if name.startswith("["):  # [::1]:8888
        name = name[1 : name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:  # 127.0.0.1:8888, localhost:8888
        name = name.partition(":")[0]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Playground:
    """The playground's routes over the originals in `settings.FILE_LOADER_ROOT_PATH`, for a
    server listening on `host`."""

    def __init__(self, settings: Settings, host: str, folder: Path = PAGE_FOLDER) -> None:
        self.settings = settings
        self.folder = folder
        self.root = settings.FILE_LOADER_ROOT_PATH
        self.on_loopback = is_loopback(host)

    def handle(self, request: Request) -> Response | None:
        """The answer to a playground request, None for any other path (an image URL)."""
        path = request.path
        if path in ("", "/"):
            return Response(302, {"Location": PREFIX, **_NO_CACHE})
        if path == PREFIX.rstrip("/"):
            return Response(301, {"Location": PREFIX, **_NO_CACHE})
        if not path.startswith(PREFIX):
            return None
        if request.method not in ("GET", "HEAD"):
            return None  # the App answers 405 as for any other path
        name = path[len(PREFIX) :] or "index.html"
        try:
            response = self._route(name, request)
        except ImageServiceError as error:
            response = error_response(error, 0)
        return response.without_body() if request.method == "HEAD" else response

    def signing_offered(self) -> tuple[bool, str]:
        """Whether this server signs for the page, and if not, why not (shown on the page)."""
        if not self.settings.SECURITY_KEY:
            return False, "signing is off on this server (no SECURITY_KEY): unsafe URLs only"
        if not self.settings.PLAYGROUND_SIGNING:
            return False, "this server does not sign for the page (PLAYGROUND_SIGNING is off)"
        if not self.on_loopback:
            return False, "this server signs for the page only while it listens on loopback"
        return True, "this server signs the page's URLs (PLAYGROUND_SIGNING, on loopback)"

    def _route(self, name: str, request: Request) -> Response:
        if name == "config.json":
            return json_response(200, self._config(), _NO_CACHE)
        if name == "filters.json":
            return json_response(200, describe(), _NO_CACHE)
        if name == "images.json":
            offset = _count(request.query.get("offset", "0"), "offset")
            limit = _count(request.query.get("limit", str(listing.MAX_PAGE)), "limit")
            page = listing.list_images(self.root, offset, limit)
            return json_response(200, page.as_dict(), _NO_CACHE)
        if name == "sign":
            return json_response(200, self._sign(request), _NO_CACHE)
        return self._file(name)

    def _config(self) -> dict[str, object]:
        offered, why = self.signing_offered()
        return {
            "mode": "local",
            "listing": True,
            "signing": {"offered": offered, "why": why},
            "unsafe": self.settings.ALLOW_UNSAFE_URL,
            "maxFilters": self.settings.MAX_FILTERS,
            # Without SIH_COMPAT the server reads SIH's requests by Thumbor's rules: the page
            # says so instead of sending requests that cannot work.
            "sih": self.settings.SIH_COMPAT,
        }

    def _sign(self, request: Request) -> dict[str, str]:
        offered, why = self.signing_offered()
        if not offered:
            raise SigningNotOffered(why)
        # Asked for by a name that is not loopback, this is another site's page that had its
        # name point at this machine (DNS rebinding): it gets no signature.
        if not is_loopback(request.header("host")):
            raise SigningNotOffered("signatures are given to pages at a loopback address only")
        path = request.query.get("path")
        if not path:
            raise InvalidUrl("sign needs ?path=<the Thumbor path after /unsafe/>")
        if request.query.get("style") == "sih":
            return self._sign_sih(path, request.query.get("query", ""))
        # Through the grammar, as `thumbor-urls sign` does: the canonical path, signed.
        params = grammar.parse(path, max_filters=self.settings.MAX_FILTERS)
        return {"url": grammar.generate_url(params, self.settings.SECURITY_KEY)}

    def _sign_sih(self, path: str, query: str) -> dict[str, str]:
        """SIH's `?signature=` for `path` (decoded, as the server sees it) and `query` (as it
        will be sent): exactly what SIH_COMPAT verifies, v7's `path?k=v&...` of the query's
        parameters read as this server reads a request's query, the path alone without any.
        `url` is the path as given (the page percent-encodes it), the query and the signature."""
        parameters = dict(parse_qsl(query))  # as server.py's request_from_environ reads it
        text = signing.sih_string_to_sign(path, parameters)
        signature = signing.sih_signature(self.settings.SECURITY_KEY, text)
        search = f"{query}&" if query else ""
        return {"url": f"{path}?{search}signature={signature}", "signature": signature}

    def _file(self, name: str) -> Response:
        # Only the folder's own files, looked up by name among them: no path can lead out.
        suffix = Path(name).suffix
        files = {p.name: p for p in _files(self.folder)}
        if name not in files or suffix not in CONTENT_TYPES:
            if not files:
                raise NoSuchKey(
                    f"the playground's files are not installed here (no {self.folder}); "
                    "run the server from the repository"
                )
            raise NoSuchKey(f"no playground file {name!r}")
        headers = {
            "Content-Type": CONTENT_TYPES[suffix],
            "X-Content-Type-Options": "nosniff",
            **_NO_CACHE,
        }
        if suffix == ".html":
            headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return Response(200, headers, files[name].read_bytes())


def _files(folder: Path) -> list[Path]:
    try:
        return [
            p
            for p in folder.iterdir()
            if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
        ]
    except OSError:
        return []


def _count(text: str, name: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise InvalidUrl(f"{name} must be a whole number, got {text[:20]!r}")
    return int(text)
