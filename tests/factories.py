"""Builders for tests: app settings, problem packages, rows, signed-in clients, tokens, forms.

Rows are written and read straight through the app's database. Sign-in here skips the
provider: :func:`sign_in_as` stores a real login session and hands the client the same signed
cookie a real sign-in would set. Problems come from ``examples/problems`` through the real
importer.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from quart import Quart
from quart.testing import QuartClient
from quart_auth import generate_auth_token
from sqlalchemy import ColumnElement, Select, create_engine, func, select
from sqlalchemy.engine import make_url

from service.auth.api_tokens import create_token
from service.auth.sessions import create_session
from service.config import Environment, get_settings
from service.db import get_db
from service.feedback.policy import FeedbackPolicy
from service.feedback.queries import set_policy
from service.models import (
    Judging,
    LoginSession,
    PackageVersion,
    Problem,
    Role,
    Status,
    Submission,
    SubmissionFile,
    TestResult,
    User,
)
from service.models.base import utcnow
from service.problems.importer import ImportResult, import_package

# ------------------------------------------------------------------------ test app settings

#: Every variable the settings loader reads: the developer's shell must not leak into tests.
SETTINGS_VARIABLES = (
    "VERDICT_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "OIDC_ISSUER",
    "PUBLIC_URL",
    "ALLOWED_DOMAINS",
    "ADMIN_EMAILS",
    "SESSION_LIFETIME_DAYS",
    "QUEUE",
    "EVALUATOR_CONCURRENCY",
    "VERDICT_DATA_DIR",
    "MAX_SOURCE_BYTES",
    "MAX_PACKAGE_BYTES",
    "SUBMISSION_RATE_LIMIT",
    "RUN_RATE_LIMIT",
    "MAX_JUDGINGS_PER_USER",
    "WALL_BUDGET_FACTOR",
    "SANDBOX",
)
TEST_PUBLIC_URL = "http://verdict.test"
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
#: Seconds a test app may take to start and to stop serving.
LIFESPAN_SECONDS = 60
#: The ``make_app`` fixture: ``make_app(setup=None, **overrides)`` serves an app.
AppFactory = Callable[..., AbstractAsyncContextManager[Quart]]
#: The local PostgreSQL server, when there is one (CI starts it).
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def sqlite_url(path: Path) -> str:
    """Return the async SQLAlchemy URL of a SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


def app_settings(**overrides: Any) -> dict[str, Any]:
    """Return the settings overrides of a test app (fake Google client, http public URL)."""
    settings: dict[str, Any] = {
        "env": Environment.TESTING,
        "secret_key": TEST_SECRET_KEY,
        "google_client_id": "test-client-id",
        "google_client_secret": "test-client-secret",
        "oidc_issuer": "https://accounts.google.com",
        "public_url": TEST_PUBLIC_URL,
        "allowed_domains": frozenset(),
        "admin_emails": frozenset(),
        "sandbox": "bwrap",
    }
    settings.update(overrides)
    return settings


def postgres_reachable() -> bool:
    """Return whether the local PostgreSQL accepts connections."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


def postgres_url(database: str) -> str:
    """Return the URL of ``database`` on the local PostgreSQL server."""
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


# ------------------------------------------------------------------------ problem packages

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "problems"


def example_path(name: str) -> Path:
    """Return the folder of the example problem package ``name``."""
    return EXAMPLES / name


async def run_import(app: Quart, source: Path, **kwargs: Any) -> ImportResult:
    """Import ``source`` into ``app`` with the app's settings."""
    async with get_db(app).session() as db:
        return await import_package(db, get_settings(app), source, **kwargs)


async def import_example(app: Quart, name: str = "hello", **kwargs: Any) -> Problem:
    """Import examples/problems/<name> into ``app``'s database and return the Problem row."""
    return (await run_import(app, example_path(name), **kwargs)).problem


def copy_example(target: Path, name: str = "hello", *, keep: tuple[str, ...] = ()) -> Path:
    """Copy examples/problems/<name> to ``target``; ``keep`` limits submissions to these paths."""
    shutil.copytree(example_path(name), target)
    if keep:
        for path in sorted((target / "submissions").rglob("*"), reverse=True):
            relative = path.relative_to(target / "submissions").as_posix()
            if path.is_file() and relative not in keep:
                path.unlink()
    return target


