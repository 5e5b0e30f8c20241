"""The course API: a teacher creates a course, imports a roster, publishes an assignment with
a late policy, extends it for three students at once, and reads grades and exports; every bad
input is refused with a message and changes nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select

from service.auth.id_tokens import Identity
from service.auth.users import sign_in_user
from service.db import get_db
from service.models import AuditEntry, Extension, Member, Role, Status, Submission, User
from service.models.base import utcnow
from service.problems.queries import list_all_problems
from tests.factories import (
    add_problem,
    add_submission,
    bearer,
    count_rows,
    create_user,
    csrf_token,
    sign_in_as,
    token_for,
    user_with_token,
)
from tests.waiting import wait_idle

ROSTER = (
    "E-mail Address,Full Name,Section\n"
    "ana@school.edu,Ana Lima,Lab A\n"
    "BEN@school.edu,Ben Okafor,Lab A\n"
    "cleo@school.edu,Cleo Park,Lab B\n"
    "dan@school.edu,Dan Roy,\n"
    "ana@school.edu,Ana again,Lab B\n"
)


def iso(moment: datetime) -> str:
    """Return ``moment`` as ISO 8601 with its offset."""
    return moment.isoformat()


async def new_course(client: QuartClient, headers: dict[str, str], **fields: Any) -> int:
    """Create a course through the API; return its id."""
    body = {"name": "Programming 1", "term": "Fall 2026", "timezone": "Europe/Berlin"} | fields
    response = await client.post("/api/v1/courses", json=body, headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return int((await response.get_json())["id"])


async def post_roster(
    client: QuartClient, course: int, text: str, headers: dict[str, str], query: str = ""
) -> Any:
    """Send a roster CSV; return the response."""
    return await client.post(
        f"/api/v1/courses/{course}/roster{query}",
        data=text.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )


class Course:
    """A course made through the API, with its teacher's headers."""

    def __init__(self, app: Quart, client: QuartClient, teacher: dict[str, str], ident: int):
        self.app, self.client, self.teacher, self.id = app, client, teacher, ident

    async def assignment(self, **fields: Any) -> Any:
        """Post an assignment; return the response."""
        return await self.client.post(
            f"/api/v1/courses/{self.id}/assignments", json=fields, headers=self.teacher
        )


@pytest.fixture
async def course(app: Quart, client: QuartClient) -> Course:
    """Return a course with the ROSTER imported and problems p1, p2 stored."""
    _, headers = await user_with_token(app, Role.STAFF)
    ident = await new_course(client, headers)
    response = await post_roster(client, ident, ROSTER, headers)
    assert response.status_code == 200
    await add_problem(app, "p1")
    await add_problem(app, "p2")
    return Course(app, client, headers, ident)


DUE = datetime(2026, 10, 24, 23, 59, tzinfo=UTC) + timedelta(hours=-2)  # 23:59 in Berlin
RELEASE = DUE - timedelta(days=7)


def assignment_body(**fields: Any) -> dict[str, Any]:
    """Return a valid assignment: p1 (weight 2) and p2, half credit for two days."""
    body: dict[str, Any] = {
        "name": "Week 1",
        "problems": [{"slug": "p1", "weight": 2}, "p2"],
        "release_at": "2026-10-17T23:59:00+02:00",
        "due_at": "2026-10-24T23:59:00+02:00",
        "late": [{"until": "2026-10-26T23:59:00+01:00", "credit": 0.5}],
    }
    return body | fields


# ---------------------------------------------------------------- courses and rosters


async def test_a_course_is_created_by_staff_and_taught_by_its_creator(
    app: Quart, client: QuartClient
) -> None:
    _, headers = await user_with_token(app, Role.STAFF)
    ident = await new_course(client, headers)
    response = await client.get(f"/api/v1/courses/{ident}", headers=headers)
    body = await response.get_json()
    assert body["role"] == "teacher"
    assert body["timezone"] == "Europe/Berlin"
    assert body["join_code"]
    listed = await (await client.get("/api/v1/courses", headers=headers)).get_json()
    assert [item["id"] for item in listed["items"]] == [ident]


