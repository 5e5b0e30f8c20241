"""HTTP latency benchmark: `GET /problems` p50/p95/p99, idle and while the evaluator is saturated.

Run from the repository root: `.venv/bin/python bench/http.py [--seconds N] [--clients N]`.
In one run of this script it:
- creates a temporary data dir and SQLite database, migrates it, imports examples/problems/hello,
  and creates a user with a login session (for the HTML page) and an API token (to submit);
- starts the app under Hypercorn as a subprocess on 127.0.0.1 (a free port, loopback only);
- measures `GET /problems` (the HTML page, signed in with the session cookie) from `--clients`
  concurrent keep-alive connections (a minimal client, so the load generator does not
  compete with the server for the CPU), for `--seconds`: first with nothing
  being judged (the baseline), then while CPU-heavy submissions (Python busy loops, ~0.5 s of CPU
  per test) keep every evaluator slot busy; submissions go through `POST /api/v1/submissions`
  and the queue is kept topped up by reading `/metrics` (`verdict_queue_length`);
- prints p50/p95/p99 idle and loaded side by side, requests per second, how busy the evaluator
  was while measuring, and the goal (DESIGN §7): p99 < 100 ms while judging.
Clients run closed-loop by default (each sends its next request as soon as the previous one is
answered): that measures the page under 50 requests always in flight. `--think S` makes each
client pause a random time (exponential, mean S seconds) between requests: 50 people clicking
(Poisson arrivals), not 50 request loops.
The sandbox is bubblewrap when it is available here, else `unsafe-rlimit` (said in the output).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: take its folder off the import path, or `import http` (the
# standard library, used by httpx) would find this script instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import timedelta  # noqa: E402

import httpx  # noqa: E402
from quart.testing.app import TestApp  # noqa: E402

from service import migrations  # noqa: E402
from service.app import create_app  # noqa: E402
from service.auth.api_tokens import create_token  # noqa: E402
from service.auth.sessions import create_session  # noqa: E402
from service.config import Environment, get_settings  # noqa: E402
from service.db import get_db  # noqa: E402
from service.evaluator import SandboxUnavailable, create_sandbox  # noqa: E402
from service.models import Role, User  # noqa: E402
from service.problems.importer import import_package  # noqa: E402

GOAL_P99_MS = 100.0
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"
DUMMY_ISSUER = "http://127.0.0.1:9/oidc"  # never contacted: nobody signs in through it
BUSY_SOURCE = """import time
end = time.process_time() + 0.5
while time.process_time() < end:
    pass
print("Hello World!")
"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pick_sandbox(wanted: str | None) -> str:
    """Return the sandbox mode to judge with: ``wanted``, else bwrap when it works here."""
    if wanted:
        return wanted
    try:
        sandbox = create_sandbox("bwrap", 1)
    except SandboxUnavailable:
        return "unsafe-rlimit"
    sandbox.close()
    return "bwrap"


@dataclass
class Credentials:
    """How the clients authenticate: a session cookie (pages) and an API token (submitting)."""

    cookie_name: str
    cookie_value: str
    api_token: str


