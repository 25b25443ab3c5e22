"""API Gateway's events (REST API v1, HTTP API v2) as our Request, our Response as its proxy
answer, and the direct invocations told apart."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..messages import Request, Response


def is_direct(event: Mapping[str, Any]) -> bool:
    """A direct invocation (`{"imageKey": ..., "feature": ...}`), not an HTTP request."""
    return "imageKey" in event or "feature" in event


def to_request(event: Mapping[str, Any]) -> tuple[Request, str]:
    """API Gateway's event as our Request, and which kind of event it was."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    if event.get("version") == "2.0" or "rawPath" in event:
        http = (event.get("requestContext") or {}).get("http") or {}
        method = str(http.get("method") or "GET").upper()
        raw_path = str(event.get("rawPath") or "/")
        query = dict(parse_qsl(str(event.get("rawQueryString") or ""), keep_blank_values=True))
        kind = "apigw-v2"
    else:
        method = str(event.get("httpMethod") or "GET").upper()
        raw_path = str(event.get("path") or "/")
        query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
        kind = "apigw-v1"
    return Request(method, unquote(raw_path), headers, query, raw_path), kind


def to_proxy(response: Response) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": dict(response.headers),
        "body": base64.b64encode(response.body).decode("ascii"),
        "isBase64Encoded": True,
    }
