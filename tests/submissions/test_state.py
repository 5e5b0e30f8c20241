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