def environment(data_dir: Path, database_url: str, sandbox: str, port: int) -> dict[str, str]:
    """Return the server's environment variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VERDICT_")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "VERDICT_DATA_DIR": str(data_dir),
            "SECRET_KEY": SECRET_KEY,
            "VERDICT_ENV": Environment.DEVELOPMENT.value,
            "SUBMISSION_RATE_LIMIT": "100000/1",
            "OIDC_ISSUER": DUMMY_ISSUER,
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "SANDBOX": sandbox,
            "GOOGLE_CLIENT_ID": "bench",
            "GOOGLE_CLIENT_SECRET": "bench",
        }
    )
    return env


async def prepare(data_dir: Path, database_url: str, sandbox: str) -> Credentials:
    """Import the hello problem and create the bench user, a session and an API token."""
    app = create_app(
        {
            "env": Environment.DEVELOPMENT,
            "database_url": database_url,
            "data_dir": data_dir,
            "secret_key": SECRET_KEY,
            "oidc_issuer": DUMMY_ISSUER,
            "sandbox": sandbox,
            "start_evaluator": False,
        }
    )
    # Starting probes every language's toolchain: slow JVM compilers on a busy machine.
    async with TestApp(app, startup_timeout=120, shutdown_timeout=60):
        async with get_db(app).session() as db:
            await import_package(db, get_settings(app), ROOT / "examples" / "problems" / "hello")
        async with get_db(app).session() as db:
            user = User(sub="bench", email="bench@example.com", name="Bench", role=Role.STAFF)
            db.add(user)
            await db.flush()
            plaintext, _ = await create_token(db, user, "bench")
            session_id, _ = await create_session(
                db, user, lifetime=timedelta(days=1), user_agent="bench/http.py"
            )
            await db.commit()
        auth = next(ext for ext in app.extensions["QUART_AUTH"] if ext.singleton)
        return Credentials(auth.cookie_name, auth.dump_token(session_id, app=app), plaintext)


async def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Wait until the server answers /healthz (or fail if it exited)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with status {server.returncode}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {timeout:g} s")


@dataclass
class Measurement:
    """Latencies (seconds) of successful requests, and the failures."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0

    def percentile(self, share: int) -> float:
        """Return the ``share``-th percentile in milliseconds."""
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[share - 1] * 1000

    @property
    def rate(self) -> float:
        """Return successful requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class RawClient:
    """A minimal keep-alive HTTP/1.1 GET client: the load generator must cost far less CPU than
    the server it measures (httpx costs about as much per request as the page itself, and both
    share this machine's cores)."""

    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host, self.port, self.request = host, port, request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self) -> int:
        """Send the request and read the whole response; return its status code.

        A kept-alive connection the server closed while idle is reopened once, as browsers do.
        """
        reused = self.writer is not None
        try:
            return await self._exchange()
        except (asyncio.IncompleteReadError, ConnectionError):
            if not reused:
                raise
            await self.close()
            self.reader = self.writer = None
            return await self._exchange()

    async def _exchange(self) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        chunked = closing = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name.lower() == b"connection" and b"close" in value.lower():
                closing = True  # gunicorn's sync workers answer one request per connection
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await self.reader.readexactly(length)
        if closing:
            await self.close()
            self.reader = self.writer = None
        return status

    async def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


async def measure(
    base: str, path: str, credentials: Credentials, clients: int, seconds: float, think: float
) -> Measurement:
    """Send ``GET path`` from ``clients`` concurrent connections for ``seconds``."""
    result = Measurement()
    address = base.removeprefix("http://")
    host, _, port = address.partition(":")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {address}\r\n"
        f"Cookie: {credentials.cookie_name}={credentials.cookie_value}\r\n\r\n"
    ).encode()

    async def client_loop(client: RawClient, stop_at: float) -> None:
        if think:  # start spread out, then pause a random time (Poisson arrivals, no bursts)
            await asyncio.sleep(random.uniform(0, think))
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            try:
                ok = await client.get() == 200
            except (OSError, ValueError, asyncio.IncompleteReadError):
                ok = False
                await client.close()
                client.writer = client.reader = None
            elapsed = time.perf_counter() - start
            if ok:
                result.latencies.append(elapsed)
            else:
                result.failures += 1
            if think:
                await asyncio.sleep(random.expovariate(1 / think))

    pool = [RawClient(host, int(port), request) for _ in range(clients)]
    try:
        await asyncio.gather(*(client.get() for client in pool))  # open the connections
        begin = time.monotonic()
        await asyncio.gather(*(client_loop(client, begin + seconds) for client in pool))
        result.seconds = time.monotonic() - begin
    finally:
        await asyncio.gather(*(client.close() for client in pool))
    return result


def gauge(metrics_text: str, name: str) -> float:
    """Return the value of the unlabelled sample ``name`` in a Prometheus text page."""
    for line in metrics_text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


