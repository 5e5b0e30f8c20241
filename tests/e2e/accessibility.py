"""The accessibility gate: axe-core, installed from npm at setup, run inside each page.

The script is evaluated in the page (not added as a ``<script>`` tag, which the CSP would
refuse), then ``axe.run`` checks the whole document against WCAG 2 A/AA. Serious and critical
violations fail; every page's figures are kept for the session's summary.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.factories import ROOT

AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: The impacts that fail a page.
FAILING_IMPACTS = frozenset({"serious", "critical"})
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}}


@dataclass(frozen=True)
class Violation:
    """One rule broken on one page, with the elements that break it."""

    url: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.impact} {self.rule} on {self.url}: {self.help} at {', '.join(self.targets)}"


@dataclass
class Auditor:
    """Run axe-core on pages and count what it found over the session."""

    pages: int = 0
    by_impact: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)

    def check(self, page: Any, url: str) -> list[Violation]:
        """Return the serious and critical violations on ``page`` as it is now."""
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(AXE_SCRIPT.read_text())
        found = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        self.pages += 1
        violations = []
        for rule in found["violations"]:
            impact = rule.get("impact") or "minor"
            self.by_impact[impact] += 1
            self.by_rule[rule["id"]] += 1
            if impact in FAILING_IMPACTS:
                targets = tuple(str(node["target"]) for node in rule["nodes"][:5])
                violations.append(Violation(url, rule["id"], impact, rule["help"], targets))
        return violations

    def summary(self) -> str:
        """Return the session's figures in one line."""
        impacts = ", ".join(f"{name} {count}" for name, count in sorted(self.by_impact.items()))
        return f"axe-core: {self.pages} page checks; violations by impact: {impacts or 'none'}"


#: What axe-core found on every page of the session (printed at the end of the run).
AUDITOR = Auditor()
