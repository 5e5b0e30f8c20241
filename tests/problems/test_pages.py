"""The problem pages as students, staff and anonymous visitors see them."""

from __future__ import annotations

import re
from pathlib import Path

from quart import Quart
from quart.datastructures import FileStorage
from quart.testing import QuartClient
from sqlalchemy import func, select

from service.config import get_settings
from service.db import get_db
from service.evaluator import offered_languages
from service.models import PackageVersion, Problem, Role, Status, Submission
from service.problems.views import SAMPLE_PREVIEW_BYTES
from tests.factories import (
    AppFactory,
    assert_nothing_stored,
    copy_example,
    create_user,
    csrf_token,
    example_path,
    import_example,
    load_problem,
    run_import,
    sign_in_as,
    signed_in,
    zip_bomb,
    zip_bytes,
)


async def page_of(client: QuartClient, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status_code, await response.get_data(as_text=True)


async def test_anonymous_visitors_are_sent_to_sign_in(app: Quart, client: QuartClient) -> None:
    await import_example(app)
    for path in ("/problems", "/problems/hello", "/problems/import"):
        response = await client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


async def test_students_see_visible_problems_by_set_and_name(
    app: Quart, client: QuartClient
) -> None:
    await import_example(app, "hello", problem_set="Week 2")
    await import_example(app, "floatdiv", problem_set="Week 1")
    await import_example(app, "groups", problem_set="Week 1", hidden=True)
    await signed_in(client)

    status, page = await page_of(client, "/problems")

    assert status == 200
    assert re.findall(r'href="/problems/([a-z]+)"', page) == ["floatdiv", "hello"]
    assert "Week 1" in page and "Hello World" in page
    assert "groups" not in page
    assert "problem-badge-hidden" not in page and "/hide" not in page
    assert "Import a package" not in page


async def test_staff_see_hidden_problems_marked_with_hide_and_show_buttons(
    app: Quart, client: QuartClient
) -> None:
    await import_example(app, "hello")
    await import_example(app, "groups", hidden=True)
    await signed_in(client, Role.STAFF)

    status, page = await page_of(client, "/problems")

    assert status == 200
    assert 'href="/problems/groups"' in page
    assert 'class="problem-badge problem-badge-hidden">hidden<' in page
    assert 'action="/problems/groups/show?from=list"' in page
    assert 'action="/problems/hello/hide?from=list"' in page
    assert 'href="/problems/import"' in page


async def test_an_empty_list_says_what_to_do(app: Quart, client: QuartClient) -> None:
    await signed_in(client)
    assert "There are no problems yet." in (await page_of(client, "/problems"))[1]


async def test_the_problem_page_has_statement_limits_samples_and_the_submit_form(
    app: Quart, client: QuartClient
) -> None:
    await import_example(app, "floatdiv")
    await signed_in(client)

    status, page = await page_of(client, "/problems/floatdiv")

    assert status == 200
    assert "<h1>" in page and "Time limit" in page and "Memory limit" in page
    sample_input = (example_path("floatdiv") / "data" / "sample" / "1.in").read_text()
    sample_answer = (example_path("floatdiv") / "data" / "sample" / "1.ans").read_text()
    assert f'<pre class="problem-sample-text">{sample_input}</pre>' in page
    assert f'<pre class="problem-sample-text">{sample_answer}</pre>' in page
    assert (
        '<form method="post" action="/problems/floatdiv/submissions" '
        'enctype="multipart/form-data"' in page
    )
    assert 'name="csrf_token"' in page
    assert '<textarea id="source" name="source" class="code-editor" data-editor' in page
    assert '<input id="files" type="file" name="files" multiple>' in page
    for offered in offered_languages():
        assert f'<option value="{offered.language.id}">{offered.language.name} ' in page
    assert "You have not submitted to this problem yet." in page
    assert "/hide" not in page  # students get no staff buttons


async def test_long_samples_are_cut_with_a_note(
    app: Quart, client: QuartClient, tmp_path: Path
) -> None:
    package = copy_example(tmp_path / "hello", keep=("accepted/hello.py",))
    (package / "data" / "sample" / "1.in").write_text("x" * (SAMPLE_PREVIEW_BYTES + 10))
    await run_import(app, package)
    await signed_in(client)

    page = (await page_of(client, "/problems/hello"))[1]

    assert "x" * SAMPLE_PREVIEW_BYTES + "</pre>" in page
    assert page.count("Only the first 64 KiB are shown.") == 1


async def test_the_page_lists_the_users_ten_latest_submissions_only(
    app: Quart, client: QuartClient
) -> None:
    problem = await import_example(app)
    student = await create_user(app)
    other = await create_user(app)
    async with get_db(app).session() as db:
        mine = [
            Submission(user_id=student.id, problem_id=problem.id, language="python3")
            for _ in range(12)
        ]
        mine[-1].status, mine[-1].verdict, mine[-1].score = Status.DONE, "WA", 0.5
        db.add_all(mine)
        db.add(Submission(user_id=other.id, problem_id=problem.id, language="c"))
        await db.commit()
    await sign_in_as(client, student)

    page = (await page_of(client, "/problems/hello"))[1]

    listed = [int(n) for n in re.findall(r'<a href="/submissions/(\d+)">', page)]
    assert listed == [s.id for s in reversed(mine)][:10]
    assert '<span class="problem-verdict problem-verdict-bad">WA</span>' in page
    assert "0.50" in page and "queued" in page


async def test_hidden_problems_are_404_for_students_and_open_for_staff(
    app: Quart, client: QuartClient
) -> None:
    await import_example(app, hidden=True)
    await signed_in(client)
    assert (await page_of(client, "/problems/hello"))[0] == 404
    assert (await page_of(client, "/problems/nothing-here"))[0] == 404

    staff_client = app.test_client()
    await signed_in(staff_client, Role.STAFF)
    status, page = await page_of(staff_client, "/problems/hello")
    assert status == 200
    assert 'action="/problems/hello/show"' in page
    assert 'action="/problems/hello/rejudge"' in page


async def test_a_missing_package_still_shows_the_page(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app)
    zip_path = get_settings(app).package_dir / f"{problem.package_hash}.zip"
    zip_path.unlink()
    other = await run_import(app, example_path("floatdiv"), slug="other")
    async with get_db(app).session() as db:  # point at a package this server does not have
        row = await db.get(Problem, other.problem.id)
        assert row is not None
        row.package_hash = "f" * 64
        await db.commit()
    await signed_in(client)

    status, page = await page_of(client, "/problems/other")

    assert status == 200
    assert "The samples cannot be shown right now" in page


async def test_hide_and_show_need_staff_and_the_csrf_token(app: Quart, client: QuartClient) -> None:
    await import_example(app)
    await signed_in(client, Role.STAFF)
    token = await csrf_token(client, "/problems/hello")

    no_token = await client.post("/problems/hello/hide", form={})
    assert no_token.status_code == 400
    assert (await load_problem(app, "hello")).hidden is False  # type: ignore[union-attr]

    hidden = await client.post("/problems/hello/hide", form={"csrf_token": token})
    assert (hidden.status_code, hidden.headers["Location"]) == (302, "/problems/hello")
    assert (await load_problem(app, "hello")).hidden is True  # type: ignore[union-attr]

    shown = await client.post("/problems/hello/show?from=list", form={"csrf_token": token})
    assert (shown.status_code, shown.headers["Location"]) == (302, "/problems")
    assert (await load_problem(app, "hello")).hidden is False  # type: ignore[union-attr]
    assert "is now visible to students" in (await page_of(client, "/problems"))[1]

    missing = await client.post("/problems/nothing/hide", form={"csrf_token": token})
    assert missing.status_code == 404


async def test_students_cannot_hide_problems(app: Quart, client: QuartClient) -> None:
    await import_example(app)
    await signed_in(client)
    token = await csrf_token(client, "/problems/hello")

    response = await client.post("/problems/hello/hide", form={"csrf_token": token})

    assert response.status_code == 403
    assert (await load_problem(app, "hello")).hidden is False  # type: ignore[union-attr]


def upload(data: bytes, filename: str = "hello.zip") -> dict[str, FileStorage]:
    import io

    return {"package": FileStorage(io.BytesIO(data), filename=filename)}


async def test_staff_import_a_zip_from_the_web_page(app: Quart, client: QuartClient) -> None:
    await signed_in(client, Role.STAFF)
    status, form_page = await page_of(client, "/problems/import")
    assert status == 200
    assert 'enctype="multipart/form-data"' in form_page and 'name="package"' in form_page
    token = await csrf_token(client, "/problems/import")

    response = await client.post(
        "/problems/import",
        form={"csrf_token": token, "hidden": "1", "problem_set": "Week 3"},
        files=upload(zip_bytes(example_path("hello")), "Hello World.zip"),
    )

    assert (response.status_code, response.headers["Location"]) == (302, "/problems/hello-world")
    problem = await load_problem(app, "hello-world")
    assert problem is not None
    assert (problem.hidden, problem.problem_set, problem.name) == (True, "Week 3", "Hello World")
    page = (await page_of(client, "/problems/hello-world"))[1]
    assert "Imported Hello World (hello-world)." in page

    again = await client.post(
        "/problems/import",
        form={"csrf_token": token, "slug": "hello-world"},
        files=upload(zip_bytes(example_path("hello"))),
    )
    assert again.status_code == 302
    assert "is unchanged" in (await page_of(client, "/problems/hello-world"))[1]

    changed = await client.post(
        "/problems/import",
        form={"csrf_token": token, "slug": "hello-world"},
        files=upload(zip_bytes(example_path("floatdiv"))),
    )
    assert changed.status_code == 302
    assert "Updated " in (await page_of(client, "/problems/hello-world"))[1]
    async with get_db(app).session() as db:
        assert await db.scalar(select(func.count()).select_from(PackageVersion)) == 2


async def test_a_refused_web_import_shows_the_message_and_stores_nothing(
    app: Quart, client: QuartClient, tmp_path: Path
) -> None:
    await signed_in(client, Role.STAFF)
    token = await csrf_token(client, "/problems/import")

    bomb = await client.post(
        "/problems/import",
        form={"csrf_token": token, "problem_set": "Keep me"},
        files=upload(zip_bomb(tmp_path / "bomb.zip").read_bytes()),
    )
    not_zip = await client.post(
        "/problems/import", form={"csrf_token": token}, files=upload(b"plain text")
    )
    no_file = await client.post("/problems/import", form={"csrf_token": token})

    bomb_page = await bomb.get_data(as_text=True)
    assert bomb.status_code == 400
    assert "looks like a zip bomb" in bomb_page
    assert 'value="Keep me"' in bomb_page
    assert not_zip.status_code == 400
    assert "not a readable zip archive" in await not_zip.get_data(as_text=True)
    assert no_file.status_code == 400
    assert "Choose a package .zip file" in await no_file.get_data(as_text=True)
    await assert_nothing_stored(app)


async def test_students_cannot_import(app: Quart, client: QuartClient) -> None:
    await signed_in(client)
    token = await csrf_token(client, "/problems")

    form_page = await client.get("/problems/import")
    response = await client.post(
        "/problems/import",
        form={"csrf_token": token},
        files=upload(zip_bytes(example_path("hello"))),
    )

    assert (form_page.status_code, response.status_code) == (403, 403)
    await assert_nothing_stored(app)


async def test_a_web_import_can_verify_first(make_app: AppFactory, tmp_path: Path) -> None:
    package = copy_example(tmp_path / "hello", keep=("accepted/hello.py",))
    async with make_app(sandbox="unsafe-rlimit", evaluator_concurrency=2) as app:
        client = app.test_client()
        await signed_in(client, Role.STAFF)
        token = await csrf_token(client, "/problems/import")

        response = await client.post(
            "/problems/import",
            form={"csrf_token": token, "verify": "1"},
            files=upload(zip_bytes(package)),
        )

        assert response.status_code == 302
        page = (await page_of(client, "/problems/hello"))[1]
        assert "Imported Hello World (hello). Verified: 1 of 1 submissions as expected." in page
        async with get_db(app).session() as db:
            version = (await db.execute(select(PackageVersion))).scalar_one()
        assert version.verified
