"""Cold start of the Lambda handler, from a fresh process to its first response, against moto's
S3 in server mode (the tests' helper): `python -m bench.cold [--runs 9] [--images 800x600,20mp]`.

Each run spawns a fresh interpreter that imports `handler` (Lambda's init phase, timed inside)
and calls it once with an API Gateway v2 event (the first request, timed inside); the parent
times the whole, spawn to the first answer's line. Two modes, alternated run by run so that
the machine's load falls on both alike:

- `init`: `AWS_LAMBDA_FUNCTION_NAME` set, as on Lambda: handler.py builds the service (settings,
  App, S3 client) at import, with botocore as the Lambda zip has it (a copy of this
  environment's, trimmed by scripts/trim_botocore.py), and registers the extension that writes
  results after the answer with a stand-in for Lambda's runtime API (tests/lambda_runtime.py),
  which hands it the invocation's event: the first request's write comes after its answer.
- `lazy`: without it, as the tests import the handler: the first request builds the service.
- `base`: with `--base PATH`, the handler of another checkout (e.g. a worktree of the commit
  before), as `init` runs it but with this environment's botocore, untrimmed: the before and
  after of a change, run for run.
- `sih`: with `--sih DIR`, AWS's handler (DIR/source/image-handler installed as
  ../shared/peers/sih/README.md says, e.g. Dynamic Image Transformation v7.0.8), bundled by esbuild
  as its CDK stack bundles it (`--bundle --platform=node --external:sharp`), run by Node with
  sharp from DIR's node_modules, on a REST v1 event for `/fit-in/300x300/<photo>` from the same
  bucket: the bundle's `require` is its init, the first call its first request. It has no
  result bucket and no origin secret to read, which ours has as deployed.
- `snap`: as SnapStart initialises a version (`AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`), with
  a stand-in for Lambda's `snapshot_restore_py`: after the import the child runs the
  before-snapshot hooks, then times the after-restore hooks (`restore`) and the first request.
  What Lambda adds, bringing the snapshot's memory back, is not in it (docs/aws.md, SnapStart).

With `--tls`, every handler reaches moto through a TLS front on loopback (a certificate made
for the run, trusted through AWS_CA_BUNDLE with botocore's own certificates, and through
NODE_EXTRA_CA_CERTS by Node), as AWS's endpoints are reached: the CA bundle's parse and the
handshakes count; without it, plain HTTP. With `--latency MS`, every call to S3 or Secrets
Manager is answered MS later (the tests' fault proxy), as an endpoint in the region is not on
loopback: what overlaps the network and what waits for it shows.

As on a deployed stack, the service reads an origin secret from Secrets Manager (moto's) and the
event carries it, as CloudFront sends it. Each run gets an empty result bucket of its own, so
every first request reads the original and renders it, as a new deployment's first request does.
Bytecode is compiled first, as the Lambda zip carries it. Our modes run on an interpreter with
nothing installed (a venv made for the run, `site` as Lambda's runtime runs it) that finds this
environment's packages on PYTHONPATH, as Lambda finds the zip's in /var/task: the development
venv's own `.pth` files (the editable install's finder, setuptools' distutils shim), which no
deployment has, take 12-14 ms of a bare `python -c pass` here, about 4 ms of a cold start (the
modules they import are the handler's too). Numbers are medians with quartiles; on a shared
machine, compare them run for run.
"""

from __future__ import annotations

import argparse
import compileall
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import botocore  # type: ignore[import-untyped]
from PIL import Image

from tests.aws_fixtures import MotoAws, running_moto, tls_front
from tests.lambda_runtime import running_runtime_api

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
# AWS's handler, bundled: require() is Lambda's init for Node, the first call the request.
SIH_CHILD = """
const started = process.hrtime.bigint();
const { handler } = require(process.argv[1]);
const imported = process.hrtime.bigint();
handler(JSON.parse(process.argv[2])).then((answer) => {
  const done = process.hrtime.bigint();
  console.log(JSON.stringify({ status: answer.statusCode, initMs: Number(imported - started) / 1e6,
    restoreMs: 0, firstMs: Number(done - imported) / 1e6 }));
});
"""
SIH_PATH = "/fit-in/300x300/{key}"  # Thumbor's grammar, which AWS's handler also reads

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


Command = tuple[list[str], dict[str, str], Path]  # argv, environment, working directory


def sih_event(path: str) -> dict[str, Any]:
    return {
        "path": path,
        "httpMethod": "GET",
        "headers": {"Accept": "image/jpeg"},
        "queryStringParameters": None,
        "requestContext": {},
    }


def bundle_sih(folder: Path, into: Path) -> Path:
    """AWS's handler as its stack deploys it: one esbuild bundle with sharp left out."""
    handler = folder / "source" / "image-handler"
    bundle = into / "sih-index.js"
    esbuild = REPO / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [str(esbuild), str(handler / "index.ts"), "--bundle", "--platform=node",
         "--target=node20", "--external:sharp", f"--outfile={bundle}", "--log-level=warning"],
        check=True,
    )  # fmt: skip
    return bundle