@dataclass
class Load:
    """Keeps the evaluator's queue topped up with CPU-heavy submissions."""

    base: str
    credentials: Credentials
    queue_target: int
    max_running: int
    submitted: int = 0
    refused: int = 0
    busy_samples: list[float] = field(default_factory=list)
    queue_samples: list[float] = field(default_factory=list)
    recording: bool = False

    async def run(self, stop: asyncio.Event) -> None:
        """Submit whenever fewer than ``queue_target`` judgings wait, until ``stop`` is set."""
        headers = {"Authorization": f"Bearer {self.credentials.api_token}"}
        body = {"problem": "hello", "language": "python3", "source": BUSY_SOURCE}
        async with httpx.AsyncClient(base_url=self.base, headers=headers, timeout=30) as client:
            while not stop.is_set():
                page = (await client.get("/metrics")).text
                queued = gauge(page, "verdict_queue_length")
                if self.recording:
                    self.busy_samples.append(gauge(page, "verdict_judgings_running"))
                    self.queue_samples.append(queued)
                for _ in range(max(0, self.queue_target - int(queued))):
                    response = await client.post("/api/v1/submissions", json=body)
                    if response.status_code == 202:
                        self.submitted += 1
                    else:
                        self.refused += 1
                        if self.refused == 1:
                            print(f"  submission refused: {response.status_code} {response.text}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.25)

    async def wait_busy(self, timeout: float = 30) -> None:
        """Wait until the evaluator reports a judging in progress."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base) as client:
            while time.monotonic() < deadline:
                if gauge((await client.get("/metrics")).text, "verdict_judgings_running") >= 1:
                    return
                await asyncio.sleep(0.1)
        raise RuntimeError("the evaluator never became busy: are submissions refused?")


def report(idle: Measurement, loaded: Measurement, load: Load, args: argparse.Namespace) -> bool:
    """Print the figures side by side; return whether the goal is met."""
    print()
    print(
        f"GET {args.path}: {args.clients} clients, {args.seconds:g} s per phase, "
        f"think {args.think:g} s"
    )
    print(f"{'':14}{'idle':>12}{'judging':>12}")
    for label, share in (("p50", 50), ("p95", 95), ("p99", 99)):
        print(f"{label + ' (ms)':14}{idle.percentile(share):12.1f}{loaded.percentile(share):12.1f}")
    print(f"{'requests/s':14}{idle.rate:12.1f}{loaded.rate:12.1f}")
    print(f"{'failures':14}{idle.failures:12d}{loaded.failures:12d}")
    if load.busy_samples:
        busy = statistics.mean(load.busy_samples)
        waiting = statistics.mean(load.queue_samples)
        print(
            f"evaluator while measuring: {busy:.2f} judgings running on average "
            f"(max {load.max_running}), {waiting:.1f} queued; "
            f"{load.submitted} submissions sent, {load.refused} refused"
        )
    p99 = loaded.percentile(99)
    met = p99 < GOAL_P99_MS and loaded.failures == 0
    print(
        f"goal: p99 < {GOAL_P99_MS:g} ms while judging -> {p99:.1f} ms: "
        + ("met" if met else "NOT met")
    )
    return met


async def main() -> int:
    """Set up, serve, measure idle then loaded, print; return 0 when the goal is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean pause between a client's requests (s)"
    )
    parser.add_argument("--path", default="/problems", help="the page to measure")
    parser.add_argument("--sandbox", help="sandbox mode (default: bwrap if available)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args()

    sandbox = pick_sandbox(args.sandbox)
    concurrency = int(os.environ.get("EVALUATOR_CONCURRENCY") or os.cpu_count() or 1)
    workdir = Path(tempfile.mkdtemp(prefix="verdict-bench-http-"))
    data_dir = workdir / "data"
    database_url = f"sqlite+aiosqlite:///{workdir / 'verdict.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"cores: {os.cpu_count()}; sandbox: {sandbox}; evaluator slots: {concurrency}")
    print(f"data: {workdir}; server: {base}")

    await asyncio.to_thread(migrations.upgrade, database_url, quiet=True)
    credentials = await prepare(data_dir, database_url, sandbox)
    env = environment(data_dir, database_url, sandbox, port)
    env["EVALUATOR_CONCURRENCY"] = str(concurrency)
    server = subprocess.Popen(
        # As the Procfile serves it: one worker on uvloop.
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
    load = Load(base, credentials, queue_target=max(2, concurrency), max_running=concurrency // 2)
    stop = asyncio.Event()
    producer: asyncio.Task[None] | None = None
    try:
        await wait_until_up(base, server)
        print("warming up...")
        await measure(base, args.path, credentials, args.clients, 2.0, args.think)
        print(f"idle: {args.seconds:g} s...")
        idle = await measure(base, args.path, credentials, args.clients, args.seconds, args.think)
        print("saturating the evaluator...")
        producer = asyncio.create_task(load.run(stop))
        await load.wait_busy()
        load.recording = True
        print(f"judging: {args.seconds:g} s...")
        loaded = await measure(base, args.path, credentials, args.clients, args.seconds, args.think)
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
    return 0 if report(idle, loaded, load, args) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
