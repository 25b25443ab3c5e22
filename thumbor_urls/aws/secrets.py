"""Secrets read from Secrets Manager once per container: the URL signing keys and the value
CloudFront sends to prove a request came through it."""

from __future__ import annotations

import contextlib
import json

from ..errors import ServiceUnavailable
from .clients import client

_VALUES: dict[tuple[str, str], object] = {}


def _read(secret_id: str, field: str, timeout: float, what: str) -> object:
    """The secret's string, or the value of its JSON field `field` when set (any JSON value).
    Failures are not cached: the next request tries again."""
    where = (secret_id, field)
    if where in _VALUES:
        return _VALUES[where]
    try:
        value: object = client("secretsmanager", timeout).get_secret_value(SecretId=secret_id)[
            "SecretString"
        ]
    except Exception as error:
        raise ServiceUnavailable(
            f"the {what} could not be read from Secrets Manager ({type(error).__name__})"
        ) from None
    if field:
        try:
            value = json.loads(str(value))[field]
        except (ValueError, KeyError, TypeError):
            raise ServiceUnavailable(f"the {what}'s secret has no JSON field {field!r}") from None
    _VALUES[where] = value
    return value


def read_ahead(wanted: list[tuple[str, str, str]], timeout: float) -> None:
    """Read these secrets (id, JSON field, what they are) now, for read_secret and read_keys to
    find; ServiceUnavailable as they would raise it."""
    for secret_id, field, what in wanted:
        _read(secret_id, field, timeout, what)


def forget() -> bool:
    """Read every secret again when next asked (SnapStart: none is kept in a snapshot);
    whether any had been read."""
    held = bool(_VALUES)
    _VALUES.clear()
    return held


def read_secret(secret_id: str, field: str, timeout: float, what: str) -> str:
    """The string of secret `secret_id` (its JSON field `field` when set), `what` naming it in
    errors."""
    value = _read(secret_id, field, timeout, what)
    if not isinstance(value, str) or not value:
        raise ServiceUnavailable(f"the {what}'s secret is empty")
    return value


def read_keys(secret_id: str, field: str, timeout: float, what: str) -> tuple[str, ...]:
    """The keys of secret `secret_id`: its string, or its JSON field `field`, holds one key or
    a JSON array of keys. The first signs, all verify (docs/signing.md: rotating keys)."""
    value = _read(secret_id, field, timeout, what)
    if not field and isinstance(value, str) and value.startswith("["):
        # The whole secret as an array (`put-secret-value --secret-string '["new","old"]'`),
        # so that the stack's plain secret can rotate without a JSON field to name; a key that
        # merely starts with "[" stays as written.
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    return keys_of(value, what)


def keys_of(value: object, what: str) -> tuple[str, ...]:
    """A key (a string, taken as written) or a list of them, as a tuple; ServiceUnavailable
    for anything else, or for no key at all."""
    keys = [value] if isinstance(value, str) else value
    if (
        not isinstance(keys, list)
        or not keys
        or not all(isinstance(key, str) and key for key in keys)
    ):
        raise ServiceUnavailable(
            f"the {what}'s secret must be a key or a JSON array of keys (non-empty strings)"
        )
    return tuple(dict.fromkeys(keys))
