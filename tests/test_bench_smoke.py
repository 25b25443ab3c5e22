"""The benchmark's smoke run: tiny synthetic images, two runs, every job kind, the report.

Not a timed test: it only proves that `make bench` still runs end to end (job list, workers,
PSNR, the table and the target checks), so the benchmark cannot rot between real runs. sharp
and Thumbor join when they are installed (bench/node_modules, .venv-thumbor)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import jobs, run, sih


def test_every_job_kind_runs_and_lands_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = tmp_path / "report.md"
    status = run.main(["--smoke", "--output", str(report_path)])
    assert status == 0
    report = report_path.read_text()
    assert report in capsys.readouterr().out
    table = [line for line in report.splitlines() if line.startswith("| ")]
    engines, _ = run.available_engines(run.ENGINES)
    assert {"ours", "pillow"} <= set(engines)
    for kind in jobs.KINDS:
        rows = [line for line in table if line.startswith(f"| {kind.title} |")]
        assert len(rows) == 1, kind.key
        cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
        ours, pillow = (cells[3 + engines.index(e)] for e in ("ours", "pillow"))
        # Ours has a median, or says why not (a filter not written yet); plain Pillow always.
        assert ours[0].isdigit() or ours.startswith("n/a (filter missing"), cells
        assert pillow[0].isdigit(), cells
    assert "### Against the targets of issue 6" in report
    assert "geometric mean ours/sharp" in report
    # Our Lambda handler's side of the comparison with AWS's runs even when AWS's is absent.
    assert "### Against AWS's handler" in report
    handler_rows = [line for line in table if line.startswith("| fit300@tiny |")]
    assert len(handler_rows) == 1 and " 300x169" in handler_rows[0], handler_rows


def test_job_list_covers_the_issue_and_each_input_family(tmp_path: Path) -> None:
    inputs = run.smoke_inputs(tmp_path)
    expanded = jobs.expand(inputs)
    assert {job.kind.key for job in expanded} == {kind.key for kind in jobs.KINDS}
    assert len({job.id for job in expanded}) == len(expanded)
    for job in expanded:
        spec = job.as_json()
        assert spec["url"].startswith("/unsafe/") and spec["url"].endswith(job.name)
        # Every sharp pipeline ends in an encoder with the same settings as ours.
        assert spec["sharp"][-1][0] in {"jpeg", "webp", "png", "avif", "gif"}


def test_folder_inputs_sort_images_into_families(tmp_path: Path) -> None:
    run.smoke_inputs(tmp_path)
    (tmp_path / "notes.txt").write_text("not an image")
    found = jobs.folder_inputs(tmp_path)
    assert [i.path.name for i in found["photo"]] == ["tiny.jpg"]
    assert [i.path.name for i in found["alpha_png"]] == ["tiny-alpha.png"]
    assert [i.path.name for i in found["animated_gif"]] == ["tiny-anim.gif"]


def test_sih_urls_keep_the_thumbor_grammar_and_say_what_differs(tmp_path: Path) -> None:
    translated = {
        job.kind.key: sih.translate(job) for job in jobs.expand(run.smoke_inputs(tmp_path))
    }
    assert translated["fit300"].url == "/fit-in/300x300/tiny.jpg"
    assert translated["blur800"].url == "/800x0/filters:blur(6,2)/tiny.jpg"
    assert translated["smart300"].url == "/300x300/tiny.jpg" and translated["smart300"].notes
    assert all(t.url is not None for t in translated.values())
    job = jobs.expand(run.smoke_inputs(tmp_path), {"fit300"})[0]
    trimmed = jobs.Job(jobs.JobKind("t", "t", "photo", "trim/300x0", [], [], {}), job.input)
    assert sih.translate(trimmed).url is None


def test_without_an_install_the_sih_peer_is_skipped_with_the_way_to_add_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(sih.ENV_VAR, raising=False)
    assert sih.sih_dir(None) == (None, "not given: " + sih.HOW_TO_ADD)
    folder, why = sih.sih_dir(tmp_path)
    assert folder is None and str(tmp_path) in why
