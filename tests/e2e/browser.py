"""A person at a browser: open pages, sign in through the provider's form, check each page.

Every page opened through :meth:`Browser.open` (and every state a flow asks to check with
:meth:`Browser.audit`) is run through axe-core; a serious or critical violation fails at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.e2e.accessibility import Auditor
from tests.e2e.site import Site

CHROMIUM = "/usr/bin/chromium"


@dataclass
class Browser:
    """One browser tab on the site (its own cookies), with the accessibility gate."""

    page: Any
    site: Site
    auditor: Auditor

    def open(self, path: str) -> Any:
        """Go to ``path`` on the site, check the page and return the response."""
        response = self.page.goto(path)
        self.audit()
        return response

    def audit(self) -> None:
        """Fail if the page as it is now has a serious or critical accessibility violation.

        Only the app's own pages are checked: the local provider's page is not ours to fix.
        """
        if not self.page.url.startswith(self.site.url + "/"):
            return
        violations = self.auditor.check(self.page, self.page.url)
        assert not violations, "\n".join(str(violation) for violation in violations)

    def sign_in(self, who: str, next_path: str | None = None) -> None:
        """Sign in as the provider's predefined person ``who`` by clicking through its form."""
        query = "?" + urlencode({"next": next_path}) if next_path else ""
        self.page.goto("/login" + query)
        self.choose_person(who)

    def choose_person(self, who: str) -> None:
        """On the provider's page, pick ``who``; wait until back on the site."""
        assert self.page.url.startswith(self.site.idp_url), self.page.url
        self.page.get_by_role("button", name=f"Authorize as {who}", exact=True).click()
        self.page.wait_for_url(self.site.url + "/**")

    def sign_out(self) -> None:
        """Press the header's Sign out button."""
        self.page.get_by_role("button", name="Sign out", exact=True).click()
        self.page.wait_for_load_state()
