"""Smoke runs of bench/filters.py and bench/threads.py: not timed, they only prove that both
still run end to end and print what docs/performance.md quotes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bench import filters, threads


def test_filters_prints_every_candidate_against_gaussian_blur(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "small.png"
    Image.effect_noise((64, 48), 40).convert("RGB").save(photo)
    assert filters.main([str(photo), "--runs", "1", "--pillow"]) == 0
    out = capsys.readouterr().out
    assert "64x48 RGB, 1 interleaved rounds" in out
    for name in ("GaussianBlur(2)", *filters.candidates(with_pillow=True)):
        assert any(line.startswith(name) for line in out.splitlines()), name


def test_threads_prints_the_ratio_the_control_and_each_job(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert threads.main(["--rounds", "1", "--threads", "2", "--jobs", "gray300", "--per-job"]) == 0
    out = capsys.readouterr().out
    assert "2 threads against 1, 1 rounds" in out
    assert "median ratio" in out and "GIL-free control" in out
    assert "gray300@cc0-16mp-baseline" in out
