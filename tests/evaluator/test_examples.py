"""Every example problem passes `verdict verify` in the real sandbox."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.factories import EXAMPLES
from tests.helpers import require_or_skip

SLUGS = sorted(path.name for path in EXAMPLES.iterdir() if (path / "problem.yaml").is_file())


def test_there_are_at_least_six_examples() -> None:
    assert len(SLUGS) >= 6


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_example_problem_verifies(slug: str) -> None:
    require_or_skip(shutil.which("bwrap") is not None, "bubblewrap (bwrap) is not installed")
    completed = subprocess.run(
        [sys.executable, "-m", "service", "verify", str(EXAMPLES / slug), "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.stdout, completed.stderr
    report = json.loads(completed.stdout)
    mismatched = [
        (entry["path"], entry["expected"], entry["verdict"], entry.get("message"))
        for entry in report["submissions"]
        if entry["ok"] is False
    ]
    assert mismatched == [], completed.stdout
    assert report["summary"]["judged"] >= 4
    accepted = [e for e in report["submissions"] if e["path"].startswith("accepted/")]
    assert any(entry["ok"] for entry in accepted)
    assert completed.returncode == 0, completed.stderr
