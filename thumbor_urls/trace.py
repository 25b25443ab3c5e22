"""What one request did and where its time went, for its log line: enough to explain a slow
request from the logs alone (which stage, on what source, doing what)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pipeline import Job


class Trace:
    """Milliseconds per stage (summed when a stage runs more than once) and the facts of the
    image: its source, the operations run on it, its output."""

    __slots__ = ("facts", "stages")

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.facts: dict[str, object] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self.stages[name] = self.stages.get(name, 0.0) + seconds * 1000

    def describe(self, job: Job) -> None:
        """The source and the operations `job` ran (once its pipeline ran)."""
        header = job.header
        if header is not None:
            width, height = header.size
            self.facts["source"] = {
                "bytes": len(job.data),
                "format": header.format,
                "width": width,
                "height": height,
                "frames": header.frames,
            }
        self.facts["operations"] = operations(job)

    def encoded(self, fmt: str, size: tuple[int, int]) -> None:
        self.facts["output"] = {"format": fmt, "width": size[0], "height": size[1]}

    def as_dict(self) -> dict[str, object]:
        line: dict[str, object] = dict(self.facts)
        if self.stages:
            line["stagesMs"] = {name: round(ms, 1) for name, ms in self.stages.items()}
        return line


def operations(job: Job) -> list[str]:
    """What was done to the image, in order, as short words: `trim`, `crop L,T,R,B`,
    `resize WxH`, `flip_horizontally`, then the name of each filter (the path has their
    arguments)."""
    done: list[str] = []
    if job.trim is not None:
        done.append("trim")
    if job.geometry is not None:
        for op in job.geometry.operations_as_dicts():
            kind = op.pop("type")
            if kind == "crop":
                done.append(f"crop {op['left']},{op['top']},{op['right']},{op['bottom']}")
            elif kind == "resize":
                done.append(f"resize {op['width']}x{op['height']}")
            else:
                done.append(str(kind))
    done.extend(bound.name for bound in job.plan.filters)
    return done
