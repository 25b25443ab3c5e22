"""The budget of one request: how much memory and CPU it may use, and the units the cost model
(costs.py) and each filter's declaration speak in.

Memory is counted the way Pillow allocates it: one byte a pixel for a one-band image, four for
every other mode (RGB is stored as RGBX), plus a pointer per line. CPU is estimated in
nanoseconds on one core of the machine the model was calibrated on (bench/calibrate.py);
it is there to refuse the request that would take a minute, not to predict the one that takes
a second.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from .errors import ImageServiceError, ImageTooLarge

MiB = 1 << 20

# What a process holds besides its requests' images: the interpreter, Pillow, the code, and
# (measured after a first request) the codecs' tables. Used when RSS cannot be read.
IDLE_FALLBACK = 96 * MiB
# Kept free of any request: glibc's arenas, fragmentation, the server's own buffers.
RESERVE_FRACTION = 0.1
# The total a local server keeps its requests within unless MEMORY_LIMIT_MB says otherwise.
LOCAL_MEMORY_LIMIT_MB = 1024


class TooExpensive(ImageServiceError):
    """The request's estimated CPU is over `MAX_REQUEST_CPU_SECONDS`."""

    status, code = 413, "TooExpensive"


class Frame(NamedTuple):
    """One frame as the cost model sees it: its size and how many bands it has."""

    width: int
    height: int
    bands: int  # 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA)

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def bytes(self) -> int:
        return image_bytes(self.width, self.height, self.bands)

    def sized(self, width: int, height: int) -> Frame:
        return self._replace(width=max(width, 1), height=max(height, 1))

    def with_bands(self, bands: int) -> Frame:
        return self._replace(bands=bands)


def image_bytes(width: int, height: int, bands: int) -> int:
    """What Pillow allocates for an image of this size: a byte a pixel for one band, four for
    any other mode, a line pointer per row and the image's own header."""
    return width * height * (1 if bands == 1 else 4) + 8 * height + 1024


class Cost(NamedTuple):
    """A filter's (or a step's) cost on one frame."""

    out: Frame  # what it leaves behind
    transient: int  # bytes it holds at its peak besides its input and its output
    ns: float  # CPU


class Limits(NamedTuple):
    memory: int  # bytes one request may hold at its peak
    seconds: float  # estimated CPU one request may take


def resident_bytes() -> int | None:
    """This process's resident memory, where /proc tells it."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def memory_per_request(
    limit_mb: int | None, concurrency: int, idle: int | None, explicit_mb: int | None
) -> int:
    """MAX_REQUEST_MEMORY_MB when set; otherwise what `concurrency` worst-case requests may each
    hold so that all of them and the idle process stay within the memory limit, less a reserve.
    The limit is MEMORY_LIMIT_MB, else Lambda's memory size, else 1 GiB."""
    if explicit_mb is not None:
        return explicit_mb * MiB
    if limit_mb is None:
        lambda_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        limit_mb = int(lambda_mb) if lambda_mb.isdigit() else LOCAL_MEMORY_LIMIT_MB
    available = limit_mb * MiB * (1 - RESERVE_FRACTION) - (idle or IDLE_FALLBACK)
    return max(int(available / max(concurrency, 1)), 16 * MiB)


class Estimate(NamedTuple):
    """An upper bound of what a request will hold at its peak, and an estimate of its CPU."""

    peak: int  # bytes, above what the idle process holds
    peak_step: str  # what the request is doing at its peak, e.g. "blur(150) on 4000x4000"
    seconds: float
    costliest: str  # the step that takes the most CPU
    costliest_seconds: float


def check(estimate: Estimate, limits: Limits) -> None:
    """Refuse (413) a request whose estimate is over its budget, saying what and by how much."""
    if estimate.peak > limits.memory:
        raise ImageTooLarge(
            f"{estimate.peak_step} would need about {_mib(estimate.peak)} of memory at its "
            f"peak, {estimate.peak / limits.memory:.1f} times this server's "
            f"{_mib(limits.memory)} per request (MAX_REQUEST_MEMORY_MB); ask for a smaller "
            "image or fewer filters"
        )
    if estimate.seconds > limits.seconds:
        raise TooExpensive(
            f"this request would take about {estimate.seconds:.1f} s of CPU "
            f"({estimate.costliest}: {estimate.costliest_seconds:.1f} s), over this server's "
            f"{limits.seconds:g} s per request (MAX_REQUEST_CPU_SECONDS); ask for a smaller "
            "image or lighter filters"
        )


def _mib(size: int) -> str:
    return f"{size / MiB:,.0f} MiB"
