"""The suite's Chromium flags (`tests.conftest.CHROMIUM_ARGS`) do what they say in Debian's full
Chromium, which the browser tests drive where the headless shell is not installed (decision
0039; the shell builds no browser window, so no address bar, at all).

Chromium keeps only the last `--disable-features` of its command line, and the suite's comes
after Playwright's own: every feature Playwright turns off must still be off, besides the
suite's own. Chromium says which features its command line set on `chrome://version` (its
variations as a command line); the same browser launched with Playwright's arguments alone is
the reference. And a browser context of it builds no address-bar drop-down, the web page of its
own that Chromium otherwise opens for every context.

In the session's browser (the headless shell where installed) a same-site navigation loads its
document into the frame it leaves (no RenderDocument), which the pointer's hover shows, and V8
optimizes no function (no Maglev, no TurboFan), which V8's own optimization status shows.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import (
    CHROMIUM_ARGS,
    NO_BROWSER_WINDOW_UI,
    NO_OPTIMIZING_COMPILERS,
    ONE_DOCUMENT_HOST_PER_FRAME,
    _missing,
    chromium_path,
)

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
    assert set(ONE_DOCUMENT_HOST_PER_FRAME) <= ours


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


HOVER_PAGE = """<!doctype html><html lang="en"><title>{0}</title>
<style>a:hover {{ color: #000 }}</style><a href="/{1}">{0}</a>"""
"""A page whose one link, at the top left, leads to the other page of the two."""

_HOVERED = (
    "() => [document.title, document.documentElement.matches(':hover'), "
    "document.querySelector('a').matches(':hover')]"
)


def test_a_navigation_keeps_its_frame_so_the_pointer_stays(chromium: Any) -> None:
    """Without RenderDocument (tests.conftest.ONE_DOCUMENT_HOST_PER_FRAME) a same-site
    navigation loads its document into the frame it leaves: the session's browser counts a new
    page's first document as hovered nowhere, and after a click the link under the pointer in
    the page it led to is hovered. With RenderDocument each document comes in a frame of its own
    and the headless shell has it the other way round (decision 0039)."""
    context = chromium.new_context()
    try:
        context.route(
            "http://flags.test/*",
            lambda route: route.fulfill(
                content_type="text/html",
                body=HOVER_PAGE.format(
                    *("one", "two") if "one" in route.request.url else ("two", "one")
                ),
            ),
        )
        page = context.new_page()
        page.goto("http://flags.test/one")
        assert page.evaluate(_HOVERED) == ["one", False, False]
        page.click("a")
        # Chromium sets hover after the new document's first layout (its fake mouse move):
        # waited for, not read at once — with RenderDocument on it never comes.
        page.wait_for_function(f"() => ({_HOVERED})()[2]", timeout=5_000)
        assert page.evaluate(_HOVERED) == ["two", True, True]
    finally:
        context.close()


_OPTIMIZATION_PROBE = """() => {
  function often(x) { return x * 2 + 1; }
  %PrepareFunctionForOptimization(often); often(1); often(2);
  %OptimizeFunctionOnNextCall(often); often(3);
  function sometimes(x) { return x + 1; }
  %PrepareFunctionForOptimization(sometimes); sometimes(1); sometimes(2);
  %OptimizeMaglevOnNextCall(sometimes); sometimes(3);
  return [%GetOptimizationStatus(often), %GetOptimizationStatus(sometimes)];
}"""
"""Two functions V8 is asked to optimize at their next call, with TurboFan and with Maglev, and
V8's optimization status of each afterwards (V8's test natives, `--allow-natives-syntax`)."""

NEVER_OPTIMIZE = 1 << 1
"""The optimization status bit V8 sets on a function no compiler of its can optimize."""


def _optimization_status(chromium: Any, js_flags: str) -> list[int]:
    browser = chromium.browser_type.launch(
        executable_path=chromium_path(),
        args=[*(a for a in CHROMIUM_ARGS if not a.startswith("--js-flags=")), js_flags],
    )
    try:
        page = browser.new_page()
        page.goto("about:blank")
        return list(page.evaluate(_OPTIMIZATION_PROBE))
    finally:
        browser.close()


def test_v8_runs_the_pages_scripts_without_its_optimizing_compilers(chromium: Any) -> None:
    """tests.conftest.NO_OPTIMIZING_COMPILERS is among the suite's flags, and with it a
    function V8 is asked to optimize (with TurboFan, with Maglev) is one V8 can never optimize;
    the same browser without it optimizes both (the probe sees optimization)."""
    assert NO_OPTIMIZING_COMPILERS in CHROMIUM_ARGS
    natives = "--allow-natives-syntax"
    reference = _optimization_status(chromium, f"--js-flags={natives}")
    assert [status & NEVER_OPTIMIZE for status in reference] == [0, 0], reference
    ours = _optimization_status(chromium, f"{NO_OPTIMIZING_COMPILERS} {natives}")
    assert [status & NEVER_OPTIMIZE for status in ours] == [NEVER_OPTIMIZE] * 2, ours
