"""Verdict against the Flask app it replaces, side by side on this machine, in one run.

Run from the repository root: `make bench` (every scenario, several rounds, then
docs/benchmarks.md and docs/benchmarks.png), or `.venv/bin/python bench/compare.py [options]`.
The baseline (bench/flask_baseline/, gunicorn sync workers, one per core) runs from its own
virtual environment, bench/.venv-flask (`make bench-venv`). Both apps sign in through the same
slow fake Google (bench/fake_google.py, loopback only) and read the same SQLite database.

Scenarios, each printing Verdict, the baseline and their ratio:
- sign-in: N callbacks at once (the code exchange waits ``--delay`` at the provider): wall
  time and p99; goal: Verdict < 2 s and at least 10x better than the baseline;
- `GET /problems` from 50 readers (a random pause of mean ``--think`` s between requests)
  while 20 CPU-heavy submissions are judged: p50 and p99; goal: Verdict p99 < 100 ms;
- `GET /problems` at saturation: requests per second per core, Verdict with one and two
  Hypercorn workers against the baseline;
- memory: resident size of each server (all its processes) at rest and at the sign-in peak;
- the sandbox (bench/sandbox.py): latency and throughput against bare spawns.
Each figure is the median of ``--rounds`` rounds, with min-max.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE_VENV = HERE / ".venv-flask"
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-client-secret"
SIGNIN_GOAL_SECONDS = 2.0
SIGNIN_GOAL_RATIO = 10.0
JUDGING_GOAL_P99_MS = 100.0


REPORT = """# Benchmarks: Verdict against the Flask app it replaces

Written by `make bench` (`bench/compare.py --rounds {rounds} --write`) on {day}, on this
project's development machine: {cores} cores, sandbox `{sandbox}`. Each figure is the median of
{rounds} rounds, with min–max in brackets. Lower is better, except requests per second.

Both apps sign in through the same slow fake Google (`bench/fake_google.py`, on loopback:
discovery and keys at once, the token endpoint after {delay:g} ms) and read the same SQLite
database. The baseline (`bench/flask_baseline/`) is Flask 3 with Authlib's Flask client
(requests underneath), served by gunicorn with one sync worker per core, and judges a
submission inside the request. Verdict is served by Hypercorn (uvloop) as the Procfile does and
judges in its evaluator pool, in the bubblewrap sandbox.

{table}

![Verdict against the Flask baseline](benchmarks.png)

Goals: {goals}

How each figure is taken: the sign-in burst first starts every sign-in (`GET /login`, one
client and connection per person), then sends all callbacks at once and times until the last
one is answered; memory is the resident size of the server's whole process tree, sampled every
50 ms during that burst. `GET /problems` is the signed-in HTML page. "While judging": 50
readers, each pausing a random time of mean {think:g} s between requests (people clicking), from
the first of {submissions} submissions (a Python program burning {cpu:g} s of CPU per test, 2
tests) until the last is judged. "At saturation": 50 closed-loop keep-alive clients (gunicorn's
sync workers close each connection; the client reconnects). The sandbox rows come from
`bench/sandbox.py`'s measurement. A quick run: `.venv/bin/python bench/compare.py --smoke`.
"""


def _load(name: str) -> Any:
    """Import a sibling bench script as a module (``http.py`` would shadow the stdlib)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


web = _load("http")  # also fixes sys.path for `service` and the stdlib `http`
sandbox_bench = _load("sandbox")
fake_google = _load("fake_google")

import httpx  # noqa: E402

from service import migrations  # noqa: E402


