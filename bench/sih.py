"""`make bench`'s comparison with AWS's Serverless Image Handler (Dynamic Image Transformation for
Amazon CloudFront v7), both as Lambda handlers answering the same Thumbor URLs from S3.

AWS's published handler is never copied into this repository: `--sih DIR` (or BENCH_SIH_DIR)
names an install of it outside (DIR/source/image-handler with its node_modules, as
tests/peers/sih/README.md says), which bench/cold.py bundles with esbuild as its CDK stack does.
Without one this phase is left out of the report, with a line saying how to add it; the smoke
run (`--smoke`) then still runs our side, so that the code cannot rot.

Warm, per job: moto's S3 in server mode holds every input; our handler (bench/lambda_worker.py:
handler.py imported as on Lambda, one API Gateway v2 event per request) and AWS's
(bench/sih_worker.js: its bundle, one REST v1 event per request) each run in a process of their
own on one core, each timing event in to proxy answer out: the S3 read, the render, the base64
body. No result bucket on our side, so that every request renders, as every request of AWS's
does (it has no result cache). A first request per job is untimed (warm: clients, code paths),
then the two alternate round by round, and the per-round ratios ours/SIH give the median and
its bootstrap interval as in the other columns. Cold: bench/cold.py's runs (init, first request,
spawn to answer), with the per-round ratios of ours against AWS's.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from PIL import Image

from bench import cold
from bench.jobs import Job
from bench.run import (
    LABELS,
    REPO,
    PairedRatio,
    Row,
    _ms,
    _ratio,
    geomean,
    one_cpu,
    paired_ratio,
    time_jobs,
)
from tests.aws_fixtures import running_moto
from thumbor_urls.config import Settings

ENV_VAR = "BENCH_SIH_DIR"
TARGET = 0.8  # the goal: each job at most 0.8x AWS's time
HOW_TO_ADD = (
    f"pass --sih DIR, or {ENV_VAR}=DIR to `make bench` (DIR: AWS's Dynamic Image Transformation "
    "v7 installed outside this repository, DIR/source/image-handler with its node_modules, as "
    "tests/peers/sih/README.md says)"
)
# The Thumbor filters that SIH's thumbor-mapper.ts maps to sharp (v7.0.8); any other is
# ignored there, so a job using one would not do the same work.
SIH_FILTERS = frozenset({
    "autojpg", "background_color", "blur", "convolution", "equalize", "fill", "format",
    "grayscale", "no_upscale", "proportion", "quality", "rgb", "rotate", "sharpen", "stretch",
    "strip_exif", "strip_icc", "upscale", "watermark", "animated", "smart_crop",
})  # fmt: skip
# Notes on jobs whose SIH URL does the same work with a difference worth saying.
NOTES = {
    "rotate": "SIH turns clockwise (sharp's rotate), Thumbor and ours counter-clockwise: "
    "the same work, a mirrored result",
}


@dataclass(frozen=True)
class Translation:
    """AWS's URL for a job (None: it cannot express the job, `why`), and what differs."""

    url: str | None
    why: str = ""
    notes: tuple[str, ...] = ()


def translate(job: Job) -> Translation:
    """The job's Thumbor URL in the grammar AWS's handler reads: no `/unsafe/` (it has no
    signing in the path), fit-in, WxH and filters as they are. `smart` is dropped: SIH would
    read it as part of the key, and ours, deployed without detectors (DETECTORS empty, as
    serverless.yml sets it), crops the same centre as a plain WxH. Anything else it cannot
    express makes the job n/a."""
    notes: list[str] = []
    parts = job.kind.url.split("/")
    kept: list[str] = []
    for part in parts:
        if part == "fit-in" or re.fullmatch(r"\d+x\d+", part):
            kept.append(part)
        elif part == "smart":
            notes.append(
                "smart dropped: SIH has no smart/ (it reads it as part of the key); ours, "
                "without detectors as deployed, crops the same centre"
            )
        elif part.startswith("filters:"):
            names = re.findall(r"(?:^filters)?:(\w+)\(", part)
            unknown = [name for name in names if name not in SIH_FILTERS]
            if unknown:
                return Translation(None, "SIH has no filter " + ", ".join(unknown))
            notes += [NOTES[name] for name in names if name in NOTES]
            kept.append(part)
        else:
            return Translation(None, f"SIH's Thumbor mapping has no {part!r}")
    # A 0 in WxH (1200x0) means "keep the ratio" to SIH's mapping as to Thumbor: kept as it is.
    return Translation("/" + "/".join([*kept, job.name]), notes=tuple(notes))


