"""Staff change a problem's feedback policy from its page; a bad one changes nothing."""

from __future__ import annotations

from service.models import Role
from tests.factories import AppFactory, csrf_token, import_example, load_problem, signed_in

POLICY = '{"groups": {"secret": {"level": "summary"}}}'


async def test_staff_save_a_policy_from_the_problem_page(make_app: AppFactory) -> None:
    async with make_app() as app:
        await import_example(app, "groups")
        staff = app.test_client()
        await signed_in(staff, Role.STAFF)
        page = await (await staff.get("/problems/groups")).get_data(as_text=True)
        token = await csrf_token(staff, "/problems/groups")
        saved = await staff.post(
            "/problems/groups/feedback", form={"csrf_token": token, "policy": POLICY}
        )
        after = await (await staff.get("/problems/groups")).get_data(as_text=True)
        problem = await load_problem(app, "groups")
        student = app.test_client()
        await signed_in(student)
        student_page = await (await student.get("/problems/groups")).get_data(as_text=True)
    assert "Change the feedback policy" in page and 'name="policy"' in page
    assert saved.status_code == 303 and saved.headers["Location"] == "/problems/groups"
    assert "Feedback policy saved: Sample tests: full feedback." in after
    assert problem is not None and problem.feedback_policy == {
        "groups": {"secret": {"level": "summary"}}
    }
    assert "Hidden tests: only counted as passed or not." in student_page
    assert "Change the feedback policy" not in student_page


async def test_a_bad_policy_from_the_form_changes_nothing(make_app: AppFactory) -> None:
    async with make_app() as app:
        await import_example(app, "groups")
        staff = app.test_client()
        await signed_in(staff, Role.STAFF)
        token = await csrf_token(staff, "/problems/groups")
        shown = []
        for text in ("{not json", '{"groups": {"secret": {"level": "lots"}}}'):
            await staff.post(
                "/problems/groups/feedback", form={"csrf_token": token, "policy": text}
            )
            shown.append(await (await staff.get("/problems/groups")).get_data(as_text=True))
        missing = await staff.post(
            "/problems/nope/feedback", form={"csrf_token": token, "policy": POLICY}
        )
        problem = await load_problem(app, "groups")
    assert "The policy is not JSON" in shown[0] and "unchanged" in shown[0]
    assert "The policy was not changed: group &#39;secret&#39;: level must be one of" in shown[1]
    assert problem is not None and problem.feedback_policy is None
    assert missing.status_code == 404
