"""Secrets read from Secrets Manager once per container: the URL signing key and the value
CloudFront sends to prove a request came through it."""

from __future__ import annotations

import json

from ..errors import ServiceUnavailable
from .clients import client

_VALUES: dict[tuple[str, str], str] = {}


def read_secret(secret_id: str, field: str, timeout: float, what: str) -> str:
    """The string of secret `secret_id` (its JSON field `field` when set), `what` naming it in
    errors. Failures are not cached: the next request tries again."""
    where = (secret_id, field)
    if where in _VALUES:
        return _VALUES[where]
    try:
        value = client("secretsmanager", timeout).get_secret_value(SecretId=secret_id)[
            "SecretString"
        ]
    except Exception as error:
        raise ServiceUnavailable(
            f"the {what} could not be read from Secrets Manager ({type(error).__name__})"
        ) from None
    if field:
        try:
            value = json.loads(value)[field]
        except (ValueError, KeyError, TypeError):
            raise ServiceUnavailable(f"the {what}'s secret has no JSON field {field!r}") from None
    if not isinstance(value, str) or not value:
        raise ServiceUnavailable(f"the {what}'s secret is empty")
    _VALUES[where] = value
    return value