@dataclass
class Server:
    """A server under test: its name, base URL and process group."""

    name: str
    base: str
    process: subprocess.Popen[bytes]

    def rss_bytes(self) -> int:
        """Return the resident size of the server's process and all its descendants."""
        return sum(_rss(pid) for pid in _tree(self.process.pid))

    def cpu_seconds(self) -> float:
        """Return the CPU time (user + system) the server's processes have used so far."""
        return sum(_cpu(pid) for pid in _tree(self.process.pid))

    def stop(self) -> None:
        """Stop the whole process group, politely first."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _tree(root: int) -> Iterator[int]:
    """Yield ``root`` and every descendant pid (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    stack = [root]
    while stack:
        pid = stack.pop()
        yield pid
        stack.extend(children.get(pid, []))


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5), the 12th and 13th after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def spawn(command: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> Any:
    """Start ``command`` in its own process group, output to ``log``."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),
        start_new_session=True,
    )


async def wait_http(base: str, path: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until ``base + path`` answers at all (any status)."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{base}: the process exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                await client.get(path)
                return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not answer within 60 s")


@dataclass
class Setup:
    """The temporary world both apps share."""

    workdir: Path
    database_url: str
    database_file: Path
    sandbox: str
    credentials: Any
    issuer: str
    google: subprocess.Popen[bytes] | None = None
    servers: list[Server] = field(default_factory=list)

    def verdict_env(self, port: int) -> dict[str, str]:
        """Return Verdict's environment, signing in through the fake Google."""
        env = web.environment(self.workdir / "data", self.database_url, self.sandbox, port)
        env.update(
            {
                "OIDC_ISSUER": self.issuer,
                "GOOGLE_CLIENT_ID": CLIENT_ID,
                "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            }
        )
        return env

    async def start_verdict(self, workers: int) -> Server:
        """Serve Verdict under Hypercorn (uvloop) as the Procfile does."""
        port = web.free_port()
        command = [sys.executable, "-m", "hypercorn", "asgi:app", "--bind", f"127.0.0.1:{port}"]
        command += ["--worker-class", "uvloop", "--workers", str(workers)]
        log = self.workdir / f"verdict-{workers}w.log"
        server = Server(f"Verdict ({workers}w)", f"http://127.0.0.1:{port}", None)  # type: ignore[arg-type]
        server.process = spawn(command, self.verdict_env(port), log)
        self.servers.append(server)
        await wait_http(server.base, "/healthz", server.process)
        return server

    async def start_baseline(self) -> Server:
        """Serve the Flask baseline under gunicorn, one sync worker per core."""
        port = web.free_port()
        workers = os.cpu_count() or 1
        gunicorn = BASELINE_VENV / "bin" / "gunicorn"
        command = [str(gunicorn), "--workers", str(workers), "--worker-class", "sync"]
        command += ["--bind", f"127.0.0.1:{port}", "--backlog", "2048", "app:app"]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "BASELINE_ISSUER": self.issuer,
            "BASELINE_CLIENT_ID": CLIENT_ID,
            "BASELINE_CLIENT_SECRET": CLIENT_SECRET,
            "BASELINE_DB": str(self.database_file),
            "BASELINE_USERS": str(self.workdir / "baseline-people.db"),
            "BASELINE_PROBLEMS": str(ROOT / "examples" / "problems"),
            "BASELINE_SECRET": web.SECRET_KEY,
        }
        log = self.workdir / "baseline.log"
        server = Server("Flask baseline", f"http://127.0.0.1:{port}", None)  # type: ignore[arg-type]
        server.process = spawn(command, env, log, cwd=HERE / "flask_baseline")
        self.servers.append(server)
        await wait_http(server.base, "/", server.process)
        return server

    def stop(self, server: Server) -> None:
        """Stop one server and forget it."""
        server.stop()
        self.servers.remove(server)


async def start_google(workdir: Path, delay: float) -> tuple[str, subprocess.Popen[bytes]]:
    """Start the slow fake Google; return its issuer URL and process."""
    port = web.free_port()
    command = [sys.executable, str(HERE / "fake_google.py"), "--port", str(port)]
    command += ["--delay", str(delay), "--client-id", CLIENT_ID]
    process = spawn(command, dict(os.environ), workdir / "google.log")
    issuer = f"http://127.0.0.1:{port}"
    await wait_http(issuer, "/jwks", process)
    return issuer, process


# --- scenarios ---------------------------------------------------------------------------


def percentile(values: list[float], share: int) -> float:
    """Return the ``share``-th percentile of ``values`` (nan for fewer than two)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


@dataclass
class SignIns:
    """One burst of concurrent callbacks."""

    wall: float
    p99: float
    failures: int
    rss_rest: int
    rss_peak: int
    cpu_each: float  # the server's CPU seconds per sign-in (both steps), whatever the load


async def sign_in_burst(server: Server, count: int) -> SignIns:
    """Start ``count`` sign-ins, then finish all their callbacks at once."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=server.base, limits=limits, timeout=120) for _ in range(count)
    ]
    try:
        callbacks = []
        stamp = time.monotonic_ns()
        cpu_before = server.cpu_seconds()
        for number, client in enumerate(clients):
            started = await client.get("/login")
            if started.status_code not in (302, 303):
                raise RuntimeError(f"{server.name}: /login answered {started.status_code}")
            query = dict(
                urllib.parse.parse_qsl(urllib.parse.urlsplit(started.headers["location"]).query)
            )
            code = fake_google.make_code(f"bench-{stamp}-{number}", query["nonce"])
            callbacks.append(
                f"/login/callback?{urllib.parse.urlencode({'code': code, 'state': query['state']})}"
            )
        rest = server.rss_bytes()
        peak = rest
        sampling = True

        async def sample() -> None:
            nonlocal peak
            while sampling:
                peak = max(peak, server.rss_bytes())
                await asyncio.sleep(0.05)

        async def finish(client: httpx.AsyncClient, url: str) -> float | None:
            start = time.perf_counter()
            answer = await client.get(url)
            elapsed = time.perf_counter() - start
            signed_in = answer.status_code in (302, 303) and "/login" not in answer.headers.get(
                "location", ""
            )
            return elapsed if signed_in else None

        sampler = asyncio.create_task(sample())
        begin = time.perf_counter()
        results = await asyncio.gather(
            *(finish(c, u) for c, u in zip(clients, callbacks, strict=True))
        )
        wall = time.perf_counter() - begin
        cpu_each = (server.cpu_seconds() - cpu_before) / count
        sampling = False
        await sampler
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    times = [value for value in results if value is not None]
    return SignIns(wall, percentile(times, 99), count - len(times), rest, peak, cpu_each)