def sih_dir(given: Path | None) -> tuple[Path | None, str]:
    """The SIH install to use (the option, else the environment variable), or why none."""
    folder = given or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None)
    if folder is None:
        return None, "not given: " + HOW_TO_ADD
    handler = folder / "source" / "image-handler"
    if not (handler / "index.ts").is_file() or not (handler / "node_modules" / "sharp").is_dir():
        return None, f"{folder} has no source/image-handler with its node_modules: " + HOW_TO_ADD
    if not (REPO / "node_modules" / ".bin" / "esbuild").exists():
        return None, "no esbuild to bundle it (`npm ci` at the repository's root)"
    if shutil.which("node") is None:
        return None, "no node"
    return folder, ""


@dataclass
class Result:
    rows: list[Row]
    engines: list[str]
    runs: int
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # job id -> notes
    urls: dict[str, str] = field(default_factory=dict)  # job id -> SIH's URL
    sizes: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # id -> engine
    versions: dict[str, str] = field(default_factory=dict)
    cold: cold.Runs | None = None
    skipped: str = ""  # why AWS's handler is not in it


def _clean_env() -> dict[str, str]:
    """This process's environment without AWS's or our settings: a stray QUALITY=90 or
    AWS_PROFILE must not reach either handler."""
    drop = set(Settings._fields) | {"PYTHONPATH", "NODE_PATH"}
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in drop}


@contextmanager
def _s3(rows: list[Row], logs: Path) -> Iterator[tuple[dict[str, str], str]]:
    """moto's S3 with every input under its job's key; the AWS environment and the bucket.
    Started before the workers are pinned: it stands for S3, whose work is not the Lambda's,
    so it may use the core the workers leave."""
    with running_moto(logs) as aws:
        bucket = aws.bucket("bench")
        s3 = aws.client("s3")
        for name, path in {row.job.name: row.job.input.path for row in rows}.items():
            with Image.open(path) as image:
                kind = Image.MIME.get(image.format or "", "application/octet-stream")
            s3.put_object(Bucket=bucket, Key=name, Body=path.read_bytes(), ContentType=kind)
        env = aws.env()
        env["AWS_ENDPOINT_URL"] = aws.endpoint  # moto itself: the tests' fault proxy not between
        yield env, bucket