def write_package(
    root: Path,
    tests: Mapping[str, tuple[str, str]],
    *,
    problem_yaml: str = "name: Tiny\n",
    submissions: Mapping[str, str] = {},
    validator: Mapping[str, str] = {},
) -> Path:
    """Write a small problem package: tests by name ("secret/1": (input, answer)), files by path."""
    root.mkdir(parents=True)
    (root / "problem.yaml").write_text(problem_yaml)
    for name, (given, answer) in tests.items():
        path = root / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_name(path.name + ".in").write_text(given)
        path.with_name(path.name + ".ans").write_text(answer)
    for relative, text in submissions.items():
        path = root / "submissions" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for relative, text in validator.items():
        path = root / "output_validators" / "checker" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def write_statement(
    package: Path, files: dict[str, str | bytes], folder: str = "statement"
) -> Path:
    """Replace the package's statements by ``files`` (name -> text or bytes) in ``folder``."""
    for old in ("statement", "problem_statement"):
        shutil.rmtree(package / old, ignore_errors=True)
    directory = package / folder
    directory.mkdir()
    for name, content in files.items():
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return package


def zip_folder(folder: Path, archive: Path, *, top: str | None = None) -> Path:
    """Zip ``folder`` into ``archive`` (under a ``top`` folder when given)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                bundle.write(path, f"{top}/{name}" if top else name)
    return archive


def zip_bytes(folder: Path, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """Return the bytes of a zip of ``folder`` (deflated unless ``compression`` says else)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def yaml_alias_bomb(levels: int, key: str = "validation", width: int = 10) -> str:
    """Return YAML whose ``key`` is a few hundred bytes but ``width ** levels`` values expanded.

    Each anchor is a list of ``width`` aliases to the one before ("billion laughs").
    """
    lines = ['l0: &l0 ["lol"]']
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    lines.append(f"{key}: *l{levels}")
    return "\n".join(lines) + "\n"


def yaml_nested(depth: int, key: str = "name") -> str:
    """Return YAML whose ``key`` is a list nested ``depth`` levels deep."""
    return f"{key}: " + "[" * depth + "]" * depth + "\n"


