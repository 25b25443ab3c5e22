"""The local server: a WSGI application over App, served by waitress."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from .app import App
from .deadline import Deadline
from .messages import Request, Response
from .playground import PAGE_FOLDER, Playground

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


def status_line(status: int) -> str:
    """WSGI's status line: the code and its reason phrase (any code the App or SIH answers)."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def request_from_environ(environ: Environ) -> Request:
    # PEP 3333 hands the path over as latin-1 decoded bytes; the bytes are UTF-8.
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    raw_uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    raw_path = raw_uri.split("?", 1)[0] if isinstance(raw_uri, str) else None
    return Request(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=path,
        headers=headers,
        query=dict(parse_qsl(environ.get("QUERY_STRING", ""))),
        raw_path=raw_path,
    )


def make_wsgi_app(
    app: App, playground: Playground | None = None
) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """The WSGI application; `playground`: its page and routes too (`/`, `/playground/`)."""

    def wsgi(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        request = request_from_environ(environ)
        response = playground.handle(request) if playground is not None else None
        if response is None:
            response = _image(app, request, environ)
        headers = dict(response.headers)
        headers.setdefault("Content-Length", str(len(response.body)))
        status = status_line(response.status)
        start_response(status, list(headers.items()))
        return [response.body]

    return wsgi


def _image(app: App, request: Request, environ: Environ) -> Response:
    # waitress says when the client has closed its connection: the work stops then too.
    gone = environ.get("waitress.client_disconnected")
    deadline = Deadline(app.settings.REQUEST_DEADLINE_SECONDS, gone if callable(gone) else None)
    return app.handle(request, deadline)


def serve(app: App, host: str, port: int, threads: int = 4) -> None:
    """Serve until Ctrl-C or SIGTERM. Pillow releases the GIL while decoding, resizing and
    encoding, so a few threads keep both cores busy."""
    import waitress  # noqa: PLC0415 - the Lambda package does not ship the local server

    logging.getLogger("thumbor_urls").info(
        "serving on http://%s:%d/ with %d threads (Ctrl-C stops): %s",
        host,
        port,
        threads,
        app.describe(),
    )
    # Only where the page's files are (a checkout of the repository): an installed package or
    # the container serves images alone, with no listing of its originals.
    offered = app.settings.PLAYGROUND and PAGE_FOLDER.is_dir()
    playground = Playground(app.settings, host) if offered else None
    if playground is not None:
        logging.getLogger("thumbor_urls").info(
            "the playground: http://%s:%d/playground/ (%s)",
            host,
            port,
            playground.signing_offered()[1],
        )
    waitress.serve(
        make_wsgi_app(app, playground),
        host=host,
        port=port,
        threads=threads,
        ident="thumbor_urls",
        # Keep reading a connection while its request is processed, so that a client that
        # hangs up is noticed (waitress.client_disconnected) and its work abandoned.
        channel_request_lookahead=1,
    )