async def baseline_cookie(server: Server) -> str:
    """Sign in to the baseline once and return its session cookie header."""
    async with httpx.AsyncClient(base_url=server.base) as client:
        started = await client.get("/login")
        query = dict(
            urllib.parse.parse_qsl(urllib.parse.urlsplit(started.headers["location"]).query)
        )
        code = fake_google.make_code("bench-reader", query["nonce"])
        done = await client.get(f"/login/callback?code={code}&state={query['state']}")
        if done.status_code != 302:
            raise RuntimeError(f"baseline sign-in failed: {done.status_code} {done.text[:200]}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def page_load(
    server: Server,
    cookie: str,
    clients: int,
    until: Callable[[], bool],
    limit: float,
    think: float = 0.0,
) -> Any:
    """Measure `GET /problems` from ``clients`` clients until ``until()`` or ``limit`` s.

    With ``think`` 0 each client sends its next request as soon as the last is answered
    (saturation); otherwise it pauses a random time of mean ``think`` seconds between them
    (people clicking: Poisson arrivals).
    """
    address = server.base.removeprefix("http://")
    host, _, port = address.partition(":")
    request = f"GET /problems HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n".encode()
    result = web.Measurement()
    pool = [web.RawClient(host, int(port), request) for _ in range(clients)]
    stop_at = time.monotonic() + limit

    async def loop(client: Any) -> None:
        if think:
            await asyncio.sleep(random.uniform(0, think))
        while time.monotonic() < stop_at and not until():
            start = time.perf_counter()
            try:
                ok = await client.get() == 200
            except (OSError, ValueError, asyncio.IncompleteReadError):
                ok = False
                await client.close()
                client.writer = client.reader = None
            if ok:
                result.latencies.append(time.perf_counter() - start)
            else:
                result.failures += 1
            if think:
                await asyncio.sleep(random.expovariate(1 / think))

    begin = time.monotonic()
    try:
        await asyncio.gather(*(loop(client) for client in pool))
    finally:
        await asyncio.gather(*(client.close() for client in pool))
    result.seconds = time.monotonic() - begin
    return result


def busy_source(cpu_seconds: float) -> str:
    """Return a Python program that burns ``cpu_seconds`` of CPU, then answers hello."""
    return (
        "import time\n"
        f"end = time.process_time() + {cpu_seconds}\n"
        "while time.process_time() < end:\n    pass\n"
        'print("Hello World!")\n'
    )


