"""Submitting through the browser form: verdicts from the real and the fake sandbox, refusals."""

from __future__ import annotations

import os

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import update

from service.config import RateLimit
from service.db import get_db
from service.evaluator import Outcome, RunResult, SandboxUnavailable, create_sandbox, offered_ids
from service.models import Problem, Role, Submission
from tests.factories import (
    HELLO_C,
    HELLO_PY,
    AppFactory,
    count_rows,
    create_user,
    csrf_token,
    import_example,
    post_submission,
    sign_in_as,
    signed_in,
    submission_id,
)
from tests.fakes import FakeSandbox, exited, judge_on, says
from tests.helpers import require_or_skip
from tests.waiting import wait_until_done


def require_language(language: str) -> None:
    """Skip (or fail under VERDICT_REQUIRE_ALL) when the toolchain is missing."""
    require_or_skip(language in offered_ids(), f"{language} is not installed here")


@pytest.mark.sandbox
async def test_python_and_c_hello_are_accepted_in_the_real_sandbox(make_app: AppFactory) -> None:
    mode = os.environ.get("SANDBOX", "bwrap")
    try:
        await create_sandbox(mode, slots=1).aclose()
    except SandboxUnavailable as error:
        require_or_skip(False, f"sandbox {mode!r} unavailable here: {error}")
    require_language("c")
    async with make_app(sandbox=mode) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        for language, source in (("python3", HELLO_PY), ("c", HELLO_C)):
            number = submission_id(await post_submission(client, language=language, source=source))
            state = await wait_until_done(client, number)
            assert (state["verdict"], state["score"]) == ("AC", 1.0), state
            assert state["tests_done"] == state["tests_total"] == 2
            assert [test["verdict"] for test in state["tests"]] == ["AC", "AC"]
            page = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
            assert 'class="badge verdict-AC"' in page


@pytest.mark.sandbox
async def test_wa_ce_and_tle_in_the_real_sandbox(make_app: AppFactory) -> None:
    mode = os.environ.get("SANDBOX", "bwrap")
    try:
        await create_sandbox(mode, slots=1).aclose()
    except SandboxUnavailable as error:
        require_or_skip(False, f"sandbox {mode!r} unavailable here: {error}")
    require_language("c")
    cases = (
        ("python3", 'print("Goodbye World!")\n', "WA", ""),
        ("c", "int main(void) { return missing; }\n", "CE", "missing"),
        ("python3", "while True:\n    pass\n", "TLE", ""),
    )
    async with make_app(sandbox=mode, evaluator_concurrency=2) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        for language, source, verdict, says_this in cases:
            number = submission_id(await post_submission(client, language=language, source=source))
            state = await wait_until_done(client, number)
            assert state["verdict"] == verdict, state
            assert says_this in state["compile_output"]
            if verdict == "CE":
                assert "error" in state["compile_output"]  # gcc's own message
                page = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
                assert "missing" in page and "undeclared" in page


