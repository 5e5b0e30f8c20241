"""The permission matrix: anonymous, student, staff and admin against every route of the app.

One table holds a row per (method, path) with the status each role must get; one test runs
the whole table against one app and lists every mismatch at once. Another test checks that
the table covers every route the app has (static files aside), so a new route without a row
fails. The WebSocket route has its own small table.

Product rules the expectations follow: anonymous people are sent to /login on HTML pages and
get 401 on the API; students see only their own submissions (someone else's is 404, as is a
hidden problem); staff pages are 403 for students; admin-only actions are 403 for staff.
State-changing rows act on throwaway rows made for that row and role, and check that the
change happened exactly when the request was allowed.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import respx
from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from service.app import create_app
from service.auth.api_tokens import create_token
from service.config import RateLimit
from service.courses.rules import parse_roster
from service.courses.service import (
    AssignmentInput,
    course_access,
    create_assignment,
    create_course,
    import_roster,
)
from service.db import get_db
from service.models import (
    ApiToken,
    Assignment,
    Course,
    Extension,
    GradeOverride,
    Judging,
    Member,
    Problem,
    Role,
    Status,
    Submission,
    User,
)
from service.models.base import utcnow
from service.problems.queries import set_hidden
from service.submissions.service import submit
from tests.factories import (
    HELLO_PY,
    TEST_PUBLIC_URL,
    AppFactory,
    app_settings,
    copy_example,
    count_rows,
    create_user,
    csrf_token,
    example_path,
    import_example,
    run_import,
    sign_in_as,
    sqlite_url,
    write_statement,
    zip_bytes,
)
from tests.fakes import (
    CLIENT_ID,
    CLIENT_SECRET,
    GOOGLE,
    ClosingWebsocketConnection,
    FakeProvider,
    FakeSandbox,
    WebsocketClosed,
    hello_program,
    judge_on,
)

ROLES = ("anonymous", "student", "staff", "admin")
USER_ROLES = {"student": Role.STUDENT, "staff": Role.STAFF, "admin": Role.ADMIN}
MISSING_ID = 999_999
ROSTER_NUMBERS = itertools.count(1)
WAIT_SECONDS = 20.0

#: Expected outcome meaning "302 to the sign-in page".
LOGIN = "login"
Expected = int | str
#: Builds the extra path values of one row for one role (throwaway rows live here).
Prepare = Callable[["World", str], Awaitable[dict[str, Any]]]
#: Returns whether a row's change is visible in the database after the request.
Effect = Callable[["World", dict[str, Any]], Awaitable[bool]]
#: Returns the keyword arguments of the request (form, json, files...) for one role.
Payload = Callable[["World", str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    """One route and method, with the status anonymous, student, staff and admin must get."""

    method: str
    path: str
    expected: tuple[Expected, Expected, Expected, Expected]
    payload: Payload | None = None
    prepare: Prepare | None = None
    effect: Effect | None = None
    fresh_session: bool = False  # the request ends the session: use a throwaway one

    @property
    def api(self) -> bool:
        """Return whether the row is a JSON API route (Bearer tokens, not cookies)."""
        return self.path.startswith("/api/")

    @property
    def label(self) -> str:
        """Return the row's readable name."""
        return f"{self.method} {self.path}"


