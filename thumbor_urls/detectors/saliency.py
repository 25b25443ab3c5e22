"""Where the detail is: edge energy over a grid, with no model and no extra package.

Thumbor's default with no detector is to crop around the alignment point; its feature
detector (ours: features.py) needs OpenCV. This one needs only Pillow's C operations on the
small copy: an edge filter, a box-averaging resize onto a grid of cells, and a little
arithmetic on at most a few hundred cell values. The cells whose energy stands out from the
image's typical energy (its median, so that an evenly textured background, grass or sand, does
not count as a subject) are the focal points, weighted by how much they stand out. The crop
then centres on the detail: the subject of most photos, and the text or product of most others.
"""

from __future__ import annotations

import statistics

from PIL import Image, ImageChops, ImageFilter

from ..config import Settings
from . import SALIENCY, Region

GRID = 16  # cells along the longer side
# A cell is salient when it stands out by at least this share of the most salient cell's
# excess over the median: the subject, not every bit of texture.
KEEP = 0.5
MIN_EXCESS = 2.0  # in edge-filter levels (0-255): below this the image is flat, no answer


class SaliencyDetector:
    name = "saliency"
    finds = SALIENCY
    whole = False
    origin = "Saliency"

    def detect(self, image: Image.Image) -> list[Region]:
        energy, cell_w, cell_h = edge_energy_grid(image)
        values = [float(value) for value in energy.get_flattened_data()]  # type: ignore[arg-type]
        typical = statistics.median(values)
        excess = [max(float(value) - typical, 0.0) for value in values]
        peak = max(excess)
        if peak < MIN_EXCESS:
            return []
        columns = energy.width
        regions = []
        for index, value in enumerate(excess):
            if value >= peak * KEEP:
                row, column = divmod(index, columns)
                regions.append(
                    Region(
                        column * cell_w,
                        row * cell_h,
                        cell_w,
                        cell_h,
                        SALIENCY,
                        self.origin,
                        # Weighted by excess energy times area, so the weight keeps its meaning
                        # when the region is scaled to the working image.
                        weight=value * cell_w * cell_h,
                    )
                )
        return regions


def edge_energy_grid(image: Image.Image) -> tuple[Image.Image, float, float]:
    """The mean edge strength of each cell (an L image, one pixel per cell) and the cells' size.
    The copy is blurred a little first, so that JPEG noise and fine grain do not count as edges."""
    gray = image.convert("L").filter(ImageFilter.GaussianBlur(1))
    edges = gray.filter(ImageFilter.FIND_EDGES)
    if image.mode == "RGBA":
        # Only opaque pixels count: the outline of a cut-out is not its subject.
        opaque = image.getchannel("A").filter(ImageFilter.MinFilter(5))
        edges = ImageChops.multiply(edges, opaque)
    # FIND_EDGES leaves a one-pixel frame of garbage along the border: blank it.
    edges = edges.crop((1, 1, max(edges.width - 1, 2), max(edges.height - 1, 2)))
    longer = max(edges.size)
    columns = max(round(GRID * edges.width / longer), 1)
    rows = max(round(GRID * edges.height / longer), 1)
    grid = edges.resize((columns, rows), Image.Resampling.BOX)
    return grid, image.width / columns, image.height / rows


def create(settings: Settings) -> SaliencyDetector:
    return SaliencyDetector()
