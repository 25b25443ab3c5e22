"""The benchmark's ratio statistics: medians of per-round ratios with a bootstrap interval,
and how the summary sorts jobs into "slower" and "no measurable difference" with them.

Pure functions on synthetic samples: no engine runs here (tests/test_bench_smoke.py runs them)."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bench import jobs, run


def test_equal_ratios_collapse_the_interval_to_that_ratio() -> None:
    a = [12.0, 30.0, 15.0, 9.0, 21.0]
    b = [x / 1.25 for x in a]  # every round: a is exactly 1.25x b, whatever the load
    ratio = run.paired_ratio(a, b)
    assert ratio.median == pytest.approx(1.25)
    assert ratio.lo == pytest.approx(1.25)
    assert ratio.hi == pytest.approx(1.25)
    assert ratio.pairs == 5


def test_median_of_per_round_ratios_not_ratio_of_medians() -> None:
    # Per-round ratios 1, 1, 20: median 1. The ratio of the medians would be 10 / 5 = 2.
    a = [10.0, 1.0, 100.0]
    b = [10.0, 1.0, 5.0]
    assert run.paired_ratio(a, b).median == pytest.approx(1.0)


def test_b_consistently_ten_percent_slower_under_heavy_noise() -> None:
    rng = random.Random(1)
    a, b = [], []
    for _ in range(20):
        load = rng.uniform(0.8, 1.25)  # the machine's mood, shared by both in a round
        base = 10.0 * load
        a.append(base * rng.uniform(0.98, 1.02))
        b.append(base * 1.1 * rng.uniform(0.98, 1.02))
    ratio = run.paired_ratio(b, a)
    assert ratio.median == pytest.approx(1.1, abs=0.02)
    assert 1.0 < ratio.lo <= ratio.median <= ratio.hi
    # The load spread (0.8-1.25) dwarfs the 10%, yet pairing by round still sees it.
    assert ratio.hi < 1.15


def test_noisy_tie_has_an_interval_across_one() -> None:
    rng = random.Random(2)
    a = [10.0 * rng.uniform(0.85, 1.15) for _ in range(20)]
    b = [10.0 * rng.uniform(0.85, 1.15) for _ in range(20)]
    ratio = run.paired_ratio(a, b)
    assert ratio.lo < 1.0 < ratio.hi
    assert ratio.lo <= ratio.median <= ratio.hi


def test_mismatched_lengths_pair_only_the_common_rounds() -> None:
    a = [2.0, 4.0, 6.0, 8.0, 1000.0, 1000.0]
    b = [1.0, 2.0, 3.0, 4.0]
    ratio = run.paired_ratio(a, b)
    assert ratio.pairs == 4
    assert (ratio.median, ratio.lo, ratio.hi) == pytest.approx((2.0, 2.0, 2.0))
    assert run.paired_ratio(b, a) == pytest.approx(run.PairedRatio(0.5, 0.5, 0.5, 4))


def test_fewer_than_three_pairs_have_no_interval() -> None:
    assert run.paired_ratio([3.0, 5.0], [1.0, 1.0]) == run.PairedRatio(4.0, 4.0, 4.0, 2)
    assert run.paired_ratio([3.0], [2.0, 7.0, 9.0]) == run.PairedRatio(1.5, 1.5, 1.5, 1)
    with pytest.raises(ValueError, match="no rounds"):
        run.paired_ratio([], [1.0])


def test_same_samples_same_numbers() -> None:
    rng = random.Random(3)
    a = [rng.uniform(5, 15) for _ in range(15)]
    b = [rng.uniform(5, 15) for _ in range(15)]
    first = run.paired_ratio(a, b)
    random.seed(12345)  # the global generator must not matter
    assert run.paired_ratio(list(a), list(b)) == first
    assert first.lo < first.hi  # a real interval, not a collapsed one


def test_ratio_cells() -> None:
    assert run._ratio(run.PairedRatio(1.031, 0.981, 1.094, 20)) == "1.03 (0.98-1.09)"
    assert run._ratio(run.PairedRatio(1.5, 1.5, 1.5, 2)) == "1.50 (2 rounds, no interval)"
    assert run._ratio(None) == "-"


# --- the summary on synthetic rows -------------------------------------------------------


def _row(label: str, kind: str = "fit300", **ratios: list[float]) -> run.Row:
    """A row where ours takes 10 ms * load each round and every other engine 10 ms * load *
    its ratio of that round: engine/ours per round is exactly the given list."""
    job = jobs.Job(next(k for k in jobs.KINDS if k.key == kind), jobs.Input(label, Path("x")))
    rounds = len(next(iter(ratios.values())))
    load = [1.0 + 0.2 * ((i * 7) % 5) for i in range(rounds)]  # a noisy machine
    row = run.Row(job)
    row.timings["ours"] = run.Timing([10.0 * x for x in load])
    for engine, per_round in ratios.items():
        row.timings[engine] = run.Timing(
            [10.0 * x * r for x, r in zip(load, per_round, strict=True)]
        )
    return row


TIE = [0.85, 1.15, 0.9, 1.1, 0.95, 1.05, 0.98, 0.99, 0.97, 1.2, 0.8]  # median 0.98


def test_summary_separates_slower_from_ties() -> None:
    rows = [
        _row("faster", thumbor=[1.5] * 11),
        _row("slower", thumbor=[0.8, 0.82, 0.79, 0.81, 0.8, 0.83, 0.78, 0.8, 0.8, 0.81, 0.79]),
        _row("tie", thumbor=TIE),
        _row("tie-above", thumbor=[r + 0.05 for r in TIE]),  # point above 1.0: not listed
    ]
    tie = run.paired_ratio(rows[2].timings["thumbor"].samples, rows[2].timings["ours"].samples)
    assert tie.median < 1.0 <= tie.hi  # the premise
    lines = run.summary(rows, ["ours", "thumbor"], {}, {}, None)
    slower = next(line for line in lines if line.startswith("- slower than Thumbor"))
    assert "on 1 of 4 jobs (target none: NOT met): fit300@slower 0.80 (" in slower
    assert "@tie" not in slower and "@faster" not in slower
    ties = next(line for line in lines if "no measurable difference (95% CI includes 1.0)" in line)
    assert ties.startswith("  - below 1.0 with no measurable difference")
    assert "on 1 of 4 jobs: fit300@tie 0.98 (" in ties
    assert "@slower" not in ties and "tie-above" not in ties


def test_summary_target_met_when_only_ties() -> None:
    rows = [_row("a", thumbor=[2.0] * 11), _row("b", thumbor=TIE)]
    lines = run.summary(rows, ["ours", "thumbor"], {}, {}, None)
    text = "\n".join(lines)
    assert "slower than Thumbor (95% CI of Thumbor/ours entirely below 1.0) on 0 of 2 " in text
    assert "(target none: met)" in text
    # The tie is met, but still named.
    assert "no measurable difference (95% CI includes 1.0) on 1 of 2 jobs: fit300@b 0.98" in text
    mean = next(line for line in lines if line.startswith("- geometric mean Thumbor/ours"))
    assert mean.startswith(f"- geometric mean Thumbor/ours: {(2.0 * 0.98) ** 0.5:.2f}x")


def test_summary_over_one_and_a_half_sharp_needs_the_whole_interval() -> None:
    # ratios are engine/ours here; ours/sharp = 1 / (sharp/ours).
    rows = [
        _row("way-over", sharp=[0.5] * 11),  # ours/sharp 2.0
        _row("near", sharp=[1 / (r * 1.55) for r in TIE]),  # ours/sharp around 1.55, noisy
        _row("fine", sharp=[1.0] * 11),
    ]
    near = rows[1].ratio("ours", "sharp")
    assert near is not None and near.median > 1.5 >= near.lo  # the premise
    lines = run.summary(rows, ["ours", "sharp"], {}, {}, None)
    worst = next(line for line in lines if line.startswith("- worst job vs sharp"))
    assert worst.startswith("- worst job vs sharp: fit300@way-over 2.00 (2.00-2.00);")
    assert "on 1 of 3 jobs (target none: NOT met): fit300@way-over 2.00" in worst
    assert "@near" not in worst
    near_line = next(line for line in lines if "95% CI includes 1.5" in line)
    assert "on 1 of 3 jobs: fit300@near 1.5" in near_line


def test_crop_to_fill_uses_the_paired_median() -> None:
    rows = [_row("c", kind="cover800", thumbor=[4.2] * 5), _row("d", thumbor=[1.2] * 5)]
    lines = run.summary(rows, ["ours", "thumbor"], {}, {}, None)
    cover = next(line for line in lines if line.startswith("- crop-to-fill"))
    assert cover.startswith("- crop-to-fill vs Thumbor: 4.20x faster at worst (cover800@c")
    assert cover.endswith("target >= 4x: met)")


# --- the timing loop keeps samples aligned by round --------------------------------------


class FakeWorker:
    """Answers like bench/worker.py: ms is 100 * round + a per-engine offset, so a sample's
    value says which round it came from. `fail_at` is the call (0 = the warm-up) to fail."""

    fail_at: ClassVar[dict[str, int]] = {}

    def __init__(self, engine: str, jobs_file: Path) -> None:
        self.engine = engine
        self.hello: dict[str, Any] = {"versions": {}}
        self.count = 0

    def run(self, job_id: str, out: Path | None = None) -> dict[str, Any]:
        call = self.count
        self.count += 1
        if FakeWorker.fail_at.get(self.engine) == call:
            return {"error": "Boom: broken"}
        offset = {"ours": 1, "sharp": 2, "thumbor": 3}[self.engine]
        return {"ms": 100.0 * call + offset, "bytes": 10}  # call 1 is round 0's: 100 + offset

    def close(self) -> None:
        pass


def test_time_jobs_appends_one_sample_per_round_and_stops_an_engine_at_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "Worker", FakeWorker)
    monkeypatch.setattr(FakeWorker, "fail_at", {"thumbor": 4})  # timed round 3 fails
    job = jobs.Job(jobs.KINDS[0], jobs.Input("x", Path("x.jpg")))
    row = run.Row(job)
    run.time_jobs([row], ["ours", "sharp", "thumbor"], tmp_path, 6, tmp_path, io.StringIO())
    # No warm-up sample; sample i is round i for each engine, whoever went first that round.
    assert row.timings["ours"].samples == [101.0, 201.0, 301.0, 401.0, 501.0, 601.0]
    assert row.timings["sharp"].samples == [102.0, 202.0, 302.0, 402.0, 502.0, 602.0]
    assert row.timings["thumbor"].samples == [103.0, 203.0, 303.0]
    assert row.timings["thumbor"].error == "Boom: broken"
    assert "thumbor" not in row.na  # its three rounds stand, paired with the same rounds
    ratio = row.ratio("thumbor", "ours")
    assert ratio is not None and ratio.pairs == 3
    assert "3 runs, then error: Boom" in run._ms(row.timings["thumbor"])


class RssWorker:
    """A fresh process per instance; the n-th process started peaks at PEAKS[n] KB."""

    PEAKS: ClassVar[list[int]] = [159_000, 113_000, 160_000]
    started: ClassVar[list[int]] = []

    def __init__(self, engine: str, jobs_file: Path) -> None:
        self.peak = RssWorker.PEAKS[len(RssWorker.started) % len(RssWorker.PEAKS)]
        RssWorker.started.append(self.peak)
        self.idle_rss_kb = 20_000 + len(RssWorker.started)
        self.runs = 0

    def run(self, job_id: str, out: Path | None = None) -> dict[str, Any]:
        self.runs += 1
        return {"ms": 1.0, "bytes": 10}

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        assert message == {"op": "rss"} and self.runs == 2
        return {"rss_kb": self.peak}

    def close(self) -> None:
        pass


def test_peak_rss_is_the_median_of_fresh_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "Worker", RssWorker)
    monkeypatch.setattr(RssWorker, "started", [])
    row = run.Row(jobs.Job(jobs.KINDS[0], jobs.Input("x", Path("x.jpg"))))
    idle = run.measure_rss([row], ["sharp"], tmp_path, 2)
    assert RssWorker.started == [159_000, 113_000, 160_000]  # three processes, not one
    assert row.rss_kb["sharp"] == 159_000  # not the outlier, whichever process had it
    assert idle == {"sharp": 20_001}


@pytest.mark.parametrize(
    ("node", "verdict"),
    [
        ([200.0] * 9, ": met)"),  # ours 0.6-0.9 of Node's in every round
        ([100.0] * 9, ": NOT met)"),
        (
            [120.0, 200.0, 160.0, 110.0, 220.0, 150.0, 130.0, 210.0, 140.0],
            ": NOT met: no measurable difference)",
        ),
    ],
)
def test_cold_start_is_judged_on_per_round_ratios(node: list[float], verdict: str) -> None:
    ours = [120.0, 150.0, 180.0, 130.0, 170.0, 140.0, 160.0, 125.0, 175.0]
    cold = {run.COLD_OURS_FIRST: ours, run.COLD_NODE_FIRST: node, "python (start only)": [40.0]}
    lines = run.summary([], ["ours", "sharp"], {}, cold, None)
    start = next(line for line in lines if line.startswith("- cold start"))
    assert "(median of 1 interleaved rounds)" in start  # the fewest rounds of any command
    assert f"{run.COLD_OURS_FIRST} 150 ms" in start
    target = lines[lines.index(start) + 1]
    assert target.startswith("  (first thumbnail, ours/Node + sharp per round: ")
    assert target.endswith("target below Node + sharp" + verdict)
