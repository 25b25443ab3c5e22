"""Optional libraries that some filters use where they are installed (the `opencv` extra, the
dev and test environments) and do without elsewhere (the Lambda zip)."""

from __future__ import annotations

import functools
import importlib.util
import logging
from types import ModuleType

log = logging.getLogger(__name__)


def installed(module: str) -> bool:
    """Whether `module` can be imported; found without importing it, so that a cost estimate
    never pays for the import."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # an import hook that refuses it, a broken install
        return False


_BROKEN: set[str] = set()  # found, but their import failed: not tried again


def has_opencv() -> bool:
    """Whether correlation_opencv.py can run (blur() and convolution() in OpenCV): as far as a
    cost estimate can tell, before anything imports it."""
    return "cv2" not in _BROKEN and _found("cv2")


@functools.cache
def _found(module: str) -> bool:
    return installed(module)


def opencv_correlation() -> ModuleType | None:
    """correlation_opencv.py, imported; None, and has_opencv() false from then on, where cv2 is
    there but does not import (opencv-python without the libGL it needs, say), so that blur()
    and convolution() keep working without it, as the detectors do."""
    try:
        from . import correlation_opencv  # noqa: PLC0415 - cv2 loads with the first filter
    except ImportError as error:
        _BROKEN.add("cv2")
        log.warning("OpenCV is installed but does not import (%s); filters run without it", error)
        return None
    return correlation_opencv