def measure(
    jobs: Sequence[Job],
    folder: Path | None,
    runs: int,
    log: IO[str],
    cold_runs: int = 0,
    skipped: str = "",
) -> Result:
    """The warm comparison (and `cold_runs` rounds of cold start) of our handler with AWS's
    installed in `folder`; with no folder, our handler's column alone (the smoke run)."""
    engines = ["handler", "sih"] if folder is not None else ["handler"]
    result = Result([Row(job) for job in jobs], engines, runs, skipped=skipped)
    for row in result.rows:
        if row.job.ignored_filters:
            row.na["handler"] = "filter missing: " + ", ".join(row.job.ignored_filters)
        translation = translate(row.job)
        result.notes[row.job.id] = translation.notes
        if translation.url is None:
            row.na["sih"] = translation.why
        else:
            result.urls[row.job.id] = translation.url
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-sih-")))
        aws, bucket = stack.enter_context(_s3(result.rows, work / "moto"))
        base = _clean_env() | aws
        envs = {
            "handler": base | {
                "PYTHONPATH": str(REPO),
                "AWS_LAMBDA_FUNCTION_NAME": "bench-handler",  # import = Lambda's init
                "SOURCE_BUCKETS": bucket,
                "DETECTORS": "",  # as serverless.yml deploys it
            },
        }  # fmt: skip
        if folder is not None:
            bundle = cold.bundle_sih(folder, work)
            envs["sih"] = base | {
                "SIH_BUNDLE": str(bundle),
                "NODE_PATH": str(folder / "source" / "image-handler" / "node_modules"),
                "SOURCE_BUCKETS": bucket,
                "ENABLE_SIGNATURE": "No",
                "CORS_ENABLED": "No",
                "AUTO_WEBP": "No",
                "ENABLE_DEFAULT_FALLBACK_IMAGE": "No",
            }
        jobs_file = work / "jobs.json"
        specs = [
            row.job.as_json() | {"sih_url": result.urls.get(row.job.id)} for row in result.rows
        ]
        jobs_file.write_text(json.dumps(specs))
        outputs = work / "outputs"
        outputs.mkdir()
        print(f"AWS's handler: {len(jobs)} jobs x {engines}, {runs} runs each", file=log)
        with one_cpu():
            result.versions = time_jobs(result.rows, engines, jobs_file, runs, outputs, log, envs)
        for row in result.rows:
            for engine in engines:
                out = outputs / f"{row.job.id}.{engine}"
                if out.exists() and engine not in row.na:
                    with Image.open(io.BytesIO(out.read_bytes())) as image:
                        result.sizes.setdefault(row.job.id, {})[engine] = image.size
    if folder is not None and cold_runs:
        print(f"AWS's handler, cold start: {cold_runs} rounds", file=log)
        result.cold = cold.measure(cold_runs, list(cold.SIZES), ["init", "snap"], sih=folder)
    return result


def _verdict(ratio: PairedRatio) -> str:
    """Met when the whole interval is at or under the target, missed when it is all above;
    otherwise no measurable difference from it (as the other columns judge their targets)."""
    if ratio.hi <= TARGET:
        return "met"
    if ratio.lo > TARGET:
        return "NOT met"
    return "no measurable difference" + (" (median above)" if ratio.median > TARGET else "")


