"""Load and crash check: N submissions from many clients, `kill -9` of the server mid-run.

Run from the repository root: `.venv/bin/python bench/submissions.py [--count 1000]
[--clients 50] [--kill-after S] [--sandbox MODE] [--keep]`. In one run it:
- builds a temporary data dir and SQLite database, migrates it, imports examples/problems/hello
  and creates a user with an API token (the helpers of bench/http.py);
- starts the app under Hypercorn on 127.0.0.1 in its own process group;
- has `--clients` concurrent httpx clients send `--count` submissions through
  `POST /api/v1/submissions`: about 70% correct Python (AC), 20% wrong output (WA) and 10% C that
  does not compile (CE; more WA when C is not offered), remembering each acknowledged id (202)
  with the verdict it must get;
- mid-run (after `--kill-after` seconds, by default once 40% were acknowledged) kills the
  server's whole process group with SIGKILL, waits 1 s and starts it again on the same port and
  database; a request that fails meanwhile is sent again until acknowledged;
- waits until every submission is judged, stops the server, reads the database file, and
  prints: lost (acknowledged but missing or never finished), duplicated (a submission with more
  than one finished judging, or a test result stored twice), wrong verdicts, and the requests
  whose answer never arrived, split into stored and not stored.
It exits 0 only when nothing was lost or duplicated and every verdict is right (DESIGN §7).
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
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import IO, Any  # noqa: E402

import httpx  # noqa: E402

from service import migrations  # noqa: E402


def load_http_bench() -> ModuleType:
    """Import bench/http.py under another name (``import http`` is the standard library)."""
    spec = importlib.util.spec_from_file_location("verdict_bench_http", HERE / "http.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


bench_http = load_http_bench()

KILL_SHARE = 0.4  # default kill moment: this share of the submissions acknowledged
DONE_TIMEOUT = 15 * 60.0
MAX_ATTEMPTS = 200  # per planned submission, so a server that never comes back ends the run
SOURCES: dict[str, tuple[str, str]] = {  # expected verdict -> (language, source)
    "AC": ("python3", 'print("Hello World!")\n'),
    "WA": ("python3", 'print("Hello, World")\n'),
    "CE": ("c", "int main(void) { return undeclared_name; }\n"),
}


@dataclass
class Server:
    """The Hypercorn subprocess, started in its own session so its whole group can be killed."""

    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def base(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the server and wait until it answers /healthz."""
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hypercorn",
                "asgi:app",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "uvloop",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        await bench_http.wait_until_up(self.base, self.process)

    def kill(self) -> None:
        """SIGKILL the server's whole process group (the server, its worker, its sandboxes)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._close_log()

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), killing it if it does not stop within 30 s."""
        if self.process is None or self.process.poll() is not None:
            self._close_log()
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None


@dataclass
class Ledger:
    """What the clients know: acknowledged ids with their expected verdicts, and failures."""

    planned: int
    expected: dict[int, str] = field(default_factory=dict)  # acknowledged id -> verdict
    unanswered: Counter[str] = field(default_factory=Counter)  # sent, no answer: by verdict
    not_sent: int = 0  # connection refused: the request never reached the server
    refused: Counter[int] = field(default_factory=Counter)  # non-202 answers by status
    gave_up: int = 0
    first_sent: float = 0.0
    kill_at: float | None = None  # seconds after the first request
    killed_after_acknowledged: int | None = None
    restarted_at: float | None = None
    acknowledged_event: asyncio.Event = field(default_factory=asyncio.Event)
    kill_threshold: int = 0


def plan(count: int, with_c: bool, seed: int) -> list[str]:
    """Return the expected verdict of each submission to send: 70% AC, 20% WA, 10% CE."""
    kinds = ["AC"] * 7 + ["WA"] * 2 + ["CE" if with_c else "WA"]
    verdicts = [kinds[index % 10] for index in range(count)]
    random.Random(seed).shuffle(verdicts)
    return verdicts


