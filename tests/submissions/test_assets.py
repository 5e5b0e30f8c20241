"""The editor and live scripts are static files, and the templates carry no inline script."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from quart import Quart
from quart.testing import QuartClient

from tests.factories import import_example, post_submission, signed_in
from tests.helpers import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "service" / "templates" / "submissions").glob("*.html"))
SCRIPTS = [ROOT / "service" / "static" / name for name in ("editor.js", "live.js")]


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [
        ("editor.js", "text/javascript"),
        ("live.js", "text/javascript"),
        ("submissions.css", "text/css"),
    ],
)
async def test_static_assets_are_served(client: QuartClient, name: str, mimetype: str) -> None:
    response = await client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.mimetype in (mimetype, "application/javascript")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_have_no_inline_script_or_style(template: Path) -> None:
    text = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert " src=" in tag, tag  # the CSP allows only script files from /static
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"\sstyle\s*=", text), "inline style attribute"
    assert "<style" not in text


def test_templates_were_found() -> None:
    assert {path.name for path in TEMPLATES} >= {
        "_editor_assets.html",
        "index.html",
        "show.html",
        "refused.html",
    }


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_scripts_parse(script: Path) -> None:
    node = shutil.which("node")
    require_or_skip(node is not None, "node is not installed")
    assert node is not None
    checked = subprocess.run([node, "--check", str(script)], capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr.decode()


async def test_refusal_page_offers_the_editor_again(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await signed_in(client)
    page = await (await post_submission(client, source="")).get_data(as_text=True)
    assert '<script src="/static/editor.js" defer></script>' in page
    assert "<textarea" in page and "data-editor" in page
    assert 'action="/problems/hello/submissions"' in page
    assert 'enctype="multipart/form-data"' in page


def test_editor_behaviour_on_a_fake_page() -> None:
    node = shutil.which("node")
    require_or_skip(node is not None, "node is not installed")
    assert node is not None
    harness = Path(__file__).with_name("editor_harness.js")
    run = subprocess.run(
        [node, str(harness), str(ROOT / "service" / "static" / "editor.js")],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stderr
    assert len(lines) == 11
    assert [line for line in lines if not line.startswith("ok ")] == []


@pytest.mark.parametrize(
    ("mode", "checks"),
    [("websocket", 13), ("dropped", 4), ("silent", 4), ("polling", 4), ("rejudge", 8)],
)
def test_live_updates_on_a_fake_page(mode: str, checks: int) -> None:
    node = shutil.which("node")
    require_or_skip(node is not None, "node is not installed")
    assert node is not None
    harness = Path(__file__).with_name("live_harness.js")
    run = subprocess.run(
        [node, str(harness), str(ROOT / "service" / "static" / "live.js"), mode],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stderr
    assert len(lines) == checks, lines
    assert [line for line in lines if not line.startswith("ok ")] == []
