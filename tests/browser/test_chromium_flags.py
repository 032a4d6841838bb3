"""The suite's Chromium flags (`tests.conftest.CHROMIUM_ARGS`) do what they say in Debian's full
Chromium, which the browser tests drive where the headless shell is not installed (decision
0039; the shell builds no browser window, so no address bar, at all).

Chromium keeps only the last `--disable-features` of its command line, and the suite's comes
after Playwright's own: every feature Playwright turns off must still be off, besides the
suite's own. Chromium says which features its command line set on `chrome://version` (its
variations as a command line); the same browser launched with Playwright's arguments alone is
the reference. And a browser context of it builds no address-bar drop-down, the web page of its
own that Chromium otherwise opens for every context.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CHROMIUM_ARGS, NO_BROWSER_WINDOW_UI, _missing

pytestmark = pytest.mark.browser

_DISABLED = re.compile(r'--disable-features="([^"]*)"')


def _full_chromium_path() -> str:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        _missing("Debian's full Chromium not found (apt-get install chromium)")
    return str(executable)


@pytest.fixture(scope="module")
def full_chromium(chromium: Any) -> Iterator[Any]:
    """Debian's full Chromium with the suite's arguments, beside the session's browser."""
    browser = chromium.browser_type.launch(
        executable_path=_full_chromium_path(), args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


def _features_turned_off(browser: Any) -> set[str]:
    """The features the browser's command line turned off, as Chromium itself lists them."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto("chrome://version/?show-variations-cmd")
        found = _DISABLED.search(page.inner_text("body"))
        assert found is not None, "chrome://version lists no disabled feature"
        return set(found[1].split(","))
    finally:
        context.close()


def test_every_feature_playwright_turns_off_stays_off_and_so_do_the_suites(
    full_chromium: Any,
) -> None:
    reference = full_chromium.browser_type.launch(executable_path=_full_chromium_path())
    try:
        playwrights = _features_turned_off(reference)
    finally:
        reference.close()
    ours = _features_turned_off(full_chromium)
    assert "PaintHolding" in playwrights  # the reference reads what it should
    assert playwrights - ours == set()
    assert set(NO_BROWSER_WINDOW_UI) <= ours


def test_a_browser_context_opens_no_address_bar_page(full_chromium: Any) -> None:
    session = full_chromium.new_browser_cdp_session()
    context = full_chromium.new_context()
    try:
        context.new_page().goto("about:blank")
        targets = session.send("Target.getTargets", {"filter": [{}]})["targetInfos"]
        assert [t["url"] for t in targets if "omnibox" in t["url"]] == []
    finally:
        context.close()
        session.detach()
