"""The Alembic migrations build exactly the schema the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Table, create_engine, inspect, text

from service import migrations
from service.db import create_engine as service_engine
from service.models import Base
from tests.factories import sqlite_url

ALL_TABLES = {
    "alembic_version",
    "users",
    "login_sessions",
    "problems",
    "package_versions",
    "submissions",
    "submission_files",
    "judgings",
    "test_results",
    "api_tokens",
    "courses",
    "course_sections",
    "course_members",
    "assignments",
    "assignment_problems",
    "extensions",
    "grade_overrides",
    "audit_log",
}


def schema_diff(sync_url: str) -> list[Any]:
    """Return Alembic's autogenerate diff between the database and the models."""
    engine = create_engine(sync_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def tables(sync_url: str) -> set[str]:
    """Return the table names of a database."""
    engine = create_engine(sync_url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    migrations.upgrade(sqlite_url(path), quiet=True)
    assert tables(f"sqlite:///{path}") == ALL_TABLES
    assert schema_diff(f"sqlite:///{path}") == []


def test_sqlite_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    path = tmp_path / "roundtrip.db"
    migrations.upgrade(sqlite_url(path), quiet=True)
    migrations.downgrade(sqlite_url(path), "base", quiet=True)
    assert tables(f"sqlite:///{path}") == {"alembic_version"}
    migrations.upgrade(sqlite_url(path), quiet=True)
    assert schema_diff(f"sqlite:///{path}") == []


def test_template_database_is_at_head(migrated_template: Path) -> None:
    engine = create_engine(f"sqlite:///{migrated_template}")
    try:
        with engine.connect() as connection:
            assert migrations.current_revision(connection) == migrations.head_revision()
    finally:
        engine.dispose()


def test_postgres_migrations_match_models(postgres_database: str) -> None:
    migrations.upgrade(postgres_database, quiet=True)
    assert tables(postgres_database) == ALL_TABLES
    assert schema_diff(postgres_database) == []
    migrations.downgrade(postgres_database, "base", quiet=True)
    assert tables(postgres_database) == {"alembic_version"}


async def test_migrations_run_on_a_shared_connection_inside_a_loop(tmp_path: Path) -> None:
    # The connection-sharing path lets async code migrate without a second event loop.
    engine = service_engine(sqlite_url(tmp_path / "shared.db"))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrations.upgrade_connection)
            current = await connection.run_sync(migrations.current_revision)
            assert current == migrations.head_revision()
    finally:
        await engine.dispose()
    assert schema_diff(f"sqlite:///{tmp_path / 'shared.db'}") == []


def insert_row(connection: Connection, name: str, /, **values: Any) -> None:
    """Insert a row into table ``name`` as it is now, filling other required columns."""
    table = Table(name, MetaData(), autoload_with=connection)
    filler: dict[type[Any], Any] = {
        int: 1,
        str: "x",
        float: 1.0,
        bool: False,
        datetime: datetime(2026, 1, 1),
    }
    for column in table.columns:
        if column.name not in values and not column.nullable and not column.primary_key:
            values[column.name] = filler[column.type.python_type]
    connection.execute(table.insert().values(**values))


def test_message_parts_arrive_without_touching_stored_judgings(tmp_path: Path) -> None:
    # 0003 adds judgings.message_parts: older judgings keep their message and get no parts.
    path = tmp_path / "upgrade.db"
    migrations.upgrade(sqlite_url(path), "0002", quiet=True)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            insert_row(connection, "users", id=1, sub="s1", role="student")
            insert_row(connection, "problems", id=1)
            insert_row(connection, "submissions", id=1, user_id=1, problem_id=1, status="done")
            insert_row(
                connection,
                "judgings",
                id=1,
                submission_id=1,
                status="done",
                message="sample/1: wrong answer",
            )
        migrations.upgrade(sqlite_url(path), quiet=True)
        with engine.connect() as connection:
            row = connection.execute(text("SELECT message, message_parts FROM judgings")).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("sample/1: wrong answer", None)


def test_problem_sets_become_a_course_the_admin_teaches(tmp_path: Path) -> None:
    # 0004 keeps a running server's work: each problem set is an assignment of one course.
    path = tmp_path / "courses.db"
    migrations.upgrade(sqlite_url(path), "0003", quiet=True)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            insert_row(connection, "users", id=1, sub="s1", role="admin", email="Boss@School.edu")
            insert_row(connection, "users", id=2, sub="s2", role="student", email="ana@school.edu")
            insert_row(connection, "users", id=3, sub="s3", role="student", email="idle@school.edu")
            insert_row(connection, "users", id=4, sub="s4", role="staff", email="ta@school.edu")
            insert_row(connection, "users", id=5, sub="s5", role="student", email="ana@school.edu")
            for problem_id, slug, problem_set in (
                (1, "a", "week1"),
                (2, "b", "week1"),
                (3, "c", "week2"),
            ):
                insert_row(
                    connection,
                    "problems",
                    id=problem_id,
                    slug=slug,
                    name=slug,
                    problem_set=problem_set,
                )
            for user_id in (2, 5):
                insert_row(
                    connection,
                    "submissions",
                    id=user_id,
                    user_id=user_id,
                    problem_id=1,
                    status="done",
                )
        migrations.upgrade(sqlite_url(path), quiet=True)
        with engine.connect() as connection:
            course = connection.execute(text("SELECT id, name, created_by_id FROM courses")).all()
            assignments = connection.execute(
                text(
                    "SELECT a.name, group_concat(p.problem_id) FROM assignments a"
                    " JOIN assignment_problems p ON p.assignment_id = a.id"
                    " GROUP BY a.id ORDER BY a.name"
                )
            ).all()
            members = connection.execute(
                text("SELECT user_id, email, role FROM course_members ORDER BY user_id")
            ).all()
            submissions = connection.execute(text("SELECT count(*) FROM submissions")).scalar()
    finally:
        engine.dispose()
    assert [tuple(row) for row in course] == [(1, "Problem sets", 1)]
    assert [tuple(row) for row in assignments] == [("week1", "1,2"), ("week2", "3")]
    assert [tuple(row) for row in members] == [
        (1, "boss@school.edu", "teacher"),
        (2, "ana@school.edu", "student"),
        (4, "ta@school.edu", "ta"),
    ]
    assert submissions == 2


def test_an_empty_server_gets_no_course(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    migrations.upgrade(sqlite_url(path), quiet=True)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM courses")).scalar() == 0
    finally:
        engine.dispose()


def test_feedback_columns_arrive_without_touching_stored_results(tmp_path: Path) -> None:
    # 0005 adds problems.test_names and feedback_policy (None: the defaults) and each test
    # result's kept output (empty on older results); every stored row keeps its values.
    path = tmp_path / "feedback.db"
    migrations.upgrade(sqlite_url(path), "0003", quiet=True)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            insert_row(connection, "users", id=1, role="student")
            insert_row(connection, "problems", id=1, slug="kept", test_count=3)
            insert_row(connection, "submissions", id=1, user_id=1, problem_id=1, status="done")
            insert_row(connection, "judgings", id=1, submission_id=1, status="done")
            insert_row(
                connection,
                "test_results",
                id=1,
                judging_id=1,
                index=0,
                name="secret/1",
                verdict="WA",
                message="expected 42",
            )
        migrations.upgrade(sqlite_url(path), quiet=True)
        with engine.connect() as connection:
            problem = connection.execute(
                text("SELECT slug, test_count, test_names, feedback_policy FROM problems")
            ).one()
            result = connection.execute(
                text("SELECT name, verdict, message, output, output_bytes FROM test_results")
            ).one()
    finally:
        engine.dispose()
    assert tuple(problem) == ("kept", 3, None, None)
    assert tuple(result) == ("secret/1", "WA", "expected 42", "", 0)
