"""A Thumbor loader that serves originals from memory (bench/thumbor_worker.py fills FILES),
so Thumbor's timings, like every other engine's, start from bytes already in memory."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from thumbor.loaders import LoaderResult  # type: ignore[import-not-found]

FILES: dict[str, bytes] = {}


async def load(context: Any, path: str) -> Any:
    result = LoaderResult()
    data = FILES.get(unquote(path).lstrip("/"))
    if data is None:
        result.successful = False
        result.error = LoaderResult.ERROR_NOT_FOUND
    else:
        result.successful = True
        result.buffer = data
    return result
