"""Fixtures of the submission pages: the fake sandbox their apps judge on."""

from __future__ import annotations

import pytest

from tests.fakes import FakeSandbox, says


@pytest.fixture
def fake_sandbox() -> FakeSandbox:
    """Return a fake sandbox whose programs print the hello problem's answer."""
    return FakeSandbox(program=says(b"Hello World!\n"))