async def test_students_cannot_create_courses(app: Quart, client: QuartClient) -> None:
    _, headers = await user_with_token(app, Role.STUDENT)
    response = await client.post("/api/v1/courses", json={"name": "x"}, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "timezone": "Mars/Olympus"}, "is not an IANA timezone"),
        ({"name": "  "}, "give the course a name"),
    ],
)
async def test_a_bad_course_is_refused(
    app: Quart, client: QuartClient, body: dict[str, str], message: str
) -> None:
    _, headers = await user_with_token(app, Role.STAFF)
    response = await client.post("/api/v1/courses", json=body, headers=headers)
    assert response.status_code == 422
    assert message in (await response.get_json())["message"]
    assert await count_rows(app, Member) == 0


async def test_the_roster_import_reports_what_changed(app: Quart, client: QuartClient) -> None:
    _, headers = await user_with_token(app, Role.STAFF)
    ident = await new_course(client, headers)
    preview = await post_roster(client, ident, ROSTER, headers, "?preview=true")
    assert preview.status_code == 200
    previewed = await preview.get_json()
    assert previewed["applied"] is False
    assert await count_rows(app, Member) == 1  # the teacher only
    applied = await (await post_roster(client, ident, ROSTER, headers)).get_json()
    for body in (previewed, applied):
        assert body["added"] == [
            "ana@school.edu",
            "ben@school.edu",
            "cleo@school.edu",
            "dan@school.edu",
        ]
        assert body["duplicates"] == [{"line": 6, "email": "ana@school.edu"}]
        assert body["sections_created"] == ["Lab A", "Lab B"]
    again = "email;name;group\nana@school.edu;Ana Lima;Lab B\nben@school.edu;Ben Okafor;Lab A\n"
    changed = await (await post_roster(client, ident, again, headers)).get_json()
    assert changed["updated"] == ["ana@school.edu"]
    assert changed["unchanged"] == ["ben@school.edu"]
    roster = await (await client.get(f"/api/v1/courses/{ident}/roster", headers=headers)).get_json()
    ana = next(m for m in roster["items"] if m["email"] == "ana@school.edu")
    assert (ana["section"], ana["pending"], ana["role"]) == ("Lab B", True, "student")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email,name\nana@school.edu,Ana\nbob@,Bob\n", "line 3: 'bob@' is not an e-mail address"),
        ("name,section\nAna,Lab A\n", "no e-mail column"),
        ("", "the roster is empty"),
        ("email,role\nana@school.edu,professor\n", "line 2: role 'professor'"),
    ],
)
async def test_a_bad_roster_changes_nothing(
    app: Quart, client: QuartClient, text: str, message: str
) -> None:
    _, headers = await user_with_token(app, Role.STAFF)
    ident = await new_course(client, headers)
    response = await post_roster(client, ident, text, headers)
    assert response.status_code == 422
    assert message in (await response.get_json())["message"]
    assert await count_rows(app, Member) == 1


