"""Throughput of the bench's jobs with 1 and with 4 threads in one process: where the GIL is held.

`python -m bench.threads [--rounds N] [--threads K] [--per-job] [--jobs KEY,...]`: our engine
(the App, as bench/worker.py drives it, the allocator set up as at start) runs every job of
bench/jobs.py on the corpus. Each round runs the whole job list by 1 thread, then by K threads
(each thread the whole list, from its own starting point); throughput is jobs a second, and the
ratio is K threads' throughput over 1 thread's in the same round. On 2 cores the ratio cannot
pass 2; a job whose C code holds the GIL (or that loops in Python) stays near 1.

`--per-job` then does the same per job (4 runs one after the other against 4 at once), to find
the jobs that do not scale, with the cores one run keeps busy on its own (above 1: the encoder's
own threads, as AVIF's).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from bench import jobs as jobs_module
from bench.engines import Engines
from thumbor_urls.allocator import keep_freed_memory

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "tests" / "corpus"
CACHE = HERE / ".cache"

JobSpec = dict[str, Any]


class Timing(NamedTuple):
    wall: float  # seconds
    cpu: float  # this process's CPU seconds (all threads) meanwhile


def _run_all(engines: Engines, specs: Sequence[JobSpec], threads: int) -> Timing:
    """How long `threads` threads take to run every job once each."""
    errors: list[BaseException] = []

    def work(start: int) -> None:
        try:
            for index in range(len(specs)):
                engines.ours(specs[(start + index) % len(specs)])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [
        threading.Thread(target=work, args=(index * len(specs) // threads,))
        for index in range(threads)
    ]
    started, cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    if errors:
        raise errors[0]
    return Timing(elapsed, used)


_CONTROL_DATA = bytes(range(256)) * (1 << 14)  # 4 MiB


def _control(threads: int, total: int = 48) -> Timing:
    """A workload that never holds the GIL (hashlib drops it for large buffers), `total` hashes
    shared out among `threads` threads: what this machine gives 4 threads against 1 right now,
    with whatever else it is running."""

    def work(count: int) -> None:
        for _ in range(count):
            hashlib.sha256(_CONTROL_DATA).digest()

    workers = [threading.Thread(target=work, args=(total // threads,)) for _ in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return Timing(time.perf_counter() - started, time.process_time() - cpu)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--per-job", action="store_true")
    parser.add_argument("--jobs", default="", help="comma-separated job keys (default: all)")
    args = parser.parse_args(argv)
    keep_freed_memory()  # as the server and the Lambda handler do at start
    only = set(args.jobs.split(",")) if args.jobs else None
    inputs = jobs_module.corpus_inputs(CORPUS, CACHE / "inputs")
    specs = [job.as_json() for job in jobs_module.expand(inputs, only)]
    engines = Engines()
    for spec in specs:  # warm up: originals in memory, imports, the allocator's pools
        engines.ours(spec)
    ratios, per_cpu, controls = [], [], []
    print(f"{len(specs)} jobs; {args.threads} threads against 1, {args.rounds} rounds")
    # CPU used over wall time tells a GIL (a process that cannot use more than one core
    # although others are free) from a machine whose other cores are busy with other work;
    # jobs per CPU second tells whether threads make each job cost more CPU.
    for round_index in range(args.rounds):
        control = _control(1).wall / _control(args.threads).wall
        controls.append(control)
        alone = _run_all(engines, specs, 1)
        together = _run_all(engines, specs, args.threads)
        one, many = len(specs) / alone.wall, args.threads * len(specs) / together.wall
        ratios.append(many / one)
        per_cpu.append((args.threads / together.cpu) / (1 / alone.cpu))
        print(
            f"round {round_index + 1}: 1 thread {one:.2f} jobs/s (CPU {alone.cpu / alone.wall:.2f}"
            f" cores), {args.threads} threads {many:.2f} jobs/s (CPU "
            f"{together.cpu / together.wall:.2f} cores), ratio {many / one:.2f}, jobs per CPU "
            f"second {per_cpu[-1]:.2f}x; GIL-free control {control:.2f}",
            flush=True,
        )
    print(f"median ratio {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")
    print(
        f"median GIL-free control ratio (what the machine gave): {statistics.median(controls):.2f}"
    )
    print(
        f"median jobs per CPU second, {args.threads} threads against 1: "
        f"{statistics.median(per_cpu):.2f}"
    )
    if args.per_job:
        print(f"\n{'job':40} {'1 thread ms':>12} {'its cores':>9} {'ratio':>6}")
        for spec in specs:
            job_ratios, single, cores = [], [], []
            for _ in range(args.rounds):
                sequential = _run_all(engines, [spec] * args.threads, 1)
                concurrent = _run_all(engines, [spec], args.threads)
                single.append(sequential.wall / args.threads * 1000)
                cores.append(sequential.cpu / sequential.wall)
                job_ratios.append(sequential.wall / concurrent.wall)
            print(
                f"{spec['id'][:40]:40} {statistics.median(single):12.1f} "
                f"{statistics.median(cores):9.2f} {statistics.median(job_ratios):6.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
