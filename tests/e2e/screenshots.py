"""`make screenshots`: run the main flows in Chromium and save PNGs of the key pages.

Serves the app and the local provider as the browser suite does (tests/e2e/site.py), then
writes docs/screenshots/*.png: a problem, a running and a judged submission, a compile error,
the scoreboard, and the same problem and submission on a phone.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from tests.e2e.accessibility import AUDITOR
from tests.e2e.browser import CHROMIUM, Browser
from tests.e2e.site import Site, run_site
from tests.factories import ROOT

OUT = ROOT / "docs" / "screenshots"
SPIN_C = "int main(void) { volatile unsigned long steps = 0; for (;;) steps++; }\n"
BROKEN_C = "int main(void) { return 0 }\n"
STEPS_PY = "n, k = map(int, input().split())\nprint(2 * n * k)\n"


def shoot(browser: Browser, name: str, out: Path) -> None:
    """Save the whole page as ``out/name.png`` and say so."""
    path = out / f"{name}.png"
    browser.page.screenshot(path=str(path), full_page=True)
    print(f"screenshots: {path}")


def take(chromium: Any, site: Site, out: Path) -> None:
    """Sign in, submit and visit the pages worth a picture."""
    context = chromium.new_context(base_url=site.url, viewport={"width": 1280, "height": 800})
    browser = Browser(context.new_page(), site, AUDITOR)
    browser.sign_in("admin")
    browser.open("/problems/limits")
    shoot(browser, "problem", out)
    browser.submit("limits", "c", SPIN_C)
    browser.page.locator("[data-live-submission][data-status=running]").wait_for()
    shoot(browser, "submission-running", out)
    browser.wait_until_judged()
    shoot(browser, "submission-tle", out)
    browser.submit("limits", "python3", STEPS_PY)
    browser.wait_until_judged()
    shoot(browser, "submission-accepted", out)
    browser.submit("hello", "c", BROKEN_C)
    browser.wait_until_judged()
    shoot(browser, "submission-compile-error", out)
    browser.open("/scoreboard?everyone=1")
    shoot(browser, "scoreboard", out)
    browser.page.set_viewport_size({"width": 390, "height": 844})
    browser.open("/problems/limits")
    shoot(browser, "phone-problem", out)
    browser.page.get_by_role("button", name="Menu").click()
    shoot(browser, "phone-menu", out)
    browser.open("/submissions")
    shoot(browser, "phone-submissions", out)
    context.close()


def main(argv: list[str]) -> int:
    """Write the screenshots into the folder named by ``argv`` (default docs/screenshots)."""
    out = Path(argv[0]) if argv else OUT
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as root,
        run_site(Path(root)) as site,
        sync_playwright() as playwright,
    ):
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            take(chromium, site, out)
        finally:
            chromium.close()
    print(AUDITOR.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