async def test_a_roster_must_be_csv_text(app: Quart, client: QuartClient) -> None:
    _, headers = await user_with_token(app, Role.STAFF)
    ident = await new_course(client, headers)
    response = await client.post(
        f"/api/v1/courses/{ident}/roster", json={"email": "x"}, headers=headers
    )
    assert response.status_code == 415
    response = await client.post(
        f"/api/v1/courses/{ident}/roster",
        data=b"email\n\xff@x.org\n",
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert "UTF-8" in (await response.get_json())["message"]


async def test_headerless_rosters_and_first_last_names_are_understood(
    app: Quart, client: QuartClient
) -> None:
    _, headers = await user_with_token(app, Role.STAFF)
    ident = await new_course(client, headers)
    await post_roster(client, ident, "ana@school.edu,Ana Lima,Lab A\n", headers)
    text = "\ufeffFirst Name,Last Name,Email\nBen,Okafor,ben@school.edu\n"
    await post_roster(client, ident, text, headers)
    canvas = 'Sortable Name,SIS Login ID\n"Park, Cleo",cleo@school.edu\n'
    await post_roster(client, ident, canvas, headers)
    roster = await (await client.get(f"/api/v1/courses/{ident}/roster", headers=headers)).get_json()
    names = {m["email"]: m["name"] for m in roster["items"]}
    assert names["ana@school.edu"] == "Ana Lima"
    assert names["ben@school.edu"] == "Ben Okafor"
    assert names["cleo@school.edu"] == "Cleo Park"


# ---------------------------------------------------------------- assignments


async def test_an_assignment_is_created_with_its_timeline(course: Course) -> None:
    response = await course.assignment(**assignment_body())
    assert response.status_code == 201
    body = await response.get_json()
    assert [p["slug"] for p in body["problems"]] == ["p1", "p2"]
    assert body["problems"][0]["weight"] == 2
    assert datetime.fromisoformat(body["due_at"]) == DUE
    assert body["late"][0]["credit"] == 0.5
    assert response.headers["Location"] == f"/api/v1/assignments/{body['id']}"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"due_at": "2026-10-24T23:59:00"}, "due_at: '2026-10-24T23:59:00' has no UTC offset"),
        ({"release_at": "next friday"}, "release_at: 'next friday' is not an ISO 8601 time"),
        ({"due_at": "2026-10-10T00:00:00+00:00"}, "the due time is before the release time"),
        (
            {"late": [{"until": "2026-10-26T23:59:00+01:00", "credit": 1.5}]},
            "credit 1.5 is outside 0-1",
        ),
        (
            {
                "late": [
                    {"until": "2026-10-26T23:59:00+01:00", "credit": 0.25},
                    {"until": "2026-10-27T23:59:00+01:00", "credit": 0.5},
                ]
            },
            "late step 2: credit 0.5 goes up again",
        ),
        (
            {"late": [{"until": "2026-10-20T23:59:00+01:00", "credit": 0.5}]},
            "'until' must come after the due time",
        ),
        ({"problems": ["p1", "nope"]}, "no problem 'nope'"),
        ({"problems": []}, "at least one problem"),
        ({"problems": ["p1", "p1"]}, "listed twice"),
        (
            {"due_at": None, "late": [{"until": "2026-10-26T23:59:00+01:00", "credit": 0.5}]},
            "needs a due_at",
        ),
    ],
)
async def test_a_bad_assignment_is_refused(
    course: Course, fields: dict[str, Any], message: str
) -> None:
    response = await course.assignment(**assignment_body(**fields))
    assert response.status_code == 422
    assert message in (await response.get_json())["message"]
    listed = await course.client.get(
        f"/api/v1/courses/{course.id}/assignments", headers=course.teacher
    )
    assert (await listed.get_json())["items"] == []


async def test_students_see_an_assignment_from_its_release(app: Quart, course: Course) -> None:
    later = utcnow() + timedelta(days=1)
    body = assignment_body(release_at=iso(later), due_at=iso(later + timedelta(days=1)), late=[])
    created = await (await course.assignment(**body)).get_json()
    student = await member_user(app, "ana@school.edu")
    headers = bearer(await token_for(app, student))
    listed = await course.client.get(f"/api/v1/courses/{course.id}/assignments", headers=headers)
    assert (await listed.get_json())["items"] == []
    one = await course.client.get(f"/api/v1/assignments/{created['id']}", headers=headers)
    assert one.status_code == 404
    # Its problems are hidden from students until then, and cannot be submitted to.
    problem = await course.client.get("/api/v1/problems/p1", headers=headers)
    assert problem.status_code == 404
    submit = await course.client.post(
        "/api/v1/submissions",
        json={"problem": "p1", "language": "python3", "source": "print(1)"},
        headers=headers,
    )
    assert submit.status_code == 404
    staff = await course.client.get("/api/v1/problems/p1", headers=course.teacher)
    assert staff.status_code == 200


async def member_user(app: Quart, email: str) -> User:
    """Sign in the roster member ``email`` (their account is made at the first sign-in)."""
    identity = Identity(
        sub=f"sub-{email.lower()}",
        issuer="https://accounts.google.com",
        email=email,
        name=email.split("@")[0],
        picture="",
        hosted_domain=None,
    )
    async with get_db(app).session() as db:
        user = await sign_in_user(db, identity, frozenset())
        await db.commit()
    return user


