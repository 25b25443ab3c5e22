"""Smoke runs of bench/filters.py, threads.py, avif.py and gif.py: not timed, they only prove
that each still runs end to end and prints what docs/performance.md quotes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bench import avif, filters, gif, threads


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


def test_avif_prints_every_speed_against_speed_6(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "small.png"
    Image.effect_noise((96, 64), 40).convert("RGB").save(photo)
    assert avif.main(["--runs", "1", "--speeds", "9", str(photo)]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()]
    speeds = {row[1]: row for row in rows if row[0] == "| small.png 96x64"}
    assert set(speeds) == {"6", "9"}
    assert speeds["6"][3] == "1.00" and speeds["6"][5] == "1.00"  # speed 6 against itself
    assert float(speeds["9"][6].rstrip(" |")) > 20  # a decoded AVIF close to its input


def test_gif_prints_every_candidate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    animation = tmp_path / "pan.gif"
    noise = Image.effect_noise((96, 64), 60).convert("RGB")
    frames = [noise.rotate(angle) for angle in (0, 10, 20)]
    frames[0].save(animation, save_all=True, append_images=frames[1:])
    assert gif.main(["--runs", "1", "--width", "48", str(animation)]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()]
    found = {row[1]: row for row in rows if row[0] == "| pan.gif 3 x 48x32"}
    assert set(found) == set(gif.CANDIDATES)
    for row in found.values():
        mean, lowest = (float(v) for v in row[4].rstrip(" |").split(" / "))
        assert 15 < lowest <= mean  # three decoded frames, each close to the frame it was given
