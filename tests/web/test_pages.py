"""The home page, the layout's header and static files (the probes: test_readyz.py)."""

from __future__ import annotations

import re
from pathlib import Path

from quart import Quart
from quart.testing import QuartClient

from service.db import get_db
from service.models import Role, Status, Submission
from tests.factories import create_user, import_example, sign_in_as

TEMPLATES = Path(__file__).resolve().parents[2] / "service" / "templates"


async def test_home_signed_out_offers_sign_in(client: QuartClient) -> None:
    response = await client.get("/")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<title>Home · Verdict</title>" in page
    assert 'href="/login"' in page
    assert "Sign in with Google" in page
    assert "Sign out" not in page
    assert "No problems yet" not in page


async def test_home_lists_visible_problems_with_the_users_best_score(
    app: Quart, client: QuartClient
) -> None:
    hello = await import_example(app, "hello")
    await import_example(app, "bigio", hidden=True)
    await import_example(app, "floatdiv")
    student = await create_user(app)
    async with get_db(app).session() as db:
        for score in (0.5, 1.0, 0.0):
            db.add(
                Submission(
                    user_id=student.id,
                    problem_id=hello.id,
                    language="python3",
                    status=Status.DONE,
                    verdict="AC" if score == 1.0 else "WA",
                    score=score,
                )
            )
        await db.commit()
    await sign_in_as(client, student)
    page = await (await client.get("/")).get_data(as_text=True)
    assert 'href="/problems/hello"' in page
    assert 'href="/problems/floatdiv"' in page
    assert "/problems/bigio" not in page  # hidden from students
    assert re.search(r'/problems/hello">.*?badge-solved">100%<', page, re.S)
    assert "badge-tried" not in page  # floatdiv was never tried: no score shown
    assert 'href="/problems/import"' not in page


async def test_home_signed_in_shows_user_and_logout_form(app: Quart, client: QuartClient) -> None:
    user = await create_user(
        app, name="Grace Hopper", role=Role.STAFF, picture="https://lh3.example.com/g.png"
    )
    await sign_in_as(client, user)
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Grace Hopper" in page
    assert 'src="https://lh3.example.com/g.png"' in page
    assert "No problems yet." in page
    assert 'href="/problems/import"' in page  # staff are offered the import
    assert "Sign in with Google" not in page
    form = re.search(
        r'<form class="logout" method="post" action="/logout">(.*?)</form>', page, re.S
    )
    assert form is not None
    assert re.search(r'name="csrf_token" value="[A-Za-z0-9_-]{40,}"', form.group(1))
    assert '<form method="post" action="/logout/everywhere">' in page


async def test_user_name_is_escaped(app: Quart, client: QuartClient) -> None:
    user = await create_user(app, name="<script>alert(1)</script>")
    await sign_in_as(client, user)
    page = await (await client.get("/")).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_stylesheet_is_served(client: QuartClient) -> None:
    page = await (await client.get("/")).get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert href is not None
    response = await client.get(href.group(1))
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert ".site-header" in await response.get_data(as_text=True)


def test_templates_have_no_inline_script_or_style() -> None:
    # The CSP forbids inline script and style; a template that used them would break silently.
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)", text) or re.search(r"\son[a-z]+=", text):
            offenders.append(f"{template.name}: inline script")
        if re.search(r"<style|\sstyle=", text):
            offenders.append(f"{template.name}: inline style")
    assert offenders == []