async def submit_one(client: httpx.AsyncClient, verdict: str, ledger: Ledger) -> None:
    """Send one submission until the server acknowledges it; record the id."""
    language, source = SOURCES[verdict]
    body = {"problem": "hello", "language": language, "source": source}
    for _ in range(MAX_ATTEMPTS):
        try:
            response = await client.post("/api/v1/submissions", json=body)
        except httpx.ConnectError:  # nothing was sent: the server is down
            ledger.not_sent += 1
            await asyncio.sleep(0.2)
            continue
        except httpx.TransportError:  # sent, but no answer: it may or may not be stored
            ledger.unanswered[verdict] += 1
            await asyncio.sleep(0.2)
            continue
        if response.status_code == 202:
            ledger.expected[int(response.json()["id"])] = verdict
            if len(ledger.expected) >= ledger.kill_threshold:
                ledger.acknowledged_event.set()
            return
        ledger.refused[response.status_code] += 1
        if response.status_code >= 500:  # an error after the commit could still have stored it
            ledger.unanswered[verdict] += 1
        await asyncio.sleep(0.2)
    ledger.gave_up += 1


async def run_clients(
    base: str, token: str, verdicts: list[str], clients: int, ledger: Ledger
) -> None:
    """Send every planned submission from ``clients`` concurrent clients."""
    work: asyncio.Queue[str] = asyncio.Queue()
    for verdict in verdicts:
        work.put_nowait(verdict)

    async def client_loop() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(
            base_url=base, headers=headers, timeout=30, limits=limits
        ) as client:
            while not work.empty():
                await submit_one(client, work.get_nowait(), ledger)

    ledger.first_sent = time.monotonic()
    await asyncio.gather(*(client_loop() for _ in range(clients)))


async def crash_and_restart(server: Server, ledger: Ledger, kill_after: float | None) -> None:
    """Kill the server's process group at the kill moment, wait 1 s, start it again."""
    if kill_after is None:
        await ledger.acknowledged_event.wait()
    else:
        while not ledger.first_sent:
            await asyncio.sleep(0.01)
        await asyncio.sleep(max(0.0, ledger.first_sent + kill_after - time.monotonic()))
    ledger.kill_at = time.monotonic() - ledger.first_sent
    ledger.killed_after_acknowledged = len(ledger.expected)
    print(
        f"kill -9 at {ledger.kill_at:.1f} s ({ledger.killed_after_acknowledged} acknowledged)",
        flush=True,
    )
    server.kill()
    await asyncio.sleep(1.0)
    await server.start()
    ledger.restarted_at = time.monotonic() - ledger.first_sent
    print(f"server up again at {ledger.restarted_at:.1f} s", flush=True)


