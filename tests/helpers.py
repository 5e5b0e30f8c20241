"""Small helpers shared by the test suites."""

from __future__ import annotations

import os

import pytest


def require_all() -> bool:
    """Return whether CI asked that no test be skipped for a missing tool."""
    return os.environ.get("VERDICT_REQUIRE_ALL") == "1"


def require_or_skip(condition: bool, reason: str) -> None:
    """Skip the test when ``condition`` is false, or fail it under VERDICT_REQUIRE_ALL=1."""
    if condition:
        return
    if require_all():
        pytest.fail(f"required but missing (VERDICT_REQUIRE_ALL=1): {reason}")
    pytest.skip(reason)
