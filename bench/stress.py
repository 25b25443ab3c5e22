"""`make stress`: the local server under concurrent clients mixing normal and hostile requests.

Starts `python -m thumbor_urls serve` on 127.0.0.1 over a temporary folder (the samples and the
files of tests/hostile_files.py), with no result storage, so every request is processed. For
--seconds, --clients threads each send requests drawn from a fixed mix (two normal for every
hostile one); a sampler reads the server's resident memory every 20 ms. It then waits for the
server to go idle and reads its memory again.

It passes (exit status 0) when: no answer was a 5xx other than 503; every normal request was
answered 200; every hostile one got the status it should; the server's peak resident memory
stayed under --max-rss-mb; and its idle memory at the end is within --idle-margin-mb of its idle
memory before the load. It prints what it measured either way.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

from tests import hostile_files as hostile
from tests.helpers import Server, clean_env, running_server

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


class Kind(NamedTuple):
    path: str
    statuses: frozenset[int]  # what it must be answered with
    hostile: bool


def _normal(path: str) -> Kind:
    return Kind(path, frozenset({200}), False)


def _hostile(path: str, *statuses: int) -> Kind:
    return Kind(path, frozenset(statuses), True)


def _nested_extract_focal(levels: int) -> str:
    path = "astronaut.jpg"
    for _ in range(levels):
        path = f"h:1/unsafe/1x1:9x9/filters:extract_focal()/{path}"
    return f"/unsafe/filters:extract_focal()/{path}"


NORMAL = (
    _normal("/unsafe/fit-in/300x300/dandelions.jpg"),
    _normal("/unsafe/800x600/smart/dandelions.jpg"),
    _normal("/unsafe/400x0/filters:format(webp):quality(70)/dandelions-cutout.png"),
    _normal("/unsafe/200x200/filters:grayscale():round_corner(20,255,255,255)/astronaut.jpg"),
    _normal("/unsafe/fit-in/240x240/pan.gif"),
    _normal("/unsafe/fit-in/240x240/filters:format(webp)/pan.webp"),
    _normal("/unsafe/600x0/filters:blur(6,2):sharpen(1,1,true)/dandelions-exif-rotated.jpg"),
    _normal("/unsafe/1200x800/filters:watermark(astronaut.png,-10,-10,50,20)/dandelions.jpg"),
    _normal("/unsafe/fit-in/1000x1000/filters:fill(blur):format(avif)/astronaut.png"),
)
HOSTILE = (
    _hostile(_nested_extract_focal(24), 400),
    _hostile("/unsafe/100x100/far.gif", 413),
    _hostile("/unsafe/fit-in/100x100/many.gif", 413),
    _hostile("/unsafe/100x100/huge.gif", 413),
    _hostile("/unsafe/fit-in/16383x16383/filters:upscale()/tiny.png", 413),
    _hostile("/unsafe/filters:blur(150)/big.jpg", 413),
    _hostile("/unsafe/filters:" + ":".join(["blur(150)"] * 20) + "/medium.png", 413),
    _hostile("/unsafe/filters:frame(patch.png)/small.png", 413),
    _hostile("/unsafe/" + "a" * 296 + ".jpg", 404),
    _hostile("/unsafe/100x100/x.jpg", 415),
    _hostile("/unsafe/legacy.jpg", 415),
    # Near the budget, but within it: the most each thread may hold at once.
    _hostile(
        "/unsafe/filters:"
        + ":".join(f"watermark({'/' * i}big.jpg,0,0,0)" for i in range(1, 21))
        + "/small.png",
        200,
    ),
    _hostile("/unsafe/filters:blur(60):format(jpeg)/noise.png", 200, 413),
    _hostile("/unsafe/filters:quality(95)/big.jpg", 200, 413),
)


def make_root(folder: Path) -> None:
    for name in ("astronaut.jpg", "astronaut.png", "dandelions.jpg", "dandelions-cutout.png",
                 "dandelions-exif-rotated.jpg", "pan.gif", "pan.webp"):  # fmt: skip
        shutil.copy(SAMPLES / name, folder / name)
    files = {
        "far.gif": hostile.gif_frame_far_outside(),
        "many.gif": hostile.gif_many_frames(),
        "huge.gif": hostile.gif_huge_screen(),
        "tiny.png": hostile.photo((16, 16), "PNG"),
        "small.png": hostile.photo((500, 500), "PNG"),
        "medium.png": hostile.photo((1500, 1500), "PNG"),  # 20 blur(150) over the CPU budget
        "big.jpg": hostile.photo((4000, 4000)),
        "noise.png": hostile.noise_png((1200, 900)),
        "patch.png": hostile.nine_patch(3000),
        "x.jpg": hostile.POSTSCRIPT,
        "legacy.jpg": hostile.legacy("TGA"),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)


def resident_mib(pid: int, field: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


class Result(NamedTuple):
    kind: Kind
    status: int
    seconds: float


def client(server: Server, stop: float, seed: int, results: list[Result]) -> None:
    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not a secret
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    while time.monotonic() < stop:
        kind = rng.choice(HOSTILE) if rng.random() < 1 / 3 else rng.choice(NORMAL)
        started = time.perf_counter()
        try:
            connection.request("GET", kind.path)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            status = 0
        results.append(Result(kind, status, time.perf_counter() - started))
    connection.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stress", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="the server's (serve --threads)")
    parser.add_argument("--max-rss-mb", type=float, default=1024.0)
    parser.add_argument("--idle-margin-mb", type=float, default=100.0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="stress-") as temporary:
        root = Path(temporary, "root")
        root.mkdir()
        make_root(root)
        env = clean_env(RESULT_STORAGE_FILE_STORAGE_ROOT_PATH="")
        logs = Path(temporary, "logs")
        with running_server(root, logs, env, "--threads", str(args.threads)) as server:
            return load(server, args)


def load(server: Server, args: argparse.Namespace) -> int:
    pid = server.process.pid
    for kind in NORMAL:  # every codec and table loaded, as in a server that has been up a while
        server.request(kind.path)
    time.sleep(1.0)
    idle_before = resident_mib(pid)
    results: list[Result] = []
    samples: list[float] = []
    stop = time.monotonic() + args.seconds
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            samples.append(resident_mib(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    workers = [
        threading.Thread(target=client, args=(server, stop, seed, results))
        for seed in range(args.clients)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    sampler.join()
    peak = max(max(samples, default=0.0), resident_mib(pid, "VmHWM"))
    time.sleep(2.0)  # idle: nothing in flight
    idle_after = resident_mib(pid)
    return report(args, results, idle_before, idle_after, peak)


def report(
    args: argparse.Namespace,
    results: list[Result],
    idle_before: float,
    idle_after: float,
    peak: float,
) -> int:
    normal = [r for r in results if not r.kind.hostile]
    hostile_results = [r for r in results if r.kind.hostile]
    by_status = collections.Counter(r.status for r in results)
    errors = [r for r in results if (r.status >= 500 and r.status != 503) or r.status == 0]
    unexpected = [r for r in results if r.status not in r.kind.statuses and r.status != 503]
    latencies = [r.seconds for r in normal if r.status == 200]
    print(
        f"{len(results)} requests in {args.seconds:.0f} s from {args.clients} clients "
        f"(server: {args.threads} threads): {len(normal)} normal, {len(hostile_results)} hostile"
    )
    print("statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
    if latencies:
        p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
        print(
            f"normal requests answered 200: {len(latencies)} of {len(normal)}; latency p50 "
            f"{p50 * 1e3:.0f} ms, p99 {p99 * 1e3:.0f} ms, max {max(latencies) * 1e3:.0f} ms"
        )
    print(
        f"server resident memory: idle {idle_before:.0f} MiB before, peak {peak:.0f} MiB, "
        f"idle {idle_after:.0f} MiB after ({idle_after - idle_before:+.0f} MiB)"
    )
    failures = []
    if errors:
        failures.append(f"{len(errors)} answers were 5xx other than 503: {errors[:3]}")
    if unexpected:
        failures.append(f"{len(unexpected)} answers had the wrong status: {unexpected[:3]}")
    if not latencies:
        failures.append("no normal request was answered")
    if peak >= args.max_rss_mb:
        failures.append(f"peak resident memory {peak:.0f} MiB >= {args.max_rss_mb:.0f}")
    if idle_after - idle_before > args.idle_margin_mb:
        failures.append(
            f"idle memory grew by {idle_after - idle_before:.0f} MiB (> {args.idle_margin_mb:.0f})"
        )
    for failure in failures:
        print(f"FAIL: {failure}")
    print("PASS" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
