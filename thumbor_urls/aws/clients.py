"""boto3 clients, made once per container (a client is expensive to build: ~50 ms each).

Endpoints come from the standard `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` variables, which
boto3 reads itself; nothing here sets `endpoint_url`, so any S3-compatible endpoint works.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]


@functools.cache
def client(service: str, timeout: float = 5.0) -> Any:
    config = Config(
        connect_timeout=min(timeout, 3.0),
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": 2},
        s3={"addressing_style": "path"} if service == "s3" else None,
    )
    return boto3.session.Session().client(service, config=config)
