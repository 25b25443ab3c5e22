"""`meta/`: the operations a URL would run, as JSON in Thumbor's shape."""

from __future__ import annotations

from .pipeline import Job


def describe(job: Job) -> dict[str, object]:
    header = job.require_header()
    geometry = job.require_geometry()
    operations = geometry.operations_as_dicts()
    if job.trim is not None:
        box = job.trim
        trim = {"left": box.left, "top": box.top, "right": box.right, "bottom": box.bottom}
        operations.insert(0, {"type": "crop", **trim})
    width, height = geometry.output_size
    # Thumbor reports the output size as the source's; we report the original's, upright.
    source_width, source_height = job.loaded_size
    thumbor: dict[str, object] = {
        "source": {
            "url": job.plan.image,
            "width": source_width,
            "height": source_height,
            "frameCount": header.frames,
        },
        "operations": operations,
        "target": {"width": width, "height": height},
        "focal_points": [point.as_dict() for point in geometry.focal_points],
    }
    if job.detection is not None:
        thumbor["detector"] = job.detection.detector  # which of DETECTORS found the points
    if job.plan.ignored_filters:
        thumbor["ignored_filters"] = [f.as_dict() for f in job.plan.ignored_filters]
    return {"thumbor": thumbor}