def zip_bomb(archive: Path) -> Path:
    """Write a zip whose one member expands far beyond any honest compression ratio."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_BZIP2) as bundle:
        bundle.writestr("problem.yaml", "name: Bomb\n")
        bundle.writestr("data/secret/1.in", b"\0" * (32 << 20))
    return archive


# ---------------------------------------------------------------------------------- rows

_numbers = itertools.count(1)
#: The moment the hand-made submissions of scoreboard and metrics tests count from.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: When the submissions stored by :func:`store_submission` were sent, unless told.
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
#: The source of a Python program that passes the hello example.
HELLO_PY = 'print("Hello World!")\n'
#: The same in C.
HELLO_C = '#include <stdio.h>\nint main(void) { puts("Hello World!"); return 0; }\n'


async def create_user(
    app: Quart,
    *,
    email: str | None = None,
    name: str | None = None,
    role: Role = Role.STUDENT,
    disabled: bool = False,
    sub: str | None = None,
    picture: str = "",
    issuer: str = "https://accounts.google.com",
) -> User:
    """Store a user (unique sub and e-mail unless given) and return it."""
    number = next(_numbers)
    user = User(
        sub=sub or f"subject-{number}",
        issuer=issuer,
        email=email or f"person{number}@example.com",
        name=name if name is not None else f"Person {number}",
        picture=picture,
        role=role,
        disabled=disabled,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    async with get_db(app).session() as db:
        db.add(user)
        await db.commit()
    return user


async def get_user(app: Quart, user_id: int) -> User:
    """Reload a user from the database."""
    async with get_db(app).session() as db:
        return (await db.execute(select(User).where(User.id == user_id))).scalar_one()


def minutes(count: float) -> datetime:
    """Return the moment ``count`` minutes after START."""
    return START + timedelta(minutes=count)


async def add_problem(
    app: Quart, slug: str, problem_set: str = "week1", *, hidden: bool = False
) -> Problem:
    """Store a problem row (no package behind it) and return it."""
    problem = Problem(
        slug=slug,
        name=f"Problem {slug}",
        problem_set=problem_set,
        hidden=hidden,
        package_hash="0" * 64,
        time_limit=1.0,
        memory_mb=256,
        output_mb=8,
        test_count=4,
        sample_count=1,
    )
    async with get_db(app).session() as db:
        db.add(problem)
        await db.commit()
    return problem


async def add_submission(
    app: Quart,
    user: User,
    problem: Problem,
    at: datetime,
    verdict: str | None = None,
    score: float | None = None,
    *,
    status: Status = Status.DONE,
) -> Submission:
    """Store a submission with the given outcome (queued ones have no verdict)."""
    submission = Submission(
        user_id=user.id,
        problem_id=problem.id,
        language="python3",
        created_at=at,
        status=status,
        verdict=verdict,
        score=score,
        source_bytes=10,
    )
    async with get_db(app).session() as db:
        db.add(submission)
        await db.commit()
    return submission


async def store_submission(
    app: Quart,
    user: User,
    problem: Problem,
    *,
    language: str = "python3",
    verdict: str | None = "AC",
    created_at: datetime = NOON,
    files: tuple[tuple[str, str], ...] = (("main.py", HELLO_PY),),
) -> int:
    """Store a submission row directly (list fixtures; nothing is judged); return its id."""
    async with get_db(app).session() as db:
        submission = Submission(
            user_id=user.id,
            problem_id=problem.id,
            language=language,
            created_at=created_at,
            status=Status.DONE if verdict else Status.QUEUED,
            verdict=verdict,
            score=1.0 if verdict == "AC" else 0.0 if verdict else None,
            source_bytes=sum(len(content) for _, content in files),
            files=[SubmissionFile(name=name, content=content) for name, content in files],
        )
        db.add(submission)
        await db.commit()
        return submission.id


async def insert_submission(
    app: Quart,
    problem: Problem,
    user_id: int,
    *,
    status: Status = Status.QUEUED,
    worker: str = "",
    heartbeat_age: float | None = None,
    attempts: int = 0,
    partial_results: int = 0,
) -> int:
    """Store a submission and its judging directly, as a crashed server would have left it."""
    now = utcnow()
    async with get_db(app).session() as db:
        submission = Submission(
            user_id=user_id,
            problem_id=problem.id,
            language="python3",
            status=status,
            source_bytes=len(HELLO_PY),
            files=[SubmissionFile(name="main.py", content=HELLO_PY)],
        )
        db.add(submission)
        await db.flush()
        judging = Judging(
            submission_id=submission.id,
            package_hash=problem.package_hash,
            status=status,
            worker=worker,
            attempts=attempts,
            started_at=now if status is Status.RUNNING else None,
            heartbeat_at=None if heartbeat_age is None else now - timedelta(seconds=heartbeat_age),
        )
        db.add(judging)
        await db.flush()
        submission.judging_id = judging.id
        for index in range(partial_results):
            db.add(TestResult(judging_id=judging.id, index=index, name=f"t{index}", verdict="AC"))
        await db.commit()
        return submission.id


def _count(model: type[Any], *where: ColumnElement[bool]) -> Select[tuple[int]]:
    """Return the query counting the rows of ``model`` that match every ``where``."""
    query = select(func.count()).select_from(model)
    return query.where(*where) if where else query


async def count_rows(app: Quart, model: type[Any], *where: ColumnElement[bool]) -> int:
    """Return how many rows ``model`` has (only those matching every ``where`` when given)."""
    async with get_db(app).session() as db:
        return int(await db.scalar(_count(model, *where)) or 0)


async def count_sessions(app: Quart, *, live_only: bool = False) -> int:
    """Return how many login sessions are stored (or how many are not revoked)."""
    if live_only:
        return await count_rows(app, LoginSession, LoginSession.revoked_at.is_(None))
    return await count_rows(app, LoginSession)


async def row_counts(app: Quart) -> dict[str, int]:
    """Return how many submissions, files, judgings and test results are stored (one read)."""
    counts: dict[str, int] = {}
    async with get_db(app).session() as db:
        for name, model in (
            ("submissions", Submission),
            ("files", SubmissionFile),
            ("judgings", Judging),
            ("results", TestResult),
        ):
            counts[name] = int(await db.scalar(_count(model)) or 0)
    return counts


async def load_submission(app: Quart, submission_id: int) -> Submission:
    """Reload a submission from the database."""
    async with get_db(app).session() as db:
        submission = await db.get(Submission, submission_id)
        assert submission is not None
        return submission


async def judgings_of(app: Quart, submission_id: int) -> list[Judging]:
    """Return the judgings of a submission, oldest first."""
    async with get_db(app).session() as db:
        rows = await db.execute(
            select(Judging).where(Judging.submission_id == submission_id).order_by(Judging.id)
        )
        return list(rows.scalars())


async def results_of(app: Quart, judging_id: int) -> list[TestResult]:
    """Return the test results of a judging in test order."""
    async with get_db(app).session() as db:
        rows = await db.execute(
            select(TestResult).where(TestResult.judging_id == judging_id).order_by(TestResult.index)
        )
        return list(rows.scalars())


async def load_problem(app: Quart, slug: str) -> Problem | None:
    """Return the problem ``slug``, or None when there is none."""
    async with get_db(app).session() as db:
        query = select(Problem).where(Problem.slug == slug)
        return (await db.execute(query)).scalar_one_or_none()


async def set_feedback(app: Quart, slug: str, groups: dict[str, Any]) -> None:
    """Give problem ``slug`` the feedback policy ``{"groups": groups}`` (as staff would)."""
    async with get_db(app).session() as db:
        problem = (await db.execute(select(Problem).where(Problem.slug == slug))).scalar_one()
        await set_policy(db, problem, FeedbackPolicy.from_json({"groups": groups}))
        await db.commit()


async def assert_nothing_stored(app: Quart) -> None:
    """No problem row, no package version, no zip in the store."""
    async with get_db(app).session() as db:
        assert await db.scalar(select(func.count()).select_from(Problem)) == 0
        assert await db.scalar(select(func.count()).select_from(PackageVersion)) == 0
    store = get_settings(app).package_dir
    assert not store.exists() or list(store.iterdir()) == []


# ------------------------------------------------------------- signed-in clients and tokens


async def sign_in_as(client: QuartClient, user: User, *, user_agent: str = "pytest") -> str:
    """Open a login session for ``user`` and give ``client`` its cookie; return the session id."""
    app = client.app
    days = get_settings(app).session_lifetime_days
    async with get_db(app).session() as db:
        token, _ = await create_session(
            db, user, lifetime=timedelta(days=days), user_agent=user_agent
        )
        await db.commit()
    auth = _auth_extension(app)
    client.set_cookie(
        "localhost",
        auth.cookie_name,
        generate_auth_token(client, token),
        path=auth.cookie_path,
        secure=auth.cookie_secure,
        httponly=True,
        samesite=auth.cookie_samesite,
    )
    return token


def _auth_extension(app: Quart) -> Any:
    """Return the app's Quart-Auth extension (the one that sets the sign-in cookie)."""
    return next(ext for ext in app.extensions["QUART_AUTH"] if ext.singleton)


