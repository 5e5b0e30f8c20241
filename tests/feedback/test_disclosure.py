"""The one filter, on its own: a state and live events as a student sees them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.feedback.disclosure import Disclosure, done_event
from service.feedback.policy import FeedbackPolicy

NOW = datetime(2026, 12, 4, tzinfo=UTC)
NAMES = ("sample/1", "secret/a/1", "secret/b/1", "secret/c/1")
SUMMARY_B_HIDDEN_C = FeedbackPolicy.from_json(
    {"groups": {"secret/b": {"level": "summary"}, "secret/c": {"level": "hidden"}}}
)


def result(index: int, name: str, verdict: str) -> dict[str, Any]:
    """Return a stored test result as the state holds it."""
    return {
        "index": index,
        "name": name,
        "verdict": verdict,
        "time_ms": 10 + index,
        "memory_kb": 900,
        "message": f"about {name}",
    }


def state(verdicts: tuple[str, ...]) -> dict[str, Any]:
    """Return a done state whose tests got ``verdicts`` in order."""
    tests = [
        result(i, name, verdict)
        for i, (name, verdict) in enumerate(zip(NAMES, verdicts, strict=True))
    ]
    first = next((v for v in verdicts if v != "AC"), "AC")
    return {
        "status": "done",
        "verdict": first,
        "score": sum(v == "AC" for v in verdicts) / len(verdicts),
        "tests": tests,
        "tests_total": len(NAMES),
        "tests_done": len(tests),
        "message": "",
        "message_parts": [
            {"text": "stopped: budget", "test": None, "internal": False},
            {"text": "expected 7", "test": "secret/a/1", "internal": False},
            {"text": "hi", "test": "sample/1", "internal": False},
        ],
    }


def test_a_student_sees_each_group_at_its_level() -> None:
    seen = Disclosure(SUMMARY_B_HIDDEN_C, NOW, 0, test_names=NAMES).state(
        state(("AC", "WA", "WA", "WA"))
    )
    assert [(t["index"], t["name"], t["message"]) for t in seen["tests"]] == [
        (0, "sample/1", "about sample/1"),
        (1, "secret/a/1", ""),
    ]
    assert seen["summary"] == {"passed": 0, "done": 1, "total": 1}
    assert (seen["tests_total"], seen["tests_done"]) == (2, 2)
    assert (seen["verdict"], seen["score"]) == ("WA", None)  # secret/a decides; c is hidden
    assert seen["message"] == "sample/1: hi"  # no secret part, no judge's note
    assert "message_parts" not in seen


def test_without_the_problems_test_names_the_results_say_what_is_left_out() -> None:
    seen = Disclosure(SUMMARY_B_HIDDEN_C, NOW, 0).state(state(("AC", "AC", "WA", "AC")))
    assert seen["tests_total"] == 2 and seen["summary"]["total"] == 1
    assert (seen["verdict"], seen["score"]) == (None, None)  # a summary test failed


def test_the_judges_notes_show_while_every_test_shows_its_verdict() -> None:
    seen = Disclosure(FeedbackPolicy(), NOW, 0, test_names=NAMES).state(
        state(("AC", "WA", "AC", "AC"))
    )
    assert seen["message"] == "stopped: budget; sample/1: hi"
    assert (seen["verdict"], seen["score"]) == ("WA", 0.75) and seen["summary"] is None


def test_staff_see_the_state_whole() -> None:
    whole = state(("AC", "WA", "WA", "WA"))
    seen = Disclosure(SUMMARY_B_HIDDEN_C, NOW, 0, staff=True).state(whole)
    assert seen["tests"] == whole["tests"] and seen["verdict"] == "WA"


def test_live_events_pass_the_same_filter() -> None:
    student = Disclosure(SUMMARY_B_HIDDEN_C, NOW, 0, test_names=NAMES)
    flat = {"type": "test", **result(1, "secret/a/1", "WA"), "judging_id": 3}
    assert student.event(flat) == {**flat, "message": ""}
    nested = {"type": "test", "test": result(2, "secret/b/1", "WA")}
    assert student.event(nested) is None
    assert student.event({"type": "test", **result(3, "secret/c/1", "AC")}) is None
    assert student.event({"type": "status", "status": "running", "tests_total": 4}) == {
        "type": "status",
        "status": "running",
        "tests_total": 2,
    }
    assert student.event({"type": "done", "verdict": "WA"}) is None
    compile_event = {"type": "compile", "stage": "finished", "output": "warning"}
    assert student.event(compile_event) == compile_event
    staff = Disclosure(SUMMARY_B_HIDDEN_C, NOW, 0, staff=True)
    assert staff.event(nested) == nested


def test_a_students_done_event_carries_their_own_figures() -> None:
    seen = Disclosure(SUMMARY_B_HIDDEN_C, NOW, 0, test_names=NAMES).state(
        state(("AC", "AC", "AC", "WA"))
    )
    event = done_event({"type": "done", "verdict": "WA", "judging_id": 9}, seen)
    assert event == {
        "type": "done",
        "status": "done",
        "verdict": None,
        "score": None,
        "passed": 3,
        "total": 2,
        "judging_id": 9,
    }


def test_a_compile_error_is_shown_as_it_is() -> None:
    student = Disclosure(SUMMARY_B_HIDDEN_C, NOW, 0, test_names=NAMES)
    assert student.outcome("CE", 0.0, []) == ("CE", None)
    assert Disclosure(FeedbackPolicy(), NOW, 0).outcome("CE", 0.0, []) == ("CE", 0.0)
    assert student.outcome(None, None, []) == (None, None)
