"""The cost model (thumbor_urls/costs.py) against real peaks and times, case by case.

`python -m bench.calibrate [FOLDER] [NAME_FILTER]`: every request of tests/budget_cases.py in a
fresh process, two at a time; prints the estimated and measured peak memory and CPU time.
tests/test_budget.py asserts the memory side; the CPU side is printed for whoever tunes the
coefficients (a slower machine reads as a higher ratio).
"""

from __future__ import annotations

import concurrent.futures
import sys
import tempfile
from pathlib import Path

from tests.budget_cases import CASES, OVERLAYS, Case, build
from tests.peak import Peak, measure


def run(case: Case, folder: Path) -> Peak:
    return measure(folder, "/unsafe/" + case.path, dict(case.settings))


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="calibrate-"))
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [case for case in CASES if len(argv) < 2 or argv[1] in case.name]
    for source in {case.source for case in chosen} | set(OVERLAYS):
        build(source, folder)
    print(f"{'case':45} {'est MiB':>8} {'real MiB':>9} {'real/est':>8} {'est s':>7} {'real s':>7}")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for case, peak in zip(chosen, pool.map(lambda c: run(c, folder), chosen), strict=True):
            print(
                f"{case.name[:45]:45} {peak.estimate / 2**20:8.1f} {peak.measured / 2**20:9.1f} "
                f"{peak.ratio:8.2f} {peak.estimated_seconds:7.2f} {peak.seconds:7.2f}"
                + ("" if peak.status == 200 else f"  {peak.status} {peak.message[:60]}"),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
