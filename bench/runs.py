"""Run-on-my-input latency: `POST /api/v1/runs` p50/p95 for Python and C hello, idle and saturated.

Run from the repository root: `.venv/bin/python bench/runs.py [--runs N] [--sandbox MODE]`.
In one run of this script it:
- creates a temporary data dir and SQLite database, migrates it, imports examples/problems/hello
  and creates a user with an API token (the helpers of bench/http.py);
- starts the app under Hypercorn on 127.0.0.1, as the Procfile serves it;
- sends `--runs` runs of a Python hello and `--runs` of a C hello (when C is offered) on
  sample 1, one after another as one person pressing Run, and times each from the call to the
  result: first with nothing being judged (the baseline), then while CPU-heavy submissions
  (Python busy loops, ~0.5 s of CPU per test) keep every evaluator slot busy and judgings
  waiting (the queue kept topped up through `/metrics`, as bench/http.py does);
- prints p50/p95 per language and phase, how busy the evaluator was, and the goal
  (DESIGN §8): p50 <= 1 s and p95 <= 2 s for Python while the evaluator is saturated.
It exits 0 when the goal is met.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# bench/http.py shadows the standard library's `http` (which httpx imports) when this folder is
# on the import path, as it is for a script run from here: take it off first.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from types import ModuleType  # noqa: E402

import httpx  # noqa: E402

from service import migrations  # noqa: E402
from service.evaluator import offered_ids  # noqa: E402

GOAL_P50_MS = 1000.0
GOAL_P95_MS = 2000.0
SOURCES = {
    "python3": 'print("Hello World!")\n',
    "c": '#include <stdio.h>\nint main(void) { puts("Hello World!"); return 0; }\n',
}


def load_http_bench() -> ModuleType:
    """Import bench/http.py under another name (``import http`` is the standard library)."""
    spec = importlib.util.spec_from_file_location("verdict_bench_http", HERE / "http.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


bench_http = load_http_bench()


async def time_runs(base: str, token: str, language: str, count: int) -> tuple[list[float], int]:
    """Send ``count`` runs one after another; return their latencies (s) and the failures."""
    body = {"problem": "hello", "language": language, "source": SOURCES[language], "sample": "1"}
    latencies: list[float] = []
    failures = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = await client.post("/api/v1/runs", json=body)
            elapsed = time.perf_counter() - started
            if response.status_code == 200 and response.json()["verdict"] == "AC":
                latencies.append(elapsed)
            else:
                failures += 1
                if failures == 1:
                    print(f"  run failed: {response.status_code} {response.text[:300]}")
    return latencies, failures


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """Return (p50, p95) in milliseconds."""
    measured = bench_http.Measurement(latencies=latencies)
    return measured.percentile(50), measured.percentile(95)


async def phase(base: str, token: str, languages: list[str], count: int) -> dict[str, tuple]:
    """Time every language once; return language -> (p50, p95, runs, failures)."""
    figures = {}
    for language in languages:
        latencies, failures = await time_runs(base, token, language, count)
        p50, p95 = percentiles(latencies)
        figures[language] = (p50, p95, len(latencies), failures)
    return figures


async def sample_busy(base: str, stop: asyncio.Event, samples: list[float]) -> None:
    """Record ``verdict_sandboxes_busy`` (judging's sandbox runs) every 0.2 s until ``stop``."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while not stop.is_set():
            page = (await client.get("/metrics")).text
            samples.append(bench_http.gauge(page, "verdict_sandboxes_busy"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)


async def main() -> int:
    """Set up, serve, measure idle then saturated, print; return 0 when the goal is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs per language and phase")
    parser.add_argument("--sandbox", help="sandbox mode (default: bwrap if available)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args()

    sandbox = bench_http.pick_sandbox(args.sandbox)
    concurrency = int(os.environ.get("EVALUATOR_CONCURRENCY") or os.cpu_count() or 1)
    languages = [language for language in SOURCES if language in offered_ids()]
    workdir = Path(tempfile.mkdtemp(prefix="verdict-bench-runs-"))
    data_dir = workdir / "data"
    database_url = f"sqlite+aiosqlite:///{workdir / 'verdict.db'}"
    port = bench_http.free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"cores: {os.cpu_count()}; sandbox: {sandbox}; evaluator slots: {concurrency}")
    print(f"languages: {', '.join(languages)}; runs per language and phase: {args.runs}")

    await asyncio.to_thread(migrations.upgrade, database_url, quiet=True)
    credentials = await bench_http.prepare(data_dir, database_url, sandbox)
    env = bench_http.environment(data_dir, database_url, sandbox, port)
    env["EVALUATOR_CONCURRENCY"] = str(concurrency)
    env["RUN_RATE_LIMIT"] = "100000/1"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hypercorn",
            "asgi:app",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "uvloop",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "server.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    load = bench_http.Load(
        base, credentials, queue_target=max(2, concurrency), max_running=concurrency
    )
    stop = asyncio.Event()
    producer: asyncio.Task[None] | None = None
    sandboxes_busy: list[float] = []
    try:
        await bench_http.wait_until_up(base, server)
        print("warming up...")
        await phase(base, credentials.api_token, languages, 3)
        print("idle...")
        idle = await phase(base, credentials.api_token, languages, args.runs)
        print("saturating the evaluator...")
        producer = asyncio.create_task(load.run(stop))
        await load.wait_busy()
        load.recording = True
        print("saturated...")
        sampled = asyncio.Event()
        sampler = asyncio.create_task(sample_busy(base, sampled, sandboxes_busy))
        loaded = await phase(base, credentials.api_token, languages, args.runs)
        sampled.set()
        await sampler
        load.recording = False
    finally:
        stop.set()
        if producer is not None:
            await producer
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"{'language':<10} {'phase':<10} {'p50 ms':>8} {'p95 ms':>8} {'runs':>5} {'failed':>6}")
    for name, figures in (("idle", idle), ("saturated", loaded)):
        for language, (p50, p95, runs, failures) in figures.items():
            print(f"{language:<10} {name:<10} {p50:>8.0f} {p95:>8.0f} {runs:>5} {failures:>6}")
    busy = load.busy_samples
    mean_busy = sum(busy) / len(busy) if busy else 0.0
    queued = load.queue_samples
    mean_queued = sum(queued) / len(queued) if queued else 0.0
    mean_sandboxes = sum(sandboxes_busy) / len(sandboxes_busy) if sandboxes_busy else 0.0
    print(
        f"while saturated: {mean_sandboxes:.1f} of judging's {concurrency} sandbox slots busy "
        f"on average, {mean_busy:.1f} judgings running and {mean_queued:.1f} waiting; "
        f"{load.submitted} submissions sent"
    )
    p50, p95, _, failures = loaded["python3"]
    met = p50 <= GOAL_P50_MS and p95 <= GOAL_P95_MS and failures == 0
    print(
        f"goal (Python, saturated): p50 <= {GOAL_P50_MS:.0f} ms and p95 <= {GOAL_P95_MS:.0f} ms: "
        f"{'met' if met else 'NOT met'} (p50 {p50:.0f} ms, p95 {p95:.0f} ms)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
