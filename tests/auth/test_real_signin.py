"""Sign in over real sockets: Hypercorn serving asgi:app, oidc-provider-mock as the provider.

No test client and no respx: a real HTTP client follows the redirects, submits the provider's
login form and lands on the home page as the signed-in user.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest

from tests.helpers import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
IDP = ROOT / ".venv-idp" / "bin" / "oidc-provider-mock"
USER = {
    "sub": "ada-lovelace",
    "email": "ada@example.org",
    "email_verified": True,
    "name": "Ada Lovelace",
}

pytestmark = pytest.mark.slow


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Wait for ``port`` to accept connections, failing if the process dies first."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"process exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listening on 127.0.0.1:{port} after 30 s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the process group the test started (a server and any workers it forked)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[str]:
    """Start the provider and the app on free loopback ports; yield the app's URL."""
    require_or_skip(IDP.exists(), f"{IDP} missing: run `make idp-venv`")
    idp_port, app_port = free_port(), free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VERDICT_ENV": "development",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'verdict.db'}",
        "GOOGLE_CLIENT_ID": "verdict-local",
        "GOOGLE_CLIENT_SECRET": "verdict-local-secret",
        "OIDC_ISSUER": f"http://127.0.0.1:{idp_port}",
        "PUBLIC_URL": app_url,
    }
    migrate = subprocess.run(
        [str(VENV_BIN / "verdict"), "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    processes: list[subprocess.Popen[bytes]] = []
    try:
        idp_log = tmp_path / "idp.log"
        with idp_log.open("wb") as out:
            idp = subprocess.Popen(
                [str(IDP), "--port", str(idp_port), "--user-claims", json.dumps(USER)],
                env={"PATH": env["PATH"], "HOME": env["HOME"]},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(idp)
        app_log = tmp_path / "app.log"
        with app_log.open("wb") as out:
            app = subprocess.Popen(
                [
                    str(VENV_BIN / "hypercorn"),
                    "asgi:app",
                    "--bind",
                    f"127.0.0.1:{app_port}",
                    "--graceful-timeout",
                    "1",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(app)
        wait_until_listening(idp, idp_port, idp_log)
        wait_until_listening(app, app_port, app_log)
        yield app_url
    finally:
        for process in processes:
            stop(process, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                stop(process, signal.SIGKILL)
                process.wait(timeout=10)


def test_sign_in_through_a_real_provider(servers: str) -> None:
    app_url = servers
    with httpx.Client(follow_redirects=True, timeout=15, trust_env=False) as browser:
        home = browser.get(app_url + "/")
        assert home.status_code == 200
        assert "Ada Lovelace" not in home.text

        consent = browser.get(app_url + "/login", params={"next": "/"})
        assert consent.status_code == 200, consent.text
        assert "/oauth2/authorize" in consent.url.path
        assert f'value="{USER["sub"]}"' in consent.text
        # The predefined user is a one-click form posting ``sub`` back to the same URL.
        form = re.search(r'<form method="post"(?: action="([^"]*)")?>', consent.text)
        assert form is not None
        target = unescape(form.group(1)) if form.group(1) else str(consent.url)

        landed = browser.post(target, data={"sub": USER["sub"]})

        assert landed.status_code == 200, landed.text
        assert str(landed.url) == app_url + "/"
        assert "Ada Lovelace" in landed.text
        hops = [str(r.url) for r in landed.history]
        assert any(hop.startswith(app_url + "/login/callback?") for hop in hops)
