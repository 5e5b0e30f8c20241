"""The problem page's Run button: its form, and the request its script sends with the session."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from service.models import Submission
from tests.factories import HELLO_PY, AppFactory, count_rows, import_example, signed_in
from tests.fakes import FakeSandbox, exited, judge_on
from tests.helpers import require_or_skip

ROOT = Path(__file__).resolve().parents[2]


async def test_the_problem_page_offers_a_run_on_samples_or_typed_input(
    make_app: AppFactory,
) -> None:
    async with make_app(setup=judge_on(FakeSandbox(program=lambda s, p: exited(b"hi\n")))) as app:
        await import_example(app, "groups")
        client = app.test_client()
        await signed_in(client)
        page = await (await client.get("/problems/groups")).get_data(as_text=True)
        csrf = re.search(r'data-run[^>]*data-csrf="([^"]+)"', page)
        assert csrf is not None
        # What run.js sends: the session cookie and the page's CSRF token.
        response = await client.post(
            "/api/v1/runs",
            json={"problem": "groups", "language": "python3", "source": HELLO_PY, "input": "1 2"},
            headers={"X-CSRF-Token": csrf.group(1)},
        )
        without_token = await client.post(
            "/api/v1/runs",
            json={"problem": "groups", "language": "python3", "source": HELLO_PY, "input": ""},
        )
        stored = await count_rows(app, Submission)
    assert '<option value="1">sample 1 (checked against its answer)</option>' in page
    assert '<option value="2">sample 2' in page and '<option value="">my own input</option>' in page
    assert "data-run-button" in page and '<script src="/static/run.js" defer></script>' in page
    assert response.status_code == 200 and (await response.get_json())["stdout"] == "hi\n"
    assert without_token.status_code == 400  # the CSRF check refuses it
    assert stored == 0


def test_run_behaviour_on_a_fake_page() -> None:
    node = shutil.which("node")
    require_or_skip(node is not None, "node is not installed")
    assert node is not None
    harness = Path(__file__).with_name("run_harness.js")
    run = subprocess.run(
        [node, str(harness), str(ROOT / "service" / "static" / "run.js")],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stderr
    assert len(lines) == 7, lines
    assert [line for line in lines if not line.startswith("ok ")] == []
