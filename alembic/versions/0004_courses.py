"""Courses: members, sections, assignments, extensions, overrides, audit log; problem sets move in.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A server that ran before keeps its problems, submissions and scoreboard: when problems exist,
the upgrade makes one course, "Problem sets", with an assignment per ``problem_set`` (released
at once, no due time, every problem weighing 1). Admins become its teachers, staff its TAs,
and everyone else who submitted something its students, so its gradebook shows what the
scoreboard showed. Two accounts sharing an address join once (the older one). The
``problem_set`` column stays: the scoreboard still reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The release time of the assignments made from problem sets (they were always open).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COURSE_NAME = "Problem sets"


def upgrade() -> None:
    """Create the course tables, then move the problem sets into a course."""
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("late_days", sa.Integer(), nullable=False),
        sa.Column("ta_may_extend", sa.Boolean(), nullable=False),
        sa.Column("join_code", sa.String(length=32), nullable=True),
        sa.Column("self_enrol", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_courses_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("join_code", name=op.f("uq_courses_join_code")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("release_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.JSON(), nullable=False),
        sa.Column("max_submissions", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_assignments_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_course_id"), ["course_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_audit_log_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_audit_log_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_log_course_created", ["course_id", "created_at"], unique=False
        )

    op.create_table(
        "course_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_sections_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_sections")),
        sa.UniqueConstraint("course_id", "name", name=op.f("uq_course_sections_course_id")),
    )
    op.create_table(
        "assignment_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_assignment_problems_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_assignment_problems_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_problems")),
        sa.UniqueConstraint(
            "assignment_id", "problem_id", name=op.f("uq_assignment_problems_assignment_id")
        ),
    )
    with op.batch_alter_table("assignment_problems", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_problems_problem_id"), ["problem_id"], unique=False
        )

    op.create_table(
        "course_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum("teacher", "ta", "student", name="courserole", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_members_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["course_sections.id"],
            name=op.f("fk_course_members_section_id_course_sections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_course_members_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_members")),
        sa.UniqueConstraint("course_id", "email", name=op.f("uq_course_members_course_id")),
    )
    with op.batch_alter_table("course_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_course_members_user_course", ["user_id", "course_id"], unique=False
        )

    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_extensions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["users.id"],
            name=op.f("fk_extensions_granted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["course_members.id"],
            name=op.f("fk_extensions_member_id_course_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["course_sections.id"],
            name=op.f("fk_extensions_section_id_course_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extensions")),
    )
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extensions_assignment_id"), ["assignment_id"], unique=False
        )

    op.create_table(
        "grade_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("credit", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_grade_overrides_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["course_members.id"],
            name=op.f("fk_grade_overrides_member_id_course_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["users.id"],
            name=op.f("fk_grade_overrides_set_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_overrides")),
    )
    with op.batch_alter_table("grade_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grade_overrides_assignment_id"), ["assignment_id"], unique=False
        )

    move_problem_sets(op.get_bind())


def downgrade() -> None:
    """Drop the course tables (problems and submissions are untouched)."""
    with op.batch_alter_table("grade_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grade_overrides_assignment_id"))

    op.drop_table("grade_overrides")
    with op.batch_alter_table("extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extensions_assignment_id"))

    op.drop_table("extensions")
    with op.batch_alter_table("course_members", schema=None) as batch_op:
        batch_op.drop_index("ix_course_members_user_course")

    op.drop_table("course_members")
    with op.batch_alter_table("assignment_problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_problems_problem_id"))

    op.drop_table("assignment_problems")
    op.drop_table("course_sections")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_course_created")

    op.drop_table("audit_log")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_course_id"))

    op.drop_table("assignments")
    op.drop_table("courses")


def move_problem_sets(connection: sa.Connection) -> None:
    """Make the "Problem sets" course from the stored problems and who used them."""
    meta = sa.MetaData()
    problems = sa.Table("problems", meta, autoload_with=connection)
    users = sa.Table("users", meta, autoload_with=connection)
    submissions = sa.Table("submissions", meta, autoload_with=connection)
    rows = connection.execute(
        sa.select(problems.c.id, problems.c.problem_set).order_by(
            problems.c.problem_set, problems.c.name, problems.c.slug
        )
    ).all()
    if not rows:
        return
    courses = sa.table(
        "courses",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("term", sa.String),
        sa.column("timezone", sa.String),
        sa.column("late_days", sa.Integer),
        sa.column("ta_may_extend", sa.Boolean),
        sa.column("self_enrol", sa.Boolean),
        sa.column("created_by_id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    owner = connection.scalar(sa.select(sa.func.min(users.c.id)).where(users.c.role == "admin"))
    course_id = connection.execute(
        courses.insert()
        .values(
            name=COURSE_NAME,
            term="",
            timezone="UTC",
            late_days=0,
            ta_may_extend=False,
            self_enrol=False,
            created_by_id=owner,
            created_at=now,
        )
        .returning(courses.c.id)
    ).scalar_one()
    _add_assignments(connection, course_id, rows, now)
    _add_members(connection, course_id, users, submissions, now)


def _add_assignments(
    connection: sa.Connection,
    course_id: int,
    rows: Sequence[sa.Row[tuple[int, str]]],
    now: datetime,
) -> None:
    assignments = sa.table(
        "assignments",
        sa.column("id", sa.Integer),
        sa.column("course_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("release_at", sa.DateTime(timezone=True)),
        sa.column("due_at", sa.DateTime(timezone=True)),
        sa.column("late", sa.JSON),
        sa.column("max_submissions", sa.Integer),
        sa.column("weight", sa.Float),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    links = sa.table(
        "assignment_problems",
        sa.column("assignment_id", sa.Integer),
        sa.column("problem_id", sa.Integer),
        sa.column("weight", sa.Float),
        sa.column("position", sa.Integer),
    )
    by_set: dict[str, list[int]] = {}
    for problem_id, problem_set in rows:
        by_set.setdefault(problem_set, []).append(problem_id)
    for name, problem_ids in by_set.items():
        assignment_id = connection.execute(
            assignments.insert()
            .values(
                course_id=course_id,
                name=name,
                release_at=EPOCH,
                due_at=None,
                late=[],
                max_submissions=None,
                weight=1.0,
                created_at=now,
            )
            .returning(assignments.c.id)
        ).scalar_one()
        connection.execute(
            links.insert(),
            [
                {"assignment_id": assignment_id, "problem_id": pid, "weight": 1.0, "position": n}
                for n, pid in enumerate(problem_ids)
            ],
        )


def _add_members(
    connection: sa.Connection,
    course_id: int,
    users: sa.Table,
    submissions: sa.Table,
    now: datetime,
) -> None:
    submitted = sa.select(submissions.c.user_id).distinct()
    people = connection.execute(
        sa.select(users.c.id, users.c.email, users.c.name, users.c.role)
        .where(sa.or_(users.c.role.in_(("admin", "staff")), users.c.id.in_(submitted)))
        .order_by(users.c.id)
    ).all()
    members = sa.table(
        "course_members",
        sa.column("course_id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("email", sa.String),
        sa.column("name", sa.String),
        sa.column("role", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    course_role = {"admin": "teacher", "staff": "ta"}
    seen: set[str] = set()
    values = []
    for user_id, email, name, role in people:
        address = email.strip().lower()
        if address in seen:
            continue
        seen.add(address)
        values.append(
            {
                "course_id": course_id,
                "user_id": user_id,
                "email": address,
                "name": name,
                "role": course_role.get(role, "student"),
                "created_at": now,
            }
        )
    if values:
        connection.execute(members.insert(), values)