async def verdict_judging(
    server: Server, setup: Setup, count: int, cpu: float, think: float
) -> Any:
    """`GET /problems` latency while ``count`` CPU-heavy submissions go through Verdict."""
    cookie = f"{setup.credentials.cookie_name}={setup.credentials.cookie_value}"
    headers = {"Authorization": f"Bearer {setup.credentials.api_token}"}
    body = {"problem": "hello", "language": "python3", "source": busy_source(cpu)}
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=60) as api:
        ids = []
        for _ in range(count):
            answer = await api.post("/api/v1/submissions", json=body)
            if answer.status_code != 202:
                raise RuntimeError(f"submission refused: {answer.status_code} {answer.text}")
            ids.append(answer.json()["id"])
        pending = set(ids)
        done = False

        async def watch() -> None:
            nonlocal done
            while pending:
                for number in list(pending):
                    state = (await api.get(f"/api/v1/submissions/{number}")).json()
                    if state["status"] == "done":
                        if state["verdict"] != "AC":
                            raise RuntimeError(f"submission {number}: {state['verdict']}")
                        pending.discard(number)
                await asyncio.sleep(0.2)
            done = True

        watcher = asyncio.create_task(watch())
        measured = await page_load(server, cookie, 50, lambda: done, limit=600, think=think)
        await watcher
    return measured


async def baseline_judging(
    server: Server, cookie: str, count: int, cpu: float, think: float
) -> Any:
    """`GET /problems` latency while ``count`` submissions are judged inside requests."""
    body = json.dumps({"problem": "hello", "source": busy_source(cpu)})
    finished = 0

    async def submit() -> None:
        nonlocal finished
        async with httpx.AsyncClient(base_url=server.base, timeout=600) as client:
            answer = await client.post(
                "/submit",
                content=body,
                headers={"Cookie": cookie, "Content-Type": "application/json"},
            )
            if answer.status_code != 200 or answer.json()["verdict"] != "AC":
                raise RuntimeError(f"baseline submission: {answer.status_code} {answer.text[:200]}")
            finished += 1

    submitters = asyncio.gather(*(submit() for _ in range(count)))
    measured = await page_load(
        server, cookie, 50, lambda: finished == count, limit=600, think=think
    )
    await submitters
    return measured


async def saturation(server: Server, cookie: str, seconds: float) -> float:
    """Return `GET /problems` requests per second per core from 50 closed-loop clients."""
    await page_load(server, cookie, 50, lambda: False, limit=min(2.0, seconds))  # warm up
    measured = await page_load(server, cookie, 50, lambda: False, limit=seconds)
    return float(measured.rate) / (os.cpu_count() or 1)


# --- the run -----------------------------------------------------------------------------


@dataclass
class Figure:
    """One figure over the rounds."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Return the median value."""
        return statistics.median(self.values) if self.values else float("nan")

    def spread(self, scale: float = 1.0, digits: int = 1) -> str:
        """Return ``median (min-max)`` scaled, for tables."""
        if not self.values:
            return "n/a"
        low, high = min(self.values) * scale, max(self.values) * scale
        middle = self.median * scale
        if len(self.values) == 1:
            return f"{middle:.{digits}f}"
        return f"{middle:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


@dataclass
class Results:
    """Every figure, by name."""

    figures: dict[str, Figure] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, name: str, value: float) -> None:
        """Record one round's value of figure ``name``."""
        self.figures.setdefault(name, Figure()).values.append(value)

    def __getitem__(self, name: str) -> Figure:
        return self.figures.setdefault(name, Figure())


SCENARIOS = ("signin", "judging", "saturation", "sandbox")


async def one_round(setup: Setup, args: argparse.Namespace, results: Results) -> None:
    """Run every chosen scenario once against both apps."""
    verdict = await setup.start_verdict(workers=1)
    baseline = await setup.start_baseline()
    cookie_v = f"{setup.credentials.cookie_name}={setup.credentials.cookie_value}"
    cookie_b = await baseline_cookie(baseline)
    if "signin" in args.only:
        for server, key in ((verdict, "verdict"), (baseline, "baseline")):
            print(f"  sign-in burst of {args.signins} on {server.name}...", flush=True)
            burst = await sign_in_burst(server, args.signins)
            results.add(f"signin_wall_{key}", burst.wall)
            results.add(f"signin_p99_{key}", burst.p99)
            results.add(f"rss_rest_{key}", burst.rss_rest)
            results.add(f"rss_peak_{key}", burst.rss_peak)
            results.add(f"signin_cpu_{key}", burst.cpu_each)
            if burst.failures:
                results.failures.append(f"{server.name}: {burst.failures} sign-ins failed")
    if "judging" in args.only:
        print(f"  /problems while {args.submissions} submissions are judged...", flush=True)
        judged = await verdict_judging(verdict, setup, args.submissions, args.cpu, args.think)
        results.add("judging_p50_verdict", judged.percentile(50))
        results.add("judging_p99_verdict", judged.percentile(99))
        judged = await baseline_judging(baseline, cookie_b, args.submissions, args.cpu, args.think)
        results.add("judging_p50_baseline", judged.percentile(50))
        results.add("judging_p99_baseline", judged.percentile(99))
    if "saturation" in args.only:
        print(f"  /problems at saturation, {args.seconds:g} s each...", flush=True)
        results.add("rps_core_baseline", await saturation(baseline, cookie_b, args.seconds))
    setup.stop(baseline)
    if "saturation" in args.only:
        results.add("rps_core_verdict1", await saturation(verdict, cookie_v, args.seconds))
    setup.stop(verdict)
    if "saturation" in args.only:
        verdict2 = await setup.start_verdict(workers=2)
        results.add("rps_core_verdict2", await saturation(verdict2, cookie_v, args.seconds))
        setup.stop(verdict2)
    if args.sandbox_runs and "sandbox" in args.only:
        print("  the sandbox against bare spawns...", flush=True)
        figures = await sandbox_bench.measure(args.sandbox_runs)
        results.add("sandbox_latency_ratio", figures.box_latency / figures.bare_latency)
        results.add("sandbox_rate_ratio", figures.box_rate / figures.bare_rate)
        results.add("sandbox_bare_rate", figures.bare_rate)
        results.add("sandbox_box_rate", figures.box_rate)


