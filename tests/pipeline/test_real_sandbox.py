"""A few submissions judged end to end in the real sandbox (bubblewrap): Python and C.

The sandbox mode comes from the environment variable SANDBOX (default ``bwrap``), as in the
evaluator's tests; ``SANDBOX=unsafe-rlimit`` runs them on a machine without bubblewrap.
"""

from __future__ import annotations

import os

import pytest

from service.evaluator.languages import offered_ids
from service.evaluator.sandbox import SandboxUnavailable, create_sandbox
from tests.factories import AppFactory, create_user, example_path, import_example
from tests.helpers import require_or_skip
from tests.waiting import wait_done

pytestmark = pytest.mark.sandbox


def sandbox_mode() -> str:
    """Return the sandbox mode to test; skip unless it works here (fail under REQUIRE_ALL)."""
    mode = os.environ.get("SANDBOX", "bwrap")
    try:
        sandbox = create_sandbox(mode, 1)
    except SandboxUnavailable as error:
        require_or_skip(False, f"sandbox {mode!r} unavailable here: {error}")
        raise
    close = getattr(sandbox, "close", None)
    if close is not None:
        close()
    return mode


@pytest.mark.parametrize(
    ("language", "path", "verdict"),
    [
        ("python3", "accepted/hello.py", "AC"),
        ("c", "accepted/hello.c", "AC"),
        ("c", "compiler_error/missing_semicolon.c", "CE"),
        ("python3", "wrong_answer/lowercase.py", "WA"),
    ],
)
async def test_hello_world_in_the_real_sandbox(
    make_app: AppFactory, language: str, path: str, verdict: str
) -> None:
    mode = sandbox_mode()
    require_or_skip(language in offered_ids(), f"{language} is not installed")
    source = (example_path("hello") / "submissions" / path).read_bytes()
    async with make_app(evaluator_concurrency=2, sandbox=mode) as app:
        from service.submissions.service import submit

        problem = await import_example(app)
        user = await create_user(app)
        name = path.rsplit("/", 1)[1]
        submission = await submit(app, user, problem.slug, language, [(name, source)])
        done = await wait_done(app, submission.id, timeout=60)
    assert done.verdict == verdict


async def test_the_main_file_may_be_named_after_the_problem(make_app: AppFactory) -> None:
    # Two Python files: the one named like the problem's slug (hello.py) is the program.
    mode = sandbox_mode()
    main = b"from words import greeting\nprint(greeting())\n"
    helper = b"def greeting():\n    return 'Hello World!'\n"
    async with make_app(evaluator_concurrency=2, sandbox=mode) as app:
        from service.submissions.service import submit

        problem = await import_example(app)
        user = await create_user(app)
        files = [("words.py", helper), ("hello.py", main)]
        submission = await submit(app, user, problem.slug, "python3", files)
        done = await wait_done(app, submission.id, timeout=60)
    assert done.verdict == "AC"
