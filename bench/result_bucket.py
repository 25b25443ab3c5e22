"""What the result bucket costs a render, through our Lambda handler:
`python -m bench.result_bucket [--rounds 15] [--latency MS] [--jobs KEY,...]`.

A deployed stack has one (`RESULT_STORAGE_BUCKET`): a render first reads its result (a miss),
then writes it: after the answer where Lambda's runtime lets the extension of
thumbor_urls/aws/after_answer.py hold the invocation open for it (mode `after`: here the write
is made once the request is timed), before the answer otherwise (mode `with`). The warm
comparison with AWS's handler (bench/sih.py) runs without one (mode `without`), so that every
request renders, as AWS's handler, which has none, does every time. The modes alternate request
by request in one process, on moto's S3 (with `--latency MS`, behind the tests' fault proxy,
which answers each call MS late, as a region's S3 is not on loopback); results are deleted
after each request, untimed, so every request is a miss. Per job: medians and the medians of
the per-round ratios to `without`. Without OpenCV and numpy, as in the Lambda zip.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import jobs as jobs_module
from tests.aws_fixtures import running_moto

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "tests" / "corpus"
CACHE = HERE / ".cache"
MODES = ("without", "with", "after")


class _AfterTiming:
    """Stands for the extension (thumbor_urls/aws/after_answer.py): keeps the writes the
    handler hands over, for the bench to make once the request is timed."""

    alive = True

    def __init__(self) -> None:
        self.writes: list[Any] = []

    def hand_over(self, request_id: str, writes: list[Any]) -> None:
        self.writes.extend(writes)

    def write(self) -> None:
        writes, self.writes = self.writes, []
        for write in writes:
            write()


Runs = dict[str, dict[str, list[float]]]  # job -> mode -> its rounds' milliseconds


def measure(rounds: int, latency: float, only: set[str] | None) -> tuple[Runs, int]:
    """Per job, per mode, the milliseconds of each round's request; and how many results the
    requests with the bucket wrote there (each of them one, when it works)."""
    for left_out in ("cv2", "numpy"):  # as the zip: blur() takes its Pillow-only path
        sys.modules.setdefault(left_out, None)  # type: ignore[arg-type]
    inputs = jobs_module.corpus_inputs(CORPUS, CACHE / "inputs")
    jobs = jobs_module.expand(inputs, only)
    with tempfile.TemporaryDirectory() as logs, running_moto(Path(logs)) as aws:
        source, results = aws.bucket("src"), aws.bucket("res")
        s3 = aws.client("s3")
        for job in jobs:
            s3.put_object(Bucket=source, Key=job.name, Body=job.input.path.read_bytes())
        os.environ.update(aws.env(), SOURCE_BUCKETS=source, DETECTORS="")
        if not latency:  # moto itself, as bench/sih.py: the proxy's own forwarding not timed
            os.environ["AWS_ENDPOINT_URL"] = aws.endpoint
        # The handler's modules read the environment as they are imported and built.
        from bench.lambda_worker import Context, event  # noqa: PLC0415
        from thumbor_urls.allocator import keep_freed_memory  # noqa: PLC0415
        from thumbor_urls.aws import lambda_handler  # noqa: PLC0415

        keep_freed_memory()
        settings = lambda_handler.container_settings()
        with_bucket = settings.replace(RESULT_STORAGE_BUCKET=results)
        services = {
            "without": lambda_handler.Service(settings),
            "with": lambda_handler.Service(with_bucket),
        }
        later = _AfterTiming()
        lambda_handler._CONTAINER["after"] = later  # services built from now defer writes
        services["after"] = lambda_handler.Service(with_bucket)
        if latency:
            aws.proxy.inject("/", delay=latency / 1000)
        found: Runs = {job.id: {m: [] for m in MODES} for job in jobs}
        written = 0
        for index in range(rounds + 1):  # the first round untimed: warm
            for job in jobs:
                for mode in MODES if index % 2 else MODES[::-1]:
                    took = _request(lambda_handler, services[mode], event(job.url), Context())
                    later.write()  # after the answer: untimed
                    for stored in s3.list_objects_v2(Bucket=results).get("Contents", []):
                        s3.delete_object(Bucket=results, Key=stored["Key"])
                        written += 1
                    if index:
                        found[job.id][mode].append(took)
    return found, written


def _request(handler_module: Any, service: Any, request: dict[str, Any], context: Any) -> float:
    handler_module._CONTAINER["service"] = service
    with contextlib.redirect_stderr(io.StringIO()):  # its log line
        started = time.perf_counter()
        answer = handler_module.handler(request, context)
        took = (time.perf_counter() - started) * 1000
    if answer["statusCode"] != 200:
        raise SystemExit(f"status {answer['statusCode']}: {str(answer['body'])[:200]}")
    return took


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--latency", type=float, default=0.0, help="ms added to each S3 call")
    parser.add_argument("--jobs", default="", help="job kinds (bench/jobs.py keys); all if empty")
    args = parser.parse_args(argv)
    only = set(args.jobs.split(",")) if args.jobs else None
    found, written = measure(args.rounds, args.latency, only)
    print(f"{args.rounds} rounds, S3 answers {args.latency:g} ms late; ms, median")
    print(f"results written to the bucket (one per request with it, warm-up included): {written}")
    print(
        "| job | without | with the result bucket | with/without, per round "
        "| written after the answer | after/without, per round |"
    )
    print("|---|---|---|---|---|---|")
    for job, modes in found.items():
        median = {mode: f"{statistics.median(modes[mode]):.1f}" for mode in MODES}
        ratio = {mode: _paired(modes[mode], modes["without"]) for mode in ("with", "after")}
        print(
            f"| {job} | {median['without']} | {median['with']} | {ratio['with']} "
            f"| {median['after']} | {ratio['after']} |"
        )


def _paired(these: list[float], others: list[float]) -> str:
    return f"{statistics.median(a / b for a, b in zip(these, others, strict=True)):.2f}"


if __name__ == "__main__":
    main()
