"""What a student may see of a submission: the one filter every student-visible channel uses.

A :class:`Disclosure` holds one viewer's view of one problem's policy at one moment (the
levels in force, see :mod:`service.feedback.policy`) and turns the full data of a submission
into what that viewer sees: the state (page, JSON poll, API), each live event (WebSocket,
SSE) and a listed submission's verdict and score. Staff see everything.

Per test, by level: full keeps everything; verdict keeps name, verdict, time and memory (the
checker's message goes); summary drops the test from the list and counts it in ``summary``;
hidden drops it and does not count it. The tests listed are numbered 0, 1, 2... among
themselves (``index``, ``tests_total``), so no gap tells how many tests are left out.

The submission's verdict shown is the first failed test's among those whose verdict is
shown; when a test that decides it is not shown (a summary test failed, or a test is
hidden) it is null ("not disclosed"), and with any hidden test the score is null too. The
judging's message keeps only parts about full tests, and the judge's own notes only while no
test is below verdict (a note such as the wall-clock budget sums every test's time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from service.feedback.policy import FeedbackPolicy, Level
from service.judgings import PART_SEPARATOR, MessagePart

#: What a verdict-level test loses: the checker's message (it may quote the answer).
VERDICT_ONLY: dict[str, Any] = {"message": ""}
#: The verdict of a passed test.
ACCEPTED = "AC"


@dataclass(frozen=True)
class Disclosure:
    """One viewer's view of one problem's tests: ``staff``, or the policy at ``now``."""

    policy: FeedbackPolicy
    now: datetime
    submissions: int  # the submission owner's count on the problem (``verdict_after``)
    staff: bool = False
    test_names: tuple[str, ...] | None = None  # the problem's tests, when known

    def level(self, test_name: str) -> Level:
        """Return how much of test ``test_name`` this viewer sees."""
        if self.staff:
            return Level.FULL
        return self.policy.level_of(test_name, self.now, self.submissions)

    def shows(self, test_name: str, level: Level) -> bool:
        """Return whether this viewer sees at least ``level`` of test ``test_name``."""
        return self.level(test_name) >= level

    def hides_any(self, names: Iterable[str] = ()) -> bool:
        """Return whether some test (of the problem, or among ``names``) is hidden."""
        known = self.test_names if self.test_names is not None else ()
        return any(self.level(name) is Level.HIDDEN for name in (*known, *names))

    def below_verdict(self, names: Iterable[str] = ()) -> bool:
        """Return whether some test (of the problem, or among ``names``) shows less than verdict."""
        known = self.test_names if self.test_names is not None else ()
        return any(self.level(name) < Level.VERDICT for name in (*known, *names))

    @cached_property
    def _positions(self) -> dict[str, int]:
        """Return each listed test's number among the listed ones (by the problem's names)."""
        listed = [name for name in self.test_names or () if self.shows(name, Level.VERDICT)]
        return {name: position for position, name in enumerate(listed)}

    # ------------------------------------------------------------ one test

    def test(self, test: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return a test result as shown, or None when it is not listed (summary, hidden)."""
        name = str(test.get("name") or "")
        level = self.level(name)
        if level < Level.VERDICT:
            return None
        shown = dict(test) if level is Level.FULL else {**test, **VERDICT_ONLY}
        if not self.staff and "index" in shown and name in self._positions:
            shown["index"] = self._positions[name]
        return shown

    # ------------------------------------------------------------ a whole state

    def state(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Return a submission's state (``submission_state``) as this viewer sees it."""
        parts = state.get("message_parts")
        shown = {key: value for key, value in state.items() if key != "message_parts"}
        tests: list[dict[str, Any]] = list(state.get("tests") or [])
        if self.staff:
            return {**shown, "summary": None}
        names = [str(test.get("name") or "") for test in tests]
        listed = [row for row in (self.test(test) for test in tests) if row is not None]
        counted = [test for test in tests if self.level(str(test.get("name"))) is Level.SUMMARY]
        verdict, score = self.outcome(
            state.get("verdict"),
            state.get("score"),
            [(t.get("name"), t.get("verdict")) for t in tests],
        )
        summary = None
        if counted or self._summary_total():
            summary = {
                "passed": sum(test.get("verdict") == ACCEPTED for test in counted),
                "done": len(counted),
                "total": self._summary_total() or len(counted),
            }
        return {
            **shown,
            "verdict": verdict,
            "score": score,
            "tests": listed,
            "tests_done": len(listed),
            "tests_total": self.total(int(state.get("tests_total") or 0), names),
            "summary": summary,
            "message": self.message(parts, names),
        }

    def total(self, total: int, names: Sequence[str] = ()) -> int:
        """Return how many tests this viewer sees listed (verdict and full)."""
        if self.staff:
            return total
        if self.test_names is not None:
            return len(self._positions)
        # Without the problem's test names, only the results so far say which are left out.
        return total - sum(not self.shows(name, Level.VERDICT) for name in names)

    def _summary_total(self) -> int:
        if self.test_names is None:
            return 0
        return sum(self.level(name) is Level.SUMMARY for name in self.test_names)

    def outcome(
        self, verdict: Any, score: Any, results: Sequence[tuple[Any, Any]]
    ) -> tuple[str | None, float | None]:
        """Return the submission's (verdict, score) as shown, from its tests' (name, verdict)."""
        if self.staff or verdict is None:
            return verdict, score
        names = [str(name or "") for name, _ in results]
        hidden = self.hides_any(names)
        shown_score = None if hidden else score
        if not results:  # judged before any test (CE, a judge error): about the source
            return verdict, shown_score
        failed = [(str(name or ""), code) for name, code in results if code != ACCEPTED]
        for name, code in failed:
            if self.shows(name, Level.VERDICT):
                return code, shown_score
        if failed or hidden:
            return None, shown_score
        return verdict, shown_score

    def message(self, parts: Sequence[Mapping[str, Any]] | None, names: Sequence[str]) -> str:
        """Return what this viewer reads of a judging's message (its stored parts)."""
        notes_shown = not self.below_verdict(names)
        shown = []
        for part in (MessagePart.from_json(part) for part in parts or []):
            if part.test is not None:
                visible = self.shows(part.test, Level.FULL)
            else:
                visible = notes_shown and not part.internal
            if visible and part.render():
                shown.append(part.render())
        return PART_SEPARATOR.join(shown)

    # ------------------------------------------------------------ live events

    def event(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return a live event as shown, or None when it is not sent at all.

        A ``done`` event carries figures over every test: the feed sends the viewer's state
        read afresh instead (see :func:`done_event`).
        """
        if self.staff:
            return dict(event)
        kind = event.get("type")
        if kind == "test":
            nested = event.get("test")
            if isinstance(nested, Mapping):
                shown = self.test(nested)
                return None if shown is None else {**event, "test": shown}
            return self.test(event)
        if kind == "status" and "tests_total" in event:
            return {**event, "tests_total": self.total(int(event.get("tests_total") or 0))}
        if kind == "done":
            return None
        return dict(event)


def done_event(event: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``done`` event a viewer is sent, its figures taken from their own state."""
    passed = sum(test.get("verdict") == ACCEPTED for test in state.get("tests") or [])
    summary = state.get("summary") or {}
    return {
        "type": "done",
        "status": "done",
        "verdict": state.get("verdict"),
        "score": state.get("score"),
        "passed": passed + int(summary.get("passed") or 0),
        "total": state.get("tests_total"),
        "judging_id": event.get("judging_id"),
    }