async def signed_in(client: QuartClient, role: Role = Role.STUDENT, **fields: Any) -> User:
    """Create a user with ``role`` (and ``fields``) in the client's app; sign ``client`` in."""
    user = await create_user(client.app, role=role, **fields)
    await sign_in_as(client, user)
    return user


async def csrf_token(client: QuartClient, path: str = "/") -> str:
    """Return the CSRF token rendered into the forms of ``path`` ('' when it has none)."""
    page = await (await client.get(path)).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return match.group(1) if match else ""


def auth_cookie(response: Any) -> str | None:
    """Return the Set-Cookie header of the sign-in cookie in ``response``, if any."""
    headers = [h for h in response.headers.get_all("Set-Cookie") if "verdict_auth=" in h]
    return headers[0] if headers else None


def cookie_value(response: Any) -> str:
    """Return the value of the sign-in cookie set by ``response``."""
    header = auth_cookie(response)
    assert header is not None
    return header.split(";", 1)[0].split("=", 1)[1]


async def token_for(app: Quart, user: User, name: str = "tests") -> str:
    """Create an access token for ``user`` and return its plaintext."""
    async with get_db(app).session() as db:
        plaintext, _ = await create_token(db, user, name)
        await db.commit()
    return plaintext


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def user_with_token(app: Quart, role: Role = Role.STUDENT) -> tuple[User, dict[str, str]]:
    """Create a user and a token; return the user and the headers sending the token."""
    user = await create_user(app, role=role)
    return user, bearer(await token_for(app, user))