@dataclass
class World:
    """The app and everything the rows point at: people, clients, tokens, submissions."""

    app: Quart
    tmp: Path
    users: dict[str, User] = field(default_factory=dict)
    clients: dict[str, QuartClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    package_zip: bytes = b""


# ---------------------------------------------------------------- payloads and throwaways


def with_csrf(fields: Mapping[str, str] | None = None) -> Payload:
    """Return a payload posting ``fields`` with the role's CSRF token (HTML forms)."""

    def build(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
        token = values.get("csrf") or world.csrf[role]
        return {"form": {"csrf_token": token, **(fields or {})}}

    return build


def submission_json(slug: str) -> Payload:
    """Return a payload submitting the hello program to ``slug`` through the API."""

    def build(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
        return {"json": {"problem": slug, "language": "python3", "source": HELLO_PY}}

    return build


def json_body(body: Mapping[str, Any]) -> Payload:
    """Return a payload posting ``body`` as JSON."""

    def build(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
        return {"json": dict(body)}

    return build


def feedback_json(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return a feedback policy making the toggle problem's secret tests summary only."""
    return {"json": {"groups": {"secret": {"level": "summary"}}}}


async def toggle_policy_set(world: World, values: dict[str, Any]) -> bool:
    """Return whether the toggle problem has a feedback policy of its own now."""
    async with get_db(world.app).session() as db:
        policy = await db.scalar(select(Problem.feedback_policy).where(Problem.slug == "toggle"))
    if policy is not None:  # undo it for the next role's request
        async with get_db(world.app).session() as db:
            problem = await db.scalar(select(Problem).where(Problem.slug == "toggle"))
            assert problem is not None
            problem.feedback_policy = None
            await db.commit()
    return policy is not None


def run_json(slug: str) -> Payload:
    """Return a payload running the hello program on ``slug``'s first sample."""

    def build(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
        return {"json": {"problem": slug, "language": "python3", "source": HELLO_PY, "sample": "1"}}

    return build


def roster_csv(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return a roster CSV adding one person of the role's own (a new member when allowed)."""
    text = f"email,name,section\nroster-{role}-{next(ROSTER_NUMBERS)}@example.com,R,Lab A\n"
    return {"data": text.encode(), "headers": {"Content-Type": "text/csv"}}


def assignment_json(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return an assignment of the hello problem."""
    body = {
        "name": f"Matrix {role}",
        "problems": ["hello"],
        "release_at": "2026-01-01T00:00:00+00:00",
        "due_at": "2026-02-01T00:00:00+00:00",
    }
    return {"json": body}


def extension_json(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return an extension for the matrix's enrolled student."""
    body = {
        "students": [world.users["student"].email],
        "due_at": (utcnow() + timedelta(days=60)).isoformat(),
        "reason": "matrix",
    }
    return {"json": body}


async def throwaway_member(world: World, role: str) -> dict[str, Any]:
    """Put a student of the role's own on the matrix course's roster, to remove."""
    email = f"leaving-{role}-{next(ROSTER_NUMBERS)}@example.com"
    async with get_db(world.app).session() as db:
        teacher = await db.get(User, world.users["staff"].id)
        assert teacher is not None
        access = await course_access(db, world.values["course"], teacher)
        await import_roster(db, access, parse_roster(f"email\n{email}\n"), apply=True)
        await db.commit()
    return {"member_email": email}


async def member_removed(world: World, values: dict[str, Any]) -> bool:
    """Return whether the row's member is off the roster now."""
    return (
        await count_rows(
            world.app,
            Member,
            Member.email == values["member_email"],
            Member.removed_at.is_not(None),
        )
        == 1
    )


def extension_form(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return the extensions page's form for the matrix's enrolled student."""
    due = (utcnow() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M")
    fields = {"emails": world.users["student"].email, "due_at": due, "reason": "matrix"}
    return with_csrf(fields)(world, role, values)


def override_json(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return a grade override for the matrix's enrolled student."""
    return {"json": {"email": world.users["student"].email, "credit": 1.0, "reason": "matrix"}}


def batch_json(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return a batch of one hello submission."""
    item = {"problem": "hello", "language": "python3", "source": HELLO_PY}
    return {"json": {"submissions": [item]}}


def package_upload(world: World, role: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return a multipart upload of the hello package under a slug of the role's own."""
    upload = FileStorage(io.BytesIO(world.package_zip), filename="hello.zip")
    if row_is_api(values):
        fields = {"slug": f"api-upload-{role}"}
    else:
        fields = {"slug": f"form-upload-{role}", "csrf_token": world.csrf[role]}
    return {"files": {"package": upload}, "form": fields}


def row_is_api(values: dict[str, Any]) -> bool:
    """Return whether the values belong to an API row."""
    return bool(values.get("api"))


async def throwaway_user(world: World, role: str) -> dict[str, Any]:
    """Make an enabled student for a row that changes a person."""
    target = await create_user(world.app)
    return {"target": target.id}


async def throwaway_disabled_user(world: World, role: str) -> dict[str, Any]:
    """Make a disabled student for a row that enables a person."""
    target = await create_user(world.app, disabled=True)
    return {"target": target.id}


async def own_token(world: World, role: str) -> dict[str, Any]:
    """Make a token for the role's own user (the student's for anonymous) to revoke."""
    owner = world.users["student" if role == "anonymous" else role]
    return {"token": await new_token_id(world.app, owner, f"revoke-me-{role}")}


async def new_token_id(app: Quart, owner: User, name: str) -> int:
    """Store a token for ``owner`` and return its id."""
    async with get_db(app).session() as db:
        _, token = await create_token(db, owner, name)
        await db.commit()
        return token.id


async def problem_shown(world: World, role: str) -> dict[str, Any]:
    """Make the toggle problem visible before a row that hides it."""
    await store_hidden(world.app, "toggle", False)
    return {}


async def problem_hidden(world: World, role: str) -> dict[str, Any]:
    """Make the toggle problem hidden before a row that shows it."""
    await store_hidden(world.app, "toggle", True)
    return {}


async def store_hidden(app: Quart, slug: str, hidden: bool) -> None:
    """Set a problem's hidden flag directly in the database."""
    async with get_db(app).session() as db:
        assert await set_hidden(db, slug, hidden) is not None
        await db.commit()


def adds(model: type[Any]) -> dict[str, Any]:
    """Return the prepare and effect of a row that must store one more ``model`` row."""

    async def prepare(world: World, role: str) -> dict[str, Any]:
        return {"rows_before": await count_rows(world.app, model)}

    async def effect(world: World, values: dict[str, Any]) -> bool:
        return await count_rows(world.app, model) > int(values["rows_before"])

    return {"prepare": prepare, "effect": effect}


async def load_user(app: Quart, user_id: int) -> User:
    """Reload a user."""
    async with get_db(app).session() as db:
        user = await db.get(User, user_id)
        assert user is not None
        return user


async def target_disabled(world: World, values: dict[str, Any]) -> bool:
    """Return whether the row's target person is now disabled."""
    return (await load_user(world.app, values["target"])).disabled


async def target_enabled(world: World, values: dict[str, Any]) -> bool:
    """Return whether the row's (disabled) target person is now enabled."""
    return not (await load_user(world.app, values["target"])).disabled


async def target_is_staff(world: World, values: dict[str, Any]) -> bool:
    """Return whether the row's target person is now staff."""
    return (await load_user(world.app, values["target"])).role is Role.STAFF


async def token_revoked(world: World, values: dict[str, Any]) -> bool:
    """Return whether the row's token is now revoked."""
    async with get_db(world.app).session() as db:
        token = await db.get(ApiToken, values["token"])
        assert token is not None
        return token.revoked_at is not None


async def toggle_hidden(world: World, values: dict[str, Any]) -> bool:
    """Return whether the toggle problem is now hidden."""
    return await is_hidden(world.app, "toggle")


async def toggle_shown(world: World, values: dict[str, Any]) -> bool:
    """Return whether the toggle problem is now visible."""
    return not await is_hidden(world.app, "toggle")


async def is_hidden(app: Quart, slug: str) -> bool:
    """Return a problem's hidden flag."""
    async with get_db(app).session() as db:
        hidden = await db.scalar(select(Problem.hidden).where(Problem.slug == slug))
        assert hidden is not None
        return bool(hidden)


# ---------------------------------------------------------------- the table

ALL_200 = (200, 200, 200, 200)
SIGNED_IN_200: tuple[Expected, ...] = (LOGIN, 200, 200, 200)
STAFF_PAGE: tuple[Expected, ...] = (LOGIN, 403, 200, 200)
API_SIGNED_IN_200: tuple[Expected, ...] = (401, 200, 200, 200)


def row(method: str, path: str, expected: tuple[Expected, ...], **options: Any) -> Row:
    """Build a row (the expected statuses in the order anonymous, student, staff, admin)."""
    assert len(expected) == len(ROLES), path
    anonymous, student, staff, admin = expected
    return Row(method, path, (anonymous, student, staff, admin), **options)


ROWS: tuple[Row, ...] = (
    # Public pages, probes and documents.
    row("GET", "/", ALL_200),
    row("GET", "/healthz", ALL_200),
    row("GET", "/readyz", ALL_200),
    row("GET", "/metrics", ALL_200),
    row("GET", "/openapi.json", ALL_200),
    row("GET", "/docs", ALL_200),
    row("GET", "/docs/start.js", ALL_200),
    row("GET", "/docs/assets/swagger-ui.css", ALL_200),
    row("GET", "/submissions/pygments.css", ALL_200),
    # Sign-in and out. /login sends anonymous people to the provider, others to ``next``.
    row("GET", "/login", (302, 302, 302, 302)),
    row("GET", "/login/callback", (400, 400, 400, 400)),
    row("POST", "/logout", (303, 303, 303, 303), payload=with_csrf(), fresh_session=True),
    row(
        "POST",
        "/logout/everywhere",
        (LOGIN, 303, 303, 303),
        payload=with_csrf(),
        fresh_session=True,
    ),
    # The account page and personal access tokens (only your own).
    row("GET", "/account", SIGNED_IN_200),
    row(
        "POST",
        "/account/tokens",
        (LOGIN, 201, 201, 201),
        payload=with_csrf({"name": "m"}),
        **adds(ApiToken),
    ),
    row(
        "POST",
        "/account/tokens/{token}/revoke",
        (LOGIN, 303, 303, 303),
        payload=with_csrf(),
        prepare=own_token,
        effect=token_revoked,
    ),
    row(
        "POST", "/account/tokens/{other_token}/revoke", (LOGIN, 404, 404, 404), payload=with_csrf()
    ),
    # Problems: hidden ones are not found for students; staff tools are 403 for them.
    row("GET", "/problems", SIGNED_IN_200),
    row("GET", "/problems/hello", SIGNED_IN_200),
    row("GET", "/problems/bigio", (LOGIN, 404, 200, 200)),
    row("GET", "/problems/nope", (LOGIN, 404, 404, 404)),
    row("GET", "/problems/manual/statement.pdf", SIGNED_IN_200),
    row("GET", "/problems/hello/statement.pdf", (LOGIN, 404, 404, 404)),
    row("GET", "/problems/import", STAFF_PAGE),
    row(
        "POST",
        "/problems/import",
        (LOGIN, 403, 302, 302),
        payload=package_upload,
        **adds(Problem),
    ),
    row(
        "POST",
        "/problems/toggle/hide",
        (LOGIN, 403, 302, 302),
        payload=with_csrf(),
        prepare=problem_shown,
        effect=toggle_hidden,
    ),
    row(
        "POST",
        "/problems/toggle/show",
        (LOGIN, 403, 302, 302),
        payload=with_csrf(),
        prepare=problem_hidden,
        effect=toggle_shown,
    ),
    row("POST", "/problems/toggle/rejudge", (LOGIN, 403, 200, 200), payload=with_csrf()),
    row(
        "POST",
        "/problems/toggle/rejudge",
        (LOGIN, 403, 303, 303),
        payload=with_csrf({"confirmed": "yes"}),
    ),
    row(
        "POST",
        "/problems/toggle/feedback",
        (LOGIN, 403, 303, 303),
        payload=with_csrf({"policy": '{"groups": {"secret": {"level": "hidden"}}}'}),
        effect=toggle_policy_set,
    ),
    row(
        "POST",
        "/problems/hello/submissions",
        (LOGIN, 303, 303, 303),
        payload=with_csrf({"language": "python3", "source": HELLO_PY}),
        **adds(Submission),
    ),
    row(
        "POST",
        "/problems/bigio/submissions",
        (LOGIN, 404, 303, 303),
        payload=with_csrf({"language": "python3", "source": HELLO_PY}),
        **adds(Submission),
    ),
    # Submissions: your own only (someone else's is not found); staff see all.
    row("GET", "/submissions", SIGNED_IN_200),
    row("GET", "/submissions/{student_sub}", SIGNED_IN_200),
    row("GET", "/submissions/{other_sub}", (LOGIN, 404, 200, 200)),
    row("GET", f"/submissions/{MISSING_ID}", (LOGIN, 404, 404, 404)),
    row("GET", "/submissions/{student_sub}/state", SIGNED_IN_200),
    row("GET", "/submissions/{other_sub}/state", (LOGIN, 404, 200, 200)),
    row("GET", "/submissions/{student_sub}/source", SIGNED_IN_200),
    row("GET", "/submissions/{other_sub}/source", (LOGIN, 404, 200, 200)),
    # A test's data: only where the feedback policy shows the test in full (samples here).
    row("GET", "/submissions/{student_sub}/tests/input/sample/1", SIGNED_IN_200),
    row("GET", "/submissions/{other_sub}/tests/answer/sample/1", (LOGIN, 404, 200, 200)),
    row("GET", "/submissions/{student_sub}/tests/answer/secret/1", (LOGIN, 404, 200, 200)),
    row(
        "POST",
        "/submissions/{rejudge_sub}/rejudge",
        (LOGIN, 403, 303, 303),
        payload=with_csrf(),
        **adds(Judging),
    ),
    row(
        "POST",
        "/submissions/{student_sub}/rejudge",
        (LOGIN, 403, 303, 303),
        payload=with_csrf(),
        **adds(Judging),
    ),
    # People and scores: staff see them, only admins change people.
    row("GET", "/admin/users", STAFF_PAGE),
    row(
        "POST",
        "/admin/users/{target}/disable",
        (LOGIN, 403, 403, 302),
        payload=with_csrf(),
        prepare=throwaway_user,
        effect=target_disabled,
    ),
    row(
        "POST",
        "/admin/users/{target}/enable",
        (LOGIN, 403, 403, 302),
        payload=with_csrf(),
        prepare=throwaway_disabled_user,
        effect=target_enabled,
    ),
    row(
        "POST",
        "/admin/users/{target}/role",
        (LOGIN, 403, 403, 302),
        payload=with_csrf({"role": "staff"}),
        prepare=throwaway_user,
        effect=target_is_staff,
    ),
    row("GET", "/scoreboard", STAFF_PAGE),
    row("GET", "/scoreboard.csv", STAFF_PAGE),
    # The JSON API, with each role's Bearer token (anonymous sends none).
    row("GET", "/api/v1/languages", ALL_200),
    row("GET", "/api/v1/me", API_SIGNED_IN_200),
    row("GET", "/api/v1/problems", API_SIGNED_IN_200),
    row("GET", "/api/v1/problems/hello", API_SIGNED_IN_200),
    row("GET", "/api/v1/problems/bigio", (401, 404, 200, 200)),
    row("POST", "/api/v1/problems", (401, 403, 201, 201), payload=package_upload, **adds(Problem)),
    row("GET", "/api/v1/problems/hello/feedback", API_SIGNED_IN_200),
    row("GET", "/api/v1/problems/bigio/feedback", (401, 404, 200, 200)),
    row(
        "PUT",
        "/api/v1/problems/toggle/feedback",
        (401, 403, 200, 200),
        payload=feedback_json,
        effect=toggle_policy_set,
    ),
    row(
        "POST",
        "/api/v1/submissions",
        (401, 202, 202, 202),
        payload=submission_json("hello"),
        **adds(Submission),
    ),
    row(
        "POST",
        "/api/v1/submissions",
        (401, 404, 202, 202),
        payload=submission_json("bigio"),
        **adds(Submission),
    ),
    row(
        "POST",
        "/api/v1/submissions/batch",
        (401, 200, 200, 200),
        payload=batch_json,
        **adds(Submission),
    ),
    row("GET", "/api/v1/submissions", API_SIGNED_IN_200),
    row("POST", "/api/v1/runs", (401, 200, 200, 200), payload=run_json("hello")),
    row("POST", "/api/v1/runs", (401, 404, 200, 200), payload=run_json("bigio")),
    row("GET", "/api/v1/submissions/{student_sub}", API_SIGNED_IN_200),
    row("GET", "/api/v1/submissions/{other_sub}", (401, 404, 200, 200)),
    row("GET", f"/api/v1/submissions/{MISSING_ID}", (401, 404, 404, 404)),
    row("GET", "/api/v1/submissions/{student_sub}/events", API_SIGNED_IN_200),
    row("GET", "/api/v1/submissions/{other_sub}/events", (401, 404, 200, 200)),
    row("POST", "/api/v1/submissions/{rejudge_sub}/rejudge", (401, 403, 202, 202), **adds(Judging)),
    # Courses: the matrix's staff user teaches {course}, its student is enrolled in it, the
    # admin is not a member (admins see every course); {other_course} has nobody of theirs.
    row("GET", "/api/v1/courses", API_SIGNED_IN_200),
    row(
        "POST",
        "/api/v1/courses",
        (401, 403, 201, 201),
        payload=json_body({"name": "Matrix course"}),
        **adds(Course),
    ),
    row("GET", "/api/v1/courses/{course}", API_SIGNED_IN_200),
    row("GET", "/api/v1/courses/{other_course}", (401, 404, 404, 200)),
    row(
        "POST",
        "/api/v1/courses/{course}/roster",
        (401, 403, 200, 200),
        payload=roster_csv,
        **adds(Member),
    ),
    row("POST", "/api/v1/courses/{other_course}/roster", (401, 404, 404, 200), payload=roster_csv),
    row("GET", "/api/v1/courses/{course}/roster", (401, 403, 200, 200)),
    row(
        "POST",
        "/api/v1/courses/{course}/assignments",
        (401, 403, 201, 201),
        payload=assignment_json,
        **adds(Assignment),
    ),
    row("GET", "/api/v1/courses/{course}/assignments", API_SIGNED_IN_200),
    row("GET", "/api/v1/assignments/{assignment}", API_SIGNED_IN_200),
    row("GET", "/api/v1/assignments/{unreleased}", (401, 404, 200, 200)),
    row(
        "POST",
        "/api/v1/assignments/{assignment}/extensions",
        (401, 403, 201, 201),
        payload=extension_json,
        **adds(Extension),
    ),
    row(
        "POST",
        "/api/v1/assignments/{assignment}/overrides",
        (401, 403, 201, 201),
        payload=override_json,
        **adds(GradeOverride),
    ),
    row("GET", "/api/v1/assignments/{assignment}/grades", API_SIGNED_IN_200),
    row("GET", "/api/v1/courses/{course}/gradebook.csv", (401, 403, 200, 200)),
    row("GET", "/api/v1/courses/{course}/canvas.csv", (401, 403, 200, 200)),
    row("GET", "/api/v1/courses/{course}/audit", (401, 403, 200, 200)),
    row("GET", "/api/v1/courses/{other_course}/audit", (401, 404, 404, 200)),
    # Course pages: the same course roles as the API rows above.
    row("GET", "/courses", SIGNED_IN_200),
    row(
        "POST",
        "/courses",
        (LOGIN, 403, 303, 303),
        payload=with_csrf({"name": "Form course"}),
        **adds(Course),
    ),
    row("GET", "/courses/{course}", SIGNED_IN_200),
    row("GET", "/courses/{other_course}", (LOGIN, 404, 404, 200)),
    row("GET", "/courses/{course}/gradebook", (LOGIN, 403, 200, 200)),
    row("GET", "/courses/{course}/gradebook.csv", (LOGIN, 403, 200, 200)),
    row("GET", "/courses/{course}/canvas.csv", (LOGIN, 403, 200, 200)),
    row("GET", "/courses/{course}/roster", (LOGIN, 403, 200, 200)),
    row(
        "POST",
        "/courses/{course}/roster",
        (LOGIN, 403, 200, 200),
        payload=with_csrf({"action": "preview", "roster": "email\nnew@example.com\n"}),
    ),
    row("GET", "/courses/{course}/assignments/new", (LOGIN, 403, 200, 200)),
    row(
        "POST",
        "/courses/{course}/assignments/new",
        (LOGIN, 403, 303, 303),
        payload=with_csrf({"name": "Form", "problems": "hello", "release_at": "2026-01-01T00:00"}),
        **adds(Assignment),
    ),
    row("GET", "/assignments/{assignment}/submissions", (LOGIN, 403, 200, 200)),
    row("GET", "/assignments/{unreleased}/submissions", (LOGIN, 404, 200, 200)),
    row("GET", "/assignments/{assignment}/extensions", (LOGIN, 403, 200, 200)),
    row(
        "POST",
        "/assignments/{assignment}/extensions",
        (LOGIN, 403, 303, 303),
        payload=extension_form,
        **adds(Extension),
    ),
    row("GET", "/courses/{course}/audit", (LOGIN, 403, 200, 200)),
    row(
        "PATCH",
        "/api/v1/courses/{course}",
        (401, 403, 200, 200),
        payload=json_body({"late_days": 1}),
    ),
    row(
        "PATCH",
        "/api/v1/assignments/{assignment}",
        (401, 403, 200, 200),
        payload=json_body({"late": []}),
    ),
    row(
        "DELETE",
        "/api/v1/courses/{course}/roster/{member_email}",
        (401, 403, 200, 200),
        prepare=throwaway_member,
        effect=member_removed,
    ),
    # Joining last: it makes everyone a member of the open course.
    row("POST", "/api/v1/courses/{open_course}/enrol", API_SIGNED_IN_200),
    row("POST", "/api/v1/courses/join", API_SIGNED_IN_200, payload=json_body({"code": "open-1"})),
    row("POST", "/courses/join", (LOGIN, 303, 303, 303), payload=with_csrf({"code": "open-1"})),
)

#: WS /submissions/<id>/live: True when the role gets the snapshot, else the close code.
LIVE_ROWS: tuple[tuple[str, tuple[bool | int, ...]], ...] = (
    ("/submissions/{student_sub}/live", (1008, True, True, True)),
    ("/submissions/{other_sub}/live", (1008, 4404, True, True)),
    (f"/submissions/{MISSING_ID}/live", (1008, 4404, 4404, 4404)),
)

#: Values that make every path template of the tables match a rule (for the coverage test).
SAMPLE_VALUES = {
    "student_sub": 1,
    "other_sub": 2,
    "rejudge_sub": 3,
    "target": 4,
    "token": 5,
    "other_token": 6,
    "course": 7,
    "other_course": 8,
    "assignment": 9,
    "unreleased": 10,
    "open_course": 11,
    "member_email": "x@example.com",
}


# ---------------------------------------------------------------- the world the rows act on


def app_overrides() -> dict[str, Any]:
    """Return the settings of the matrix's app: the fake provider's client, no rate limit."""
    return {
        "google_client_id": CLIENT_ID,
        "google_client_secret": CLIENT_SECRET,
        "oidc_issuer": GOOGLE,
        "submission_rate_limit": RateLimit(10_000, 60),
        "evaluator_concurrency": 4,
    }


async def import_pdf_problem(app: Quart, tmp: Path) -> None:
    """Import a copy of hello whose only statement is a PDF, as problem ``manual``."""
    package = copy_example(tmp / "manual")
    write_statement(package, {"problem.en.pdf": b"%PDF-1.4\n% a test statement\n"})
    await run_import(app, package, slug="manual")


async def signed_in_client(app: Quart, user: User | None) -> tuple[QuartClient, str]:
    """Return a client signed in as ``user`` (anonymous for None) and its CSRF token."""
    client = cast(QuartClient, app.test_client())
    if user is None:
        # A browser that once rendered a form keeps its CSRF token after signing out.
        async with client.session_transaction() as session:
            session["csrf_token"] = "anonymous-csrf-token"
        return client, "anonymous-csrf-token"
    await sign_in_as(client, user)
    token = await csrf_token(client, "/")
    assert token, "the home page of a signed-in person renders no CSRF token"
    return client, token


async def wait_judged(app: Quart, submission_ids: list[int]) -> None:
    """Wait until the submissions are judged, so their event streams end at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        async with get_db(app).session() as db:
            statuses = set(
                (
                    await db.scalars(
                        select(Submission.status).where(Submission.id.in_(submission_ids))
                    )
                ).all()
            )
        if statuses == {Status.DONE}:
            return
        assert loop.time() < deadline, f"submissions {submission_ids} still {statuses}"
        await asyncio.sleep(0.05)


async def build_world(app: Quart, tmp: Path) -> World:
    """Import the problems, make a person, client and token per role, and two submissions."""
    world = World(
        app=app, tmp=tmp, package_zip=zip_bytes(example_path("hello"), zipfile.ZIP_STORED)
    )
    await import_example(app, "hello")
    await import_example(app, "bigio", hidden=True)
    await import_example(app, "hello", slug="toggle")
    await import_pdf_problem(app, tmp)
    for role, model_role in USER_ROLES.items():
        world.users[role] = await create_user(app, role=model_role)
    other = await create_user(app)
    for role in ROLES:
        user = world.users.get(role)
        world.clients[role], world.csrf[role] = await signed_in_client(app, user)
        if user is not None:
            async with get_db(app).session() as db:
                world.tokens[role], _ = await create_token(db, user, f"matrix-{role}")
                await db.commit()
    files = [("hello.py", HELLO_PY.encode())]
    mine = await submit(app, world.users["student"], "hello", "python3", files)
    theirs = await submit(app, other, "hello", "python3", files)
    to_rejudge = await submit(app, other, "hello", "python3", files)
    await wait_judged(app, [mine.id, theirs.id, to_rejudge.id])
    world.values = {
        **await build_courses(app, world),
        "student_sub": mine.id,
        "other_sub": theirs.id,
        "rejudge_sub": to_rejudge.id,
        "other_token": await new_token_id(app, other, "not-yours"),
    }
    return world


async def build_courses(app: Quart, world: World) -> dict[str, int]:
    """Make the staff user's course (the student enrolled, two assignments) and another."""
    async with get_db(app).session() as db:
        teacher = await db.get(User, world.users["staff"].id)
        admin = await db.get(User, world.users["admin"].id)
        assert teacher is not None and admin is not None
        course = await create_course(db, teacher, "Matrix", "", "UTC")
        other = await create_course(db, admin, "Not yours", "", "UTC")
        access = await course_access(db, course.id, teacher)
        roster = parse_roster(f"email,section\n{world.users['student'].email},Lab A\n")
        await import_roster(db, access, roster, apply=True)
        released = await create_assignment(
            db,
            access,
            AssignmentInput("Released", [("hello", 1.0)], utcnow(), utcnow() + timedelta(1), []),
        )
        later = utcnow() + timedelta(days=30)
        unreleased = await create_assignment(
            db, access, AssignmentInput("Later", [("toggle", 1.0)], later, None, [])
        )
        opened = await create_course(db, admin, "Open", "", "UTC")
        opened.join_code, opened.self_enrol = "open-1", True
        await db.commit()
        return {
            "open_course": opened.id,
            "course": course.id,
            "other_course": other.id,
            "assignment": released.id,
            "unreleased": unreleased.id,
        }


# ---------------------------------------------------------------- running a row


@dataclass(frozen=True)
class Outcome:
    """What one role got from one row."""

    status: int
    location: str


def allowed(expected: Expected) -> bool:
    """Return whether an expected status means the request did what it asked."""
    return isinstance(expected, int) and 200 <= expected < 400


def matches(expected: Expected, got: Outcome) -> bool:
    """Return whether ``got`` is what was ``expected``."""
    if expected == LOGIN:
        return got.status == 302 and got.location.startswith("/login")
    return got.status == expected


async def request_as(world: World, row: Row, role: str) -> tuple[Outcome, dict[str, Any]]:
    """Send the row's request as ``role``; return the outcome and the values used."""
    values: dict[str, Any] = {**world.values, "api": row.api}
    if row.prepare is not None:
        values |= await row.prepare(world, role)
    client = world.clients[role]
    if row.fresh_session:
        user = None
        if role != "anonymous":
            user = await create_user(world.app, role=USER_ROLES[role])
        client, values["csrf"] = await signed_in_client(world.app, user)
    kwargs = row.payload(world, role, values) if row.payload is not None else {}
    headers: dict[str, str] = kwargs.pop("headers", {})
    if row.api and role != "anonymous":
        headers["Authorization"] = f"Bearer {world.tokens[role]}"
    path = row.path.format(**values)
    response = await client.open(path, method=row.method, headers=headers, **kwargs)
    await response.get_data()
    return Outcome(response.status_code, response.headers.get("Location", "")), values


async def run_table(world: World) -> list[str]:
    """Run every row as every role; return a line per mismatch."""
    mismatches: list[str] = []
    for entry in ROWS:
        for role, expected in zip(ROLES, entry.expected, strict=True):
            got, values = await request_as(world, entry, role)
            if not matches(expected, got):
                where = f" -> {got.location}" if got.location else ""
                mismatches.append(
                    f"{entry.label} as {role}: expected {expected}, got {got.status}{where}"
                )
            if entry.effect is not None:
                changed = await entry.effect(world, values)
                if changed != allowed(expected):
                    what = "did not happen" if allowed(expected) else "happened although refused"
                    mismatches.append(f"{entry.label} as {role}: the change {what}")
    return mismatches


# ---------------------------------------------------------------- the tests


async def test_permission_matrix(make_app: AppFactory, tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        FakeProvider(router)
        async with make_app(
            setup=judge_on(FakeSandbox(program=hello_program)), **app_overrides()
        ) as app:
            world = await build_world(app, tmp_path)
            mismatches = await run_table(world)
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches)


async def test_live_verdicts_matrix(make_app: AppFactory, tmp_path: Path) -> None:
    async with make_app(
        setup=judge_on(FakeSandbox(program=hello_program)), **app_overrides()
    ) as app:
        world = await build_world(app, tmp_path)
        mismatches = []
        for template, expectations in LIVE_ROWS:
            path = template.format(**world.values)
            for role, expected in zip(ROLES, expectations, strict=True):
                got = await live_outcome(world.clients[role], path)
                if got != expected:
                    mismatches.append(f"WS {template} as {role}: expected {expected}, got {got}")
    assert not mismatches, "\n".join(mismatches)


async def live_outcome(client: QuartClient, path: str) -> bool | int:
    """Open the live WebSocket; return True when it sent the snapshot, else the close code."""
    client.websocket_connection_class = ClosingWebsocketConnection
    messages: list[dict[str, Any]] = []
    async with client.websocket(path, headers={"Origin": TEST_PUBLIC_URL}) as socket:
        while True:
            try:
                messages.append(json.loads(await asyncio.wait_for(socket.receive(), 5)))
            except WebsocketClosed as closed:
                code = closed.code
                break
    if not messages:
        return code
    snapshot = messages[0]
    return code == 1000 and snapshot["type"] == "snapshot" and snapshot["state"] is not None


def test_every_route_has_a_row(tmp_path: Path) -> None:
    app = create_app(
        app_settings(database_url=sqlite_url(tmp_path / "unused.db"), data_dir=tmp_path)
    )
    adapter = app.url_map.bind("localhost")
    covered: set[tuple[str, str]] = set()
    unmatched: list[str] = []
    for entry in ROWS:
        covered.add((matched_endpoint(adapter, entry.path, entry.method, unmatched), entry.method))
    for template, _ in LIVE_ROWS:
        covered.add((matched_endpoint(adapter, template, "GET", unmatched, websocket=True), "WS"))
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        methods = {"WS"} if rule.websocket else set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        routes |= {(rule.endpoint, method) for method in methods}
    missing = sorted(routes - covered)
    assert not unmatched, f"rows that match no route: {unmatched}"
    assert not missing, f"routes without a row in the permission matrix: {missing}"


def matched_endpoint(
    adapter: Any, template: str, method: str, unmatched: list[str], *, websocket: bool = False
) -> str:
    """Return the endpoint a row's path reaches (noting the row when it reaches none)."""
    path = template.format(**SAMPLE_VALUES)
    try:
        endpoint, _ = adapter.match(path, method=method, websocket=websocket)
    except (HTTPException, RequestRedirect):
        unmatched.append(f"{method} {template}")
        return ""
    return str(endpoint)
