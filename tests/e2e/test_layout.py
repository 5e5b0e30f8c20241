"""The pages on a phone (390 px) and on a laptop (1280 px): nothing scrolls sideways or is cut."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.accessibility import AUDITOR
from tests.e2e.browser import Browser
from tests.e2e.site import Site

PHONE = {"width": 390, "height": 844}
#: The pages a student and a staff member open most, with content in every table.
PAGES = (
    "/",
    "/problems",
    "/problems/limits",
    "/submissions",
    "/account",
    "/scoreboard?everyone=1",
    "/admin/users",
    "/problems/import",
)
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def admin(browser: Browser, chromium: Any, site: Site) -> Iterator[Browser]:
    """A signed-in admin with one judged submission and a student, so every list has rows.

    The student's row on the People page carries the change forms (with hidden labels).
    """
    other = chromium.new_context(base_url=site.url)
    try:
        Browser(other.new_page(), site, AUDITOR).sign_in("student2")
    finally:
        other.close()
    browser.sign_in("admin")
    browser.submit("hello", "python3", 'print("Hello World!")\n')
    browser.wait_until_judged()
    yield browser


@pytest.mark.parametrize("path", PAGES)
def test_no_page_scrolls_sideways_on_a_phone(admin: Browser, path: str) -> None:
    admin.page.set_viewport_size(PHONE)

    admin.open(path)

    assert admin.page.evaluate(SIDEWAYS) <= 0, f"{path} scrolls sideways"


def test_the_navigation_collapses_on_a_phone_and_opens(admin: Browser) -> None:
    admin.page.set_viewport_size(PHONE)
    admin.open("/problems")
    menu = admin.page.get_by_role("button", name="Menu")
    assert menu.is_visible()
    assert not admin.page.get_by_role("link", name="Scoreboard").is_visible()

    menu.click()

    assert admin.page.get_by_role("link", name="Scoreboard").is_visible()
    sign_out = admin.page.get_by_role("button", name="Sign out", exact=True)
    box = sign_out.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    admin.audit()


@pytest.mark.parametrize(
    ("path", "selector"),
    [("/scoreboard?everyone=1", "th:has-text('Total')"), ("/admin/users", "form button")],
)
def test_wide_staff_tables_are_not_cut_at_1280_px(admin: Browser, path: str, selector: str) -> None:
    admin.open(path)

    assert not admin.page.get_by_role("button", name="Menu").is_visible(), "folded on a laptop"
    assert admin.page.get_by_role("link", name="Scoreboard").is_visible()
    for element in admin.page.locator(selector).all():
        box = element.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 1280, f"{selector} cut off on {path}"
    assert admin.page.evaluate(SIDEWAYS) <= 0


def test_times_are_shown_in_the_viewers_timezone(chromium: Any, site: Site) -> None:
    context = chromium.new_context(base_url=site.url, timezone_id="Asia/Tokyo")
    try:
        tokyo = Browser(context.new_page(), site, AUDITOR)
        tokyo.sign_in("student2")
        tokyo.submit("hello", "python3", 'print("Hello World!")\n')
        tokyo.wait_until_judged()

        shown = tokyo.page.locator(".facts time")
        stamp = datetime.fromisoformat(str(shown.get_attribute("datetime")))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        in_tokyo = stamp.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
        assert shown.inner_text() == f"{in_tokyo} GMT+9"
        assert str(shown.get_attribute("title")).endswith(" UTC")
    finally:
        context.close()
