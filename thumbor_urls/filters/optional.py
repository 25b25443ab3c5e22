"""Optional libraries that some filters use where they are installed (the `opencv` extra, the
dev and test environments) and do without elsewhere (the Lambda zip)."""

from __future__ import annotations

import functools
import importlib.util


def installed(module: str) -> bool:
    """Whether `module` can be imported; found without importing it, so that a cost estimate
    never pays for the import."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # an import hook that refuses it, a broken install
        return False


@functools.cache
def has_opencv() -> bool:
    """Whether correlation_opencv.py can run (blur() and convolution() in OpenCV)."""
    return installed("cv2")
