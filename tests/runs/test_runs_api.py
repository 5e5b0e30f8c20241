"""Run on my input through the API: results in the real sandbox, refusals, nothing stored."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from typing import Any

import pytest
from quart import Quart

from service.config import RateLimit, get_settings
from service.evaluator import RunResult, RunSpec, SandboxUnavailable, offered_ids
from service.models import Judging, Submission
from service.packages import forget_loaded, unpacked_root
from tests.factories import (
    HELLO_C,
    HELLO_PY,
    AppFactory,
    count_rows,
    import_example,
    user_with_token,
)
from tests.fakes import FakeSandbox, exited, judge_on
from tests.helpers import require_or_skip

ECHO_PY = "import sys\nsys.stdout.write(sys.stdin.read().upper())\n"


async def run(app: Quart, headers: dict[str, str], **body: Any) -> tuple[int, dict[str, Any]]:
    """POST a run; return the status and the JSON body."""
    response = await app.test_client().post(
        "/api/v1/runs", json={"problem": "hello", "language": "python3", **body}, headers=headers
    )
    return response.status_code, await response.get_json()


@pytest.mark.sandbox
async def test_runs_in_the_real_sandbox(make_app: AppFactory) -> None:
    require_or_skip("c" in offered_ids(), "c is not installed here")
    async with make_app() as app:
        await import_example(app, "hello")
        _, headers = await user_with_token(app)
        typed = await run(app, headers, source=ECHO_PY, input="abc\n")
        c_sample = await run(app, headers, language="c", source=HELLO_C, sample="1")
        wrong = await run(app, headers, source='print("Hello world")\n', sample="sample/1")
        slow = await run(app, headers, source="while True:\n    pass\n", input="")
        broken = await run(app, headers, language="c", source="int main(void) { return x; }\n")
        stored = await count_rows(app, Submission), await count_rows(app, Judging)

    status, body = typed
    assert status == 200 and body["status"] == "done"
    assert (body["stdout"], body["exit"], body["verdict"], body["sample"]) == (
        "ABC\n",
        0,
        None,
        None,
    )
    assert body["time_ms"] >= 0 and body["memory_kb"] > 0
    status, body = c_sample
    assert (status, body["verdict"], body["sample"], body["diff"]) == (200, "AC", "sample/1", None)
    assert body["expected"] == "Hello World!\n"
    status, body = wrong
    assert (status, body["verdict"]) == (200, "WA")
    assert body["diff"]["summary"] == "Token 2 differs: expected 'World!', got 'world'."
    status, body = slow
    assert (status, body["verdict"], body["status"]) == (200, "TLE", "done")
    status, body = broken
    assert (status, body["status"], body["verdict"]) == (200, "compile_error", "CE")
    assert "x" in body["compile_output"]
    assert stored == (0, 0)


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"language": "cobol-85", "source": HELLO_PY}, 422, "unknown_language"),
        ({"source": ""}, 422, "empty_source"),
        ({"source": "x" * (200 * 1024)}, 413, "source_too_large"),
        ({"source": "print(1)\x00"}, 422, "not_text"),
        ({"source": HELLO_PY, "input": "x" * (64 * 1024 + 1)}, 413, "input_too_large"),
        ({"source": HELLO_PY, "input": "a\x00b"}, 422, "not_text"),
        ({"source": HELLO_PY, "input": "", "sample": "1"}, 422, "input_and_sample"),
        ({"source": HELLO_PY, "sample": "9"}, 422, "no_such_sample"),
        ({"source": HELLO_PY, "sample": "secret/1"}, 422, "no_such_sample"),
        ({"problem": "hidden", "source": HELLO_PY}, 404, "no_such_problem"),
        ({"problem": "nope", "source": HELLO_PY}, 404, "no_such_problem"),
        ({"files": [], "source": HELLO_PY}, 422, "invalid_request"),
    ],
)
async def test_refusals_say_why_and_keep_nothing(
    make_app: AppFactory, body: dict[str, Any], status: int, error: str
) -> None:
    ran: list[bytes] = []

    def program(stdin: bytes, spec: RunSpec) -> RunResult:
        ran.append(stdin)
        return exited(b"ok\n")

    async with make_app(setup=judge_on(FakeSandbox(program=program))) as app:
        await import_example(app, "hello")
        await import_example(app, "hello", slug="hidden", hidden=True)
        _, headers = await user_with_token(app)
        got, answer = await run(app, headers, **body)
        stored = await count_rows(app, Submission)
    assert (got, answer["error"]) == (status, error), answer
    assert answer["message"]
    assert ran == [] and stored == 0


async def test_no_source_sizes_beyond_the_setting(make_app: AppFactory) -> None:
    async with make_app(setup=judge_on(FakeSandbox()), max_source_bytes=10) as app:
        await import_example(app, "hello")
        _, headers = await user_with_token(app)
        got, answer = await run(app, headers, source=HELLO_PY)
    assert (got, answer["error"]) == (413, "source_too_large")


@dataclass
class HeldSandbox(FakeSandbox):
    """A fake sandbox whose every run waits for ``release`` (``started`` says one began)."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, spec: RunSpec) -> RunResult:
        """Note the run, wait for the release, then run as the fake does."""
        self.started.set()
        await self.release.wait()
        return await super().run(spec)


