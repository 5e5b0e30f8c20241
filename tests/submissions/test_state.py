"""The state of a submission as its page, the API and the live views show it."""

from __future__ import annotations

from typing import Any

from service.db import get_db
from service.submissions.state import submission_state
from tests.factories import create_user, import_example


async def test_a_submission_without_a_judging_has_an_empty_state(make_app: Any) -> None:
    from service.models import Submission

    async with make_app(start_evaluator=False) as app:
        problem = await import_example(app)
        user = await create_user(app)
        async with get_db(app).session() as db:
            row = Submission(user_id=user.id, problem_id=problem.id, language="c")
            db.add(row)
            await db.commit()
            state = await submission_state(db, row.id)
    assert state is not None
    assert (state["status"], state["tests"], state["judging_id"]) == ("queued", [], None)
    assert state["tests_total"] == problem.test_count and state["judgings"] == 0


async def test_a_state_read_while_another_process_commits_is_never_torn(
    make_app: Any, database_url: str
) -> None:
    # A state read used to take the submission row and the judging count in two statements:
    # a commit in between gave "queued" with one judging, and the live views sent a spurious
    # snapshot (a flaky SSE test). The row and the count now come from one statement.
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import Session

    from service.models import Judging, Status, Submission

    async with make_app(start_evaluator=False) as app:
        problem = await import_example(app)
        user = await create_user(app)
        async with get_db(app).session() as db:
            row = Submission(user_id=user.id, problem_id=problem.id, language="python3")
            db.add(row)
            await db.commit()
            number = row.id
        other_process = create_engine(database_url.replace("+aiosqlite", ""))
        committed: list[int] = []

        def commit_a_judging_meanwhile(*args: Any) -> None:
            statement = args[2]
            if committed or "FROM submissions" not in statement:
                return
            with Session(other_process) as db:
                judging = Judging(
                    submission_id=number, package_hash=problem.package_hash, status=Status.DONE
                )
                db.add(judging)
                db.flush()
                submission = db.get(Submission, number)
                assert submission is not None
                submission.judging_id, submission.status = judging.id, Status.DONE
                db.commit()
                committed.append(judging.id)

        engine = get_db(app).engine.sync_engine
        event.listen(engine, "after_cursor_execute", commit_a_judging_meanwhile)
        try:
            async with get_db(app).session() as db:
                state = await submission_state(db, number)
        finally:
            event.remove(engine, "after_cursor_execute", commit_a_judging_meanwhile)
            other_process.dispose()
    assert committed and state is not None
    seen = (state["status"], state["judging_id"], state["judgings"])
    assert seen in {("queued", None, 0), ("done", committed[0], 1)}
