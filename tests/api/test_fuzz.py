"""Schemathesis fuzzes every operation of /openapi.json, signed in with a staff token.

Checks: no 5xx, and every documented response matches its schema. Submissions are judged on
the fake sandbox, so fuzzed programs cost nothing. Examples are few and derandomized, so the
run is deterministic and takes seconds.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from quart import Quart
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.app import create_app
from service.config import RateLimit
from service.models import Role
from tests.factories import app_settings, bearer, create_user, import_example, token_for
from tests.fakes import FakeSandbox, judge_on

MAX_EXAMPLES = 25


def build_app(database_url: str, data_dir: Path) -> Quart:
    """Build an app on the test database, judging on a fake sandbox, without a rate limit."""
    overrides = {"submission_rate_limit": RateLimit(100_000, 60)}
    app = create_app(app_settings(database_url=database_url, data_dir=data_dir) | overrides)
    judge_on(FakeSandbox())(app)
    return app


async def prepare(app: Quart) -> str:
    """Import two problems and create a staff user; return their token."""
    async with app.test_app():
        await import_example(app, "hello")
        await import_example(app, "floatdiv", hidden=True)
        return await token_for(app, await create_user(app, role=Role.STAFF), "fuzz")


def test_api_survives_schemathesis(
    database_url: str, tmp_path: Path, clean_environment: None
) -> None:
    data_dir = tmp_path / "data"
    token = asyncio.run(prepare(build_app(database_url, data_dir)))
    app = build_app(database_url, data_dir)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = bearer(token)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) == 33  # every operation loaded
    failures: list[str] = []
    try:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def exercise(case: Any) -> None:
                case.call_and_validate(
                    headers=headers, checks=[not_a_server_error, response_schema_conformance]
                )

            try:
                exercise()
            except Exception as error:  # collect every operation's failure, then report
                failures.append(f"{operation.label}: {error}")
    finally:
        shutdown_lifespans()
    if failures:
        pytest.fail("\n\n".join(failures))
