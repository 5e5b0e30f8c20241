"""Fixtures of the API tests: an app judging on a fake sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from quart import Quart

from tests.factories import AppFactory
from tests.fakes import FakeSandbox, hello_program, judge_on


@pytest.fixture
def sandbox() -> FakeSandbox:
    """Return the fake sandbox the ``app`` fixture judges on (hello answers AC)."""
    return FakeSandbox(program=hello_program)


@pytest.fixture
async def app(make_app: AppFactory, sandbox: FakeSandbox) -> AsyncIterator[Quart]:
    """Serve an app judging on the fake sandbox."""
    async with make_app(judge_on(sandbox)) as served:
        yield served
