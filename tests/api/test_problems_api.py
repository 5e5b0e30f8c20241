"""GET /api/v1/languages, /me, /problems[/<slug>] and POST /problems (package import)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from quart import Quart
from quart.testing import QuartClient
from sqlalchemy import event
from werkzeug.datastructures import FileStorage

from service.db import get_db
from service.evaluator import offered_ids
from service.models import PackageVersion, Problem, Role
from tests.factories import (
    copy_example,
    count_rows,
    example_path,
    import_example,
    user_with_token,
    yaml_alias_bomb,
    yaml_nested,
)


def zipped(folder: Path) -> bytes:
    """Return a zip of ``folder``'s files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def package_upload(data: bytes, filename: str = "hello.zip") -> dict[str, FileStorage]:
    """Return the ``files`` of a package upload."""
    return {"package": FileStorage(io.BytesIO(data), filename=filename)}


async def test_languages_lists_what_is_offered(client: QuartClient) -> None:
    response = await client.get("/api/v1/languages")
    assert response.status_code == 200
    items = (await response.get_json())["items"]
    assert [item["id"] for item in items] == list(offered_ids())
    assert all(set(item) == {"id", "name", "version"} for item in items)


async def test_me_describes_the_token_owner(app: Quart, client: QuartClient) -> None:
    user, headers = await user_with_token(app, Role.STAFF)
    body = await (await client.get("/api/v1/me", headers=headers)).get_json()
    assert body == {"id": user.id, "email": user.email, "name": user.name, "role": "staff"}


async def test_problem_list_is_paginated(app: Quart, client: QuartClient) -> None:
    for name in ("hello", "floatdiv", "groups"):
        await import_example(app, name)
    _, headers = await user_with_token(app)

    async def page(query: str) -> tuple[int, dict[str, object]]:
        response = await client.get(f"/api/v1/problems?{query}", headers=headers)
        return response.status_code, await response.get_json()

    status, first = await page("per_page=2")
    assert status == 200
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 3)
    status, second = await page("per_page=2&page=2")
    assert isinstance(first["items"], list) and isinstance(second["items"], list)
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    slugs = {item["slug"] for item in first["items"] + second["items"]}
    assert slugs == {"hello", "floatdiv", "groups"}
    status, beyond = await page("per_page=2&page=3")
    assert status == 200 and beyond["items"] == [] and beyond["total"] == 3
    status, default = await page("")
    assert default["per_page"] == 20 and len(default["items"]) == 3  # type: ignore[arg-type]
    status, largest = await page("per_page=100")
    assert status == 200 and largest["per_page"] == 100

    for query, field in (
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=100001", "page"),
    ):
        status, body = await page(query)
        assert status == 422, query
        assert body["error"] == "invalid_request"
        assert f"query parameter {field}" in str(body["message"]), body


