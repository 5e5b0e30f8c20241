"""The site the browser tests drive: the local OIDC provider and Hypercorn serving ``asgi:app``.

Both run as real processes on free loopback ports, once per test session, on a fresh SQLite
database with the example problems imported through the ``verdict`` command. The app judges
in the real bubblewrap sandbox, as ``make run`` does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.factories import ROOT, free_port, sqlite_url

VENV_BIN = Path(sys.executable).parent
IDP = ROOT / ".venv-idp" / "bin" / "oidc-provider-mock"
#: The people of the provider's sign-in page (the same three as ``make run``).
NAMES = {"admin": "Ada Admin", "student": "Sam Student", "student2": "Kim Student"}
PEOPLE = tuple(
    {"sub": sub, "email": f"{sub}@example.com", "email_verified": True, "name": name}
    for sub, name in NAMES.items()
)
#: The example problems imported before the server starts.
EXAMPLES = ("hello", "limits")
START_SECONDS = 60


@dataclass(frozen=True)
class Site:
    """The running app and provider, and where their logs are."""

    url: str
    idp_url: str
    app_log: Path
    idp_log: Path
    database_url: str

    def logs(self) -> str:
        """Return both logs, to explain a failure."""
        return f"--- app\n{self.app_log.read_text()}\n--- provider\n{self.idp_log.read_text()}"


def site_environment(root: Path, app_port: int, idp_port: int) -> dict[str, str]:
    """Return the app's environment: development settings, the local provider, the sandbox."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "VERDICT_ENV": "development",
        "SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": sqlite_url(root / "verdict.db"),
        "VERDICT_DATA_DIR": str(root / "data"),
        "PUBLIC_URL": f"http://127.0.0.1:{app_port}",
        "OIDC_ISSUER": f"http://127.0.0.1:{idp_port}",
        "GOOGLE_CLIENT_ID": "verdict-local",
        "GOOGLE_CLIENT_SECRET": "verdict-local-secret",
        "ADMIN_EMAILS": "admin@example.com",
        "SANDBOX": "bwrap",
        "EVALUATOR_CONCURRENCY": "1",
    }


def _verdict(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "verdict"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"verdict {' '.join(args)}:\n{done.stdout}{done.stderr}"


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def run_site(root: Path) -> Iterator[Site]:
    """Migrate, import the examples, start the provider and the app; stop both at the end."""
    app_port, idp_port = free_port(), free_port()
    env = site_environment(root, app_port, idp_port)
    _verdict(env, "db", "upgrade")
    for name in EXAMPLES:
        _verdict(env, "problems", "import", str(ROOT / "examples" / "problems" / name))
    idp_argv = [str(IDP), "--host", "127.0.0.1", "--port", str(idp_port)]
    for person in PEOPLE:
        idp_argv += ["--user-claims", json.dumps(person)]
    app_argv = [str(VENV_BIN / "hypercorn"), "asgi:app", "--bind", f"127.0.0.1:{app_port}"]
    app_argv += ["--graceful-timeout", "5"]
    site = Site(
        url=env["PUBLIC_URL"],
        idp_url=env["OIDC_ISSUER"],
        app_log=root / "app.log",
        idp_log=root / "idp.log",
        database_url=env["DATABASE_URL"],
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        idp_env = {"PATH": env["PATH"], "HOME": env["HOME"]}
        processes.append(_start(idp_argv, idp_env, site.idp_log))
        processes.append(_start(app_argv, env, site.app_log))
        _wait_listening(processes[0], idp_port, site.idp_log)
        _wait_listening(processes[1], app_port, site.app_log)
        yield site
    finally:
        for process in processes:
            _stop(process)
