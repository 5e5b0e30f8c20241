"""Staff in the browser: import a package, rejudge, filter, export, and script the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import Browser
from tests.factories import example_path, zip_folder


@pytest.fixture
def admin(browser: Browser) -> Iterator[Browser]:
    """A browser signed in as the admin (staff)."""
    browser.sign_in("admin")
    yield browser


def test_import_a_package_zip_through_the_form(admin: Browser, tmp_path: Path) -> None:
    package = zip_folder(example_path("floatdiv"), tmp_path / "floatdiv.zip")
    admin.open("/problems/import")

    admin.page.get_by_label("Package (.zip)").set_input_files(package)
    admin.page.get_by_role("button", name="Import", exact=True).click()

    admin.page.wait_for_url("**/problems/floatdiv")
    assert admin.page.get_by_text("Imported").first.is_visible()
    admin.audit()
    admin.open("/problems")
    assert admin.page.get_by_role("link", name="Fair Shares").is_visible()


def test_rejudge_one_then_all_after_a_confirmation(admin: Browser) -> None:
    admin.submit("hello", "python3", 'print("Hello World!")\n')
    admin.wait_until_judged()

    admin.page.get_by_role("button", name="Rejudge", exact=True).click()
    assert admin.page.get_by_text("queued for rejudging").is_visible()
    admin.page.evaluate("window.stillTheSamePage = true")
    admin.wait_until_judged()
    assert admin.verdict() == "Accepted (AC)"
    assert admin.page.locator(".judging-history tbody tr").count() == 2

    admin.open("/problems/hello")
    admin.page.get_by_role("button", name="Rejudge all").click()
    admin.page.wait_for_url("**/rejudge")
    admin.audit()
    assert admin.page.get_by_text("Rejudge every submission of Hello World?").is_visible()
    admin.page.get_by_role("button", name="Yes, rejudge them all").click()
    admin.page.wait_for_url("**/submissions?problem=hello")
    assert admin.page.get_by_text("queued for rejudging").is_visible()
    admin.audit()


def test_filter_submissions_by_verdict(admin: Browser) -> None:
    admin.submit("hello", "python3", 'print("nope")\n')
    admin.wait_until_judged()
    admin.submit("hello", "python3", 'print("Hello World!")\n')
    admin.wait_until_judged()
    admin.open("/submissions")

    admin.page.get_by_label("Verdict").select_option("WA")
    admin.page.get_by_role("button", name="Filter").click()

    admin.page.wait_for_url("**verdict=WA**")
    admin.audit()
    verdicts = admin.page.locator(".submission-list tbody .badge").all_inner_texts()
    assert verdicts and set(verdicts) == {"WA"}


def test_download_the_scoreboard_csv(admin: Browser) -> None:
    admin.submit("hello", "python3", 'print("Hello World!")\n')
    admin.wait_until_judged()
    admin.open("/scoreboard?everyone=1")

    with admin.page.expect_download() as download:
        admin.page.get_by_role("link", name="Download CSV").click()

    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    header, *people = rows
    assert "hello" in header
    admin_row = next(row for row in people if "admin@example.com" in row)
    assert admin_row[header.index("hello")] in {"1", "1.0", "1.00", "100", "100.00"}


def test_create_an_api_token_and_use_it(admin: Browser) -> None:
    admin.open("/account")
    admin.page.get_by_label("Name").fill("grading script")
    admin.page.get_by_role("button", name="Create token").click()

    token = admin.page.locator(".token-value").inner_text().strip()
    admin.audit()
    me = httpx.get(
        admin.site.url + "/api/v1/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
        trust_env=False,
    )
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "admin@example.com"

    admin.page.reload()
    assert admin.page.locator(".tokens tbody tr").count() == 1, "a reload made a second token"
