"""The premise of every module here: a same-size PNG request leaves the source untouched, on both
sides (infinite PSNR with no filter), so that only the filter is compared."""

from __future__ import annotations

import math
from pathlib import Path

from tests.peers.compare import psnr
from tests.peers.filter_families.answers import ours, png_url, source, theirs
from tests.peers.filter_families.sources import SIZES
from thumbor_urls.app import App


def test_baseline_same_size_is_untouched(thumbor: str, app: App, root: Path) -> None:
    for name in SIZES:
        path = png_url("", name)
        mine, their = ours(app, path).image(), theirs(thumbor, path).image()
        assert psnr(mine, their) == math.inf, name
        assert psnr(mine, source(root, name)) == math.inf, name
