"""Fixtures of the browser suite: one site per session, a fresh Chromium and context per test.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright; no browser is ever
downloaded. Every page a flow visits goes through :meth:`Browser.audit` (axe-core); the
serious and critical violations found fail the test that met them.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.accessibility import AUDITOR, AXE_SCRIPT, Auditor
from tests.e2e.browser import CHROMIUM, Browser
from tests.e2e.site import IDP, Site, run_site
from tests.helpers import require_or_skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``e2e`` (and ``slow``) every test under tests/e2e."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Serve the app and the local provider for the whole session."""
    require_or_skip(IDP.exists(), f"{IDP} missing: run `make idp-venv`")
    require_or_skip(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    with run_site(tmp_path_factory.mktemp("site")) as running:
        yield running


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Launch Debian's Chromium headless for one test.

    Not once per session: while Playwright's sync API is started it marks its event loop as
    running in this thread, and every asyncio test run meanwhile (the suite runs in random
    order) would fail with "asyncio.run() cannot be called from a running event loop".
    """
    require_or_skip(
        importlib.util.find_spec("playwright") is not None, "playwright is not installed"
    )
    require_or_skip(Path(CHROMIUM).exists(), f"{CHROMIUM} missing: apt-get install chromium")
    require_or_skip(AXE_SCRIPT.exists(), f"{AXE_SCRIPT} missing: run `make web-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the accessibility figures of the session, when a browser test ran."""
    if AUDITOR.pages:
        terminalreporter.write_line(AUDITOR.summary())


@pytest.fixture(scope="session")
def auditor() -> Auditor:
    """Collect what axe-core finds on every page of the session."""
    return AUDITOR


@pytest.fixture
def browser(chromium: Any, site: Site, auditor: Auditor) -> Iterator[Browser]:
    """Open a fresh browser context (no cookies) on the site, 1280 px wide."""
    context = chromium.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    driver = Browser(context.new_page(), site, auditor)
    try:
        yield driver
    finally:
        context.close()