def sih_command(
    aws: MotoAws, source: str, key: str, sih: Path, bundle: Path, tls: dict[str, str]
) -> Command:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(aws.env(), **tls)
    env.update(
        SOURCE_BUCKETS=source,
        ENABLE_SIGNATURE="No",
        CORS_ENABLED="No",
        AUTO_WEBP="No",
        ENABLE_DEFAULT_FALLBACK_IMAGE="No",
        NODE_PATH=str(sih / "source" / "image-handler" / "node_modules"),  # its sharp
    )
    event = json.dumps(sih_event(SIH_PATH.format(key=key)))
    return ["node", "-e", SIH_CHILD, str(bundle), event], env, REPO


def timed(command: Command, label: str) -> dict[str, float]:
    """Spawn `command`; its timings, and the wall clock from spawn to its answer's line (the
    first stdout line that starts with {"status": AWS's handler logs to stdout before it)."""
    argv, env, cwd = command
    started = time.perf_counter()
    with subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        answered = ""
        for line in child.stdout:
            if line.startswith('{"status"'):
                answered = line
                break
        wall = (time.perf_counter() - started) * 1000
        child.stdout.read()
        errors = child.stderr.read()
        child.wait(timeout=120)
    try:
        found = json.loads(answered)
    except ValueError:
        raise SystemExit(f"{label}: no answer\n{errors}") from None
    if found["status"] != 200:
        raise SystemExit(f"{label}: status {found['status']}\n{errors}")
    fields = ("initMs", "restoreMs", "firstMs")
    return {**{field: found[field] for field in fields}, "wallMs": wall}


def zipped_botocore(folder: Path) -> Path:
    """A copy of this environment's botocore, trimmed as the Lambda zip's is
    (scripts/trim_botocore.py) and compiled; the folder to put first on PYTHONPATH."""
    installed = Path(botocore.__file__).parent
    shutil.copytree(installed, folder / "botocore", ignore=shutil.ignore_patterns("__pycache__"))
    script = REPO / "scripts" / "trim_botocore.py"
    subprocess.run([sys.executable, str(script), str(folder / "botocore" / "data")], check=True)
    compileall.compile_dir(folder / "botocore", quiet=1)
    return folder


def bare_interpreter(folder: Path) -> Path:
    """This Python with nothing installed (a venv without pip): what our modes run on."""
    venv.create(folder, with_pip=False, symlinks=True)
    return folder / "bin" / "python"


def installed() -> list[str]:
    """This environment's site-packages, for PYTHONPATH (their .pth files are not run)."""
    found = [sysconfig.get_paths()[name] for name in ("purelib", "platlib")]
    return list(dict.fromkeys(found))


def our_command(
    aws: MotoAws,
    source: str,
    key: str,
    mode: str,
    hooks: Path,
    base: Path | None,
    site: Path,
    tls: dict[str, str],
    python: str = sys.executable,
) -> Command:
    repo = base if mode == "base" and base is not None else REPO
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(aws.env(), **tls)
    # init and snap as deployed: with the zip's trimmed botocore; lazy and base with this
    # environment's.
    path = [str(repo), *([str(site)] if mode in ("init", "snap") else [])]
    path += [str(hooks)] if mode == "snap" else []
    env.update(
        PYTHONPATH=os.pathsep.join([*path, *installed()]),
        SOURCE_BUCKETS=source,
        RESULT_STORAGE_BUCKET=aws.bucket("res"),  # empty: the request renders
        DETECTORS="",  # as deployed by default
        ORIGIN_SECRET=ORIGIN_SECRET,
    )
    if mode in ("init", "snap", "base"):
        env["AWS_LAMBDA_FUNCTION_NAME"] = "bench-cold"
    if mode == "snap":
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
    command = [python, "-c", CHILD, json.dumps(event(PATH.format(key=key)))]
    return command, env, repo


def summary(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values):.0f} ({quartiles[0]:.0f}-{quartiles[2]:.0f})"


Runs = dict[str, dict[str, list[dict[str, float]]]]  # photo -> mode -> its runs, in order