def report(result: Result) -> list[str]:
    ours, sih = LABELS["handler"], LABELS["sih"]
    out = ["### Against AWS's handler (Dynamic Image Transformation v7), warm and cold", ""]
    if result.skipped:
        out.append(f"- {sih} not measured: {result.skipped}")
        out.append("")
    out += [
        f"Both Lambda handlers end to end on moto's S3, each in its own process on one core: one "
        f"API Gateway event in, the proxy answer (base64 body) out, warm (a first request "
        f"untimed); median (interquartile range) in ms of {result.runs} rounds, the two "
        f"alternated round by round; ours/SIH is the median of the per-round ratios with a 95% "
        f"bootstrap interval; target <= {TARGET}x: met when the whole interval is at or under "
        f"it, NOT met when it is all above. Ours has no result bucket, so every request renders.",
        "",
        f"| job | SIH URL | out ours/SIH | {ours} ms | {sih} ms | ours/SIH "
        f"| <= {TARGET}x | KB ours/SIH |",
        "|---|---|---|---|---|---|---|---|",
    ]
    pairs: list[tuple[Row, PairedRatio]] = []
    for row in result.rows:
        job_id = row.job.id
        sizes = result.sizes.get(job_id, {})
        shown = "/".join(
            f"{sizes[e][0]}x{sizes[e][1]}" if e in sizes else "-" for e in result.engines
        )
        cells = [job_id, f"`{result.urls[job_id]}`" if job_id in result.urls else "-", shown]
        for engine in result.engines:
            timing = row.timings.get(engine)
            cells.append(f"n/a ({row.na[engine]})" if engine in row.na else _ms(timing))
        if "sih" not in result.engines:
            cells.append(f"n/a ({row.na['sih']})" if "sih" in row.na else "-")
        ratio = row.ratio("handler", "sih")
        cells.append(_ratio(ratio))
        cells.append(_verdict(ratio) if ratio else "-")
        kb = []
        for engine in ("handler", "sih"):
            timing = row.timings.get(engine)
            ok = timing is not None and timing.samples and engine not in row.na
            kb.append(f"{timing.bytes / 1024:.0f}" if ok and timing else "-")
        cells.append("/".join(kb))
        out.append("| " + " | ".join(cells) + " |")
        if ratio is not None:
            pairs.append((row, ratio))
    out.append("")
    for row in result.rows:
        for note in result.notes.get(row.job.id, ()):
            out.append(f"- {row.job.id}: {note}")
    if pairs:
        mean = geomean([ratio.median for _, ratio in pairs])
        missed = [f"{r.job.id} {_ratio(x)}" for r, x in pairs if _verdict(x) == "NOT met"]
        unsure = [f"{r.job.id} {_ratio(x)}" for r, x in pairs if _verdict(x).startswith("no ")]
        out.append(
            f"- geometric mean ours/SIH over {len(pairs)} jobs: {mean:.2f}; at most {TARGET}x "
            f"on every job: {'met' if not missed and not unsure else 'NOT met'}"
        )
        out.append(f"  - NOT met (whole interval above {TARGET}) on {len(missed)} of "
                   f"{len(pairs)} jobs" + (": " + ", ".join(missed) if missed else ""))  # fmt: skip
        out.append(f"  - no measurable difference from {TARGET} on {len(unsure)} of "
                   f"{len(pairs)} jobs" + (": " + ", ".join(unsure) if unsure else ""))  # fmt: skip
    n_a = [f"{row.job.id} ({row.na['sih']})" for row in result.rows if "sih" in row.na]
    if n_a and "sih" in result.engines:
        out.append("- n/a for AWS's handler: " + ", ".join(n_a))
    if result.versions:
        out.append("- versions: " + ", ".join(f"{k} {v}" for k, v in result.versions.items()))
    if result.cold:
        out += ["", *cold_table(result.cold)]
    elif "sih" in result.engines:
        out.append('- cold start: `make bench-cold COLD_ARGS="--sih DIR"` (bench/cold.py)')
    return out


def cold_table(found: cold.Runs) -> list[str]:
    """bench/cold.py's runs as a table, with the per-round ratios against AWS's handler (run i
    of every mode is from round i)."""
    rounds = min(len(runs) for modes in found.values() for runs in modes.values())
    out = [
        f"Cold start (bench/cold.py: a fresh process per run, on every core, spawn to the first "
        f"answer; ours as deployed: origin secret read at init, an empty result bucket written "
        f"to; `init` is Lambda's on-demand init, `snap` SnapStart's restore hooks + first "
        f"request). Median (quartiles) of {rounds} interleaved rounds, ms; ratios per round:",
        "",
        "| photo | mode | init | first request | spawn to answer | first request ours/SIH "
        "| spawn to answer ours/SIH |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, modes in found.items():
        sih = modes.get("sih")
        for mode, runs in modes.items():

            def column(field: str) -> list[float]:
                return [run[field] for run in runs]  # noqa: B023 - used in this iteration

            first = [run["restoreMs"] + run["firstMs"] for run in runs]
            first_ratio = wall_ratio = "-"
            if sih is not None and mode != "sih":
                first_ratio = _ratio(paired_ratio(first, [r["firstMs"] for r in sih]))
                if mode != "snap":  # snap's init runs once per version, before any request
                    wall_ratio = _ratio(paired_ratio(column("wallMs"), [r["wallMs"] for r in sih]))
            wall = cold.summary(column("wallMs")) if mode != "snap" else "(init once per version)"
            restore = f"restore {cold.summary(column('restoreMs'))} + " if mode == "snap" else ""
            out.append(
                f"| {name} | {mode} | {cold.summary(column('initMs'))} | "
                f"{restore}{cold.summary(column('firstMs'))} | {wall} | {first_ratio} | "
                f"{wall_ratio} |"
            )
    return out