# ---------------------------------------------------------------- extensions and grades


async def submit_at(app: Quart, email: str, slug: str, at: datetime, score: float) -> None:
    """Store a judged submission of the roster member ``email``."""
    async with get_db(app).session() as db:
        problems = {p.slug: p for p in await list_all_problems(db)}
    user = await member_user(app, email)
    verdict = "AC" if score == 1 else "WA"
    await add_submission(app, user, problems[slug], at, verdict, score)


async def grades(course: Course, assignment: int, headers: dict[str, str] | None = None) -> Any:
    """Return the assignment's grades by e-mail."""
    response = await course.client.get(
        f"/api/v1/assignments/{assignment}/grades", headers=headers or course.teacher
    )
    assert response.status_code == 200
    return {row["email"]: row for row in await response.get_json()}


async def test_grades_follow_the_timeline_and_extensions_granted_after_the_fact(
    app: Quart, course: Course
) -> None:
    created = await (await course.assignment(**assignment_body())).get_json()
    ident = created["id"]
    await submit_at(app, "ana@school.edu", "p1", DUE - timedelta(seconds=1), 1.0)
    await submit_at(app, "ben@school.edu", "p1", DUE + timedelta(seconds=1), 0.8)
    await submit_at(app, "cleo@school.edu", "p1", DUE + timedelta(days=3), 1.0)
    before = await grades(course, ident)
    assert before["ana@school.edu"]["score"] == 2.0
    assert before["ana@school.edu"]["points_possible"] == 3.0
    assert before["ben@school.edu"]["explanation"] == "best 80% at 50% credit; no submission"
    assert before["ben@school.edu"]["late"] is True
    assert before["cleo@school.edu"]["score"] == 0.0
    assert before["dan@school.edu"]["explanation"] == "no submission; no submission"
    response = await course.client.post(
        f"/api/v1/assignments/{ident}/extensions",
        json={
            "students": ["ben@school.edu", "Cleo@school.edu", "dan@school.edu"],
            "due_at": "2026-10-28T23:59:00+01:00",
            "reason": "fire drill",
        },
        headers=course.teacher,
    )
    assert response.status_code == 201
    assert (await response.get_json())["granted"] == 3
    after = await grades(course, ident)
    assert after["ben@school.edu"]["score"] == pytest.approx(1.6)
    assert after["ben@school.edu"]["extended"] is True
    assert after["cleo@school.edu"]["credit"] == pytest.approx(2 / 3)
    assert after["ana@school.edu"]["extended"] is False
    audit = await course.client.get(f"/api/v1/courses/{course.id}/audit", headers=course.teacher)
    actions = [entry["action"] for entry in (await audit.get_json())["items"]]
    assert actions[0] == "extension.grant"
    assert {"roster.import", "assignment.create", "course.create"} <= set(actions)


