"""The URL signing key, read from Secrets Manager once per container."""

from __future__ import annotations

import json

from ..config import Settings
from ..errors import ServiceUnavailable
from .clients import client

_KEYS: dict[tuple[str, str], str] = {}


def signing_key(settings: Settings) -> str:
    """The secret `SECRETS_MANAGER` (its field `SECRET_KEY` when set). Failures are not cached:
    the next request tries again."""
    where = (settings.SECRETS_MANAGER, settings.SECRET_KEY)
    if where in _KEYS:
        return _KEYS[where]
    secret_id, field = where
    if not secret_id:
        raise ServiceUnavailable("ENABLE_SIGNATURE is on but SECRETS_MANAGER names no secret")
    try:
        value = client("secretsmanager", settings.S3_TIMEOUT_SECONDS).get_secret_value(
            SecretId=secret_id
        )["SecretString"]
    except Exception as error:
        raise ServiceUnavailable(
            f"the signing key could not be read from Secrets Manager ({type(error).__name__})"
        ) from None
    if field:
        try:
            value = json.loads(value)[field]
        except (ValueError, KeyError, TypeError):
            raise ServiceUnavailable(f"the secret has no JSON field {field!r}") from None
    if not isinstance(value, str) or not value:
        raise ServiceUnavailable("the signing secret is empty")
    _KEYS[where] = value
    return value
