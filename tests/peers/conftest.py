"""Fixtures for tests that compare with the real Thumbor peer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.images import CORPUS
from tests.peers.thumbor_peer import ensure_thumbor


@pytest.fixture(scope="session")
def thumbor_venv() -> Path:
    """The Thumbor 7.8.0 venv (.venv-thumbor), installed on first use."""
    return ensure_thumbor()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The test photos (tests/corpus), read-only."""
    if not CORPUS.is_dir():
        raise FileNotFoundError(f"test corpus not found at {CORPUS}")
    return CORPUS