async def test_a_rejudge_and_an_override_change_the_grade(app: Quart, course: Course) -> None:
    created = await (await course.assignment(**assignment_body())).get_json()
    await submit_at(app, "ana@school.edu", "p2", DUE, 0.0)
    assert (await grades(course, created["id"]))["ana@school.edu"]["score"] == 0.0
    async with get_db(app).session() as db:  # a rejudge leaves the newest judging's score
        submission = (await db.execute(select(Submission))).scalar_one()
        submission.score, submission.verdict, submission.status = 1.0, "AC", Status.DONE
        await db.commit()
    assert (await grades(course, created["id"]))["ana@school.edu"]["score"] == 1.0
    response = await course.client.post(
        f"/api/v1/assignments/{created['id']}/overrides",
        json={"email": "ana@school.edu", "credit": 0.9, "reason": "regrade request"},
        headers=course.teacher,
    )
    assert response.status_code == 201
    row = (await grades(course, created["id"]))["ana@school.edu"]
    assert row["credit"] == pytest.approx(0.9)
    assert row["overridden"] is True
    assert row["explanation"] == "set by hand to 90%: regrade request"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"students": ["ana@school.edu", "zed@school.edu"], "reason": "x"},
            422,
            "not a student of this course: zed@school.edu",
        ),
        ({"students": ["not-an-email"], "reason": "x"}, 422, "is not an e-mail address"),
        ({"students": ["ana@school.edu"], "reason": " "}, 422, "reason: say why"),
        ({"students": [], "reason": "x"}, 422, "name at least one student"),
        (
            {"students": ["ana@school.edu"], "reason": "x", "due_at": "2026-10-20T00:00:00+00:00"},
            422,
            "must be later than the assignment's due time",
        ),
        (
            {"students": ["ana@school.edu"], "reason": "x", "due_at": "2026-10-30T00:00:00"},
            422,
            "has no UTC offset",
        ),
        ({"sections": ["Lab Z"], "reason": "x"}, 422, "no section 'Lab Z'"),
    ],
)
async def test_a_bad_extension_grants_nothing(
    course: Course, body: dict[str, Any], status: int, message: str
) -> None:
    created = await (await course.assignment(**assignment_body())).get_json()
    body = {"due_at": "2026-10-30T23:59:00+01:00"} | body
    response = await course.client.post(
        f"/api/v1/assignments/{created['id']}/extensions", json=body, headers=course.teacher
    )
    assert response.status_code == status
    assert message in (await response.get_json())["message"]
    assert await count_rows(course.app, Extension) == 0


async def test_a_section_extension_reaches_its_students(app: Quart, course: Course) -> None:
    created = await (await course.assignment(**assignment_body())).get_json()
    await submit_at(app, "cleo@school.edu", "p2", DUE + timedelta(days=3), 1.0)
    response = await course.client.post(
        f"/api/v1/assignments/{created['id']}/extensions",
        json={"sections": ["Lab B"], "due_at": "2026-10-28T23:59:00+01:00", "reason": "lab closed"},
        headers=course.teacher,
    )
    assert response.status_code == 201
    rows = await grades(course, created["id"])
    assert rows["cleo@school.edu"]["score"] == 1.0
    assert rows["ana@school.edu"]["extended"] is False


async def test_late_days_are_spent_and_reported(app: Quart, client: QuartClient) -> None:
    _, headers = await user_with_token(app, Role.STAFF)
    ident = await new_course(client, headers, late_days=2)
    await post_roster(client, ident, "email\nana@school.edu\n", headers)
    await add_problem(app, "p1")
    await add_problem(app, "p2")
    course = Course(app, client, headers, ident)
    created = await (await course.assignment(**assignment_body())).get_json()
    await submit_at(app, "ana@school.edu", "p2", DUE + timedelta(hours=30), 1.0)
    row = (await grades(course, created["id"]))["ana@school.edu"]
    assert row["late_days_used"] == 2
    assert row["score"] == 1.0
    assert row["explanation"] == "no submission; best 100% at 100% credit (2 late days used)"
    assert datetime.fromisoformat(row["due_at"]) == DUE + timedelta(days=2)


async def test_a_student_reads_only_their_own_grade(app: Quart, course: Course) -> None:
    created = await (await course.assignment(**assignment_body())).get_json()
    ana = await member_user(app, "ana@school.edu")
    rows = await grades(course, created["id"], bearer(await token_for(app, ana)))
    assert list(rows) == ["ana@school.edu"]