def measure(
    runs: int,
    images: list[str],
    modes: list[str],
    sih: Path | None = None,
    base: Path | None = None,
    tls: bool = False,
    latency: float = 0.0,
) -> Runs:
    """Every mode on every photo, `runs` rounds each, the modes alternated round by round: run i
    of every mode is from round i (bench/sih.py pairs them). `sih` and `base` put their modes
    first, as `main` does."""
    modes = [*(mode for mode, where in (("sih", sih), ("base", base)) if where), *modes]
    for repo in (REPO, base) if base is not None else (REPO,):
        compileall.compile_dir(repo / "thumbor_urls", quiet=1)
        compileall.compile_file(repo / "handler.py", quiet=1)
    found: Runs = {}
    with ExitStack() as stack:
        logs = stack.enter_context(tempfile.TemporaryDirectory())
        aws = stack.enter_context(running_moto(Path(logs)))
        # With `tls`, every handler reaches moto over TLS, trusting its certificate: ours
        # through AWS_CA_BUNDLE (botocore's own certificates and it), Node through
        # NODE_EXTRA_CA_CERTS.
        secure: dict[str, str] = {}
        if tls:
            url, certificate = stack.enter_context(tls_front(aws, Path(logs)))
            bundle_file = Path(logs) / "bundle.pem"
            bundle_file.write_bytes(
                (Path(botocore.__file__).parent / "cacert.pem").read_bytes()
                + certificate.read_bytes()
            )
            # Hashed beside it, as the zip has botocore's (without openssl: the bundle alone).
            hash_it = [sys.executable, str(REPO / "scripts" / "trim_botocore.py"), str(bundle_file)]
            subprocess.run(hash_it, check=False)
            secure = {
                "AWS_ENDPOINT_URL": url,
                "AWS_CA_BUNDLE": str(bundle_file),
                "NODE_EXTRA_CA_CERTS": str(certificate),
            }
        if latency:
            aws.proxy.inject("/", delay=latency / 1000)  # every path has a "/"
        hooks = Path(logs) / "hooks"
        hooks.mkdir()
        (hooks / "snapshot_restore_py.py").write_text(FAKE_HOOKS)
        bundle = bundle_sih(sih, Path(logs)) if sih is not None else None
        site = zipped_botocore(Path(logs) / "site")
        python = str(bare_interpreter(Path(logs) / "python"))
        source = aws.bucket("src")
        aws.client("secretsmanager").create_secret(Name=ORIGIN_SECRET, SecretString=ORIGIN_SECRET)
        s3 = aws.client("s3")
        for name in images:
            s3.put_object(Bucket=source, Key=f"{name}.jpg", Body=photo(SIZES[name]))

        def run(mode: str, key: str) -> dict[str, float]:
            if mode == "sih":
                assert sih is not None and bundle is not None
                return timed(sih_command(aws, source, key, sih, bundle, secure), f"sih {key}")
            command = our_command(aws, source, key, mode, hooks, base, site, secure, python)
            if mode not in ("init", "base"):
                return timed(command, f"{mode} {key}")
            # As on Lambda, a runtime API to register the result-writing extension with, and
            # the invocation's event for it: the first request's write goes after its answer.
            with running_runtime_api() as api:
                api.invoke("cold")  # the child's context's request id
                command[1]["AWS_LAMBDA_RUNTIME_API"] = api.address
                return timed(command, f"{mode} {key}")

        for name in images:
            key = f"{name}.jpg"
            for mode in modes:  # one untimed run each: the OS's file cache, moto's first answer
                run(mode, key)
            found[name] = {mode: [] for mode in modes}
            for index in range(runs):
                for mode in modes if index % 2 == 0 else modes[::-1]:
                    found[name][mode].append(run(mode, key))
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--images", default="800x600,20mp")
    parser.add_argument("--modes", default="lazy,init,snap")
    parser.add_argument("--base", type=Path, help="another checkout, timed as mode `base`")
    parser.add_argument("--sih", type=Path, help="AWS's handler installed there, mode `sih`")
    parser.add_argument("--tls", action="store_true", help="S3 and Secrets Manager over TLS")
    parser.add_argument("--latency", type=float, default=0.0, help="ms added to each AWS call")
    args = parser.parse_args(argv)
    chosen = args.modes.split(",")
    found = measure(
        args.runs, args.images.split(","), chosen, args.sih, args.base, args.tls, args.latency
    )
    for name, modes in found.items():
        for mode, runs in modes.items():
            report(name, mode, runs)
    if args.sih:  # and the ratios to AWS's handler, round by round, as `make bench` shows them
        from bench.sih import cold_table  # noqa: PLC0415 - bench/sih.py imports this module

        print("", *cold_table(found), sep="\n")


def report(name: str, mode: str, runs: list[dict[str, float]]) -> None:
    columns = {
        field: summary([run[field] for run in runs])
        for field in ("initMs", "restoreMs", "firstMs", "wallMs")
    }
    # snap: the spawn-to-answer time includes the init, which Lambda runs once per version,
    # before any request; restore + first request is what one waits for.
    restore = f"  restore hooks {columns['restoreMs']:>11}" if mode == "snap" else ""
    print(
        f"{name:8} {mode:5} init {columns['initMs']:>14}{restore}  first request "
        f"{columns['firstMs']:>14}  spawn to answer {columns['wallMs']:>14} ms  ({len(runs)} runs)",
        flush=True,
    )


if __name__ == "__main__":
    main()
