"""The suite's accessibility check itself (`tests.conftest.axe_violations`): it reports what
axe-core finds whether the page runs JavaScript or not (axe-core runs in an isolated world of
the page itself, decision 0040), a clean page after a faulty one is clean (nothing carried
over), and the page's own scripts never see axe-core.
A page of a structure checked before is not checked again (`tests/axe_cache.py`): one that
differs only in its words is served from the results, one whose words make a violation (an
empty link, an alt of a space, a region they make overflow) or that differs in one attribute is
checked again, and what it finds is reported."""

from __future__ import annotations

from typing import Any

import pytest

from tests import axe_cache
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
            axe_cache.forget()  # each document checked by axe-core itself
            found.append({violation["id"] for violation in axe_violations(page)})
            if javascript:  # axe-core ran in its own world: the page's scripts never see it
                assert page.evaluate("() => typeof axe") == "undefined"
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
    """Each document is checked in a world of its own: a faulty one after a clean one is
    reported again, a clean one after a faulty one is clean."""
    faulty = {"image-alt", "color-contrast"}
    assert _violations(chromium, [FAULTY, CLEAN, FAULTY, CLEAN], javascript=javascript) == [
        faulty,
        set(),
        faulty,
        set(),
    ]


NOSCRIPT = (
    "<!doctype html><html lang=ja><head><title>スクリプトなし</title>"
    "<noscript><meta http-equiv='refresh' content='60'></noscript></head><body><main>"
    "<h1>見出し</h1><noscript><img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>"
    "</noscript></main></body></html>"
)
"""What only a browser without JavaScript shows, inside `<noscript>`: a timed reload and an
image without alt."""


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_what_noscript_shows_is_checked_where_javascript_is_off(
    chromium: Any, javascript: bool
) -> None:
    """A page without JavaScript is checked as the browser built it without scripting, where
    `<noscript>`'s content is part of the document: its meta refresh and its image are
    checked; with JavaScript on they are mere text, not part of the page."""
    expected = set() if javascript else {"meta-refresh", "image-alt"}
    assert _violations(chromium, [NOSCRIPT], javascript=javascript) == [expected]


def _page(lang: str, title: str, words: dict[str, str], *, attrs: str = "") -> str:
    """One page structure (a heading, a link, an image, a labelled control, a short region)
    with its words in one language."""
    return (
        f"<!doctype html><html lang={lang}><head><title>{title}</title></head><body>"
        f"<nav aria-label='{words['nav']}'><a href='#main'>{words['skip']}</a></nav>"
        f"<main id=main><h1>{words['heading']}</h1>"
        f"<p{attrs}>{words['text']} <a href='/next/'>{words['link']}</a></p>"
        f"<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' alt='{words['alt']}'>"
        f"<label for=q>{words['label']}</label><input id=q name=q>"
        f"<div class=region style='overflow:auto;height:3em;width:12em'><p>{words['region']}"
        "</p></div></main></body></html>"
    )


JA = {
    "nav": "ページ内",
    "skip": "本文へ",
    "heading": "予約",
    "text": "次の画面で時間を選びます。",
    "link": "次へ",
    "alt": "地図",
    "label": "予約コード",
    "region": "窓口",
}
EN = {
    "nav": "On this page",
    "skip": "Skip to the content",
    "heading": "Booking",
    "text": "You choose the time on the next screen.",
    "link": "Next",
    "alt": "Map",
    "label": "Booking code",
    "region": "Counter",
}


def _checked(
    chromium: Any, documents: list[str], *, javascript: bool
) -> list[tuple[set[str], int]]:
    """What the check reports for each document, served in turn to one page from an empty
    cache, with how many times axe-core ran for it (0: served from the cache)."""
    context = chromium.new_context(java_script_enabled=javascript, locale="ja-JP")
    axe_cache.forget()
    try:
        page = context.new_page()
        found: list[tuple[set[str], int]] = []
        for html in documents:
            page.route(ADDRESS, _serving(html))
            page.goto(ADDRESS)
            runs = axe_cache.AXE_RUNS.runs
            ids = {violation["id"] for violation in axe_violations(page)}
            found.append((ids, axe_cache.AXE_RUNS.runs - runs))
            page.unroute(ADDRESS)
        return found
    finally:
        context.close()
        axe_cache.forget()


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_page_differing_only_in_its_words_is_served_from_the_cache(
    chromium: Any, javascript: bool
) -> None:
    """Japanese, then English, then Japanese easy words (its own `lang`): the same structure,
    checked once."""
    easy = {**JA, "text": "つぎの がめんで じかんを えらびます。"}
    documents = [
        _page("ja", "予約", JA),
        _page("en", "Booking", EN),
        _page("ja-x-easy", "よやく", easy),
    ]
    assert _checked(chromium, documents, javascript=javascript) == [
        (set(), 1),
        (set(), 0),
        (set(), 0),
    ]


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_violation_only_one_languages_words_make_is_found(
    chromium: Any, javascript: bool
) -> None:
    """After the clean Japanese page: an English catalogue whose link text is empty
    (`link-name`), a Vietnamese one whose image text is a space (`image-alt`), a language whose
    label is missing (`label`) and one whose long words make the short region scroll
    (`scrollable-region-focusable`): each is checked again and its violation reported."""
    documents = [
        _page("ja", "予約", JA),
        _page("en", "Booking", {**EN, "link": ""}),
        _page("vi", "Đặt lịch", {**EN, "alt": " "}),
        _page("ko", "예약", {**EN, "label": ""}),
        _page("pt-BR", "Agendamento", {**EN, "region": "Atendimento presencial " * 12}),
    ]
    found = _checked(chromium, documents, javascript=javascript)
    assert found[0] == (set(), 1)
    assert found[1] == ({"link-name"}, 1)
    assert found[2] == ({"image-alt"}, 1)
    assert found[3] == ({"label"}, 1)
    assert found[4] == ({"scrollable-region-focusable"}, 1)


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_page_differing_in_one_attribute_is_checked_again(
    chromium: Any, javascript: bool
) -> None:
    """The same words, one attribute more (a paragraph's inline colour): checked again, and
    the faint text it makes is found."""
    documents = [
        _page("ja", "予約", JA),
        _page("ja", "予約", JA, attrs=" style='color:#bbb'"),
        _page("ja", "予約", JA),
    ]
    assert _checked(chromium, documents, javascript=javascript) == [
        (set(), 1),
        ({"color-contrast"}, 1),
        (set(), 0),
    ]


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_page_with_a_frame_fails_the_check_instead_of_passing_unchecked(
    chromium: Any, javascript: bool
) -> None:
    """axe-core runs in the page's main frame only, so a frame's document would go unchecked:
    the check refuses such a page, naming why."""
    framed = CLEAN.replace("<p>本文</p>", "<iframe srcdoc='<img src=x.gif>'></iframe>")
    context = chromium.new_context(java_script_enabled=javascript, locale="ja-JP")
    try:
        page = context.new_page()
        page.route(ADDRESS, _serving(framed))
        page.goto(ADDRESS)
        with pytest.raises(RuntimeError, match="a page with frames"):
            axe_violations(page)
    finally:
        context.close()
