"""URL signatures: Thumbor's HMAC-SHA1 (libthumbor) and AWS SIH's `?signature=` HMAC-SHA256."""

from __future__ import annotations

import base64
import hashlib
import hmac


def thumbor_signature(key: str, path: str) -> str:
    """The urlsafe-base64 HMAC-SHA1 of the path after the signature, as libthumbor computes it."""
    digest = hmac.new(key.encode(), path.lstrip("/").encode(), hashlib.sha1).digest()
    return base64.urlsafe_b64encode(digest).decode()


def sign_thumbor_path(key: str, path: str) -> str:
    """`300x200/x.jpg` -> `/<signature>/300x200/x.jpg`."""
    path = path.lstrip("/")
    return f"/{thumbor_signature(key, path)}/{path}"


def verify_thumbor(key: str, signature: str, path: str) -> bool:
    expected = thumbor_signature(key, path)
    return hmac.compare_digest(expected.encode(), signature.encode())


def sih_signature(secret: str, path: str) -> str:
    """AWS Serverless Image Handler: lowercase hex HMAC-SHA256 of the request path."""
    return hmac.new(secret.encode(), path.encode(), hashlib.sha256).hexdigest()


def verify_sih(secret: str, signature: str, path: str) -> bool:
    expected = sih_signature(secret, path)
    return hmac.compare_digest(expected.encode(), signature.lower().encode())
