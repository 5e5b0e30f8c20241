"""Fixtures of the course tests: an app judging on a fake sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from quart import Quart

from tests.factories import AppFactory
from tests.fakes import FakeSandbox, hello_program, judge_on


@pytest.fixture
async def app(make_app: AppFactory) -> AsyncIterator[Quart]:
    """Serve an app judging on the fake sandbox (hello answers AC)."""
    async with make_app(judge_on(FakeSandbox(program=hello_program))) as served:
        yield served
