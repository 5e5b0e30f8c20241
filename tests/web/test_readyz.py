"""The probes: /healthz answers, /readyz checks the database and that the sandbox runs a program."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from quart.testing import QuartClient

from service.evaluator import RunResult, RunSpec, SandboxUnavailable
from service.jobs import get_dispatcher
from service.submissions.service import submit
from service.web import views as web_views
from tests.factories import AppFactory, create_user, import_example, sqlite_url
from tests.fakes import FakeSandbox, exited, judge_on, real_sandbox


class BrokenSandbox(FakeSandbox):
    """A sandbox whose every run fails as the machine lost bubblewrap."""

    async def run(self, spec: RunSpec) -> RunResult:
        """Fail like a sandbox that cannot start."""
        self.specs.append(spec)
        raise SandboxUnavailable("bubblewrap is not installed")


async def test_healthz(client: QuartClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}


@pytest.mark.sandbox
async def test_readyz_checks_database(client: QuartClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert await response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "sandbox": "ok"},
    }


async def test_readyz_reports_unreachable_database(make_app: AppFactory, tmp_path: Path) -> None:
    # A directory is not a database file: every connection attempt fails.
    async with make_app(database_url=sqlite_url(tmp_path)) as app:
        response = await app.test_client().get("/readyz")
    assert response.status_code == 503
    body = await response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("error: ")


@pytest.mark.sandbox
async def test_readyz_on_postgresql(make_app: AppFactory, postgres_database: str) -> None:
    async with make_app(database_url=postgres_database) as app:
        response = await app.test_client().get("/readyz")
    assert response.status_code == 200
    assert (await response.get_json())["checks"]["database"] == "ok"


@pytest.mark.sandbox
async def test_ready_with_the_real_sandbox(make_app: AppFactory) -> None:
    mode = os.environ.get("SANDBOX", "bwrap")
    async with real_sandbox():  # skips (or fails under VERDICT_REQUIRE_ALL) when unavailable
        pass
    async with make_app(sandbox=mode) as app:
        response = await app.test_client().get("/readyz")
        assert response.status_code == 200
        assert await response.get_json() == {
            "status": "ready",
            "checks": {"database": "ok", "sandbox": "ok"},
        }


async def test_a_broken_sandbox_makes_the_app_unavailable(make_app: AppFactory) -> None:
    broken = BrokenSandbox()
    async with make_app(judge_on(broken)) as app:
        response = await app.test_client().get("/readyz")
    body = await response.get_json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["sandbox"] == "error: SandboxUnavailable: bubblewrap is not installed"
    assert [list(spec.argv) for spec in broken.specs] == [["/bin/true"]]
    assert broken.specs[0].limits.wall_time <= 5.0


async def test_a_sandbox_that_fails_the_program_is_reported(make_app: AppFactory) -> None:
    async with make_app(judge_on(FakeSandbox(sandbox_errors=1))) as app:
        response = await app.test_client().get("/readyz")
    assert response.status_code == 503
    assert (await response.get_json())["checks"]["sandbox"] == (
        "error: /bin/true ended sandbox_error fake failure"
    )


async def test_an_unknown_sandbox_mode_is_reported(make_app: AppFactory) -> None:
    async with make_app(sandbox="nonsense") as app:
        response = await app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "unknown sandbox mode 'nonsense'" in (await response.get_json())["checks"]["sandbox"]


async def test_a_good_result_is_reused_and_a_bad_one_is_not(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = FakeSandbox(sandbox_errors=1)
    clock = [1000.0]
    monkeypatch.setattr("service.web.views.time.monotonic", lambda: clock[0])
    async with make_app(judge_on(sandbox)) as app:
        client = app.test_client()
        statuses = []
        for advance in (0.0, 0.0, 10.0, 29.0, 2.0):
            clock[0] += advance
            statuses.append((await client.get("/readyz")).status_code)
    # fails (probe 1), retries at once and works (probe 2), trusted for 30 s, then probes again
    assert statuses == [503, 200, 200, 200, 200]
    assert len(sandbox.specs) == 3


async def test_a_slow_sandbox_times_out(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.web.views.PROBE_TIMEOUT", 0.05)
    async with make_app(judge_on(FakeSandbox(delay=5.0))) as app:
        response = await app.test_client().get("/readyz")
    assert response.status_code == 503
    assert (await response.get_json())["checks"]["sandbox"] == "error: no result within 0.05 s"


async def test_finished_judgings_vouch_for_the_sandbox(make_app: AppFactory) -> None:
    sandbox = BrokenSandbox()
    async with make_app(judge_on(sandbox)) as app:
        dispatcher = get_dispatcher(app)
        client = app.test_client()
        for hook in dispatcher.on_finished:
            hook("JE", 0.1)  # a judge error proves nothing
        assert (await client.get("/readyz")).status_code == 503
        for hook in dispatcher.on_finished:
            hook("WA", 0.1)
        assert (await client.get("/readyz")).status_code == 200
    assert len(sandbox.specs) == 1


class BlockedSandbox(FakeSandbox):
    """A sandbox whose every slot is taken: runs wait until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def run(self, spec: RunSpec) -> RunResult:
        """Wait for a slot that only frees when the test says so."""
        self.specs.append(spec)
        await self.release.wait()
        return exited()


async def test_a_busy_evaluator_stays_ready(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every slot is judging: the probe cannot get a slot in time, but busy is not broken.
    monkeypatch.setattr(web_views, "PROBE_TIMEOUT", 0.2)
    blocked = BlockedSandbox()
    async with make_app(judge_on(blocked)) as app:
        problem = await import_example(app)
        user = await create_user(app)
        await submit(app, user, problem.slug, "python3", [("hello.py", b"print(1)\n")])
        async with asyncio.timeout(10):
            while get_dispatcher(app).stats()["running"] == 0:
                await asyncio.sleep(0.02)
        response = await app.test_client().get("/readyz")
        blocked.release.set()
    assert response.status_code == 200
    assert (await response.get_json())["checks"]["sandbox"] == "ok"


async def test_an_idle_evaluator_whose_probe_hangs_is_unavailable(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_views, "PROBE_TIMEOUT", 0.2)
    blocked = BlockedSandbox()
    async with make_app(judge_on(blocked)) as app:
        response = await app.test_client().get("/readyz")
        blocked.release.set()
    assert response.status_code == 503
    assert (await response.get_json())["checks"]["sandbox"] == "error: no result within 0.2 s"