async def test_wrong_output_is_wrong_answer(make_app: AppFactory) -> None:
    sandbox = FakeSandbox(program=says(b"Goodbye World!\n"))
    async with make_app(setup=judge_on(sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        number = submission_id(await post_submission(client, source=HELLO_PY))
        state = await wait_until_done(client, number)
        assert state["verdict"] == "WA"
        assert state["score"] == 0.0
        page = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
        assert 'data-status="done"' in page
        assert 'class="badge verdict-WA"' in page
        assert page.count('<tr data-test-index="') == 2


async def test_compile_error_shows_the_compiler_message_escaped(make_app: AppFactory) -> None:
    require_language("c")
    message = b"main.c:1:1: error: unknown type name '<script>alert(1)</script>'\n"
    sandbox = FakeSandbox(compiler=lambda _spec: exited(code=1, stderr=message))
    async with make_app(setup=judge_on(sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        number = submission_id(await post_submission(client, language="c", source="x y;\n"))
        state = await wait_until_done(client, number)
        assert state["verdict"] == "CE"
        assert "<script>alert(1)</script>" in state["compile_output"]
        page = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)" not in page
        assert sandbox.runs == []  # nothing ran after the failed build


async def test_time_limit_is_tle(make_app: AppFactory) -> None:
    sandbox = FakeSandbox(
        program=lambda _stdin, _spec: RunResult(Outcome.TIME_LIMIT, cpu_ms=1500, wall_ms=1600)
    )
    async with make_app(setup=judge_on(sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        number = submission_id(await post_submission(client, source="while True:\n    pass\n"))
        state = await wait_until_done(client, number)
        assert state["verdict"] == "TLE"
        assert state["tests"][0]["verdict"] == "TLE"


async def test_uploaded_files_are_submitted(
    make_app: AppFactory, fake_sandbox: FakeSandbox
) -> None:
    async with make_app(setup=judge_on(fake_sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        files = [("main.py", HELLO_PY.encode()), ("words.py", b"GREETING = 'hi'\n")]
        number = submission_id(await post_submission(client, files=files))
        state = await wait_until_done(client, number)
        assert state["verdict"] == "AC", state["compile_output"]
        page = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
        assert ">main.py</h3>" in page and ">words.py</h3>" in page


async def test_editor_text_is_stored_with_unix_newlines(
    make_app: AppFactory, fake_sandbox: FakeSandbox
) -> None:
    async with make_app(setup=judge_on(fake_sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        source = "import sys\r\nprint('Hello World!')\r\n"
        number = submission_id(await post_submission(client, source=source))
        download = await client.get(f"/submissions/{number}/source")
        assert download.headers["Content-Disposition"] == "attachment; filename=main.py"
        assert await download.get_data() == b"import sys\nprint('Hello World!')\n"


# ---------------------------------------------------------------- refusals


async def test_an_empty_form_is_refused(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await signed_in(client)
    for source in ("", "   \n\t"):
        response = await post_submission(client, source=source)
        page = await response.get_data(as_text=True)
        assert response.status_code == 422
        assert "write code in the editor or choose files" in page
    assert await count_rows(app, Submission) == 0


async def test_whitespace_only_upload_is_refused(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await signed_in(client)
    response = await post_submission(client, files=[("hello.py", b"  \n")])
    assert response.status_code == 422
    assert await count_rows(app, Submission) == 0


async def test_text_and_files_together_are_refused(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await signed_in(client)
    response = await post_submission(
        client, source=HELLO_PY, files=[("hello.py", HELLO_PY.encode())]
    )
    page = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert "not both" in page
    # The form comes back filled in, so nothing typed is lost.
    assert "print(&#34;Hello World!&#34;)" in page or "print(&quot;Hello World!&quot;)" in page
    assert await count_rows(app, Submission) == 0


async def test_too_large_sources_are_refused(make_app: AppFactory) -> None:
    async with make_app(max_source_bytes=64) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        big = "# " + "x" * 80 + "\nprint('Hello World!')\n"
        by_text = await post_submission(client, source=big)
        by_file = await post_submission(client, files=[("hello.py", big.encode() * 1000)])
        for response in (by_text, by_file):
            assert response.status_code == 413
            page = await response.get_data(as_text=True)
            assert "64 bytes" in page
            assert "x" * 80 not in page  # too large to send back
        assert await count_rows(app, Submission) == 0


async def test_unknown_language_is_refused_listing_the_offered_ones(
    app: Quart, client: QuartClient
) -> None:
    await import_example(app, "hello")
    await signed_in(client)
    response = await post_submission(client, language="cobol", source=HELLO_PY)
    page = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert "cobol" in page and "python3" in page
    assert await count_rows(app, Submission) == 0


async def test_hidden_and_unknown_problems_are_404(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    async with get_db(app).session() as db:
        await db.execute(update(Problem).values(hidden=True))
        await db.commit()
    await signed_in(client)
    for slug in ("hello", "nonexistent"):
        response = await post_submission(client, slug, source=HELLO_PY)
        page = await response.get_data(as_text=True)
        assert response.status_code == 404
        assert 'name="source"' not in page  # no form to retry on a problem that is not there
    assert await count_rows(app, Submission) == 0


async def test_staff_may_submit_to_a_hidden_problem(
    make_app: AppFactory, fake_sandbox: FakeSandbox
) -> None:
    async with make_app(setup=judge_on(fake_sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        async with get_db(app).session() as db:
            await db.execute(update(Problem).values(hidden=True))
            await db.commit()
        await signed_in(client, Role.STAFF)
        number = submission_id(await post_submission(client, source=HELLO_PY))
        assert (await wait_until_done(client, number))["verdict"] == "AC"


async def test_rate_limit_is_429_with_retry_after(
    make_app: AppFactory, fake_sandbox: FakeSandbox
) -> None:
    async with make_app(
        setup=judge_on(fake_sandbox), submission_rate_limit=RateLimit(1, 60)
    ) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        assert (await post_submission(client, source=HELLO_PY)).status_code == 303
        response = await post_submission(client, source=HELLO_PY)
        page = await response.get_data(as_text=True)
        assert response.status_code == 429
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        assert f"submit again in {retry_after} second" in page
        assert await count_rows(app, Submission) == 1


async def test_submitting_needs_the_csrf_token(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await signed_in(client)
    response = await post_submission(client, source=HELLO_PY, token="forged")
    assert response.status_code == 400
    assert await count_rows(app, Submission) == 0


async def test_submitting_needs_a_signed_in_user(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await sign_in_as(client, await create_user(app))
    token = await csrf_token(client)
    # Another browser holding only the CSRF session cookie, not the sign-in cookie.
    anonymous = app.test_client()
    session_cookie = next(cookie for cookie in client.cookie_jar if cookie.name == "session")
    anonymous.set_cookie("localhost", "session", session_cookie.value)
    response = await post_submission(anonymous, source=HELLO_PY, token=token)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert await count_rows(app, Submission) == 0