async def test_hidden_problems_only_for_staff(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    await import_example(app, "floatdiv", hidden=True)
    _, student = await user_with_token(app)
    _, staff = await user_with_token(app, Role.STAFF)
    listed = await (await client.get("/api/v1/problems", headers=student)).get_json()
    assert [item["slug"] for item in listed["items"]] == ["hello"]
    hidden = await client.get("/api/v1/problems/floatdiv", headers=student)
    assert hidden.status_code == 404
    assert (await hidden.get_json())["error"] == "not_found"
    everything = await (await client.get("/api/v1/problems", headers=staff)).get_json()
    assert everything["total"] == 2
    shown = await client.get("/api/v1/problems/floatdiv", headers=staff)
    assert shown.status_code == 200 and (await shown.get_json())["hidden"] is True


async def test_problem_detail(app: Quart, client: QuartClient) -> None:
    await import_example(app, "hello")
    _, headers = await user_with_token(app)
    response = await client.get("/api/v1/problems/hello", headers=headers)
    assert response.status_code == 200
    body = await response.get_json()
    assert body["slug"] == "hello" and body["url"] == "/problems/hello"
    assert body["test_count"] >= 1 and "<" in body["statement_html"]
    missing = await client.get("/api/v1/problems/nope", headers=headers)
    assert missing.status_code == 404
    assert "nope" in (await missing.get_json())["message"]


async def test_staff_import_a_package(app: Quart, client: QuartClient) -> None:
    _, headers = await user_with_token(app, Role.STAFF)
    data = zipped(example_path("hello"))
    created = await client.post(
        "/api/v1/problems",
        files=package_upload(data),
        form={"hidden": "true", "problem_set": "week 1"},
        headers=headers,
    )
    assert created.status_code == 201
    assert created.headers["Location"] == "/api/v1/problems/hello"
    body = await created.get_json()
    assert body["created"] is True and body["changed"] is True
    assert body["problem"]["hidden"] is True and body["problem"]["problem_set"] == "week 1"
    assert len(body["package_hash"]) == 64

    again = await client.post("/api/v1/problems", files=package_upload(data), headers=headers)
    assert again.status_code == 200
    body = await again.get_json()
    assert body["created"] is False and body["changed"] is False
    assert body["problem"]["hidden"] is True  # kept when the flag is not sent
    assert await count_rows(app, Problem) == 1


async def test_import_refusals_store_nothing(app: Quart, client: QuartClient) -> None:
    _, staff = await user_with_token(app, Role.STAFF)
    _, student = await user_with_token(app)
    data = zipped(example_path("hello"))

    forbidden = await client.post("/api/v1/problems", files=package_upload(data), headers=student)
    assert forbidden.status_code == 403
    missing = await client.post("/api/v1/problems", form={"hidden": "1"}, headers=staff)
    assert missing.status_code == 422
    assert (await missing.get_json())["error"] == "package_missing"
    junk = await client.post(
        "/api/v1/problems", files=package_upload(b"not a zip at all"), headers=staff
    )
    assert junk.status_code == 422
    assert (await junk.get_json())["error"] == "import_refused"
    bad_set = await client.post(
        "/api/v1/problems",
        files=package_upload(data),
        form={"problem_set": "!!"},
        headers=staff,
    )
    assert bad_set.status_code == 422
    assert "problem set" in (await bad_set.get_json())["message"]
    bad_flag = await client.post(
        "/api/v1/problems", files=package_upload(data), form={"verify": "maybe"}, headers=staff
    )
    assert bad_flag.status_code == 422
    assert "verify" in (await bad_flag.get_json())["message"]
    assert await count_rows(app, Problem) == 0
    assert await count_rows(app, PackageVersion) == 0


async def test_problem_list_pages_in_sql_without_statements(
    app: Quart, client: QuartClient
) -> None:
    statement = "<p>" + "long statement " * 4000 + "</p>"
    async with get_db(app).session() as db:
        for number in range(25):
            db.add(
                Problem(
                    slug=f"p{number:02d}",
                    name=f"Problem {number:02d}",
                    problem_set="bulk",
                    hidden=number % 5 == 4,  # 5 hidden, 20 visible to students
                    package_hash=f"{number:064x}",
                    time_limit=1.0,
                    memory_mb=256,
                    output_mb=8,
                    test_count=1,
                    sample_count=1,
                    statement_kind="markdown",
                    statement_html=statement,
                )
            )
        await db.commit()
    _, student = await user_with_token(app)
    _, staff = await user_with_token(app, Role.STAFF)
    statements: list[str] = []

    def remember(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    engine = get_db(app).engine
    assert engine is not None
    event.listen(engine.sync_engine, "before_cursor_execute", remember)
    try:
        pages = [
            await (
                await client.get(f"/api/v1/problems?per_page=8&page={page}", headers=student)
            ).get_json()
            for page in (1, 2, 3, 4)
        ]
        everything = await (
            await client.get("/api/v1/problems?per_page=8&page=4", headers=staff)
        ).get_json()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", remember)

    assert [len(page["items"]) for page in pages] == [8, 8, 4, 0]
    assert {page["total"] for page in pages} == {20}
    slugs = [item["slug"] for page in pages for item in page["items"]]
    assert slugs == [f"p{number:02d}" for number in range(25) if number % 5 != 4]
    assert everything["total"] == 25 and [item["slug"] for item in everything["items"]] == ["p24"]
    listings = [sql for sql in statements if "FROM problems" in sql and "count(" not in sql]
    assert listings, statements
    assert all("LIMIT" in sql for sql in listings)
    assert all("statement_html" not in sql for sql in listings)


async def test_hostile_problem_yaml_is_refused_not_a_server_error(
    app: Quart, client: QuartClient, tmp_path: Path
) -> None:
    _, staff = await user_with_token(app, Role.STAFF)
    package = copy_example(tmp_path / "hostile")
    for config in (yaml_nested(5000), yaml_alias_bomb(7)):
        (package / "problem.yaml").write_text(config)
        answer = await client.post(
            "/api/v1/problems", files=package_upload(zipped(package)), headers=staff
        )
        assert answer.status_code == 422
        body = await answer.get_json()
        assert body["error"] == "import_refused"
        assert body["message"].startswith("problem.yaml: refused: ")
    assert await count_rows(app, Problem) == 0
