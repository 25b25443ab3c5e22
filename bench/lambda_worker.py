"""Our Lambda handler as a benchmark worker (engine `handler`), driven by bench/sih.py against
AWS's handler: the protocol is bench/worker.py's.

    python -m bench.lambda_worker JOBS.json

The driver sets the environment as a deployed stack has it (SOURCE_BUCKETS on moto's S3,
AWS_LAMBDA_FUNCTION_NAME so that importing handler.py is Lambda's init, no result bucket so that
every request renders). Each job is one API Gateway v2 event (the HTTP API that serverless.yml
deploys), timed from the event to the proxy answer: the S3 read, the render and the base64 body,
what AWS's handler does for the same URL.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path
from typing import Any

import PIL

import handler
from bench.worker import _rss_kb


class Context:
    """What Lambda passes: the request id and the time left (API Gateway's 29 s)."""

    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def event(url: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url,
        "rawQueryString": "",
        "headers": {"accept": "image/jpeg"},
        "requestContext": {"http": {"method": "GET", "path": url}},
        "isBase64Encoded": False,
    }


def main(argv: list[str]) -> int:
    (jobs_path,) = argv
    jobs: dict[str, dict[str, Any]] = {
        job["id"]: job for job in json.loads(Path(jobs_path).read_text())
    }
    context = Context()
    versions = {"Pillow": PIL.__version__}
    print(json.dumps({"ready": True, "rss_kb": _rss_kb(), "versions": versions}), flush=True)
    for line in sys.stdin:
        message = json.loads(line)
        if message["op"] == "quit":
            break
        if message["op"] == "rss":
            print(json.dumps({"rss_kb": _rss_kb()}), flush=True)
            continue
        job = jobs[message["id"]]
        try:
            started = time.perf_counter()
            answer = handler.handler(event(job["url"]), context)
            elapsed = (time.perf_counter() - started) * 1000
        except Exception as error:  # reported per job; one failing job must not stop the rest
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
            continue
        if answer["statusCode"] != 200:
            text = f"status {answer['statusCode']}: {str(answer['body'])[:200]}"
            print(json.dumps({"error": text}), flush=True)
            continue
        raw = answer["body"]
        body = base64.b64decode(raw) if answer["isBase64Encoded"] else raw.encode()
        if message.get("out"):
            Path(message["out"]).write_bytes(body)
        print(json.dumps({"ms": elapsed, "bytes": len(body)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