async def list_all(client: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    """Return every submission the API lists for the bench user, by id (all pages)."""
    found: dict[int, dict[str, Any]] = {}
    page = 1
    while True:
        response = await client.get("/api/v1/submissions", params={"page": page, "per_page": 100})
        response.raise_for_status()
        items = response.json()["items"]
        if not items:
            return found
        for item in items:
            found[int(item["id"])] = item
        page += 1


async def wait_all_done(
    base: str, token: str, expected_ids: set[int], timeout: float
) -> tuple[dict[int, dict[str, Any]], float]:
    """Poll the list until every known submission is done (or timeout); return it and when."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout
    next_print = 0.0
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        while True:
            listed = await list_all(client)
            pending = [
                number
                for number in expected_ids | set(listed)
                if listed.get(number, {}).get("status") != "done"
            ]
            now = time.monotonic()
            if not pending:
                return listed, now
            if now >= next_print:
                states = Counter(listed[number]["status"] for number in pending if number in listed)
                missing = sum(1 for number in pending if number not in listed)
                print(
                    f"  waiting: {len(pending)} not done ({dict(states)}, {missing} not listed)",
                    flush=True,
                )
                next_print = now + 10
            if now >= deadline:
                print(f"  timed out after {timeout:g} s", flush=True)
                return listed, now
            await asyncio.sleep(1.0)


@dataclass
class DatabaseFindings:
    """What the database file says once the server has stopped."""

    finished_twice: list[tuple[int, int]]  # (submission id, finished judgings)
    results_twice: list[tuple[int, int, int]]  # (judging id, index, rows)
    judgings_per_submission: Counter[int]  # judging rows per submission -> submissions
    retried: int  # judgings claimed more than once (recovered after the kill, or retried)
    unfinished: list[tuple[int, str, str | None]]  # (submission id, status, verdict)


def inspect_database(path: Path) -> DatabaseFindings:
    """Read the duplicates and anomalies straight from the SQLite file."""
    with sqlite3.connect(path) as connection:
        finished_twice = connection.execute(
            "SELECT submission_id, COUNT(*) FROM judgings WHERE status = 'done' "
            "AND verdict IS NOT NULL GROUP BY submission_id HAVING COUNT(*) > 1"
        ).fetchall()
        results_twice = connection.execute(
            'SELECT judging_id, "index", COUNT(*) FROM test_results '
            'GROUP BY judging_id, "index" HAVING COUNT(*) > 1'
        ).fetchall()
        per_submission = connection.execute(
            "SELECT s.id, COUNT(j.id) FROM submissions s "
            "LEFT JOIN judgings j ON j.submission_id = s.id GROUP BY s.id"
        ).fetchall()
        retried = connection.execute("SELECT COUNT(*) FROM judgings WHERE attempts > 1").fetchone()
        unfinished = connection.execute(
            "SELECT id, status, verdict FROM submissions WHERE status != 'done' OR verdict IS NULL"
        ).fetchall()
    return DatabaseFindings(
        finished_twice=[(int(a), int(b)) for a, b in finished_twice],
        results_twice=[(int(a), int(b), int(c)) for a, b, c in results_twice],
        judgings_per_submission=Counter(int(rows) for _, rows in per_submission),
        retried=int(retried[0]),
        unfinished=[(int(a), str(b), c) for a, b, c in unfinished],
    )


def report(
    args: argparse.Namespace,
    ledger: Ledger,
    listed: dict[int, dict[str, Any]],
    database: DatabaseFindings,
    wall: float,
) -> bool:
    """Print the table; return whether nothing was lost or duplicated and every verdict is right."""
    acknowledged = set(ledger.expected)
    done = {number for number, item in listed.items() if item["status"] == "done"}
    lost = sorted(acknowledged - done)
    wrong = sorted(
        number
        for number in acknowledged & done
        if listed[number]["verdict"] != ledger.expected[number]
    )
    unknown = sorted(set(listed) - acknowledged)
    unanswered = sum(ledger.unanswered.values())
    phantom = max(0, len(unknown) - unanswered)  # stored without any request to explain it
    duplicated = len(database.finished_twice) + len(database.results_twice)
    verdicts = Counter(listed[number]["verdict"] for number in done)
    kill = (
        "no kill"
        if ledger.kill_at is None
        else f"{ledger.kill_at:.1f} s, after {ledger.killed_after_acknowledged} acknowledged; "
        f"up again at {ledger.restarted_at:.1f} s"
    )
    rows = [
        ("submitted (planned)", str(ledger.planned)),
        ("clients", str(args.clients)),
        ("acknowledged (202)", str(len(acknowledged))),
        ("stored (listed)", str(len(listed))),
        ("done", str(len(done))),
        ("lost", str(len(lost))),
        ("duplicated", str(duplicated)),
        ("wrong verdicts", str(len(wrong))),
        ("unacknowledged, stored", str(len(unknown))),
        ("unacknowledged, not stored", str(max(0, unanswered - len(unknown)))),
        ("stored, never sent", str(phantom)),
        ("connection refused (resent)", str(ledger.not_sent)),
        ("other answers (resent)", str(dict(ledger.refused) or 0)),
        ("given up", str(ledger.gave_up)),
        ("judgings recovered/retried", str(database.retried)),
        ("judgings per submission", str(dict(database.judgings_per_submission))),
        ("verdicts", str(dict(sorted(verdicts.items(), key=lambda pair: str(pair[0]))))),
        ("wall time", f"{wall:.1f} s"),
        ("throughput", f"{len(done) / wall:.2f} submissions/s" if wall else "-"),
        ("kill -9", kill),
    ]
    print()
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if lost:
        print(f"lost ids: {lost[:50]}")
    if wrong:
        print(
            "wrong verdicts (id expected->got): "
            + ", ".join(
                f"{number} {ledger.expected[number]}->{listed[number]['verdict']}"
                for number in wrong[:50]
            )
        )
    if database.finished_twice:
        print(f"finished more than once (submission, judgings): {database.finished_twice[:50]}")
    if database.results_twice:
        print(f"test results stored twice (judging, index, rows): {database.results_twice[:50]}")
    if database.unfinished:
        print(f"database: not done (id, status, verdict): {database.unfinished[:50]}")
    if unknown:
        print(f"unacknowledged but stored ids: {unknown[:50]}")
    ok = not lost and not duplicated and not wrong and not phantom and not ledger.gave_up
    print("goal: 0 lost, 0 duplicated, every verdict right -> " + ("met" if ok else "NOT met"))
    return ok


async def main() -> int:
    """Set up, serve, submit with a crash in the middle, wait, check; 0 when the goal is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="submissions to send")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument(
        "--kill-after",
        type=float,
        default=None,
        help="seconds after the first request to kill -9 the server (0: never; "
        f"default: once {KILL_SHARE:.0%} were acknowledged)",
    )
    parser.add_argument("--sandbox", help="sandbox mode (default: bwrap if available)")
    parser.add_argument("--seed", type=int, default=4, help="seed of the submission order")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args()

    sandbox = bench_http.pick_sandbox(args.sandbox)
    concurrency = int(os.environ.get("EVALUATOR_CONCURRENCY") or os.cpu_count() or 1)
    workdir = Path(tempfile.mkdtemp(prefix="verdict-bench-submissions-"))
    data_dir = workdir / "data"
    database_path = workdir / "verdict.db"
    database_url = f"sqlite+aiosqlite:///{database_path}"
    port = bench_http.free_port()
    print(f"cores: {os.cpu_count()}; sandbox: {sandbox}; evaluator slots: {concurrency}")
    print(f"data: {workdir}; server: http://127.0.0.1:{port}", flush=True)

    await asyncio.to_thread(migrations.upgrade, database_url, quiet=True)
    credentials = await bench_http.prepare(data_dir, database_url, sandbox)
    env = bench_http.environment(data_dir, database_url, sandbox, port)
    env["SUBMISSION_RATE_LIMIT"] = "100000/1"
    env["EVALUATOR_CONCURRENCY"] = str(concurrency)
    server = Server(port, env, workdir / "server.log")
    try:
        await server.start()
        async with httpx.AsyncClient(base_url=server.base) as client:
            offered = {
                item["id"] for item in (await client.get("/api/v1/languages")).json()["items"]
            }
        with_c = "c" in offered
        verdicts = plan(args.count, with_c, args.seed)
        print(f"plan: {dict(Counter(verdicts))} (C offered: {with_c})", flush=True)
        ledger = Ledger(planned=args.count, kill_threshold=max(1, int(args.count * KILL_SHARE)))
        killer: asyncio.Task[None] | None = None
        if args.kill_after != 0:
            killer = asyncio.create_task(crash_and_restart(server, ledger, args.kill_after))
        await run_clients(server.base, credentials.api_token, verdicts, args.clients, ledger)
        sent_in = time.monotonic() - ledger.first_sent
        print(f"all sent in {sent_in:.1f} s; {len(ledger.expected)} acknowledged", flush=True)
        if killer is not None:
            await killer  # a kill moment after the last submission still kills while judging
        listed, finished = await wait_all_done(
            server.base, credentials.api_token, set(ledger.expected), DONE_TIMEOUT
        )
        wall = finished - ledger.first_sent
    finally:
        server.stop()
    database = inspect_database(database_path)
    try:
        ok = report(args, ledger, listed, database, wall)
    finally:
        if args.keep:
            print(f"kept: {workdir} (server log: {workdir / 'server.log'})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
