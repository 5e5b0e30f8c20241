"""The scoreboard and its CSV export, from submission rows stored by the test."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from quart import Quart
from quart.testing import QuartClient

from service.models import Role, Status, User
from tests.factories import add_problem, add_submission, create_user, minutes, sign_in_as


@dataclass
class Course:
    """The people of the stored course."""

    ann: User
    bob: User
    cat: User
    dan: User
    eve: User


async def build_course(app: Quart) -> Course:
    """Store two problem sets and submissions whose scoreboard is worked out by hand.

    week1 (alpha hidden, beta):
      Ann: alpha WA 50% at +1, AC at +5 and again at +9; beta 25% at +3, one queued at +20
           -> 100 + 25 = 125, last improvement +5, first AC on alpha +5
      Bob: alpha AC at +2; beta 25% at +4, then 0% at +6 -> 125, last improvement +4: ranked first
      Cat: beta queued only -> 0, pending
    week2 (gamma): Dan and Eve both AC at +7 -> tied for first; Dan is not in week1.
    """
    ann = await create_user(app, email="ann@school.example", name="Ann")
    bob = await create_user(app, email="bob@school.example", name="Bob")
    cat = await create_user(app, email="cat@school.example", name="Cat")
    dan = await create_user(app, email="dan@school.example", name="Dan")
    eve = await create_user(app, email="eve@school.example", name="Eve")
    alpha = await add_problem(app, "alpha", hidden=True)
    beta = await add_problem(app, "beta")
    gamma = await add_problem(app, "gamma", "week2")
    await add_submission(app, ann, alpha, minutes(1), "WA", 0.5)
    await add_submission(app, ann, alpha, minutes(5), "AC", 1.0)
    await add_submission(app, ann, alpha, minutes(9), "AC", 1.0)
    await add_submission(app, ann, beta, minutes(3), "WA", 0.25)
    await add_submission(app, ann, beta, minutes(20), status=Status.QUEUED)
    await add_submission(app, bob, alpha, minutes(2), "AC", 1.0)
    await add_submission(app, bob, beta, minutes(4), "TLE", 0.25)
    await add_submission(app, bob, beta, minutes(6), "WA", 0.0)
    await add_submission(app, cat, beta, minutes(8), status=Status.QUEUED)
    await add_submission(app, dan, gamma, minutes(7), "AC", 1.0)
    await add_submission(app, eve, gamma, minutes(7), "AC", 1.0)
    return Course(ann=ann, bob=bob, cat=cat, dan=dan, eve=eve)


async def staff_client(app: Quart) -> QuartClient:
    """Return a client signed in as a new staff member."""
    client = app.test_client()
    await sign_in_as(client, await create_user(app, role=Role.STAFF))
    return client


def score_rows(page: str) -> dict[int, list[str]]:
    """Return each scoreboard row's cells (tags stripped, spaces squeezed) by user id."""
    rows = {}
    for user_id, body in re.findall(r'<tr id="score-user-(\d+)">(.*?)</tr>', page, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        rows[int(user_id)] = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    return rows


async def test_scoreboard_ranks_best_scores_with_first_ac(app: Quart) -> None:
    course = await build_course(app)
    client = await staff_client(app)

    response = await client.get("/scoreboard?set=week1")

    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    rows = score_rows(page)
    assert list(rows) == [course.bob.id, course.ann.id, course.cat.id]
    assert rows[course.bob.id] == [
        "1",
        "Bob bob@school.example",
        "100.00% AC 2026-03-02 09:02:00 UTC 1 try",
        "25.00% 2 tries",
        "125.00",
    ]
    assert rows[course.ann.id] == [
        "2",
        "Ann ann@school.example",
        "100.00% AC 2026-03-02 09:05:00 UTC 3 tries",
        "25.00% 2 tries",
        "125.00",
    ]
    assert rows[course.cat.id] == ["3", "Cat cat@school.example", "\u2013", "pending 1 try", "0.00"]
    assert "hidden</span>" in page  # alpha is hidden and still counted for staff
    assert 'aria-current="page" class="tab-current">week1<' in page
    assert ">week2</a>" in page


async def test_scoreboard_defaults_to_the_first_set_and_shares_ranks_on_ties(
    app: Quart,
) -> None:
    course = await build_course(app)
    client = await staff_client(app)

    first = await (await client.get("/scoreboard")).get_data(as_text=True)
    second = score_rows(await (await client.get("/scoreboard?set=week2")).get_data(as_text=True))

    assert list(score_rows(first)) == [course.bob.id, course.ann.id, course.cat.id]
    assert [second[course.dan.id][0], second[course.eve.id][0]] == ["1", "1"]
    assert set(second) == {course.dan.id, course.eve.id}


async def test_scoreboard_of_a_set_without_submissions_and_without_problems(
    app: Quart,
) -> None:
    client = await staff_client(app)
    page = await (await client.get("/scoreboard")).get_data(as_text=True)
    assert "There are no problems yet." in page
    assert (await client.get("/scoreboard.csv")).status_code == 404

    await add_problem(app, "lonely", "empty-set")
    page = await (await client.get("/scoreboard?set=empty-set")).get_data(as_text=True)
    assert "Nobody has submitted to this set yet." in page
    csv_response = await client.get("/scoreboard.csv?set=empty-set")
    assert await csv_response.get_data() == b"email,name,lonely,total\r\n"


async def test_unknown_set_is_not_found(app: Quart) -> None:
    await build_course(app)
    client = await staff_client(app)
    assert (await client.get("/scoreboard?set=week9")).status_code == 404
    assert (await client.get("/scoreboard.csv?set=week9")).status_code == 404


async def test_csv_export_bytes(app: Quart) -> None:
    await build_course(app)
    client = await staff_client(app)

    response = await client.get("/scoreboard.csv?set=week1")

    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="scores-week1.csv"'
    assert await response.get_data() == (
        b"email,name,alpha,beta,total\r\n"
        b"bob@school.example,Bob,100.00,25.00,125.00\r\n"
        b"ann@school.example,Ann,100.00,25.00,125.00\r\n"
        b"cat@school.example,Cat,0.00,0.00,0.00\r\n"
    )


async def test_staff_and_disabled_accounts_stay_out_of_the_grades_unless_asked(
    app: Quart,
) -> None:
    course = await build_course(app)
    teacher = await create_user(app, email="teacher@school.example", name="T", role=Role.STAFF)
    gone = await create_user(app, email="gone@school.example", name="Gone", disabled=True)
    week2 = await add_problem(app, "delta", "week2")
    await add_submission(app, teacher, week2, minutes(1), "AC", 1.0)
    await add_submission(app, gone, week2, minutes(2), "AC", 1.0)
    await add_submission(app, course.dan, week2, minutes(3), "WA", 0.0)
    client = await staff_client(app)

    graded = await (await client.get("/scoreboard.csv?set=week2")).get_data(as_text=True)
    everyone = await (await client.get("/scoreboard.csv?set=week2&everyone=1")).get_data(
        as_text=True
    )
    page = await (await client.get("/scoreboard?set=week2")).get_data(as_text=True)

    assert "teacher@" not in graded
    assert "gone@" not in graded
    assert "teacher@" not in page
    assert "dan@school.example" in graded
    assert "teacher@school.example,T,100.00,0.00,100.00" in everyone
    assert "gone@school.example,Gone,100.00,0.00,100.00" in everyone


async def test_csv_filters_by_set(app: Quart) -> None:
    await build_course(app)
    client = await staff_client(app)
    response = await client.get("/scoreboard.csv?set=week2")
    assert await response.get_data() == (
        b"email,name,gamma,total\r\n"
        b"dan@school.example,Dan,100.00,100.00\r\n"
        b"eve@school.example,Eve,100.00,100.00\r\n"
    )


async def test_csv_escapes_formulas_and_quotes_text(app: Quart) -> None:
    problem = await add_problem(app, "delta", "odd set/../x")
    names = {
        '=HYPERLINK("http://evil.example")': "f1@school.example",
        "+1+2": "f2@school.example",
        "-3": "f3@school.example",
        "@SUM(A1:A9)": "f4@school.example",
        'Smith, "J" Ünal': "f5@school.example",
    }
    for number, (name, email) in enumerate(names.items()):
        person = await create_user(app, email=email, name=name)
        await add_submission(app, person, problem, minutes(number), "WA", 0.333)
    client = await staff_client(app)

    response = await client.get("/scoreboard.csv", query_string={"set": "odd set/../x"})

    assert response.headers["Content-Disposition"] == (
        'attachment; filename="scores-odd_set_.._x.csv"'
    )
    assert (await response.get_data()).decode("utf-8") == (
        "email,name,delta,total\r\n"
        'f1@school.example,"\'=HYPERLINK(""http://evil.example"")",33.30,33.30\r\n'
        "f2@school.example,'+1+2,33.30,33.30\r\n"
        "f3@school.example,'-3,33.30,33.30\r\n"
        "f4@school.example,'@SUM(A1:A9),33.30,33.30\r\n"
        'f5@school.example,"Smith, ""J"" Ünal",33.30,33.30\r\n'
    )


@pytest.mark.parametrize("path", ["/scoreboard", "/scoreboard.csv", "/scoreboard?set=week1"])
async def test_students_cannot_see_scores(app: Quart, path: str) -> None:
    await build_course(app)
    client = app.test_client()
    await sign_in_as(client, await create_user(app, role=Role.STUDENT))
    assert (await client.get(path)).status_code == 403
    anonymous = await app.test_client().get(path)
    assert anonymous.status_code == 302
    assert anonymous.location.startswith("/login")