def ratio(better: Figure, worse: Figure) -> float:
    """Return how many times ``better`` beats ``worse`` (lower is better)."""
    return worse.median / better.median if better.median else float("inf")


def row(*cells: str) -> str:
    """Return one Markdown table row."""
    return "| " + " | ".join(cells) + " |"


def table(results: Results, args: argparse.Namespace) -> list[str]:
    """Return the figures as Markdown table rows."""
    r = results
    mib = 1 / (1024 * 1024)

    def versus(name: str, scale: float = 1.0, digits: int = 1, times: str = ".1f") -> list[str]:
        ours, theirs = r[f"{name}_verdict"], r[f"{name}_baseline"]
        cells = [ours.spread(scale, digits), theirs.spread(scale, digits)]
        return [*cells, f"{ratio(ours, theirs):{times}}×" if times else ""]

    per_core = r["rps_core_baseline"]
    rows = [
        row("scenario", "Verdict", "Flask baseline", "ratio", "goal"),
        row("---", "---", "---", "---", "---"),
        row(
            f"{args.signins} sign-ins at once ({args.delay * 1000:g} ms provider): wall, s",
            *versus("signin_wall", digits=2),
            f"< {SIGNIN_GOAL_SECONDS:g} s, ≥ {SIGNIN_GOAL_RATIO:g}×",
        ),
        row("the same: p99 of one sign-in, s", *versus("signin_p99", digits=2), ""),
        row("the same: server CPU per sign-in, ms", *versus("signin_cpu", 1000), ""),
        row(
            f"`GET /problems` p50 while {args.submissions} submissions are judged, ms",
            *versus("judging_p50", times=".0f"),
            "",
        ),
        row(
            "the same: p99, ms",
            *versus("judging_p99", times=".0f"),
            f"Verdict < {JUDGING_GOAL_P99_MS:g} ms",
        ),
        row(
            "`GET /problems` at saturation, requests/s per core (1 Hypercorn worker)",
            r["rps_core_verdict1"].spread(),
            per_core.spread(),
            f"{r['rps_core_verdict1'].median / per_core.median:.2f}×",
            "",
        ),
        row(
            "the same, Verdict with 2 Hypercorn workers",
            r["rps_core_verdict2"].spread(),
            per_core.spread(),
            f"{r['rps_core_verdict2'].median / per_core.median:.2f}×",
            "",
        ),
        row("resident memory at rest, MiB", *versus("rss_rest", mib, 0, ""), ""),
        row("resident memory at the sign-in peak, MiB", *versus("rss_peak", mib, 0, ""), ""),
    ]
    if r["sandbox_rate_ratio"].values:
        box, bare = r["sandbox_box_rate"].spread(digits=0), r["sandbox_bare_rate"].spread(digits=0)
        rows += [
            "",
            row("sandbox (`bench/sandbox.py`, `python3 -c pass`)", "sandboxed / bare", "goal"),
            row("---", "---", "---"),
            row("latency of one run", f"{r['sandbox_latency_ratio'].spread(digits=2)}×", "≤ 1.5×"),
            row(
                "throughput on all cores",
                f"{r['sandbox_rate_ratio'].spread(digits=2)}× ({box} against {bare} runs/s)",
                "≥ 0.85×",
            ),
        ]
    return rows


