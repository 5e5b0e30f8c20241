"""Verdicts and progress in words, beside the short code a badge shows ("Wrong answer", WA).

The submission page renders these and live.js rebuilds the same sentences from the live
state, so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from quart import Quart

from service.evaluator import Verdict


def verdict_words(code: str) -> str:
    """Return a verdict code in words ("WA" -> "Wrong answer"); an unknown code as it is."""
    try:
        return Verdict(code).description.capitalize()
    except ValueError:
        return code


def first_failure(tests: Sequence[Mapping[str, Any]]) -> int | None:
    """Return the 1-based number of the first test not accepted, or None when all were."""
    for test in sorted(tests, key=lambda test: int(test["index"])):
        if test.get("verdict") not in (None, Verdict.AC.value):
            return int(test["index"]) + 1
    return None


def status_words(state: Mapping[str, Any]) -> str:
    """Return what a submission's state means: its verdict, with the test, or where it waits."""
    status, verdict = state.get("status"), state.get("verdict")
    if status == "done" and verdict:
        words = verdict_words(verdict)
        failed = first_failure(state.get("tests") or [])
        if verdict not in (Verdict.AC.value, Verdict.CE.value, Verdict.JE.value) and failed:
            return f"{words} on test {failed}"
        return words
    if status == "queued":
        ahead = int(state.get("queue_ahead") or 0)
        return f"Waiting for a judge ({ahead} ahead of you)" if ahead else "Waiting for a judge"
    return "Running"


def progress_words(state: Mapping[str, Any]) -> str:
    """Return what the progress bar shows, in words."""
    if state.get("verdict") == Verdict.CE.value:
        return "No test ran: the program did not compile"
    done, total = int(state.get("tests_done") or 0), int(state.get("tests_total") or 0)
    return f"{done} of {max(done, total)} tests judged"


def init_app(app: Quart) -> None:
    """Offer the wording to every template."""
    app.add_template_global(verdict_words)
    app.add_template_global(status_words)
    app.add_template_global(progress_words)
