"""Our Lambda handler as a benchmark worker (engine `handler`), driven by bench/sih.py against
AWS's handler: the protocol is bench/worker.py's.

    python -m bench.lambda_worker JOBS.json

The driver sets the environment as a deployed stack has it (SOURCE_BUCKETS on moto's S3,
AWS_LAMBDA_FUNCTION_NAME so that importing handler.py is Lambda's init, no result bucket so that
every request renders), and without the optional libraries the zip leaves out (OpenCV, numpy).
Each job is one API Gateway v2 event (the HTTP API that serverless.yml deploys), timed from the
event to the proxy answer: the S3 read, the render and the base64 body, what AWS's handler does
for the same URL.
"""

from __future__ import annotations

import base64
import sys
from typing import Any

import PIL

# As in the Lambda zip, which has neither: blur(), convolution() and sharpen() take their
# Pillow-only paths (filters/optional.py finds a module set to None missing).
for _left_out in ("cv2", "numpy"):
    sys.modules[_left_out] = None  # type: ignore[assignment]

import handler  # noqa: E402 - after the zip's modules are set
from bench.worker import serve  # noqa: E402


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


def image(answer: dict[str, Any]) -> bytes:
    """The image of a proxy answer (decoded outside the timing, as a client would)."""
    if answer["statusCode"] != 200:
        raise ValueError(f"status {answer['statusCode']}: {str(answer['body'])[:200]}")
    raw = answer["body"]
    return base64.b64decode(raw) if answer["isBase64Encoded"] else raw.encode()


def main(argv: list[str]) -> int:
    (jobs_path,) = argv
    context = Context()
    return serve(
        jobs_path,
        {"Pillow": PIL.__version__},
        lambda job: handler.handler(event(job["url"]), context),
        body=image,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
