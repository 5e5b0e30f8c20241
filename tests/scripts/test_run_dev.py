"""`make run`'s script for real: migrate, start the local provider, serve, clean up on exit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
RUN_DEV = ROOT / "scripts" / "run-dev"
IDP = ROOT / ".venv-idp" / "bin" / "oidc-provider-mock"

pytestmark = pytest.mark.slow


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    """Return whether something accepts connections on a loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], what: str, log: Path, timeout: float = 60) -> None:
    """Poll ``condition`` until true, failing with the script's log after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} after {timeout} s:\n{log.read_text()}")


@pytest.fixture
def run_dev(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, int, Path]]:
    """Start scripts/run-dev on free ports with a temporary database; stop it afterwards."""
    require_or_skip(IDP.exists(), f"{IDP} missing: run `make idp-venv`")
    require_or_skip((ROOT / ".venv" / "bin" / "hypercorn").exists(), ".venv missing: `make venv`")
    app_port, idp_port = free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VERDICT_PORT": str(app_port),
        "VERDICT_IDP_PORT": str(idp_port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}",
    }
    log = tmp_path / "run-dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(RUN_DEV)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process, app_port, idp_port, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_run_dev_serves_with_local_provider_and_cleans_up(
    run_dev: tuple[subprocess.Popen[bytes], int, int, Path], tmp_path: Path
) -> None:
    process, app_port, idp_port, log = run_dev
    wait_for(lambda: listening(app_port), "the app is not listening", log)
    base = f"http://127.0.0.1:{app_port}"
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base}/readyz").status_code == 200  # migrated
    assert "Sign in with Google" in httpx.get(f"{base}/").text
    login = httpx.get(f"{base}/login")
    assert login.status_code == 302
    assert login.headers["location"].startswith(f"http://127.0.0.1:{idp_port}/")
    provider_page = httpx.get(login.headers["location"])
    assert 'value="admin"' in provider_page.text  # the predefined admin, one click away
    assert (tmp_path / "dev.db").exists()

    process.send_signal(signal.SIGTERM)  # the app is the script's own pid after `exec`
    assert process.wait(timeout=30) is not None
    wait_for(lambda: not listening(idp_port), "the provider outlived the app", log, timeout=15)


def test_run_dev_with_its_port_taken_says_which_setting_to_change(tmp_path: Path) -> None:
    require_or_skip(IDP.exists(), f"{IDP} missing: run `make idp-venv`")
    app_port, idp_port = free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VERDICT_PORT": str(app_port),
        "VERDICT_IDP_PORT": str(idp_port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}",
    }
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", app_port))
        taken.listen()

        done = subprocess.run(
            [str(RUN_DEV)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    assert done.returncode == 1
    said = done.stdout + done.stderr
    assert f"port {app_port} is taken" in said and "VERDICT_PORT" in said
    assert "Traceback" not in said
    assert not listening(idp_port), "the provider was started anyway"
