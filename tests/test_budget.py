"""The memory estimate is an upper bound in fact, and the budget refuses exactly what it does not
cover.

Every request of tests/budget_cases.py (each pipeline step, decoder, encoder and filter, on
noise, the worst content for all of them) runs in a fresh process, two at a time; its real
peak (the kernel's high-water mark of resident memory) must not pass its estimate.
"""

from __future__ import annotations

import concurrent.futures
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.budget_cases import CASES, OVERLAYS, SIH_CASES, SIH_LOGO, Case, SihCase, build
from tests.peak import Peak, measure
from thumbor_urls import costs, pipeline
from thumbor_urls.app import App
from thumbor_urls.budget import Frame, MiB, memory_per_request
from thumbor_urls.config import Settings
from thumbor_urls.decode import jpeg_draft_size
from thumbor_urls.filters import REGISTRY, Phase
from thumbor_urls.messages import Request
from thumbor_urls.url import parse_path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("budget")
    for source in {case.source for case in CASES} | set(OVERLAYS):
        build(source, root)
    return root


@pytest.fixture(scope="module")
def peaks(folder: Path) -> Iterator[dict[str, Peak]]:
    def run(case: Case) -> Peak:
        return measure(folder, "/unsafe/" + case.path, dict(case.settings))

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        yield dict(zip((case.name for case in CASES), pool.map(run, CASES), strict=True))


@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_the_estimate_bounds_the_real_peak(peaks: dict[str, Peak], name: str) -> None:
    peak = peaks[name]
    assert peak.status == 200, peak.message
    assert peak.measured <= peak.estimate, (
        f"{name}: measured {peak.measured / MiB:.1f} MiB, estimated {peak.estimate / MiB:.1f}"
    )
    # ... and a useful one: no case so cheap that it measures nothing.
    assert peak.estimate > 16 * MiB


def test_every_filter_and_step_is_measured() -> None:
    measured = {call.split("(")[0] for case in CASES for call in _filters(case.path)}
    touching = {name for name, spec in REGISTRY.specs.items() if spec.phase is Phase.POST_TRANSFORM}
    assert touching <= measured, touching - measured
    names = {cost.__name__.removesuffix("_cost") for cost in costs.PIPELINE_COSTS}
    assert names == {"decode", "trim", "detect", "resize", "orient", "filters",
                     "moderation_blur", "debug", "encode"}  # fmt: skip


def _filters(path: str) -> list[str]:
    plan = parse_path(path, strict=True)
    return [bound.name + "(" for bound in plan.filters]


@pytest.mark.parametrize(
    "path",
    [
        "fit-in/1400x1000/filters:blur(20)/small.png",
        "filters:format(webp)/small-rgba.png",
        "100x100/progressive.jpg",
    ],
)
def test_the_budget_refuses_exactly_past_the_estimate(folder: Path, path: str) -> None:
    def client(limit_mb: int) -> App:
        settings = Settings(
            FILE_LOADER_ROOT_PATH=folder,
            RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None,
            MAX_REQUEST_MEMORY_MB=limit_mb,
        )
        return App(settings)

    plan = parse_path(path)
    app = client(2**20)
    job = pipeline.run(app.job(plan, app.source.load(plan.image)), pipeline.PIPELINE[:6])
    assert job.estimate is not None
    needed = -(-job.estimate.peak // MiB)  # MiB, rounded up
    enough = client(needed).handle(Request("GET", "/unsafe/" + path))
    short = client(needed - 1).handle(Request("GET", "/unsafe/" + path))
    assert enough.status == 200
    assert short.status == 413
    assert b"MAX_REQUEST_MEMORY_MB" in short.body


def test_requests_share_the_memory_limit_by_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    idle = 100 * MiB
    one, four = memory_per_request(None, 1, idle, None), memory_per_request(None, 4, idle, None)
    assert abs(one - 4 * four) < 4
    assert 4 * four + idle <= 1024 * MiB  # four worst cases and the idle process fit in 1 GiB
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3008")
    assert memory_per_request(None, 1, idle, None) > 2500 * MiB
    assert memory_per_request(None, 1, idle, 300) == 300 * MiB


def test_ledger_counts_frames_replaced_one_at_a_time() -> None:
    ledger = costs.Ledger(held=0)
    small, large = Frame(10, 10, 1), Frame(100, 100, 1)
    ledger.step("decode", 0, 0, 3 * small.bytes, 0.0)
    ledger.frames("grow", 3, small, large, 50, 0.0)
    # At the last frame: two grown, the last old and its successor, and the transient.
    assert ledger.peak == 3 * large.bytes + small.bytes + 50
    assert ledger.held == 3 * large.bytes


@pytest.mark.parametrize(
    ("size", "wanted"),
    [((4000, 3000), (300, 200)), ((4000, 3000), (501, 375)), ((333, 250), (40, 40)),
     ((4000, 3000), (4000, 3000)), ((17, 9), (1, 1))],
)  # fmt: skip
def test_jpeg_draft_size_is_pillows(size: tuple[int, int], wanted: tuple[int, int]) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", size).save(buffer, "JPEG")
    image = Image.open(buffer)
    image.draft("RGB", wanted)
    assert jpeg_draft_size(size, wanted) == image.size


# --- AWS Serverless Image Handler's default requests (SIH_COMPAT) ------------------------------


@pytest.fixture(scope="module")
def sih_peaks(folder: Path) -> Iterator[dict[str, Peak]]:
    for source in {case.source for case in SIH_CASES} | {SIH_LOGO}:
        build(source, folder)

    def run(case: SihCase) -> Peak:
        return measure(folder, case.path, {"SIH_COMPAT": True})

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        yield dict(zip((c.name for c in SIH_CASES), pool.map(run, SIH_CASES), strict=True))


@pytest.mark.parametrize("name", [case.name for case in SIH_CASES])
def test_the_sih_estimate_bounds_the_real_peak(sih_peaks: dict[str, Peak], name: str) -> None:
    peak = sih_peaks[name]
    assert peak.status == 200, peak.message
    assert peak.measured <= peak.estimate, (
        f"{name}: measured {peak.measured / MiB:.1f} MiB, estimated {peak.estimate / MiB:.1f}"
    )
    assert peak.estimate > 16 * MiB


def test_every_sih_stage_is_measured() -> None:
    from thumbor_urls.sih.edits import STAGES, Options, call

    measured: set[str] = set()
    for case in SIH_CASES:
        options = Options()
        for edit, value in case.edits:
            if edit in ("overlayWith", "roundCrop"):
                measured.add(edit)
            else:
                call(options, "extract" if edit == "crop" else edit, value)
        measured |= {stage.name for stage in STAGES if stage.active(options)}
    measured.add("composite")  # overlayWith's stage
    assert {stage.name for stage in STAGES} <= measured
    assert {"overlayWith", "roundCrop"} <= measured
