"""The suite's accessibility check itself (`tests.conftest.axe_violations`): it reports what
axe-core finds whether the page runs JavaScript or not (a page with JavaScript off is checked in
the reused twin page), a clean page after a faulty one is clean (nothing carried over), and a
faulty page is reported as well when axe-core came with the browser context (`_inject_axe`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import axe_violations

pytestmark = pytest.mark.browser

ADDRESS = "http://axe-check.invalid/page/"
FAULTY = (
    "<!doctype html><html lang=ja><head><title>誤り</title></head><body><main>"
    "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>"
    "<p style='color:#ddd;background:#fff'>薄い文字</p>"
    "<noscript><p>スクリプトなし</p></noscript></main></body></html>"
)
CLEAN = (
    "<!doctype html><html lang=ja><head><title>正しい</title></head><body><main>"
    "<h1>見出し</h1><p>本文</p></main></body></html>"
)


def _violations(chromium: Any, documents: list[str], *, javascript: bool) -> list[set[str]]:
    """What the check reports for each document, served in turn at the same address to one
    page (one browser context), as a test's pages follow one another."""
    context = chromium.new_context(java_script_enabled=javascript, locale="ja-JP")
    try:
        page = context.new_page()
        found: list[set[str]] = []
        for html in documents:
            page.route(ADDRESS, _serving(html))
            page.goto(ADDRESS)
            if javascript and found:  # a later document: axe-core came with the context
                assert page.evaluate("() => typeof axe") == "object"
            found.append({violation["id"] for violation in axe_violations(page)})
            page.unroute(ADDRESS)
        return found
    finally:
        context.close()


def _serving(html: str) -> Any:
    return lambda route: route.fulfill(body=html, content_type="text/html")


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_the_check_reports_violations_and_passes_a_clean_page_after_them(
    chromium: Any, javascript: bool
) -> None:
    """The first page is checked with axe-core sent into it; the later ones with axe-core the
    browser context (or the twin's) runs at every document's start (`_inject_axe`): both find
    the same."""
    faulty = {"image-alt", "color-contrast"}
    assert _violations(chromium, [FAULTY, CLEAN, FAULTY, CLEAN], javascript=javascript) == [
        faulty,
        set(),
        faulty,
        set(),
    ]