async def test_one_run_at_a_time_per_person(make_app: AppFactory) -> None:
    held = HeldSandbox(program=lambda stdin, spec: exited(b"ok\n"))
    async with make_app(setup=judge_on(held)) as app:
        await import_example(app, "hello")
        _, headers = await user_with_token(app)
        _, other = await user_with_token(app)
        first = asyncio.create_task(run(app, headers, source=HELLO_PY, input="1"))
        await asyncio.wait_for(held.started.wait(), 30)
        second = await run(app, headers, source=HELLO_PY, input="2")
        held.release.set()
        someone_else = await run(app, other, source=HELLO_PY, input="3")
        done = await first
        again = await run(app, headers, source=HELLO_PY, input="4")
    assert second[0] == 429 and second[1]["error"] == "run_in_progress"
    assert done[0] == someone_else[0] == again[0] == 200


async def test_too_many_runs_are_refused_with_retry_after(make_app: AppFactory) -> None:
    fake = FakeSandbox(program=lambda s, p: exited(b"1\n"))
    async with make_app(setup=judge_on(fake), run_rate_limit=RateLimit(2, 60)) as app:
        await import_example(app, "hello")
        _, headers = await user_with_token(app)
        client = app.test_client()
        statuses = []
        for _ in range(3):
            response = await client.post(
                "/api/v1/runs",
                json={"problem": "hello", "language": "python3", "source": "print(1)"},
                headers=headers,
            )
            statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert int(response.headers["Retry-After"]) >= 1
    assert (await response.get_json())["error"] == "rate_limited"


class BrokenSandbox(FakeSandbox):
    """A sandbox that cannot start anything (bubblewrap gone from the web host)."""

    async def run(self, spec: RunSpec) -> RunResult:
        """Fail as a missing sandbox does."""
        raise SandboxUnavailable("bwrap is not installed")


async def test_no_sandbox_or_package_is_a_503_not_a_500(make_app: AppFactory) -> None:
    async with make_app(setup=judge_on(BrokenSandbox())) as app:
        await import_example(app, "hello")
        _, headers = await user_with_token(app)
        no_sandbox = await run(app, headers, source=HELLO_PY, input="")
        shutil.rmtree(get_settings(app).package_dir)
        shutil.rmtree(unpacked_root(get_settings(app)))
        forget_loaded()
        no_package = await run(app, headers, source=HELLO_PY, input="")
        again = await run(app, headers, source=HELLO_PY, input="")
    for status, body in (no_sandbox, no_package, again):
        assert (status, body["error"]) == (503, "run_unavailable")
        assert "try again later" in body["message"]
