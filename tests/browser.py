"""Headless Chromium for the playground's tests: Debian's `chromium` driven by Playwright for
Python (no browser download: `make setup` installs the Debian package)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

# Debian's /usr/bin/chromium is a shell script around this binary.
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str | None:
    found = os.environ.get("CHROMIUM_PATH") or next(
        (path for path in CANDIDATES if Path(path).is_file()), None
    )
    return found or shutil.which("chromium")


def launch() -> Iterator[Browser]:
    """A Chromium browser for a module's tests. Without one the tests are skipped on a
    developer's machine, and fail under CI (CI=true), where `make setup` must have installed
    it."""
    path = chromium_path()
    if path is None:
        message = "no chromium: `make setup` installs it (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
