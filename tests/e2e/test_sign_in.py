"""Signing in and out in a real browser, through the local provider's form."""

from __future__ import annotations

from tests.e2e.browser import Browser


def test_sign_in_through_the_provider_then_sign_out(browser: Browser) -> None:
    page = browser.page
    browser.open("/")
    page.get_by_role("main").get_by_role("link", name="Sign in with Google").click()

    browser.choose_person("student")

    assert page.url == browser.site.url + "/"
    assert page.get_by_text("Sam Student").is_visible()
    browser.audit()
    browser.sign_out()
    assert page.get_by_role("banner").get_by_role("link", name="Sign in with Google").is_visible()
    assert not page.get_by_text("Sam Student").is_visible()
    browser.open("/submissions")
    assert page.url.startswith(browser.site.idp_url), "a signed-out visit asks to sign in"


def test_a_deep_link_comes_back_after_sign_in(browser: Browser) -> None:
    page = browser.page
    page.goto("/problems/hello")

    browser.choose_person("student")

    assert page.url == browser.site.url + "/problems/hello"
    assert page.get_by_role("heading", name="Hello World").is_visible()
    browser.audit()
