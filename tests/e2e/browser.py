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
#: A cell's text, with a verdict label read as "words (CODE)".
LABEL_TEXT = """cell => {
  const label = cell.querySelector(".verdict-label");
  if (!label) return cell.innerText.trim();
  const words = label.querySelector(".verdict-words").innerText.trim();
  return words + " (" + label.querySelector(".badge").innerText.trim() + ")";
}"""


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

    def submit(
        self,
        slug: str,
        language: str,
        source: str,
        *,
        typed: bool = False,
        landing: str = "**/submissions/*",
    ) -> None:
        """Open problem ``slug``, enter ``source`` in the editor, submit, land on ``landing``."""
        self.open(f"/problems/{slug}")
        self.page.get_by_label("Language").select_option(language)
        editor = self.page.get_by_label("Source code")
        if typed:
            editor.press_sequentially(source)
        else:
            editor.fill(source)
        self.page.get_by_role("button", name="Submit", exact=True).click()
        self.page.wait_for_url(landing)
        self.page.evaluate("window.stillTheSamePage = true")

    def wait_until_judged(self) -> None:
        """Wait until the submission page says it is done (without reloading it)."""
        self.page.locator("[data-live-submission][data-status=done]").wait_for()
        assert self.page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
        self.audit()

    def verdict(self) -> str:
        """Return the submission's verdict as the page says it: "Wrong answer on test 1 (WA)"."""
        return str(self.page.locator("[data-verdict]").evaluate(LABEL_TEXT))

    def rows(self) -> list[list[str]]:
        """Return the cells of the test table as text, one list per row."""
        return [
            [str(cell.evaluate(LABEL_TEXT)) for cell in row.locator("td").all()]
            for row in self.page.locator("[data-test-rows] tr").all()
        ]

    def sign_out(self) -> None:
        """Press the header's Sign out button."""
        self.page.get_by_role("button", name="Sign out", exact=True).click()
        self.page.wait_for_load_state()
