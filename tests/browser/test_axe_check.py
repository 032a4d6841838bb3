"""The suite's accessibility check itself (`tests.conftest.axe_violations`): it reports what
axe-core finds whether the page runs JavaScript or not (a page with JavaScript off is checked in
the reused twin page), and a clean page after a faulty one is clean (nothing carried over)."""

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


def _violations(chromium: Any, html: str, *, javascript: bool) -> set[str]:
    context = chromium.new_context(java_script_enabled=javascript, locale="ja-JP")
    try:
        page = context.new_page()
        page.route(ADDRESS, lambda route: route.fulfill(body=html, content_type="text/html"))
        page.goto(ADDRESS)
        return {violation["id"] for violation in axe_violations(page)}
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_the_check_reports_violations_and_passes_a_clean_page_after_them(
    chromium: Any, javascript: bool
) -> None:
    assert _violations(chromium, FAULTY, javascript=javascript) == {
        "image-alt",
        "color-contrast",
    }
    assert _violations(chromium, CLEAN, javascript=javascript) == set()