def goals(results: Results) -> list[str]:
    """Return the goals missed (empty when all are met)."""
    r = results
    missed = list(r.failures)
    if r["signin_wall_verdict"].median >= SIGNIN_GOAL_SECONDS:
        missed.append(
            f"sign-in wall {r['signin_wall_verdict'].median:.2f} s ≥ {SIGNIN_GOAL_SECONDS:g} s"
        )
    if ratio(r["signin_wall_verdict"], r["signin_wall_baseline"]) < SIGNIN_GOAL_RATIO:
        missed.append("sign-in less than 10× better than the baseline")
    if r["judging_p99_verdict"].median >= JUDGING_GOAL_P99_MS:
        missed.append(f"/problems p99 while judging ≥ {JUDGING_GOAL_P99_MS:g} ms")
    return missed


def write_report(results: Results, args: argparse.Namespace, rows: list[str]) -> None:
    """Write docs/benchmarks.md and its chart."""
    docs = args.out
    data = {name: figure.values for name, figure in results.figures.items()}
    (args.workdir / "results.json").write_text(json.dumps(data))
    chart = docs / "benchmarks.png"
    subprocess.run(
        [
            str(BASELINE_VENV / "bin" / "python"),
            str(HERE / "chart.py"),
            str(args.workdir / "results.json"),
            str(chart),
        ],
        check=True,
    )
    missed = goals(results)
    text = REPORT.format(
        rounds=args.rounds,
        day=time.strftime("%Y-%m-%d", time.gmtime()),
        cores=os.cpu_count(),
        sandbox=args.sandbox_mode,
        delay=args.delay * 1000,
        table="\n".join(rows),
        goals="all met." if not missed else "missed: " + "; ".join(missed) + ".",
        submissions=args.submissions,
        cpu=args.cpu,
        think=args.think,
    )
    (docs / "benchmarks.md").write_text(text)
    print(f"wrote {docs / 'benchmarks.md'} and {chart}")


async def main() -> int:
    """Prepare, run the rounds, print the table; write the report unless told not to."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--signins", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.3, help="provider token delay (s)")
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--cpu", type=float, default=0.5, help="CPU seconds per test")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between a reader's requests (s)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="saturation phase (s)")
    parser.add_argument("--sandbox-runs", type=int, default=100, help="0 skips the sandbox")
    parser.add_argument("--write", action="store_true", help="write benchmarks.md and the chart")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where --write writes")
    parser.add_argument("--smoke", action="store_true", help="tiny counts, one round")
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(SCENARIOS),
        help=f"comma-separated scenarios among {','.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument("--sandbox", help="sandbox mode (default: bwrap if available)")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.signins, args.submissions, args.cpu = 1, 10, 2, 0.05
        args.seconds, args.sandbox_runs = 1.0, 10
    if not (BASELINE_VENV / "bin" / "gunicorn").exists():
        print(f"no baseline environment at {BASELINE_VENV}: run `make bench-venv`", file=sys.stderr)
        return 2
    args.sandbox_mode = web.pick_sandbox(args.sandbox)
    if args.sandbox_mode != "bwrap":
        args.sandbox_runs = 0
    args.workdir = Path(tempfile.mkdtemp(prefix="verdict-bench-compare-"))
    database_file = args.workdir / "verdict.db"
    database_url = f"sqlite+aiosqlite:///{database_file}"
    print(f"cores: {os.cpu_count()}; sandbox: {args.sandbox_mode}; work: {args.workdir}")
    await asyncio.to_thread(migrations.upgrade, database_url, quiet=True)
    credentials = await web.prepare(args.workdir / "data", database_url, args.sandbox_mode)
    issuer, google = await start_google(args.workdir, args.delay)
    setup = Setup(
        args.workdir, database_url, database_file, args.sandbox_mode, credentials, issuer, google
    )
    results = Results()
    try:
        for number in range(1, args.rounds + 1):
            print(f"round {number} of {args.rounds}", flush=True)
            await one_round(setup, args, results)
    finally:
        for server in list(setup.servers):
            setup.stop(server)
        google.terminate()
        google.wait()
    rows = table(results, args)
    print("\n".join(rows))
    missed = goals(results)
    print("goals: " + ("all met" if not missed else "missed: " + "; ".join(missed)))
    if args.write:
        write_report(results, args, rows)
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0 if not results.failures else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