# ---------------------------------------------------------------------- forms and streams


async def post_submission(
    client: QuartClient,
    slug: str = "hello",
    *,
    language: str = "python3",
    source: str = "",
    files: list[tuple[str, bytes]] | None = None,
    token: str | None = None,
) -> Any:
    """Post the submit form (multipart, like a browser) and return the response."""
    token = await csrf_token(client) if token is None else token
    boundary = "----verdict-test-boundary"
    parts: list[bytes] = []
    fields = {"csrf_token": token, "language": language, "source": source}
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for filename, content in files or [("", b"")]:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return await client.post(
        f"/problems/{slug}/submissions",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


def submission_id(response: Any) -> int:
    """Return the id of the submission a successful form post redirected to."""
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    assert location.startswith("/submissions/")
    return int(location.rsplit("/", 1)[1])


def parse_events(stream: str) -> list[tuple[str, dict[str, object]]]:
    """Split a Server-Sent Events body into (event, data) pairs (comments such as keep-alives
    are skipped, as a browser does)."""
    events = []
    for block in stream.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if not lines:
            continue
        events.append((lines["event"], json.loads(lines["data"])))
    return events


# ----------------------------------------------------------------------------- a real server

ROOT = Path(__file__).resolve().parent.parent
#: Seconds a started server may take to answer /healthz.
SERVER_START_SECONDS = 60


@dataclass(frozen=True)
class LiveServer:
    """Hypercorn serving ``asgi:app`` on 127.0.0.1 in its own process group, for one test."""

    port: int
    log: Path

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(database_url: str, data_dir: Path, port: int) -> dict[str, str]:
    """Return the environment of a served test app (the settings of :func:`app_settings`)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "VERDICT_ENV": Environment.TESTING.value,
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "VERDICT_DATA_DIR": str(data_dir),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "GOOGLE_CLIENT_ID": "test-client-id",
        "GOOGLE_CLIENT_SECRET": "test-client-secret",
        "SANDBOX": "unsafe-rlimit",  # nothing is judged; never start bubblewrap
        "EVALUATOR_CONCURRENCY": "1",
    }


@contextmanager
def serve(database_url: str, data_dir: Path, log: Path) -> Iterator[LiveServer]:
    """Run Hypercorn on a free port until the block ends; fail with its log if it never answers."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "hypercorn", "asgi:app", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=server_environment(database_url, data_dir, port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_serving(process, port, log)
        yield LiveServer(port=port, log=log)
    finally:
        _stop(process)


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}):\n{log.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"no answer on port {port}:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response with a Content-Length from ``sock``: status, headers, body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} bytes of the response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def healthz_latencies(server: LiveServer, seconds: float, interval: float = 0.05) -> list[float]:
    """Probe ``GET /healthz`` every ``interval`` for ``seconds``; return each probe's latency.

    Probes start on a fixed schedule whether or not earlier ones were answered (each on its
    own connection), so a server that stalls for a second keeps about twenty probes waiting
    instead of one.
    """
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    start = time.monotonic()

    def probe(index: int) -> float:
        time.sleep(max(0.0, start + index * interval - time.monotonic()))
        begun = time.perf_counter()
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            sock.sendall(request)
            status, _, _ = read_response(sock)
        assert status == 200
        return time.perf_counter() - begun

    count = int(seconds / interval)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(probe, range(count)))


def median_ms(latencies: list[float]) -> float:
    """Return the median of ``latencies`` (seconds) in milliseconds."""
    return statistics.median(latencies) * 1000
