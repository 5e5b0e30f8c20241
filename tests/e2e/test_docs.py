"""The API documentation works without the internet: everything it needs comes from the app."""

from __future__ import annotations

from typing import Any

from tests.e2e.browser import Browser


def test_the_api_docs_render_with_every_other_host_unreachable(browser: Browser) -> None:
    elsewhere: list[str] = []

    def only_the_site(route: Any) -> None:
        if route.request.url.startswith(browser.site.url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    browser.page.route("**/*", only_the_site)

    browser.page.goto("/docs")

    browser.page.locator(".swagger-ui .title").wait_for()
    assert "Verdict" in browser.page.locator(".swagger-ui .title").inner_text()
    assert browser.page.locator(".opblock-summary-path", has_text="/api/v1/submissions").count()
    assert elsewhere == []
