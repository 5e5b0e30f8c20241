"""The submission list and page: who sees what, filters, pagination, source, rejudging."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.models import Judging, Role
from tests.factories import (
    HELLO_PY,
    NOON,
    AppFactory,
    count_rows,
    create_user,
    csrf_token,
    import_example,
    post_submission,
    sign_in_as,
    signed_in,
    store_submission,
    submission_id,
)
from tests.fakes import FakeSandbox, judge_on
from tests.waiting import wait_until_done


def listed_ids(page: str) -> list[int]:
    """Return the submission ids of a list page, in order."""
    return [int(number) for number in re.findall(r'<tr data-submission-id="(\d+)"', page)]


async def list_page(client: QuartClient, query: str = "") -> tuple[int, str]:
    response = await client.get("/submissions" + query)
    return response.status_code, await response.get_data(as_text=True)


# ---------------------------------------------------------------- access


async def test_students_see_only_their_own_submissions(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    other = await create_user(app)
    mine = await store_submission(app, me, problem)
    theirs = await store_submission(app, other, problem)

    status, page = await list_page(client)
    assert status == 200
    assert listed_ids(page) == [mine]
    assert "My submissions" in page
    _status, page = await list_page(client, "?problem=hello")
    assert listed_ids(page) == [mine]
    assert "/rejudge" not in page  # the rejudge-all button is for staff
    # Another student's submission does not exist as far as this student can tell.
    for path in ("", "/state", "/source"):
        assert (await client.get(f"/submissions/{theirs}{path}")).status_code == 404
        assert (await client.get(f"/submissions/999999{path}")).status_code == 404
        assert (await client.get(f"/submissions/{mine}{path}")).status_code == 200


async def test_a_student_cannot_filter_by_another_user(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    other = await create_user(app, email="other@example.com")
    mine = await store_submission(app, me, problem)
    await store_submission(app, other, problem)
    _status, page = await list_page(client, "?user=other@example.com")
    assert listed_ids(page) == [mine]
    assert 'name="user"' not in page


async def test_staff_see_everyone_with_the_user_column(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app, "hello")
    await signed_in(client, Role.STAFF)
    student = await create_user(app, email="ada@school.example")
    number = await store_submission(app, student, problem)
    status, page = await list_page(client)
    assert status == 200
    assert listed_ids(page) == [number]
    assert "All submissions" in page and "ada@school.example" in page
    detail = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
    assert "ada@school.example" in detail
    assert "Rejudge" in detail


async def test_anonymous_visitors_are_sent_to_sign_in(client: QuartClient) -> None:
    for path in ("/submissions", "/submissions/1", "/submissions/1/source"):
        response = await client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    state = await client.get("/submissions/1/state", headers={"Accept": "application/json"})
    assert state.status_code == 401


# ---------------------------------------------------------------- filters and pages


async def test_staff_filters_narrow_the_list(app: Quart, client: QuartClient) -> None:
    hello = await import_example(app, "hello")
    floats = await import_example(app, "floatdiv")
    await signed_in(client, Role.STAFF)
    ada = await create_user(app, email="ada@school.example")
    bob = await create_user(app, email="bob@other.example")
    a_ac = await store_submission(app, ada, hello)
    a_wa_c = await store_submission(app, ada, floats, language="c", verdict="WA")
    b_queued = await store_submission(app, bob, hello, verdict=None)
    b_early = await store_submission(app, bob, hello, created_at=NOON - timedelta(days=5))

    cases = {
        "": [b_queued, a_wa_c, a_ac, b_early],
        "?user=SCHOOL": [a_wa_c, a_ac],
        "?user=%25": [],  # a literal '%' matches nothing, it is no wildcard
        "?problem=floatdiv": [a_wa_c],
        "?language=c": [a_wa_c],
        "?verdict=wa": [a_wa_c],
        "?status=queued": [b_queued],
        "?status=done&problem=hello": [a_ac, b_early],
        "?from=2026-03-10": [b_queued, a_wa_c, a_ac],
        "?to=2026-03-09": [b_early],
        "?from=2026-03-05&to=2026-03-05": [b_early],
        "?problem=nothing-here": [],
    }
    for query, expected in cases.items():
        status, page = await list_page(client, query)
        assert status == 200, query
        assert listed_ids(page) == expected, query


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?verdict=XX", "Unknown verdict"),
        ("?status=lost", "Unknown status"),
        ("?language=cobol", "cobol"),
        ("?from=2026-13-01", "YYYY-MM-DD"),
        ("?to=yesterday", "YYYY-MM-DD"),
        ("?from=2026-03-02&to=2026-03-01", "after"),
        ("?page=0", "page"),
        ("?page=two", "page"),
        ("?page=99999999999", "page"),
        ("?page=1000001", "page"),
        ("?page=%C2%B2", "page"),  # a superscript two: str.isdigit() but not int()
        ("?page=%D9%A3", "page"),  # an Arabic-Indic three: int() reads it, still refused
    ],
)
async def test_bad_filters_are_400_with_a_message(
    app: Quart, client: QuartClient, query: str, message: str
) -> None:
    await signed_in(client, Role.STAFF)
    status, page = await list_page(client, query)
    assert status == 400
    assert message in page


async def test_lists_are_paginated_newest_first(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    numbers = [
        await store_submission(app, me, problem, created_at=NOON + timedelta(minutes=minute))
        for minute in range(53)
    ]
    _status, first = await list_page(client)
    assert listed_ids(first) == numbers[::-1][:50]
    assert "page 1 of 2" in first and "53 submissions" in first
    assert 'rel="next" href="/submissions?page=2"' in first
    assert 'rel="prev"' not in first
    _status, second = await list_page(client, "?page=2")
    assert listed_ids(second) == numbers[2::-1]
    assert 'rel="prev" href="/submissions?page=1"' in second
    assert 'rel="next"' not in second
    _status, beyond = await list_page(client, "?page=3")
    assert listed_ids(beyond) == []


async def test_pagination_links_keep_the_filters(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    for minute in range(51):
        await store_submission(app, me, problem, created_at=NOON + timedelta(minutes=minute))
    _status, page = await list_page(client, "?verdict=AC&problem=hello")
    assert 'href="/submissions?problem=hello&amp;verdict=AC&amp;page=2"' in page


# ---------------------------------------------------------------- one submission


async def test_the_page_highlights_the_source(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    files = (("main.py", "def greet():\n    return '<b>'\n"), ("notes.zzz", "<i>plain</i>\n"))
    number = await store_submission(app, me, problem, files=files)
    response = await client.get(f"/submissions/{number}")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<div class="source">' in page
    assert '<span class="k">def</span>' in page
    assert "&#39;&lt;b&gt;&#39;" in page or "&lt;b&gt;" in page
    assert "'<b>'" not in page
    assert "&lt;i&gt;plain&lt;/i&gt;" in page  # no lexer for .zzz: shown as escaped text
    assert '<progress id="tests-progress"' in page
    assert f'data-live-url="/submissions/{number}/live"' in page
    assert "Rejudge" not in page  # students have no staff tools
    assert 'href="/submissions/pygments.css"' in page


async def test_pygments_css_is_served_and_cacheable(client: QuartClient) -> None:
    response = await client.get("/submissions/pygments.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "max-age=86400" in response.headers["Cache-Control"]
    assert ".source .k" in await response.get_data(as_text=True)


async def test_a_single_file_downloads_as_text(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    number = await store_submission(app, me, problem, files=(("main.py", HELLO_PY),))
    response = await client.get(f"/submissions/{number}/source")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == "attachment; filename=main.py"
    assert await response.get_data(as_text=True) == HELLO_PY


async def test_several_files_download_as_a_zip(app: Quart, client: QuartClient) -> None:
    problem = await import_example(app, "hello")
    me = await signed_in(client)
    files = (("main.c", "int main(void) { return 0; }\n"), ("util.h", "#pragma once\n"))
    number = await store_submission(app, me, problem, language="c", files=files)
    response = await client.get(f"/submissions/{number}/source")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert f"submission-{number}.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(await response.get_data())) as archive:
        assert {name: archive.read(name).decode() for name in archive.namelist()} == dict(files)


# ---------------------------------------------------------------- rejudging


async def test_staff_rejudge_keeps_the_history(
    make_app: AppFactory, fake_sandbox: FakeSandbox
) -> None:
    async with make_app(setup=judge_on(fake_sandbox)) as app:
        client = app.test_client()
        await import_example(app, "hello")
        await signed_in(client)
        number = submission_id(await post_submission(client, source=HELLO_PY))
        await wait_until_done(client, number)

        # Students may not rejudge, even with a valid token.
        response = await client.post(
            f"/submissions/{number}/rejudge", form={"csrf_token": await csrf_token(client)}
        )
        assert response.status_code == 403
        assert await count_rows(app, Judging) == 1

        staff = await create_user(app, role=Role.STAFF)
        await sign_in_as(client, staff)
        response = await client.post(f"/submissions/{number}/rejudge", form={})
        assert response.status_code == 400  # no CSRF token
        assert await count_rows(app, Judging) == 1

        response = await client.post(
            f"/submissions/{number}/rejudge", form={"csrf_token": await csrf_token(client)}
        )
        assert response.status_code == 303
        assert response.headers["Location"] == f"/submissions/{number}"
        assert await count_rows(app, Judging) == 2
        state = await wait_until_done(client, number)
        assert state["verdict"] == "AC" and state["judgings"] == 2
        page = await (await client.get(f"/submissions/{number}")).get_data(as_text=True)
        assert "queued for rejudging" in page
        assert page.count("<tr data-judging-id=") == 2
        assert ">rejudge</td>" in page

        missing = await client.post(
            "/submissions/999999/rejudge", form={"csrf_token": await csrf_token(client)}
        )
        assert missing.status_code == 404


async def test_staff_rejudge_a_whole_problem(
    make_app: AppFactory, fake_sandbox: FakeSandbox
) -> None:
    async with make_app(setup=judge_on(fake_sandbox)) as app:
        client = app.test_client()
        problem = await import_example(app, "hello")
        student = await create_user(app)
        for minute in range(3):
            await store_submission(
                app, student, problem, created_at=NOON + timedelta(minutes=minute)
            )
        await signed_in(client)
        token = await csrf_token(client)
        assert (
            await client.post("/problems/hello/rejudge", form={"csrf_token": token})
        ).status_code == 403
        assert await count_rows(app, Judging) == 0

        await signed_in(client, Role.STAFF)
        token = await csrf_token(client)
        asked = await client.post("/problems/hello/rejudge", form={"csrf_token": token})
        assert asked.status_code == 200
        question = await asked.get_data(as_text=True)
        assert "Rejudge every submission of Hello World?" in question
        assert "All 3 submissions of <strong>hello</strong>" in question
        assert await count_rows(app, Judging) == 0  # nothing happens before the answer
        response = await client.post(
            "/problems/hello/rejudge", form={"csrf_token": token, "confirmed": "yes"}
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/submissions?problem=hello"
        assert await count_rows(app, Judging) == 3
        page = await (await client.get(response.headers["Location"])).get_data(as_text=True)
        assert "3 submissions of Hello World queued for rejudging" in page
        assert 'action="/problems/hello/rejudge"' in page  # the button to do it again

        missing = await client.post("/problems/nothing/rejudge", form={"csrf_token": token})
        assert missing.status_code == 404
