"""The benchmark against the Flask baseline runs end to end (small counts), so it cannot rot.

Its figures are not checked here (a loaded machine moves them): only that every scenario ran
against both apps, every sign-in went through the fake Google, and the report was written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
BASELINE_GUNICORN = ROOT / "bench" / ".venv-flask" / "bin" / "gunicorn"

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


def test_the_smoke_run_measures_both_apps_and_writes_the_report(tmp_path: Path) -> None:
    require_or_skip(BASELINE_GUNICORN.exists(), "no bench/.venv-flask: run `make bench-venv`")
    run = subprocess.run(
        [sys.executable, "bench/compare.py", "--smoke", "--write", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ")]
    scenarios = {line.split(" | ")[0] for line in rows}
    assert any("sign-ins at once" in name for name in scenarios)
    assert any("while 2 submissions are judged" in name for name in scenarios)
    assert any("at saturation" in name for name in scenarios)
    assert any("memory at the sign-in peak" in name for name in scenarios)
    assert any("throughput on all cores" in name for name in scenarios)
    assert "n/a" not in "\n".join(rows)  # every figure was measured on both sides
    report = (tmp_path / "benchmarks.md").read_text()
    assert "| scenario | Verdict | Flask baseline |" in report
    assert (tmp_path / "benchmarks.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_fake_google_round_trips_a_code() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import fake_google
    finally:
        sys.path.remove(str(ROOT / "bench"))
    code = fake_google.make_code("person-1", "nonce-xyz")
    assert fake_google.read_code(code) == {"sub": "person-1", "nonce": "nonce-xyz"}
    with pytest.raises(ValueError):
        fake_google.read_code(fake_google.make_code("x", "y")[:-3] + "!!!")
