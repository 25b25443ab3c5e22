"""Cold start of the Lambda handler, from a fresh process to its first response, against moto's
S3 in server mode (the tests' helper): `python -m bench.cold [--runs 9] [--images 800x600,20mp]`.

Each run spawns a fresh interpreter that imports `handler` (Lambda's init phase, timed inside)
and calls it once with an API Gateway v2 event (the first request, timed inside); the parent
times the whole, spawn to the first answer's line. Two modes, alternated run by run so that
the machine's load falls on both alike:

- `init`: `AWS_LAMBDA_FUNCTION_NAME` set, as on Lambda: handler.py builds the service (settings,
  App, S3 client) at import.
- `lazy`: without it, as the tests import the handler: the first request builds the service.
- `base`: with `--base PATH`, the handler of another checkout (e.g. a worktree of the commit
  before), as `init` runs it: the before and after of a change, run for run.
- `snap`: as SnapStart initialises a version (`AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`), with
  a stand-in for Lambda's `snapshot_restore_py`: after the import the child runs the
  before-snapshot hooks, then times the after-restore hooks (`restore`) and the first request.
  What Lambda adds, bringing the snapshot's memory back, is not in it (docs/aws.md, SnapStart).

As on a deployed stack, the service reads an origin secret from Secrets Manager (moto's) and the
event carries it, as CloudFront sends it. Each run gets an empty result bucket of its own, so
every first request reads the original and renders it, as a new deployment's first request does.
Bytecode is compiled first, as the Lambda zip carries it. Numbers are medians with quartiles; on
a shared machine, compare them run for run.
"""

from __future__ import annotations

import argparse
import compileall
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

from tests.aws_fixtures import MotoAws, running_moto

REPO = Path(__file__).resolve().parent.parent
PATH = "/unsafe/fit-in/300x300/{key}"

# The child: the import of handler.py is Lambda's init, the first call its first invocation.
CHILD = """
import json, sys, time
started = time.perf_counter()
import handler
imported = time.perf_counter()

class Context:
    aws_request_id = "cold"
    def get_remaining_time_in_millis(self):
        return 29000

restored = imported
hooks = sys.modules.get("snapshot_restore_py")
if hooks is not None:  # snap: the snapshot is taken here; the restore starts after it
    for hook in hooks.before:
        hook()
    restoring = time.perf_counter()
    for hook in hooks.after:
        hook()
    restored = time.perf_counter()
event = json.loads(sys.argv[1])
answer = handler.handler(event, Context())
done = time.perf_counter()
print(json.dumps({"status": answer["statusCode"], "initMs": (imported - started) * 1000,
                  "restoreMs": (restored - restoring) * 1000 if hooks else 0.0,
                  "firstMs": (done - restored) * 1000}), flush=True)
"""
# Lambda's module registers the hooks; this one keeps them for the child to run.
FAKE_HOOKS = """
before, after = [], []
register_before_snapshot = before.append
register_after_restore = after.append
"""

SIZES = {"800x600": (800, 600), "20mp": (5472, 3648)}
ORIGIN_SECRET = "bench-origin-secret"  # noqa: S105 - moto's secret: its name and its value


def photo(size: tuple[int, int]) -> bytes:
    """A JPEG of `size` from the astronaut sample (a photo, so the codec does real work)."""
    with Image.open(REPO / "samples" / "astronaut.jpg") as sample:
        image = sample.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def event(path: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"accept": "image/jpeg", "x-origin-verify": ORIGIN_SECRET},
        "requestContext": {"http": {"method": "GET", "path": path}},
        "isBase64Encoded": False,
    }


def one_run(
    aws: MotoAws, source: str, key: str, mode: str, hooks: Path, base: Path | None = None
) -> dict[str, float]:
    repo = base if mode == "base" and base is not None else REPO
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(aws.env())
    env.update(
        PYTHONPATH=os.pathsep.join([str(repo), *([str(hooks)] if mode == "snap" else [])]),
        SOURCE_BUCKETS=source,
        RESULT_STORAGE_BUCKET=aws.bucket("res"),  # empty: the request renders
        DETECTORS="",  # as deployed by default
        ORIGIN_SECRET=ORIGIN_SECRET,
    )
    if mode in ("init", "snap", "base"):
        env["AWS_LAMBDA_FUNCTION_NAME"] = "bench-cold"
    if mode == "snap":
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
    command = [sys.executable, "-c", CHILD, json.dumps(event(PATH.format(key=key)))]
    started = time.perf_counter()
    with subprocess.Popen(
        command, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        answered = child.stdout.readline()  # the first answer, before the interpreter's exit
        wall = (time.perf_counter() - started) * 1000
        errors = child.stderr.read()
        child.wait(timeout=120)
    try:
        line = json.loads(answered)
    except ValueError:
        raise SystemExit(f"{mode} {key}: no answer\n{errors}") from None
    if line["status"] != 200:
        raise SystemExit(f"{mode} {key}: status {line['status']}\n{errors}")
    fields = ("initMs", "restoreMs", "firstMs")
    return {**{field: line[field] for field in fields}, "wallMs": wall}


def summary(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values):.0f} ({quartiles[0]:.0f}-{quartiles[2]:.0f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--images", default="800x600,20mp")
    parser.add_argument("--modes", default="lazy,init,snap")
    parser.add_argument("--base", type=Path, help="another checkout, timed as mode `base`")
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    if args.base is not None:
        modes.insert(0, "base")
    for repo in (REPO, args.base) if args.base is not None else (REPO,):
        compileall.compile_dir(repo / "thumbor_urls", quiet=1)
        compileall.compile_file(repo / "handler.py", quiet=1)
    with tempfile.TemporaryDirectory() as logs, running_moto(Path(logs)) as aws:
        hooks = Path(logs) / "hooks"
        hooks.mkdir()
        (hooks / "snapshot_restore_py.py").write_text(FAKE_HOOKS)
        source = aws.bucket("src")
        aws.client("secretsmanager").create_secret(Name=ORIGIN_SECRET, SecretString=ORIGIN_SECRET)
        s3 = aws.client("s3")
        for name in args.images.split(","):
            s3.put_object(Bucket=source, Key=f"{name}.jpg", Body=photo(SIZES[name]))
        for name in args.images.split(","):
            key = f"{name}.jpg"
            for mode in modes:  # one untimed run each: the OS's file cache, moto's first answer
                one_run(aws, source, key, mode, hooks, args.base)
            runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
            for index in range(args.runs):
                order = modes if index % 2 == 0 else modes[::-1]
                for mode in order:
                    runs[mode].append(one_run(aws, source, key, mode, hooks, args.base))
            for mode in modes:
                columns = {
                    field: summary([run[field] for run in runs[mode]])
                    for field in ("initMs", "restoreMs", "firstMs", "wallMs")
                }
                # snap: the spawn-to-answer time includes the init, which Lambda runs once
                # per version, before any request; restore + first request is what one waits.
                restore = f"  restore hooks {columns['restoreMs']:>11}" if mode == "snap" else ""
                print(
                    f"{name:8} {mode:5} init {columns['initMs']:>14}{restore}  first request "
                    f"{columns['firstMs']:>14}  spawn to answer {columns['wallMs']:>14} ms"
                    f"  ({args.runs} runs)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