async def test_pending_members_are_matched_by_email_at_first_sign_in(
    app: Quart, course: Course
) -> None:
    ana = await member_user(app, "ANA@school.edu")
    headers = bearer(await token_for(app, ana))
    response = await course.client.get(f"/api/v1/courses/{course.id}", headers=headers)
    assert (await response.get_json())["role"] == "student"
    outsider = await create_user(app, email="eve@school.edu")
    response = await course.client.get(
        f"/api/v1/courses/{course.id}", headers=bearer(await token_for(app, outsider))
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- exports


async def test_the_gradebook_csv_and_canvas_csv_read_back(app: Quart, course: Course) -> None:
    created = await (await course.assignment(**assignment_body())).get_json()
    await submit_at(app, "ana@school.edu", "p1", DUE, 1.0)
    await submit_at(app, "ana@school.edu", "p2", DUE, 0.5)
    response = await course.client.get(
        f"/api/v1/courses/{course.id}/gradebook.csv", headers=course.teacher
    )
    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await response.get_data(as_text=True))))
    ana = next(row for row in rows if row["email"] == "ana@school.edu")
    assert (ana["name"], ana["section"], ana["Week 1"]) == ("Ana Lima", "Lab A", "83.33")
    assert ana["total"] == "83.33"
    canvas = await course.client.get(
        f"/api/v1/courses/{course.id}/canvas.csv", headers=course.teacher
    )
    table = list(csv.reader(io.StringIO(await canvas.get_data(as_text=True))))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Week 1"]
    assert table[1] == ["Points Possible", "", "", "", "", "3"]
    by_login = {row[3]: row for row in table[2:]}
    assert by_login["ana@school.edu"] == [
        "Lima, Ana",
        "",
        "ana@school.edu",
        "ana@school.edu",
        "Lab A",
        "2.5",
    ]
    assert len(table) == 2 + 4
    assert created["id"]


async def test_the_audit_log_is_for_teachers(app: Quart, course: Course) -> None:
    ana = await member_user(app, "ana@school.edu")
    response = await course.client.get(
        f"/api/v1/courses/{course.id}/audit", headers=bearer(await token_for(app, ana))
    )
    assert response.status_code == 403
    assert await count_rows(app, AuditEntry) >= 2


# ---------------------------------------------------------------- joining, leaving, changes


async def test_students_join_by_code_and_teachers_remove_them(app: Quart, course: Course) -> None:
    code = (
        await (
            await course.client.get(f"/api/v1/courses/{course.id}", headers=course.teacher)
        ).get_json()
    )["join_code"]
    eve = await create_user(app, email="eve@school.edu")
    headers = bearer(await token_for(app, eve))
    for bad in ("nope", ""):
        wrong = await course.client.post(
            "/api/v1/courses/join", json={"code": bad}, headers=headers
        )
        assert wrong.status_code == 422
    joined = await course.client.post("/api/v1/courses/join", json={"code": code}, headers=headers)
    assert (await joined.get_json())["role"] == "student"
    await submit_at(app, "eve@school.edu", "p1", DUE, 1.0)
    removed = await course.client.delete(
        f"/api/v1/courses/{course.id}/roster/eve@school.edu", headers=course.teacher
    )
    assert removed.status_code == 200
    gone = await course.client.get(f"/api/v1/courses/{course.id}", headers=headers)
    assert gone.status_code == 404
    again = await course.client.delete(
        f"/api/v1/courses/{course.id}/roster/eve@school.edu", headers=course.teacher
    )
    assert again.status_code == 404
    assert await count_rows(app, Submission) == 1  # their work stays
    rejoined = await course.client.post(
        "/api/v1/courses/join", json={"code": code}, headers=headers
    )
    assert rejoined.status_code == 200


async def test_a_teacher_cannot_remove_themselves(app: Quart, course: Course) -> None:
    me = await (await course.client.get("/api/v1/me", headers=course.teacher)).get_json()
    response = await course.client.delete(
        f"/api/v1/courses/{course.id}/roster/{me['email']}", headers=course.teacher
    )
    assert response.status_code == 422


