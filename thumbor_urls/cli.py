"""`python -m thumbor_urls serve | render | sign`."""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode

from . import allocator, grammar, signing
from .app import App
from .client import UrlBuilder
from .config import SettingError, Settings, truncation
from .errors import InvalidUrl
from .messages import Request
from .signing import SIGNERS


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
    # The key from the environment by default: a key on the command line stays in the shell's
    # history and in every `ps` listing while it runs.
    key = args.key if args.key is not None else Settings.from_env().signing_key
    if not key:
        args.parser.error("no key: set SECURITY_KEY (or SECURITY_KEYS), or pass --key")
    if args.sih:
        if args.signer != "sha1" or args.truncate:
            args.parser.error("--sih signs as SIH does (hex HMAC-SHA256): no --truncate")
        try:
            print(sih_url(key, args.path, args.expires))
        except ValueError as error:  # JSON that does not parse
            print(f"not a SIH request: {error}", file=sys.stderr)
            return 1
        return 0
    # Read and written back by the grammar: what is printed is the canonical path the server
    # reads the same way, signed as libthumbor signs (libthumbor's own paths come out unchanged).
    try:
        params = grammar.parse(args.path)
    except InvalidUrl as error:
        print(f"not a Thumbor path: {error.message}", file=sys.stderr)
        return 1
    builder = UrlBuilder(key, signer=args.signer, truncate=args.truncate)
    try:
        print(builder.path(params, args.expires))
    except InvalidUrl as error:  # an expire() that the image's key would be misread with
        print(f"cannot sign this path: {error.message}", file=sys.stderr)
        return 1
    return 0


def sih_url(key: str, text: str, expires: float | None = None) -> str:
    """An AWS Serverless Image Handler request with its `?signature=` (signing.py): `text` is
    a JSON document (written as SIH's base64 path), a base64 path, or a path with or without a
    query; `expires` (UNIX seconds) adds SIH's own `expires=` (v7), which the signature covers."""
    if text.lstrip().startswith("{"):
        document = json.loads(text)
        # JSON.stringify's spelling, which SIH's examples encode.
        compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        path, query = "/" + base64.b64encode(compact.encode()).decode(), ""
    else:
        path, _, query = text.partition("?")
        path = "/" + path.lstrip("/")
    pairs = dict(parse_qsl(query, keep_blank_values=True))
    pairs.pop("signature", None)
    if expires is not None:
        pairs["expires"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(expires))
    pairs["signature"] = signing.sih_signature(key, signing.sih_string_to_sign(path, pairs))
    return f"{path}?{urlencode(pairs, quote_via=quote)}"


def _truncation(text: str) -> int:
    """What SIGNER_TRUNCATE accepts: a server with it would refuse anything else."""
    try:
        return truncation("--truncate", text)
    except SettingError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _moment(text: str) -> float:
    """UNIX seconds, or `+SECONDS` from now."""
    try:
        if text.startswith("+"):
            return time.time() + float(text[1:])
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected UNIX seconds or +SECONDS from now, got {text!r}"
        ) from None


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

    sign = commands.add_parser(
        "sign",
        help="sign a path the way libthumbor (or imagor, or AWS SIH) does",
        description="Print the signed path. The key is SECURITY_KEY's (or the first of "
        "SECURITY_KEYS) from the environment, unless --key gives it.",
    )
    sign.add_argument("--key", help="the key (default: $SECURITY_KEY; keeps it out of history)")
    sign.add_argument(
        "--expires",
        type=_moment,
        metavar="UNIX_TIME",
        help="refuse the URL after this moment (UNIX seconds, or +SECONDS from now): imagor's "
        "expire() filter, or with --sih SIH's expires=",
    )
    kind = sign.add_mutually_exclusive_group()
    for name in SIGNERS[1:]:
        kind.add_argument(
            f"--{name}",
            dest="signer",
            action="store_const",
            const=name,
            help=f"HMAC-{name.upper()} (imagor's IMAGOR_SIGNER_TYPE={name}) instead of SHA-1",
        )
    kind.add_argument(
        "--sih",
        action="store_true",
        help="AWS Serverless Image Handler's ?signature= (PATH: a JSON document, a base64 "
        "path, or a path with its query)",
    )
    sign.add_argument(
        "--truncate",
        type=_truncation,
        default=0,
        metavar="N",
        help="cut the signature to N characters (imagor's IMAGOR_SIGNER_TRUNCATE)",
    )
    sign.add_argument("path", help="for example 300x200/photo.jpg")
    sign.set_defaults(signer="sha1", parser=sign)
    sign.set_defaults(run=_sign)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return int(args.run(args))
    except SettingError as error:
        print(f"setting error: {error}", file=sys.stderr)
        return 2
