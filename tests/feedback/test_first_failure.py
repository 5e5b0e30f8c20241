"""The submission page shows the first failed test it may show in full, with its diff."""

from __future__ import annotations

import shutil
from pathlib import Path

from quart import Quart
from quart.testing import QuartClient

from service.config import get_settings
from service.evaluator import RunResult, RunSpec
from service.models import Role
from service.packages import forget_loaded, unpacked_root
from tests.factories import (
    AppFactory,
    import_example,
    post_submission,
    run_import,
    set_feedback,
    signed_in,
    submission_id,
    write_package,
)
from tests.fakes import HELLO, FakeSandbox, exited, judge_on, says
from tests.waiting import wait_until_done


async def judged(client: QuartClient, slug: str = "hello") -> int:
    """Submit to ``slug`` as ``client``; return the submission's id once judged."""
    number = submission_id(await post_submission(client, slug, source="print(1)\n"))
    await wait_until_done(client, number)
    return number


async def test_a_failed_sample_shows_expected_and_actual_with_the_token_marked(
    make_app: AppFactory,
) -> None:
    async with make_app(setup=judge_on(FakeSandbox(program=says(b"Hello world!\n")))) as app:
        await import_example(app, "hello")
        client = app.test_client()
        await signed_in(client)
        number = await judged(client)
        page = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
        base = f"/submissions/{number}/tests"
        given = await client.get(f"{base}/input/sample/1")
        answer = await client.get(f"{base}/answer/sample/1")
        output = await client.get(f"{base}/output/sample/1")

    assert "First failed test: sample/1" in page
    assert "Token 2 differs: expected &#39;World!&#39;, got &#39;world!&#39;." in page
    assert "<mark>World!</mark>" in page and "<mark>world!</mark>" in page
    assert f'href="{base}/answer/sample/1"' in page
    assert given.status_code == answer.status_code == output.status_code == 200
    assert await answer.get_data() == HELLO
    assert await output.get_data() == b"Hello world!\n"
    assert "attachment" in answer.headers["Content-Disposition"]


async def test_a_secret_test_below_full_is_neither_shown_nor_downloadable(
    make_app: AppFactory,
) -> None:
    passes_sample = FakeSandbox(program=says(HELLO))
    async with make_app(setup=judge_on(passes_sample)) as app:
        problem = await import_example(app, "hello")
        assert problem.test_names == ["sample/1", "secret/1"]
        client = app.test_client()
        await signed_in(client)
        number = await judged(client)
        page = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
        refused = await client.get(f"/submissions/{number}/tests/answer/secret/1")
        unknown = await client.get(f"/submissions/{number}/tests/source/sample/1")
    assert "First failed test" not in page  # everything passed
    assert refused.status_code == 404 and unknown.status_code == 404


def tricky_package(root: Path) -> Path:
    """Write a problem whose secret test's answer is 3000 lines (the 2000th differs)."""
    answer = "".join(f"{n}\n" for n in range(3000))
    return write_package(
        root / "lines",
        {"sample/1": ("s\n", "0\n"), "secret/1": ("lines\n", answer)},
    )


def prints_lines(stdin: bytes, spec: RunSpec) -> RunResult:
    """Answer the sample, and print 3000 lines with line 2000 wrong on the secret test."""
    if stdin == b"s\n":
        return exited(b"0\n")
    lines = [f"{n}\n" for n in range(3000)]
    lines[1999] = "oops\n"
    return exited("".join(lines).encode())


async def served(app: Quart, tmp_path: Path, level: str) -> tuple[str, str, int, int]:
    """Judge the lines problem under ``level``; return the student's and staff's pages."""
    await run_import(app, tricky_package(tmp_path))
    await set_feedback(app, "lines", {"secret": {"level": level}})
    student = app.test_client()
    await signed_in(student)
    number = await judged(student, "lines")
    page = await (await student.get(f"/submissions/{number}")).get_data(as_text=True)
    staff = app.test_client()
    await signed_in(staff, Role.STAFF)
    staff_page = await (await staff.get(f"/submissions/{number}")).get_data(as_text=True)
    answer = await student.get(f"/submissions/{number}/tests/answer/secret/1")
    staff_answer = await staff.get(f"/submissions/{number}/tests/answer/secret/1")
    return page, staff_page, answer.status_code, staff_answer.status_code


async def test_a_long_output_is_cut_around_the_difference(
    make_app: AppFactory, tmp_path: Path
) -> None:
    async with make_app(setup=judge_on(FakeSandbox(program=prints_lines))) as app:
        page, _, answer, _ = await served(app, tmp_path, "full")
    assert "First failed test: secret/1" in page
    assert "<mark>1999</mark>" in page and "<mark>oops</mark>" in page
    assert "1995 lines above not shown" in page
    assert "981 lines below not shown" in page
    assert '<span class="line-number">2000</span>' in page
    assert "2500\n" not in page  # far from the difference: only in the download
    assert answer == 200


async def test_verdict_level_shows_no_diff_but_staff_see_it(
    make_app: AppFactory, tmp_path: Path
) -> None:
    async with make_app(setup=judge_on(FakeSandbox(program=prints_lines))) as app:
        page, staff_page, answer, staff_answer = await served(app, tmp_path, "verdict")
    assert "First failed test" not in page and "oops" not in page and answer == 404
    assert "First failed test: secret/1" in staff_page and staff_answer == 200


async def test_the_page_still_answers_when_the_package_is_gone(make_app: AppFactory) -> None:
    async with make_app(setup=judge_on(FakeSandbox(program=says(b"Hello world!\n")))) as app:
        await import_example(app, "hello")
        client = app.test_client()
        await signed_in(client)
        number = await judged(client)
        shutil.rmtree(get_settings(app).package_dir)
        shutil.rmtree(unpacked_root(get_settings(app)))
        forget_loaded()
        page = await client.get(f"/submissions/{number}")
        answer = await client.get(f"/submissions/{number}/tests/answer/sample/1")
        output = await client.get(f"/submissions/{number}/tests/output/sample/1")
    assert page.status_code == 200
    assert "First failed test" not in await page.get_data(as_text=True)
    assert answer.status_code == 404  # the answer lived in the package
    assert await output.get_data() == b"Hello world!\n"  # the output is stored with the result
