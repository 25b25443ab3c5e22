"""Image URLs built and signed from Python: a web frontend's templates, a batch job, a test.

    import time
    from thumbor_urls.client import Params, UrlBuilder

    images = UrlBuilder(key="MY_KEY", base="https://images.example.com")
    images.url(Params(image="photos/cat.jpg", width=300, height=200, smart=True))
    # https://images.example.com/<HMAC-SHA1>/300x200/smart/photos/cat.jpg
    images.url("fit-in/300x300/filters:quality(80)/my cat.jpg", expires=time.time() + 3600)
    # https://images.example.com/<HMAC-SHA1>/fit-in/300x300/filters:quality(80):expire(...)/my%20cat.jpg

A path is read by the grammar and written back canonical (`grammar.generate`), so what is
signed is what the server parses; with the defaults (`signer="sha1"`) `path()` is byte for
byte what libthumbor's `CryptoURL.generate` makes. `signer="sha256"` or `"sha512"` (and
`truncate`) sign as imagor's `IMAGOR_SIGNER_TYPE` (and `IMAGOR_SIGNER_TRUNCATE`) do; the server
accepts them unless its `SIGNER_TYPES` says otherwise. Light on purpose: the grammar and
hashlib, no Pillow, no settings, no I/O.
"""

from __future__ import annotations

import math
from typing import NamedTuple
from urllib.parse import quote

from .grammar import Filter, Params, generate, parse
from .signing import SIGNERS, sign_path

__all__ = ["Filter", "Params", "UrlBuilder", "with_expiry"]

# What a path may hold unencoded (RFC 3986's pchar): the server decodes the path once and
# verifies the decoded text, so encoding anything more changes nothing but the URL's looks.
_PATH_SAFE = "/:@!$&'()*+,;=~"


def with_expiry(params: Params, expires: float) -> Params:
    """`params` with imagor's `expire()` filter for `expires` (UNIX seconds): the server answers
    403 `UrlExpired` after that moment, and no cache keeps the image past it. An earlier
    expire() stays."""
    unix_ms = math.floor(expires * 1000)
    return params._replace(filters=(*params.filters, Filter("expire", (str(unix_ms),))))


class UrlBuilder(NamedTuple):
    """How a site's URLs are made: `key` None makes `/unsafe/` URLs; `base` is put in front of
    `url()`'s paths (`https://images.example.com`, or "" for paths only)."""

    key: str | None = None
    base: str = ""
    signer: str = "sha1"
    truncate: int = 0

    def path(self, request: Params | str, expires: float | None = None) -> str:
        """The signed (or `/unsafe/`) path of `request`, Params or a Thumbor path (read by the
        grammar: InvalidUrl when it is none), unencoded as libthumbor writes it; with
        `expires` (UNIX seconds) it is refused after that moment."""
        if self.signer not in SIGNERS:
            raise ValueError(f"signer must be one of {', '.join(SIGNERS)}, not {self.signer!r}")
        params = request if isinstance(request, Params) else parse(request)
        if expires is not None:
            params = with_expiry(params, expires)
        path = generate(params)
        if self.key is None:
            return f"/unsafe/{path}"
        return sign_path(self.key, path, self.signer, self.truncate)

    def url(self, request: Params | str, expires: float | None = None) -> str:
        """`base` and the path, percent-encoded for a page or an HTTP client."""
        return self.base.rstrip("/") + quote(self.path(request, expires), safe=_PATH_SAFE)
