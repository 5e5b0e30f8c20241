"""Shared fixtures of the evaluator tests: the real sandbox and the unsafe development one."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from service.evaluator import BwrapSandbox, SandboxUnavailable, UnsafeRlimitSandbox, create_sandbox
from tests.helpers import require_or_skip


@pytest.fixture(scope="session")
def _bwrap_sandbox() -> Iterator[BwrapSandbox | str]:
    """Create the bubblewrap sandbox once per session, or say why it cannot work here."""
    try:
        sandbox = create_sandbox("bwrap", slots=max(2, os.cpu_count() or 1))
    except SandboxUnavailable as error:
        yield str(error)
        return
    assert isinstance(sandbox, BwrapSandbox)
    try:
        yield sandbox
    finally:
        sandbox.close()


@pytest.fixture
def sandbox(_bwrap_sandbox: BwrapSandbox | str) -> BwrapSandbox:
    """Return the real bubblewrap sandbox (skip, or fail under VERDICT_REQUIRE_ALL=1, without)."""
    if isinstance(_bwrap_sandbox, str):
        require_or_skip(False, f"bubblewrap sandbox unavailable: {_bwrap_sandbox}")
    assert isinstance(_bwrap_sandbox, BwrapSandbox)
    return _bwrap_sandbox


@pytest.fixture(scope="session")
def unsafe_sandbox() -> Iterator[UnsafeRlimitSandbox]:
    """Return the development-only rlimit sandbox (harmless programs only)."""
    sandbox = UnsafeRlimitSandbox(slots=2)
    try:
        yield sandbox
    finally:
        sandbox.close()
