"""`python -m thumbor_urls serve | render | sign`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

from . import allocator, grammar
from .app import App
from .config import SettingError, Settings
from .errors import InvalidUrl
from .messages import Request


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "root", None):
        settings = settings.replace(FILE_LOADER_ROOT_PATH=Path(args.root))
    if getattr(args, "no_result_storage", False):
        settings = settings.replace(RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None)
    return settings


def _serve(args: argparse.Namespace) -> int:
    from .server import serve  # noqa: PLC0415

    settings = _settings(args)
    if not settings.FILE_LOADER_ROOT_PATH.is_dir():
        print(f"no such folder: {settings.FILE_LOADER_ROOT_PATH}", file=sys.stderr)
        return 2
    allocator.keep_freed_memory()
    # waitress handles Ctrl-C itself and returns; a second one during shutdown lands here.
    with contextlib.suppress(KeyboardInterrupt):
        serve(App(settings, concurrency=args.threads), args.host, args.port, args.threads)
    print("stopped", file=sys.stderr)
    return 0


def _render(args: argparse.Namespace) -> int:
    allocator.keep_freed_memory()
    app = App(_settings(args))
    # A path typed or pasted as in a URL: decode it once, as an HTTP server would.
    path = unquote(args.path if args.path.startswith("/") else f"/{args.path}")
    response = app.handle(Request("GET", path, {"accept": args.accept}))
    if response.status != 200:
        print(response.body.decode(errors="replace"), file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.buffer.write(response.body)
    else:
        Path(args.output).write_bytes(response.body)
        print(f"{args.output}: {response.headers['Content-Type']}, {len(response.body)} bytes")
    return 0


def _sign(args: argparse.Namespace) -> int:
    # Read and written back by the grammar: what is printed is the canonical path the server
    # reads the same way, signed as libthumbor signs (libthumbor's own paths come out unchanged).
    try:
        params = grammar.parse(args.path)
    except InvalidUrl as error:
        print(f"not a Thumbor path: {error.message}", file=sys.stderr)
        return 1
    print(grammar.generate_url(params, args.key))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m thumbor_urls", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve a folder of images over HTTP")
    serve.add_argument("--root", help="folder of originals (FILE_LOADER_ROOT_PATH)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8888)
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument("--no-result-storage", action="store_true", help="do not cache results")
    serve.set_defaults(run=_serve)

    render = commands.add_parser("render", help="process one Thumbor path to a file")
    render.add_argument("path", help="for example /unsafe/300x200/smart/photo.jpg")
    render.add_argument("--root", help="folder of originals (FILE_LOADER_ROOT_PATH)")
    render.add_argument("-o", "--output", required=True, help="output file, or - for stdout")
    render.add_argument("--accept", default="", help="Accept header to negotiate the format with")
    render.add_argument("--no-result-storage", action="store_true", help="do not cache results")
    render.set_defaults(run=_render)

    sign = commands.add_parser("sign", help="sign a path the way libthumbor does")
    sign.add_argument("--key", required=True, help="the SECURITY_KEY")
    sign.add_argument("path", help="for example 300x200/photo.jpg")
    sign.set_defaults(run=_sign)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return int(args.run(args))
    except SettingError as error:
        print(f"setting error: {error}", file=sys.stderr)
        return 2
