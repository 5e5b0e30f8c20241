"""A student solves problems in the browser: type, submit, watch the verdicts arrive live."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser import Browser

SPIN_C = "int main(void) { volatile unsigned long steps = 0; for (;;) steps++; }\n"
BROKEN_C = "int main(void) { return 0 }\n"


@pytest.fixture
def student(browser: Browser) -> Iterator[Browser]:
    """A browser signed in as the student."""
    browser.sign_in("student")
    yield browser


def test_an_accepted_solution_fills_in_live(student: Browser) -> None:
    student.submit("hello", "python3", 'print("Hello World!")', typed=True)

    student.wait_until_judged()

    assert student.verdict() == "Accepted (AC)"
    assert [row[2] for row in student.rows()] == ["Accepted (AC)", "Accepted (AC)"]
    assert student.page.get_by_text("2 of 2 tests judged").is_visible()


def test_a_wrong_answer_names_the_failing_test(student: Browser) -> None:
    student.submit("hello", "python3", 'print("Hello, World")\n')

    student.wait_until_judged()

    assert student.verdict() == "Wrong answer on test 1 (WA)"
    first = student.rows()[0]
    assert first[1] == "sample/1"
    assert first[2] == "Wrong answer (WA)"


def test_a_compile_error_shows_the_compiler_and_no_test_as_pending(student: Browser) -> None:
    student.submit("hello", "c", BROKEN_C)

    student.wait_until_judged()

    assert student.verdict() == "Compile error (CE)"
    output = student.page.locator("[data-compile-output]")
    assert output.is_visible()
    assert "error" in output.inner_text()
    assert [row[2] for row in student.rows()] == ["not run", "not run"]
    assert student.page.locator("[data-test-rows] tr.pending").count() == 0
    assert student.page.get_by_text("No test ran: the program did not compile").is_visible()


def test_a_time_limit_shows_the_summary_line_live(student: Browser) -> None:
    student.submit("limits", "c", SPIN_C)

    student.wait_until_judged()

    assert student.verdict() == "Time limit exceeded on test 1 (TLE)"
    summary = student.page.locator("[data-judge-message]")
    assert summary.is_visible()
    assert "sample/1" in summary.inner_text()


def test_a_socket_that_never_answers_falls_back_to_polling(student: Browser) -> None:
    # A proxy that swallows the upgrade: the socket opens to nothing and never hears a word.
    student.page.route_web_socket("**/live", lambda socket: None)

    student.submit("limits", "c", SPIN_C)

    student.wait_until_judged()
    assert student.verdict() == "Time limit exceeded on test 1 (TLE)"


def test_code_over_the_limit_is_refused_and_kept(student: Browser) -> None:
    too_long = "# " + "x" * (64 * 1024) + "\nprint(1)\n"

    student.submit("hello", "python3", too_long, landing="**/problems/hello/submissions")

    assert student.page.get_by_text("Submission refused").is_visible()
    assert "65536" in student.page.locator(".refusal-message").inner_text()
    assert student.page.get_by_label("Source").input_value() == too_long
    student.audit()


def test_a_stale_form_loses_no_code(student: Browser) -> None:
    student.open("/problems/hello")
    student.page.get_by_label("Source code").fill('print("kept")\n')
    # The session's form token changed since the page was served (signed in elsewhere, say).
    student.page.locator("form.problem-form input[name=csrf_token]").evaluate(
        "field => { field.value = 'stale' }"
    )
    student.page.get_by_role("button", name="Submit", exact=True).click()
    student.page.wait_for_load_state()
    assert "CSRF" in student.page.content()

    student.open("/problems/hello")

    assert student.page.get_by_label("Source code").input_value() == 'print("kept")\n'
    assert student.page.get_by_text("Your draft, kept in this browser").is_visible()


def test_the_language_last_chosen_is_chosen_again(student: Browser) -> None:
    student.open("/problems/hello")
    student.page.get_by_label("Language").select_option("c")

    student.open("/problems/limits")

    assert student.page.get_by_label("Language").input_value() == "c"
