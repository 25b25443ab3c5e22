"""Records AWS's image handler's answers to every request of cases.py (the oracle of
test_sih_peer.py). Nothing of SIH is in this repository: this script runs a copy prepared
outside it (see README.md), under node, against moto's S3 and Secrets Manager, with a fake
Rekognition whose answers are fixed (FACES, MODERATION_LABELS below, which the test gives
our service too).

usage: python tests/peers/sih/record.py --handler v6.3.3=/tmp/sih/v6 --handler v7.0.8=/tmp/sih/v7

Each handler folder holds `source/image-handler` (its node_modules installed) and
`source/solution-utils`, and AWS's `shim.js` beside `source/`. Writes recorded/<version>.json
and the images it answered in recorded/<version>/.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.peers.sih.cases import (  # noqa: E402
    BUCKET,
    CASES,
    CONFIGS,
    FACES,
    METADATA,
    MODERATION_LABELS,
    SECRET,
    Case,
)

IMAGES = HERE / "images"
OUT = HERE / "recorded"
LOGS = Path(tempfile.gettempdir())  # node's output, one file per version and deployment
# Headers that say when, not what.
VOLATILE = {"date", "connection", "keep-alive", "last-modified", "transfer-encoding"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def rekognition_answer(target: str, body: dict[str, Any]) -> dict[str, Any]:
    if target.endswith("DetectFaces"):
        return {"FaceDetails": FACES}
    if target.endswith("DetectModerationLabels"):
        least = float(body.get("MinConfidence", 50))
        labels = [m for m in MODERATION_LABELS if float(str(m["Confidence"])) >= least]
        return {"ModerationLabels": labels}
    raise ValueError(target)


def front(moto_port: int) -> http.server.ThreadingHTTPServer:
    """Rekognition answered here, everything else forwarded to moto (SDK v2 takes one
    endpoint for every service)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            target = self.headers.get("X-Amz-Target", "")
            if target.startswith("RekognitionService."):
                data = json.dumps(rekognition_answer(target, json.loads(body or b"{}"))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            conn = http.client.HTTPConnection("127.0.0.1", moto_port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            headers["Host"] = f"127.0.0.1:{moto_port}"
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def fill_store(endpoint: str) -> None:
    kw = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "x",
        "aws_secret_access_key": "x",
    }
    s3 = boto3.client("s3", **kw)
    s3.create_bucket(Bucket=BUCKET)
    types = {".jpg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp"}
    for path in sorted(IMAGES.iterdir()):
        extra: dict[str, Any] = {"ContentType": types.get(path.suffix, "image/jpeg")}
        extra.update(METADATA.get(path.name, {}))
        s3.put_object(Bucket=BUCKET, Key=path.name, Body=path.read_bytes(), **extra)
    s3.put_object(Bucket=BUCKET, Key="notes.txt", Body=b"not an image", ContentType="text/plain")
    sm = boto3.client("secretsmanager", **kw)
    sm.create_secret(Name="sih-secret", SecretString=json.dumps({"signing-key": SECRET}))


def ask(port: int, case: Case) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{case.url()}", headers=dict(case.headers)
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    "image/tiff": "tiff",
}


def record(version: str, folder: Path, endpoint: str, only: set[str] | None) -> None:
    shim = folder / "shim.js"
    if not shim.exists():
        shutil.copy("/work/shared/peers/sih/shim.js", shim)
    out = OUT / version
    out.mkdir(parents=True, exist_ok=True)
    answers_file = OUT / f"{version}.json"
    answers: dict[str, Any] = json.loads(answers_file.read_text()) if answers_file.exists() else {}
    for config, env_extra in CONFIGS.items():
        cases = [
            c
            for c in CASES
            if c.config == config and version.split(".", maxsplit=1)[0] in c.versions
        ]
        if only is not None:
            cases = [c for c in cases if c.name in only]
        if not cases:
            continue
        port = free_port()
        env = {
            **os.environ,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_ENDPOINT_URL": endpoint,
            "SOURCE_BUCKETS": BUCKET,
            "CORS_ENABLED": "No",
            "AUTO_WEBP": "No",
            "ENABLE_DEFAULT_FALLBACK_IMAGE": "No",
            **env_extra,
        }
        log = open(LOGS / f"{version}-{config}.log", "w")  # noqa: SIM115
        node = subprocess.Popen(
            ["node", "shim.js", str(port)], cwd=folder, env=env, stdout=log, stderr=log
        )
        try:
            wait_for(port)
            for case in cases:
                started = time.monotonic()
                status, headers, body = ask(port, case)
                kept = {k: v for k, v in headers.items() if k.lower() not in VOLATILE}
                entry: dict[str, Any] = {
                    "url": case.url(),
                    "status": status,
                    "headers": kept,
                    "ms": round((time.monotonic() - started) * 1000),
                }
                content_type = headers.get("Content-Type", "")
                if content_type.startswith("image/"):
                    name = f"{case.name}.{EXTENSIONS.get(content_type, 'bin')}"
                    (out / name).write_bytes(body)
                    entry["file"] = name
                    entry["bytes"] = len(body)
                else:
                    try:
                        entry["json"] = json.loads(body)
                    except ValueError:
                        entry["text"] = body.decode("utf-8", "replace")[:500]
                answers[case.name] = entry
                print(version, case.name, status, content_type, entry.get("json", ""), flush=True)
        finally:
            node.terminate()
            node.wait(10)
            log.close()
    answers_file.write_text(json.dumps(dict(sorted(answers.items())), indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--handler", action="append", required=True, help="VERSION=FOLDER")
    parser.add_argument("--only", nargs="*", help="case names (default: all)")
    args = parser.parse_args()
    moto_port = free_port()
    moto = subprocess.Popen(
        ["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(moto_port)
        fill_store(f"http://127.0.0.1:{moto_port}")
        proxy = front(moto_port)
        endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
        for spec in args.handler:
            version, _, folder = spec.partition("=")
            record(version, Path(folder), endpoint, set(args.only) if args.only else None)
    finally:
        moto.terminate()
        moto.wait(10)


if __name__ == "__main__":
    main()