async def test_open_enrolment_admits_the_allowed_domains(make_app: Any) -> None:
    async with make_app(allowed_domains=frozenset({"school.edu"})) as app:
        client = app.test_client()
        _, teacher = await user_with_token(app, Role.STAFF)
        ident = await new_course(client, teacher)
        ana = bearer(await token_for(app, await create_user(app, email="ana@school.edu")))
        closed = await client.post(f"/api/v1/courses/{ident}/enrol", headers=ana)
        assert closed.status_code == 403
        changed = await client.patch(
            f"/api/v1/courses/{ident}", json={"self_enrol": True, "late_days": 3}, headers=teacher
        )
        assert (await changed.get_json())["late_days"] == 3
        outsider = bearer(await token_for(app, await create_user(app, email="x@elsewhere.org")))
        assert (
            await client.post(f"/api/v1/courses/{ident}/enrol", headers=outsider)
        ).status_code == 403
        enrolled = await client.post(f"/api/v1/courses/{ident}/enrol", headers=ana)
        assert (await enrolled.get_json())["role"] == "student"
        missing = await client.post("/api/v1/courses/4242/enrol", headers=ana)
        assert missing.status_code == 404
        audit = await (
            await client.get(f"/api/v1/courses/{ident}/audit", headers=teacher)
        ).get_json()
        assert audit["items"][0]["action"] == "course.settings"


async def test_a_moved_deadline_changes_grades_at_once(app: Quart, course: Course) -> None:
    created = await (await course.assignment(**assignment_body())).get_json()
    await submit_at(app, "ana@school.edu", "p2", DUE + timedelta(days=1), 1.0)
    assert (await grades(course, created["id"]))["ana@school.edu"]["score"] == 0.5
    moved = await course.client.patch(
        f"/api/v1/assignments/{created['id']}",
        json={
            "due_at": "2026-10-25T23:59:00+01:00",
            "late": [{"until": "2026-10-27T23:59:00+01:00", "credit": 0.5}],
        },
        headers=course.teacher,
    )
    assert moved.status_code == 200
    assert (await grades(course, created["id"]))["ana@school.edu"]["score"] == 1.0
    bad = await course.client.patch(
        f"/api/v1/assignments/{created['id']}",
        json={"due_at": "2026-10-30T23:59:00+01:00"},  # after its own late step
        headers=course.teacher,
    )
    assert bad.status_code == 422
    cleared = await course.client.patch(
        f"/api/v1/assignments/{created['id']}", json={"no_due_time": True}, headers=course.teacher
    )
    assert (await cleared.get_json())["due_at"] is None
    audit = await (
        await course.client.get(f"/api/v1/courses/{course.id}/audit", headers=course.teacher)
    ).get_json()
    assert [e["action"] for e in audit["items"][:2]] == [
        "assignment.deadline",
        "assignment.deadline",
    ]


async def test_a_roster_never_changes_the_importers_own_role(
    app: Quart, client: QuartClient
) -> None:
    teacher, headers = await user_with_token(app, Role.STAFF)
    ident = await new_course(client, headers)
    text = f"email,role\n{teacher.email},student\n"
    changes = await (await post_roster(client, ident, text, headers)).get_json()
    assert changes["unchanged"] == [teacher.email.lower()]
    mine = await (await client.get(f"/api/v1/courses/{ident}", headers=headers)).get_json()
    assert mine["role"] == "teacher"


async def test_rejudges_are_in_the_audit_log_of_the_courses_using_the_problem(
    app: Quart, course: Course
) -> None:
    await (await course.assignment(**assignment_body())).get_json()
    await submit_at(app, "ana@school.edu", "p1", DUE, 0.5)
    async with get_db(app).session() as db:
        submission = (await db.execute(select(Submission))).scalar_one()
    response = await course.client.post(
        f"/api/v1/submissions/{submission.id}/rejudge", headers=course.teacher
    )
    assert response.status_code == 202
    page = course.client
    teacher = (await (await page.get("/api/v1/me", headers=course.teacher)).get_json())["id"]
    async with get_db(app).session() as db:
        staff = await db.get(User, teacher)
    assert staff is not None
    await sign_in_as(page, staff)
    token = await csrf_token(page, "/problems")
    rejudged = await page.post(
        "/problems/p1/rejudge", form={"csrf_token": token, "confirmed": "yes"}
    )
    assert rejudged.status_code == 303
    audit = await (
        await course.client.get(f"/api/v1/courses/{course.id}/audit", headers=course.teacher)
    ).get_json()
    summaries = [e["summary"] for e in audit["items"] if e["action"] == "rejudge"]
    assert summaries == ["rejudged 1 submissions of p1", f"rejudged submission {submission.id}"]
    await wait_idle(app)
